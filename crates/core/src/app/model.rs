//! The app's state machine: what each event does and which screen follows. No drawing, no
//! platform: the [`Shell`] draws and performs the platform's effects.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use softtoken_protocol::{Serial, ServiceId, UserId};
use zeroize::Zeroizing;

use super::clipboard::{CLEAR_AFTER_MS, CodeClipboard};
use super::failure::Failure;
use super::messages::{Message, MessageKey};
use super::refresh::{self, Locked};
use super::view::{
    ActivationView, BankView, CodeView, FirstUse, InputField, PinPurpose, PinStep, Screen,
    ShownCode, TokenCard, TokenSummary, TransferView, ViewState,
};
use super::{AppConfig, BiometricOutcome, Event, SecretText, Shared, Shell, lock};
use crate::banks::{ServerCheck, host_of};
use crate::enroll::{ActivationTarget, ServerUrl};
use crate::keywrap::KeyWrapper;
use crate::sign;
use crate::vault::{Clock, StoreOptions, TokenStore};

/// Background time before the app locks: a glance at a mail or a permission dialog.
pub const LOCK_GRACE_MS: i64 = 10_000;

/// The same while the code scanner is open: scanning takes longer, and is the app's own.
pub const SCAN_GRACE_MS: i64 = 120_000;

/// How long a 取引確認 code stays on screen: the bank's default challenge lifetime (server
/// `DEFAULT_TTL_SECONDS`). The payload carries no expiry; the bank's screen shows the exact
/// one and its server is the judge.
pub const SIGN_CODE_SECONDS: u64 = 300;

type Outcome = Result<(), Failure>;

pub(crate) struct Model {
    config: AppConfig,
    wrapper: Arc<dyn KeyWrapper>,
    options: StoreOptions,
    shell: Arc<dyn Shell>,
    me: Weak<Shared>,
    vault: Option<Arc<Mutex<TokenStore>>>,
    /// When the app went to the background with the app lock on; it locks once the grace
    /// period is over (so the code scanner, a separate activity, does not lock it mid-scan).
    background_since_ms: Option<i64>,
    scanning: bool,
    /// An activation link or QR code that arrived while locked: opened after the unlock.
    pending_link: Option<String>,
    /// When the 取引確認 code on screen was made: its countdown runs from here.
    signed_at_ms: i64,
    back_stack: Vec<Screen>,
    state: ViewState,
    /// PINs typed on earlier steps of a PIN flow, wiped as soon as the flow ends.
    current_pin: Option<Zeroizing<String>>,
    new_pin: Option<Zeroizing<String>>,
    clipboard: CodeClipboard,
    /// Counts the refreshes started; an answer for an older one (before a lock, a reset) is
    /// dropped.
    refresh_generation: u64,
    refreshing: bool,
}

impl Model {
    pub(crate) fn new(
        config: AppConfig,
        wrapper: Arc<dyn KeyWrapper>,
        shell: Arc<dyn Shell>,
        options: StoreOptions,
        me: Weak<Shared>,
    ) -> Self {
        Model {
            config,
            wrapper,
            options,
            shell,
            me,
            vault: None,
            background_since_ms: None,
            scanning: false,
            pending_link: None,
            signed_at_ms: 0,
            back_stack: Vec::new(),
            state: ViewState::of(Screen::Opening),
            current_pin: None,
            new_pin: None,
            clipboard: CodeClipboard::default(),
            refresh_generation: 0,
            refreshing: false,
        }
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        self.options.clock.clone()
    }

    fn now_ms(&self) -> i64 {
        self.options.clock.now_unix_ms()
    }

