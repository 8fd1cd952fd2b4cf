// What the shell needs from the platform beyond the vault: the clipboard, the biometric key,
// and the bank directory of the app build. Each is a small seam the app implements (Android:
// ClipboardManager, Keystore + BiometricPrompt; iOS: UIPasteboard, Secure Enclave) and the
// tests fake; the timing and the state machines around them are here, once.
package jp.softtoken.shell

/** The system clipboard, as the code copy button uses it. */
interface Pasteboard {
    /**
     * Puts [text] on the clipboard marked sensitive: Android `EXTRA_IS_SENSITIVE` (API 33+;
     * the clip preview hides it), iOS `.localOnly` (no Universal Clipboard) and an expiry.
     */
    fun putSensitive(text: String)

    /**
     * Whether the clipboard still holds the clip [putSensitive] put there last: false once
     * anything else was copied. Null when the platform cannot tell now (Android 10+ lets only
     * the app in front, or the keyboard, read the clipboard or even its description).
     */
    fun stillOurs(): Boolean?

    /** Empties the clipboard. */
    fun clear()
}

/**
 * The copied code's life on the clipboard: cleared [clearAfterMs] after the copy, and at once
 * when the app locks ([clearNow]), unless the clip is known to be someone else's (the
 * customer's next copy stays). [tick] runs every second, in the background too.
 *
 * Android 10+ hides the clipboard from an app in the background, so there the app cannot
 * tell its code from a later copy: it clears anyway (writing the clipboard is allowed in the
 * background). A code must not outlive its time on a clipboard every app in front can read;
 * the price is that text another app copied in those seconds is cleared with it.
 */
class CodeClipboard(
    private val board: Pasteboard,
    private val clock: Clock,
    /** How long a copied code stays on the clipboard. */
    val clearAfterMs: Long = CLEAR_AFTER_MS,
) {
    private var clearAtMs: Long? = null

    /** Whether a copied code still waits to be cleared. */
    val pending: Boolean get() = clearAtMs != null

    /** Copies [code] and starts its countdown. */
    fun copy(code: String) {
        board.putSensitive(code)
        clearAtMs = clock.nowMs() + clearAfterMs
    }

    /** Clears the clip when its time is up (see the class). True when it cleared it. */
    fun tick(): Boolean {
        val due = clearAtMs ?: return false
        if (clock.nowMs() < due) return false
        return clearUnlessTheirs()
    }

    /** The app locks: a copied code still waiting goes now. True when it cleared it. */
    fun clearNow(): Boolean = if (clearAtMs == null) false else clearUnlessTheirs()

    private fun clearUnlessTheirs(): Boolean {
        clearAtMs = null
        // Someone copied something else since: theirs stays.
        if (board.stillOurs() == false) return false
        // Ours, or the platform cannot tell (Android in the background): the code goes.
        board.clear()
        return true
    }

    companion object {
        /** 60 s: long enough to switch to internet banking and paste, no longer. */
        const val CLEAR_AFTER_MS = 60_000L
    }
}

/**
 * The biometric unlock key: the PIN encrypted to a key pair whose private half only a
 * biometric opens (Android: Keystore, `setUserAuthenticationRequired(true)`,
 * `setInvalidatedByBiometricEnrollment(true)`; iOS: Secure Enclave, `.biometryCurrentSet`).
 * Encrypting needs no prompt (public key); decrypting happens in the platform's prompt,
 * whose outcome comes back as a [BiometricResult].
 */
interface BiometricKeys {
    /** Whether strong biometrics are set up on this device now. */
    fun available(): Boolean

    /** Whether a PIN is stored under a biometric key. */
    fun enrolled(): Boolean

    /** Makes a new key and stores [pin] (ASCII digits) encrypted to it. The caller wipes [pin]. */
    fun enroll(pin: ByteArray)

    /** Deletes the key and the stored PIN. */
    fun remove()
}

/** How the platform's biometric prompt ended. */
sealed class BiometricResult {
    /** The stored PIN, decrypted (ASCII digits). The shell wipes it after use. */
    class Success(val pin: ByteArray) : BiometricResult() {
        override fun toString(): String = "Success(pin=…)"
    }

    /** The customer closed the prompt or chose the PIN. */
    data object Cancelled : BiometricResult()

    /** The key is invalidated or gone: biometry changed (a new fingerprint, Face ID reset). */
    data object Invalidated : BiometricResult()

    /** Too many tries or another failure: the PIN is the way in. */
    data object Failed : BiometricResult()
}

/** A bank of the app build's directory. */
data class Bank(
    /** The service ID the customer types (サービスID). */
    val serviceId: String,
    /** The bank's name, as the picker shows it. */
    val name: String,
    /** Its activation server, normalised by the core. */
    val serverUrl: String,
)

/** Whether a scanned activation server is one the directory lists. */
sealed class ServerCheck {
    /** The directory lists this service at this server. */
    data class Known(val bank: Bank) : ServerCheck()

    /** Not listed: the app shows [host] and asks before going on. */
    data class Unknown(val host: String) : ServerCheck()
}

/**
 * The bank directory (service ID → server and name), a resource of the app build, read and
 * judged by the core ([FfiTokenCore.bankDirectory]) so both apps decide alike.
 */
interface BankDirectory {
    /** Every bank, in the file's order. */
    val banks: List<Bank>

    /** The bank of a typed service ID, or null. */
    fun find(serviceId: String): Bank?

    /** Judges a scanned target. Throws [CoreException] for a malformed server URL. */
    fun check(serviceId: String, serverUrl: String): ServerCheck
}
