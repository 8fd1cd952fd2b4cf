// What the shell tests run against: the real Rust library (through FfiTokenCore) and a real
// softtoken-server started once per test run, with one service and its bank API.
package jp.softtoken.shell

import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.TimeUnit
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** The bank's side of a test: its internet-banking back end calling the bank API. */
class Bank(val serverUrl: String, val serviceId: String, private val apiKey: String) {
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    /** Issues an activation for [userId] with [startPassword]; returns the activation URI. */
    fun issueActivation(userId: String, startPassword: String): String {
        val body = """{"user_id":${json(userId)},"start_password":${json(startPassword)}}"""
        val (status, text) = post("/v1/services/$serviceId/enrollments", body)
        check(status in 200..299) { "enrollment failed: $status $text" }
        return field(text, "activation_uri")
    }

    /** Confirms the user's pending token with its first code; true when accepted. */
    fun confirm(userId: String, code: String): Boolean =
        verdict(post("/v1/services/$serviceId/users/$userId/confirm", """{"otp":${json(code)}}"""))

    /** Checks a code at login or for a transfer; true when valid. */
    fun verify(userId: String, code: String): Boolean =
        verdict(post("/v1/services/$serviceId/users/$userId/verify", """{"otp":${json(code)}}"""))

    /** Registers serial + code to [userId] (registration mode); true when accepted. */
    fun register(userId: String, serial: String, code: String): Boolean =
        verdict(post("/v1/services/$serviceId/users/$userId/tokens", """{"serial":${json(serial)},"otp":${json(code)}}"""))

    /** Revokes a token (トークン失効). */
    fun revoke(serial: String) {
        val (status, text) = post("/v1/services/$serviceId/tokens/$serial/revoke", "{}")
        check(status in 200..299) { "revoke failed: $status $text" }
    }

    // A 2xx with `"valid":false` or a 4xx problem both mean "not accepted".
    private fun verdict(response: Pair<Int, String>): Boolean {
        val (status, text) = response
        return status in 200..299 && !Regex("\"valid\"\\s*:\\s*false").containsMatchIn(text)
    }

    private fun post(path: String, body: String): Pair<Int, String> {
        val request = HttpRequest.newBuilder(URI.create(serverUrl + path))
            .header("Authorization", "Bearer $apiKey")
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    private fun json(s: String) = "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""

    private fun field(text: String, name: String): String =
        Regex("\"$name\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").find(text)?.groupValues?.get(1)?.replace("\\/", "/")
            ?: error("no $name in $text")
}

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
    /** The bank of the single test service. */
    val bank: Bank by lazy { startServer() }

    private var userCounter = 0

    /** A user ID never used before in this run. */
    @Synchronized
    fun newUserId(): String = "user-${System.nanoTime() % 1_000_000}-${++userCounter}"

    /** A fresh, empty directory for a vault. */
    fun newVaultDir(): File = Files.createTempDirectory("shell-vault").toFile()

    /** A fresh, empty vault with its own platform key. */
    fun newOpener(keys: PlatformKeyWrapper = MemoryKeyWrapper()): VaultOpener = FfiTokenCore.opener(newVaultDir(), keys)

    /** The app configured for the test server (both hand-typed activation and registration). */
    fun config(): AppConfig = AppConfig(bank.serverUrl, bank.serverUrl, bank.serviceId)

    private fun startServer(): Bank {
        val binary = System.getenv("SOFTTOKEN_SERVER_BIN") ?: error("SOFTTOKEN_SERVER_BIN is not set (run android/test-shell.sh)")
        val data = Files.createTempDirectory("shell-server").toFile()
        val serviceId = "shellbank"
        val added = run(binary, "service", "add", "--id", serviceId, "--name", "シェル銀行", "--data-dir", data.path)
        val apiKey = added.lines().map { it.trim() }.last { it.isNotEmpty() }
        val port = ServerSocket(0).use { it.localPort }
        val url = "http://127.0.0.1:$port"
        val process = ProcessBuilder(
            binary, "serve", "--listen", "127.0.0.1:$port", "--data-dir", data.path, "--app-rate-limit", "0",
        ).redirectErrorStream(true).redirectOutput(File(data, "server.log")).start()
        Runtime.getRuntime().addShutdownHook(Thread { process.destroy() })
        awaitUp(url, process, File(data, "server.log"))
        return Bank(url, serviceId, apiKey)
    }

    private fun run(vararg command: String): String {
        val process = ProcessBuilder(*command).redirectErrorStream(true).start()
        val out = process.inputStream.bufferedReader().readText()
        check(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0) { "${command.joinToString(" ")} failed: $out" }
        return out
    }

    // Polls GET /v1/time until the server answers (a readiness check, not a sleep to pass).
    private fun awaitUp(url: String, process: Process, log: File) {
        val http = HttpClient.newHttpClient()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
        while (System.nanoTime() < deadline) {
            check(process.isAlive) { "softtoken-server exited: ${log.readText()}" }
            try {
                val r = http.send(HttpRequest.newBuilder(URI.create("$url/v1/time")).build(), HttpResponse.BodyHandlers.ofString())
                if (r.statusCode() == 200) return
            } catch (e: java.io.IOException) {
                // Not listening yet.
            }
            process.waitFor(50, TimeUnit.MILLISECONDS)
        }
        error("softtoken-server did not start: ${log.readText()}")
    }
}