    pub(crate) fn handle(&mut self, event: Event) {
        match event {
            Event::Start | Event::Retry => self.start(),
            Event::Tick => self.tick(),
            Event::Back => self.back(),
            Event::DismissNotice => {
                if self.state.notice.is_some() {
                    self.publish_with(|s| s.notice = None);
                }
            }
            Event::Background => self.on_background(),
            Event::Foreground => {
                self.lock_if_due();
                self.background_since_ms = None;
            }
            Event::ScanStarted => self.scanning = true,
            Event::ScanCancelled => self.scanning = false,
            Event::ScanFailed { camera_denied } => {
                self.scanning = false;
                self.notice(if camera_denied {
                    MessageKey::CameraDenied
                } else {
                    MessageKey::ScannerFailed
                });
            }
            Event::Scanned { uri } => self.scanned(uri),
            Event::Unlock { pin } => self.unlock(pin.expose()),
            Event::Biometric(outcome) => self.biometric(outcome),
            Event::ForgotPin | Event::RequestReset => self.push(Screen::ConfirmReset, None),
            Event::OpenToken { serial } => self.reading(|m| m.open_token(&serial)),
            Event::SerialCopied => self.notice(MessageKey::SerialCopied),
            Event::CopyCode { serial } => self.reading(|m| m.copy_code(&serial)),
            Event::RefreshStates => self.refresh_states(),
            Event::SyncTime { serial } => self.guarded(|m| m.sync_time(&serial)),
            Event::RequestDelete { serial } => self.reading(|m| m.request_delete(&serial)),
            Event::ConfirmDelete => self.confirm_delete(),
            Event::AddToken => self.push(Screen::AddToken, None),
            Event::StartActivation => {
                let form = self.empty_form();
                self.push(form, None);
            }
            Event::ConfirmServer => {
                if let Screen::ConfirmServer { target, .. } = &self.state.screen {
                    let form = self.form_for(target.clone());
                    self.replace(form, false);
                }
            }
            Event::SubmitActivation {
                service_id,
                user_id,
                start_password,
            } => self.submit_activation(&service_id, &user_id, start_password.expose()),
            Event::ContinueAfterActivation => self.reading(Model::continue_after_activation),
            Event::StartRegistration => self.start_registration(),
            Event::ConfirmTransfer => self.confirm_transfer(),
            Event::StartTypedSign { serial } => self.reading(|m| m.start_typed_sign(&serial)),
            Event::SubmitTypedDigits { digits } => self.submit_typed_digits(&digits),
            Event::FinishSign => {
                if is_sign_screen(&self.state.screen) {
                    self.show_tokens(None);
                }
            }
            Event::OpenSettings => self.reading(|m| {
                let settings = m.settings()?;
                m.push(settings, None);
                Ok(())
            }),
            Event::BeginSetPin => self.start_pin_flow(PinPurpose::Set, PinStep::New),
            Event::BeginChangePin => self.start_pin_flow(PinPurpose::Change, PinStep::Current),
            Event::BeginRemovePin => self.start_pin_flow(PinPurpose::Remove, PinStep::Current),
            Event::BeginEnableBiometric => {
                if self.shell.biometric_available() {
                    self.start_pin_flow(PinPurpose::Biometric, PinStep::Current);
                } else {
                    self.notice(MessageKey::BiometricFailed);
                }
            }
            Event::DisableBiometric => {
                self.shell.biometric_remove();
                if matches!(self.state.screen, Screen::Settings { .. }) {
                    self.reading(|m| {
                        let settings = m.settings()?;
                        m.replace(settings, false);
                        Ok(())
                    });
                }
                self.notice(MessageKey::BiometricOff);
            }
            Event::EnterPin { pin } => self.enter_pin(pin),
            Event::ConfirmReset => self.confirm_reset(),
        }
    }

    // --- Opening and the tick -----------------------------------------------------------

    fn start(&mut self) {
        let opened = TokenStore::open_with(
            &self.config.vault_path,
            self.wrapper.clone(),
            self.options.clone(),
        );
        match opened {
            Ok(store) => {
                let locked = store.is_locked();
                self.install(store);
                if locked {
                    self.show_unlock(None);
                } else {
                    self.opened();
                }
            }
            Err(e) => {
                self.vault = None;
                let message = Failure::from(e).message();
                self.show(Screen::Broken { message }, None, false);
            }
        }
    }

    fn tick(&mut self) {
        let now = self.now_ms();
        self.clipboard.tick(self.shell.as_ref(), now);
        if self.background_since_ms.is_some() {
            self.lock_if_due();
        }
        if self.state.busy {
            return;
        }
        let next = match self.state.screen.clone() {
            Screen::Tokens { .. } | Screen::TokenDetail { .. } => {
                self.refreshed(self.state.screen.clone())
            }
            Screen::Unlock {
                error,
                wait_seconds,
                biometric,
            } if wait_seconds > 0 => Ok(Screen::Unlock {
                error,
                wait_seconds: self.wait_seconds(),
                biometric,
            }),
            Screen::SignCode {
                transfer,
                typed_digits,
                code: Some(code),
                ..
            } => Ok(self.sign_code_now(transfer, typed_digits, code)),
            _ => return,
        };
        match next {
            Ok(screen) if screen != self.state.screen => self.replace(screen, false),
            Ok(_) => {}
            Err(f) => self.fail(f),
        }
    }

    fn back(&mut self) {
        if self.state.busy || self.back_stack.len() <= 1 {
            return;
        }
        if let Some(Screen::PinEntry { .. }) = self.back_stack.pop() {
            self.forget_pins();
        }
        let Some(top) = self.back_stack.last().cloned() else {
            return;
        };
        self.reading(|m| {
            let screen = m.refreshed(top)?;
            m.replace(screen, false);
            m.publish_with(|s| s.notice = None);
            Ok(())
        });
    }

    // --- App lock ---------------------------------------------------------------------

    fn on_background(&mut self) {
        let Some(vault) = &self.vault else { return };
        let store = lock(vault);
        if store.has_pin() && !store.is_locked() && self.background_since_ms.is_none() {
            drop(store);
            self.background_since_ms = Some(self.now_ms());
        }
    }

    fn lock_if_due(&mut self) {
        let Some(since) = self.background_since_ms else {
            return;
        };
        let grace = if self.scanning {
            SCAN_GRACE_MS
        } else {
            LOCK_GRACE_MS
        };
        if self.now_ms() - since < grace {
            return;
        }
        self.background_since_ms = None;
        self.scanning = false;
        let Some(vault) = self.vault.clone() else {
            return;
        };
        let mut store = lock(&vault);
        if store.has_pin() && !store.is_locked() {
            store.lock();
            drop(store);
            // A locked app shows no code: none stays on the clipboard either.
            self.clipboard.clear_now(self.shell.as_ref());
            self.forget_pins();
            self.show_unlock(None);
        }
    }

