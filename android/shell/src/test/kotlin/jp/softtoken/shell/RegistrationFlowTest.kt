// Registration mode: the app creates a token and shows its serial and 6-digit code; the
// customer types both into internet banking, which registers the token to them.
package jp.softtoken.shell

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

class RegistrationFlowTest {
    private val bank = TestWorld.bank
    private val clock = TestClock()

    @Test
    fun serialAndCodeRegisterTheToken() {
        val app = AppModel(TestWorld.newOpener(), TestWorld.config(), clock).apply { start() }
        app.addToken()
        app.startRegistration()

        val detail = assertIs<Screen.TokenDetail>(app.state.screen)
        assertEquals(FirstUse.REGISTRATION, detail.firstUse)
        assertEquals(MessageKey.REGISTERED, app.state.notice?.key)
        val code = assertNotNull(detail.card.code)
        assertTrue(Regex("\\d{3} \\d{3}").matches(code.grouped), "6 digits grouped 3+3: ${code.grouped}")

        // What a customer copies: the serial without spaces, exactly as grouped on screen.
        val serial = detail.card.token.serial
        assertEquals(serial, detail.card.token.serialGrouped.replace(" ", ""))
        val user = TestWorld.newUserId()
        assertTrue(bank.register(user, detail.card.token.serialGrouped, code.plain))
        app.serialCopied()
        assertEquals(MessageKey.SERIAL_COPIED, app.state.notice?.key)
    }

    @Test
    fun aWrongCodeDoesNotRegister() {
        val app = AppModel(TestWorld.newOpener(), TestWorld.config(), clock).apply { start() }
        app.startRegistration()
        val detail = assertIs<Screen.TokenDetail>(app.state.screen)
        val code = assertNotNull(detail.card.code).plain
        val wrong = ((code.toInt() + 1) % 1_000_000).toString().padStart(6, '0')
        assertFalse(bank.register(TestWorld.newUserId(), detail.card.token.serial, wrong))
    }

    @Test
    fun anAppWithoutRegistrationSaysSo() {
        val app = AppModel(TestWorld.newOpener(), AppConfig(null, null, null), clock).apply { start() }
        app.startRegistration()
        assertEquals(MessageKey.NOT_CONFIGURED, app.state.notice?.key)
        assertEquals(Screen.Tokens(emptyList()), app.state.screen)
    }
}
