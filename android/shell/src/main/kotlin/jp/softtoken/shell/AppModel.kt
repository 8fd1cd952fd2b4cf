// The Android app's shell over the Rust app model (AppCore: softtoken_core::app, DESIGN §9).
// The core decides every screen, message and flow; this file forwards the taps as AppEvents,
// hands each AppView to the UI, and does what only the platform can: the clipboard, the
// biometric key, the Keystore wrap of the vault key (KeyWrapperBridge).
//
// Threading: every method may block (the PIN key derivation, the network), so the app calls
// them on ONE background worker thread, in order. Listeners receive each view on that worker
// or on the core's refresh thread, and hand it to the UI thread themselves.
package jp.softtoken.shell

import java.util.concurrent.CopyOnWriteArrayList
import jp.softtoken.core.AppCore
import jp.softtoken.core.AppEvent
import jp.softtoken.core.AppSettings
import jp.softtoken.core.AppShell
import jp.softtoken.core.AppView
import jp.softtoken.core.BiometricOutcome
import jp.softtoken.core.DeviceClock

/** The vault file at [path] (made on the first start), its key wrapped by [keys] (Keystore). */
class Vault(val path: String, val keys: PlatformKeyWrapper)

/** Per-app settings, from the build (Android `BuildConfig`). */
data class AppConfig(
    /** The activation server for hand-typed service and user IDs, `https://…`; null: QR only. */
    val activationServer: String?,
    /** The server and service of registration mode (serial + code); null: not offered. */
    val registrationServer: String?,
    val registrationServiceId: String?,
    /** The bank directory of the app build (JSON); null: none shipped. */
    val banksJson: String? = null,
    /** The language of the texts: "ja" or "en". */
    val language: String = "ja",
)