    fn unlock(&mut self, pin: &str) {
        let Screen::Unlock { biometric, .. } = self.state.screen else {
            return;
        };
        let wait = self.wait_seconds();
        if wait > 0 {
            let error = Some(Message::with(MessageKey::PinWait, vec![secs(wait)]));
            self.replace(
                Screen::Unlock {
                    error,
                    wait_seconds: wait,
                    biometric,
                },
                false,
            );
            return;
        }
        self.busy();
        match self.with_vault(|s| s.unlock(pin).map_err(Failure::from)) {
            Ok(()) => self.unlocked(),
            Err(f) => self.show_unlock(Some(f.message())),
        }
    }

    fn biometric(&mut self, outcome: BiometricOutcome) {
        if !matches!(self.state.screen, Screen::Unlock { .. }) {
            return; // a Success's PIN is wiped as it drops
        }
        match outcome {
            BiometricOutcome::Success(pin) => {
                let pin = Zeroizing::new(String::from_utf8_lossy(&pin).into_owned());
                self.busy();
                match self.with_vault(|s| s.unlock(&pin).map_err(Failure::from)) {
                    Ok(()) => self.unlocked(),
                    Err(f) => {
                        // A stored PIN the core refuses is stale: drop it, the PIN pad remains.
                        if matches!(f, Failure::WrongPin { .. }) {
                            self.shell.biometric_remove();
                        }
                        self.show_unlock(Some(f.message()));
                    }
                }
            }
            BiometricOutcome::Cancelled => {}
            BiometricOutcome::Invalidated => {
                // A new fingerprint or face must not open the vault: back to the PIN, for good.
                self.shell.biometric_remove();
                self.show_unlock(Some(MessageKey::BiometryChanged.into()));
            }
            BiometricOutcome::Failed => self.show_unlock(Some(MessageKey::BiometricFailed.into())),
        }
    }

    /// The back-off is the vault's (it counts the tries and keeps them across restarts).
    fn wait_seconds(&self) -> u64 {
        self.vault
            .as_ref()
            .map_or(0, |v| lock(v).pin_retry_after_seconds())
    }

    fn show_unlock(&mut self, error: Option<Message>) {
        // Whatever the refresh answers now is for an unlocked vault that is no more.
        self.refresh_generation += 1;
        self.refreshing = false;
        let biometric = self.shell.biometric_available() && self.shell.biometric_enrolled();
        let screen = Screen::Unlock {
            error,
            wait_seconds: self.wait_seconds(),
            biometric,
        };
        let keep = self.pending_link.is_some();
        self.show(screen, None, keep);
    }

    fn unlocked(&mut self) {
        self.opened();
        self.open_pending_link();
    }

    // A link that waited behind the lock opens now, over the token list.
    fn open_pending_link(&mut self) {
        let link = self.pending_link.take();
        if let Some(link) = link
            && matches!(self.state.screen, Screen::Tokens { .. })
        {
            self.scanned(link);
        }
    }

    // The vault is open: the token list with the last known states at once, then the
    // servers' answers, in the background.
    fn opened(&mut self) {
        self.show_tokens(None);
        if matches!(&self.state.screen, Screen::Tokens { cards } if !cards.is_empty()) {
            self.refresh_states();
        }
    }

    // --- Tokens -------------------------------------------------------------------------

    fn open_token(&mut self, serial: &str) -> Outcome {
        match self.cards()?.into_iter().find(|c| c.token.serial == serial) {
            Some(card) => self.push(
                Screen::TokenDetail {
                    card,
                    first_use: None,
                },
                None,
            ),
            None => self.notice(MessageKey::TokenNotFound),
        }
        Ok(())
    }

    fn copy_code(&mut self, serial: &str) -> Outcome {
        let serial = Serial::parse(serial)?;
        let now = self.now_ms();
        let code = self.with_vault(|s| {
            let token = s.token(&serial)?;
            // A dead token shows no code, so it has none to copy either.
            if token.state.is_dead() {
                return Err(Failure::TokenNotFound);
            }
            Ok(s.code(&serial, now)?)
        })?;
        self.clipboard
            .copy(self.shell.as_ref(), code.code.clone(), now);
        let seconds = CLEAR_AFTER_MS / 1000;
        self.publish_with(|s| {
            s.busy = false;
            s.notice = Some(Message::with(MessageKey::CodeCopied, vec![seconds]));
        });
        Ok(())
    }

    /// Asks the servers what became of each token, in the background (see `refresh`).
    fn refresh_states(&mut self) {
        let Some(vault) = self.vault.clone() else {
            return;
        };
        if self.state.busy
            || self.refreshing
            || matches!(
                self.state.screen,
                Screen::Unlock { .. } | Screen::Broken { .. }
            )
        {
            return;
        }
        self.refresh_generation += 1;
        self.refreshing = true;
        self.publish_with(|_| {});
        refresh::start(
            vault,
            self.clock(),
            self.config.refresh_budget,
            self.me.clone(),
            self.refresh_generation,
        );
    }

