// The app lock (アプリロック): set, lock on leaving, wrong PINs with attempts left and
// back-off, unlock, change, turn off, the forgotten-PIN reset; and the vault's platform key
// failing. Real library (AppCore); no server needed.
package jp.softtoken.shell

import jp.softtoken.core.AppScreen
import jp.softtoken.core.PinPurpose
import jp.softtoken.core.PinStep
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue

class AppLockFlowTest {
    private val clock = TestClock()
    private val vault = TestWorld.newVault()
    private val app = testApp(vault, NO_SERVER, clock).apply { start() }

    private fun setPin(pin: String) {
        app.openSettings()
        app.beginSetPin()
        app.enterPin(pin)
        app.enterPin(pin)
    }

    // Leaves the app for longer than the lock's grace period, and comes back.
    private fun leaveApp() {
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.onForeground()
    }

    @Test
    fun settingThePinNeedsTheSameCodeTwice() {
        app.openSettings()
        assertEquals(AppScreen.Settings(lockOn = false, biometricOn = false, biometricAvailable = false), app.state.screen)
        app.beginSetPin()
        assertEquals(AppScreen.PinEntry(PinPurpose.SET, PinStep.NEW, null), app.state.screen)
        app.enterPin("2468")
        app.enterPin("2469")
        assertPinEntry(PinPurpose.SET, PinStep.NEW, msg("error_pin_mismatch"))
        app.enterPin("2468")
        app.enterPin("2468")
        assertEquals(AppScreen.Settings(lockOn = true, biometricOn = false, biometricAvailable = false), app.state.screen)
        assertEquals("info_pin_set", app.state.notice?.key)
    }

    @Test
    fun aMalformedPinIsRefusedByTheCore() {
        app.openSettings()
        app.beginSetPin()
        // Full-width digits look like digits but are not ASCII: the core refuses them.
        app.enterPin("１２３４")
        app.enterPin("１２３４")
        assertPinEntry(PinPurpose.SET, PinStep.NEW, msg("error_invalid_pin"))
        app.back()
        assertEquals(AppScreen.Settings(lockOn = false, biometricOn = false, biometricAvailable = false), app.state.screen)
    }

    @Test
    fun leavingLocksAndWrongPinsCountDownThenBackOff() {
        setPin("13579")
        leaveApp()
        assertEquals(AppScreen.Unlock(null, 0, biometric = false), app.state.screen)

        // The first wrong PINs are free: attempts left fall, no wait.
        val attempts = mutableListOf<Long>()
        var screen = app.state.screen as AppScreen.Unlock
        while (screen.waitSeconds == 0L) {
            app.unlock("00000")
            screen = assertIs<AppScreen.Unlock>(app.state.screen)
            val error = screen.error!!
            attempts += error.args.first()
            if (error.key == "error_wrong_pin") assertEquals(0L, screen.waitSeconds)
            assertTrue(attempts.size <= 10, "a back-off must come: $attempts")
        }
        assertEquals((attempts.first() downTo 0L).toList(), attempts, "one attempt fewer each time")
        // Then the pad closes for the core's back-off, and says for how long (the core counts
        // down on the device clock while the PIN key derivation runs: a second may pass).
        val wait = screen.error!!
        assertEquals("error_wrong_pin_wait", wait.key)
        assertTrue(screen.waitSeconds in 1..wait.args[1], "${screen.waitSeconds} of ${wait.args[1]}")

        app.unlock("13579")
        val refused = assertIs<AppScreen.Unlock>(app.state.screen)
        assertEquals("error_pin_wait", refused.error?.key)
        assertEquals(listOf(refused.waitSeconds), refused.error?.args)
        assertTrue(refused.waitSeconds in 1..screen.waitSeconds)

        // The wait is the core's, kept in the vault on the device clock: a restart does not end
        // it, and the pad opens when it is over.
        val restarted = testApp(vault, NO_SERVER, clock).apply { start() }
        val shown = assertIs<AppScreen.Unlock>(restarted.state.screen)
        assertTrue(shown.waitSeconds > 0, "the pad stays closed after a restart")
        clock.ms += refused.waitSeconds * 1000
        app.tick()
        assertEquals(0L, assertIs<AppScreen.Unlock>(app.state.screen).waitSeconds)
        app.unlock("13579")
        assertIs<AppScreen.Tokens>(app.state.screen)
    }

