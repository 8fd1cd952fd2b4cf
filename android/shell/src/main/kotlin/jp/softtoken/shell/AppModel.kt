// The app's flows: what each tap does and which screen follows. No drawing, no Android.
//
// Threading: every method may block (the PIN key derivation takes most of a second, activation
// goes to the network), so the app calls them on ONE background worker thread, in order; the
// model is not meant for concurrent calls. Listeners receive each new state on that worker and
// hand it to the UI thread themselves.
package jp.softtoken.shell

/** The device clock for codes, injected so tests control time without sleeping. */
fun interface Clock {
    /** Milliseconds since 1970, UTC. */
    fun nowMs(): Long

    companion object {
        /** The system clock. */
        val SYSTEM = Clock { System.currentTimeMillis() }
    }
}

/** Opens the vault, or replaces it with an empty one (the reset). */
interface VaultOpener {
    /** Opens (or creates) the vault. */
    fun open(): TokenCore

    /**
     * Replaces whatever vault there is, readable or not, locked or not, with an empty one
     * without a PIN: every token is deleted. For a forgotten PIN, a damaged file, a lost key.
     */
    fun reset(): TokenCore
}

/** Per-app settings, from the build (Android `BuildConfig`, iOS `Info.plist`). */
data class AppConfig(
    /** The activation server for hand-typed service and user IDs, `https://…`; null: QR only. */
    val activationServer: String?,
    /** The server and service of registration mode (serial + code); null: not offered. */
    val registrationServer: String?,
    val registrationServiceId: String?,
)

