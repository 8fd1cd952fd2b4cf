// Issue 16 item 1 in the app: after unlock (and on pull to refresh) the app learns from the
// real server what became of each token, shows 「利用中」 for an active one, and a dead one
// (revoked, stopped, replaced) with no code, why, what to do, and delete.
package jp.softtoken.shell

import jp.softtoken.core.AppScreen
import jp.softtoken.core.TokenState
import jp.softtoken.core.TokenCard
import java.io.File
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import kotlin.concurrent.thread
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class TokenStatusFlowTest {
    private val bank = TestWorld.bank
    private val clock = TestClock()
    private val vault = TestWorld.newVault()
    private val app = testApp(vault, TestWorld.config(), clock).apply { start() }
    private val proxies = mutableListOf<Relay>()

    @AfterTest
    fun closeRelays() = proxies.forEach { it.close() }

    // Activation mode for [user]: the token on the list, pending until the bank confirms.
    private fun activate(user: String, startPassword: String): TokenCard {
        bank.issueActivation(user, startPassword)
        app.addToken()
        app.startActivation()
        app.submitActivation(bank.serviceId, user, startPassword)
        app.continueAfterActivation()
        val card = assertIs<AppScreen.TokenDetail>(app.state.screen).card
        app.back()
        return card
    }

    private fun refresh() {
        app.refreshStates()
        app.awaitRefresh()
    }

    private fun cards() = assertIs<AppScreen.Tokens>(app.state.screen).cards

    private fun card(serial: String) = cards().single { it.token.serial == serial }

    // The app opened again over the same vault, with the app lock on: the PIN, then the list.
    private fun reopenAndUnlock(pin: String): AppModel {
        val again = testApp(vault, TestWorld.config(), clock)
        again.start()
        assertIs<AppScreen.Unlock>(again.state.screen)
        again.unlock(pin)
        again.awaitRefresh()
        return again
    }

    private fun setPin(pin: String) {
        app.openSettings()
        app.beginSetPin()
        app.enterPin(pin)
        app.enterPin(pin)
        app.back()
    }

    @Test
    fun aConfirmedTokenShowsInUseAndItsCode() {
        val user = TestWorld.newUserId()
        val token = activate(user, "start-1601")
        assertEquals(TokenState.PENDING, card(token.token.serial).token.state)
        assertTrue(bank.confirm(user, assertNotNull(token.code).plain))

        refresh()
        val active = card(token.token.serial)
        assertEquals(TokenState.ACTIVE, active.token.state)
        assertEquals(msg("label_status_active"), active.status.ka)
        assertNotNull(active.code)
        assertNull(active.whyDead)
        assertNull(app.state.notice, "a refresh that reached the server says nothing")
        assertEquals("利用中", stringsJa()["label_status_active"])
    }

    @Test
    fun aRevokedTokenAfterUnlockShowsWhyWithoutACodeAndDeleteRemovesIt() {
        val user = TestWorld.newUserId()
        val token = activate(user, "start-1602")
        setPin("1357")
        bank.revoke(token.token.serial)

        val again = reopenAndUnlock("1357")
        val dead = assertIs<AppScreen.Tokens>(again.state.screen).cards.single()
        assertEquals(TokenState.REVOKED, dead.token.state)
        assertNull(dead.code, "a revoked token shows no code")
        assertEquals(msg("hint_dead_revoked"), dead.whyDead.ka)
        assertEquals(msg("label_status_revoked"), dead.status.ka)

        again.openToken(dead.token.serial)
        val detail = assertIs<AppScreen.TokenDetail>(again.state.screen)
        assertNull(detail.card.code)
        again.requestDelete(dead.token.serial)
        assertIs<AppScreen.ConfirmDelete>(again.state.screen)
        again.confirmDelete()
        assertEquals(AppScreen.Tokens(emptyList()), again.state.screen)
        assertEquals("info_token_deleted", again.state.notice?.key)
    }

    @Test
    fun aStoppedTokenSaysToActivateAgain() {
        val user = TestWorld.newUserId()
        val token = activate(user, "start-1603")
        val code = assertNotNull(token.code)
        assertTrue(bank.confirm(user, code.plain))
        // The stop needs a code the bank has not seen: the next step's.
        assertTrue(bank.stop(user, code.next.grouped().filter(Char::isDigit)))
        setPin("2468")

        val again = reopenAndUnlock("2468")
        val dead = assertIs<AppScreen.Tokens>(again.state.screen).cards.single()
        assertEquals(TokenState.STOPPED, dead.token.state)
        assertNull(dead.code)
        assertEquals(msg("hint_dead_stopped"), dead.whyDead.ka)
        assertEquals(msg("label_status_stopped"), dead.status.ka)
    }

    @Test
    fun aReactivationMarksTheOldTwinReplacedAndTheNewOneLives() {
        val user = TestWorld.newUserId()
        val old = activate(user, "start-1604")
        val new = activate(user, "start-1605")
        assertEquals(2, cards().size, "two identical entries before the app asks")

        refresh()
        val dead = card(old.token.serial)
        assertEquals(TokenState.REPLACED, dead.token.state)
        assertNull(dead.code)
        assertEquals(msg("hint_dead_replaced"), dead.whyDead.ka)
        val alive = card(new.token.serial)
        assertEquals(TokenState.PENDING, alive.token.state)
        assertNotNull(alive.code)
    }

    @Test
    fun anUnreachableServerKeepsTheLastStatesWithOneQuietNotice() {
        // Registration mode through a relay to the real server, so the server can vanish.
        val relay = Relay(bank.serverUrl).also { proxies += it }
        val app = testApp(TestWorld.newVault(), AppConfig(relay.url, relay.url, bank.serviceId), clock).apply { start() }
        app.startRegistration()
        val card = assertIs<AppScreen.TokenDetail>(app.state.screen).card
        app.back()
        assertTrue(bank.register(TestWorld.newUserId(), card.token.serial, assertNotNull(card.code).plain))
        app.refreshStates()
        app.awaitRefresh()
        assertEquals(TokenState.ACTIVE, assertIs<AppScreen.Tokens>(app.state.screen).cards.single().token.state)

        relay.close()
        app.refreshStates()
        app.awaitRefresh()
        val kept = assertIs<AppScreen.Tokens>(app.state.screen).cards.single()
        assertEquals(TokenState.ACTIVE, kept.token.state, "the last known state stays")
        assertNotNull(kept.code)
        assertEquals(msg("info_states_unreachable"), app.state.notice.ka)
        assertEquals(false, app.state.busy)
    }

    private fun stringsJa(): Map<String, String> {
        val repo = File(System.getenv("SOFTTOKEN_REPO") ?: error("SOFTTOKEN_REPO is not set (run android/test-shell.sh)"))
        val xml = File(repo, "android/app/src/main/res/values/strings.xml").readText()
        return Regex("<string name=\"(\\w+)\">(.*?)</string>").findAll(xml).associate { it.groupValues[1] to it.groupValues[2] }
    }
}

