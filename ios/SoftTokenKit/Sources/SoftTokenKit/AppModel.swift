// The app's flows (twin of android/shell AppModel.kt): what each tap does and which screen
// follows. Every method may block (PIN key derivation, network): the app calls them on ONE
// serial background queue, in order; `onChange` receives each new state on that queue.
import Foundation

/// Per-app settings from Info.plist.
public struct AppConfig: @unchecked Sendable {
    public let activationServer: String?
    public let registrationServer: String?
    public let registrationServiceId: String?
    /// The bundle's bank directory; nil: none (every QR server is asked about).
    public let banks: BankDirectory?

    public init(activationServer: String?, registrationServer: String?, registrationServiceId: String?,
                banks: BankDirectory? = nil) {
        self.activationServer = activationServer
        self.registrationServer = registrationServer
        self.registrationServiceId = registrationServiceId
        self.banks = banks
    }
}

/// The app's state machine. `@unchecked Sendable`: it is confined to the one queue the app runs it on.
public final class AppModel: @unchecked Sendable {
    private let opener: VaultOpener
    private let config: AppConfig
    private let now: () -> Int64
    private var core: TokenCore?
    private var backStack: [Screen] = []
    private var currentPin: String?
    private var newPin: String?
    private let clipboard: CodeClipboard?
    private let biometrics: BiometricKeys?
    private var backgroundSinceMs: Int64?
    private var scanning = false
    private var pendingLink: String?
    // When the 取引確認 code on screen was made: its countdown runs from here.
    private var signedAtMs: Int64 = 0

    /// Background time before the app locks.
    public static let lockGraceMs: Int64 = 10_000
    /// The same while the code scanner is open.
    public static let scanGraceMs: Int64 = 120_000
    /// How long a 取引確認 code stays on screen: the bank's default challenge lifetime (the
    /// payload has no expiry; the bank's screen shows the exact one, its server judges).
    public static let signCodeSeconds = 300

    /// The state now.
    public private(set) var state = UiState(screen: .opening)
    /// Called with every new state.
    public var onChange: ((UiState) -> Void)?

    /// A model; `now` is the device clock in ms for codes (injected so tests need no sleeping).
    public init(opener: VaultOpener, config: AppConfig,
                now: @escaping () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
                pasteboard: Pasteboard? = nil, biometrics: BiometricKeys? = nil) {
        self.opener = opener
        self.config = config
        self.now = now
        self.clipboard = pasteboard.map { CodeClipboard(board: $0, now: now) }
        self.biometrics = biometrics
    }

    /// Opens the vault: the lock screen if the app lock is on, else the token list.
    public func start() {
        do {
            let opened = try opener.open()
            core = opened
            if try opened.isLocked() { showUnlock(nil) } else { opened() }
        } catch {
            fail(error)
        }
    }

    /// Tries to open the vault again.
    public func retry() { start() }

    /// Refreshes codes, countdowns and the back-off wait; the UI calls it every second.
    public func tick() {
        clipboard?.tick()
        if backgroundSinceMs != nil { lockIfDue() }
        guard !state.busy else { return }
        do {
            switch state.screen {
            case .tokens: replace(.tokens(try cards()))
            case let .tokenDetail(card, firstUse):
                if let fresh = try cards().first(where: { $0.id == card.id }) {
                    replace(.tokenDetail(fresh, firstUse: firstUse))
                }
            case let .unlock(error, wait, biometric) where wait > 0:
                replace(.unlock(error: error, waitSeconds: waitSeconds(), biometric: biometric))
            case let .signCode(shown) where shown.code != nil:
                replace(.signCode(signCodeNow(shown)))
            default: break
            }
        } catch {
            fail(error)
        }
    }

    /// Goes back one screen; false at the root.
    @discardableResult
    public func back() -> Bool {
        guard !state.busy, backStack.count > 1 else { return false }
        if case .pinEntry = backStack.removeLast() { forgetPins() }
        var previous = backStack[backStack.count - 1]
        if case .tokens = previous, let fresh = try? cards() { previous = .tokens(fresh) }
        if case .settings = previous { previous = settingsScreen() }
        backStack[backStack.count - 1] = previous
        publish(UiState(screen: previous))
        return true
    }

    /// Clears the passing notice.
    public func dismissNotice() {
        if state.notice != nil { var s = state; s.notice = nil; publish(s) }
    }