    /// The refresh `generation` ended; `reached`: every server answered. An unreachable
    /// server leaves the last known states and says so once, quietly; success says nothing.
    pub(crate) fn refresh_done(&mut self, generation: u64, reached: bool) {
        if generation != self.refresh_generation || !self.refreshing {
            return;
        }
        self.refreshing = false;
        if self.state.busy {
            return self.publish_with(|_| {});
        }
        let Some(top) = self.back_stack.last().cloned() else {
            return self.publish_with(|_| {});
        };
        match self.refreshed(top) {
            Ok(screen) => {
                if let Some(last) = self.back_stack.last_mut() {
                    *last = screen.clone();
                }
                self.publish_with(|s| {
                    s.screen = screen;
                    if !reached {
                        s.notice = Some(MessageKey::StatesUnreachable.into());
                    }
                });
            }
            Err(f) => self.fail(f),
        }
    }

    fn sync_time(&mut self, serial: &str) -> Outcome {
        let serial = Serial::parse(serial)?;
        let vault = self.open_vault()?;
        refresh::enroller(self.clock(), None)?.sync_token_time(Locked(&vault), &serial)?;
        self.publish_with(|s| s.busy = false);
        self.tick();
        self.notice(MessageKey::TimeSynced);
        Ok(())
    }

    fn request_delete(&mut self, serial: &str) -> Outcome {
        let token = self.tokens()?.into_iter().find(|t| t.serial == serial);
        match token {
            Some(token) => self.push(Screen::ConfirmDelete { token }, None),
            None => self.notice(MessageKey::TokenNotFound),
        }
        Ok(())
    }

    fn confirm_delete(&mut self) {
        let Screen::ConfirmDelete { token } = &self.state.screen else {
            return;
        };
        let serial = token.serial.clone();
        self.guarded(|m| {
            let serial = Serial::parse(&serial)?;
            m.with_vault(|s| s.delete(&serial).map_err(Failure::from))?;
            m.show_tokens(Some(MessageKey::TokenDeleted));
            Ok(())
        });
    }

    // --- Adding a token ---------------------------------------------------------------

    /// A QR code was scanned or a link opened: an activation fills the form (a server the
    /// bank directory does not list is shown and asked about first); a 取引確認 challenge
    /// opens for confirmation. While the app is locked it waits for the unlock.
    fn scanned(&mut self, uri: String) {
        self.scanning = false;
        let Some(vault) = &self.vault else { return };
        let locked = lock(vault).is_locked();
        if locked || matches!(self.state.screen, Screen::Unlock { .. }) {
            self.pending_link = Some(uri);
            self.notice(MessageKey::LinkAfterUnlock);
            return;
        }
        // Only the scheme and host: the core reads (and refuses) the rest.
        if uri.trim().to_lowercase().starts_with("softtoken://sign") {
            return self.reading(|m| m.open_transfer(&uri));
        }
        let target = match ActivationTarget::from_uri(&uri) {
            Ok(target) => target,
            Err(e) => {
                let error = Some(Failure::from(e).message());
                let on_form = matches!(self.state.screen, Screen::Activation { .. });
                let mut form = if on_form {
                    self.state.screen.clone()
                } else {
                    self.empty_form()
                };
                if let Screen::Activation {
                    error: e,
                    error_field,
                    ..
                } = &mut form
                {
                    *e = error;
                    *error_field = Some(InputField::ActivationUri);
                }
                return if on_form {
                    self.replace(form, false)
                } else {
                    self.push(form, None)
                };
            }
        };
        let view = ActivationView {
            server_url: target.server.as_str().to_string(),
            service_id: target.service.as_str().to_string(),
            user_id: target.user.as_str().to_string(),
        };
        let check = match &self.config.banks {
            Some(banks) => banks
                .check_server(&view.service_id, &view.server_url)
                .unwrap_or_else(|_| ServerCheck::Unknown {
                    host: host_of(&target.server),
                }),
            None => ServerCheck::Unknown {
                host: host_of(&target.server),
            },
        };
        let next = match check {
            ServerCheck::Known(_) => self.form_for(view),
            ServerCheck::Unknown { host } => Screen::ConfirmServer { target: view, host },
        };
        if matches!(
            self.state.screen,
            Screen::Activation { .. } | Screen::ConfirmServer { .. }
        ) {
            self.replace(next, false);
        } else {
            self.push(next, None);
        }
    }

