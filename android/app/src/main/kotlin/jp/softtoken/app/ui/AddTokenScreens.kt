// Adding a token: the choice of mode, the activation form (初期設定) and its completion.
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
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.FilterChip
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import jp.softtoken.app.QrScanner
import jp.softtoken.app.R
import jp.softtoken.core.InputField
import jp.softtoken.core.AppScreen

/** The two ways to add a token, as the bank's guide names them. */
@Composable
fun AddTokenScreen(frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_add_token), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(Modifier.padding(padding).padding(16.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            ChoiceCard(R.string.add_by_start_password, R.string.add_by_start_password_hint) { act { startActivation() } }
            ChoiceCard(R.string.add_by_serial, R.string.add_by_serial_hint) { act { startRegistration() } }
        }
    }
}

@Composable
private fun ChoiceCard(title: Int, hint: Int, onClick: () -> Unit) {
    Card(onClick = onClick, modifier = Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp)) {
            Text(stringResource(title), style = MaterialTheme.typography.titleMedium)
            Text(stringResource(hint), style = MaterialTheme.typography.bodyMedium)
        }
    }
}

/**
 * 初期設定: service ID, user ID, start password, or the bank's QR code for the first two. The
 * start password lives only in this composable's memory and is never saved across process
 * death.
 */
@Composable
fun ActivationScreen(screen: AppScreen.Activation, frame: Frame, act: Act, scanner: QrScanner) {
    var serviceId by rememberSaveable(screen.serviceId) { mutableStateOf(screen.serviceId) }
    var userId by rememberSaveable(screen.userId) { mutableStateOf(screen.userId) }
    var password by remember { mutableStateOf("") }
    ScreenFrame(stringResource(R.string.title_activation), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(
            modifier = Modifier.fillMaxSize().padding(padding).padding(16.dp).verticalScroll(rememberScrollState()),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            OutlinedButton(
                onClick = {
                    act { scanStarted() }
                    scanner.scan(
                        onScanned = { uri -> act { scanned(uri) } },
                        onCancelled = { act { scanCancelled() } },
                        onFailed = { act { scanFailed(cameraDenied = false) } },
                    )
                },
                modifier = Modifier.fillMaxWidth(),
            ) {
                Text(stringResource(R.string.action_scan_qr))
            }
            Text(stringResource(R.string.qr_camera_hint), style = MaterialTheme.typography.bodySmall)
            // The picker of the build's bank directory fills the service ID the server expects.
            if (screen.banks.isNotEmpty()) {
                Text(stringResource(R.string.label_bank), style = MaterialTheme.typography.labelLarge)
                screen.banks.forEach { bank ->
                    FilterChip(selected = serviceId == bank.serviceId, onClick = { serviceId = bank.serviceId }, label = { Text(bank.name) })
                }
            }
            OutlinedTextField(
                value = serviceId,
                onValueChange = { serviceId = it },
                label = { Text(stringResource(R.string.label_service_id)) },
                isError = screen.errorField == InputField.SERVICE_ID,
                singleLine = true,
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Ascii, imeAction = ImeAction.Next),
                modifier = Modifier.fillMaxWidth(),
            )
            OutlinedTextField(
                value = userId,
                onValueChange = { userId = it },
                label = { Text(stringResource(R.string.label_user_id)) },
                isError = screen.errorField == InputField.USER_ID,
                singleLine = true,
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Ascii, imeAction = ImeAction.Next),
                modifier = Modifier.fillMaxWidth(),
            )
            OutlinedTextField(
                value = password,
                onValueChange = { password = it },
                label = { Text(stringResource(R.string.label_start_password)) },
                isError = screen.errorField == InputField.START_PASSWORD,
                singleLine = true,
                visualTransformation = PasswordVisualTransformation(),
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password, imeAction = ImeAction.Send),
                modifier = Modifier.fillMaxWidth(),
            )
            ErrorText(screen.error)
            Button(
                onClick = {
                    val typed = password
                    password = ""
                    act { submitActivation(serviceId, userId, typed) }
                },
                enabled = !frame.busy,
                modifier = Modifier.fillMaxWidth(),
            ) { Text(stringResource(R.string.action_send)) }
        }
    }
}

/** 初期設定完了: not finished until the first code is confirmed in internet banking. */
@Composable
fun ActivationDoneScreen(screen: AppScreen.ActivationDone, frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_activation_done), frame.busy, frame.notice, frame.onNoticeShown) { padding ->
        Column(Modifier.padding(padding).padding(16.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            Text(screen.token.issuer, style = MaterialTheme.typography.titleMedium)
            Text(stringResource(R.string.activation_done_body))
            Button(onClick = { act { continueAfterActivation() } }, modifier = Modifier.fillMaxWidth()) {
                Text(stringResource(R.string.action_next))
            }
        }
    }
}

/** A QR code or link for a server the bank directory does not list: its host, and a choice. */
@Composable
fun ConfirmServerScreen(screen: AppScreen.ConfirmServer, frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_confirm_server), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(Modifier.padding(padding).padding(24.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            Text(stringResource(R.string.confirm_server_text, screen.host))
            Button(onClick = { act { confirmServer() } }, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.action_continue)) }
            OutlinedButton(onClick = frame.onBack, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.action_cancel)) }
        }
    }
}
