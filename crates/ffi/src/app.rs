//! The app model for the shells (DESIGN.md §9): a thin forward to `softtoken_core::app`,
//! where the behaviour lives and is tested. The shell sends [`AppEvent`]s to an
//! [`AppCore`] and draws the [`AppView`] its [`AppShell`] is handed; the shell performs the
//! platform's effects (clipboard, biometric key) when asked. Only the types are here.

use std::sync::Arc;

use softtoken_core::app;
use softtoken_core::vault::{Clock, StoreOptions};
use softtoken_core::{BankDirectory, app::Language};
use zeroize::Zeroizing;

use crate::key_wrapper::ForeignKeyWrapper;
use crate::store::TokenState;
use crate::{InputField, KeyWrapper, SoftTokenError};

/// What only the platform can do for the app, implemented by each shell. Calls come from
/// the thread that sent the event, or from the app's refresh thread for `render`: the shell
/// hands drawing to its UI thread itself, and must not call [`AppCore::send`] from inside.
///
/// Every method may fail ([`ShellError`]; an exception the shell did not declare arrives as
/// `ShellError::Unexpected`): a platform effect that throws is the shell's failure, never a
/// crash of the core. What the core does then is said per method.
#[uniffi::export(with_foreign)]
pub trait AppShell: Send + Sync {
    /// Draw `view`, replacing the last one. A failure is dropped: the next view replaces it.
    fn render(&self, view: AppView) -> Result<(), ShellError>;
    /// Put `text` on the clipboard marked sensitive (Android `EXTRA_IS_SENSITIVE`, iOS
    /// `.localOnly` with an expiry).
    fn put_on_clipboard(&self, text: String) -> Result<(), ShellError>;
    /// Whether the clipboard still holds the clip put there last; `None`: cannot tell now
    /// (as is a failure).
    fn clipboard_still_ours(&self) -> Result<Option<bool>, ShellError>;
    /// Empty the clipboard.
    fn clear_clipboard(&self) -> Result<(), ShellError>;
    /// Whether strong biometrics are set up on the device now (a failure: no).
    fn biometric_available(&self) -> Result<bool, ShellError>;
    /// Whether a PIN is stored under a biometric key (a failure: no).
    fn biometric_enrolled(&self) -> Result<bool, ShellError>;
    /// Make a new biometric key and store `pin` (ASCII digits) encrypted to it; wipe `pin`.
    /// A failure: nothing stored, and the customer is told.
    fn biometric_enroll(&self, pin: Vec<u8>) -> Result<(), ShellError>;
    /// Delete the biometric key and the stored PIN.
    fn biometric_remove(&self) -> Result<(), ShellError>;
}

/// A platform effect that failed in the shell.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ShellError {
    /// The platform refused or failed (a Keystore or Keychain error, a clipboard service
    /// that is gone).
    #[error("the platform failed: {detail}")]
    Platform {
        /// What the platform said.
        detail: String,
    },
    /// The shell threw something it did not declare.
    #[error("the shell failed unexpectedly: {detail}")]
    Unexpected {
        /// The exception's text.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for ShellError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ShellError::Unexpected { detail: e.reason }
    }
}

/// How long a copied code stays on the clipboard, in seconds: the core clears it then, and
/// an iOS clip is given the same expiry, which runs while the app is suspended too.
#[uniffi::export]
pub fn clipboard_clear_seconds() -> i64 {
    app::CLEAR_AFTER_MS / 1000
}

/// The device clock, for tests that move time by hand (the apps use the system clock).
#[uniffi::export(with_foreign)]
pub trait DeviceClock: Send + Sync {
    /// Now, in Unix milliseconds.
    fn now_unix_ms(&self) -> i64;
}

/// The app build's settings (Android `BuildConfig`, iOS `Info.plist`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct AppSettings {
    /// The vault file, in the app's private files.
    pub vault_path: String,
    /// The activation server for hand-typed IDs the directory does not list; `None`: none.
    pub activation_server: Option<String>,
    /// The server of registration mode; `None`: not offered.
    pub registration_server: Option<String>,
    /// The service of registration mode.
    pub registration_service_id: Option<String>,
    /// The bank directory file of the build (JSON); `None`: none shipped.
    pub bank_directory_json: Option<String>,
    /// `"en"` for English texts; anything else Japanese.
    pub language: String,
}

