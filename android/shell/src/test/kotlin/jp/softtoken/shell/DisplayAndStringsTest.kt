// Display rules and texts, as the shell receives them from the core: codes grouped and spoken
// digit by digit, and each message's text in the app's language equal to the app's string
// resource. The full tables (every key in ja/en on Android and iOS, with its arguments) are
// checked by `cargo test -p softtoken-core` (app::messages); this drives one real view.
package jp.softtoken.shell

import java.io.File
import jp.softtoken.core.AppScreen
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

class DisplayAndStringsTest {
    private val repo = File(System.getenv("SOFTTOKEN_REPO") ?: error("SOFTTOKEN_REPO is not set (run android/test-shell.sh)"))
    private val clock = TestClock()
    private val board = FakePasteboard()

    private fun registered(language: String): AppModel {
        val config = TestWorld.config().copy(language = language)
        return testApp(TestWorld.newVault(), config, clock, board).apply {
            start()
            startRegistration()
        }
    }

    @Test
    fun codesAndSerialsAreGroupedAndSpokenDigitByDigit() {
        val app = registered("ja")
        val card = assertIs<AppScreen.TokenDetail>(app.state.screen).card
        val code = assertNotNull(card.code)
        // The digits are objects, not data-class fields: a view printed to a log shows no code.
        for (digits in listOf(code.plain, code.next.grouped().filter(Char::isDigit))) {
            assertFalse(app.state.toString().contains(digits), "a printed view shows no code")
            assertFalse(card.toString().contains(digits), "a printed card shows no code")
        }
        assertTrue(Regex("\\d{3} \\d{3}").matches(code.now.grouped()), code.now.grouped())
        assertEquals(code.now.grouped().filter(Char::isDigit).toList().chunked(3) { it.joinToString(" ") }.joinToString(", "), code.now.spoken())
        assertEquals("%d:%02d".format(code.secondsLeft / 60, code.secondsLeft % 60), code.countdown)
        assertTrue(Regex("SKTS \\w{4} \\w{4}").matches(card.token.serialGrouped), card.token.serialGrouped)
        assertEquals(card.token.serialGrouped.split(" ").joinToString(", ") { it.toList().joinToString(" ") }, card.token.serialSpoken)
    }

    @Test
    fun theCoresTextsAreTheAppsStringResourcesInBothLanguages() {
        for ((language, dir) in listOf("ja" to "values", "en" to "values-en")) {
            val app = registered(language)
            val serial = assertIs<AppScreen.TokenDetail>(app.state.screen).card.token.serial
            app.copyCode(serial)
            val notice = assertNotNull(app.state.notice)
            assertEquals(msg("info_code_copied", 60), notice.ka)
            val resource = assertNotNull(androidStrings(dir)[notice.key], "$dir lacks ${notice.key}")
            assertEquals(resource.replace("%1\$d", "60"), notice.text, "$language: ${notice.key}")
        }
    }

    private fun androidStrings(dir: String): Map<String, String> {
        val xml = File(repo, "android/app/src/main/res/$dir/strings.xml").readText()
        return Regex("<string name=\"(\\w+)\">(.*?)</string>").findAll(xml).associate { it.groupValues[1] to it.groupValues[2] }
    }
}
