// Settings (設定): app lock on/off, change the PIN, reset the app.
package jp.softtoken.app.ui

import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.foundation.clickable
import androidx.compose.ui.res.stringResource
import jp.softtoken.app.R
import jp.softtoken.core.AppScreen

/** The settings list. */
@Composable
fun SettingsScreen(screen: AppScreen.Settings, frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_settings), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(Modifier.padding(padding)) {
            ListItem(
                headlineContent = { Text(stringResource(R.string.setting_app_lock)) },
                trailingContent = {
                    Switch(
                        checked = screen.lockOn,
                        onCheckedChange = { on -> act { if (on) beginSetPin() else beginRemovePin() } },
                    )
                },
            )
            if (screen.lockOn) {
                ListItem(
                    headlineContent = { Text(stringResource(R.string.setting_change_pin)) },
                    modifier = Modifier.fillMaxWidth().clickable { act { beginChangePin() } },
                )
                if (screen.biometricAvailable) {
                    ListItem(
                        headlineContent = { Text(stringResource(R.string.label_biometric)) },
                        trailingContent = {
                            Switch(
                                checked = screen.biometricOn,
                                onCheckedChange = { on -> act { if (on) beginEnableBiometric() else disableBiometric() } },
                            )
                        },
                    )
                }
            }
            HorizontalDivider()
            ListItem(
                headlineContent = { Text(stringResource(R.string.setting_reset), color = MaterialTheme.colorScheme.error) },
                modifier = Modifier.fillMaxWidth().clickable { act { requestReset() } },
            )
        }
    }
}