    fn submit_activation(&mut self, service_id: &str, user_id: &str, password: &str) {
        let Screen::Activation {
            scanned_server,
            banks,
            ..
        } = self.state.screen.clone()
        else {
            return;
        };
        let (service_id, user_id) = (service_id.trim().to_string(), user_id.trim().to_string());
        let form = |error: Option<Message>, error_field: Option<InputField>| Screen::Activation {
            service_id: service_id.clone(),
            user_id: user_id.clone(),
            scanned_server: scanned_server.clone(),
            error,
            error_field,
            banks: banks.clone(),
        };
        let missing = if service_id.is_empty() {
            Some(InputField::ServiceId)
        } else if user_id.is_empty() {
            Some(InputField::UserId)
        } else if password.is_empty() {
            Some(InputField::StartPassword)
        } else {
            None
        };
        if missing.is_some() {
            let screen = form(Some(MessageKey::RequiredField.into()), missing);
            return self.replace(screen, false);
        }
        // A typed service ID reaches its bank's server through the directory; a scanned
        // form keeps the QR code's server; a single-bank build may set one server for all.
        let directory = self.config.banks.as_ref();
        let server = scanned_server
            .clone()
            .or_else(|| {
                directory
                    .and_then(|d| d.find(&service_id))
                    .map(|b| b.server_url.clone())
            })
            .or_else(|| self.config.activation_server.clone());
        let Some(server) = server else {
            let screen = if directory.is_some() {
                form(
                    Some(MessageKey::UnknownServiceId.into()),
                    Some(InputField::ServiceId),
                )
            } else {
                form(Some(MessageKey::NotConfigured.into()), None)
            };
            return self.replace(screen, false);
        };
        let typed = form(None, None);
        self.replace(typed, true);
        match self.activate(&server, &service_id, &user_id, password) {
            Ok(token) => {
                // The form is done with: back stays on the token list, not on a used form.
                match self.cards() {
                    Ok(cards) => self.back_stack = vec![Screen::Tokens { cards }],
                    Err(f) => return self.fail(f),
                }
                self.push(
                    Screen::ActivationDone { token },
                    Some(MessageKey::Activated),
                );
            }
            Err(f) => {
                let screen = form(Some(f.message()), f.field());
                self.replace(screen, false);
            }
        }
    }

    fn activate(
        &mut self,
        server: &str,
        service_id: &str,
        user_id: &str,
        password: &str,
    ) -> Result<TokenSummary, Failure> {
        let target = ActivationTarget {
            server: ServerUrl::parse(server)?,
            service: ServiceId::new(service_id).map_err(|_| Failure::InvalidInput {
                field: Some(InputField::ServiceId),
            })?,
            user: UserId::new(user_id).map_err(|_| Failure::InvalidInput {
                field: Some(InputField::UserId),
            })?,
        };
        let vault = self.open_vault()?;
        let info =
            refresh::enroller(self.clock(), None)?.activate(Locked(&vault), &target, password)?;
        Ok(TokenSummary::from(&info))
    }

    fn continue_after_activation(&mut self) -> Outcome {
        let Screen::ActivationDone { token } = &self.state.screen else {
            return Ok(());
        };
        let serial = token.serial.clone();
        match self.cards()?.into_iter().find(|c| c.token.serial == serial) {
            Some(card) => {
                self.back_stack.pop();
                self.push(
                    Screen::TokenDetail {
                        card,
                        first_use: Some(FirstUse::Activation),
                    },
                    None,
                );
            }
            None => self.show_tokens(None),
        }
        Ok(())
    }

    fn start_registration(&mut self) {
        let (Some(server), Some(service)) = (
            self.config.registration_server.clone(),
            self.config.registration_service_id.clone(),
        ) else {
            return self.notice(MessageKey::NotConfigured);
        };
        self.busy();
        let provisioned = (|| {
            let server = ServerUrl::parse(&server)?;
            let service =
                ServiceId::new(service).map_err(|_| Failure::InvalidInput { field: None })?;
            let vault = self.open_vault()?;
            let info = refresh::enroller(self.clock(), None)?.provision(
                Locked(&vault),
                &server,
                &service,
            )?;
            Ok::<_, Failure>(TokenSummary::from(&info))
        })();
        let result = provisioned.and_then(|token| {
            let cards = self.cards()?;
            let card = cards
                .iter()
                .find(|c| c.token.serial == token.serial)
                .cloned();
            self.back_stack = vec![Screen::Tokens { cards }];
            match card {
                Some(card) => self.push(
                    Screen::TokenDetail {
                        card,
                        first_use: Some(FirstUse::Registration),
                    },
                    Some(MessageKey::Registered),
                ),
                None => self.show_tokens(None),
            }
            Ok(())
        });
        if let Err(f) = result {
            self.publish_with(|s| {
                s.busy = false;
                s.notice = Some(f.message());
            });
        }
    }

    // --- 取引確認 (transfer-bound codes) ------------------------------------------------

    fn open_transfer(&mut self, payload: &str) -> Outcome {
        let challenge = match sign::read_challenge(payload) {
            Ok(c) => c,
            Err(_) => {
                self.show_sign_screen(Screen::SignRefused {
                    message: MessageKey::SignMalformed.into(),
                });
                return Ok(());
            }
        };
        let transfer = TransferView {
            service_id: challenge.service_id.as_str().to_string(),
            id: challenge.id.clone(),
            payee_name: challenge.details.payee_name().to_string(),
            masked_account: challenge.details.masked_account(),
            display_amount: challenge.details.display_amount(),
            payload: payload.to_string(),
        };
        // The bank's own token answers: one that works before one that is still pending.
        let of_bank: Vec<TokenSummary> = self
            .tokens()?
            .into_iter()
            .filter(|t| t.service_id == transfer.service_id)
            .collect();
        let usable = of_bank
            .iter()
            .find(|t| t.state == crate::token::TokenState::Active)
            .or_else(|| {
                of_bank
                    .iter()
                    .find(|t| t.state == crate::token::TokenState::Pending)
            });
        let next = match usable {
            Some(token) => Screen::SignConfirm {
                transfer,
                token: token.clone(),
            },
            None if !of_bank.is_empty() => Screen::SignRefused {
                message: MessageKey::SignRevoked.into(),
            },
            None => Screen::SignRefused {
                message: MessageKey::SignOtherBank.into(),
            },
        };
        self.show_sign_screen(next);
        Ok(())
    }

