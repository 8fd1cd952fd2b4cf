// The apps' platform flows (issue 16 items 4-7), through AppModel against the real library and
// server: copying a code (sensitive, cleared after 60 s only if still ours), a link that
// waits behind the lock and a scanner that does not lock the app, the bank directory with
// its picker and the question for an unlisted server, and biometric unlock with the PIN as
// the fallback. Time is the test clock: no sleeps.
package jp.softtoken.shell

import jp.softtoken.core.AppScreen
import jp.softtoken.core.InputField
import java.io.File
import jp.softtoken.core.BankDirectory
import jp.softtoken.core.clipboardClearSeconds
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNull
import kotlin.test.assertTrue

class PlatformFlowsTest {
    private val bank = TestWorld.bank
    private val clock = TestClock()
    private val board = FakePasteboard()
    private val bio = FakeBiometrics()
    private val config = TestWorld.config().copy(activationServer = null, banksJson = TestWorld.directory())
    private val app = testApp(TestWorld.newVault(), config, clock, board, bio).apply { start() }

    private fun activate(): String {
        val user = TestWorld.newUserId()
        bank.issueActivation(user, "pass-5150")
        app.startActivation()
        app.submitActivation(bank.serviceId, user, "pass-5150")
        return assertIs<AppScreen.ActivationDone>(app.state.screen).token.serial
    }

    private fun setPin(pin: String) {
        app.openSettings()
        app.beginSetPin()
        app.enterPin(pin)
        app.enterPin(pin)
    }

    // --- 4. Copy the code -----------------------------------------------------------------

    @Test
    fun aCopiedCodeIsSensitiveAnnouncedAndClearedAfter60Seconds() {
        val serial = activate()
        app.copyCode(serial)
        assertIs<AppScreen.ActivationDone>(app.state.screen, "copying keeps the screen")
        val code = board.text
        assertTrue(code != null && Regex("\\d{8}").matches(code), "the plain code is copied: $code")
        assertTrue(board.sensitive)
        assertEquals(msg("info_code_copied", 60), app.state.notice.ka, "the notice the screen reader reads")
        assertEquals(60L, clipboardClearSeconds(), "the expiry iOS gives its clip is the core's")

        clock.ms += 59_000
        app.tick()
        assertEquals(code, board.text, "still there after 59 s")
        clock.ms += 1_000
        app.tick()
        assertNull(board.text, "cleared at 60 s")
    }

    @Test
    fun theClipboardIsLeftAloneOnceSomethingElseWasCopied() {
        val serial = activate()
        app.copyCode(serial)
        board.copiedElsewhere("the customer's own text")
        clock.ms += 60_000
        app.tick()
        assertEquals("the customer's own text", board.text)
    }

    @Test
    fun aCodeIsClearedOnTimeWhileTheAppIsInTheBackground() {
        // Android 10+: in the background the app cannot read the clipboard, so it cannot tell
        // its code from a later copy; the code still goes at 60 s, not when the app returns.
        val serial = activate()
        app.copyCode(serial)
        val code = board.text
        app.onBackground()
        board.readable = false
        clock.ms += 59_000
        app.tick()
        assertEquals(code, board.text, "still there after 59 s")
        clock.ms += 1_000
        app.tick()
        assertNull(board.text, "cleared at 60 s, in the background")
        board.readable = true
        app.onForeground()
        app.tick()
        assertNull(board.text)
    }

    @Test
    fun lockingTheAppClearsACopiedCodeButNotTheCustomersOwnCopy() {
        setPin("4711")
        val serial = activate()
        app.copyCode(serial)
        assertTrue(board.text != null)
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.tick()
        assertIs<AppScreen.Unlock>(app.state.screen, "locked once the grace is over")
        assertNull(board.text, "a locked app leaves no code on the clipboard (${Core.LOCK_GRACE_MS} ms < 60 s)")

        app.unlock("4711")
        app.copyCode(serial)
        board.copiedElsewhere("the customer's own text")
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.tick()
        assertIs<AppScreen.Unlock>(app.state.screen)
        assertEquals("the customer's own text", board.text, "what the app can see is not its own stays")
    }

    @Test
    fun theClipboardIsClearedOnlyOnce() {
        setPin("4711")
        val serial = activate()
        app.copyCode(serial)
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.tick()
        assertNull(board.text, "the lock cleared the code")
        board.copiedElsewhere("later text")
        board.readable = false
        clock.ms += 61_000
        app.tick()
        assertEquals("later text", board.text, "nothing pending: a later clip is never touched")
    }

    // --- The scanner's failures are said, not swallowed ------------------------------------