    // MARK: App lock

    /// The app went to the background: it locks after the grace period (see Kotlin).
    public func onBackground() {
        guard let c = core, (try? c.hasPin()) == true, (try? c.isLocked()) == false,
              backgroundSinceMs == nil else { return }
        backgroundSinceMs = now()
    }

    /// The app is in front again: locks it if it stayed away too long.
    public func onForeground() {
        lockIfDue()
        backgroundSinceMs = nil
    }

    /// The code scanner opens: leaving for it is not leaving.
    public func scanStarted() { scanning = true }

    /// The scanner closed without a code.
    public func scanCancelled() { scanning = false }

    /// The scanner could not run: the camera is refused (`cameraDenied`: the notice says where
    /// to allow it) or unavailable. The typed form stays open.
    public func scanFailed(cameraDenied: Bool) {
        scanning = false
        notice(cameraDenied ? .cameraDenied : .scannerFailed)
    }

    private func lockIfDue() {
        guard let since = backgroundSinceMs else { return }
        let grace = scanning ? AppModel.scanGraceMs : AppModel.lockGraceMs
        guard now() - since >= grace else { return }
        backgroundSinceMs = nil
        scanning = false
        guard let c = core, (try? c.hasPin()) == true, (try? c.isLocked()) == false else { return }
        try? c.lock()
        // A locked app shows no code: none stays on the clipboard either.
        clipboard?.clearNow()
        forgetPins()
        showUnlock(nil)
    }

    /// The biometric prompt (offered on the lock screen) ended.
    public func biometricResult(_ result: BiometricResult) {
        guard let c = core, case .unlock = state.screen else { return }
        switch result {
        case var .success(pin):
            defer { pin.resetBytes(in: 0..<pin.count) }
            busy()
            do {
                try c.unlock(pin: String(decoding: pin, as: UTF8.self))
                unlocked()
            } catch let failure as CoreFailure {
                if case .wrongPin = failure { biometrics?.remove() }
                showUnlock(Message.forFailure(failure))
            } catch {
                showUnlock(Message(.internalError))
            }
        case .cancelled: break
        case .invalidated:
            biometrics?.remove()
            showUnlock(Message(.biometryChanged))
        case .failed: showUnlock(Message(.biometricFailed))
        }
    }

    /// Tries the PIN on the lock screen.
    public func unlock(pin: String) {
        guard let c = core, case .unlock = state.screen else { return }
        let wait = waitSeconds()
        if wait > 0 { return replace(.unlock(error: Message(.pinWait, wait), waitSeconds: wait, biometric: biometricOffered())) }
        busy()
        do {
            try c.unlock(pin: pin)
            unlocked()
        } catch let failure as CoreFailure {
            showUnlock(Message.forFailure(failure))
        } catch {
            showUnlock(Message(.internalError))
        }
    }

    /// "Forgot the PIN?": only a reset helps.
    public func forgotPin() { push(.confirmReset) }

    // MARK: Tokens

    /// Opens one token.
    public func openToken(serial: String) {
        guard let card = try? cards().first(where: { $0.id == serial }) else { return notice(.tokenNotFound) }
        push(.tokenDetail(card, firstUse: nil))
    }

    /// The UI copied the serial.
    public func serialCopied() { notice(.serialCopied) }

    /// Copies the token's current code (local-only, expiring, cleared after 60 s if ours).
    public func copyCode(serial: String) {
        guard let clipboard, let c = core, let code = try? c.code(serial: serial, deviceUnixMs: now()) else { return }
        clipboard.copy(code.code)
        var s = state; s.busy = false; s.notice = Message(.codeCopied, Int(CodeClipboard.clearAfterMs / 1000)); publish(s)
    }

    /// Refreshes the token's clock offset.
    /// Pull to refresh (and on open): asks the servers what became of each token and redraws
    /// with the answers. An unreachable server leaves the last known states and says so once,
    /// quietly; success says nothing.
    public func refreshStates() {
        guard let c = core, !state.busy, !isUnlockScreen(state.screen) else { return }
        let kept = state.notice
        var s = state; s.busy = true; publish(s)
        do {
            // Unreachable or unreadable: the last known states stay, with one quiet notice.
            let reached: Bool
            do {
                reached = try c.refresh()
            } catch let failure as CoreFailure {
                switch failure {
                case .network, .rejected: reached = false
                default: throw failure
                }
            }
            var top = backStack[backStack.count - 1]
            let fresh = try cards()
            switch top {
            case .tokens: top = .tokens(fresh)
            case let .tokenDetail(card, firstUse):
                if let now = fresh.first(where: { $0.id == card.id }) { top = .tokenDetail(now, firstUse: firstUse) }
            default: break
            }
            backStack[backStack.count - 1] = top
            publish(UiState(screen: top, notice: reached ? kept : Message(.statesUnreachable)))
        } catch {
            if case .locked? = error as? CoreFailure { return showUnlock(nil) }
            var s = state; s.busy = false; s.notice = message(for: error); publish(s)
        }
    }

