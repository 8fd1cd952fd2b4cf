// What the shell tests run against: the real Rust library (through FfiTokenCore) and a real
// softtoken-server started once per test run (the binding tests' TestServer), with one
// service and its bank API.
package jp.softtoken.shell

import java.io.File
import jp.softtoken.testserver.Bank
import jp.softtoken.testserver.TestServer
import java.nio.file.Files
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** The platform key of the tests: AES-256-GCM in memory, like the Android Keystore wrapper. */
class MemoryKeyWrapper : PlatformKeyWrapper {
    private val key: SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

    /** When set, every call fails as the Keystore does while the device is locked. */
    @Volatile
    var unavailable = false

    override fun wrap(key: ByteArray): ByteArray {
        if (unavailable) throw PlatformKeyException("device locked", permanent = false)
        val cipher = Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, this@MemoryKeyWrapper.key) }
        return cipher.iv + cipher.doFinal(key)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        if (unavailable) throw PlatformKeyException("device locked", permanent = false)
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped, 0, 12))
        return try {
            cipher.doFinal(wrapped, 12, wrapped.size - 12)
        } catch (e: AEADBadTagException) {
            // As KeystoreKeyWrapper reports a key that no longer opens the vault.
            throw PlatformKeyException("the key does not open this vault", permanent = true, cause = e)
        }
    }
}

/** A clock the test moves by hand. */
class TestClock(var ms: Long = System.currentTimeMillis()) : Clock {
    override fun nowMs(): Long = ms
}

/** The server shared by every test of the run, and fresh vaults per test. */
object TestWorld {
    /** The bank of the single test service (bindings/kotlin/testserver). */
    val bank: Bank get() = TestServer.bank

    /** A user ID never used before in this run. */
    fun newUserId(): String = TestServer.newUserId()

    /** A fresh, empty directory for a vault. */
    fun newVaultDir(): File = Files.createTempDirectory("shell-vault").toFile()

    /** A fresh, empty vault with its own platform key. */
    fun newOpener(keys: PlatformKeyWrapper = MemoryKeyWrapper()): VaultOpener = FfiTokenCore.opener(newVaultDir(), keys)

    /** The app configured for the test server (both hand-typed activation and registration). */
    fun config(): AppConfig = AppConfig(bank.serverUrl, bank.serverUrl, bank.serviceId)
}
