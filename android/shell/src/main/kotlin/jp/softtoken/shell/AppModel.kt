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
    /** The bank directory of the app build; null: none shipped (every QR server is asked about). */
    val banks: BankDirectory? = null,
)

/** The app's state machine. See the file comment for threading. */
class AppModel(
    private val opener: VaultOpener,
    private val config: AppConfig,
    private val clock: Clock = Clock.SYSTEM,
    /** The clipboard for the copy button; null: no copy button. */
    pasteboard: Pasteboard? = null,
    /** The biometric unlock key; null: no biometric option. */
    private val biometrics: BiometricKeys? = null,
) {
    private var core: TokenCore? = null
    private val clipboard = pasteboard?.let { CodeClipboard(it, clock) }

    // When the app went to the background with the app lock on; it locks once the grace
    // period is over (so the code scanner, a separate activity, does not lock it mid-scan).
    private var backgroundSinceMs: Long? = null
    private var scanning = false

    // An activation link or QR code that arrived while locked: opened after the unlock.
    private var pendingLink: String? = null

    // When the 取引確認 code on screen was made: its countdown runs from here.
    private var signedAtMs = 0L
    private val backStack = ArrayDeque<Screen>()
    private val listeners = mutableListOf<(UiState) -> Unit>()

    // PINs typed on earlier steps of a PIN flow, kept as char arrays so they can be wiped,
    // and wiped as soon as the flow ends.
    private var currentPin: CharArray? = null
    private var newPin: CharArray? = null

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
        if (locked) showUnlock(null) else opened()
    }

    /** Refreshes codes, countdowns and the back-off wait; the UI calls it every second. */
    fun tick() {
        clipboard?.tick()
        if (backgroundSinceMs != null) lockIfDue()
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
            is Screen.SignCode -> if (screen.code != null) replace(signCodeNow(screen))
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

    /**
     * The app went to the background: with the app lock on, it locks after [LOCK_GRACE_MS]
     * ([SCAN_GRACE_MS] while the code scanner is open), on [tick] or [onForeground].
     */
    fun onBackground() {
        val c = core ?: return
        reading {
            if (c.hasPin() && !c.isLocked() && backgroundSinceMs == null) backgroundSinceMs = clock.nowMs()
        }
    }

    /** The app is in front again: locks it if it stayed away longer than the grace period. */
    fun onForeground() {
        lockIfDue()
        backgroundSinceMs = null
    }

    /** The code scanner opens (on Android a separate activity): leaving for it is not leaving. */
    fun scanStarted() {
        scanning = true
    }

    /** The scanner closed without a code. */
    fun scanCancelled() {
        scanning = false
    }

    /**
     * The scanner could not run (Android: Google's code scanner failed or is missing; iOS: the
     * camera is unavailable). [cameraDenied]: the customer refused the camera (iOS), and the
     * notice says where to allow it. Either way the typed form stays open.
     */
    fun scanFailed(cameraDenied: Boolean) {
        scanning = false
        notice(if (cameraDenied) MessageKey.CAMERA_DENIED else MessageKey.SCANNER_FAILED)
    }

    private fun lockIfDue() {
        val since = backgroundSinceMs ?: return
        val grace = if (scanning) SCAN_GRACE_MS else LOCK_GRACE_MS
        if (clock.nowMs() - since < grace) return
        backgroundSinceMs = null
        scanning = false
        val c = core ?: return
        reading {
            if (c.hasPin() && !c.isLocked()) {
                c.lock()
                // A locked app shows no code: none stays on the clipboard either.
                clipboard?.clearNow()
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
            replace((state.screen as Screen.Unlock).copy(error = Message(MessageKey.PIN_WAIT, wait), waitSeconds = wait))
            return
        }
        busy()
        try {
            c.unlock(pin)
            unlocked()
        } catch (e: CoreException) {
            showUnlock(Messages.forFailure(e.failure))
        }
    }

    /** The platform's biometric prompt (offered on the lock screen) ended with [result]. */
    fun biometricResult(result: BiometricResult) {
        val c = core ?: return
        if (state.screen !is Screen.Unlock) {
            if (result is BiometricResult.Success) result.pin.fill(0)
            return
        }
        when (result) {
            is BiometricResult.Success -> {
                val pin = CharArray(result.pin.size) { result.pin[it].toInt().toChar() }
                result.pin.fill(0)
                busy()
                try {
                    c.unlock(String(pin))
                    unlocked()
                } catch (e: CoreException) {
                    // A stored PIN the core refuses is stale: drop it, the PIN pad remains.
                    if (e.failure is CoreFailure.WrongPin) biometrics?.remove()
                    showUnlock(Messages.forFailure(e.failure))
                } finally {
                    pin.fill('\u0000')
                }
            }
            BiometricResult.Cancelled -> Unit
            BiometricResult.Invalidated -> {
                // A new fingerprint or face must not open the vault: back to the PIN, for good.
                biometrics?.remove()
                showUnlock(Message(MessageKey.BIOMETRY_CHANGED))
            }
            BiometricResult.Failed -> showUnlock(Message(MessageKey.BIOMETRIC_FAILED))
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

    /**
     * Copies the token's current code (one tap): marked sensitive, cleared after 60 s if
     * still ours; the notice (read out by the screen reader) says so.
     */
    fun copyCode(serial: String) {
        val board = clipboard ?: return
        reading {
            val code = core().code(serial, clock.nowMs())
            board.copy(code.code)
            publish(state.copy(busy = false, notice = Message(MessageKey.CODE_COPIED, board.clearAfterMs / 1000)))
        }
    }

    /**
     * Pull to refresh (and on open): asks the servers what became of each token and redraws
     * with the answers. An unreachable server leaves the last known states and says so once,
     * quietly; success says nothing.
     */
    fun refreshStates() {
        val c = core ?: return
        if (state.busy || state.screen is Screen.Unlock) return
        val notice = state.notice
        publish(state.copy(busy = true))
        reading {
            // Unreachable or unreadable: the last known states stay, with one quiet notice.
            val reached = try {
                c.refresh()
            } catch (e: CoreException) {
                if (e.failure !is CoreFailure.Network && e.failure !is CoreFailure.Rejected) throw e
                false
            }
            publish(UiState(refreshed(backStack.last()), notice = if (reached) notice else Message(MessageKey.STATES_UNREACHABLE)))
        }
        if (state.busy) publish(state.copy(busy = false))
    }

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
    fun startActivation() = push(emptyForm())

    /**
     * A QR code was scanned or an activation link opened: fill the form from its URI. While
     * the app is locked it waits, and opens after the unlock. A server the bank directory
     * does not list is shown (its host) and asked about first.
     */
    fun scanned(uri: String) {
        scanning = false
        val c = core ?: return
        val locked = try {
            c.isLocked()
        } catch (e: CoreException) {
            return fail(e.failure)
        }
        if (locked || state.screen is Screen.Unlock) {
            pendingLink = uri
            publish(state.copy(notice = Message(MessageKey.LINK_AFTER_UNLOCK)))
            return
        }
        if (isSignLink(uri)) return openTransfer(uri)
        val target = try {
            c.parseActivationUri(uri)
        } catch (e: CoreException) {
            val form = state.screen as? Screen.Activation ?: emptyForm()
            val next = form.copy(error = Messages.forFailure(e.failure), errorField = InputField.ACTIVATION_URI)
            if (state.screen is Screen.Activation) replace(next) else push(next)
            return
        }
        val check = try {
            config.banks?.check(target.serviceId, target.serverUrl) ?: ServerCheck.Unknown(hostOf(target.serverUrl))
        } catch (e: CoreException) {
            ServerCheck.Unknown(hostOf(target.serverUrl))
        }
        val next = when (check) {
            is ServerCheck.Known -> formFor(target)
            is ServerCheck.Unknown -> Screen.ConfirmServer(target, check.host)
        }
        if (state.screen is Screen.Activation || state.screen is Screen.ConfirmServer) replace(next) else push(next)
    }

    /** The customer accepted the unlisted server shown: the form, for that server. */
    fun confirmServer() {
        val screen = state.screen as? Screen.ConfirmServer ?: return
        replace(formFor(screen.target))
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
        // A typed service ID reaches its bank's server through the directory; a scanned
        // form keeps the QR code's server; a single-bank build may set one server for all.
        val server = typed.scannedServer ?: config.banks?.find(typed.serviceId)?.serverUrl ?: config.activationServer
            ?: return replace(
                if (config.banks != null) {
                    typed.copy(error = Message(MessageKey.UNKNOWN_SERVICE_ID), errorField = InputField.SERVICE_ID)
                } else {
                    typed.copy(error = Message(MessageKey.NOT_CONFIGURED), errorField = null)
                },
            )
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

    // --- 取引確認 (transfer-bound codes) --------------------------------------------------

    /** The customer checked 振込先 and 金額 and confirms: the code for this one transfer. */
    fun confirmTransfer() {
        val screen = state.screen as? Screen.SignConfirm ?: return
        signWith(screen.token) { core().signTransfer(screen.token.serial, screen.transfer.payload) }
            ?.let { showSignCode(Screen.SignCode(screen.transfer, null, it, SIGN_CODE_SECONDS)) }
    }

    /** Manual mode for token [serial]: the form for the digits the bank's screen shows. */
    fun startTypedSign(serial: String) = reading {
        val token = core().tokens().firstOrNull { it.serial == serial } ?: return@reading notice(MessageKey.TOKEN_NOT_FOUND)
        if (token.status.dead) return@reading push(Screen.SignRefused(Message(MessageKey.SIGN_REVOKED)))
        push(Screen.SignManual(token, null))
    }

    /** Signs the [digits] typed in manual mode (spaces and hyphens allowed). */
    fun submitTypedDigits(digits: String) {
        val screen = state.screen as? Screen.SignManual ?: return
        val typed = digits.filter { it != ' ' && it != '-' }
        try {
            val code = core().signTypedDigits(screen.token.serial, typed)
            showSignCode(Screen.SignCode(null, typed, code, SIGN_CODE_SECONDS))
        } catch (e: CoreException) {
            when (val f = e.failure) {
                CoreFailure.Locked -> showUnlock(null)
                // The token was revoked meanwhile: the core refuses it as the serial.
                is CoreFailure.InvalidInput ->
                    if (f.field == InputField.SERIAL) {
                        replace(Screen.SignRefused(Message(MessageKey.SIGN_REVOKED)))
                    } else {
                        replace(screen.copy(error = Message(MessageKey.SIGN_INVALID_DIGITS)))
                    }
                else -> replace(screen.copy(error = Messages.forFailure(f)))
            }
        }
    }

    /** Done with the 取引確認 code (or a refusal): back to the token list. */
    fun finishSign() = reading { if (isSignScreen(state.screen)) showTokens() }

    // A scanned challenge: refused with a reason, or shown for the customer to confirm.
    private fun openTransfer(payload: String) = reading {
        val c = core()
        val transfer = try {
            c.parseTransfer(payload)
        } catch (e: CoreException) {
            if (e.failure !is CoreFailure.InvalidInput) throw e
            return@reading showSignScreen(Screen.SignRefused(Message(MessageKey.SIGN_MALFORMED)))
        }
        // The bank's own token answers: one that works before one that is still pending.
        val ofBank = c.tokens().filter { it.serviceId == transfer.serviceId }
        val token = ofBank.firstOrNull { it.status == TokenStatus.ACTIVE } ?: ofBank.firstOrNull { it.status == TokenStatus.PENDING }
        val next = when {
            token != null -> Screen.SignConfirm(transfer, token)
            ofBank.isNotEmpty() -> Screen.SignRefused(Message(MessageKey.SIGN_REVOKED))
            else -> Screen.SignRefused(Message(MessageKey.SIGN_OTHER_BANK))
        }
        showSignScreen(next)
    }

    // A second scan replaces the sign screen on top instead of stacking another.
    private fun showSignScreen(screen: Screen) = if (isSignScreen(state.screen)) replace(screen) else push(screen)

    private fun isSignScreen(screen: Screen) =
        screen is Screen.SignConfirm || screen is Screen.SignManual || screen is Screen.SignCode || screen is Screen.SignRefused

    // Runs a sign call; a refusal replaces the screen with its reason (null: no code).
    private inline fun signWith(token: TokenSummary, sign: () -> String): String? = try {
        sign()
    } catch (e: CoreException) {
        when (val f = e.failure) {
            CoreFailure.Locked -> showUnlock(null)
            is CoreFailure.InvalidInput -> replace(
                Screen.SignRefused(
                    Message(if (f.field == InputField.SERIAL || token.status.dead) MessageKey.SIGN_REVOKED else MessageKey.SIGN_MALFORMED),
                ),
            )
            else -> replace(Screen.SignRefused(Messages.forFailure(f)))
        }
        null
    }

    // The code replaces the form or confirmation: back leads to where the customer came from.
    private fun showSignCode(screen: Screen.SignCode) {
        signedAtMs = clock.nowMs()
        replace(screen)
    }

    private fun signCodeNow(screen: Screen.SignCode): Screen.SignCode {
        val left = SIGN_CODE_SECONDS - (clock.nowMs() - signedAtMs) / 1000
        return if (left > 0) screen.copy(secondsLeft = left) else screen.copy(code = null, secondsLeft = 0)
    }

    // --- Settings: app lock and reset -----------------------------------------------------

    /** Opens the settings. */
    fun openSettings() = reading { push(settings()) }

    /** Turns the app lock on: new PIN, then again. */
    fun beginSetPin() = startPinFlow(PinPurpose.SET, PinStep.NEW)

    /** Changes the PIN: current, new, again. */
    fun beginChangePin() = startPinFlow(PinPurpose.CHANGE, PinStep.CURRENT)

    /** Turns the app lock off: current PIN. */
    fun beginRemovePin() = startPinFlow(PinPurpose.REMOVE, PinStep.CURRENT)

    /** Turns biometric unlock on: the current PIN, then it is stored under the biometric key. */
    fun beginEnableBiometric() {
        val keys = biometrics ?: return
        if (!keys.available()) return notice(MessageKey.BIOMETRIC_FAILED)
        startPinFlow(PinPurpose.BIOMETRIC, PinStep.CURRENT)
    }

    /** Turns biometric unlock off (the PIN alone opens the app). */
    fun disableBiometric() {
        biometrics?.remove()
        if (state.screen is Screen.Settings) reading { replace(settings()) }
        notice(MessageKey.BIOMETRIC_OFF)
    }

    /** A PIN was entered on the current step of the PIN flow. */
    fun enterPin(pin: String) {
        val screen = state.screen as? Screen.PinEntry ?: return
        when (screen.step) {
            PinStep.CURRENT -> {
                currentPin = pin.toCharArray()
                if (screen.purpose == PinPurpose.REMOVE || screen.purpose == PinPurpose.BIOMETRIC) {
                    finishPinFlow(screen)
                } else {
                    replace(screen.copy(step = PinStep.NEW, error = null))
                }
            }
            PinStep.NEW -> {
                newPin = pin.toCharArray()
                replace(screen.copy(step = PinStep.CONFIRM, error = null))
            }
            PinStep.CONFIRM ->
                if (!pin.toCharArray().contentEquals(newPin)) {
                    newPin?.fill('\u0000')
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
        biometrics?.remove()
        showTokens(MessageKey.APP_RESET)
        openPendingLink()
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
            // The core takes Strings (UniFFI): made at the call, not kept.
            val current = String(currentPin ?: CharArray(0))
            val new = String(newPin ?: CharArray(0))
            val done = when (screen.purpose) {
                PinPurpose.SET -> c.setPin(new).let { MessageKey.PIN_SET }
                PinPurpose.CHANGE -> {
                    c.changePin(current, new)
                    // The biometric key holds the PIN: re-encrypt the new one (no prompt needed).
                    if (biometrics?.enrolled() == true) storeForBiometrics(newPin)
                    MessageKey.PIN_CHANGED
                }
                PinPurpose.REMOVE -> c.removePin(current).also { biometrics?.remove() }.let { MessageKey.PIN_REMOVED }
                PinPurpose.BIOMETRIC -> {
                    // Checks the PIN (counted like any try) without changing it.
                    c.changePin(current, current)
                    storeForBiometrics(currentPin)
                    MessageKey.BIOMETRIC_ON
                }
            }
            forgetPins()
            while (backStack.isNotEmpty() && backStack.last() !is Screen.Settings) backStack.removeLast()
            replace(settings())
            notice(done)
        } catch (e: CoreException) {
            forgetPins()
            // The PINs typed so far are dropped, so the flow restarts at its first step.
            val step = if (screen.purpose == PinPurpose.SET) PinStep.NEW else PinStep.CURRENT
            replace(Screen.PinEntry(screen.purpose, step, Messages.forFailure(e.failure)))
        }
    }

    private fun forgetPins() {
        currentPin?.fill('\u0000')
        newPin?.fill('\u0000')
        currentPin = null
        newPin = null
    }

    private fun storeForBiometrics(pin: CharArray?) {
        val keys = biometrics ?: return
        val bytes = ByteArray(pin?.size ?: 0) { pin!![it].code.toByte() }
        try {
            keys.enroll(bytes)
        } finally {
            bytes.fill(0)
        }
    }

    private fun settings(): Screen.Settings {
        val lockOn = core().hasPin()
        val keys = biometrics
        return Screen.Settings(
            lockOn = lockOn,
            biometricOn = lockOn && keys != null && keys.enrolled(),
            biometricAvailable = keys != null && keys.available(),
        )
    }

    // Now unlocked: the token list, then a link that waited behind the lock.
    private fun unlocked() {
        opened()
        openPendingLink()
    }

    // The vault is open: the token list with the last known states at once, then the
    // servers' answers (the model runs on the app's worker thread, never the main one).
    private fun opened() {
        showTokens()
        if (state.screen is Screen.Tokens && (state.screen as Screen.Tokens).cards.isNotEmpty()) refreshStates()
    }

    private fun openPendingLink() {
        val link = pendingLink ?: return
        pendingLink = null
        if (state.screen is Screen.Tokens) scanned(link)
    }

    // Only the scheme and host: the core reads (and refuses) the rest.
    private fun isSignLink(uri: String) = uri.trim().lowercase().startsWith("softtoken://sign")

    private fun emptyForm() = Screen.Activation("", "", null, null, null, config.banks?.banks ?: emptyList())

    private fun formFor(target: ActivationTarget) =
        Screen.Activation(target.serviceId, target.userId, target.serverUrl, null, null, config.banks?.banks ?: emptyList())

    // Only for showing: the core checked the URL when it parsed the activation URI.
    private fun hostOf(url: String): String = url.substringAfter("://").substringBefore('/')

    // The back-off is the core's (it counts the tries and keeps them across restarts). When
    // it cannot say, the pad stays open: the core still refuses a try that comes too soon.
    private fun waitSeconds(): Long = try {
        core?.pinRetryAfterSeconds() ?: 0
    } catch (e: CoreException) {
        0
    }

    private fun showUnlock(error: Message?) =
        show(Screen.Unlock(error, waitSeconds(), biometric = biometricOffered()), root = true, keepNotice = pendingLink != null)

    private fun biometricOffered(): Boolean {
        val keys = biometrics ?: return false
        return keys.available() && keys.enrolled()
    }

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
            val code = if (token.status.dead) null else CodeView(c.code(token.serial, now))
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

    private fun show(screen: Screen, root: Boolean, notice: MessageKey? = null, keepNotice: Boolean = false) {
        if (root) backStack.clear()
        val kept = state.notice.takeIf { keepNotice }
        push(screen, notice)
        if (kept != null && notice == null) publish(state.copy(notice = kept))
    }

    // A screen shown again after back: its codes and lock state may be stale.
    private fun refreshed(screen: Screen): Screen = when (screen) {
        is Screen.Tokens -> Screen.Tokens(cards())
        is Screen.TokenDetail ->
            cards().firstOrNull { it.token.serial == screen.card.token.serial }?.let { screen.copy(card = it) } ?: screen
        is Screen.Settings -> settings()
        else -> screen
    }.also { backStack[backStack.size - 1] = it }

    private fun publish(next: UiState) {
        state = next
        listeners.forEach { it(next) }
    }

    companion object {
        /** Background time before the app locks: a glance at a mail or a permission dialog. */
        const val LOCK_GRACE_MS = 10_000L

        /** The same while the code scanner is open: scanning takes longer, and is the app's own. */
        const val SCAN_GRACE_MS = 120_000L

        /**
         * How long a 取引確認 code stays on screen: the bank's default challenge lifetime
         * (server `DEFAULT_TTL_SECONDS`). The payload carries no expiry; the bank's screen
         * shows the exact one and its server is the judge.
         */
        const val SIGN_CODE_SECONDS = 300L
    }
}
