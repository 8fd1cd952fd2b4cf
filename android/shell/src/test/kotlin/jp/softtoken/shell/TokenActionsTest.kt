// Living with a token: the countdown, the code changing, delete after the bank's revocation,
// time sync.
package jp.softtoken.shell

import jp.softtoken.core.AppScreen
import jp.softtoken.core.TokenCard
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

class TokenActionsTest {
    private val bank = TestWorld.bank
    private val clock = TestClock()
    private val app = testApp(TestWorld.newVault(), TestWorld.config(), clock).apply { start() }

    private fun registeredToken(): TokenCard {
        app.startRegistration()
        val card = assertIs<AppScreen.TokenDetail>(app.state.screen).card
        app.back()
        return card
    }

    @Test
    fun theCountdownFollowsTheClockAndTheCodeChangesWithTheStep() {
        registeredToken()
        // Put the device clock 20 s before the end of a 30 s step (the core adds its offset).
        val first = assertNotNull((app.state.screen as AppScreen.Tokens).cards.single().code)
        clock.ms += (first.secondsLeft - 20) * 1000L
        app.tick()
        val before = assertNotNull((app.state.screen as AppScreen.Tokens).cards.single().code)
        assertEquals(20L, before.secondsLeft)
        assertEquals("0:20", before.countdown)

        clock.ms += 15_000
        app.tick()
        val late = assertNotNull((app.state.screen as AppScreen.Tokens).cards.single().code)
        assertEquals(5L, late.secondsLeft)
        assertTrue(late.expiringSoon)
        assertEquals(before.plain, late.plain, "same step, same code")

        clock.ms += 5_000
        app.tick()
        val next = assertNotNull((app.state.screen as AppScreen.Tokens).cards.single().code)
        assertEquals(30L, next.secondsLeft)
        assertEquals(late.next.grouped(), next.now.grouped(), "the announced next code comes")
        assertNotEquals(late.plain, next.plain)
    }

    @Test
    fun deleteAsksFirstAndThenRemovesTheToken() {
        val card = registeredToken()
        app.openToken(card.token.serial)
        app.requestDelete(card.token.serial)
        assertEquals(AppScreen.ConfirmDelete(card.token), app.state.screen)
        app.back()
        assertIs<AppScreen.TokenDetail>(app.state.screen, "cancel keeps the token")

        app.requestDelete(card.token.serial)
        app.confirmDelete()
        assertEquals(AppScreen.Tokens(emptyList()), app.state.screen)
        assertEquals("info_token_deleted", app.state.notice?.key)
        app.openToken(card.token.serial)
        assertEquals("error_token_not_found", app.state.notice?.key)
    }

    @Test
    fun timeSyncKeepsTheCodeTheBankAccepts() {
        val card = registeredToken()
        val user = TestWorld.newUserId()
        app.openToken(card.token.serial)
        app.syncTime(card.token.serial)
        // In the background, beside the code (the core's tests prove it keeps running).
        app.awaitRefresh()
        assertEquals("info_time_synced", app.state.notice?.key)
        val code = assertNotNull(assertIs<AppScreen.TokenDetail>(app.state.screen).card.code)
        assertTrue(bank.register(user, card.token.serial, code.plain))
    }
}