/** A loopback TCP relay to [target] (`http://host:port`): closing it makes the server unreachable. */
private class Relay(target: String) : AutoCloseable {
    private val host = target.substringAfter("://").substringBefore(':')
    private val port = target.substringAfterLast(':').trimEnd('/').toInt()
    private val server = ServerSocket(0, 50, InetAddress.getLoopbackAddress())
    private val sockets = mutableListOf<Socket>()

    /** The relay's URL, for the app. */
    val url = "http://127.0.0.1:${server.localPort}"

    init {
        thread(isDaemon = true) {
            // accept() throws once close() closed the listening socket: the loop ends there.
            runCatching {
                while (!server.isClosed) {
                    val client = server.accept()
                    val upstream = Socket(host, port)
                    synchronized(sockets) {
                        sockets += client
                        sockets += upstream
                    }
                    pipe(client, upstream)
                    pipe(upstream, client)
                }
            }
        }
    }

    private fun pipe(from: Socket, to: Socket) = thread(isDaemon = true) {
        try {
            from.getInputStream().copyTo(to.getOutputStream())
        } catch (e: java.io.IOException) {
            // The other side closed: so does this one.
        } finally {
            runCatching { to.shutdownOutput() }
        }
    }

    override fun close() {
        server.close()
        synchronized(sockets) { sockets.forEach { runCatching { it.close() } } }
    }
}
