//! The app: the behaviour of the iOS and Android token apps, in one place (DESIGN.md §9).
//!
//! Shaped like redbadger/crux: the shell sends [`Event`]s (a tap, a scanned code, the
//! one-second tick, the app going to the background) and draws the [`ViewState`] it is
//! handed through [`Shell::render`]; the [`Shell`] also performs the few effects only the
//! platform can (the clipboard, the biometric key). The vault key is wrapped by the
//! platform's [`KeyWrapper`] (Keystore, Keychain). Everything else — the app lock and its
//! back-off, the token list and its codes, activation, provisioning, 取引確認, settings, what
//! may be copied and when it is cleared, every message — is decided here and tested with
//! `cargo test`, never twice in Kotlin and Swift.
//!
//! Threading: [`App::send`] may block (the PIN key derivation takes most of a second,
//! activation goes to the network), so a shell calls it from one worker thread, never the
//! main one. Asking the servers what became of the tokens (on open, unlock and pull) runs
//! on a thread of its own within [`AppConfig::refresh_budget`], taking the vault's lock
//! only between requests: the one-second tick is never held up by a slow server, so a
//! code is never shown after its time.

mod clipboard;
mod failure;
mod messages;
mod model;
mod refresh;
mod view;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub use clipboard::CLEAR_AFTER_MS;
pub use messages::{Language, Message, MessageKey};
pub use model::{LOCK_GRACE_MS, SCAN_GRACE_MS, SIGN_CODE_SECONDS};
pub use view::{
    ActivationView, BankView, CodeView, EXPIRING_SOON_SECONDS, FirstUse, InputField, PinPurpose,
    PinStep, Screen, ShownCode, TokenCard, TokenSummary, TransferView, ViewState, countdown,
    spoken,
};

use crate::banks::BankDirectory;
use crate::keywrap::KeyWrapper;
use crate::vault::{Clock, StoreOptions};
use model::Model;

/// The effects only the platform can perform. Calls come from the thread that sent the
/// event (or from the refresh thread for [`Shell::render`]): the shell hands drawing to its
/// UI thread itself.
pub trait Shell: Send + Sync {
    /// Draw `view` (replacing the last one).
    fn render(&self, view: ViewState);

    /// Put `text` on the clipboard marked sensitive: Android `EXTRA_IS_SENSITIVE`, iOS
    /// `.localOnly` with an expiry.
    fn put_on_clipboard(&self, text: String);

    /// Whether the clipboard still holds the clip put there last: false once anything else
    /// was copied; `None` when the platform cannot tell now (Android 10+ in the background).
    fn clipboard_still_ours(&self) -> Option<bool>;

    /// Empty the clipboard.
    fn clear_clipboard(&self);

    /// Whether strong biometrics are set up on this device now (false: no biometric option).
    fn biometric_available(&self) -> bool;

    /// Whether a PIN is stored under a biometric key.
    fn biometric_enrolled(&self) -> bool;

    /// Make a new biometric key and store `pin` (ASCII digits) encrypted to it (a public-key
    /// encryption: no prompt). The model wipes its copy when this returns. False: nothing
    /// was stored (the key could not be made), and the customer is told.
    fn biometric_enroll(&self, pin: &[u8]) -> bool;

    /// Delete the biometric key and the stored PIN.
    fn biometric_remove(&self);
}

/// How the platform's biometric prompt ended.
pub enum BiometricOutcome {
    /// The stored PIN, decrypted (ASCII digits); the model wipes it after use.
    Success(zeroize::Zeroizing<Vec<u8>>),
    /// The customer closed the prompt or chose the PIN.
    Cancelled,
    /// The key is invalidated or gone: biometry changed (a new fingerprint, Face ID reset).
    Invalidated,
    /// Too many tries or another failure: the PIN is the way in.
    Failed,
}

impl std::fmt::Debug for BiometricOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BiometricOutcome::Success(_) => "Success(…)",
            BiometricOutcome::Cancelled => "Cancelled",
            BiometricOutcome::Invalidated => "Invalidated",
            BiometricOutcome::Failed => "Failed",
        })
    }
}

