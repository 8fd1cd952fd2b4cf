// The app lock (アプリロック): set, lock on leaving, wrong PINs with attempts left and
// back-off, unlock, change, turn off, the forgotten-PIN reset; and the vault's platform key
// failing. Real library; no server needed.
package jp.softtoken.shell

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue

class AppLockFlowTest {
    private val clock = TestClock()
    private val opener = TestWorld.newOpener()
    private val app = AppModel(opener, NO_SERVER, clock).apply { start() }

    private fun setPin(pin: String) {
        app.openSettings()
        app.beginSetPin()
        app.enterPin(pin)
        app.enterPin(pin)
    }

    // Leaves the app for longer than the lock's grace period, and comes back.
    private fun leaveApp() {
        app.onBackground()
        clock.ms += AppModel.LOCK_GRACE_MS
        app.onForeground()
    }

    @Test
    fun settingThePinNeedsTheSameCodeTwice() {
        app.openSettings()
        assertEquals(Screen.Settings(lockOn = false), app.state.screen)
        app.beginSetPin()
        assertEquals(Screen.PinEntry(PinPurpose.SET, PinStep.NEW, null), app.state.screen)
        app.enterPin("2468")
        app.enterPin("2469")
        assertEquals(Screen.PinEntry(PinPurpose.SET, PinStep.NEW, Message(MessageKey.PIN_MISMATCH)), app.state.screen)
        app.enterPin("2468")
        app.enterPin("2468")
        assertEquals(Screen.Settings(lockOn = true), app.state.screen)
        assertEquals(MessageKey.PIN_SET, app.state.notice?.key)
    }

    @Test
    fun aMalformedPinIsRefusedByTheCore() {
        app.openSettings()
        app.beginSetPin()
        // Full-width digits look like digits but are not ASCII: the core refuses them.
        app.enterPin("１２３４")
        app.enterPin("１２３４")
        assertEquals(Screen.PinEntry(PinPurpose.SET, PinStep.NEW, Message(MessageKey.INVALID_PIN)), app.state.screen)
        app.back()
        assertEquals(Screen.Settings(lockOn = false), app.state.screen)
    }

    @Test
    fun leavingLocksAndWrongPinsCountDownThenBackOff() {
        setPin("13579")
        leaveApp()
        assertEquals(Screen.Unlock(null, 0), app.state.screen)

        // The first wrong PINs are free: attempts left fall, no wait.
        val attempts = mutableListOf<Long>()
        var screen = app.state.screen as Screen.Unlock
        while (screen.waitSeconds == 0L) {
            app.unlock("00000")
            screen = assertIs<Screen.Unlock>(app.state.screen)
            val error = screen.error!!
            attempts += error.args.first()
            if (error.key == MessageKey.WRONG_PIN) assertEquals(0L, screen.waitSeconds)
            assertTrue(attempts.size <= 10, "a back-off must come: $attempts")
        }
        assertEquals((attempts.first() downTo 0L).toList(), attempts, "one attempt fewer each time")
        // Then the pad closes for the core's back-off, and says for how long (the core counts
        // down on the device clock while the PIN key derivation runs: a second may pass).
        val wait = screen.error!!
        assertEquals(MessageKey.WRONG_PIN_WAIT, wait.key)
        assertTrue(screen.waitSeconds in 1..wait.args[1], "${screen.waitSeconds} of ${wait.args[1]}")

        app.unlock("13579")
        val refused = assertIs<Screen.Unlock>(app.state.screen)
        assertEquals(MessageKey.PIN_WAIT, refused.error?.key)
        assertEquals(listOf(refused.waitSeconds), refused.error?.args)
        assertTrue(refused.waitSeconds in 1..screen.waitSeconds)

        // The wait is the core's: the app's clock does not end it, and neither does a restart.
        clock.ms += screen.waitSeconds * 1000
        app.tick()
        assertTrue((app.state.screen as Screen.Unlock).waitSeconds > 0)
        val restarted = AppModel(opener, NO_SERVER, clock).apply { start() }
        val shown = assertIs<Screen.Unlock>(restarted.state.screen)
        assertTrue(shown.waitSeconds > 0, "the pad stays closed after a restart")
    }

