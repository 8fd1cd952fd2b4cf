// SoftTokenKit's flows on a Mac, over an in-memory core that keeps the Rust core's rules
// (5 free wrong PINs, then a back-off; PINs of 1–32 ASCII digits). The same flows run against
// the real library in android/test-shell.sh; this keeps the Swift twin honest.
import XCTest
@testable import SoftTokenKit

final class MemoryCore: TokenCore {
    var pin: String?
    var locked = false
    var failures = 0
    var lastFailureMs: Int64 = 0
    var list: [TokenSummary] = []
    var startPassword = "start-4821"
    /// The device clock the back-off runs on (the test's).
    let now: () -> Int64

    init(now: @escaping () -> Int64) {
        self.now = now
    }

    func hasPin() throws -> Bool { pin != nil }
    func isLocked() throws -> Bool { locked }
    func unlock(pin: String) throws { try verify(pin); locked = false }
    func pinRetryAfterSeconds() throws -> Int {
        guard failures >= 5 else { return 0 }
        let left = lastFailureMs + 30_000 - now()
        return left <= 0 ? 0 : Int((left + 999) / 1000)
    }
    func lock() throws { locked = pin != nil }
    func setPin(_ pin: String) throws { try check(pin); self.pin = pin }
    func changePin(old: String, new: String) throws { try check(new); try verify(old); pin = new }
    func removePin(_ pin: String) throws { try verify(pin); self.pin = nil }
    func wipe() throws { pin = nil; locked = false; list = []; failures = 0; lastFailureMs = 0 }
    func tokens() throws -> [TokenSummary] {
        if locked { throw CoreFailure.locked }
        return list
    }
    func code(serial: String, deviceUnixMs: Int64) throws -> CodeSnapshot {
        let seconds = Int(deviceUnixMs / 1000)
        return CodeSnapshot(code: "12345678", codeGrouped: "1234 5678", secondsLeft: 60 - seconds % 60,
                            periodSeconds: 60, nextCode: "87654321", nextCodeGrouped: "8765 4321")
    }
    func parseActivationURI(_ uri: String) throws -> ActivationTarget {
        guard uri.hasPrefix("softtoken://activate?") else {
            throw CoreFailure.invalidInput(field: .activationURI, detail: "not an activation URI")
        }
        return ActivationTarget(serverURL: "https://bank.example", serviceId: "bank", userId: "u1")
    }
    func activate(_ target: ActivationTarget, startPassword: String) throws -> TokenSummary {
        guard startPassword == self.startPassword else { throw CoreFailure.wrongStartPassword(attemptsLeft: 4) }
        let token = TokenSummary(serial: "SKTS12345678", serialGrouped: "SKTS 1234 5678", issuer: "Bank",
                                 label: target.userId, status: .pending, digits: 8, periodSeconds: 60,
                                 serviceId: target.serviceId)
        list.append(token)
        return token
    }
    func provision(serverURL: String, serviceId: String) throws -> TokenSummary {
        let token = TokenSummary(serial: "SKTS87654321", serialGrouped: "SKTS 8765 4321", issuer: "Bank",
                                 label: "", status: .pending, digits: 6, periodSeconds: 30)
        list.append(token)
        return token
    }
    /// What the bank's server says of each serial (absent: no change); unreachable: no answer.
    var serverStates: [String: TokenStatus] = [:]
    var reachable = true
    func refresh() throws -> Bool {
        if locked { throw CoreFailure.locked }
        guard reachable else { return false }
        list = list.map { t in
            guard !t.status.dead, let now = serverStates[t.serial] else { return t }
            return TokenSummary(serial: t.serial, serialGrouped: t.serialGrouped, issuer: t.issuer, label: t.label,
                                status: now, digits: t.digits, periodSeconds: t.periodSeconds, serviceId: t.serviceId)
        }
        return true
    }
    func syncTime(serial: String) throws {}
    func delete(serial: String) throws { list.removeAll { $0.serial == serial } }
    // 取引確認 as the Rust core reads it: the service after `service=`, anything else malformed.
    func parseTransfer(_ payload: String) throws -> TransferRequest {
        guard payload.hasPrefix("softtoken://sign?v=1&"), let range = payload.range(of: "service=") else {
            throw CoreFailure.invalidInput(field: nil, detail: "not a transfer challenge")
        }
        let service = payload[range.upperBound...].prefix { $0 != "&" }
        return TransferRequest(serviceId: String(service), id: "tx1", payeeName: "カ）ヤマダショウジ",
                               maskedAccount: "********6789", displayAmount: "50,000 JPY", payload: payload)
    }
    func signTransfer(serial: String, payload: String) throws -> String {
        if list.first(where: { $0.serial == serial })?.status.dead == true {
            throw CoreFailure.invalidInput(field: .serial, detail: "revoked")
        }
        return "55667788"
    }
    func signTypedDigits(serial: String, digits: String) throws -> String {
        guard (9...20).contains(digits.count), digits.allSatisfy({ $0.isNumber }) else {
            throw CoreFailure.invalidInput(field: nil, detail: "digits")
        }
        return "11223344"
    }

