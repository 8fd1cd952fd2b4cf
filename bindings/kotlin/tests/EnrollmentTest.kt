// Activation, provisioning and time sync through the bindings, against a real
// softtoken-server: codes the app shows must be the codes the bank's verify accepts.
package jp.softtoken.core.tests

import jp.softtoken.core.InputField
import jp.softtoken.core.SoftTokenException
import jp.softtoken.core.TokenInfo
import jp.softtoken.core.TokenState
import jp.softtoken.core.TokenStore
import jp.softtoken.core.parseActivationUri
import jp.softtoken.core.parseSerial
import jp.softtoken.testserver.TestServer
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.math.abs
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

class EnrollmentTest {
    private val bank = TestServer.bank
    private val dir: Path = Files.createTempDirectory("softtoken-enroll-test")
    private val vault = dir.resolve("tokens.vault").toString()

    @AfterTest
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    @Test
    fun aWrongStartPasswordCountsDownAndTheRightOneGivesCodesTheBankAccepts() {
        val user = TestServer.newUserId()
        val uri = bank.issueActivation(user, "start-2468")
        assertEquals(bank.serverUrl, parseActivationUri(uri).serverUrl)
        val wrapper = AesKeyWrapper()
        TokenStore.open(vault, wrapper).use { store ->
            val first = assertFailsWith<SoftTokenException.WrongStartPassword> {
                store.activateWithUri(uri, "start-1357")
            }
            val second = assertFailsWith<SoftTokenException.WrongStartPassword> {
                store.activateWithUri(uri, "start-0000")
            }
            assertEquals(first.attemptsLeft - 1u, second.attemptsLeft)
            assertEquals(emptyList(), store.tokens())

            val token = store.activateWithUri(uri, "start-2468")
            assertEquals(TokenState.PENDING, token.state)
            assertEquals(bank.serviceName, token.issuer)
            assertEquals(user, token.userLabel)
            assertEquals(bank.serviceId, token.serviceId)
            assertEquals(token.serial, parseSerial(token.serial.grouped))
            assertEquals(listOf(token), store.tokens())
            assertCodesAreTheBanks(store, token, user)
        }
        // The token survives a restart of the app.
        TokenStore.open(vault, wrapper).use { assertEquals(1, it.tokens().size) }
    }

