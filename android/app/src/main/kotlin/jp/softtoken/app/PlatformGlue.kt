// The platform halves of the shell's Pasteboard and BiometricKeys seams. The timing (60 s and
// on lock, unless known to be another copy) and the biometric decisions are the core's
// (softtoken_core::app); here only Android calls.
package jp.softtoken.app

import android.content.ClipData
import android.content.ClipDescription
import android.content.ClipboardManager
import android.content.Context
import android.os.Build
import android.os.PersistableBundle
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import androidx.biometric.BiometricManager
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_STRONG
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import java.io.File
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.spec.MGF1ParameterSpec
import javax.crypto.Cipher
import javax.crypto.spec.OAEPParameterSpec
import javax.crypto.spec.PSource
import jp.softtoken.shell.BiometricKeys
import jp.softtoken.shell.BiometricResult
import jp.softtoken.shell.Pasteboard

/** The system clipboard: the code marked sensitive; ownership by the clip's timestamp. */
class SystemPasteboard(context: Context) : Pasteboard {
    private val clipboard = context.getSystemService(ClipboardManager::class.java)
    private var ourTimestamp: Long? = null

    override fun putSensitive(text: String) {
        val clip = ClipData.newPlainText(LABEL, text)
        clip.description.extras = PersistableBundle().apply {
            // EXTRA_IS_SENSITIVE is API 33; older versions read the same key by its name.
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
                putBoolean(ClipDescription.EXTRA_IS_SENSITIVE, true)
            } else {
                putBoolean("android.content.extra.IS_SENSITIVE", true)
            }
        }
        clipboard.setPrimaryClip(clip)
        ourTimestamp = clipboard.primaryClipDescription?.timestamp
    }

    // Android 10+ lets only the app in front read the clipboard, its description included
    // (hasPrimaryClip() then says false too): no description is "cannot tell", and the shell
    // clears on time anyway. An empty clipboard looks the same; clearing it costs nothing.
    override fun stillOurs(): Boolean? {
        val ours = ourTimestamp ?: return false
        val now = clipboard.primaryClipDescription ?: return null
        return now.label == LABEL && now.timestamp == ours
    }

    override fun clear() {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            clipboard.clearPrimaryClip()
        } else {
            clipboard.setPrimaryClip(ClipData.newPlainText("", ""))
        }
        ourTimestamp = null
    }

    private companion object {
        const val LABEL = "softtoken-code"
    }
}

/**
 * The PIN encrypted (RSA-OAEP) to a Keystore key pair whose private key needs a strong
 * biometric for each use and is invalidated by a new enrolment. Encrypting uses the public
 * key (no prompt); decrypting runs in a BiometricPrompt with the cipher as its CryptoObject.
 */
class KeystoreBiometricKeys(private val context: Context) : BiometricKeys {
    private val sealedFile = File(context.noBackupFilesDir, "biometric-pin.sealed")

    override fun available(): Boolean =
        BiometricManager.from(context).canAuthenticate(BIOMETRIC_STRONG) == BiometricManager.BIOMETRIC_SUCCESS

    override fun enrolled(): Boolean = sealedFile.exists() && keystore().containsAlias(ALIAS)

    override fun enroll(pin: ByteArray) {
        remove()
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_DECRYPT)
            .setDigests(KeyProperties.DIGEST_SHA256)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_RSA_OAEP)
            .setKeySize(2048)
            .setUserAuthenticationRequired(true)
            .setInvalidatedByBiometricEnrollment(true)
            .apply {
                // API 30: a strong biometric for every use; before, auth-required with no
                // validity window means the same (a CryptoObject per use).
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                    setUserAuthenticationParameters(0, KeyProperties.AUTH_BIOMETRIC_STRONG)
                }
            }
            .build()
        val pair = KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_RSA, PROVIDER).run {
            initialize(spec)
            generateKeyPair()
        }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, pair.public, OAEP)
        sealedFile.writeBytes(cipher.doFinal(pin))
    }

    override fun remove() {
        sealedFile.delete()
        keystore().deleteEntry(ALIAS)
    }

    /** Shows the prompt over [activity]; [done] gets the outcome (the PIN on success). */
    fun unlock(activity: FragmentActivity, title: String, cancel: String, done: (BiometricResult) -> Unit) {
        val cipher = try {
            val key = keystore().getKey(ALIAS, null) as? PrivateKey ?: return done(BiometricResult.Invalidated)
            Cipher.getInstance(TRANSFORMATION).apply { init(Cipher.DECRYPT_MODE, key, OAEP) }
        } catch (e: KeyPermanentlyInvalidatedException) {
            return done(BiometricResult.Invalidated)
        }
        val callback = object : BiometricPrompt.AuthenticationCallback() {
            override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                val pin = try {
                    result.cryptoObject?.cipher?.doFinal(sealedFile.readBytes())
                } catch (e: Exception) {
                    null
                }
                done(if (pin != null) BiometricResult.Success(pin) else BiometricResult.Failed)
            }

            override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                val cancelled = errorCode == BiometricPrompt.ERROR_USER_CANCELED ||
                    errorCode == BiometricPrompt.ERROR_NEGATIVE_BUTTON || errorCode == BiometricPrompt.ERROR_CANCELED
                done(if (cancelled) BiometricResult.Cancelled else BiometricResult.Failed)
            }
        }
        val info = BiometricPrompt.PromptInfo.Builder()
            .setTitle(title)
            .setNegativeButtonText(cancel)
            .setAllowedAuthenticators(BIOMETRIC_STRONG)
            .build()
        BiometricPrompt(activity, ContextCompat.getMainExecutor(activity), callback)
            .authenticate(info, BiometricPrompt.CryptoObject(cipher))
    }

    private fun keystore(): KeyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }

    private companion object {
        const val ALIAS = "softtoken.biometric.pin"
        const val PROVIDER = "AndroidKeyStore"
        const val TRANSFORMATION = "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"

        // MGF1 with SHA-1: the digest Keystore allows for MGF1 on every version.
        val OAEP = OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT)
    }
}
