// The Rust app model (softtoken_core::app) through the generated bindings (AppCore): the
// flows the shells will drive, against the real library and the real softtoken-server. Its
// behaviour is tested in Rust (crates/core/tests/app.rs); this proves the surface the
// shells see: events in, views out, the shell's clipboard and biometric callbacks, the
// ja/en texts, and a code the bank accepts.
package jp.softtoken.shell

import jp.softtoken.core.AppCore
import jp.softtoken.core.AppEvent
import jp.softtoken.core.AppScreen
import jp.softtoken.core.AppSettings
import jp.softtoken.core.AppShell
import jp.softtoken.core.AppView
import jp.softtoken.core.BiometricOutcome
import jp.softtoken.core.FirstUse
import jp.softtoken.core.TokenState
import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class AppCoreFlowTest {
    private val bank = TestWorld.bank
    private val clock = TestClock()
    private val board = FakePasteboard()
    private val keys = FakeBiometrics()
    private val views = LinkedBlockingQueue<AppView>()

    private val shell = object : AppShell {
        override fun render(view: AppView) {
            views.put(view)
        }
        override fun putOnClipboard(text: String) = board.putSensitive(text)
        override fun clipboardStillOurs(): Boolean? = board.stillOurs()
        override fun clearClipboard() = board.clear()
        override fun biometricAvailable(): Boolean = keys.available()
        override fun biometricEnrolled(): Boolean = keys.enrolled()
        override fun biometricEnroll(pin: ByteArray) = keys.enroll(pin).also { pin.fill(0) }
        override fun biometricRemove() = keys.remove()
    }

    private fun core(language: String = "ja"): AppCore {
        val settings = AppSettings(
            vaultPath = File(TestWorld.newVaultDir(), "tokens.vault").path,
            activationServer = bank.serverUrl,
            registrationServer = bank.serverUrl,
            registrationServiceId = bank.serviceId,
            bankDirectoryJson = null,
            language = language,
        )
        return AppCore.withClock(settings, KeyWrapperBridge(MemoryKeyWrapper()), shell, clock, 1000u)
            .also { it.send(AppEvent.Start) }
    }

    private fun AppCore.screen(): AppScreen = view().screen

    @Test
    fun anActivatedTokensCodeIsAcceptedByTheBankAndCopiedThroughTheShell() {
        val app = core()
        assertEquals(AppScreen.Tokens(emptyList()), app.screen())
        val user = TestWorld.newUserId()
        bank.issueActivation(user, "start-4821")
        app.send(AppEvent.StartActivation)
        app.send(AppEvent.SubmitActivation(bank.serviceId, user, "start-0000"))
        val wrong = assertIs<AppScreen.Activation>(app.screen())
        assertEquals("error_wrong_start_password", wrong.error?.key)
        assertTrue(wrong.error!!.text.startsWith("利用開始パスワードが違います"), wrong.error!!.text)

        app.send(AppEvent.SubmitActivation(bank.serviceId, user, "start-4821"))
        val done = assertIs<AppScreen.ActivationDone>(app.screen())
        assertEquals(TokenState.PENDING, done.token.state)
        app.send(AppEvent.ContinueAfterActivation)
        val detail = assertIs<AppScreen.TokenDetail>(app.screen())
        assertEquals(FirstUse.ACTIVATION, detail.firstUse)
        val code = assertNotNull(detail.card.code)
        assertTrue(Regex("\\S \\S \\S \\S, \\S \\S \\S \\S").matches(code.next.spoken()), code.next.spoken())

        // The copy is the core's: the shell's clipboard gets the plain code, cleared after 60 s.
        app.send(AppEvent.CopyCode(done.token.serial))
        assertEquals(code.now.grouped().replace(" ", ""), board.text)
        assertEquals("info_code_copied", app.view().notice?.key)
        assertTrue(bank.confirm(user, board.text!!), "the bank accepts the code the app shows")
        clock.ms += 60_000
        app.send(AppEvent.Tick)
        assertNull(board.text)
        assertTrue(views.isNotEmpty(), "the shell was told to draw")
    }

    @Test
    fun theLockTheBiometricKeyAndTheBanksRevocationAfterTheUnlock() {
        val app = core(language = "en")
        val user = TestWorld.newUserId()
        bank.issueActivation(user, "start-4821")
        app.send(AppEvent.StartActivation)
        app.send(AppEvent.SubmitActivation(bank.serviceId, user, "start-4821"))
        val serial = assertIs<AppScreen.ActivationDone>(app.screen()).token.serial
        app.send(AppEvent.OpenSettings)
        app.send(AppEvent.BeginSetPin)
        app.send(AppEvent.EnterPin("2468"))
        app.send(AppEvent.EnterPin("2468"))
        assertEquals("info_pin_set", app.view().notice?.key)
        assertEquals(PIN_SET_EN, app.view().notice?.text)
        app.send(AppEvent.BeginEnableBiometric)
        app.send(AppEvent.EnterPin("2468"))
        assertEquals("2468", keys.storedPin())

        bank.revoke(serial)
        app.send(AppEvent.Background)
        clock.ms += 11_000
        app.send(AppEvent.Tick)
        assertEquals(AppScreen.Unlock(null, 0, biometric = true), app.screen())
        val prompt = keys.prompt() as BiometricResult.Success
        app.send(AppEvent.Biometric(BiometricOutcome.Success(prompt.pin)))
        assertIs<AppScreen.Tokens>(app.screen())

        // The states are asked for in the background; the list redraws when they arrive.
        views.clear()
        while (app.view().refreshing) assertNotNull(views.poll(20, TimeUnit.SECONDS), "the refresh never ended")
        val card = assertIs<AppScreen.Tokens>(app.screen()).cards.single()
        assertEquals(TokenState.REVOKED, card.token.state)
        assertNull(card.code)
        assertEquals("hint_dead_revoked", card.whyDead?.key)
    }

    private companion object {
        const val PIN_SET_EN = "App lock is on."
    }
}