/// The app: one per process. Every method may be called from any thread; `send` blocks
/// (PIN key derivation, activation): call it from one worker thread, never the main one.
#[derive(uniffi::Object)]
pub struct AppCore {
    app: app::App,
    language: Language,
}

#[uniffi::export]
impl AppCore {
    /// The app over the vault of `settings`, its key wrapped by `key_wrapper`, drawing
    /// through `shell`. A bank directory that cannot be read fails with `InvalidInput`.
    #[uniffi::constructor]
    pub fn new(
        settings: AppSettings,
        key_wrapper: Arc<dyn KeyWrapper>,
        shell: Arc<dyn AppShell>,
    ) -> Result<Arc<Self>, SoftTokenError> {
        Self::build(settings, key_wrapper, shell, StoreOptions::default())
    }

    /// [`AppCore::new`] reading `clock` (tests move it by hand) with a PIN work factor of
    /// `pin_iterations` (tests make it fast; 0: the default).
    #[uniffi::constructor]
    pub fn with_clock(
        settings: AppSettings,
        key_wrapper: Arc<dyn KeyWrapper>,
        shell: Arc<dyn AppShell>,
        clock: Arc<dyn DeviceClock>,
        pin_iterations: u32,
    ) -> Result<Arc<Self>, SoftTokenError> {
        let mut options = StoreOptions {
            clock: Arc::new(ForeignClock(clock)),
            ..StoreOptions::default()
        };
        if pin_iterations > 0 {
            options.pin_iterations = pin_iterations;
        }
        Self::build(settings, key_wrapper, shell, options)
    }

    /// Handles `event`; the shell's `render` is called with each new view.
    pub fn send(&self, event: AppEvent) {
        self.app.send(event.into());
    }

    /// The view drawn last (also while an event runs).
    pub fn view(&self) -> AppView {
        AppView::of(self.app.view(), self.language)
    }
}

impl AppCore {
    fn build(
        settings: AppSettings,
        key_wrapper: Arc<dyn KeyWrapper>,
        shell: Arc<dyn AppShell>,
        options: StoreOptions,
    ) -> Result<Arc<Self>, SoftTokenError> {
        let banks = settings
            .bank_directory_json
            .as_deref()
            .map(BankDirectory::from_json)
            .transpose()
            .map_err(|e| SoftTokenError::invalid(InputField::Other, e))?;
        let language = if settings.language == "en" {
            Language::English
        } else {
            Language::Japanese
        };
        let mut config = app::AppConfig::new(settings.vault_path);
        config.activation_server = settings.activation_server;
        config.registration_server = settings.registration_server;
        config.registration_service_id = settings.registration_service_id;
        config.banks = banks;
        config.language = language;
        let shell = Arc::new(ShellBridge { shell, language });
        let wrapper = Arc::new(ForeignKeyWrapper(key_wrapper));
        Ok(Arc::new(AppCore {
            app: app::App::with_options(config, wrapper, shell, options),
            language,
        }))
    }
}

struct ForeignClock(Arc<dyn DeviceClock>);

impl Clock for ForeignClock {
    fn now_unix_ms(&self) -> i64 {
        self.0.now_unix_ms()
    }
}

struct ShellBridge {
    shell: Arc<dyn AppShell>,
    language: Language,
}

impl app::Shell for ShellBridge {
    fn render(&self, view: app::ViewState) {
        let _ = self.shell.render(AppView::of(view, self.language));
    }
    fn put_on_clipboard(&self, text: String) {
        let _ = self.shell.put_on_clipboard(text);
    }
    fn clipboard_still_ours(&self) -> Option<bool> {
        self.shell.clipboard_still_ours().ok().flatten()
    }
    fn clear_clipboard(&self) {
        let _ = self.shell.clear_clipboard();
    }
    fn biometric_available(&self) -> bool {
        self.shell.biometric_available().unwrap_or(false)
    }
    fn biometric_enrolled(&self) -> bool {
        self.shell.biometric_enrolled().unwrap_or(false)
    }
    fn biometric_enroll(&self, pin: &[u8]) -> bool {
        self.shell.biometric_enroll(pin.to_vec()).is_ok()
    }
    fn biometric_remove(&self) {
        let _ = self.shell.biometric_remove();
    }
}