/** The app's state machine. See the file comment for threading. */
class AppModel(
    private val opener: VaultOpener,
    private val config: AppConfig,
    private val clock: Clock = Clock.SYSTEM,
) {
    private var core: TokenCore? = null
    private val backStack = ArrayDeque<Screen>()
    private val listeners = mutableListOf<(UiState) -> Unit>()

    // PINs typed on earlier steps of a PIN flow, dropped as soon as the flow ends.
    private var currentPin: String? = null
    private var newPin: String? = null

    /** The state now. */
    @Volatile
    var state: UiState = UiState(Screen.Opening)
        private set

    /** Calls [listener] with every new state. */
    fun addListener(listener: (UiState) -> Unit) {
        listeners += listener
    }

    /** Opens the vault: the lock screen if the app lock is on, else the token list. */
    fun start() {
        val opened = try {
            opener.open()
        } catch (e: CoreException) {
            show(Screen.Broken(Messages.forFailure(e.failure)), root = true)
            return
        }
        core = opened
        val locked = try {
            opened.isLocked()
        } catch (e: CoreException) {
            return fail(e.failure)
        }
        if (locked) showUnlock(null) else showTokens()
    }

    /** Refreshes codes, countdowns and the back-off wait; the UI calls it every second. */
    fun tick() {
        if (state.busy) return
        try {
            refresh()
        } catch (e: CoreException) {
            fail(e.failure)
        }
    }

    /** Tries to open the vault again (from the screen shown when it could not be read). */
    fun retry() = start()

    private fun refresh() {
        when (val screen = state.screen) {
            is Screen.Tokens -> replace(Screen.Tokens(cards()))
            is Screen.TokenDetail -> {
                val card = cards().firstOrNull { it.token.serial == screen.card.token.serial }
                if (card != null) replace(screen.copy(card = card))
            }
            is Screen.Unlock -> if (screen.waitSeconds > 0) replace(screen.copy(waitSeconds = waitSeconds()))
            else -> Unit
        }
    }

    /** Goes back one screen. False at the root (the app may close). */
    fun back(): Boolean {
        if (state.busy || backStack.size <= 1) return false
        val leaving = backStack.removeLast()
        if (leaving is Screen.PinEntry) forgetPins()
        reading { publish(UiState(refreshed(backStack.last()))) }
        return true
    }

    /** Clears the passing notice once shown. */
    fun dismissNotice() {
        if (state.notice != null) publish(state.copy(notice = null))
    }

    // --- App lock -------------------------------------------------------------------------

    /** The app went to the background: lock it, so the codes need the PIN again. */
    fun onBackground() {
        val c = core ?: return
        reading {
            if (c.hasPin() && !c.isLocked()) {
                c.lock()
                forgetPins()
                showUnlock(null)
            }
        }
    }

    /** Tries the PIN on the lock screen. */
    fun unlock(pin: String) {
        val c = core ?: return
        if (state.screen !is Screen.Unlock) return
        val wait = waitSeconds()
        if (wait > 0) {
            replace(Screen.Unlock(Message(MessageKey.PIN_WAIT, wait), wait))
            return
        }
        busy()
        try {
            c.unlock(pin)
            showTokens()
        } catch (e: CoreException) {
            showUnlock(Messages.forFailure(e.failure))
        }
    }

    /** "Forgot the PIN?": the only way out is a reset (with confirmation). */
    fun forgotPin() = push(Screen.ConfirmReset)

    // --- Tokens ---------------------------------------------------------------------------

    /** Opens one token. */
    fun openToken(serial: String) = reading {
        val card = cards().firstOrNull { it.token.serial == serial } ?: return@reading notice(MessageKey.TOKEN_NOT_FOUND)
        push(Screen.TokenDetail(card, null))
    }

    /** The UI copied the serial to the clipboard: confirm it. */
    fun serialCopied() = notice(MessageKey.SERIAL_COPIED)

    /** Refreshes the token's clock offset from its server. */
    fun syncTime(serial: String) = guarded {
        core().syncTime(serial)
        tick()
        notice(MessageKey.TIME_SYNCED)
    }

    /** Asks before deleting a token. */
    fun requestDelete(serial: String) = reading {
        val token = core().tokens().firstOrNull { it.serial == serial } ?: return@reading notice(MessageKey.TOKEN_NOT_FOUND)
        push(Screen.ConfirmDelete(token))
    }

    /** Deletes the token the confirmation was about. */
    fun confirmDelete() {
        val screen = state.screen as? Screen.ConfirmDelete ?: return
        guarded {
            core().delete(screen.token.serial)
            showTokens(MessageKey.TOKEN_DELETED)
        }
    }

    // --- Adding a token -------------------------------------------------------------------

    /** Offers the two ways to add a token. */
    fun addToken() = push(Screen.AddToken)

    /** Opens the activation form with the service and user IDs empty. */
    fun startActivation() = push(Screen.Activation("", "", null, null, null))

    /** A QR code was scanned: fill the form from its activation URI. */
    fun scanned(uri: String) {
        val target = try {
            core().parseActivationUri(uri)
        } catch (e: CoreException) {
            val form = state.screen as? Screen.Activation ?: Screen.Activation("", "", null, null, null)
            val next = form.copy(error = Messages.forFailure(e.failure), errorField = InputField.ACTIVATION_URI)
            if (state.screen is Screen.Activation) replace(next) else push(next)
            return
        }
        val form = Screen.Activation(target.serviceId, target.userId, target.serverUrl, null, null)
        if (state.screen is Screen.Activation) replace(form) else push(form)
    }

    /** Sends the activation form (送信). */
    fun submitActivation(serviceId: String, userId: String, startPassword: String) {
        val form = state.screen as? Screen.Activation ?: return
        val typed = form.copy(serviceId = serviceId.trim(), userId = userId.trim(), error = null, errorField = null)
        val missing = when {
            typed.serviceId.isEmpty() -> InputField.SERVICE_ID
            typed.userId.isEmpty() -> InputField.USER_ID
            startPassword.isEmpty() -> InputField.START_PASSWORD
            else -> null
        }
        if (missing != null) return replace(typed.copy(error = Message(MessageKey.REQUIRED_FIELD), errorField = missing))
        val server = typed.scannedServer ?: config.activationServer
            ?: return replace(typed.copy(error = Message(MessageKey.NOT_CONFIGURED), errorField = null))
        replace(typed, busy = true)
        try {
            val token = core().activate(ActivationTarget(server, typed.serviceId, typed.userId), startPassword)
            // The form is done with: back stays on the token list, not on a used form.
            resetTo(Screen.Tokens(cards()))
            push(Screen.ActivationDone(token), MessageKey.ACTIVATED)
        } catch (e: CoreException) {
            val field = when (e.failure) {
                is CoreFailure.WrongStartPassword -> InputField.START_PASSWORD
                is CoreFailure.InvalidInput -> e.failure.field
                else -> null
            }
            replace(typed.copy(error = Messages.forFailure(e.failure), errorField = field))
        }
    }

    /** 次へ after 初期設定完了: the first 8-digit code, with what to do with it. */
    fun continueAfterActivation() {
        val done = state.screen as? Screen.ActivationDone ?: return
        reading {
            val card = cards().firstOrNull { it.token.serial == done.token.serial } ?: return@reading showTokens()
            backStack.removeLast()
            push(Screen.TokenDetail(card, FirstUse.ACTIVATION))
        }
    }

    /** Registration mode: creates a token and shows its serial and code. */
    fun startRegistration() {
        val server = config.registrationServer
        val service = config.registrationServiceId
        if (server == null || service == null) return notice(MessageKey.NOT_CONFIGURED)
        busy()
        try {
            val token = core().provision(server, service)
            resetTo(Screen.Tokens(cards()))
            val card = cards().firstOrNull { it.token.serial == token.serial } ?: return showTokens()
            push(Screen.TokenDetail(card, FirstUse.REGISTRATION), MessageKey.REGISTERED)
        } catch (e: CoreException) {
            publish(state.copy(busy = false, notice = Messages.forFailure(e.failure)))
        }
    }

    // --- Settings: app lock and reset -----------------------------------------------------

    /** Opens the settings. */
    fun openSettings() = reading { push(Screen.Settings(core().hasPin())) }

    /** Turns the app lock on: new PIN, then again. */
    fun beginSetPin() = startPinFlow(PinPurpose.SET, PinStep.NEW)

    /** Changes the PIN: current, new, again. */
    fun beginChangePin() = startPinFlow(PinPurpose.CHANGE, PinStep.CURRENT)

    /** Turns the app lock off: current PIN. */
    fun beginRemovePin() = startPinFlow(PinPurpose.REMOVE, PinStep.CURRENT)

    /** A PIN was entered on the current step of the PIN flow. */
    fun enterPin(pin: String) {
        val screen = state.screen as? Screen.PinEntry ?: return
        when (screen.step) {
            PinStep.CURRENT -> {
                currentPin = pin
                if (screen.purpose == PinPurpose.REMOVE) finishPinFlow(screen) else replace(screen.copy(step = PinStep.NEW, error = null))
            }
            PinStep.NEW -> {
                newPin = pin
                replace(screen.copy(step = PinStep.CONFIRM, error = null))
            }
            PinStep.CONFIRM ->
                if (pin != newPin) {
                    newPin = null
                    replace(screen.copy(step = PinStep.NEW, error = Message(MessageKey.PIN_MISMATCH)))
                } else {
                    finishPinFlow(screen)
                }
        }
    }

    /** Asks before the reset. */
    fun requestReset() = push(Screen.ConfirmReset)

    /** Deletes every token and the PIN (the customer confirmed). */
    fun confirmReset() {
        if (state.screen != Screen.ConfirmReset) return
        busy()
        // Through the opener, not the open vault: a forgotten PIN leaves it locked, and a
        // damaged one was never opened.
        core = try {
            opener.reset()
        } catch (e: CoreException) {
            core = null
            return show(Screen.Broken(Messages.forFailure(e.failure)), root = true)
        }
        forgetPins()
        showTokens(MessageKey.APP_RESET)
    }

    // --- Internals ------------------------------------------------------------------------

    private fun startPinFlow(purpose: PinPurpose, step: PinStep) {
        forgetPins()
        push(Screen.PinEntry(purpose, step, null))
    }

    private fun finishPinFlow(screen: Screen.PinEntry) {
        replace(screen, busy = true)
        val c = core()
        try {
            val done = when (screen.purpose) {
                PinPurpose.SET -> c.setPin(newPin.orEmpty()).let { MessageKey.PIN_SET }
                PinPurpose.CHANGE -> c.changePin(currentPin.orEmpty(), newPin.orEmpty()).let { MessageKey.PIN_CHANGED }
                PinPurpose.REMOVE -> c.removePin(currentPin.orEmpty()).let { MessageKey.PIN_REMOVED }
            }
            forgetPins()
            while (backStack.isNotEmpty() && backStack.last() !is Screen.Settings) backStack.removeLast()
            replace(Screen.Settings(c.hasPin()))
            notice(done)
        } catch (e: CoreException) {
            forgetPins()
            // The PINs typed so far are dropped, so the flow restarts at its first step.
            val step = if (screen.purpose == PinPurpose.SET) PinStep.NEW else PinStep.CURRENT
            replace(Screen.PinEntry(screen.purpose, step, Messages.forFailure(e.failure)))
        }
    }

    private fun forgetPins() {
        currentPin = null
        newPin = null
    }

    // The back-off is the core's (it counts the tries and keeps them across restarts). When
    // it cannot say, the pad stays open: the core still refuses a try that comes too soon.
    private fun waitSeconds(): Long = try {
        core?.pinRetryAfterSeconds() ?: 0
    } catch (e: CoreException) {
        0
    }

    private fun showUnlock(error: Message?) = show(Screen.Unlock(error, waitSeconds()), root = true)

    private fun showTokens(notice: MessageKey? = null) {
        val cards = try {
            cards()
        } catch (e: CoreException) {
            return fail(e.failure)
        }
        show(Screen.Tokens(cards), root = true, notice = notice)
    }

    // A failure outside a form: the lock screen if the vault locked, else the broken screen.
    private fun fail(failure: CoreFailure) {
        if (failure == CoreFailure.Locked) showUnlock(null) else show(Screen.Broken(Messages.forFailure(failure)), root = true)
    }

    private fun cards(): List<TokenCard> {
        val c = core ?: return emptyList()
        val now = clock.nowMs()
        return c.tokens().map { token ->
            val code = if (token.status == TokenStatus.REVOKED) null else CodeView(c.code(token.serial, now))
            TokenCard(token, code)
        }
    }

    private fun core(): TokenCore = core ?: throw CoreException(CoreFailure.Internal("the vault is not open"))

    // Runs a core call, turning a failure into a notice on the current screen.
    private inline fun guarded(action: () -> Unit) {
        busy()
        try {
            action()
        } catch (e: CoreException) {
            if (e.failure == CoreFailure.Locked) return showUnlock(null)
            publish(state.copy(busy = false, notice = Messages.forFailure(e.failure)))
        }
    }

    // Runs a read of the core outside any form: a failure locks or breaks, never escapes.
    private inline fun reading(action: () -> Unit) {
        try {
            action()
        } catch (e: CoreException) {
            when (e.failure) {
                CoreFailure.Locked, CoreFailure.CorruptVault, CoreFailure.KeyLost, CoreFailure.KeyUnavailable ->
                    fail(e.failure)
                else -> publish(state.copy(busy = false, notice = Messages.forFailure(e.failure)))
            }
        }
    }

    private fun busy() = publish(state.copy(busy = true, notice = null))

    private fun notice(key: MessageKey) = publish(state.copy(busy = false, notice = Message(key)))

    private fun push(screen: Screen, notice: MessageKey? = null) {
        backStack.addLast(screen)
        publish(UiState(screen, notice = notice?.let { Message(it) }))
    }

    private fun replace(screen: Screen, busy: Boolean = false) {
        if (backStack.isNotEmpty()) backStack.removeLast()
        backStack.addLast(screen)
        publish(UiState(screen, busy = busy, notice = state.notice.takeIf { !busy }))
    }

    private fun resetTo(screen: Screen) {
        backStack.clear()
        backStack.addLast(screen)
    }

    private fun show(screen: Screen, root: Boolean, notice: MessageKey? = null) {
        if (root) backStack.clear()
        push(screen, notice)
    }

    // A screen shown again after back: its codes and lock state may be stale.
    private fun refreshed(screen: Screen): Screen = when (screen) {
        is Screen.Tokens -> Screen.Tokens(cards())
        is Screen.Settings -> Screen.Settings(core().hasPin())
        else -> screen
    }.also { backStack[backStack.size - 1] = it }

    private fun publish(next: UiState) {
        state = next
        listeners.forEach { it(next) }
    }
}
