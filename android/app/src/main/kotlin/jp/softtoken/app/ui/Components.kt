// Building blocks shared by the screens: the code, the countdown, the serial with its copy
// button, and the frame every screen sits in.
package jp.softtoken.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Scaffold
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.remember
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalClipboardManager
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.semantics.clearAndSetSemantics
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.liveRegion
import androidx.compose.ui.semantics.LiveRegionMode
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.AnnotatedString
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import jp.softtoken.app.R
import jp.softtoken.core.CodeView
import jp.softtoken.core.AppMessage

/**
 * The code in large monospaced type, grouped (`123 456`), with its countdown. TalkBack reads
 * the code digit by digit from the core's spoken form, never as one big number.
 */
@Composable
fun CodeBlock(code: CodeView, modifier: Modifier = Modifier) {
    val label = stringResource(R.string.label_code)
    Column(modifier = modifier.fillMaxWidth(), horizontalAlignment = Alignment.CenterHorizontally) {
        Text(
            text = code.now.grouped(),
            fontFamily = FontFamily.Monospace,
            fontWeight = FontWeight.Bold,
            fontSize = 44.sp,
            letterSpacing = 2.sp,
            color = if (code.expiringSoon) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurface,
            modifier = Modifier.clearAndSetSemantics { contentDescription = "$label ${code.now.spoken()}" },
        )
        Countdown(code)
    }
}

/** The seconds left as `0:58` and a bar, announced as "残り58秒". */
@Composable
fun Countdown(code: CodeView) {
    val spoken = stringResource(R.string.label_seconds_left, code.secondsLeft)
    Row(
        verticalAlignment = Alignment.CenterVertically,
        horizontalArrangement = Arrangement.spacedBy(12.dp),
        modifier = Modifier.padding(top = 8.dp).clearAndSetSemantics { contentDescription = spoken },
    ) {
        LinearProgressIndicator(progress = { code.remaining }, modifier = Modifier.size(width = 160.dp, height = 6.dp))
        Text(code.countdown, style = MaterialTheme.typography.titleMedium, fontFamily = FontFamily.Monospace)
    }
}

/** The serial grouped (`SKTS 1234 5678`) with a copy button; [spoken] symbol by symbol. */
@Composable
fun SerialRow(grouped: String, spoken: String, onCopied: () -> Unit) {
    val clipboard = LocalClipboardManager.current
    val label = stringResource(R.string.label_serial)
    Row(verticalAlignment = Alignment.CenterVertically, modifier = Modifier.fillMaxWidth()) {
        Column(
            modifier = Modifier.weight(1f).clearAndSetSemantics {
                contentDescription = "$label $spoken"
            },
        ) {
            Text(label, style = MaterialTheme.typography.labelMedium)
            Text(grouped, fontFamily = FontFamily.Monospace, fontSize = 24.sp, fontWeight = FontWeight.SemiBold)
        }
        TextButton(onClick = {
            clipboard.setText(AnnotatedString(grouped.replace(" ", "")))
            onCopied()
        }) { Text(stringResource(R.string.action_copy)) }
    }
}

/** The frame of a screen: title, optional back, a snackbar for notices, a busy spinner. */
@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun ScreenFrame(
    title: String,
    busy: Boolean,
    notice: AppMessage?,
    onNoticeShown: () -> Unit,
    onBack: (() -> Unit)? = null,
    actions: @Composable () -> Unit = {},
    content: @Composable (PaddingValues) -> Unit,
) {
    val snackbar = remember { SnackbarHostState() }
    val noticeText = notice?.let { it.text }
    LaunchedEffect(noticeText) {
        if (noticeText != null) {
            snackbar.showSnackbar(noticeText)
            onNoticeShown()
        }
    }
    Scaffold(
        topBar = {
            TopAppBar(
                title = { Text(title) },
                navigationIcon = {
                    if (onBack != null) TextButton(onClick = onBack) { Text(stringResource(R.string.action_back)) }
                },
                actions = { actions() },
            )
        },
        snackbarHost = {
            SnackbarHost(snackbar, modifier = Modifier.semantics { liveRegion = LiveRegionMode.Polite })
        },
    ) { padding ->
        Box(Modifier.fillMaxSize()) {
            content(padding)
            if (busy) {
                val working = stringResource(R.string.label_busy)
                CircularProgressIndicator(
                    modifier = Modifier.align(Alignment.Center).semantics { contentDescription = working },
                )
            }
        }
    }
}

/** An error line under a form, announced when it appears. */
@Composable
fun ErrorText(message: AppMessage?) = ErrorText(message?.text)

/** An error line under a form (text already in the app's language), announced when it appears. */
@Composable
fun ErrorText(text: String?) {
    if (text == null) return
    Text(
        text,
        color = MaterialTheme.colorScheme.error,
        modifier = Modifier.padding(vertical = 8.dp).semantics { liveRegion = LiveRegionMode.Assertive },
    )
}