    public func syncTime(serial: String) {
        guarded {
            try requireCore().syncTime(serial: serial)
            tick()
            notice(.timeSynced)
        }
    }

    /// Asks before deleting a token.
    public func requestDelete(serial: String) {
        guard let token = try? core?.tokens().first(where: { $0.serial == serial }) else { return notice(.tokenNotFound) }
        push(.confirmDelete(token))
    }

    /// Deletes the token the confirmation was about.
    public func confirmDelete() {
        guard case let .confirmDelete(token) = state.screen else { return }
        guarded {
            try requireCore().delete(serial: token.serial)
            showTokens(notice: .tokenDeleted)
        }
    }

    // MARK: Adding a token

    public func addToken() { push(.addToken) }

    public func startActivation() { push(.activation(emptyForm())) }

    /// A QR code was scanned (or a softtoken:// link opened); waits behind the lock, and
    /// asks about a server the bank directory does not list.
    public func scanned(uri: String) {
        scanning = false
        guard let c = core else { return }
        if (try? c.isLocked()) != false || isUnlockScreen(state.screen) {
            pendingLink = uri
            var s = state; s.notice = Message(.linkAfterUnlock); publish(s)
            return
        }
        if isSignLink(uri) { return openTransfer(uri) }
        let next: Screen
        do {
            let target = try c.parseActivationURI(uri)
            let check = (try? config.banks?.check(serviceId: target.serviceId, serverURL: target.serverURL))
                ?? .unknown(host: hostOf(target.serverURL))
            switch check {
            case .known: next = .activation(formFor(target))
            case let .unknown(host): next = .confirmServer(target, host: host)
            }
        } catch {
            var form: ActivationForm
            if case let .activation(current) = state.screen { form = current } else { form = emptyForm() }
            form.error = message(for: error)
            form.errorField = .activationURI
            next = .activation(form)
        }
        switch state.screen {
        case .activation, .confirmServer: replace(next)
        default: push(next)
        }
    }

    // MARK: 取引確認 (transfer-bound codes)

    /// The customer checked 振込先 and 金額 and confirms: the code for this one transfer.
    public func confirmTransfer() {
        guard case let .signConfirm(transfer, token) = state.screen, let c = core else { return }
        do {
            let code = try c.signTransfer(serial: token.serial, payload: transfer.payload)
            showSignCode(SignCode(transfer: transfer, typedDigits: nil, code: code, secondsLeft: AppModel.signCodeSeconds))
        } catch {
            signRefused(error, token: token)
        }
    }

    /// Manual mode for token `serial`: the form for the digits the bank's screen shows.
    public func startTypedSign(serial: String) {
        do {
            guard let token = try requireCore().tokens().first(where: { $0.serial == serial }) else {
                return notice(.tokenNotFound)
            }
            if token.status.dead { return push(.signRefused(Message(.signRevoked))) }
            push(.signManual(token: token, error: nil))
        } catch {
            fail(error)
        }
    }

    /// Signs the `digits` typed in manual mode (spaces and hyphens allowed).
    public func submitTypedDigits(_ digits: String) {
        guard case let .signManual(token, _) = state.screen, let c = core else { return }
        let typed = digits.filter { $0 != " " && $0 != "-" }
        do {
            let code = try c.signTypedDigits(serial: token.serial, digits: typed)
            showSignCode(SignCode(transfer: nil, typedDigits: typed, code: code, secondsLeft: AppModel.signCodeSeconds))
        } catch CoreFailure.invalidInput(let field, _) where field != .serial {
            replace(.signManual(token: token, error: Message(.signInvalidDigits)))
        } catch {
            signRefused(error, token: token)
        }
    }

