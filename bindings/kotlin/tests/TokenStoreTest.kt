// The token store through the bindings: the Kotlin KeyWrapper, lock state, PIN errors and
// their fields, wipe and reset, and calls from several threads at once.
package jp.softtoken.core.tests

import jp.softtoken.core.SoftTokenException
import jp.softtoken.core.TokenStore
import java.nio.file.Files
import java.nio.file.Path
import java.util.Collections
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

class TokenStoreTest {
    private val dir: Path = Files.createTempDirectory("softtoken-store-test")
    private val vault = dir.resolve("tokens.vault").toString()

    @AfterTest
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    @Test
    fun aNewStoreIsEmptyUnlockedAndUsesTheKotlinKeyWrapper() {
        val wrapper = AesKeyWrapper()
        TokenStore.open(vault, wrapper).use { store ->
            assertFalse(store.hasPin())
            assertFalse(store.isLocked())
            assertEquals(emptyList(), store.tokens())
        }
        assertEquals(1, wrapper.wraps.get())
        assertTrue(Files.size(Path.of(vault)) > 0)
        // Reopening unwraps the key the Kotlin side wrapped.
        TokenStore.open(vault, wrapper).use { assertEquals(emptyList(), it.tokens()) }
        assertEquals(1, wrapper.unwraps.get())
    }

    @Test
    fun wrongPinsCountDownAndTheRightOneUnlocks() {
        val wrapper = AesKeyWrapper()
        lateinit var first: SoftTokenException.WrongPin
        lateinit var third: SoftTokenException.WrongPin
        TokenStore.open(vault, wrapper).use { store ->
            store.setPin("2468")
            assertTrue(store.hasPin())
            assertFailsWith<SoftTokenException.PinAlreadySet> { store.setPin("1357") }
            store.lock()
            assertTrue(store.isLocked())
            assertFailsWith<SoftTokenException.Locked> { store.tokens() }

            first = assertFailsWith<SoftTokenException.WrongPin> { store.unlock("0000") }
            val second = assertFailsWith<SoftTokenException.WrongPin> { store.unlock("1111") }
            assertEquals(first.attemptsLeft - 1u, second.attemptsLeft)
            assertEquals(0uL, second.retryAfterSeconds)
            // A malformed PIN is refused without costing a try.
            assertFailsWith<SoftTokenException.InvalidPin> { store.unlock("12a4") }
            assertFailsWith<SoftTokenException.InvalidPin> { store.unlock("") }
            third = assertFailsWith<SoftTokenException.WrongPin> { store.unlock("2222") }
            assertEquals(second.attemptsLeft - 1u, third.attemptsLeft)
        }
        // The count survives a restart of the app; the right PIN then resets it.
        TokenStore.open(vault, wrapper).use { store ->
            assertTrue(store.isLocked())
            val fourth = assertFailsWith<SoftTokenException.WrongPin> { store.unlock("3333") }
            assertEquals(third.attemptsLeft - 1u, fourth.attemptsLeft)
            store.unlock("2468")
            assertFalse(store.isLocked())
            assertEquals(emptyList(), store.tokens())
            store.lock()
            val afterReset = assertFailsWith<SoftTokenException.WrongPin> { store.unlock("0000") }
            assertEquals(first.attemptsLeft, afterReset.attemptsLeft)
        }
    }

    @Test
    fun theBackOffIsTheStoresToCountDownAndSurvivesARestart() {
        val wrapper = AesKeyWrapper()
        TokenStore.open(vault, wrapper).use { store ->
            store.setPin("2468")
            store.lock()
            repeat(4) { assertFailsWith<SoftTokenException.WrongPin> { store.unlock("0000") } }
            assertEquals(0uL, store.pinRetryAfterSeconds())
            val fifth = assertFailsWith<SoftTokenException.WrongPin> { store.unlock("0000") }
            assertEquals(30uL, fifth.retryAfterSeconds)
            assertTrue(store.pinRetryAfterSeconds() in 1uL..30uL)
        }
        TokenStore.open(vault, wrapper).use { store ->
            val wait = store.pinRetryAfterSeconds()
            assertTrue(wait in 1uL..30uL, "a restart does not end the wait: $wait")
            val early = assertFailsWith<SoftTokenException.TooSoon> { store.unlock("2468") }
            assertTrue(early.retryAfterSeconds in 1uL..wait)
        }
    }

