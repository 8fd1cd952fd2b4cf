// Activation mode end to end: the customer types service ID, user ID and start password (or
// scans the QR code), the app shows 初期設定完了 and then the 8-digit code, which the bank
// confirms. Real library, real server.
package jp.softtoken.shell

import jp.softtoken.core.AppScreen
import jp.softtoken.core.TokenState
import jp.softtoken.core.InputField
import jp.softtoken.core.FirstUse
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class ActivationFlowTest {
    private val bank = TestWorld.bank
    private val clock = TestClock()
    private val app = testApp(TestWorld.newVault(), TestWorld.config(), clock).apply { start() }

    @Test
    fun wrongThenRightStartPasswordActivatesAndTheBankConfirmsTheCode() {
        val user = TestWorld.newUserId()
        bank.issueActivation(user, "start-4821")
        assertEquals(AppScreen.Tokens(emptyList()), app.state.screen)

        app.addToken()
        app.startActivation()
        app.submitActivation(bank.serviceId, user, "start-0000")
        val wrong = assertIs<AppScreen.Activation>(app.state.screen)
        assertEquals("error_wrong_start_password", wrong.error?.key)
        assertEquals(InputField.START_PASSWORD, wrong.errorField)
        val attemptsLeft = wrong.error!!.args.single()
        assertTrue(attemptsLeft in 1..4, "attempts left after one wrong guess: $attemptsLeft")
        // The form keeps what was typed, except the password.
        assertEquals(user, wrong.userId)

        app.submitActivation(bank.serviceId, user, "start-4821")
        val done = assertIs<AppScreen.ActivationDone>(app.state.screen)
        assertEquals("info_activated", app.state.notice?.key)
        assertEquals(TokenState.PENDING, done.token.state)
        assertEquals(bank.serviceName, done.token.issuer)

        app.continueAfterActivation()
        val detail = assertIs<AppScreen.TokenDetail>(app.state.screen)
        assertEquals(FirstUse.ACTIVATION, detail.firstUse)
        val code = assertNotNull(detail.card.code)
        assertTrue(Regex("\\d{4} \\d{4}").matches(code.now.grouped()), "8 digits grouped 4+4: ${code.now.grouped()}")
        assertTrue(Regex("\\S \\S \\S \\S, \\S \\S \\S \\S").matches(code.now.spoken()), code.now.spoken())
        assertTrue(Regex("SKTS \\w{4} \\w{4}").matches(detail.card.token.serialGrouped))

        assertTrue(bank.confirm(user, code.plain), "the bank accepts the code the app shows")
        // Back from the first code goes to the list, not to a used form.
        assertTrue(app.back())
        assertIs<AppScreen.Tokens>(app.state.screen)
        assertEquals(listOf(done.token.serial), (app.state.screen as AppScreen.Tokens).cards.map { it.token.serial })
    }

    @Test
    fun scanningTheQrCodeFillsTheFormAndUsesItsServer() {
        val user = TestWorld.newUserId()
        val uri = bank.issueActivation(user, "qr-pass-77")
        // An app with no configured server: the QR code's server is the only one it knows.
        val qrOnly = testApp(TestWorld.newVault(), AppConfig(null, null, null), clock).apply { start() }

        qrOnly.scanned(uri)
        // No bank directory in this build: the server is shown and asked about first.
        assertIs<AppScreen.ConfirmServer>(qrOnly.state.screen)
        qrOnly.confirmServer()
        val form = assertIs<AppScreen.Activation>(qrOnly.state.screen)
        assertEquals(bank.serviceId, form.serviceId)
        assertEquals(user, form.userId)
        assertEquals(bank.serverUrl, form.scannedServer)

        qrOnly.submitActivation(form.serviceId, form.userId, "qr-pass-77")
        assertIs<AppScreen.ActivationDone>(qrOnly.state.screen)
    }

    @Test
    fun aQrCodeThatIsNoActivationIsRefusedWithAMessage() {
        app.startActivation()
        app.scanned("https://example.com/not-a-token")
        val form = assertIs<AppScreen.Activation>(app.state.screen)
        assertEquals(InputField.ACTIVATION_URI, form.errorField)
        assertEquals("error_invalid_activation_uri", form.error?.key)
    }

    @Test
    fun emptyFieldsAreCaughtBeforeTheNetwork() {
        app.startActivation()
        app.submitActivation(" ", "someone", "pw")
        val form = assertIs<AppScreen.Activation>(app.state.screen)
        assertEquals("error_required_field", form.error?.key)
        assertEquals(InputField.SERVICE_ID, form.errorField)
    }

    @Test
    fun anUnknownUserIsNotFound() {
        app.startActivation()
        app.submitActivation(bank.serviceId, TestWorld.newUserId(), "whatever-1")
        val form = assertIs<AppScreen.Activation>(app.state.screen)
        assertEquals("error_enrollment_not_found", form.error?.key)
        assertNull(app.state.notice)
    }

    @Test
    fun anUnreachableServerIsANetworkError() {
        val offline = testApp(TestWorld.newVault(), AppConfig("http://127.0.0.1:9", null, null), clock).apply { start() }
        offline.startActivation()
        offline.submitActivation("shellbank", "someone", "pw-123")
        assertEquals("error_network", assertIs<AppScreen.Activation>(offline.state.screen).error?.key)
    }
}