    /// Done with the 取引確認 code (or a refusal): back to the token list.
    public func finishSign() { if isSignScreen(state.screen) { showTokens() } }

    // A scanned challenge: refused with a reason, or shown for the customer to confirm.
    private func openTransfer(_ payload: String) {
        guard let c = core else { return }
        let next: Screen
        do {
            let transfer: TransferRequest
            do { transfer = try c.parseTransfer(payload) } catch CoreFailure.invalidInput {
                return showSignScreen(.signRefused(Message(.signMalformed)))
            }
            // The bank's own token answers: one that works before one that is still pending.
            let ofBank = try c.tokens().filter { $0.serviceId == transfer.serviceId }
            if let token = ofBank.first(where: { $0.status == .active }) ?? ofBank.first(where: { $0.status == .pending }) {
                next = .signConfirm(transfer, token: token)
            } else {
                next = .signRefused(Message(ofBank.isEmpty ? .signOtherBank : .signRevoked))
            }
        } catch {
            return fail(error)
        }
        showSignScreen(next)
    }

    // A second scan replaces the sign screen on top instead of stacking another.
    private func showSignScreen(_ screen: Screen) {
        if isSignScreen(state.screen) { replace(screen) } else { push(screen) }
    }

    private func isSignScreen(_ screen: Screen) -> Bool {
        switch screen {
        case .signConfirm, .signManual, .signCode, .signRefused: return true
        default: return false
        }
    }

    private func signRefused(_ error: Error, token: TokenSummary) {
        switch error as? CoreFailure {
        case .locked?: showUnlock(nil)
        case let .invalidInput(field, _)?:
            replace(.signRefused(Message(field == .serial || token.status.dead ? .signRevoked : .signMalformed)))
        default: replace(.signRefused(message(for: error)))
        }
    }

    // The code replaces the form or confirmation: back leads to where the customer came from.
    private func showSignCode(_ shown: SignCode) {
        signedAtMs = now()
        replace(.signCode(shown))
    }

    private func signCodeNow(_ shown: SignCode) -> SignCode {
        var next = shown
        let left = AppModel.signCodeSeconds - Int((now() - signedAtMs) / 1000)
        next.secondsLeft = max(left, 0)
        if left <= 0 { next.code = nil }
        return next
    }

    // Only the scheme and host: the core reads (and refuses) the rest.
    private func isSignLink(_ uri: String) -> Bool {
        uri.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("softtoken://sign")
    }

    /// The customer accepted the unlisted server shown.
    public func confirmServer() {
        guard case let .confirmServer(target, _) = state.screen else { return }
        replace(.activation(formFor(target)))
    }

    /// Sends the activation form (送信).
    public func submitActivation(serviceId: String, userId: String, startPassword: String) {
        guard case var .activation(form) = state.screen else { return }
        form.serviceId = serviceId.trimmingCharacters(in: .whitespaces)
        form.userId = userId.trimmingCharacters(in: .whitespaces)
        form.error = nil
        form.errorField = nil
        let missing: InputField? = form.serviceId.isEmpty ? .serviceId
            : form.userId.isEmpty ? .userId : startPassword.isEmpty ? .startPassword : nil
        if let missing {
            form.error = Message(.requiredField)
            form.errorField = missing
            return replace(.activation(form))
        }
        guard let server = form.scannedServer ?? config.banks?.find(serviceId: form.serviceId)?.serverURL
            ?? config.activationServer else {
            if config.banks != nil {
                form.error = Message(.unknownServiceId)
                form.errorField = .serviceId
            } else {
                form.error = Message(.notConfigured)
            }
            return replace(.activation(form))
        }
        replace(.activation(form), busy: true)
        do {
            let token = try requireCore().activate(
                ActivationTarget(serverURL: server, serviceId: form.serviceId, userId: form.userId),
                startPassword: startPassword)
            backStack = [.tokens((try? cards()) ?? [])]
            push(.activationDone(token), notice: .activated)
        } catch {
            form.error = message(for: error)
            if let failure = error as? CoreFailure {
                switch failure {
                case .wrongStartPassword: form.errorField = .startPassword
                case let .invalidInput(field, _): form.errorField = field
                default: break
                }
            }
            replace(.activation(form))
        }
    }

    /// 次へ after 初期設定完了.
    public func continueAfterActivation() {
        guard case let .activationDone(token) = state.screen else { return }
        guard let card = try? cards().first(where: { $0.id == token.serial }) else { return showTokens() }
        backStack.removeLast()
        push(.tokenDetail(card, firstUse: .activation))
    }

