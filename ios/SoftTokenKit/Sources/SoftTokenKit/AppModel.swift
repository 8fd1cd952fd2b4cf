// The app's flows (twin of android/shell AppModel.kt): what each tap does and which screen
// follows. Every method may block (PIN key derivation, network): the app calls them on ONE
// serial background queue, in order; `onChange` receives each new state on that queue.
import Foundation

/// Per-app settings from Info.plist.
public struct AppConfig: Sendable {
    public let activationServer: String?
    public let registrationServer: String?
    public let registrationServiceId: String?

    public init(activationServer: String?, registrationServer: String?, registrationServiceId: String?) {
        self.activationServer = activationServer
        self.registrationServer = registrationServer
        self.registrationServiceId = registrationServiceId
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

    /// The state now.
    public private(set) var state = UiState(screen: .opening)
    /// Called with every new state.
    public var onChange: ((UiState) -> Void)?

    /// A model; `now` is the device clock in ms for codes (injected so tests need no sleeping).
    public init(opener: VaultOpener, config: AppConfig,
                now: @escaping () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.opener = opener
        self.config = config
        self.now = now
    }

    /// Opens the vault: the lock screen if the app lock is on, else the token list.
    public func start() {
        do {
            let opened = try opener.open()
            core = opened
            if try opened.isLocked() { showUnlock(nil) } else { showTokens() }
        } catch {
            fail(error)
        }
    }

    /// Tries to open the vault again.
    public func retry() { start() }

    /// Refreshes codes, countdowns and the back-off wait; the UI calls it every second.
    public func tick() {
        guard !state.busy else { return }
        do {
            switch state.screen {
            case .tokens: replace(.tokens(try cards()))
            case let .tokenDetail(card, firstUse):
                if let fresh = try cards().first(where: { $0.id == card.id }) {
                    replace(.tokenDetail(fresh, firstUse: firstUse))
                }
            case let .unlock(error, wait) where wait > 0:
                replace(.unlock(error: error, waitSeconds: waitSeconds()))
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
        if case .settings = previous, let on = try? core?.hasPin() { previous = .settings(lockOn: on) }
        backStack[backStack.count - 1] = previous
        publish(UiState(screen: previous))
        return true
    }

    /// Clears the passing notice.
    public func dismissNotice() {
        if state.notice != nil { var s = state; s.notice = nil; publish(s) }
    }

    // MARK: App lock

    /// The app went to the background: lock it.
    public func onBackground() {
        guard let c = core, (try? c.hasPin()) == true, (try? c.isLocked()) == false else { return }
        try? c.lock()
        forgetPins()
        showUnlock(nil)
    }

    /// Tries the PIN on the lock screen.
    public func unlock(pin: String) {
        guard let c = core, case .unlock = state.screen else { return }
        let wait = waitSeconds()
        if wait > 0 { return replace(.unlock(error: Message(.pinWait, wait), waitSeconds: wait)) }
        busy()
        do {
            try c.unlock(pin: pin)
            showTokens()
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

    /// Refreshes the token's clock offset.
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

    public func startActivation() { push(.activation(.empty)) }

    /// A QR code was scanned (or a softtoken:// link opened).
    public func scanned(uri: String) {
        var form: ActivationForm
        do {
            let target = try requireCore().parseActivationURI(uri)
            form = ActivationForm(serviceId: target.serviceId, userId: target.userId,
                                  scannedServer: target.serverURL, error: nil, errorField: nil)
        } catch {
            if case let .activation(current) = state.screen { form = current } else { form = .empty }
            form.error = message(for: error)
            form.errorField = .activationURI
        }
        if case .activation = state.screen { replace(.activation(form)) } else { push(.activation(form)) }
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
        guard let server = form.scannedServer ?? config.activationServer else {
            form.error = Message(.notConfigured)
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

    public func openSettings() { push(.settings(lockOn: (try? core?.hasPin()) == true)) }
    public func beginSetPin() { startPinFlow(.set, .new) }
    public func beginChangePin() { startPinFlow(.change, .current) }
    public func beginRemovePin() { startPinFlow(.remove, .current) }

    /// A PIN was entered on the current step.
    public func enterPin(_ pin: String) {
        guard case let .pinEntry(purpose, step, _) = state.screen else { return }
        switch step {
        case .current:
            currentPin = pin
            if purpose == .remove { finishPinFlow(purpose) } else {
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
        showTokens(notice: .appReset)
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
            case .change: try c.changePin(old: currentPin ?? "", new: newPin ?? ""); done = .pinChanged
            case .remove: try c.removePin(currentPin ?? ""); done = .pinRemoved
            }
            forgetPins()
            while let last = backStack.last, !isSettings(last) { backStack.removeLast() }
            replace(.settings(lockOn: try c.hasPin()))
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

    private func showUnlock(_ error: Message?) { show(.unlock(error: error, waitSeconds: waitSeconds())) }

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
            TokenCard(token: token, code: token.status == .revoked ? nil : CodeView(try c.code(serial: token.serial, deviceUnixMs: t)))
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
