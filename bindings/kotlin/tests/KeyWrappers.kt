// KeyWrapper implementations for the tests, written the way an Android shell would write
// its Keystore wrapper: AES-GCM under a key the "platform" keeps.
package jp.softtoken.core.tests

import jp.softtoken.core.KeyWrapper
import jp.softtoken.core.KeyWrapperException
import java.security.SecureRandom
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** AES-256-GCM with a key held in memory, standing in for the Android Keystore. */
class AesKeyWrapper(private val key: SecretKey = newKey()) : KeyWrapper {
    val wraps = AtomicInteger()
    val unwraps = AtomicInteger()

    override fun wrapKey(key: ByteArray): ByteArray {
        wraps.incrementAndGet()
        val nonce = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, this.key, GCMParameterSpec(128, nonce))
        return nonce + cipher.doFinal(key)
    }

    override fun unwrapKey(wrapped: ByteArray): ByteArray {
        unwraps.incrementAndGet()
        if (wrapped.size < 12 + 16) throw KeyWrapperException.KeyLost("wrapped key too short")
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped, 0, 12))
        try {
            return cipher.doFinal(wrapped, 12, wrapped.size - 12)
        } catch (e: AEADBadTagException) {
            // What a Keystore key that was replaced (say, after the screen lock was removed)
            // looks like: the old wrapped key no longer opens.
            throw KeyWrapperException.KeyLost("the platform key does not open this vault")
        }
    }

    companion object {
        fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    }
}

/** A wrapper whose unwrap fails the way a buggy shell might: an undeclared exception. */
class ThrowingKeyWrapper(private val inner: KeyWrapper) : KeyWrapper {
    override fun wrapKey(key: ByteArray): ByteArray = inner.wrapKey(key)
    override fun unwrapKey(wrapped: ByteArray): ByteArray =
        throw IllegalStateException("keystore exploded")
}

/** A wrapper that reports the platform key as temporarily unavailable. */
class UnavailableKeyWrapper : KeyWrapper {
    override fun wrapKey(key: ByteArray): ByteArray =
        throw KeyWrapperException.Unavailable("device is locked")
    override fun unwrapKey(wrapped: ByteArray): ByteArray =
        throw KeyWrapperException.Unavailable("device is locked")
}