/// How the platform's biometric prompt ended.
#[derive(uniffi::Enum)]
pub enum BiometricOutcome {
    /// The stored PIN, decrypted (ASCII digits).
    Success {
        /// The PIN; the core wipes its copy after use.
        pin: Vec<u8>,
    },
    /// The customer closed the prompt or chose the PIN.
    Cancelled,
    /// The key is invalidated or gone: biometry changed.
    Invalidated,
    /// Too many tries or another failure: the PIN is the way in.
    Failed,
}

impl std::fmt::Debug for BiometricOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BiometricOutcome::Success { .. } => "Success(…)",
            BiometricOutcome::Cancelled => "Cancelled",
            BiometricOutcome::Invalidated => "Invalidated",
            BiometricOutcome::Failed => "Failed",
        })
    }
}

/// What the customer or the platform did; see `softtoken_core::app::Event` for each.
#[derive(uniffi::Enum)]
pub enum AppEvent {
    /// Open the vault.
    Start,
    /// One second passed (send it every second, in the background too).
    Tick,
    /// Try to open the vault again.
    Retry,
    /// Back one screen.
    Back,
    /// The notice was shown.
    DismissNotice,
    /// The app went to the background.
    Background,
    /// The app is in front again.
    Foreground,
    /// The code scanner opens.
    ScanStarted,
    /// The scanner closed without a code.
    ScanCancelled,
    /// The scanner could not run.
    ScanFailed {
        /// The customer refused the camera.
        camera_denied: bool,
    },
    /// A QR code was scanned or a `softtoken://` link opened.
    Scanned {
        /// The code's text.
        uri: String,
    },
    /// The PIN typed on the lock screen.
    Unlock {
        /// The PIN.
        pin: String,
    },
    /// The biometric prompt ended.
    Biometric {
        /// How.
        outcome: BiometricOutcome,
    },
    /// "Forgot the PIN?".
    ForgotPin,
    /// Open one token.
    OpenToken {
        /// Its serial.
        serial: String,
    },
    /// The shell copied the serial.
    SerialCopied,
    /// Copy the token's current code.
    CopyCode {
        /// Its serial.
        serial: String,
    },
    /// Pull to refresh.
    RefreshStates,
    /// Refresh the token's clock offset.
    SyncTime {
        /// Its serial.
        serial: String,
    },
    /// Ask before deleting a token.
    RequestDelete {
        /// Its serial.
        serial: String,
    },
    /// Delete the token asked about.
    ConfirmDelete,
    /// The two ways to add a token.
    AddToken,
    /// The empty activation form.
    StartActivation,
    /// Accept the unlisted server shown.
    ConfirmServer,
    /// Send the activation form.
    SubmitActivation {
        /// サービスID.
        service_id: String,
        /// ユーザID.
        user_id: String,
        /// 利用開始パスワード.
        start_password: String,
    },
    /// 次へ after 初期設定完了.
    ContinueAfterActivation,
    /// Registration mode.
    StartRegistration,
    /// Confirm the scanned transfer.
    ConfirmTransfer,
    /// Manual 取引確認 for a token.
    StartTypedSign {
        /// Its serial.
        serial: String,
    },
    /// The digits typed in manual mode.
    SubmitTypedDigits {
        /// As typed.
        digits: String,
    },
    /// Done with the 取引確認 code.
    FinishSign,
    /// Open the settings.
    OpenSettings,
    /// Turn the app lock on.
    BeginSetPin,
    /// Change the PIN.
    BeginChangePin,
    /// Turn the app lock off.
    BeginRemovePin,
    /// Turn biometric unlock on.
    BeginEnableBiometric,
    /// Turn biometric unlock off.
    DisableBiometric,
    /// A PIN for the current step of a PIN flow.
    EnterPin {
        /// The PIN.
        pin: String,
    },
    /// Ask before the reset.
    RequestReset,
    /// Delete every token and the PIN.
    ConfirmReset,
}