    // A second scan replaces the sign screen on top instead of stacking another.
    fn show_sign_screen(&mut self, screen: Screen) {
        if is_sign_screen(&self.state.screen) {
            self.replace(screen, false);
        } else {
            self.push(screen, None);
        }
    }

    fn confirm_transfer(&mut self) {
        let Screen::SignConfirm { transfer, token } = self.state.screen.clone() else {
            return;
        };
        let signed = Serial::parse(&token.serial)
            .map_err(Failure::from)
            .and_then(|serial| {
                let challenge = sign::read_challenge(&transfer.payload)?;
                self.with_vault(|s| Ok(s.challenge_code(&serial, &challenge)?))
            });
        match signed {
            Ok(code) => self.show_sign_code(Some(transfer), None, code),
            Err(Failure::Locked) => self.show_unlock(None),
            Err(f) => {
                let message = match f {
                    Failure::Revoked => MessageKey::SignRevoked.into(),
                    Failure::Malformed if token.state.is_dead() => MessageKey::SignRevoked.into(),
                    Failure::Malformed => MessageKey::SignMalformed.into(),
                    other => other.message(),
                };
                self.replace(Screen::SignRefused { message }, false);
            }
        }
    }

    fn start_typed_sign(&mut self, serial: &str) -> Outcome {
        match self.tokens()?.into_iter().find(|t| t.serial == serial) {
            None => self.notice(MessageKey::TokenNotFound),
            Some(token) if token.state.is_dead() => self.push(
                Screen::SignRefused {
                    message: MessageKey::SignRevoked.into(),
                },
                None,
            ),
            Some(token) => self.push(Screen::SignManual { token, error: None }, None),
        }
        Ok(())
    }

    fn submit_typed_digits(&mut self, digits: &str) {
        let Screen::SignManual { token, .. } = self.state.screen.clone() else {
            return;
        };
        let typed: String = digits.chars().filter(|c| *c != ' ' && *c != '-').collect();
        let signed = Serial::parse(&token.serial)
            .map_err(Failure::from)
            .and_then(|serial| {
                let digits = sign::read_typed(&typed)?;
                self.with_vault(|s| Ok(s.typed_code(&serial, &digits)?))
            });
        match signed {
            Ok(code) => self.show_sign_code(None, Some(typed), code),
            Err(Failure::Locked) => self.show_unlock(None),
            // The token was revoked meanwhile.
            Err(Failure::Revoked) => self.replace(
                Screen::SignRefused {
                    message: MessageKey::SignRevoked.into(),
                },
                false,
            ),
            Err(f) => {
                let error = Some(match f {
                    Failure::Malformed => MessageKey::SignInvalidDigits.into(),
                    other => other.message(),
                });
                self.replace(Screen::SignManual { token, error }, false);
            }
        }
    }

    // The code replaces the form or confirmation: back leads to where the customer came from.
    fn show_sign_code(
        &mut self,
        transfer: Option<TransferView>,
        typed_digits: Option<String>,
        code: String,
    ) {
        self.signed_at_ms = self.now_ms();
        let screen = Screen::SignCode {
            transfer,
            typed_digits,
            code: Some(ShownCode(code)),
            seconds_left: SIGN_CODE_SECONDS,
        };
        self.replace(screen, false);
    }

    fn sign_code_now(
        &self,
        transfer: Option<TransferView>,
        typed_digits: Option<String>,
        code: ShownCode,
    ) -> Screen {
        let elapsed = u64::try_from((self.now_ms() - self.signed_at_ms) / 1000).unwrap_or(0);
        let left = SIGN_CODE_SECONDS.saturating_sub(elapsed);
        Screen::SignCode {
            transfer,
            typed_digits,
            code: (left > 0).then_some(code),
            seconds_left: left,
        }
    }

    // --- Settings: app lock and reset -------------------------------------------------

    fn start_pin_flow(&mut self, purpose: PinPurpose, step: PinStep) {
        self.forget_pins();
        self.push(
            Screen::PinEntry {
                purpose,
                step,
                error: None,
            },
            None,
        );
    }