/// A PIN or start password on its way to the vault or the server: wiped when dropped, never
/// in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretText(zeroize::Zeroizing<String>);

impl SecretText {
    /// The text, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        SecretText(zeroize::Zeroizing::new(text))
    }
}

impl From<&str> for SecretText {
    fn from(text: &str) -> Self {
        SecretText::from(text.to_string())
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(…)")
    }
}

/// What the customer (or the platform) did. PINs and start passwords are wiped once used.
#[derive(Debug)]
pub enum Event {
    /// Open the vault: the lock screen if the app lock is on, else the token list.
    Start,
    /// One second passed: codes, countdowns, the back-off, the clipboard's clear, the lock.
    Tick,
    /// Try to open the vault again (from the screen shown when it could not be read).
    Retry,
    /// Back one screen (nothing at the root: [`ViewState::can_go_back`]).
    Back,
    /// The notice was shown.
    DismissNotice,
    /// The app went to the background.
    Background,
    /// The app is in front again.
    Foreground,
    /// The code scanner opens (on Android a separate activity: leaving for it is not leaving).
    ScanStarted,
    /// The scanner closed without a code.
    ScanCancelled,
    /// The scanner could not run; `camera_denied`: the customer refused the camera.
    ScanFailed {
        /// The camera permission was refused.
        camera_denied: bool,
    },
    /// A QR code was scanned or a `softtoken://` link opened (activation or 取引確認).
    Scanned {
        /// The code's text.
        uri: String,
    },
    /// The PIN typed on the lock screen.
    Unlock {
        /// The PIN.
        pin: SecretText,
    },
    /// The platform's biometric prompt (offered on the lock screen) ended.
    Biometric(BiometricOutcome),
    /// "Forgot the PIN?": the reset, after a confirmation.
    ForgotPin,
    /// Open one token.
    OpenToken {
        /// Its serial.
        serial: String,
    },
    /// The shell copied the serial to the clipboard: confirm it.
    SerialCopied,
    /// Copy the token's current code (cleared after [`CLEAR_AFTER_MS`] and on lock).
    CopyCode {
        /// Its serial.
        serial: String,
    },
    /// Pull to refresh: ask the servers what became of each token.
    RefreshStates,
    /// Refresh the token's clock offset from its server.
    SyncTime {
        /// Its serial.
        serial: String,
    },
    /// Ask before deleting a token.
    RequestDelete {
        /// Its serial.
        serial: String,
    },
    /// Delete the token the confirmation was about.
    ConfirmDelete,
    /// Offer the two ways to add a token.
    AddToken,
    /// The activation form, empty.
    StartActivation,
    /// Accept the unlisted server shown.
    ConfirmServer,
    /// Send the activation form (送信).
    SubmitActivation {
        /// サービスID as typed.
        service_id: String,
        /// ユーザID as typed.
        user_id: String,
        /// 利用開始パスワード.
        start_password: SecretText,
    },
    /// 次へ after 初期設定完了: the first code, with what to do with it.
    ContinueAfterActivation,
    /// Registration mode: create a token and show its serial and code.
    StartRegistration,
    /// The customer checked 振込先 and 金額 and confirms: the code for this transfer.
    ConfirmTransfer,
    /// Manual 取引確認 for a token: the form for the digits the bank's screen shows.
    StartTypedSign {
        /// Its serial.
        serial: String,
    },
    /// The digits typed in manual mode (spaces and hyphens allowed).
    SubmitTypedDigits {
        /// As typed.
        digits: String,
    },
    /// Done with the 取引確認 code (or a refusal): back to the token list.
    FinishSign,
    /// Open the settings.
    OpenSettings,
    /// Turn the app lock on: new PIN, then again.
    BeginSetPin,
    /// Change the PIN: current, new, again.
    BeginChangePin,
    /// Turn the app lock off: current PIN.
    BeginRemovePin,
    /// Turn biometric unlock on: the current PIN, then it is stored under the biometric key.
    BeginEnableBiometric,
    /// Turn biometric unlock off.
    DisableBiometric,
    /// A PIN entered on the current step of a PIN flow.
    EnterPin {
        /// The PIN.
        pin: SecretText,
    },
    /// Ask before the reset.
    RequestReset,
    /// Delete every token and the PIN (the customer confirmed).
    ConfirmReset,
}