    private func check(_ pin: String) throws {
        guard (1...32).contains(pin.utf8.count), pin.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw CoreFailure.invalidPin
        }
    }

    private func verify(_ pin: String) throws {
        try check(pin)
        guard pin == self.pin else {
            failures += 1
            lastFailureMs = now()
            throw CoreFailure.wrongPin(attemptsLeft: max(0, 5 - failures), retryAfterSeconds: failures >= 5 ? 30 : 0)
        }
        failures = 0
    }
}

final class MemoryOpener: VaultOpener {
    let core: MemoryCore

    init(now: @escaping () -> Int64) {
        core = MemoryCore(now: now)
    }

    func open() throws -> TokenCore { core }
    func reset() throws -> TokenCore { try core.wipe(); return core }
}

final class FakePasteboard: Pasteboard {
    var text: String?
    private var ours = false

    func putSensitive(_ text: String) { self.text = text; ours = true }
    func copiedElsewhere(_ text: String) { self.text = text; ours = false }
    func stillOurs() -> Bool? { ours }
    func clear() { text = nil; ours = false }
}

final class FakeBiometrics: BiometricKeys {
    var stored: Data?
    var invalidated = false

    func available() -> Bool { true }
    func enrolled() -> Bool { stored != nil }
    func enroll(pin: Data) throws { stored = Data(pin) }
    func remove() { stored = nil }
    func prompt() -> BiometricResult { invalidated ? .invalidated : stored.map { .success(pin: Data($0)) } ?? .invalidated }
}

final class AppModelTests: XCTestCase {
    private var now: Int64 = 1_700_000_000_000
    private var opener: MemoryOpener!
    private var app: AppModel!

    override func setUp() {
        opener = MemoryOpener(now: { [unowned self] in self.now })
        app = AppModel(opener: opener, config: AppConfig(activationServer: "https://bank.example",
                                                         registrationServer: "https://bank.example",
                                                         registrationServiceId: "bank"),
                       now: { [unowned self] in self.now })
        app.start()
    }

    func testActivationWrongThenRightPassword() {
        app.addToken()
        app.startActivation()
        app.submitActivation(serviceId: "bank", userId: "u1", startPassword: "nope")
        guard case let .activation(form) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(form.error, Message(.wrongStartPassword, 4))
        XCTAssertEqual(form.errorField, .startPassword)

        app.submitActivation(serviceId: "bank", userId: "u1", startPassword: "start-4821")
        guard case .activationDone = app.state.screen else { return XCTFail("\(app.state.screen)") }
        app.continueAfterActivation()
        guard case let .tokenDetail(card, firstUse) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(firstUse, .activation)
        XCTAssertEqual(card.code?.grouped, "1234 5678")
        XCTAssertTrue(app.back())
        guard case .tokens = app.state.screen else { return XCTFail("\(app.state.screen)") }
    }

    func testRegistrationShowsSerialAndCode() {
        app.startRegistration()
        guard case let .tokenDetail(card, firstUse) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(firstUse, .registration)
        XCTAssertEqual(card.token.serialGrouped, "SKTS 8765 4321")
        XCTAssertEqual(app.state.notice, Message(.registered))
    }

    func testPinSetLockBackOffAndReset() {
        app.openSettings()
        app.beginSetPin()
        app.enterPin("2468")
        app.enterPin("2469")
        XCTAssertEqual(app.state.screen, .pinEntry(purpose: .set, step: .new, error: Message(.pinMismatch)))
        app.enterPin("2468")
        app.enterPin("2468")
        XCTAssertEqual(app.state.screen, .settings(lockOn: true, biometricOn: false, biometricAvailable: false))

        app.onBackground()
        now += AppModel.lockGraceMs
        app.onForeground()
        XCTAssertEqual(app.state.screen, .unlock(error: nil, waitSeconds: 0, biometric: false))
        for left in stride(from: 4, through: 1, by: -1) {
            app.unlock(pin: "0000")
            XCTAssertEqual(app.state.screen, .unlock(error: Message(.wrongPin, left), waitSeconds: 0, biometric: false))
        }
        app.unlock(pin: "0000")
        XCTAssertEqual(app.state.screen, .unlock(error: Message(.wrongPinWait, 0, 30), waitSeconds: 30, biometric: false))
        app.unlock(pin: "2468")
        XCTAssertEqual(app.state.screen, .unlock(error: Message(.pinWait, 30), waitSeconds: 30, biometric: false))
        now += 30_000
        app.tick()
        XCTAssertEqual(app.state.screen, .unlock(error: Message(.pinWait, 30), waitSeconds: 0, biometric: false))

        app.forgotPin()
        app.confirmReset()
        XCTAssertEqual(app.state.screen, .tokens([]))
        XCTAssertEqual(app.state.notice, Message(.appReset))
        XCTAssertNil(opener.core.pin)
    }

