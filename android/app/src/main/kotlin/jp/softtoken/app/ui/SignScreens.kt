// 取引確認: the scanned transfer (振込先, 金額 large), the code for it with its countdown, the
// manual mode's form and the refusals. What each tap does is the shell's (AppModel).
package jp.softtoken.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.semantics.clearAndSetSemantics
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import jp.softtoken.app.R
import jp.softtoken.core.AppScreen
import jp.softtoken.core.TransferView

/** The transfer as the bank's screen shows it: 振込先 and 金額 large, then the masked account. */
@Composable
private fun TransferCard(transfer: TransferView) {
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text(stringResource(R.string.label_sign_payee), style = MaterialTheme.typography.labelLarge)
            Text(transfer.payeeName, fontSize = 28.sp, fontWeight = FontWeight.Bold)
            Text(stringResource(R.string.label_sign_account), style = MaterialTheme.typography.labelLarge)
            Text(transfer.maskedAccount, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.titleMedium)
            Text(stringResource(R.string.label_sign_amount), style = MaterialTheme.typography.labelLarge)
            Text(transfer.displayAmount, fontSize = 36.sp, fontWeight = FontWeight.Bold, color = MaterialTheme.colorScheme.primary)
        }
    }
}

/** Check the transfer, then confirm: the code is made only after this. */
@Composable
fun SignConfirmScreen(screen: AppScreen.SignConfirm, frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_sign), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(
            modifier = Modifier.fillMaxSize().padding(padding).padding(16.dp).verticalScroll(rememberScrollState()),
            verticalArrangement = Arrangement.spacedBy(16.dp),
        ) {
            TransferCard(screen.transfer)
            Text("${stringResource(R.string.label_sign_token)}: ${screen.token.issuer}  ${screen.token.serialGrouped}")
            Text(stringResource(R.string.sign_confirm_hint))
            Button(onClick = { act { confirmTransfer() } }, modifier = Modifier.fillMaxWidth()) {
                Text(stringResource(R.string.action_sign_confirm))
            }
            TextButton(onClick = { act { finishSign() } }) { Text(stringResource(R.string.action_sign_cancel)) }
        }
    }
}

/** Manual mode: the digits typed from the bank's screen. */
@Composable
fun SignManualScreen(screen: AppScreen.SignManual, frame: Frame, act: Act) {
    var digits by rememberSaveable { mutableStateOf("") }
    ScreenFrame(stringResource(R.string.title_sign_manual), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(
            modifier = Modifier.fillMaxSize().padding(padding).padding(16.dp).verticalScroll(rememberScrollState()),
            verticalArrangement = Arrangement.spacedBy(16.dp),
        ) {
            Text("${screen.token.issuer}  ${screen.token.serialGrouped}", style = MaterialTheme.typography.titleMedium)
            Text(stringResource(R.string.sign_manual_hint))
            OutlinedTextField(
                value = digits,
                onValueChange = { typed -> digits = typed.filter { it.isDigit() || it == ' ' || it == '-' }.take(30) },
                label = { Text(stringResource(R.string.label_sign_digits)) },
                isError = screen.error != null,
                singleLine = true,
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.NumberPassword, imeAction = ImeAction.Done),
                modifier = Modifier.fillMaxWidth(),
            )
            ErrorText(screen.error)
            Button(onClick = { act { submitTypedDigits(digits) } }, modifier = Modifier.fillMaxWidth()) {
                Text(stringResource(R.string.action_sign_show_code))
            }
        }
    }
}

/** The code for this one transfer, large, with the time it stays on screen. */
@Composable
fun SignCodeScreen(screen: AppScreen.SignCode, frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_sign), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(
            modifier = Modifier.fillMaxSize().padding(padding).padding(16.dp).verticalScroll(rememberScrollState()),
            verticalArrangement = Arrangement.spacedBy(16.dp),
            horizontalAlignment = Alignment.CenterHorizontally,
        ) {
            screen.transfer?.let { TransferCard(it) }
            screen.typedDigits?.let { Text("${stringResource(R.string.label_sign_typed)}: $it", fontFamily = FontFamily.Monospace) }
            val code = screen.code
            if (code == null) {
                Text(stringResource(R.string.sign_code_expired), color = MaterialTheme.colorScheme.error)
            } else {
                val label = stringResource(R.string.label_code)
                Text(
                    text = code.grouped(),
                    fontFamily = FontFamily.Monospace,
                    fontWeight = FontWeight.Bold,
                    fontSize = 44.sp,
                    letterSpacing = 2.sp,
                    modifier = Modifier.clearAndSetSemantics { contentDescription = "$label ${code.spoken()}" },
                )
                Text(stringResource(R.string.sign_code_hint))
                Text("${stringResource(R.string.label_sign_time_left)} ${screen.countdown}", style = MaterialTheme.typography.titleMedium)
                LinearProgressIndicator(
                    progress = { screen.remaining },
                    modifier = Modifier.fillMaxWidth(),
                )
            }
            Button(onClick = { act { finishSign() } }, modifier = Modifier.fillMaxWidth()) {
                Text(stringResource(R.string.action_sign_done))
            }
        }
    }
}

/** No code for this challenge: why, and the way back. */
@Composable
fun SignRefusedScreen(screen: AppScreen.SignRefused, frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_sign_refused), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(Modifier.padding(padding).padding(16.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            Text(screen.message.text, style = MaterialTheme.typography.titleMedium, color = MaterialTheme.colorScheme.error)
            Button(onClick = { act { finishSign() } }, modifier = Modifier.fillMaxWidth()) {
                Text(stringResource(R.string.action_sign_done))
            }
        }
    }
}
