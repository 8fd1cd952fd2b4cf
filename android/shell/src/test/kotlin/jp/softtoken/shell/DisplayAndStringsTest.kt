// Display rules, and the string resources of both apps: every message key the shell can
// produce exists in Japanese and English on Android and iOS, with the same arguments.
package jp.softtoken.shell

import java.io.File
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

class DisplayAndStringsTest {
    private val repo = File(System.getenv("SOFTTOKEN_REPO") ?: error("SOFTTOKEN_REPO is not set (run android/test-shell.sh)"))

    @Test
    fun codesAreSpokenDigitByDigit() {
        assertEquals("1 2 3, 4 5 6", CodeDisplay.spoken("123 456"))
        assertEquals("S K T S, 1 2 3 4, 5 6 7 8", CodeDisplay.spoken("SKTS 1234 5678"))
        assertEquals("0:58", CodeDisplay.countdown(58))
        assertEquals("1:00", CodeDisplay.countdown(60))
    }

    @Test
    fun codesStayOutOfLogs() {
        val snapshot = CodeSnapshot("94287082", "9428 7082", 12, 60, "07081804", "0708 1804")
        val view = CodeView(snapshot)
        assertEquals("9428 7082", view.grouped)
        assertEquals("9 4 2 8, 7 0 8 2", view.spoken)
        assertEquals("0 7 0 8, 1 8 0 4", view.nextSpoken)
        assertFalse("9428" in view.toString() || "0708" in view.toString())
        assertFalse("9428" in snapshot.toString())
    }

    @Test
    fun everyMessageKeyExistsInEveryLanguageWithItsArguments() {
        val android = mapOf(
            "android ja" to androidStrings("values"),
            "android en" to androidStrings("values-en"),
        )
        val ios = mapOf(
            "ios ja" to iosStrings("ja"),
            "ios en" to iosStrings("en"),
        )
        for ((name, strings) in android + ios) {
            for (key in MessageKey.entries) {
                val text = strings[key.resourceName]
                assertTrue(text != null, "$name lacks ${key.resourceName}")
                assertEquals((1..key.argCount).toList(), placeholders(text), "$name ${key.resourceName}: $text")
            }
        }
        // Both apps and both languages carry the same set of keys.
        val keySets = (android + ios).mapValues { it.value.keys }
        keySets.values.forEach { assertEquals(keySets.getValue("android ja"), it) }
    }

    @Test
    fun swiftMessageKeysMatchKotlin() {
        val swift = File(repo, "ios/SoftTokenKit/Sources/SoftTokenKit/Messages.swift").readText()
        val raw = Regex("case \\w+ = \"(\\w+)\"").findAll(swift).map { it.groupValues[1] }.toSet()
        assertEquals(MessageKey.entries.map { it.resourceName }.toSet(), raw)
    }

    private fun androidStrings(dir: String): Map<String, String> {
        val xml = File(repo, "android/app/src/main/res/$dir/strings.xml").readText()
        return Regex("<string name=\"(\\w+)\">(.*?)</string>").findAll(xml).associate { it.groupValues[1] to it.groupValues[2] }
    }

    private fun iosStrings(lang: String): Map<String, String> {
        val text = File(repo, "ios/App/Resources/$lang.lproj/Localizable.strings").readText()
        return Regex("^\"(\\w+)\" = \"(.*)\";$", RegexOption.MULTILINE).findAll(text)
            .associate { it.groupValues[1] to it.groupValues[2] }
    }

    // The positions of %1$d / %1$ld placeholders, in order of position.
    private fun placeholders(text: String): List<Int> =
        Regex("%(\\d)[$]l{0,2}d").findAll(text).map { it.groupValues[1].toInt() }.toSortedSet().toList()
}