    fn enter_pin(&mut self, pin: SecretText) {
        let pin = Zeroizing::new(pin.expose().to_string());
        let Screen::PinEntry { purpose, step, .. } = self.state.screen else {
            return;
        };
        let entry = |step, error| Screen::PinEntry {
            purpose,
            step,
            error,
        };
        match step {
            PinStep::Current => {
                self.current_pin = Some(pin);
                if matches!(purpose, PinPurpose::Remove | PinPurpose::Biometric) {
                    self.finish_pin_flow(purpose);
                } else {
                    self.replace(entry(PinStep::New, None), false);
                }
            }
            PinStep::New => {
                self.new_pin = Some(pin);
                self.replace(entry(PinStep::Confirm, None), false);
            }
            PinStep::Confirm => {
                if self.new_pin.as_deref().map(String::as_str) == Some(pin.as_str()) {
                    self.finish_pin_flow(purpose);
                } else {
                    self.new_pin = None;
                    let error = Some(MessageKey::PinMismatch.into());
                    self.replace(entry(PinStep::New, error), false);
                }
            }
        }
    }

    fn finish_pin_flow(&mut self, purpose: PinPurpose) {
        let screen = self.state.screen.clone();
        self.replace(screen, true);
        let current = self.current_pin.take().unwrap_or_default();
        let new = self.new_pin.take().unwrap_or_default();
        let shell = self.shell.clone();
        let done = self.with_vault(|s| {
            Ok(match purpose {
                PinPurpose::Set => {
                    s.set_pin(&new)?;
                    MessageKey::PinSet
                }
                PinPurpose::Change => {
                    s.change_pin(&current, &new)?;
                    // The biometric key holds the PIN: encrypt the new one (no prompt needed).
                    if shell.biometric_enrolled() {
                        shell.biometric_enroll(new.as_bytes());
                    }
                    MessageKey::PinChanged
                }
                PinPurpose::Remove => {
                    s.remove_pin(&current)?;
                    shell.biometric_remove();
                    MessageKey::PinRemoved
                }
                PinPurpose::Biometric => {
                    // Checks the PIN (counted like any try) without changing it.
                    s.change_pin(&current, &current)?;
                    shell.biometric_enroll(current.as_bytes());
                    MessageKey::BiometricOn
                }
            })
        });
        match done.and_then(|key| Ok((key, self.settings()?))) {
            Ok((key, settings)) => {
                while self
                    .back_stack
                    .last()
                    .is_some_and(|s| !matches!(s, Screen::Settings { .. }))
                {
                    self.back_stack.pop();
                }
                self.replace(settings, false);
                self.notice(key);
            }
            Err(f) => {
                // The PINs typed so far are dropped, so the flow restarts at its first step.
                let step = if purpose == PinPurpose::Set {
                    PinStep::New
                } else {
                    PinStep::Current
                };
                let error = Some(f.message());
                self.replace(
                    Screen::PinEntry {
                        purpose,
                        step,
                        error,
                    },
                    false,
                );
            }
        }
    }

    fn forget_pins(&mut self) {
        self.current_pin = None;
        self.new_pin = None;
    }

    fn settings(&self) -> Result<Screen, Failure> {
        let vault = self.open_vault()?;
        let lock_on = lock(&vault).has_pin();
        Ok(Screen::Settings {
            lock_on,
            biometric_on: lock_on && self.shell.biometric_enrolled(),
            biometric_available: self.shell.biometric_available(),
        })
    }

    fn confirm_reset(&mut self) {
        if self.state.screen != Screen::ConfirmReset {
            return;
        }
        self.busy();
        // A new vault, not the open one: a forgotten PIN leaves it locked, and a damaged one
        // was never opened.
        self.refresh_generation += 1;
        self.refreshing = false;
        let reset = TokenStore::reset(
            &self.config.vault_path,
            self.wrapper.clone(),
            self.options.clone(),
        );
        match reset {
            Ok(store) => self.install(store),
            Err(e) => {
                self.vault = None;
                let message = Failure::from(e).message();
                return self.show(Screen::Broken { message }, None, false);
            }
        }
        self.forget_pins();
        self.shell.biometric_remove();
        self.clipboard.clear_now(self.shell.as_ref());
        self.show_tokens(Some(MessageKey::AppReset));
        self.open_pending_link();
    }

    // --- Internals ----------------------------------------------------------------------

    /// Makes `store` the app's vault. A refresh still under way holds the old one's lock
    /// handle: the store is swapped inside it, so that refresh cannot write a vault that was
    /// reset back to the file (it finds the new store, without its tokens, and records
    /// nothing).
    fn install(&mut self, store: TokenStore) {
        match &self.vault {
            Some(vault) => *lock(vault) = store,
            None => self.vault = Some(Arc::new(Mutex::new(store))),
        }
    }

    fn open_vault(&self) -> Result<Arc<Mutex<TokenStore>>, Failure> {
        self.vault.clone().ok_or(Failure::Internal)
    }

    fn with_vault<T>(
        &self,
        f: impl FnOnce(&mut TokenStore) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let vault = self.open_vault()?;
        let mut store: MutexGuard<'_, TokenStore> = lock(&vault);
        f(&mut store)
    }

    fn tokens(&self) -> Result<Vec<TokenSummary>, Failure> {
        self.with_vault(|s| Ok(s.tokens()?.iter().map(TokenSummary::from).collect()))
    }

