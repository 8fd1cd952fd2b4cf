// What the shell needs from the platform beyond the vault: the clipboard and the biometric key.
// Each is a small seam the app implements (ClipboardManager, Keystore + BiometricPrompt) and
// the tests fake; the timing and the state machines around them are the core's (AppShell).
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