    /// Registration mode: creates a token and shows its serial and code.
    public func startRegistration() {
        guard let server = config.registrationServer, let service = config.registrationServiceId else {
            return notice(.notConfigured)
        }
        busy()
        do {
            let token = try requireCore().provision(serverURL: server, serviceId: service)
            let all = try cards()
            backStack = [.tokens(all)]
            guard let card = all.first(where: { $0.id == token.serial }) else { return showTokens() }
            push(.tokenDetail(card, firstUse: .registration), notice: .registered)
        } catch {
            var s = state; s.busy = false; s.notice = message(for: error); publish(s)
        }
    }

    // MARK: Settings

    public func openSettings() { push(settingsScreen()) }
    public func beginSetPin() { startPinFlow(.set, .new) }
    public func beginChangePin() { startPinFlow(.change, .current) }
    public func beginRemovePin() { startPinFlow(.remove, .current) }

    /// Turns biometric unlock on: the current PIN, then stored under the biometric key.
    public func beginEnableBiometric() {
        guard let keys = biometrics else { return }
        guard keys.available() else { return notice(.biometricFailed) }
        startPinFlow(.biometric, .current)
    }

    /// Turns biometric unlock off.
    public func disableBiometric() {
        biometrics?.remove()
        if case .settings = state.screen { replace(settingsScreen()) }
        notice(.biometricOff)
    }

    /// A PIN was entered on the current step.
    public func enterPin(_ pin: String) {
        guard case let .pinEntry(purpose, step, _) = state.screen else { return }
        switch step {
        case .current:
            currentPin = pin
            if purpose == .remove || purpose == .biometric { finishPinFlow(purpose) } else {
                replace(.pinEntry(purpose: purpose, step: .new, error: nil))
            }
        case .new:
            newPin = pin
            replace(.pinEntry(purpose: purpose, step: .confirm, error: nil))
        case .confirm:
            if pin != newPin {
                newPin = nil
                replace(.pinEntry(purpose: purpose, step: .new, error: Message(.pinMismatch)))
            } else {
                finishPinFlow(purpose)
            }
        }
    }

    public func requestReset() { push(.confirmReset) }

    /// Deletes every token and the PIN (through the opener: a forgotten PIN leaves the vault
    /// locked, and a damaged one was never opened).
    public func confirmReset() {
        guard state.screen == .confirmReset else { return }
        busy()
        do {
            core = try opener.reset()
        } catch {
            core = nil
            return show(.broken(message(for: error)))
        }
        forgetPins()
        biometrics?.remove()
        showTokens(notice: .appReset)
        openPendingLink()
    }

    // MARK: Internals

    private func startPinFlow(_ purpose: PinPurpose, _ step: PinStep) {
        forgetPins()
        push(.pinEntry(purpose: purpose, step: step, error: nil))
    }

    private func finishPinFlow(_ purpose: PinPurpose) {
        replace(state.screen, busy: true)
        do {
            let c = try requireCore()
            let done: MessageKey
            switch purpose {
            case .set: try c.setPin(newPin ?? ""); done = .pinSet
            case .change:
                try c.changePin(old: currentPin ?? "", new: newPin ?? "")
                if biometrics?.enrolled() == true { try storeForBiometrics(newPin) }
                done = .pinChanged
            case .remove: try c.removePin(currentPin ?? ""); biometrics?.remove(); done = .pinRemoved
            case .biometric:
                // Checks the PIN (counted like any try) without changing it.
                try c.changePin(old: currentPin ?? "", new: currentPin ?? "")
                try storeForBiometrics(currentPin)
                done = .biometricOn
            }
            forgetPins()
            while let last = backStack.last, !isSettings(last) { backStack.removeLast() }
            replace(settingsScreen())
            notice(done)
        } catch {
            forgetPins()
            // The PINs typed so far are dropped, so the flow restarts at its first step.
            replace(.pinEntry(purpose: purpose, step: purpose == .set ? .new : .current, error: message(for: error)))
        }
    }

    private func isSettings(_ screen: Screen) -> Bool {
        if case .settings = screen { return true }
        return false
    }

    private func forgetPins() {
        currentPin = nil
        newPin = nil
    }

