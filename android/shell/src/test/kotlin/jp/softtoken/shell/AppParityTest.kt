// Both apps draw the core's screens (AppScreen) and offer the same taps: the Android app's
// screen switch covers every screen, and the Kotlin and Swift shells forward the same actions.
// Nothing compiles Swift or Compose here, so this test holds them together by name.
package jp.softtoken.shell

import java.io.File
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

class AppParityTest {
    private val repo = File(System.getenv("SOFTTOKEN_REPO") ?: error("SOFTTOKEN_REPO is not set (run android/test-shell.sh)"))
    private val kit = File(repo, "ios/SoftTokenKit/Sources/SoftTokenKit")

    @Test
    fun theAndroidAppDrawsEveryScreenTheCoreShows() {
        val generated = File(repo, "bindings/generated/kotlin/jp/softtoken/core/softtoken.kt").readText()
            .substringAfter("sealed class AppScreen {").substringBefore("\n}\n")
        val screens = Regex("^    (?:data class|object) (\\w+)", RegexOption.MULTILINE).findAll(generated)
            .map { it.groupValues[1] }.toSet()
        val root = File(repo, "android/app/src/main/kotlin/jp/softtoken/app/ui/AppRoot.kt").readText()
        val drawn = Regex("AppScreen\\.(\\w+) ->").findAll(root).map { it.groupValues[1] }.toSet()
        assertTrue(screens.size > 10, "the generated AppScreen was not found: $screens")
        assertEquals(screens, drawn)
    }

    @Test
    fun bothAppsOfferTheSameActions() {
        val kotlin = Regex("^    fun (\\w+)\\(", RegexOption.MULTILINE)
            .findAll(File(repo, "android/shell/src/main/kotlin/jp/softtoken/shell/AppModel.kt").readText().substringAfter("class AppModel("))
            .map { it.groupValues[1] }.toSet() - "addListener"
        val swift = Regex("public func (\\w+)\\(")
            .findAll(File(kit, "AppModel.swift").readText())
            .map { it.groupValues[1] }.toSet()
        assertEquals(kotlin, swift)
    }
}
