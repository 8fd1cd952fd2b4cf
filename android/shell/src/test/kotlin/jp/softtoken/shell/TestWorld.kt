// What the shell tests run against: the real Rust library (through AppCore) and a real
// softtoken-server started once per test run (the binding tests' TestServer), with one
// service and its bank API.
package jp.softtoken.shell

import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import jp.softtoken.core.AppMessage
import jp.softtoken.core.CodeView
import jp.softtoken.core.DeviceClock
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
class TestClock(var ms: Long = System.currentTimeMillis()) : DeviceClock {
    override fun nowUnixMs(): Long = ms
}

/** The core's timings (softtoken_core::app), as the flows below wait them out. */
object Core {
    /** Background time before the app locks (`LOCK_GRACE_MS`). */
    const val LOCK_GRACE_MS = 10_000L

    /** The same while the code scanner is open (`SCAN_GRACE_MS`). */
    const val SCAN_GRACE_MS = 120_000L

    /** How long a 取引確認 code is shown (`SIGN_CODE_SECONDS`). */
    const val SIGN_CODE_SECONDS = 300L
}

/** The app over [vault] with the tests' fast PIN key derivation. */
fun testApp(
    vault: Vault,
    config: AppConfig,
    clock: TestClock,
    board: Pasteboard? = null,
    bio: BiometricKeys? = null,
) = AppModel(vault, config, clock, board, bio, pinIterations = 1000u)

/** A message as key and numbers, to compare with [ka]. */
fun msg(key: String, vararg args: Long): Pair<String, List<Long>> = key to args.toList()

/** This message's key and numbers (its text is the core's, checked in DisplayAndStringsTest). */
val AppMessage?.ka: Pair<String, List<Long>>? get() = this?.let { it.key to it.args }

/** The plain code, as the copy button puts it on the clipboard. */
val CodeView.plain: String get() = now.grouped().filter(Char::isDigit)

/** Waits (on the views the core hands over, no sleeping) until the background refresh ended. */
fun AppModel.awaitRefresh() {
    val views = LinkedBlockingQueue<Any>()
    addListener { views.put(it) }
    while (state.refreshing) {
        checkNotNull(views.poll(20, TimeUnit.SECONDS)) { "the refresh never ended" }
    }
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
    fun newVault(keys: PlatformKeyWrapper = MemoryKeyWrapper()): Vault = vaultIn(newVaultDir(), keys)

    /** The vault file in [dir]. */
    fun vaultIn(dir: File, keys: PlatformKeyWrapper): Vault = Vault(File(dir, "tokens.vault").path, keys)

    /** The app configured for the test server (both hand-typed activation and registration). */
    fun config(): AppConfig = AppConfig(bank.serverUrl, bank.serverUrl, bank.serviceId)

    /** A bank directory (JSON, read by the core) listing the test bank and one other. */
    fun directory(): String = (
        """{"banks": [
            {"serviceId": "${bank.serviceId}", "name": "${bank.serviceName}", "serverUrl": "${bank.serverUrl}"},
            {"serviceId": "otherbank", "name": "Other Bank", "serverUrl": "https://otp.other.example"}
        ]}"""
    )
}

/** The clipboard of the tests: what is on it, and whether the app could read it now. */
class FakePasteboard : Pasteboard {
    /** The clipboard's text. */
    var text: String? = null

    /** Whether it was marked sensitive. */
    var sensitive = false

    /** False: the app is in the background and may not read the clipboard (Android 10+). */
    var readable = true
    private var ours: String? = null

    override fun putSensitive(text: String) {
        this.text = text
        sensitive = true
        ours = text
    }

    /** Another app (or the customer) copies something. */
    fun copiedElsewhere(text: String) {
        this.text = text
        sensitive = false
        ours = null
    }

    override fun stillOurs(): Boolean? = if (!readable) null else ours != null && text == ours

    override fun clear() {
        text = null
        ours = null
    }
}

/** The biometric key of the tests: holds the PIN as the platform would, can be invalidated. */
class FakeBiometrics(var available: Boolean = true) : BiometricKeys {
    private var stored: ByteArray? = null

    /** The biometry changed: the key no longer opens (KeyPermanentlyInvalidatedException). */
    var invalidated = false

    /** The PIN bytes handed to the shell by the last successful prompt (to check the wipe). */
    var lastHandedOut: ByteArray? = null

    override fun available(): Boolean = available

    override fun enrolled(): Boolean = stored != null

    /** The Keystore cannot make a key now: enroll throws, as `KeyStoreException` would. */
    var keystoreBroken = false

    override fun enroll(pin: ByteArray) {
        check(!keystoreBroken) { "KeyStoreException: the key could not be generated" }
        stored = pin.copyOf()
        invalidated = false
    }

    override fun remove() {
        stored = null
    }

    /** The platform's prompt, the customer's finger accepted. */
    fun prompt(): BiometricResult {
        val pin = stored ?: return BiometricResult.Invalidated
        if (invalidated) return BiometricResult.Invalidated
        return BiometricResult.Success(pin.copyOf().also { lastHandedOut = it })
    }

    /** The stored PIN as text (what enroll received). */
    fun storedPin(): String? = stored?.let { String(it, Charsets.US_ASCII) }
}