    func testDeleteAsksFirst() {
        app.startRegistration()
        app.requestDelete(serial: "SKTS87654321")
        guard case .confirmDelete = app.state.screen else { return XCTFail("\(app.state.screen)") }
        app.confirmDelete()
        XCTAssertEqual(app.state.screen, .tokens([]))
        XCTAssertEqual(app.state.notice, Message(.tokenDeleted))
    }

    // Issue 16 item 1: the twin of TokenStatusFlowTest (the real server's version runs in
    // android/test-shell.sh): states after unlock and on refresh, dead tokens, unreachable.
    func testTokenStatesAfterUnlockAndOnRefreshAndADeadTokenIsDeleted() {
        app.startRegistration()
        XCTAssertTrue(app.back())
        opener.core.serverStates["SKTS87654321"] = .active
        app.refreshStates()
        guard case let .tokens(cards) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(cards.first?.token.status, .active)
        XCTAssertEqual(cards.first?.status, Message(.statusActive))
        XCTAssertNotNil(cards.first?.code)
        XCTAssertNil(cards.first?.whyDead)
        XCTAssertNil(app.state.notice)

        app.openSettings()
        app.beginSetPin()
        app.enterPin("1357")
        app.enterPin("1357")
        app.onBackground()
        now += AppModel.lockGraceMs
        app.onForeground()
        opener.core.serverStates["SKTS87654321"] = .stopped
        app.unlock(pin: "1357")
        guard case let .tokens(after) = app.state.screen, let dead = after.first else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(dead.token.status, .stopped)
        XCTAssertNil(dead.code)
        XCTAssertEqual(dead.whyDead, Message(.deadStopped))
        XCTAssertEqual(dead.status, Message(.statusStopped))

        opener.core.reachable = false
        app.refreshStates()
        XCTAssertEqual(app.state.notice, Message(.statesUnreachable))
        XCTAssertFalse(app.state.busy)
        guard case let .tokens(kept) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(kept.first?.token.status, .stopped)

        app.openToken(serial: "SKTS87654321")
        app.requestDelete(serial: "SKTS87654321")
        app.confirmDelete()
        XCTAssertEqual(app.state.screen, .tokens([]))
    }

    func testDeadStatesSayWhyAndWhatToDo() {
        XCTAssertEqual(Message.whyDead(.revoked), Message(.deadRevoked))
        XCTAssertEqual(Message.whyDead(.replaced), Message(.deadReplaced))
        XCTAssertNil(Message.whyDead(.pending))
        XCTAssertEqual(Message.forStatus(.replaced), Message(.statusReplaced))
        XCTAssertTrue(TokenStatus.replaced.dead)
        XCTAssertFalse(TokenStatus.active.dead)
    }

    // Issue 16 items 4, 5, 7: the twins of PlatformFlowsTest's flows (the real library's
    // versions run in android/test-shell.sh).
    private func platformApp(_ board: FakePasteboard, _ bio: FakeBiometrics) -> AppModel {
        let model = AppModel(opener: MemoryOpener(now: { [unowned self] in self.now }),
                             config: AppConfig(activationServer: "https://bank.example", registrationServer: nil,
                                               registrationServiceId: nil),
                             now: { [unowned self] in self.now }, pasteboard: board, biometrics: bio)
        model.start()
        return model
    }

    func testACopiedCodeIsClearedAfter60SecondsOnlyIfStillOurs() {
        let board = FakePasteboard()
        let model = platformApp(board, FakeBiometrics())
        model.startActivation()
        model.submitActivation(serviceId: "bank", userId: "u1", startPassword: "start-4821")
        model.copyCode(serial: "SKTS12345678")
        XCTAssertEqual(board.text, "12345678")
        XCTAssertEqual(model.state.notice, Message(.codeCopied, 60))
        now += 59_000
        model.tick()
        XCTAssertEqual(board.text, "12345678")
        now += 1_000
        model.tick()
        XCTAssertNil(board.text)

        model.copyCode(serial: "SKTS12345678")
        board.copiedElsewhere("mine")
        now += 60_000
        model.tick()
        XCTAssertEqual(board.text, "mine")
    }

