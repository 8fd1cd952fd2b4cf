// Chooses the screen to draw from the shell's state. Navigation is the shell's.
package jp.softtoken.app.ui

import androidx.compose.runtime.Composable
import jp.softtoken.app.QrScanner
import jp.softtoken.shell.AppModel
import jp.softtoken.shell.Screen
import jp.softtoken.shell.UiState

/** Sends an action to the shell's model (on its worker thread). */
typealias Act = (AppModel.() -> Unit) -> Unit

/** The whole app: one screen at a time, as the shell says. */
@Composable
fun AppRoot(state: UiState, act: Act, scanner: QrScanner, biometricPrompt: () -> Unit) {
    val frame = Frame(state.busy, state.notice, onNoticeShown = { act { dismissNotice() } }, onBack = { act { back() } })
    when (val screen = state.screen) {
        Screen.Opening -> OpeningScreen()
        is Screen.Unlock -> UnlockScreen(screen, frame, act, biometricPrompt)
        is Screen.Tokens -> TokenListScreen(screen, frame, act, scanner)
        Screen.AddToken -> AddTokenScreen(frame, act)
        is Screen.Activation -> ActivationScreen(screen, frame, act, scanner)
        is Screen.ActivationDone -> ActivationDoneScreen(screen, frame, act)
        is Screen.ConfirmServer -> ConfirmServerScreen(screen, frame, act)
        is Screen.TokenDetail -> TokenDetailScreen(screen, frame, act)
        is Screen.ConfirmDelete -> ConfirmDeleteScreen(screen, frame, act)
        is Screen.Settings -> SettingsScreen(screen, frame, act)
        is Screen.PinEntry -> PinEntryScreen(screen, frame, act)
        Screen.ConfirmReset -> ConfirmResetScreen(frame, act)
        is Screen.SignConfirm -> SignConfirmScreen(screen, frame, act)
        is Screen.SignManual -> SignManualScreen(screen, frame, act)
        is Screen.SignCode -> SignCodeScreen(screen, frame, act)
        is Screen.SignRefused -> SignRefusedScreen(screen, frame, act)
        is Screen.Broken -> BrokenScreen(screen, frame, act)
    }
}

/** What every screen's frame needs from the state. */
data class Frame(
    val busy: Boolean,
    val notice: jp.softtoken.shell.Message?,
    val onNoticeShown: () -> Unit,
    val onBack: () -> Unit,
)
