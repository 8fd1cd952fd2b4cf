// Chooses the screen to draw from the core's view (AppView). Navigation is the core's.
package jp.softtoken.app.ui

import androidx.compose.runtime.Composable
import jp.softtoken.core.AppMessage
import jp.softtoken.core.AppScreen
import jp.softtoken.core.AppView
import jp.softtoken.app.QrScanner
import jp.softtoken.shell.AppModel

/** Sends an action to the shell's model (on its worker thread). */
typealias Act = (AppModel.() -> Unit) -> Unit

/** The whole app: one screen at a time, as the core says. */
@Composable
fun AppRoot(state: AppView, act: Act, scanner: QrScanner, biometricPrompt: () -> Unit) {
    val frame = Frame(state.busy, state.refreshing, state.notice, onNoticeShown = { act { dismissNotice() } }, onBack = { act { back() } })
    when (val screen = state.screen) {
        AppScreen.Opening -> OpeningScreen()
        is AppScreen.Unlock -> UnlockScreen(screen, frame, act, biometricPrompt)
        is AppScreen.Tokens -> TokenListScreen(screen, frame, act, scanner)
        AppScreen.AddToken -> AddTokenScreen(frame, act)
        is AppScreen.Activation -> ActivationScreen(screen, frame, act, scanner)
        is AppScreen.ActivationDone -> ActivationDoneScreen(screen, frame, act)
        is AppScreen.ConfirmServer -> ConfirmServerScreen(screen, frame, act)
        is AppScreen.TokenDetail -> TokenDetailScreen(screen, frame, act)
        is AppScreen.ConfirmDelete -> ConfirmDeleteScreen(screen, frame, act)
        is AppScreen.Settings -> SettingsScreen(screen, frame, act)
        is AppScreen.PinEntry -> PinEntryScreen(screen, frame, act)
        AppScreen.ConfirmReset -> ConfirmResetScreen(frame, act)
        is AppScreen.SignConfirm -> SignConfirmScreen(screen, frame, act)
        is AppScreen.SignManual -> SignManualScreen(screen, frame, act)
        is AppScreen.SignCode -> SignCodeScreen(screen, frame, act)
        is AppScreen.SignRefused -> SignRefusedScreen(screen, frame, act)
        is AppScreen.Broken -> BrokenScreen(screen, frame, act)
    }
}

/** What every screen's frame needs from the view. */
data class Frame(
    val busy: Boolean,
    /** The token states are being asked for in the background (codes keep running). */
    val refreshing: Boolean,
    val notice: AppMessage?,
    val onNoticeShown: () -> Unit,
    val onBack: () -> Unit,
)