    @Test
    fun aScannerThatCannotRunSaysSoAndKeepsTheForm() {
        setPin("4711")
        app.startActivation()
        app.scanStarted()
        app.onBackground()
        app.onForeground()
        app.scanFailed(cameraDenied = false)
        assertIs<AppScreen.Activation>(app.state.screen, "the typed form stays")
        assertEquals(msg("error_scanner_failed"), app.state.notice.ka)
        // The scanner is over: leaving the app now locks after the normal grace, not the scanner's.
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.tick()
        assertIs<AppScreen.Unlock>(app.state.screen)

        app.unlock("4711")
        app.scanFailed(cameraDenied = true)
        assertEquals(msg("error_camera_denied"), app.state.notice.ka)
    }

    // --- 5. Links behind the lock, the scanner and the grace period -------------------------

    @Test
    fun aLinkOpenedWhileLockedWaitsAndOpensTheFormAfterTheUnlock() {
        setPin("4711")
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.tick()
        assertIs<AppScreen.Unlock>(app.state.screen, "locked in the background once the grace is over")

        val user = TestWorld.newUserId()
        val uri = bank.issueActivation(user, "pass-8080")
        app.scanned(uri)
        assertIs<AppScreen.Unlock>(app.state.screen, "the link does not get past the lock")
        assertEquals("info_link_after_unlock", app.state.notice?.key)
        app.unlock("0000")
        assertIs<AppScreen.Unlock>(app.state.screen)

        app.unlock("4711")
        val form = assertIs<AppScreen.Activation>(app.state.screen)
        assertEquals(user, form.userId)
        assertEquals(bank.serverUrl, form.scannedServer)
        // Back goes to the unlocked token list, not to the lock screen.
        assertTrue(app.back())
        assertIs<AppScreen.Tokens>(app.state.screen)
    }

    @Test
    fun theScannerDoesNotLockTheAppButLeavingDoesAfterTheGrace() {
        setPin("4711")
        app.startActivation()
        app.scanStarted()
        app.onBackground() // the scanner activity covers the app
        clock.ms += 60_000
        app.tick()
        assertIs<AppScreen.Activation>(app.state.screen, "no lock mid-scan")
        val user = TestWorld.newUserId()
        app.onForeground()
        app.scanned(bank.issueActivation(user, "pass-1234"))
        assertEquals(user, assertIs<AppScreen.Activation>(app.state.screen).userId)

        // A short trip away keeps the app open; a long one locks it.
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS - 1
        app.onForeground()
        assertIs<AppScreen.Activation>(app.state.screen)
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.onForeground()
        assertIs<AppScreen.Unlock>(app.state.screen)
    }

    @Test
    fun aScannerLeftOpenTooLongStillLocks() {
        setPin("4711")
        app.scanStarted()
        app.onBackground()
        clock.ms += Core.SCAN_GRACE_MS
        app.tick()
        assertIs<AppScreen.Unlock>(app.state.screen)
    }

    // --- A platform that throws -------------------------------------------------------------

    @Test
    fun aThrowingPlatformIsTheShellsFailureNeverACrashOfTheCore() {
        val serial = activate()
        // A view listener that throws (a UI gone away): the core drops that view and goes on.
        app.addListener { throw IllegalStateException("the activity is gone") }
        app.continueAfterActivation()
        app.copyCode(serial)
        assertEquals(msg("info_code_copied", 60), app.state.notice.ka)
        setPin("2468")
        // A Keystore that cannot make the key: said, and biometric unlock stays off.
        bio.keystoreBroken = true
        app.beginEnableBiometric()
        app.enterPin("2468")
        assertEquals("error_biometric_setup_failed", app.state.notice?.key)
        assertFalse(assertIs<AppScreen.Settings>(app.state.screen).biometricOn)
        assertFalse(bio.enrolled())
    }

    // --- 6. Several banks ------------------------------------------------------------------

    @Test
    fun aTypedServiceIdReachesItsBankThroughTheDirectory() {
        app.startActivation()
        val form = assertIs<AppScreen.Activation>(app.state.screen)
        assertEquals(listOf(bank.serviceId, "otherbank"), form.banks.map { it.serviceId }, "the picker's banks")
        assertEquals(bank.serviceName, form.banks.first().name)

        // No activation server is configured: only the directory knows where the bank is.
        val user = TestWorld.newUserId()
        bank.issueActivation(user, "pass-2468")
        app.submitActivation(bank.serviceId, user, "pass-2468")
        assertIs<AppScreen.ActivationDone>(app.state.screen)

        app.startActivation()
        app.submitActivation("nobank", user, "pass-2468")
        val unknown = assertIs<AppScreen.Activation>(app.state.screen)
        assertEquals("error_unknown_service_id", unknown.error?.key)
        assertEquals(InputField.SERVICE_ID, unknown.errorField)
    }