    @Test
    fun changeAndRemoveThePin() {
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            assertFailsWith<SoftTokenException.NoPin> { store.removePin("1234") }
            store.setPin("1234")
            assertFailsWith<SoftTokenException.WrongPin> { store.changePin("9999", "5678") }
            store.changePin("1234", "5678")
            store.lock()
            assertFailsWith<SoftTokenException.WrongPin> { store.unlock("1234") }
            store.unlock("5678")
            store.removePin("5678")
            assertFalse(store.hasPin())
            store.lock() // nothing to lock with: stays open
            assertFalse(store.isLocked())
        }
    }

    @Test
    fun wipeIsTheWayOutOfAForgottenPin() {
        val wrapper = AesKeyWrapper()
        TokenStore.open(vault, wrapper).use { store ->
            store.setPin("31415926")
            store.lock()
            store.wipe()
            assertFalse(store.hasPin())
            assertFalse(store.isLocked())
            assertEquals(emptyList(), store.tokens())
        }
        TokenStore.open(vault, wrapper).use { assertFalse(it.hasPin()) }
    }

    @Test
    fun unknownAndMistypedSerialsAreErrors() {
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            val serial = jp.softtoken.core.generateSerial()
            val missing = assertFailsWith<SoftTokenException.TokenNotFound> { store.code(serial.grouped) }
            assertEquals(serial.compact, missing.serial)
            assertFailsWith<SoftTokenException.TokenNotFound> { store.delete(serial.compact) }
            assertFailsWith<SoftTokenException.InvalidInput> { store.codeAt("SKTS", 0L) }
        }
    }

    @Test
    fun keyWrapperFailuresBecomeErrorsNotCrashes() {
        val wrapper = AesKeyWrapper()
        TokenStore.open(vault, wrapper).close()

        // An undeclared Kotlin exception reaches the app as KeyUnavailable, with its text.
        val thrown = assertFailsWith<SoftTokenException.KeyUnavailable> {
            TokenStore.open(vault, ThrowingKeyWrapper(wrapper))
        }
        assertTrue(thrown.detail.contains("keystore exploded"), thrown.detail)
        // A declared "unavailable" stays retryable...
        assertFailsWith<SoftTokenException.KeyUnavailable> { TokenStore.open(vault, UnavailableKeyWrapper()) }
        // ...and a platform key that no longer opens the vault is reported as lost.
        assertFailsWith<SoftTokenException.KeyLost> { TokenStore.open(vault, AesKeyWrapper()) }
        // The vault itself is untouched: the right wrapper still opens it.
        TokenStore.open(vault, wrapper).use { assertFalse(it.hasPin()) }
        // Even creating a vault goes through the wrapper.
        assertFailsWith<SoftTokenException.KeyUnavailable> {
            TokenStore.open(dir.resolve("other.vault").toString(), UnavailableKeyWrapper())
        }
    }

    @Test
    fun aDamagedFileIsReportedAndOnlyResetReplacesIt() {
        Files.write(Path.of(vault), "not a vault at all".toByteArray())
        assertFailsWith<SoftTokenException.CorruptVault> { TokenStore.open(vault, AesKeyWrapper()) }
        assertEquals("not a vault at all", Files.readString(Path.of(vault)))
        val wrapper = AesKeyWrapper()
        TokenStore.reset(vault, wrapper).use { assertEquals(emptyList(), it.tokens()) }
        TokenStore.open(vault, wrapper).use { assertFalse(it.isLocked()) }
    }

    @Test
    fun oneStoreServesManyThreadsAtOnce() {
        TokenStore.open(vault, AesKeyWrapper()).use { store ->
            store.setPin("8642")
            store.lock()
            val pool = Executors.newFixedThreadPool(6)
            try {
                // Three wrong PINs at the same moment are counted one by one: no try is lost.
                val left = pool.invokeAll(List(3) { i ->
                    Callable {
                        assertFailsWith<SoftTokenException.WrongPin> { store.unlock("000$i") }.attemptsLeft
                    }
                }).map { it.get(60, TimeUnit.SECONDS) }
                assertEquals(3, left.toSet().size, "attempts left seen: $left")
                assertEquals(left.max() - 2u, left.min())

                // Readers and unlockers interleave freely.
                val errors = Collections.synchronizedList(mutableListOf<Throwable>())
                pool.invokeAll(List(12) { i ->
                    Callable {
                        try {
                            if (i % 3 == 0) store.unlock("8642")
                            store.hasPin()
                            store.isLocked()
                        } catch (e: Throwable) {
                            errors.add(e)
                        }
                    }
                }).forEach { it.get(60, TimeUnit.SECONDS) }
                assertEquals(emptyList(), errors)
                assertFalse(store.isLocked())
                assertEquals(emptyList(), store.tokens())
            } finally {
                pool.shutdownNow()
            }
        }
    }
}
