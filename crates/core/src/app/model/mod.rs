//! The app's state machine: what each event does and which screen follows. No drawing, no
//! platform: the [`Shell`] draws and performs the platform's effects.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use softtoken_protocol::{Serial, ServiceId, UserId};
use zeroize::Zeroizing;

use super::clipboard::{CLEAR_AFTER_MS, CodeClipboard};
use super::failure::Failure;
use super::messages::{Message, MessageKey};
use super::refresh::{self, Answer, Job, Locked};
use super::view::{
    ActivationView, BankView, CodeView, FirstUse, InputField, PinPurpose, PinStep, Screen,
    ShownCode, TokenCard, TokenSummary, TransferView, ViewState,
};
use super::{AppConfig, BiometricOutcome, Event, SecretText, Shared, Shell, lock};
use crate::banks::{ServerCheck, host_of};
use crate::enroll::{ActivationTarget, ServerUrl};
use crate::keywrap::KeyWrapper;
use crate::vault::{Clock, StoreOptions, TokenStore};

/// Background time before the app locks: a glance at a mail or a permission dialog.
pub const LOCK_GRACE_MS: i64 = 10_000;

/// The same while the code scanner is open: scanning takes longer, and is the app's own.
pub const SCAN_GRACE_MS: i64 = 120_000;

/// How long a 取引確認 code stays on screen: the bank's default challenge lifetime (server
/// `DEFAULT_TTL_SECONDS`). The payload carries no expiry; the bank's screen shows the exact
/// one and its server is the judge.
pub const SIGN_CODE_SECONDS: u64 = 300;

mod adding;
mod lock;
mod settings;
mod tokens;
mod transfer;

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
            Event::SyncTime { serial } => self.sync_time(&serial),
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
