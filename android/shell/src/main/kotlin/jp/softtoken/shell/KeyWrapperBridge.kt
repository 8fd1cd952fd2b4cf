// The vault key's platform wrap (Android Keystore) as the core's foreign KeyWrapper.
package jp.softtoken.shell

import jp.softtoken.core.KeyWrapper
import jp.softtoken.core.KeyWrapperException

/**
 * The platform key that protects the vault's data key: the Android Keystore. The app
 * implements it; [AppModel] hands it to the core. Throw [PlatformKeyException] for known
 * failures; anything else is reported as unexpected, never a crash.
 */
interface PlatformKeyWrapper {
    /** Encrypts the 32-byte vault key. */
    fun wrap(key: ByteArray): ByteArray

    /** Decrypts what [wrap] returned. */
    fun unwrap(wrapped: ByteArray): ByteArray
}

/** A platform key failure; [permanent] means the key is gone for good (reset needed). */
class PlatformKeyException(message: String, val permanent: Boolean, cause: Throwable? = null) :
    Exception(message, cause)

/** Hands a [PlatformKeyWrapper] to the core as its foreign `KeyWrapper`. */
internal class KeyWrapperBridge(private val keys: PlatformKeyWrapper) : KeyWrapper {
    // The data key arrives as a copy made for this call: wiped as soon as it is wrapped. (What
    // unwrapKey returns is handed back to the core by the bindings; the JVM cannot wipe it.)
    override fun wrapKey(key: ByteArray): ByteArray = try {
        platform { keys.wrap(key) }
    } finally {
        key.fill(0)
    }

    override fun unwrapKey(wrapped: ByteArray): ByteArray = platform { keys.unwrap(wrapped) }

    private inline fun platform(block: () -> ByteArray): ByteArray = try {
        block()
    } catch (e: PlatformKeyException) {
        val detail = e.message ?: "platform key failure"
        throw if (e.permanent) KeyWrapperException.KeyLost(detail) else KeyWrapperException.Unavailable(detail)
    }
}
