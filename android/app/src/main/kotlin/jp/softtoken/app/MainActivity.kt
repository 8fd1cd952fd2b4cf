// The one activity: secure window, Compose content, app lock on leaving, activation links.
package jp.softtoken.app

import android.content.Intent
import android.os.Bundle
import android.view.WindowManager
import androidx.activity.compose.BackHandler
import androidx.activity.compose.setContent
import androidx.activity.viewModels
import androidx.fragment.app.FragmentActivity
import jp.softtoken.app.ui.AppRoot
import jp.softtoken.app.ui.SoftTokenTheme

/** Hosts the Compose screens. A FragmentActivity: BiometricPrompt needs one. */
class MainActivity : FragmentActivity() {
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
                AppRoot(state = viewModel.state, act = viewModel::act, scanner = QrScanner(this), biometricPrompt = ::biometricPrompt)
            }
        }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        handleLink(intent)
    }

    override fun onStart() {
        super.onStart()
        viewModel.act { onForeground() }
    }

    override fun onStop() {
        super.onStop()
        // Leaving the app locks it after the shell's grace period (when the app lock is on);
        // the code scanner, another activity, has a longer one.
        if (!isChangingConfigurations) viewModel.act { onBackground() }
    }

    // The lock screen's biometric button: the prompt, its outcome to the shell.
    private fun biometricPrompt() {
        viewModel.biometrics.unlock(this, getString(R.string.biometric_prompt_title), getString(R.string.action_cancel)) { result ->
            viewModel.act { biometricResult(result) }
        }
    }

    // softtoken://activate?… from the bank's e-mail or QR code opens the filled-in form.
    private fun handleLink(intent: Intent?) {
        val uri = intent?.takeIf { it.action == Intent.ACTION_VIEW }?.dataString ?: return
        viewModel.act { scanned(uri) }
    }
}