    fn cards(&self) -> Result<Vec<TokenCard>, Failure> {
        let now = self.now_ms();
        self.with_vault(|s| {
            s.tokens()?
                .iter()
                .map(|t| {
                    let code = if t.state.is_dead() {
                        None
                    } else {
                        Some(CodeView::of(&s.code(&t.serial, now)?))
                    };
                    Ok(TokenCard::new(TokenSummary::from(t), code))
                })
                .collect()
        })
    }

    fn empty_form(&self) -> Screen {
        Screen::Activation {
            service_id: String::new(),
            user_id: String::new(),
            scanned_server: None,
            error: None,
            error_field: None,
            banks: self.bank_views(),
        }
    }

    fn form_for(&self, target: ActivationView) -> Screen {
        Screen::Activation {
            service_id: target.service_id,
            user_id: target.user_id,
            scanned_server: Some(target.server_url),
            error: None,
            error_field: None,
            banks: self.bank_views(),
        }
    }

    fn bank_views(&self) -> Vec<BankView> {
        self.config.banks.as_ref().map_or_else(Vec::new, |d| {
            d.banks()
                .iter()
                .map(|b| BankView {
                    service_id: b.service_id.clone(),
                    name: b.name.clone(),
                })
                .collect()
        })
    }

    fn show_tokens(&mut self, notice: Option<MessageKey>) {
        match self.cards() {
            Ok(cards) => self.show(Screen::Tokens { cards }, notice, false),
            Err(f) => self.fail(f),
        }
    }

    // A failure outside a form: the lock screen if the vault locked, else the broken screen.
    fn fail(&mut self, failure: Failure) {
        if failure == Failure::Locked {
            self.show_unlock(None);
        } else {
            let message = failure.message();
            self.show(Screen::Broken { message }, None, false);
        }
    }

    // A screen shown again (after back, after a refresh): its codes and states may be stale.
    fn refreshed(&self, screen: Screen) -> Result<Screen, Failure> {
        Ok(match screen {
            Screen::Tokens { .. } => Screen::Tokens {
                cards: self.cards()?,
            },
            Screen::TokenDetail { card, first_use } => {
                let fresh = self
                    .cards()?
                    .into_iter()
                    .find(|c| c.token.serial == card.token.serial);
                Screen::TokenDetail {
                    card: fresh.unwrap_or(card),
                    first_use,
                }
            }
            Screen::Settings { .. } => self.settings()?,
            other => other,
        })
    }

    // Runs a read of the vault outside any form: a failure locks or breaks, never escapes.
    fn reading(&mut self, f: impl FnOnce(&mut Self) -> Outcome) {
        if let Err(failure) = f(self) {
            if failure.is_fatal() {
                self.fail(failure);
            } else {
                self.publish_with(|s| {
                    s.busy = false;
                    s.notice = Some(failure.message());
                });
            }
        }
    }

    // Runs a call that may take a while: busy meanwhile, a failure as a notice.
    fn guarded(&mut self, f: impl FnOnce(&mut Self) -> Outcome) {
        self.busy();
        if let Err(failure) = f(self) {
            if failure == Failure::Locked {
                return self.show_unlock(None);
            }
            self.publish_with(|s| {
                s.busy = false;
                s.notice = Some(failure.message());
            });
        }
    }

    fn busy(&mut self) {
        self.publish_with(|s| {
            s.busy = true;
            s.notice = None;
        });
    }

    fn notice(&mut self, key: MessageKey) {
        self.publish_with(|s| {
            s.busy = false;
            s.notice = Some(key.into());
        });
    }

    fn push(&mut self, screen: Screen, notice: Option<MessageKey>) {
        self.back_stack.push(screen.clone());
        let mut next = ViewState::of(screen);
        next.notice = notice.map(Message::new);
        self.publish(next);
    }

    fn replace(&mut self, screen: Screen, busy: bool) {
        self.back_stack.pop();
        self.back_stack.push(screen.clone());
        let notice = if busy {
            None
        } else {
            self.state.notice.clone()
        };
        let mut next = ViewState::of(screen);
        next.busy = busy;
        next.notice = notice;
        self.publish(next);
    }

    fn show(&mut self, screen: Screen, notice: Option<MessageKey>, keep_notice: bool) {
        self.back_stack.clear();
        let kept = self.state.notice.clone().filter(|_| keep_notice);
        self.push(screen, notice);
        if let (Some(kept), None) = (kept, notice) {
            self.publish_with(|s| s.notice = Some(kept));
        }
    }

    fn publish_with(&mut self, change: impl FnOnce(&mut ViewState)) {
        let mut next = self.state.clone();
        change(&mut next);
        self.publish(next);
    }

    /// Records `next` and hands it to the shell.
    fn publish(&mut self, mut next: ViewState) {
        next.refreshing = self.refreshing;
        next.can_go_back = !next.busy && self.back_stack.len() > 1;
        self.state = next.clone();
        if let Some(shared) = self.me.upgrade() {
            *lock(&shared.view) = next.clone();
        }
        self.shell.render(next);
    }
}

fn is_sign_screen(screen: &Screen) -> bool {
    matches!(
        screen,
        Screen::SignConfirm { .. }
            | Screen::SignManual { .. }
            | Screen::SignCode { .. }
            | Screen::SignRefused { .. }
    )
}

fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}