/// Per-app settings, from the build (Android `BuildConfig`, iOS `Info.plist`).
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The vault file.
    pub vault_path: std::path::PathBuf,
    /// The activation server for hand-typed IDs the directory does not list; `None`: none.
    pub activation_server: Option<String>,
    /// The server of registration mode (serial + code); `None`: not offered.
    pub registration_server: Option<String>,
    /// The service of registration mode.
    pub registration_service_id: Option<String>,
    /// The bank directory of the app build; `None`: none shipped (every QR server is asked about).
    pub banks: Option<BankDirectory>,
    /// The texts' language.
    pub language: Language,
    /// How long the token-state refresh on open, unlock and pull may take in all.
    pub refresh_budget: Duration,
    /// How long a time sync the customer asked for may take.
    pub time_sync_budget: Duration,
}

impl AppConfig {
    /// The CLI's budget for a best-effort refresh: a slow server costs the customer at most this.
    pub const REFRESH_BUDGET: Duration = Duration::from_secs(3);

    /// A time sync's budget: longer than the refresh's (the customer asked and waits for
    /// it), and the code keeps running meanwhile.
    pub const TIME_SYNC_BUDGET: Duration = Duration::from_secs(10);

    /// A configuration with the vault at `vault_path` and nothing else.
    pub fn new(vault_path: impl Into<std::path::PathBuf>) -> Self {
        AppConfig {
            vault_path: vault_path.into(),
            activation_server: None,
            registration_server: None,
            registration_service_id: None,
            banks: None,
            language: Language::default(),
            refresh_budget: Self::REFRESH_BUDGET,
            time_sync_budget: Self::TIME_SYNC_BUDGET,
        }
    }
}

/// The app. Cheap to share: every method takes `&self`.
pub struct App {
    shared: Arc<Shared>,
}

/// What the refresh thread shares with the app.
pub(crate) struct Shared {
    model: Mutex<Model>,
    /// The last view drawn, readable while an event runs.
    view: Mutex<ViewState>,
}

impl App {
    /// The app over the vault of `config`, its key wrapped by `key_wrapper`, drawing through
    /// `shell`. Nothing happens until [`Event::Start`].
    pub fn new(config: AppConfig, key_wrapper: Arc<dyn KeyWrapper>, shell: Arc<dyn Shell>) -> Self {
        Self::with_options(config, key_wrapper, shell, StoreOptions::default())
    }

    /// [`App::new`] with the vault's options: its clock (the codes' and the back-off's time;
    /// tests move it by hand) and its PIN work factor.
    pub fn with_options(
        config: AppConfig,
        key_wrapper: Arc<dyn KeyWrapper>,
        shell: Arc<dyn Shell>,
        options: StoreOptions,
    ) -> Self {
        let shared = Arc::new_cyclic(|me| Shared {
            model: Mutex::new(Model::new(config, key_wrapper, shell, options, me.clone())),
            view: Mutex::new(ViewState::of(Screen::Opening)),
        });
        App { shared }
    }

    /// Handles `event`; the shell is told what to draw.
    pub fn send(&self, event: Event) {
        lock(&self.shared.model).handle(event);
    }

    /// The view drawn last (also while an event runs).
    pub fn view(&self) -> ViewState {
        lock(&self.shared.view).clone()
    }

    /// The clock the app reads.
    pub fn clock(&self) -> Arc<dyn Clock> {
        lock(&self.shared.model).clock()
    }
}

/// The lock's value even after a panic elsewhere: the model and the vault are consistent
/// after every step (the vault writes its file whole), so a bug in one event does not brick
/// the app.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
