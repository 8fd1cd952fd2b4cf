// A real softtoken-server for the Kotlin tests (the binding tests and the Android shell's):
// started once per test run on a free loopback port with a fresh data directory and one
// service, and the bank's side of that service (its back end calling the bank API).
package jp.softtoken.testserver

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** The bank's side of a test: its internet-banking back end calling the bank API. */
class Bank(val serverUrl: String, val serviceId: String, val serviceName: String, private val apiKey: String) {
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

    /** Stops OTP for [userId] (利用中止) with a current code; true when accepted. */
    fun stop(userId: String, code: String): Boolean =
        verdict(post("/v1/services/$serviceId/users/$userId/stop", """{"otp":${json(code)}}"""))

    /**
     * Internet banking asks for 取引確認 of a transfer: the bank API creates the challenge;
     * returns its id, QR payload and the digits of the manual mode.
     */
    fun createTransfer(userId: String, payeeAccount: String, payeeName: String, amount: Long, currency: String): Transfer {
        val body = """{"payee_account":${json(payeeAccount)},"payee_name":${json(payeeName)},""" +
            """"amount":$amount,"currency":${json(currency)}}"""
        val (status, text) = post("/v1/services/$serviceId/users/$userId/transactions", body)
        check(status == 201) { "transaction failed: $status $text" }
        return Transfer(field(text, "id"), field(text, "payload"), field(text, "manual_digits"), field(text, "masked_account"))
    }

    /** Checks the customer's code for transfer [id]; true when accepted. */
    fun verifyTransfer(userId: String, id: String, code: String): Boolean =
        verdict(post("/v1/services/$serviceId/users/$userId/transactions/$id/verify", """{"otp":${json(code)}}"""))

    // A 2xx with `"valid":false` or a 4xx problem both mean "not accepted"; a 5xx is a bug.
    private fun verdict(response: Pair<Int, String>): Boolean {
        val (status, text) = response
        check(status < 500) { "server error: $status $text" }
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

/** A transfer challenge the bank created: what its internet banking shows. */
class Transfer(val id: String, val payload: String, val manualDigits: String, val maskedAccount: String)

/** The one server of a test run. */
object TestServer {
    /** The bank of the run's single service, its server started on first use. */
    val bank: Bank by lazy { start() }

    private val users = AtomicInteger()

    /** A user ID never used before in this run. */
    fun newUserId(): String = "user-${ProcessHandle.current().pid()}-${users.incrementAndGet()}"

    // The binary comes from the harness script: the system property `softtoken.server`
    // (bindings/test.sh) or the environment variable SOFTTOKEN_SERVER_BIN (android/test-shell.sh).
    private fun binary(): String =
        System.getProperty("softtoken.server") ?: System.getenv("SOFTTOKEN_SERVER_BIN")
            ?: error("set -Dsofttoken.server or SOFTTOKEN_SERVER_BIN to the softtoken-server binary")

    private fun start(): Bank {
        val binary = binary()
        val data = Files.createTempDirectory("softtoken-test-server").toFile()
        val serviceId = "testbank"
        val name = "テスト銀行"
        val added = run(binary, "service", "add", "--id", serviceId, "--name", name, "--data-dir", data.path)
        val apiKey = added.lines().map { it.trim() }.last { it.isNotEmpty() }
        // Port 0: the system picks a free port, and the server says which on stdout.
        val log = File(data, "server.log")
        val process = ProcessBuilder(
            binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data.path, "--app-rate-limit", "0",
        ).redirectErrorStream(true).redirectOutput(log).start()
        Runtime.getRuntime().addShutdownHook(
            Thread {
                process.destroy()
                process.waitFor(5, TimeUnit.SECONDS)
                deleteTree(data)
            },
        )
        return Bank(awaitUp(process, log), serviceId, name, apiKey)
    }

    // Runs in a shutdown hook, when the test class loader may already be closed: only
    // java.io and inlined code, no Kotlin library class loaded for the first time.
    private fun deleteTree(file: File) {
        file.listFiles()?.forEach { deleteTree(it) }
        file.delete()
    }

    private fun run(vararg command: String): String {
        val process = ProcessBuilder(*command).redirectErrorStream(true).start()
        val out = process.inputStream.bufferedReader().readText()
        check(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0) { "${command.joinToString(" ")} failed: $out" }
        return out
    }

    // Waits for the server's "listening on URL" line, then checks that GET /v1/time
    // answers there; returns the URL. A readiness check, not a sleep.
    private fun awaitUp(process: Process, log: File): String {
        val listening = Regex("listening on (http://\\S+)")
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (System.nanoTime() < deadline) {
            check(process.isAlive) { "softtoken-server exited: ${log.readText()}" }
            val url = listening.find(log.readText())?.groupValues?.get(1)
            if (url != null) {
                val http = HttpClient.newHttpClient()
                val r = http.send(HttpRequest.newBuilder(URI.create("$url/v1/time")).build(), HttpResponse.BodyHandlers.ofString())
                check(r.statusCode() == 200) { "GET $url/v1/time: ${r.statusCode()} ${r.body()}" }
                return url
            }
            process.waitFor(20, TimeUnit.MILLISECONDS)
        }
        error("softtoken-server did not start: ${log.readText()}")
    }
}
