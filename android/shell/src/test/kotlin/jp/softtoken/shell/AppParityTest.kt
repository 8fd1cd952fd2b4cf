// The iOS app's flows are the Swift twin of this module (ios/SoftTokenKit): same screens,
// same actions. Nothing compiles Swift here, so this test holds the two together by name.
package jp.softtoken.shell

import java.io.File
import kotlin.test.Test
import kotlin.test.assertEquals

class AppParityTest {
    private val repo = File(System.getenv("SOFTTOKEN_REPO") ?: error("SOFTTOKEN_REPO is not set (run android/test-shell.sh)"))
    private val kit = File(repo, "ios/SoftTokenKit/Sources/SoftTokenKit")

    @Test
    fun bothAppsHaveTheSameScreens() {
        val kotlinScreens = File(repo, "android/shell/src/main/kotlin/jp/softtoken/shell/Screens.kt").readText()
            .substringAfter("sealed interface Screen").substringBefore("\n}\n")
        val kotlin = Regex("data (?:class|object) (\\w+)").findAll(kotlinScreens)
            .map { it.groupValues[1].replaceFirstChar(Char::lowercase) }.toSet()
        val swiftEnum = File(kit, "Screens.swift").readText().substringAfter("public enum Screen").substringBefore("\n}\n")
        val swift = Regex("^\\s*case (\\w+)", RegexOption.MULTILINE).findAll(swiftEnum).map { it.groupValues[1] }.toSet()
        assertEquals(kotlin, swift)
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
