// The app lock: the lock screen, the PIN pad for set/change/off, and the reset confirmation.
package jp.softtoken.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import jp.softtoken.app.R
import jp.softtoken.core.PinStep
import jp.softtoken.core.AppScreen

/** The lock screen: PIN, attempts left, back-off countdown, and the way out (reset). */
@Composable
fun UnlockScreen(screen: AppScreen.Unlock, frame: Frame, act: Act, biometricPrompt: () -> Unit) {
    ScreenFrame(stringResource(R.string.title_app_lock), frame.busy, frame.notice, frame.onNoticeShown) { padding ->
        Column(
            modifier = Modifier.fillMaxSize().padding(padding).padding(24.dp),
            horizontalAlignment = Alignment.CenterHorizontally,
            verticalArrangement = Arrangement.spacedBy(16.dp),
        ) {
            Text(stringResource(R.string.lock_prompt), style = MaterialTheme.typography.titleMedium)
            val waiting = screen.waitSeconds > 0
            PinField(enabled = !waiting && !frame.busy, submitLabel = R.string.action_unlock) { pin -> act { unlock(pin) } }
            ErrorText(screen.error)
            if (waiting) ErrorText(stringResource(R.string.error_pin_wait, screen.waitSeconds))
            // Beside the PIN pad, never instead of it: the PIN stays the fallback.
            if (screen.biometric && !waiting) {
                OutlinedButton(onClick = biometricPrompt, enabled = !frame.busy) { Text(stringResource(R.string.action_biometric_unlock)) }
            }
            TextButton(onClick = { act { forgotPin() } }) { Text(stringResource(R.string.action_forgot_pin)) }
        }
    }
}

/** Set, change or turn off the app lock, one PIN per step. */
@Composable
fun PinEntryScreen(screen: AppScreen.PinEntry, frame: Frame, act: Act) {
    val prompt = when (screen.step) {
        PinStep.CURRENT -> R.string.pin_current
        PinStep.NEW -> R.string.pin_new
        PinStep.CONFIRM -> R.string.pin_confirm
    }
    ScreenFrame(stringResource(R.string.title_app_lock), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(Modifier.padding(padding).padding(24.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            Text(stringResource(prompt), style = MaterialTheme.typography.titleMedium)
            // A fresh field per step: the previous step's digits are never shown again.
            androidx.compose.runtime.key(screen.step) {
                PinField(enabled = !frame.busy, submitLabel = R.string.action_confirm) { pin -> act { enterPin(pin) } }
            }
            ErrorText(screen.error)
            if (screen.step == PinStep.NEW) Text(stringResource(R.string.pin_forget_warning), style = MaterialTheme.typography.bodySmall)
        }
    }
}

/** A digits-only, masked PIN field with its button; cleared once submitted. */
@Composable
private fun PinField(enabled: Boolean, submitLabel: Int, onSubmit: (String) -> Unit) {
    var pin by remember { mutableStateOf("") }
    OutlinedTextField(
        value = pin,
        // The pad offers digits only; the core still checks (1–32 ASCII digits).
        onValueChange = { typed -> pin = typed.filter { it in '0'..'9' }.take(MAX_PIN) },
        enabled = enabled,
        singleLine = true,
        visualTransformation = PasswordVisualTransformation(),
        keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.NumberPassword, imeAction = ImeAction.Done),
        modifier = Modifier.fillMaxWidth(),
    )
    Button(
        onClick = {
            val typed = pin
            pin = ""
            onSubmit(typed)
        },
        enabled = enabled && pin.isNotEmpty(),
        modifier = Modifier.fillMaxWidth(),
    ) { Text(stringResource(submitLabel)) }
}

private const val MAX_PIN = 32

/** Reset: every token of every bank and the PIN are deleted. */
@Composable
fun ConfirmResetScreen(frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_reset), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(Modifier.padding(padding).padding(16.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            Text(stringResource(R.string.reset_warning))
            Button(onClick = { act { confirmReset() } }, modifier = Modifier.fillMaxWidth()) {
                Text(stringResource(R.string.action_reset))
            }
            TextButton(onClick = frame.onBack) { Text(stringResource(R.string.action_cancel)) }
        }
    }
}

/** The vault cannot be opened: try again (the key may come back), or reset. */
@Composable
fun BrokenScreen(screen: AppScreen.Broken, frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_broken), frame.busy, frame.notice, frame.onNoticeShown) { padding ->
        Column(Modifier.padding(padding).padding(16.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            ErrorText(screen.message)
            Button(onClick = { act { retry() } }, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.action_retry)) }
            TextButton(onClick = { act { requestReset() } }) { Text(stringResource(R.string.action_reset)) }
        }
    }
}