impl From<AppEvent> for app::Event {
    fn from(e: AppEvent) -> Self {
        use app::Event as E;
        match e {
            AppEvent::Start => E::Start,
            AppEvent::Tick => E::Tick,
            AppEvent::Retry => E::Retry,
            AppEvent::Back => E::Back,
            AppEvent::DismissNotice => E::DismissNotice,
            AppEvent::Background => E::Background,
            AppEvent::Foreground => E::Foreground,
            AppEvent::ScanStarted => E::ScanStarted,
            AppEvent::ScanCancelled => E::ScanCancelled,
            AppEvent::ScanFailed { camera_denied } => E::ScanFailed { camera_denied },
            AppEvent::Scanned { uri } => E::Scanned { uri },
            AppEvent::Unlock { pin } => E::Unlock { pin: pin.into() },
            AppEvent::Biometric { outcome } => E::Biometric(match outcome {
                BiometricOutcome::Success { pin } => {
                    app::BiometricOutcome::Success(Zeroizing::new(pin))
                }
                BiometricOutcome::Cancelled => app::BiometricOutcome::Cancelled,
                BiometricOutcome::Invalidated => app::BiometricOutcome::Invalidated,
                BiometricOutcome::Failed => app::BiometricOutcome::Failed,
            }),
            AppEvent::ForgotPin => E::ForgotPin,
            AppEvent::OpenToken { serial } => E::OpenToken { serial },
            AppEvent::SerialCopied => E::SerialCopied,
            AppEvent::CopyCode { serial } => E::CopyCode { serial },
            AppEvent::RefreshStates => E::RefreshStates,
            AppEvent::SyncTime { serial } => E::SyncTime { serial },
            AppEvent::RequestDelete { serial } => E::RequestDelete { serial },
            AppEvent::ConfirmDelete => E::ConfirmDelete,
            AppEvent::AddToken => E::AddToken,
            AppEvent::StartActivation => E::StartActivation,
            AppEvent::ConfirmServer => E::ConfirmServer,
            AppEvent::SubmitActivation {
                service_id,
                user_id,
                start_password,
            } => E::SubmitActivation {
                service_id,
                user_id,
                start_password: start_password.into(),
            },
            AppEvent::ContinueAfterActivation => E::ContinueAfterActivation,
            AppEvent::StartRegistration => E::StartRegistration,
            AppEvent::ConfirmTransfer => E::ConfirmTransfer,
            AppEvent::StartTypedSign { serial } => E::StartTypedSign { serial },
            AppEvent::SubmitTypedDigits { digits } => E::SubmitTypedDigits { digits },
            AppEvent::FinishSign => E::FinishSign,
            AppEvent::OpenSettings => E::OpenSettings,
            AppEvent::BeginSetPin => E::BeginSetPin,
            AppEvent::BeginChangePin => E::BeginChangePin,
            AppEvent::BeginRemovePin => E::BeginRemovePin,
            AppEvent::BeginEnableBiometric => E::BeginEnableBiometric,
            AppEvent::DisableBiometric => E::DisableBiometric,
            AppEvent::EnterPin { pin } => E::EnterPin { pin: pin.into() },
            AppEvent::RequestReset => E::RequestReset,
            AppEvent::ConfirmReset => E::ConfirmReset,
        }
    }
}

/// A message: its key (the string resource name both apps use), its numbers, and its text
/// in the app's language (ja/en, from the core's table).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AppMessage {
    /// The resource name (`error_wrong_pin`).
    pub key: String,
    /// The numbers for `%1$d`, `%2$d`.
    pub args: Vec<i64>,
    /// The text, arguments substituted.
    pub text: String,
}

impl AppMessage {
    fn of(m: &app::Message, language: Language) -> Self {
        AppMessage {
            key: m.key.resource_name().to_string(),
            args: m.args.clone(),
            text: m.text(language),
        }
    }
}

/// Everything drawn. No `Debug`: a 取引確認 code is on some screens.
#[derive(Clone, PartialEq, uniffi::Record)]
pub struct AppView {
    /// The screen.
    pub screen: AppScreen,
    /// A PIN or network call runs: the screen's buttons wait.
    pub busy: bool,
    /// The token states are being asked for in the background (codes keep running).
    pub refreshing: bool,
    /// A passing notice (a toast, read out by the screen reader).
    pub notice: Option<AppMessage>,
    /// Back leads somewhere (false at the root: the app may close).
    pub can_go_back: bool,
}

impl AppView {
    fn of(v: app::ViewState, language: Language) -> Self {
        AppView {
            screen: AppScreen::of(v.screen, language),
            busy: v.busy,
            refreshing: v.refreshing,
            notice: v.notice.as_ref().map(|m| AppMessage::of(m, language)),
            can_go_back: v.can_go_back,
        }
    }
}

