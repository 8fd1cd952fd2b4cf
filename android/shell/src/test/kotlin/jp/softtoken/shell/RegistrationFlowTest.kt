// Registration mode: the app creates a token and shows its serial and 6-digit code; the
// customer types both into internet banking, which registers the token to them.
package jp.softtoken.shell

import jp.softtoken.core.AppScreen
import jp.softtoken.core.FirstUse
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
        val app = testApp(TestWorld.newVault(), TestWorld.config(), clock).apply { start() }
        app.addToken()
        app.startRegistration()

        val detail = assertIs<AppScreen.TokenDetail>(app.state.screen)
        assertEquals(FirstUse.REGISTRATION, detail.firstUse)
        assertEquals("info_registration_ready", app.state.notice?.key)
        val code = assertNotNull(detail.card.code)
        assertTrue(Regex("\\d{3} \\d{3}").matches(code.now.grouped()), "6 digits grouped 3+3: ${code.now.grouped()}")

        // What a customer copies: the serial without spaces, exactly as grouped on screen.
        val serial = detail.card.token.serial
        assertEquals(serial, detail.card.token.serialGrouped.replace(" ", ""))
        val user = TestWorld.newUserId()
        assertTrue(bank.register(user, detail.card.token.serialGrouped, code.plain))
        app.serialCopied()
        assertEquals("info_serial_copied", app.state.notice?.key)
    }

    @Test
    fun aWrongCodeDoesNotRegister() {
        val app = testApp(TestWorld.newVault(), TestWorld.config(), clock).apply { start() }
        app.startRegistration()
        val detail = assertIs<AppScreen.TokenDetail>(app.state.screen)
        val code = assertNotNull(detail.card.code).plain
        val wrong = ((code.toInt() + 1) % 1_000_000).toString().padStart(6, '0')
        assertFalse(bank.register(TestWorld.newUserId(), detail.card.token.serial, wrong))
    }

    @Test
    fun anAppWithoutRegistrationSaysSo() {
        val app = testApp(TestWorld.newVault(), AppConfig(null, null, null), clock).apply { start() }
        app.startRegistration()
        assertEquals("error_registration_not_configured", app.state.notice?.key)
        assertEquals(AppScreen.Tokens(emptyList()), app.state.screen)
    }
}