    func testLockingTheAppClearsACopiedCode() {
        let board = FakePasteboard()
        let model = platformApp(board, FakeBiometrics())
        model.startActivation()
        model.submitActivation(serviceId: "bank", userId: "u1", startPassword: "start-4821")
        _ = model.back()
        model.openSettings()
        model.beginSetPin()
        model.enterPin("2468")
        model.enterPin("2468")
        model.copyCode(serial: "SKTS12345678")
        XCTAssertEqual(board.text, "12345678")
        model.onBackground()
        now += AppModel.lockGraceMs
        model.tick()
        XCTAssertEqual(model.state.screen, .unlock(error: nil, waitSeconds: 0, biometric: false))
        XCTAssertNil(board.text, "a locked app leaves no code on the clipboard")
    }

    func testAScannerThatCannotRunSaysWhy() {
        let model = platformApp(FakePasteboard(), FakeBiometrics())
        model.startActivation()
        model.scanFailed(cameraDenied: true)
        XCTAssertEqual(model.state.notice, Message(.cameraDenied))
        model.scanFailed(cameraDenied: false)
        XCTAssertEqual(model.state.notice, Message(.scannerFailed))
    }

    func testALinkWhileLockedOpensAfterTheUnlockAndBiometricsFallBack() {
        let bio = FakeBiometrics()
        let model = platformApp(FakePasteboard(), bio)
        model.openSettings()
        model.beginSetPin()
        model.enterPin("2468")
        model.enterPin("2468")
        model.beginEnableBiometric()
        model.enterPin("2468")
        XCTAssertEqual(model.state.screen, .settings(lockOn: true, biometricOn: true, biometricAvailable: true))

        model.onBackground()
        now += AppModel.lockGraceMs
        model.onForeground()
        XCTAssertEqual(model.state.screen, .unlock(error: nil, waitSeconds: 0, biometric: true))
        model.scanned(uri: "softtoken://activate?x")
        XCTAssertEqual(model.state.notice, Message(.linkAfterUnlock))
        model.biometricResult(bio.prompt())
        guard case .confirmServer = model.state.screen else { return XCTFail("\(model.state.screen)") }

        model.onBackground()
        now += AppModel.lockGraceMs
        model.onForeground()
        bio.invalidated = true
        model.biometricResult(bio.prompt())
        XCTAssertEqual(model.state.screen, .unlock(error: Message(.biometryChanged), waitSeconds: 0, biometric: false))
        XCTAssertFalse(bio.enrolled())
    }

    // MARK: 取引確認

    private func activeToken() -> TokenSummary {
        app.addToken()
        app.startActivation()
        app.submitActivation(serviceId: "bank", userId: "u1", startPassword: "start-4821")
        _ = app.back()
        return opener.core.list[0]
    }

    func testScannedTransferIsConfirmedThenItsCodeCountsDown() {
        let token = activeToken()
        app.scanned(uri: "softtoken://sign?v=1&service=bank&id=tx1")
        guard case let .signConfirm(transfer, signer) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(transfer.displayAmount, "50,000 JPY")
        XCTAssertEqual(signer.serial, token.serial)
        app.confirmTransfer()
        guard case let .signCode(shown) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(shown.code, "55667788")
        XCTAssertFalse(shown.description.contains("55667788"))
        now += 100_000
        app.tick()
        guard case let .signCode(later) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(later.secondsLeft, AppModel.signCodeSeconds - 100)
        now += Int64(AppModel.signCodeSeconds) * 1000
        app.tick()
        guard case let .signCode(expired) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertNil(expired.code)
        app.finishSign()
        guard case .tokens = app.state.screen else { return XCTFail("\(app.state.screen)") }
    }

    func testRefusalsAndManualMode() {
        let token = activeToken()
        app.scanned(uri: "softtoken://sign?v=2")
        XCTAssertEqual(app.state.screen, .signRefused(Message(.signMalformed)))
        app.scanned(uri: "softtoken://sign?v=1&service=otherbank&id=tx1")
        XCTAssertEqual(app.state.screen, .signRefused(Message(.signOtherBank)))
        app.finishSign()

        app.startTypedSign(serial: token.serial)
        app.submitTypedDigits("1234")
        XCTAssertEqual(app.state.screen, .signManual(token: token, error: Message(.signInvalidDigits)))
        app.submitTypedDigits("482913 456789-50000")
        guard case let .signCode(shown) = app.state.screen else { return XCTFail("\(app.state.screen)") }
        XCTAssertEqual(shown.typedDigits, "48291345678950000")
        XCTAssertEqual(shown.code, "11223344")
    }
}