/// One token as a list shows it: never its seed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TokenSummary {
    /// The serial without spaces: the token's identity.
    pub serial: String,
    /// The serial grouped for reading (`SKTS 1234 5678`).
    pub serial_grouped: String,
    /// The serial for TalkBack / VoiceOver, symbol by symbol (`S K T S, 1 2 3 4, 5 6 7 8`).
    pub serial_spoken: String,
    /// The bank's display name.
    pub issuer: String,
    /// The customer's label (the user ID at activation); may be empty.
    pub label: String,
    /// Where the token is in its life.
    pub state: TokenState,
    /// Code length.
    pub digits: i32,
    /// Seconds each code lasts.
    pub period_seconds: i64,
    /// The bank's service ID.
    pub service_id: String,
}

impl From<app::TokenSummary> for TokenSummary {
    fn from(t: app::TokenSummary) -> Self {
        TokenSummary {
            serial: t.serial,
            serial_grouped: t.serial_grouped,
            serial_spoken: t.serial_spoken,
            issuer: t.issuer,
            label: t.label,
            state: t.state.into(),
            digits: i32::try_from(t.digits).unwrap_or(i32::MAX),
            period_seconds: signed(t.period_seconds),
            service_id: t.service_id,
        }
    }
}

/// Digits on screen (a one-time password, a 取引確認 code), as shown and as read aloud.
/// An object, not a record: the Kotlin `data class` UniFFI makes of a record prints every
/// field in `toString()` (and Swift's reflection in `description`), so a code in a record
/// reaches any log line that prints a view. An object prints as its handle.
#[derive(uniffi::Object)]
pub struct ShownDigits {
    grouped: Zeroizing<String>,
    spoken: Zeroizing<String>,
}

#[uniffi::export]
impl ShownDigits {
    /// `123 456`.
    pub fn grouped(&self) -> String {
        self.grouped.to_string()
    }

    /// `1 2 3, 4 5 6`, for TalkBack / VoiceOver (read digit by digit, not as a number).
    pub fn spoken(&self) -> String {
        self.spoken.to_string()
    }
}

impl ShownDigits {
    fn new(grouped: String, spoken: String) -> Arc<Self> {
        Arc::new(ShownDigits {
            grouped: Zeroizing::new(grouped),
            spoken: Zeroizing::new(spoken),
        })
    }
}

impl PartialEq for ShownDigits {
    fn eq(&self, other: &Self) -> bool {
        self.grouped == other.grouped
    }
}

impl std::fmt::Debug for ShownDigits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShownDigits(…)")
    }
}

/// A code ready to draw (the plain code stays in the core: `CopyCode` copies it).
#[derive(Clone, PartialEq, uniffi::Record)]
pub struct CodeView {
    /// The code now.
    pub now: Arc<ShownDigits>,
    /// The next code (shown small when few seconds are left).
    pub next: Arc<ShownDigits>,
    /// Seconds left.
    pub seconds_left: i64,
    /// The step length.
    pub period_seconds: i64,
    /// `0:58`.
    pub countdown: String,
    /// 0.0–1.0 of the period left.
    pub remaining: f32,
    /// The last few seconds.
    pub expiring_soon: bool,
}

impl std::fmt::Debug for CodeView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CodeView(seconds_left={})", self.seconds_left)
    }
}

impl From<app::CodeView> for CodeView {
    fn from(c: app::CodeView) -> Self {
        CodeView {
            now: ShownDigits::new(c.grouped, c.spoken),
            next: ShownDigits::new(c.next_grouped, c.next_spoken),
            seconds_left: signed(c.seconds_left),
            period_seconds: signed(c.period_seconds),
            countdown: c.countdown,
            remaining: c.remaining,
            expiring_soon: c.expiring_soon,
        }
    }
}

/// A token with its code now (`None` for a dead one) and its state's words.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TokenCard {
    /// The token.
    pub token: TokenSummary,
    /// Its code.
    pub code: Option<CodeView>,
    /// The state's label (利用中…).
    pub status: AppMessage,
    /// Why there is no code and what to do; `None` if alive.
    pub why_dead: Option<AppMessage>,
}

impl TokenCard {
    fn of(c: app::TokenCard, language: Language) -> Self {
        TokenCard {
            status: AppMessage::of(&c.status, language),
            why_dead: c.why_dead.as_ref().map(|m| AppMessage::of(m, language)),
            token: c.token.into(),
            code: c.code.map(CodeView::from),
        }
    }
}

/// Why a token screen explains the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FirstUse {
    /// Activation mode: type this code into internet banking to confirm.
    Activation,
    /// Registration mode: type the serial and this code into internet banking.
    Registration,
}