    // The back-off is the core's (it counts the tries and keeps them across restarts). When
    // it cannot say, the pad stays open: the core still refuses a try that comes too soon.
    private func waitSeconds() -> Int {
        (try? core?.pinRetryAfterSeconds()) ?? 0
    }

    private func showUnlock(_ error: Message?) {
        let kept = pendingLink != nil ? state.notice : nil
        show(.unlock(error: error, waitSeconds: waitSeconds(), biometric: biometricOffered()))
        if let kept { var s = state; s.notice = kept; publish(s) }
    }

    private func biometricOffered() -> Bool {
        guard let keys = biometrics else { return false }
        return keys.available() && keys.enrolled()
    }

    private func storeForBiometrics(_ pin: String?) throws {
        guard let keys = biometrics else { return }
        var bytes = Data((pin ?? "").utf8)
        defer { bytes.resetBytes(in: 0..<bytes.count) }
        try keys.enroll(pin: bytes)
    }

    private func settingsScreen() -> Screen {
        let lockOn = (try? core?.hasPin()) == true
        return .settings(lockOn: lockOn, biometricOn: lockOn && biometrics?.enrolled() == true,
                         biometricAvailable: biometrics?.available() == true)
    }

    private func unlocked() {
        opened()
        openPendingLink()
    }

    // The vault is open: the list with the last known states at once, then the servers'
    // answers (the model runs on the app's worker queue, never the main thread).
    private func opened() {
        showTokens()
        if case let .tokens(cards) = state.screen, !cards.isEmpty { refreshStates() }
    }

    private func openPendingLink() {
        guard let link = pendingLink else { return }
        pendingLink = nil
        if case .tokens = state.screen { scanned(uri: link) }
    }

    private func isUnlockScreen(_ screen: Screen) -> Bool {
        if case .unlock = screen { return true }
        return false
    }

    private func emptyForm() -> ActivationForm {
        var form = ActivationForm.empty
        form.banks = config.banks?.banks ?? []
        return form
    }

    private func formFor(_ target: ActivationTarget) -> ActivationForm {
        ActivationForm(serviceId: target.serviceId, userId: target.userId, scannedServer: target.serverURL,
                       error: nil, errorField: nil, banks: config.banks?.banks ?? [])
    }

    private func hostOf(_ url: String) -> String {
        let rest = url.components(separatedBy: "://").last ?? url
        return rest.components(separatedBy: "/").first ?? rest
    }

    private func showTokens(notice: MessageKey? = nil) {
        do { show(.tokens(try cards()), notice: notice) } catch { fail(error) }
    }

    private func fail(_ error: Error) {
        if case .locked? = error as? CoreFailure { return showUnlock(nil) }
        show(.broken(message(for: error)))
    }

    private func cards() throws -> [TokenCard] {
        guard let c = core else { return [] }
        let t = now()
        return try c.tokens().map { token in
            TokenCard(token: token, code: token.status.dead ? nil : CodeView(try c.code(serial: token.serial, deviceUnixMs: t)))
        }
    }

    private func requireCore() throws -> TokenCore {
        guard let core else { throw CoreFailure.internal(detail: "the vault is not open") }
        return core
    }

    private func message(for error: Error) -> Message {
        (error as? CoreFailure).map(Message.forFailure) ?? Message(.internalError)
    }

    private func guarded(_ action: () throws -> Void) {
        busy()
        do { try action() } catch {
            if case .locked? = error as? CoreFailure { return showUnlock(nil) }
            var s = state; s.busy = false; s.notice = message(for: error); publish(s)
        }
    }

    private func busy() { var s = state; s.busy = true; s.notice = nil; publish(s) }

    private func notice(_ key: MessageKey) { var s = state; s.busy = false; s.notice = Message(key); publish(s) }

    private func push(_ screen: Screen, notice: MessageKey? = nil) {
        backStack.append(screen)
        publish(UiState(screen: screen, notice: notice.map { Message($0) }))
    }

    private func replace(_ screen: Screen, busy: Bool = false) {
        if !backStack.isEmpty { backStack.removeLast() }
        backStack.append(screen)
        publish(UiState(screen: screen, busy: busy, notice: busy ? nil : state.notice))
    }

    private func show(_ screen: Screen, notice: MessageKey? = nil) {
        backStack.removeAll()
        push(screen, notice: notice)
    }

    private func publish(_ next: UiState) {
        state = next
        onChange?(next)
    }
}
