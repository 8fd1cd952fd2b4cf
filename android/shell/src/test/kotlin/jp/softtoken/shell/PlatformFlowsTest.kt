// The apps' platform flows (issue 16 items 4-7), through AppModel against the real library and
// server: copying a code (sensitive, cleared after 60 s only if still ours), a link that
// waits behind the lock and a scanner that does not lock the app, the bank directory with
// its picker and the question for an unlisted server, and biometric unlock with the PIN as
// the fallback. Time is the test clock: no sleeps.
package jp.softtoken.shell

import java.io.File
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
    private val config = TestWorld.config().copy(activationServer = null, banks = TestWorld.directory())
    private val app = AppModel(TestWorld.newOpener(), config, clock, board, bio).apply { start() }

    private fun activate(): String {
        val user = TestWorld.newUserId()
        bank.issueActivation(user, "pass-5150")
        app.startActivation()
        app.submitActivation(bank.serviceId, user, "pass-5150")
        return assertIs<Screen.ActivationDone>(app.state.screen).token.serial
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
        assertIs<Screen.ActivationDone>(app.state.screen, "copying keeps the screen")
        val code = board.text
        assertTrue(code != null && Regex("\\d{8}").matches(code), "the plain code is copied: $code")
        assertTrue(board.sensitive)
        assertEquals(Message(MessageKey.CODE_COPIED, 60), app.state.notice, "the notice the screen reader reads")

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
        clock.ms += AppModel.LOCK_GRACE_MS
        app.tick()
        assertIs<Screen.Unlock>(app.state.screen, "locked once the grace is over")
        assertNull(board.text, "a locked app leaves no code on the clipboard (${AppModel.LOCK_GRACE_MS} ms < 60 s)")

        app.unlock("4711")
        app.copyCode(serial)
        board.copiedElsewhere("the customer's own text")
        app.onBackground()
        clock.ms += AppModel.LOCK_GRACE_MS
        app.tick()
        assertIs<Screen.Unlock>(app.state.screen)
        assertEquals("the customer's own text", board.text, "what the app can see is not its own stays")
    }

    @Test
    fun theClipboardCountdownClearsOnlyOnce() {
        val clip = CodeClipboard(board, clock)
        clip.copy("12345678")
        assertTrue(clip.clearNow())
        assertNull(board.text)
        assertFalse(clip.pending)
        board.copiedElsewhere("later text")
        clock.ms += 61_000
        board.readable = false
        assertFalse(clip.tick(), "nothing pending: a later clip is never touched")
        assertFalse(clip.clearNow())
        assertEquals("later text", board.text)
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
        assertIs<Screen.Activation>(app.state.screen, "the typed form stays")
        assertEquals(Message(MessageKey.SCANNER_FAILED), app.state.notice)
        // The scanner is over: leaving the app now locks after the normal grace, not the scanner's.
        app.onBackground()
        clock.ms += AppModel.LOCK_GRACE_MS
        app.tick()
        assertIs<Screen.Unlock>(app.state.screen)

        app.unlock("4711")
        app.scanFailed(cameraDenied = true)
        assertEquals(Message(MessageKey.CAMERA_DENIED), app.state.notice)
    }

    // --- 5. Links behind the lock, the scanner and the grace period -------------------------

    @Test
    fun aLinkOpenedWhileLockedWaitsAndOpensTheFormAfterTheUnlock() {
        setPin("4711")
        app.onBackground()
        clock.ms += AppModel.LOCK_GRACE_MS
        app.tick()
        assertIs<Screen.Unlock>(app.state.screen, "locked in the background once the grace is over")

        val user = TestWorld.newUserId()
        val uri = bank.issueActivation(user, "pass-8080")
        app.scanned(uri)
        assertIs<Screen.Unlock>(app.state.screen, "the link does not get past the lock")
        assertEquals(MessageKey.LINK_AFTER_UNLOCK, app.state.notice?.key)
        app.unlock("0000")
        assertIs<Screen.Unlock>(app.state.screen)

        app.unlock("4711")
        val form = assertIs<Screen.Activation>(app.state.screen)
        assertEquals(user, form.userId)
        assertEquals(bank.serverUrl, form.scannedServer)
        // Back goes to the unlocked token list, not to the lock screen.
        assertTrue(app.back())
        assertIs<Screen.Tokens>(app.state.screen)
    }

    @Test
    fun theScannerDoesNotLockTheAppButLeavingDoesAfterTheGrace() {
        setPin("4711")
        app.startActivation()
        app.scanStarted()
        app.onBackground() // the scanner activity covers the app
        clock.ms += 60_000
        app.tick()
        assertIs<Screen.Activation>(app.state.screen, "no lock mid-scan")
        val user = TestWorld.newUserId()
        app.onForeground()
        app.scanned(bank.issueActivation(user, "pass-1234"))
        assertEquals(user, assertIs<Screen.Activation>(app.state.screen).userId)

        // A short trip away keeps the app open; a long one locks it.
        app.onBackground()
        clock.ms += AppModel.LOCK_GRACE_MS - 1
        app.onForeground()
        assertIs<Screen.Activation>(app.state.screen)
        app.onBackground()
        clock.ms += AppModel.LOCK_GRACE_MS
        app.onForeground()
        assertIs<Screen.Unlock>(app.state.screen)
    }

    @Test
    fun aScannerLeftOpenTooLongStillLocks() {
        setPin("4711")
        app.scanStarted()
        app.onBackground()
        clock.ms += AppModel.SCAN_GRACE_MS
        app.tick()
        assertIs<Screen.Unlock>(app.state.screen)
    }

    // --- 6. Several banks ------------------------------------------------------------------

    @Test
    fun aTypedServiceIdReachesItsBankThroughTheDirectory() {
        app.startActivation()
        val form = assertIs<Screen.Activation>(app.state.screen)
        assertEquals(listOf(bank.serviceId, "otherbank"), form.banks.map { it.serviceId }, "the picker's banks")
        assertEquals(bank.serviceName, form.banks.first().name)

        // No activation server is configured: only the directory knows where the bank is.
        val user = TestWorld.newUserId()
        bank.issueActivation(user, "pass-2468")
        app.submitActivation(bank.serviceId, user, "pass-2468")
        assertIs<Screen.ActivationDone>(app.state.screen)

        app.startActivation()
        app.submitActivation("nobank", user, "pass-2468")
        val unknown = assertIs<Screen.Activation>(app.state.screen)
        assertEquals(MessageKey.UNKNOWN_SERVICE_ID, unknown.error?.key)
        assertEquals(InputField.SERVICE_ID, unknown.errorField)
    }

    @Test
    fun aQrCodeForAnUnlistedServerShowsItsHostAndAsksFirst() {
        val user = TestWorld.newUserId()
        val uri = bank.issueActivation(user, "pass-3690")
        // The same QR code, read by a build whose directory does not list the test server.
        val elsewhere = AppModel(
            TestWorld.newOpener(),
            AppConfig(null, null, null, FfiTokenCore.bankDirectory("""{"banks": [{"serviceId": "otherbank", "name": "O", "serverUrl": "https://otp.other.example"}]}""")),
            clock,
        ).apply { start() }
        elsewhere.scanned(uri)
        val ask = assertIs<Screen.ConfirmServer>(elsewhere.state.screen)
        assertEquals(bank.serverUrl.substringAfter("://"), ask.host)
        assertTrue(elsewhere.back(), "declining goes back")
        assertIs<Screen.Tokens>(elsewhere.state.screen)

        elsewhere.scanned(uri)
        elsewhere.confirmServer()
        val form = assertIs<Screen.Activation>(elsewhere.state.screen)
        assertEquals(bank.serverUrl, form.scannedServer)
        elsewhere.submitActivation(form.serviceId, form.userId, "pass-3690")
        assertIs<Screen.ActivationDone>(elsewhere.state.screen)

        // The build that lists it opens the form at once.
        app.scanned(bank.issueActivation(TestWorld.newUserId(), "pass-3690"))
        assertIs<Screen.Activation>(app.state.screen)
    }

    @Test
    fun theShippedDirectoryIsValid() {
        val repo = File(System.getenv("SOFTTOKEN_REPO") ?: error("SOFTTOKEN_REPO is not set (run android/test-shell.sh)"))
        val dir = FfiTokenCore.bankDirectory(File(repo, "mobile/banks/banks.json").readText())
        assertTrue(dir.banks.isNotEmpty())
        assertTrue(dir.banks.all { it.serverUrl.startsWith("https://") })
    }

    // --- 7. Biometric unlock -----------------------------------------------------------------

    private fun lockNow() {
        app.onBackground()
        clock.ms += AppModel.LOCK_GRACE_MS
        app.onForeground()
    }

    @Test
    fun biometricsUnlockBesideThePinAndFollowAPinChange() {
        setPin("1357")
        app.beginEnableBiometric()
        app.enterPin("9999")
        assertIs<Screen.PinEntry>(app.state.screen, "a wrong PIN is not stored")
        assertNull(bio.storedPin())
        app.enterPin("1357")
        assertEquals(Screen.Settings(lockOn = true, biometricOn = true, biometricAvailable = true), app.state.screen)
        assertEquals(MessageKey.BIOMETRIC_ON, app.state.notice?.key)

        lockNow()
        assertEquals(Screen.Unlock(null, 0, biometric = true), app.state.screen)
        app.biometricResult(BiometricResult.Cancelled)
        assertIs<Screen.Unlock>(app.state.screen, "cancelled: the PIN pad stays")
        app.biometricResult(bio.prompt())
        assertIs<Screen.Tokens>(app.state.screen)
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
        assertIs<Screen.Tokens>(app.state.screen)

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
        assertEquals(Screen.Unlock(Message(MessageKey.BIOMETRY_CHANGED), 0, biometric = false), app.state.screen)
        assertFalse(bio.enrolled(), "the invalidated key is dropped")
        app.unlock("1357")
        assertIs<Screen.Tokens>(app.state.screen)
        app.openSettings()
        assertEquals(Screen.Settings(lockOn = true, biometricOn = false, biometricAvailable = true), app.state.screen)
    }

    @Test
    fun noBiometricsOnTheDeviceOffersNone() {
        bio.available = false
        setPin("1357")
        app.beginEnableBiometric()
        assertIs<Screen.Settings>(app.state.screen)
        assertEquals(MessageKey.BIOMETRIC_FAILED, app.state.notice?.key)
        lockNow()
        assertEquals(Screen.Unlock(null, 0, biometric = false), app.state.screen)
    }
}