/// What a PIN screen is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PinPurpose {
    /// Turning the app lock on.
    Set,
    /// Changing the PIN.
    Change,
    /// Turning the app lock off.
    Remove,
    /// Turning biometric unlock on.
    Biometric,
}

/// Which PIN a PIN screen asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PinStep {
    /// The PIN set now.
    Current,
    /// The new PIN.
    New,
    /// The new PIN again.
    Confirm,
}

/// What an activation QR code points at.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ActivationView {
    /// The activation server.
    pub server_url: String,
    /// サービスID.
    pub service_id: String,
    /// ユーザID.
    pub user_id: String,
}

/// A bank of the directory, for the picker.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BankChoice {
    /// サービスID.
    pub service_id: String,
    /// The bank's name.
    pub name: String,
}

/// A transfer to confirm (取引確認), the account masked.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransferView {
    /// The bank (service) that asks.
    pub service_id: String,
    /// The challenge's id.
    pub id: String,
    /// 振込先.
    pub payee_name: String,
    /// The account, all but its last four characters masked.
    pub masked_account: String,
    /// 金額 with its currency.
    pub display_amount: String,
}

impl From<app::TransferView> for TransferView {
    fn from(t: app::TransferView) -> Self {
        TransferView {
            service_id: t.service_id,
            id: t.id,
            payee_name: t.payee_name,
            masked_account: t.masked_account,
            display_amount: t.display_amount,
        }
    }
}

/// One screen of the app; see `softtoken_core::app::Screen` for each. No `Debug`: the
/// 取引確認 code is on `SignCode`.
#[derive(Clone, PartialEq, uniffi::Enum)]
pub enum AppScreen {
    /// Opening the vault.
    Opening,
    /// The lock screen.
    Unlock {
        /// Why the last try failed.
        error: Option<AppMessage>,
        /// The back-off still to wait (the pad is disabled meanwhile).
        wait_seconds: i64,
        /// Offer the biometric prompt.
        biometric: bool,
    },
    /// The token list.
    Tokens {
        /// Every token.
        cards: Vec<TokenCard>,
    },
    /// The two ways to add a token.
    AddToken,
    /// The activation form.
    Activation {
        /// サービスID.
        service_id: String,
        /// ユーザID.
        user_id: String,
        /// The scanned server, if any.
        scanned_server: Option<String>,
        /// Why the last send failed.
        error: Option<AppMessage>,
        /// The field it is about.
        error_field: Option<InputField>,
        /// The directory's banks, for the picker.
        banks: Vec<BankChoice>,
    },
    /// An unlisted server: its host, and a question.
    ConfirmServer {
        /// What the code points at.
        target: ActivationView,
        /// The host.
        host: String,
    },
    /// 初期設定完了.
    ActivationDone {
        /// The new token.
        token: TokenSummary,
    },
    /// One token.
    TokenDetail {
        /// The token and its code.
        card: TokenCard,
        /// Set right after it was created.
        first_use: Option<FirstUse>,
    },
    /// Delete a token?
    ConfirmDelete {
        /// The token.
        token: TokenSummary,
    },
    /// Settings.
    Settings {
        /// The app lock is on.
        lock_on: bool,
        /// Biometric unlock is on.
        biometric_on: bool,
        /// Biometrics can be offered.
        biometric_available: bool,
    },
    /// A PIN pad.
    PinEntry {
        /// What for.
        purpose: PinPurpose,
        /// Which PIN.
        step: PinStep,
        /// Why the flow restarted.
        error: Option<AppMessage>,
    },
    /// Reset the app?
    ConfirmReset,
    /// 取引確認: the transfer and the token that answers.
    SignConfirm {
        /// The transfer.
        transfer: TransferView,
        /// The token.
        token: TokenSummary,
    },
    /// Manual 取引確認.
    SignManual {
        /// The token.
        token: TokenSummary,
        /// Why the last digits were refused.
        error: Option<AppMessage>,
    },
    /// The 取引確認 code and its countdown.
    SignCode {
        /// The scanned transfer (`None` in manual mode).
        transfer: Option<TransferView>,
        /// The digits signed in manual mode.
        typed_digits: Option<String>,
        /// The code, while the bank accepts it by default.
        code: Option<Arc<ShownDigits>>,
        /// Seconds left.
        seconds_left: i64,
        /// The seconds left as `4:58`.
        countdown: String,
        /// 0.0–1.0 of the time left, for a bar.
        remaining: f32,
    },
    /// No code for this challenge.
    SignRefused {
        /// Why.
        message: AppMessage,
    },
    /// The vault cannot be opened.
    Broken {
        /// Why.
        message: AppMessage,
    },
}