/** The app: [state] is the view to draw; each method is one tap or platform event. */
class AppModel(
    vault: Vault,
    config: AppConfig,
    /** The device clock; null: the system's. Tests move theirs by hand. */
    clock: DeviceClock? = null,
    /** The clipboard for the copy button; null: copies go nowhere. */
    pasteboard: Pasteboard? = null,
    /** The biometric unlock key; null: no biometric option. */
    biometrics: BiometricKeys? = null,
    /** The PIN key derivation's work factor; 0: the core's. Tests only. */
    pinIterations: UInt = 0u,
) {
    private val listeners = CopyOnWriteArrayList<(AppView) -> Unit>()

    private val shell = object : AppShell {
        override fun render(view: AppView) = listeners.forEach { it(view) }

        override fun putOnClipboard(text: String) = pasteboard?.putSensitive(text) ?: Unit
        override fun clipboardStillOurs(): Boolean? = pasteboard?.stillOurs()
        override fun clearClipboard() = pasteboard?.clear() ?: Unit
        override fun biometricAvailable(): Boolean = biometrics?.available() ?: false
        override fun biometricEnrolled(): Boolean = biometrics?.enrolled() ?: false

        // The PIN arrives as a copy made for this call: wiped once the platform encrypted it.
        override fun biometricEnroll(pin: ByteArray) = try {
            biometrics?.enroll(pin) ?: Unit
        } finally {
            pin.fill(0)
        }
        override fun biometricRemove() = biometrics?.remove() ?: Unit
    }

    private val core: AppCore = run {
        val settings = AppSettings(
            vault.path, config.activationServer, config.registrationServer, config.registrationServiceId,
            config.banksJson, config.language,
        )
        val keys = KeyWrapperBridge(vault.keys)
        if (clock == null && pinIterations == 0u) AppCore(settings, keys, shell)
        else AppCore.withClock(settings, keys, shell, clock ?: SYSTEM_CLOCK, pinIterations)
    }

    /** The view now (the one drawn last). */
    val state: AppView get() = core.view()

    /** Calls [listener] with every new view. */
    fun addListener(listener: (AppView) -> Unit) {
        listeners += listener
    }

    private fun send(event: AppEvent) = core.send(event)

    fun start() = send(AppEvent.Start)
    fun tick() = send(AppEvent.Tick)
    fun retry() = send(AppEvent.Retry)

    /** Back; false when there is nothing to go back to (the system's back then leaves the app). */
    fun back(): Boolean = state.canGoBack.also { if (it) send(AppEvent.Back) }
    fun dismissNotice() = send(AppEvent.DismissNotice)
    fun onBackground() = send(AppEvent.Background)
    fun onForeground() = send(AppEvent.Foreground)
    fun scanStarted() = send(AppEvent.ScanStarted)
    fun scanCancelled() = send(AppEvent.ScanCancelled)
    fun scanFailed(cameraDenied: Boolean) = send(AppEvent.ScanFailed(cameraDenied))
    fun unlock(pin: String) = send(AppEvent.Unlock(pin))

    /** How the biometric prompt ended; a decrypted PIN is wiped here once the core has it. */
    fun biometricResult(result: BiometricResult) = when (result) {
        is BiometricResult.Success -> try {
            send(AppEvent.Biometric(BiometricOutcome.Success(result.pin)))
        } finally {
            result.pin.fill(0)
        }
        BiometricResult.Cancelled -> send(AppEvent.Biometric(BiometricOutcome.Cancelled))
        BiometricResult.Invalidated -> send(AppEvent.Biometric(BiometricOutcome.Invalidated))
        BiometricResult.Failed -> send(AppEvent.Biometric(BiometricOutcome.Failed))
    }
    fun forgotPin() = send(AppEvent.ForgotPin)
    fun openToken(serial: String) = send(AppEvent.OpenToken(serial))
    fun serialCopied() = send(AppEvent.SerialCopied)
    fun copyCode(serial: String) = send(AppEvent.CopyCode(serial))
    fun refreshStates() = send(AppEvent.RefreshStates)
    fun syncTime(serial: String) = send(AppEvent.SyncTime(serial))
    fun requestDelete(serial: String) = send(AppEvent.RequestDelete(serial))
    fun confirmDelete() = send(AppEvent.ConfirmDelete)
    fun addToken() = send(AppEvent.AddToken)
    fun startActivation() = send(AppEvent.StartActivation)
    fun scanned(uri: String) = send(AppEvent.Scanned(uri))
    fun confirmServer() = send(AppEvent.ConfirmServer)
    fun submitActivation(serviceId: String, userId: String, startPassword: String) =
        send(AppEvent.SubmitActivation(serviceId, userId, startPassword))
    fun continueAfterActivation() = send(AppEvent.ContinueAfterActivation)
    fun startRegistration() = send(AppEvent.StartRegistration)
    fun confirmTransfer() = send(AppEvent.ConfirmTransfer)
    fun startTypedSign(serial: String) = send(AppEvent.StartTypedSign(serial))
    fun submitTypedDigits(digits: String) = send(AppEvent.SubmitTypedDigits(digits))
    fun finishSign() = send(AppEvent.FinishSign)
    fun openSettings() = send(AppEvent.OpenSettings)
    fun beginSetPin() = send(AppEvent.BeginSetPin)
    fun beginChangePin() = send(AppEvent.BeginChangePin)
    fun beginRemovePin() = send(AppEvent.BeginRemovePin)
    fun beginEnableBiometric() = send(AppEvent.BeginEnableBiometric)
    fun disableBiometric() = send(AppEvent.DisableBiometric)
    fun enterPin(pin: String) = send(AppEvent.EnterPin(pin))
    fun requestReset() = send(AppEvent.RequestReset)
    fun confirmReset() = send(AppEvent.ConfirmReset)

    private companion object {
        val SYSTEM_CLOCK = object : DeviceClock {
            override fun nowUnixMs(): Long = System.currentTimeMillis()
        }
    }
}