    @Test
    fun theRightPinUnlocks() {
        setPin("24680")
        leaveApp()
        app.unlock("11111")
        assertEquals(Message(MessageKey.WRONG_PIN, 4), (app.state.screen as Screen.Unlock).error)
        app.unlock("24680")
        assertIs<Screen.Tokens>(app.state.screen)
    }

    @Test
    fun changeThenTurnOffThePin() {
        setPin("1111")
        app.beginChangePin()
        app.enterPin("9999") // wrong current PIN: found out at the end, so the flow restarts
        app.enterPin("2222")
        app.enterPin("2222")
        val retry = assertIs<Screen.PinEntry>(app.state.screen)
        assertEquals(PinStep.CURRENT, retry.step)
        assertEquals(Message(MessageKey.WRONG_PIN, 4), retry.error)

        app.enterPin("1111")
        app.enterPin("2222")
        app.enterPin("2222")
        assertEquals(Screen.Settings(lockOn = true), app.state.screen)
        assertEquals(MessageKey.PIN_CHANGED, app.state.notice?.key)

        leaveApp()
        app.unlock("2222")
        assertIs<Screen.Tokens>(app.state.screen)

        app.openSettings()
        app.beginRemovePin()
        app.enterPin("2222")
        assertEquals(Screen.Settings(lockOn = false), app.state.screen)
        leaveApp()
        assertIs<Screen.Settings>(app.state.screen, "no lock screen once the lock is off")
    }

    @Test
    fun aForgottenPinIsReset() {
        setPin("8642")
        leaveApp()

        app.forgotPin()
        assertEquals(Screen.ConfirmReset, app.state.screen)
        app.back()
        assertIs<Screen.Unlock>(app.state.screen, "cancel keeps the lock")
        app.forgotPin()
        app.confirmReset()

        assertEquals(Screen.Tokens(emptyList()), app.state.screen)
        assertEquals(MessageKey.APP_RESET, app.state.notice?.key)
        // The reset also removed the PIN, and a restart finds the empty, unlocked vault.
        val restarted = AppModel(opener, NO_SERVER, clock).apply { start() }
        assertEquals(Screen.Tokens(emptyList()), restarted.state.screen)
    }

    @Test
    fun aRestartWithTheLockOnAsksForThePin() {
        setPin("5555")
        val restarted = AppModel(opener, NO_SERVER, clock).apply { start() }
        assertEquals(Screen.Unlock(null, 0), restarted.state.screen)
        restarted.unlock("5555")
        assertIs<Screen.Tokens>(restarted.state.screen)
    }

    @Test
    fun aLockedDeviceKeyIsReportedAndRetried() {
        val keys = MemoryKeyWrapper()
        val opener = TestWorld.newOpener(keys)
        AppModel(opener, NO_SERVER, clock).start() // creates the vault, wrapping its key

        keys.unavailable = true
        val app = AppModel(opener, NO_SERVER, clock)
        app.start()
        assertEquals(Screen.Broken(Message(MessageKey.KEY_UNAVAILABLE)), app.state.screen)

        keys.unavailable = false
        app.retry()
        assertEquals(Screen.Tokens(emptyList()), app.state.screen)
    }

    @Test
    fun aLostDeviceKeyLeadsToTheReset() {
        val dir = TestWorld.newVaultDir()
        AppModel(FfiTokenCore.opener(dir, MemoryKeyWrapper()), NO_SERVER, clock).start()
        // Another key: what the Keystore holds after the screen lock was removed.
        val replaced = FfiTokenCore.opener(dir, MemoryKeyWrapper())

        val app = AppModel(replaced, NO_SERVER, clock)
        app.start()
        assertEquals(Screen.Broken(Message(MessageKey.KEY_LOST)), app.state.screen)
        app.requestReset()
        app.confirmReset()
        assertEquals(Screen.Tokens(emptyList()), app.state.screen)
        assertEquals(MessageKey.APP_RESET, app.state.notice?.key)
    }

    private companion object {
        val NO_SERVER = AppConfig(null, null, null)
    }
}
