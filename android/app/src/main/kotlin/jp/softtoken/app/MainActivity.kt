// The one activity: secure window, Compose content, app lock on leaving, activation links.
package jp.softtoken.app

import android.content.Intent
import android.os.Bundle
import android.view.WindowManager
import androidx.activity.ComponentActivity
import androidx.activity.compose.BackHandler
import androidx.activity.compose.setContent
import androidx.activity.viewModels
import jp.softtoken.app.ui.AppRoot
import jp.softtoken.app.ui.SoftTokenTheme

/** Hosts the Compose screens. */
class MainActivity : ComponentActivity() {
    private val viewModel: AppViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // Codes and serials must not end up in screenshots, screen recordings or the
        // recent-apps thumbnail.
        window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
        handleLink(intent)
        setContent {
            SoftTokenTheme {
                BackHandler { viewModel.act { if (!back()) runOnUiThread { finish() } } }
                AppRoot(state = viewModel.state, act = viewModel::act, scanner = QrScanner(this))
            }
        }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        handleLink(intent)
    }

    override fun onStop() {
        super.onStop()
        // Leaving the app locks it (when the app lock is on).
        if (!isChangingConfigurations) viewModel.act { onBackground() }
    }

    // softtoken://activate?… from the bank's e-mail or QR code opens the filled-in form.
    private fun handleLink(intent: Intent?) {
        val uri = intent?.takeIf { it.action == Intent.ACTION_VIEW }?.dataString ?: return
        viewModel.act { scanned(uri) }
    }
}
