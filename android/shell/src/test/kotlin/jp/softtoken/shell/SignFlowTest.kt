// 取引確認 end to end: internet banking creates a transfer challenge through the real bank
// API, the app scans it, shows 振込先 and 金額, the customer confirms, and the bank accepts
// the app's code once, for that transfer only. Manual mode, refusals, the lock. Real library,
// real server.
package jp.softtoken.shell

import jp.softtoken.core.AppScreen
import jp.softtoken.core.TokenSummary
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class SignFlowTest {
    private val bank = TestWorld.bank
    private val clock = TestClock()
    private val app = testApp(TestWorld.newVault(), TestWorld.config(), clock).apply { start() }
    private val user = TestWorld.newUserId()

    // Activation mode, confirmed by the bank: the customer's token in use, on the token list.
    private fun activeToken(): TokenSummary {
        bank.issueActivation(user, "start-5150")
        app.addToken()
        app.startActivation()
        app.submitActivation(bank.serviceId, user, "start-5150")
        app.continueAfterActivation()
        val card = assertIs<AppScreen.TokenDetail>(app.state.screen).card
        assertTrue(bank.confirm(user, assertNotNull(card.code).plain))
        app.back()
        assertIs<AppScreen.Tokens>(app.state.screen)
        return card.token
    }

    private fun transfer(amount: Long = 50_000) =
        bank.createTransfer(user, "0012-3456789", "カ）ヤマダショウジ", amount, "JPY")

    @Test
    fun theScannedTransferIsShownConfirmedAndItsCodeIsAcceptedOnceForThatTransferOnly() {
        val token = activeToken()
        val t = transfer()
        app.scanned(t.payload)
        val confirm = assertIs<AppScreen.SignConfirm>(app.state.screen)
        assertEquals("カ）ヤマダショウジ", confirm.transfer.payeeName)
        assertEquals("50,000 JPY", confirm.transfer.displayAmount)
        assertEquals(t.maskedAccount, confirm.transfer.maskedAccount, "the account masked as the bank shows it")
        assertFalse(confirm.transfer.maskedAccount.contains("3456"), confirm.transfer.maskedAccount)
        assertEquals(token.serial, confirm.token.serial)

        app.confirmTransfer()
        val shown = assertIs<AppScreen.SignCode>(app.state.screen)
        val code = assertNotNull(shown.code).grouped()
        assertEquals(Core.SIGN_CODE_SECONDS, shown.secondsLeft)
        assertEquals("5:00" to 1f, shown.countdown to shown.remaining)
        assertTrue(Regex("\\d{8}").matches(code), code)
        assertEquals(code.toList().joinToString(" "), assertNotNull(shown.code).spoken())
        assertFalse(app.state.toString().contains(code), "a printed view shows no 取引確認 code")

        // A phisher who got this code asks for a transfer of his own: refused.
        val phished = transfer(amount = 990_000)
        assertFalse(bank.verifyTransfer(user, phished.id, code), "the code is bound to its amount")
        assertTrue(bank.verifyTransfer(user, t.id, code), "accepted for its transfer")
        assertFalse(bank.verifyTransfer(user, t.id, code), "accepted once")

        // Back leads past the confirmation (already answered) to the token list.
        assertTrue(app.back())
        assertIs<AppScreen.Tokens>(app.state.screen)
    }

    @Test
    fun aPhishedTimeCodeIsUselessForATransfer() {
        activeToken()
        val t = transfer()
        val totp = assertNotNull(assertIs<AppScreen.Tokens>(app.state.screen).cards.single().code).plain
        assertFalse(bank.verifyTransfer(user, t.id, totp))
    }

    @Test
    fun theCountdownRunsOutAndTheCodeIsWithdrawn() {
        activeToken()
        app.scanned(transfer().payload)
        app.confirmTransfer()
        clock.ms += 100_000
        app.tick()
        val running = assertIs<AppScreen.SignCode>(app.state.screen)
        assertEquals(Core.SIGN_CODE_SECONDS - 100, running.secondsLeft)
        assertEquals("3:20" to 200f / 300f, running.countdown to running.remaining)
        clock.ms += Core.SIGN_CODE_SECONDS * 1000
        app.tick()
        val expired = assertIs<AppScreen.SignCode>(app.state.screen)
        assertNull(expired.code)
        assertEquals(0L, expired.secondsLeft)
        app.finishSign()
        assertIs<AppScreen.Tokens>(app.state.screen)
    }

    @Test
    fun manualModeSignsTheTypedDigitsAndTheBankAcceptsTheCode() {
        val token = activeToken()
        val t = transfer(amount = 12_345)
        app.openToken(token.serial)
        app.startTypedSign(token.serial)
        assertIs<AppScreen.SignManual>(app.state.screen)

        app.submitTypedDigits("1234")
        assertEquals("error_sign_invalid_digits", assertIs<AppScreen.SignManual>(app.state.screen).error?.key)

        // Typed with the spacing a customer uses: the challenge number, the account's last 6
        // digits, then the amount (at most 24 digits).
        val d = t.manualDigits
        assertTrue(d.length <= 24 && d[0] != '0' && d.endsWith("45678912345"), d)
        app.submitTypedDigits("${d.substring(0, 6)} ${d.substring(6, 12)}-${d.substring(12)}")
        val shown = assertIs<AppScreen.SignCode>(app.state.screen)
        assertNull(shown.transfer)
        assertEquals(t.manualDigits, shown.typedDigits)
        val code = assertNotNull(shown.code).grouped()
        assertTrue(bank.verifyTransfer(user, t.id, code))

        app.back()
        assertIs<AppScreen.TokenDetail>(app.state.screen)
    }

    @Test
    fun malformedAndOtherBanksChallengesAreRefusedWithTheirReason() {
        activeToken()
        app.scanned("softtoken://sign?v=1&service=${bank.serviceId}&amount=abc")
        assertEquals("error_sign_malformed", assertIs<AppScreen.SignRefused>(app.state.screen).message.key)

        val other = transfer().payload.replace("service=${bank.serviceId}", "service=otherbank")
        assertNotEquals(transfer().payload, other)
        app.scanned(other)
        assertEquals("error_sign_other_bank", assertIs<AppScreen.SignRefused>(app.state.screen).message.key)
        app.finishSign()
        assertIs<AppScreen.Tokens>(app.state.screen)
    }

    @Test
    fun aSignLinkOpenedWhileLockedWaitsBehindTheLock() {
        activeToken()
        app.openSettings()
        app.beginSetPin()
        app.enterPin("4711")
        app.enterPin("4711")
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.tick()
        assertIs<AppScreen.Unlock>(app.state.screen)

        app.scanned(transfer().payload)
        assertIs<AppScreen.Unlock>(app.state.screen, "the transfer does not get past the lock")
        assertEquals("info_link_after_unlock", app.state.notice?.key)
        app.unlock("4711")
        assertEquals("50,000 JPY", assertIs<AppScreen.SignConfirm>(app.state.screen).transfer.displayAmount)
    }
}