    @Test
    fun theRightPinUnlocks() {
        setPin("24680")
        leaveApp()
        app.unlock("11111")
        assertEquals(msg("error_wrong_pin", 4), (app.state.screen as AppScreen.Unlock).error.ka)
        app.unlock("24680")
        assertIs<AppScreen.Tokens>(app.state.screen)
    }

    @Test
    fun changeThenTurnOffThePin() {
        setPin("1111")
        app.beginChangePin()
        app.enterPin("9999") // wrong current PIN: found out at the end, so the flow restarts
        app.enterPin("2222")
        app.enterPin("2222")
        val retry = assertIs<AppScreen.PinEntry>(app.state.screen)
        assertEquals(PinStep.CURRENT, retry.step)
        assertEquals(msg("error_wrong_pin", 4), retry.error.ka)

        app.enterPin("1111")
        app.enterPin("2222")
        app.enterPin("2222")
        assertEquals(AppScreen.Settings(lockOn = true, biometricOn = false, biometricAvailable = false), app.state.screen)
        assertEquals("info_pin_changed", app.state.notice?.key)

        leaveApp()
        app.unlock("2222")
        assertIs<AppScreen.Tokens>(app.state.screen)

        app.openSettings()
        app.beginRemovePin()
        app.enterPin("2222")
        assertEquals(AppScreen.Settings(lockOn = false, biometricOn = false, biometricAvailable = false), app.state.screen)
        leaveApp()
        assertIs<AppScreen.Settings>(app.state.screen, "no lock screen once the lock is off")
    }

    @Test
    fun aForgottenPinIsReset() {
        setPin("8642")
        leaveApp()

        app.forgotPin()
        assertEquals(AppScreen.ConfirmReset, app.state.screen)
        app.back()
        assertIs<AppScreen.Unlock>(app.state.screen, "cancel keeps the lock")
        app.forgotPin()
        app.confirmReset()

        assertEquals(AppScreen.Tokens(emptyList()), app.state.screen)
        assertEquals("info_app_reset", app.state.notice?.key)
        // The reset also removed the PIN, and a restart finds the empty, unlocked vault.
        val restarted = testApp(vault, NO_SERVER, clock).apply { start() }
        assertEquals(AppScreen.Tokens(emptyList()), restarted.state.screen)
    }

    @Test
    fun aRestartWithTheLockOnAsksForThePin() {
        setPin("5555")
        val restarted = testApp(vault, NO_SERVER, clock).apply { start() }
        assertEquals(AppScreen.Unlock(null, 0, biometric = false), restarted.state.screen)
        restarted.unlock("5555")
        assertIs<AppScreen.Tokens>(restarted.state.screen)
    }

    @Test
    fun aLockedDeviceKeyIsReportedAndRetried() {
        val keys = MemoryKeyWrapper()
        val vault = TestWorld.newVault(keys)
        testApp(vault, NO_SERVER, clock).start() // creates the vault, wrapping its key

        keys.unavailable = true
        val app = testApp(vault, NO_SERVER, clock)
        app.start()
        assertEquals(msg("error_key_unavailable"), assertIs<AppScreen.Broken>(app.state.screen).message.ka)

        keys.unavailable = false
        app.retry()
        assertEquals(AppScreen.Tokens(emptyList()), app.state.screen)
    }

    @Test
    fun aLostDeviceKeyLeadsToTheReset() {
        val dir = TestWorld.newVaultDir()
        testApp(TestWorld.vaultIn(dir, MemoryKeyWrapper()), NO_SERVER, clock).start()
        // Another key: what the Keystore holds after the screen lock was removed.
        val replaced = TestWorld.vaultIn(dir, MemoryKeyWrapper())

        val app = testApp(replaced, NO_SERVER, clock)
        app.start()
        assertEquals(msg("error_key_lost"), assertIs<AppScreen.Broken>(app.state.screen).message.ka)
        app.requestReset()
        app.confirmReset()
        assertEquals(AppScreen.Tokens(emptyList()), app.state.screen)
        assertEquals("info_app_reset", app.state.notice?.key)
    }

    private fun assertPinEntry(purpose: PinPurpose, step: PinStep, error: Pair<String, List<Long>>?) {
        val screen = assertIs<AppScreen.PinEntry>(app.state.screen)
        assertEquals(purpose to step, screen.purpose to screen.step)
        assertEquals(error, screen.error.ka)
    }

    private companion object {
        val NO_SERVER = AppConfig(null, null, null)
    }
}
