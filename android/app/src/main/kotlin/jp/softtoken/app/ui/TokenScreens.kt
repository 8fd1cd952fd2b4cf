// The token list (home) and one token: codes, countdown, serial, delete.
package jp.softtoken.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.pulltorefresh.PullToRefreshBox
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.semantics.clearAndSetSemantics
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.unit.dp
import jp.softtoken.app.QrScanner
import jp.softtoken.app.R
import jp.softtoken.core.FirstUse
import jp.softtoken.core.AppScreen
import jp.softtoken.core.TokenCard
import jp.softtoken.core.AppMessage

/** Shown while the vault opens. */
@Composable
fun OpeningScreen() {
    Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) { CircularProgressIndicator() }
}

/**
 * Home: every token with its state, code and countdown; empty, the welcome and the add
 * button. Pulling down (or 状態を更新) asks the servers what became of each token.
 */
@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun TokenListScreen(screen: AppScreen.Tokens, frame: Frame, act: Act, scanner: QrScanner) {
    ScreenFrame(
        title = stringResource(R.string.title_tokens),
        busy = frame.busy,
        notice = frame.notice,
        onNoticeShown = frame.onNoticeShown,
        actions = {
            TextButton(onClick = { act { refreshStates() } }) { Text(stringResource(R.string.action_refresh)) }
            TextButton(onClick = { act { openSettings() } }) { Text(stringResource(R.string.action_settings)) }
        },
    ) { padding ->
        PullToRefreshBox(
            isRefreshing = frame.refreshing,
            onRefresh = { act { refreshStates() } },
            modifier = Modifier.fillMaxSize().padding(padding),
        ) {
            LazyColumn(
                modifier = Modifier.fillMaxSize().padding(horizontal = 16.dp),
                verticalArrangement = Arrangement.spacedBy(12.dp),
            ) {
                if (screen.cards.isEmpty()) {
                    item { Text(stringResource(R.string.welcome), modifier = Modifier.padding(vertical = 24.dp)) }
                }
                items(screen.cards, key = { it.token.serial }) { card ->
                    TokenCardView(card, onOpen = { act { openToken(card.token.serial) } })
                }
                if (screen.cards.isNotEmpty()) {
                    item {
                        // 取引確認: the QR code internet banking shows for a transfer.
                        Button(
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
                            Text(stringResource(R.string.action_sign_scan))
                        }
                    }
                }
                item {
                    OutlinedButton(onClick = { act { addToken() } }, modifier = Modifier.fillMaxWidth()) {
                        Text(stringResource(R.string.action_add))
                    }
                }
            }
        }
    }
}

@Composable
private fun TokenCardView(card: TokenCard, onOpen: () -> Unit) {
    Card(modifier = Modifier.fillMaxWidth().clickable(onClick = onOpen)) {
        Column(Modifier.padding(16.dp)) {
            Text(card.token.issuer, style = MaterialTheme.typography.titleMedium)
            if (card.token.label.isNotEmpty()) Text(card.token.label, style = MaterialTheme.typography.bodySmall)
            StatusLine(card.status)
            card.code?.let { CodeBlock(it, Modifier.padding(top = 8.dp)) }
            card.whyDead?.let { Text(it.text, style = MaterialTheme.typography.bodySmall) }
        }
    }
}

// The state's label: 「利用中」, 登録手続き中, トークン失効, 利用中止, 機種変更済み (docs/glossary.toml).
@Composable
private fun StatusLine(status: AppMessage) {
    Text(status.text, color = MaterialTheme.colorScheme.secondary, style = MaterialTheme.typography.labelLarge)
}

/** One token: the code large, the next code, the serial with copy, time sync and delete. */
@Composable
fun TokenDetailScreen(screen: AppScreen.TokenDetail, frame: Frame, act: Act) {
    val token = screen.card.token
    ScreenFrame(token.issuer, frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(
            modifier = Modifier.fillMaxSize().padding(padding).padding(16.dp).verticalScroll(rememberScrollState()),
            verticalArrangement = Arrangement.spacedBy(16.dp),
        ) {
            when (screen.firstUse) {
                FirstUse.ACTIVATION -> Text(stringResource(R.string.activation_first_code))
                FirstUse.REGISTRATION -> Text(stringResource(R.string.registration_first_code))
                null -> Unit
            }
            StatusLine(screen.card.status)
            // A dead token: no code, why, what to do, and the delete button first.
            screen.card.whyDead?.let { why ->
                Text(why.text, style = MaterialTheme.typography.bodyLarge)
                Button(onClick = { act { requestDelete(token.serial) } }, modifier = Modifier.fillMaxWidth()) {
                    Text(stringResource(R.string.action_delete))
                }
            }
            screen.card.code?.let { code ->
                CodeBlock(code)
                // One tap: the shell puts it on the clipboard (sensitive, cleared after 60 s)
                // and its notice, read by TalkBack, says so.
                OutlinedButton(onClick = { act { copyCode(token.serial) } }, modifier = Modifier.fillMaxWidth()) {
                    Text(stringResource(R.string.action_copy_code))
                }
                if (code.expiringSoon) {
                    // Read digit by digit, like the code itself: "0 7 0 8, 1 8 0 4", not a number.
                    val label = stringResource(R.string.label_next_code)
                    Text(
                        "$label: ${code.next.grouped()}",
                        style = MaterialTheme.typography.bodyLarge,
                        modifier = Modifier.clearAndSetSemantics { contentDescription = "$label ${code.next.spoken()}" },
                    )
                }
            }
            if (screen.card.whyDead == null) {
                // 取引確認 without a camera: the digits typed from the bank's screen.
                OutlinedButton(onClick = { act { startTypedSign(token.serial) } }, modifier = Modifier.fillMaxWidth()) {
                    Text(stringResource(R.string.action_sign_manual))
                }
            }
            SerialRow(token.serialGrouped, token.serialSpoken, onCopied = { act { serialCopied() } })
            if (screen.card.whyDead == null) {
                OutlinedButton(onClick = { act { syncTime(token.serial) } }, modifier = Modifier.fillMaxWidth()) {
                    Text(stringResource(R.string.action_sync_time))
                }
                TextButton(onClick = { act { requestDelete(token.serial) } }) {
                    Text(stringResource(R.string.action_delete), color = MaterialTheme.colorScheme.error)
                }
            }
        }
    }
}

/** Delete this token? Only after the bank revoked it (トークンの失効). */
@Composable
fun ConfirmDeleteScreen(screen: AppScreen.ConfirmDelete, frame: Frame, act: Act) {
    ScreenFrame(stringResource(R.string.title_delete), frame.busy, frame.notice, frame.onNoticeShown, onBack = frame.onBack) { padding ->
        Column(Modifier.padding(padding).padding(16.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
            Text("${screen.token.issuer}  ${screen.token.serialGrouped}", style = MaterialTheme.typography.titleMedium)
            Text(stringResource(R.string.delete_warning))
            Button(onClick = { act { confirmDelete() } }, modifier = Modifier.fillMaxWidth()) {
                Text(stringResource(R.string.action_delete))
            }
            TextButton(onClick = frame.onBack) { Text(stringResource(R.string.action_cancel)) }
        }
    }
}