impl AppScreen {
    fn of(s: app::Screen, l: Language) -> Self {
        use app::Screen as S;
        let msg = |m: &app::Message| AppMessage::of(m, l);
        let opt = |m: &Option<app::Message>| m.as_ref().map(msg);
        match s {
            S::Opening => AppScreen::Opening,
            S::Unlock {
                error,
                wait_seconds,
                biometric,
            } => AppScreen::Unlock {
                error: opt(&error),
                wait_seconds: signed(wait_seconds),
                biometric,
            },
            S::Tokens { cards } => AppScreen::Tokens {
                cards: cards.into_iter().map(|c| TokenCard::of(c, l)).collect(),
            },
            S::AddToken => AppScreen::AddToken,
            S::Activation {
                service_id,
                user_id,
                scanned_server,
                error,
                error_field,
                banks,
            } => AppScreen::Activation {
                service_id,
                user_id,
                scanned_server,
                error: opt(&error),
                error_field: error_field.map(|f| match f {
                    app::InputField::ServiceId => InputField::ServiceId,
                    app::InputField::UserId => InputField::UserId,
                    app::InputField::StartPassword => InputField::StartPassword,
                    app::InputField::ActivationUri => InputField::ActivationUri,
                }),
                banks: banks
                    .into_iter()
                    .map(|b| BankChoice {
                        service_id: b.service_id,
                        name: b.name,
                    })
                    .collect(),
            },
            S::ConfirmServer { target, host } => AppScreen::ConfirmServer {
                target: ActivationView {
                    server_url: target.server_url,
                    service_id: target.service_id,
                    user_id: target.user_id,
                },
                host,
            },
            S::ActivationDone { token } => AppScreen::ActivationDone {
                token: token.into(),
            },
            S::TokenDetail { card, first_use } => AppScreen::TokenDetail {
                card: TokenCard::of(card, l),
                first_use: first_use.map(|f| match f {
                    app::FirstUse::Activation => FirstUse::Activation,
                    app::FirstUse::Registration => FirstUse::Registration,
                }),
            },
            S::ConfirmDelete { token } => AppScreen::ConfirmDelete {
                token: token.into(),
            },
            S::Settings {
                lock_on,
                biometric_on,
                biometric_available,
            } => AppScreen::Settings {
                lock_on,
                biometric_on,
                biometric_available,
            },
            S::PinEntry {
                purpose,
                step,
                error,
            } => AppScreen::PinEntry {
                purpose: match purpose {
                    app::PinPurpose::Set => PinPurpose::Set,
                    app::PinPurpose::Change => PinPurpose::Change,
                    app::PinPurpose::Remove => PinPurpose::Remove,
                    app::PinPurpose::Biometric => PinPurpose::Biometric,
                },
                step: match step {
                    app::PinStep::Current => PinStep::Current,
                    app::PinStep::New => PinStep::New,
                    app::PinStep::Confirm => PinStep::Confirm,
                },
                error: opt(&error),
            },
            S::ConfirmReset => AppScreen::ConfirmReset,
            S::SignConfirm { transfer, token } => AppScreen::SignConfirm {
                transfer: transfer.into(),
                token: token.into(),
            },
            S::SignManual { token, error } => AppScreen::SignManual {
                token: token.into(),
                error: opt(&error),
            },
            S::SignCode {
                transfer,
                typed_digits,
                code,
                seconds_left,
                countdown,
                remaining,
            } => AppScreen::SignCode {
                transfer: transfer.map(TransferView::from),
                typed_digits,
                code: code.map(|c| {
                    let spoken = c.spoken();
                    ShownDigits::new(c.0, spoken)
                }),
                seconds_left: signed(seconds_left),
                countdown,
                remaining,
            },
            S::SignRefused { message } => AppScreen::SignRefused {
                message: msg(&message),
            },
            S::Broken { message } => AppScreen::Broken {
                message: msg(&message),
            },
        }
    }
}

/// Seconds as the shells count them (Kotlin `Long`, Swift `Int64`).
fn signed(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}