    @Test
    fun tooManyWrongStartPasswordsLockTheActivation() {
        val user = TestServer.newUserId()
        bank.issueActivation(user, "right-pass")
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            val activate = { password: String -> store.activate(bank.serverUrl, bank.serviceId, user, password) }
            var left = assertFailsWith<SoftTokenException.WrongStartPassword> { activate("wrong-pass") }.attemptsLeft
            while (left > 0u) {
                val next = assertFailsWith<SoftTokenException.WrongStartPassword> { activate("wrong-pass") }
                assertEquals(left - 1u, next.attemptsLeft)
                left = next.attemptsLeft
            }
            // Locked: even the right password no longer works; the bank must issue anew.
            assertFailsWith<SoftTokenException.EnrollmentLocked> { activate("right-pass") }
            assertFailsWith<SoftTokenException.EnrollmentNotFound> {
                store.activate(bank.serverUrl, bank.serviceId, TestServer.newUserId(), "right-pass")
            }
            assertEquals(emptyList(), store.tokens())
        }
    }

    @Test
    fun aLockedVaultRefusesBeforeTheStartPasswordIsUsed() {
        val user = TestServer.newUserId()
        val uri = bank.issueActivation(user, "start-9753")
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            store.setPin("8642")
            store.lock()
            assertFailsWith<SoftTokenException.Locked> { store.activateWithUri(uri, "start-9753") }
            assertFailsWith<SoftTokenException.Locked> { store.provision(bank.serverUrl, bank.serviceId) }
            store.unlock("8642")
            // Nothing was spent: the activation still works once, and only once.
            val token = store.activateWithUri(uri, "start-9753")
            assertCodesAreTheBanks(store, token, user)
            assertFailsWith<SoftTokenException.EnrollmentNotFound> { store.activateWithUri(uri, "start-9753") }
        }
    }

    @Test
    fun aProvisionedTokenRegistersWithSerialAndCode() {
        val user = TestServer.newUserId()
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            val token = store.provision(bank.serverUrl, bank.serviceId)
            assertEquals(TokenState.PENDING, token.state)
            assertEquals("", token.userLabel)
            assertEquals(bank.serviceName, token.issuer)
            val now = System.currentTimeMillis()
            val code = store.codeAt(token.serial.compact, now).code
            // A code from another serial is refused; this token's own is accepted.
            val other = store.provision(bank.serverUrl, bank.serviceId)
            assertNotEquals(token.serial, other.serial)
            assertFalse(bank.register(user, other.serial.compact, code))
            assertTrue(bank.register(user, token.serial.grouped, code))
            val next = store.codeAt(token.serial.compact, now + token.otp.periodSeconds.toLong() * 1000).code
            assertTrue(bank.verify(user, next))
            assertFalse(bank.verify(user, next), "a code is accepted once")
        }
    }

    @Test
    fun thePinGuardsActivatedTokensAndWipeRemovesThem() {
        val user = TestServer.newUserId()
        val uri = bank.issueActivation(user, "start-1111")
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            val token = store.activateWithUri(uri, "start-1111")
            store.setPin("13579")
            store.lock()
            assertFailsWith<SoftTokenException.Locked> { store.code(token.serial.compact) }
            val first = assertFailsWith<SoftTokenException.WrongPin> { store.unlock("97531") }
            val second = assertFailsWith<SoftTokenException.WrongPin> { store.unlock("11111") }
            assertEquals(first.attemptsLeft - 1u, second.attemptsLeft)
            store.unlock("13579")
            assertCodesAreTheBanks(store, token, user)
            store.wipe()
            assertFalse(store.hasPin())
            assertEquals(emptyList(), store.tokens())
        }
    }

    @Test
    fun timeSyncLearnsEachServersOffset() {
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            assertEquals(emptyList(), store.syncTime())
            val token = store.provision(bank.serverUrl, bank.serviceId)
            val outcomes = store.syncTime()
            assertEquals(1, outcomes.size)
            val outcome = outcomes.single()
            assertEquals(bank.serverUrl, outcome.serverUrl)
            assertNull(outcome.failure)
            // Same machine, same clock: the offset is no more than the round trip.
            assertTrue(abs(outcome.clockOffsetMs!!) < 2_000, "offset ${outcome.clockOffsetMs}")
            assertEquals(outcome.clockOffsetMs, store.tokens().single().clockOffsetMs)
            assertTrue(abs(store.syncTokenTime(token.serial.grouped)) < 2_000)
            assertFailsWith<SoftTokenException.TokenNotFound> { store.syncTokenTime(otherSerial(token.serial.compact)) }
        }
    }

    @Test
    fun badInputIsNamedAndNothingIsSent() {
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            fun field(block: () -> Unit) = assertFailsWith<SoftTokenException.InvalidInput> { block() }.field
            val user = TestServer.newUserId()
            assertEquals(InputField.SERVER_URL, field { store.activate("http://bank.example", bank.serviceId, user, "start-1234") })
            assertEquals(InputField.SERVICE_ID, field { store.activate(bank.serverUrl, "no spaces", user, "start-1234") })
            assertEquals(InputField.USER_ID, field { store.activate(bank.serverUrl, bank.serviceId, "", "start-1234") })
            assertEquals(InputField.START_PASSWORD, field { store.activate(bank.serverUrl, bank.serviceId, user, "abc") })
            assertEquals(InputField.ACTIVATION_URI, field { store.activateWithUri("https://bank.example/activate", "start-1234") })
            assertEquals(InputField.ACTIVATION_URI, field { parseActivationUri("softtoken://activate?server=https://a.example&service=s") })
            assertEquals(InputField.SERVICE_ID, field { store.provision(bank.serverUrl, "bad/id") })
            // Nothing listens on port 1: the network error is reported as such.
            assertFailsWith<SoftTokenException.Network> { store.provision("http://127.0.0.1:1", bank.serviceId) }
            assertFailsWith<SoftTokenException.UnknownService> { store.provision(bank.serverUrl, "nosuchbank") }
            assertEquals(emptyList(), store.tokens())
        }
    }

    @Test
    fun activationsFromSeveralThreadsAtOnceAllLand() {
        val users = List(6) { TestServer.newUserId() }
        val uris = users.map { bank.issueActivation(it, "thread-pass") }
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            val pool = Executors.newFixedThreadPool(users.size)
            try {
                val tasks = uris.map { uri ->
                    Callable {
                        val token = store.activateWithUri(uri, "thread-pass")
                        // Reading codes and the list while other threads are on the network.
                        store.code(token.serial.compact)
                        store.tokens()
                        token
                    }
                }
                val tokens = pool.invokeAll(tasks).map { it.get(60, TimeUnit.SECONDS) }
                assertEquals(tokens.map { it.serial }.toSet(), store.tokens().map { it.serial }.toSet())
                assertEquals(users.toSet(), store.tokens().map { it.userLabel }.toSet())
                tokens.forEach { assertCodesAreTheBanks(store, it, it.userLabel) }
            } finally {
                pool.shutdown()
            }
        }
    }

    // The app's code confirms the token; the next step's code verifies (the server allows one
    // step of drift); a wrong code and a reused code are refused.
    private fun assertCodesAreTheBanks(store: TokenStore, token: TokenInfo, user: String) {
        val now = System.currentTimeMillis()
        val code = store.codeAt(token.serial.compact, now)
        assertEquals(token.otp.digits.toInt(), code.code.length)
        assertFalse(bank.confirm(user, wrong(code.code)))
        assertTrue(bank.confirm(user, code.code), "the bank confirms the app's code")
        val next = store.codeAt(token.serial.compact, now + token.otp.periodSeconds.toLong() * 1000)
        assertEquals(code.nextCode, next.code)
        assertTrue(bank.verify(user, next.code), "the bank verifies the app's next code")
        assertFalse(bank.verify(user, next.code), "a code is accepted once")
    }

    private fun wrong(code: String): String = code.map { if (it == '9') '0' else it + 1 }.joinToString("")

    private fun otherSerial(serial: String): String {
        while (true) {
            val s = jp.softtoken.core.generateSerial()
            if (s.compact != serial) return s.compact
        }
    }
}