    @Test
    fun aQrCodeForAnUnlistedServerShowsItsHostAndAsksFirst() {
        val user = TestWorld.newUserId()
        val uri = bank.issueActivation(user, "pass-3690")
        // The same QR code, read by a build whose directory does not list the test server.
        val elsewhere = testApp(
            TestWorld.newVault(),
            AppConfig(null, null, null, """{"banks": [{"serviceId": "otherbank", "name": "O", "serverUrl": "https://otp.other.example"}]}"""),
            clock,
        ).apply { start() }
        elsewhere.scanned(uri)
        val ask = assertIs<AppScreen.ConfirmServer>(elsewhere.state.screen)
        assertEquals(bank.serverUrl.substringAfter("://"), ask.host)
        assertTrue(elsewhere.back(), "declining goes back")
        assertIs<AppScreen.Tokens>(elsewhere.state.screen)

        elsewhere.scanned(uri)
        elsewhere.confirmServer()
        val form = assertIs<AppScreen.Activation>(elsewhere.state.screen)
        assertEquals(bank.serverUrl, form.scannedServer)
        elsewhere.submitActivation(form.serviceId, form.userId, "pass-3690")
        assertIs<AppScreen.ActivationDone>(elsewhere.state.screen)

        // The build that lists it opens the form at once.
        app.scanned(bank.issueActivation(TestWorld.newUserId(), "pass-3690"))
        assertIs<AppScreen.Activation>(app.state.screen)
    }

    @Test
    fun theShippedDirectoryIsValid() {
        val repo = File(System.getenv("SOFTTOKEN_REPO") ?: error("SOFTTOKEN_REPO is not set (run android/test-shell.sh)"))
        val banks = BankDirectory.fromJson(File(repo, "mobile/banks/banks.json").readText()).banks()
        assertTrue(banks.isNotEmpty())
        assertTrue(banks.all { it.serverUrl.startsWith("https://") })
    }

    // --- 7. Biometric unlock -----------------------------------------------------------------

    private fun lockNow() {
        app.onBackground()
        clock.ms += Core.LOCK_GRACE_MS
        app.onForeground()
    }

    @Test
    fun biometricsUnlockBesideThePinAndFollowAPinChange() {
        setPin("1357")
        app.beginEnableBiometric()
        app.enterPin("9999")
        assertIs<AppScreen.PinEntry>(app.state.screen, "a wrong PIN is not stored")
        assertNull(bio.storedPin())
        app.enterPin("1357")
        assertEquals(AppScreen.Settings(lockOn = true, biometricOn = true, biometricAvailable = true), app.state.screen)
        assertEquals("info_biometric_on", app.state.notice?.key)

        lockNow()
        assertEquals(AppScreen.Unlock(null, 0, biometric = true), app.state.screen)
        app.biometricResult(BiometricResult.Cancelled)
        assertIs<AppScreen.Unlock>(app.state.screen, "cancelled: the PIN pad stays")
        app.biometricResult(bio.prompt())
        assertIs<AppScreen.Tokens>(app.state.screen)
        assertTrue(bio.lastHandedOut!!.all { it == 0.toByte() }, "the PIN bytes are wiped after use")

        // A PIN change re-encrypts the new PIN for the biometric key.
        app.openSettings()
        app.beginChangePin()
        app.enterPin("1357")
        app.enterPin("2468")
        app.enterPin("2468")
        assertEquals("2468", bio.storedPin())
        lockNow()
        app.biometricResult(bio.prompt())
        assertIs<AppScreen.Tokens>(app.state.screen)

        // Turning the app lock off removes the biometric key too.
        app.openSettings()
        app.beginRemovePin()
        app.enterPin("2468")
        assertFalse(bio.enrolled())
    }

    @Test
    fun aBiometryChangeFallsBackToThePin() {
        setPin("1357")
        app.beginEnableBiometric()
        app.enterPin("1357")
        lockNow()
        bio.invalidated = true // a new fingerprint was added
        app.biometricResult(bio.prompt())
        val changed = assertIs<AppScreen.Unlock>(app.state.screen)
        assertEquals(Triple(msg("error_biometry_changed"), 0L, false), Triple(changed.error.ka, changed.waitSeconds, changed.biometric))
        assertFalse(bio.enrolled(), "the invalidated key is dropped")
        app.unlock("1357")
        assertIs<AppScreen.Tokens>(app.state.screen)
        app.openSettings()
        assertEquals(AppScreen.Settings(lockOn = true, biometricOn = false, biometricAvailable = true), app.state.screen)
    }

    @Test
    fun noBiometricsOnTheDeviceOffersNone() {
        bio.available = false
        setPin("1357")
        app.beginEnableBiometric()
        assertIs<AppScreen.Settings>(app.state.screen)
        assertEquals("error_biometric_failed", app.state.notice?.key)
        lockNow()
        assertEquals(AppScreen.Unlock(null, 0, biometric = false), app.state.screen)
    }
}
