// The vault's platform key: a non-exportable AES-256-GCM key in the Android Keystore.
//
// The core wraps its random data key with this key, so the vault file copied off the phone is
// useless: the key never leaves the Keystore (StrongBox hardware where the phone has it, the
// TEE otherwise), and it is deleted with the app.
package jp.softtoken.app

import android.content.pm.PackageManager
import android.content.Context
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.UnrecoverableKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import jp.softtoken.shell.PlatformKeyException
import jp.softtoken.shell.PlatformKeyWrapper

/** Wraps the vault key with the Keystore key [alias], creating it on first use. */
class KeystoreKeyWrapper(private val context: Context, private val alias: String = ALIAS) : PlatformKeyWrapper {
    override fun wrap(key: ByteArray): ByteArray = keystore {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        // The Keystore picks a fresh random IV; it is stored in front of the ciphertext.
        cipher.init(Cipher.ENCRYPT_MODE, secretKey(create = true))
        val iv = cipher.iv
        check(iv.size == IV_BYTES) { "unexpected IV length ${iv.size}" }
        iv + cipher.doFinal(key)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray = keystore {
        if (wrapped.size <= IV_BYTES) throw PlatformKeyException("wrapped key too short", permanent = true)
        val key = secretKey(create = false)
            ?: throw PlatformKeyException("the Keystore key is gone", permanent = true)
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, wrapped, 0, IV_BYTES))
        cipher.doFinal(wrapped, IV_BYTES, wrapped.size - IV_BYTES)
    }

    private fun secretKey(create: Boolean): SecretKey? {
        val store = KeyStore.getInstance(PROVIDER).apply { load(null) }
        (store.getKey(alias, null) as? SecretKey)?.let { return it }
        return if (create) generate() else null
    }

    private fun generate(): SecretKey {
        // StrongBox (and setIsStrongBoxBacked, its feature flag and its exception) are API 28:
        // calling them on Android 8 throws NoSuchMethodError at the first launch.
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        ) {
            try {
                return generate(strongBox = true)
            } catch (e: StrongBoxUnavailableException) {
                // Advertised but refused for this key: the TEE below.
            }
        }
        return generate(strongBox = false)
    }

    private fun generate(strongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            // The app lock (PIN) is the core's; the Keystore key must work whenever the app runs.
            .setUserAuthenticationRequired(false)
            .setRandomizedEncryptionRequired(true)
            .apply { if (strongBox && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) setIsStrongBoxBacked(true) }
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER).run {
            init(spec)
            generateKey()
        }
    }

    // Keystore failures become the shell's two kinds: gone for good, or try again later.
    private inline fun keystore(block: () -> ByteArray): ByteArray = try {
        block()
    } catch (e: PlatformKeyException) {
        throw e
    } catch (e: KeyPermanentlyInvalidatedException) {
        throw PlatformKeyException("Keystore key invalidated", permanent = true, cause = e)
    } catch (e: UnrecoverableKeyException) {
        throw PlatformKeyException("Keystore key unrecoverable", permanent = true, cause = e)
    } catch (e: AEADBadTagException) {
        throw PlatformKeyException("wrapped key does not match the Keystore key", permanent = true, cause = e)
    } catch (e: GeneralSecurityException) {
        throw PlatformKeyException("Keystore failure: ${e.javaClass.simpleName}", permanent = false, cause = e)
    }

    companion object {
        /** The Keystore alias of the vault key. */
        const val ALIAS = "softtoken.vault.key"
        private const val PROVIDER = "AndroidKeyStore"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_BYTES = 12
        private const val TAG_BITS = 128
    }
}
