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
            .substringAfter("sealed class AppScreen").substringAfter("{").substringBefore("\n}\n")
        val screens = Regex("^    (?:data class|object) (\\w+)", RegexOption.MULTILINE).findAll(generated)
            .map { it.groupValues[1] }.toSet()
        val root = File(repo, "android/app/src/main/kotlin/jp/softtoken/app/ui/AppRoot.kt").readText()
        val drawn = Regex("AppScreen\\.(\\w+) ->").findAll(root).map { it.groupValues[1] }.toSet()
        assertTrue(screens.size > 10, "the generated AppScreen was not found: $screens")
        assertEquals(screens, drawn)
    }

    @Test
    fun bothAppsActOnlyThroughTheCoresEvents() {
        // Both shells hold no behaviour of their own: every Kotlin action is a one-line
        // forward of an AppEvent, and the Swift model takes the same AppEvent values, so the
        // actions the two apps offer are the core's enum, the same on both sides by construction.
        val model = File(repo, "android/shell/src/main/kotlin/jp/softtoken/shell/AppModel.kt").readText()
            .substringAfter("class AppModel(")
        val actions = Regex("^    fun (\\w+)\\(([^)]*)\\)(.*)$", RegexOption.MULTILINE).findAll(model).toList()
        val forwards = actions.filter { it.groupValues[3].contains("send(AppEvent.") }
        assertTrue(forwards.size >= 30, "expected the actions as AppEvent forwards, found ${forwards.size}")
        val swift = File(kit, "AppModel.swift").readText()
        assertTrue(Regex("public func send\\(_ event: AppEvent\\)").containsMatchIn(swift), "Swift's model takes AppEvent")
        assertTrue(swift.contains("core.send(event:"), "Swift forwards its events to the core")
    }
}
