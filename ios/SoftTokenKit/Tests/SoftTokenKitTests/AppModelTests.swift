// What the Swift shell still does, on a Mac (`swift test` after ../build-xcframework.sh):
// the platform effects' glue (clipboard, biometric key, vault key wrap) and the model's
// threading over the real core. The app's flows (activation, the app lock and its back-off,
// token states, the clipboard's 60 s, biometrics, 取引確認) are the core's now and are tested
// in crates/core/tests/app.rs and app_real_server.rs (`cargo test -p softtoken-core`).
import Combine
import XCTest
@testable import SoftTokenKit

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
    var failEnroll = false

    func available() -> Bool { true }
    func enrolled() -> Bool { stored != nil }
    func enroll(pin: Data) throws {
        if failEnroll { throw PlatformKeyError("no Secure Enclave", permanent: false) }
        stored = Data(pin)
    }
    func remove() { stored = nil }
}

final class FakeKeys: PlatformKeyWrapper, @unchecked Sendable {
    var failure: PlatformKeyError?
    var seen: Data?

    func wrap(_ key: Data) throws -> Data {
        if let failure { throw failure }
        seen = key
        return Data(key.reversed())
    }
    func unwrap(_ wrapped: Data) throws -> Data {
        if let failure { throw failure }
        return Data(wrapped.reversed())
    }
}

final class FixedClock: DeviceClock, @unchecked Sendable {
    func nowUnixMs() -> Int64 { 1_700_000_000_000 }
}

final class ShellGlueTests: XCTestCase {
    func testTheClipboardEffectsReachThePasteboard() {
        let board = FakePasteboard()
        let shell = ShellBridge(pasteboard: board, biometrics: FakeBiometrics()) { _ in }
        shell.putOnClipboard(text: "12345678")
        XCTAssertEqual(board.text, "12345678")
        XCTAssertEqual(shell.clipboardStillOurs(), true)
        board.copiedElsewhere("mine")
        XCTAssertEqual(shell.clipboardStillOurs(), false)
        shell.clearClipboard()
        XCTAssertNil(board.text)
    }

    func testTheBiometricEffectsReachTheKeyAndAFailedEnrolmentLeavesNone() throws {
        let bio = FakeBiometrics()
        let shell = ShellBridge(pasteboard: FakePasteboard(), biometrics: bio) { _ in }
        XCTAssertTrue(shell.biometricAvailable())
        try shell.biometricEnroll(pin: Data("2468".utf8))
        XCTAssertEqual(bio.stored, Data("2468".utf8))
        XCTAssertTrue(shell.biometricEnrolled())
        shell.biometricRemove()
        XCTAssertFalse(shell.biometricEnrolled())
        bio.failEnroll = true
        XCTAssertThrowsError(try shell.biometricEnroll(pin: Data("2468".utf8)), "the core says the enrolment failed") { error in
            guard case ShellError.Platform = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(shell.biometricEnrolled())
    }

    func testPlatformKeyFailuresBecomeTheCoresKeyErrors() throws {
        let keys = FakeKeys()
        let bridge = KeyWrapperBridge(keys: keys)
        let key = Data((1...32).map { UInt8($0) })
        XCTAssertEqual(try bridge.unwrapKey(wrapped: try bridge.wrapKey(key: key)), key)
        keys.failure = PlatformKeyError("gone", permanent: true)
        XCTAssertThrowsError(try bridge.wrapKey(key: key)) { error in
            guard case KeyWrapperError.KeyLost = error else { return XCTFail("\(error)") }
        }
        keys.failure = PlatformKeyError("busy", permanent: false)
        XCTAssertThrowsError(try bridge.unwrapKey(wrapped: key)) { error in
            guard case KeyWrapperError.Unavailable = error else { return XCTFail("\(error)") }
        }
    }
}

@MainActor
final class AppModelTests: XCTestCase {
    private var directory: URL!
    private var watching: AnyCancellable?

    override func setUp() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    }

    override func tearDown() async throws {
        watching = nil
        try? FileManager.default.removeItem(at: directory)
    }

    private func model(banks: String? = nil) -> AppModel {
        AppModel(directory: directory,
                 config: ShellConfig(activationServer: nil, registrationServer: nil, registrationServiceId: nil,
                                     bankDirectoryJson: banks, language: "ja"),
                 keys: FakeKeys(), pasteboard: FakePasteboard(), biometrics: FakeBiometrics(),
                 makeCore: { try AppCore.withClock(settings: $0, keyWrapper: $1, shell: $2, clock: FixedClock(),
                                                   pinIterations: 1) })
    }

    // Events go to the core off the main queue; its views come back on the main queue.
    func testStartOpensANewVaultOutOfBackupsAndPublishesTheTokenList() throws {
        let app = model()
        let listed = expectation(description: "the empty token list")
        watching = app.$view.sink { view in
            XCTAssertTrue(Thread.isMainThread)
            if case let .tokens(cards) = view.screen, cards.isEmpty { listed.fulfill() }
        }
        app.send(.start)
        wait(for: [listed], timeout: 10)
        let values = try directory.resourceValues(forKeys: [.isExcludedFromBackupKey])
        XCTAssertEqual(values.isExcludedFromBackup, true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(AppModel.vaultFile).path))
    }

    // The core is made on Start; a failure is the broken screen, and Retry makes it again
    // (here the directory's place is a file at first, then free).
    func testACoreThatCannotBeMadeIsBrokenUntilRetryMakesIt() throws {
        try Data().write(to: directory)
        let app = model()
        let broken = expectation(description: "the broken screen")
        let listed = expectation(description: "the token list after Retry")
        watching = app.$view.sink { view in
            if case let .broken(message) = view.screen, message.key == "error_internal" { broken.fulfill() }
            if case .tokens = view.screen { listed.fulfill() }
        }
        app.send(.start)
        wait(for: [broken], timeout: 10)
        try FileManager.default.removeItem(at: directory)
        app.send(.retry)
        wait(for: [listed], timeout: 10)
    }

    func testAnUnreadableBankDirectoryIsABrokenBuild() {
        let app = model(banks: "{not json")
        let broken = expectation(description: "the broken screen")
        watching = app.$view.sink { view in
            if case let .broken(message) = view.screen, message.key == "error_internal" { broken.fulfill() }
        }
        app.send(.start)
        wait(for: [broken], timeout: 10)
    }
}
