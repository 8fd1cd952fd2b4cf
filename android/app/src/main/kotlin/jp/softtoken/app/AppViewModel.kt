// Glue between the shell's AppModel and Compose: runs the model on one background thread and
// publishes its view to the UI. No flow logic here: that is the core's (AppCore).
package jp.softtoken.app

import android.app.Application
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import java.io.File
import java.util.concurrent.Executors
import jp.softtoken.core.AppView
import jp.softtoken.shell.AppConfig
import jp.softtoken.shell.AppModel
import jp.softtoken.shell.Vault
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch

/** Holds the [AppModel] for the activity's lifetime, across rotations. */
class AppViewModel(application: Application) : AndroidViewModel(application) {
    // One thread, in order: the model is not for concurrent calls, and the core's PIN and
    // network calls block for up to seconds, so never on the main thread.
    private val worker = Executors.newSingleThreadExecutor { r -> Thread(r, "softtoken-core") }

    /** The biometric key, also used by the activity for the prompt. */
    val biometrics = KeystoreBiometricKeys(application)

    private val model = AppModel(
        vault = Vault(File(application.filesDir, "tokens.vault").path, KeystoreKeyWrapper(application)),
        config = AppConfig(
            activationServer = BuildConfig.ACTIVATION_SERVER.ifEmpty { null },
            registrationServer = BuildConfig.REGISTRATION_SERVER.ifEmpty { null },
            registrationServiceId = BuildConfig.REGISTRATION_SERVICE.ifEmpty { null },
            // The build's bank directory (assets/banks.json, from mobile/banks), read by the core; none: null.
            banksJson = runCatching {
                application.assets.open("banks.json").use { it.readBytes().decodeToString() }
            }.getOrNull(),
            // The texts in the device's language: Japanese unless it is English.
            language = if (application.resources.configuration.locales[0].language == "en") "en" else "ja",
        ),
        pasteboard = SystemPasteboard(application),
        biometrics = biometrics,
    )

    /** What the screens draw. Written from the worker; Compose snapshot state is thread-safe. */
    var state: AppView by mutableStateOf(model.state)
        private set

    init {
        model.addListener { state = it }
        act { start() }
        // The countdown: codes and the PIN back-off refresh every second.
        viewModelScope.launch {
            while (isActive) {
                delay(TICK_MS - System.currentTimeMillis() % TICK_MS)
                act { tick() }
            }
        }
    }

    /** Runs [action] on the model's worker thread. */
    fun act(action: AppModel.() -> Unit) {
        worker.execute { model.action() }
    }

    override fun onCleared() {
        worker.shutdown()
    }

    private companion object {
        const val TICK_MS = 1000L
    }
}
