//! What the app shows, screen by screen, as plain data the shells draw (Compose, SwiftUI).
//! Nothing here holds a seed or a PIN; codes are shown, so the `Debug` forms hide them.

use std::fmt;

use super::messages::{Message, MessageKey};
use crate::otp::TokenCode;
use crate::token::TokenState;
use crate::vault::TokenInfo;

/// One token as a list shows it: never its seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    /// The serial number without spaces (`SKTS12345678`): the token's identity.
    pub serial: String,
    /// The serial grouped for reading and typing (`SKTS 1234 5678`).
    pub serial_grouped: String,
    /// The serial for a screen reader, symbol by symbol (`S K T S, 1 2 3 4, 5 6 7 8`).
    pub serial_spoken: String,
    /// The bank's display name.
    pub issuer: String,
    /// The customer's label for it (the user ID at activation); may be empty.
    pub label: String,
    /// Where the token is in its life.
    pub state: TokenState,
    /// Code length: 6 or 8.
    pub digits: u32,
    /// Seconds each code lasts.
    pub period_seconds: u64,
    /// The bank's service ID: a transfer challenge is answered by a token of its service.
    pub service_id: String,
}

impl From<&TokenInfo> for TokenSummary {
    fn from(t: &TokenInfo) -> Self {
        TokenSummary {
            serial: t.serial.as_str().to_string(),
            serial_grouped: t.serial.grouped(),
            serial_spoken: spoken(&t.serial.grouped()),
            issuer: t.issuer.clone(),
            label: t.user_label.clone(),
            state: t.state,
            digits: t.params.digits.get(),
            period_seconds: t.params.period.seconds(),
            service_id: t.service_id.as_str().to_string(),
        }
    }
}

/// A code ready to draw. The plain code is not here: copying is the model's
/// ([`super::Event::CopyCode`]), so it never has to live in the shell.
#[derive(Clone, PartialEq)]
pub struct CodeView {
    /// `123 456`.
    pub grouped: String,
    /// `1 2 3, 4 5 6`: TalkBack and VoiceOver read it digit by digit.
    pub spoken: String,
    /// The next code, grouped (shown small when few seconds are left).
    pub next_grouped: String,
    /// The next code digit by digit.
    pub next_spoken: String,
    /// Seconds until the code is replaced.
    pub seconds_left: u64,
    /// The step length in seconds.
    pub period_seconds: u64,
    /// `0:58`.
    pub countdown: String,
    /// 0.0–1.0 of the period left, for a progress ring.
    pub remaining: f32,
    /// True in the last few seconds, when the app suggests waiting for the next code.
    pub expiring_soon: bool,
}

/// Below this many seconds a customer rarely finishes typing in time.
pub const EXPIRING_SOON_SECONDS: u64 = 5;

impl CodeView {
    /// The view of `code`.
    pub fn of(code: &TokenCode) -> Self {
        let grouped = code.code_grouped();
        let next_grouped = code.next_code_grouped();
        CodeView {
            spoken: spoken(&grouped),
            next_spoken: spoken(&next_grouped),
            grouped,
            next_grouped,
            seconds_left: code.seconds_left,
            period_seconds: code.period,
            countdown: countdown(code.seconds_left),
            remaining: if code.period == 0 {
                0.0
            } else {
                (code.seconds_left as f32 / code.period as f32).clamp(0.0, 1.0)
            },
            expiring_soon: code.seconds_left <= EXPIRING_SOON_SECONDS,
        }
    }
}

impl fmt::Debug for CodeView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeView(seconds_left={})", self.seconds_left)
    }
}

/// `text` for a screen reader, one symbol at a time: `1 2 3, 4 5 6`. The comma between
/// groups makes TalkBack/VoiceOver pause where the eye sees the gap.
pub fn spoken(text: &str) -> String {
    text.split_whitespace()
        .map(|group| {
            group
                .chars()
                .map(String::from)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The countdown as the screens show it: `0:58`.
pub fn countdown(seconds_left: u64) -> String {
    format!("{}:{:02}", seconds_left / 60, seconds_left % 60)
}

/// A token with the code it shows now.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenCard {
    /// The token.
    pub token: TokenSummary,
    /// Its code now; `None` for a dead token (revoked, stopped, replaced).
    pub code: Option<CodeView>,
    /// The state's label (「利用中」, トークン失効…; docs/glossary.toml).
    pub status: Message,
    /// Why there is no code and what to do (contact the bank, activate again); `None` if alive.
    pub why_dead: Option<Message>,
}

impl TokenCard {
    /// The card of `token` with `code`.
    pub fn new(token: TokenSummary, code: Option<CodeView>) -> Self {
        let (status, why_dead) = match token.state {
            TokenState::Pending => (MessageKey::StatusPending, None),
            TokenState::Active => (MessageKey::StatusActive, None),
            TokenState::Revoked => (MessageKey::StatusRevoked, Some(MessageKey::DeadRevoked)),
            TokenState::Stopped => (MessageKey::StatusStopped, Some(MessageKey::DeadStopped)),
            TokenState::Replaced => (MessageKey::StatusReplaced, Some(MessageKey::DeadReplaced)),
        };
        TokenCard {
            token,
            code,
            status: status.into(),
            why_dead: why_dead.map(Message::new),
        }
    }
}

/// Why a token screen explains the next step: it was just created by one of the two modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstUse {
    /// Activation mode: type this 8-digit code into internet banking to confirm.
    Activation,
    /// Registration mode: type the serial and this code into internet banking.
    Registration,
}

/// What a PIN screen is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinPurpose {
    /// Turning the app lock on.
    Set,
    /// Changing the PIN.
    Change,
    /// Turning the app lock off.
    Remove,
    /// Turning biometric unlock on: the current PIN, stored under the biometric key.
    Biometric,
}

/// Which PIN a PIN screen asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStep {
    /// The PIN set now.
    Current,
    /// The new PIN.
    New,
    /// The new PIN again.
    Confirm,
}

/// The input field a failure refers to, so a form can mark it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputField {
    /// サービスID.
    ServiceId,
    /// ユーザID.
    UserId,
    /// 利用開始パスワード.
    StartPassword,
    /// The scanned activation URI.
    ActivationUri,
}

/// What an activation QR code or link points at. Never holds a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationView {
    /// The activation server, `https://…`.
    pub server_url: String,
    /// The bank's service ID (サービスID).
    pub service_id: String,
    /// The customer's user ID (ユーザID).
    pub user_id: String,
}

/// A bank of the app build's directory, for the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankView {
    /// The service ID the customer types (サービスID).
    pub service_id: String,
    /// The bank's name.
    pub name: String,
}

/// A transfer the bank asks the customer to confirm (取引確認), read from its QR code. The
/// account is only kept masked, as the bank's screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferView {
    /// The bank (service) that asks.
    pub service_id: String,
    /// The challenge's id.
    pub id: String,
    /// The payee's name (振込先).
    pub payee_name: String,
    /// The payee's account with all but its last four characters masked.
    pub masked_account: String,
    /// The amount with its currency, grouped for people (金額).
    pub display_amount: String,
    /// The scanned payload, signed once the customer confirms.
    pub payload: String,
}

/// A 取引確認 code on screen, grouped (`1234 5678`); `Debug` hides it (it confirms a
/// payment).
#[derive(Clone, PartialEq, Eq)]
pub struct ShownCode(pub String);

impl ShownCode {
    /// The code for a screen reader, digit by digit.
    pub fn spoken(&self) -> String {
        spoken(&self.0)
    }
}

impl fmt::Debug for ShownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShownCode(…)")
    }
}

/// One screen of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Opening the vault.
    Opening,
    /// App lock: enter the PIN. `wait_seconds` > 0: the pad is disabled for that long;
    /// `biometric` offers the biometric prompt beside the pad (the PIN stays the fallback).
    Unlock {
        /// Why the last try failed.
        error: Option<Message>,
        /// The back-off still to wait.
        wait_seconds: u64,
        /// The biometric button is offered.
        biometric: bool,
    },
    /// The token list (home). Empty: the welcome with the two ways to add a token.
    Tokens {
        /// Every token with its code.
        cards: Vec<TokenCard>,
    },
    /// Choose how to add a token: start password, or serial + code.
    AddToken,
    /// The activation form (初期設定). The start password is never kept in state.
    Activation {
        /// As typed or scanned.
        service_id: String,
        /// As typed or scanned.
        user_id: String,
        /// From the scanned QR code; `None`: the directory's or the app's server.
        scanned_server: Option<String>,
        /// Why the last send failed.
        error: Option<Message>,
        /// The field `error` is about.
        error_field: Option<InputField>,
        /// The app build's banks, for the picker that fills the service ID.
        banks: Vec<BankView>,
    },
    /// A QR code or link for a server the bank directory does not list: `host` is shown and
    /// the customer decides (confirm) or goes back.
    ConfirmServer {
        /// What the code points at.
        target: ActivationView,
        /// The server's host, shown large.
        host: String,
    },
    /// 初期設定完了: the token exists; next shows its first code.
    ActivationDone {
        /// The new token.
        token: TokenSummary,
    },
    /// One token: code, countdown, serial with copy, delete; `first_use` adds instructions.
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
    /// Settings: app lock on/off, change PIN, biometrics, reset.
    Settings {
        /// The app lock is on.
        lock_on: bool,
        /// Biometric unlock is on (only with the app lock).
        biometric_on: bool,
        /// The device can do biometrics, so the option is offered (with the app lock on).
        biometric_available: bool,
    },
    /// A PIN pad for setting, changing or removing the app lock.
    PinEntry {
        /// What for.
        purpose: PinPurpose,
        /// Which PIN.
        step: PinStep,
        /// Why the flow restarted.
        error: Option<Message>,
    },
    /// Reset the app? Every token of every bank is deleted.
    ConfirmReset,
    /// 取引確認: the scanned transfer and the token that will answer; the code is made only
    /// once the customer confirms.
    SignConfirm {
        /// The transfer.
        transfer: TransferView,
        /// The token that answers.
        token: TokenSummary,
    },
    /// 取引確認 without a camera: the digits the bank's screen shows, typed for `token`.
    SignManual {
        /// The token that answers.
        token: TokenSummary,
        /// Why the last digits were refused.
        error: Option<Message>,
    },
    /// The transfer's code to type into internet banking. `transfer` is `None` in manual mode
    /// (`typed_digits` then says what was signed). At 0 seconds left `code` is `None`.
    SignCode {
        /// The scanned transfer.
        transfer: Option<TransferView>,
        /// The digits signed in manual mode.
        typed_digits: Option<String>,
        /// The code, while the bank accepts it by default.
        code: Option<ShownCode>,
        /// Seconds left.
        seconds_left: u64,
        /// The seconds left as `4:58`.
        countdown: String,
        /// 0.0–1.0 of the time left, for a bar.
        remaining: f32,
    },
    /// No code for this challenge: `message` says why (malformed, another bank's, revoked).
    SignRefused {
        /// Why.
        message: Message,
    },
    /// The vault cannot be opened; the only way on is a reset.
    Broken {
        /// Why.
        message: Message,
    },
}

/// Everything drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewState {
    /// The screen.
    pub screen: Screen,
    /// A PIN or network call runs: the screen's buttons wait.
    pub busy: bool,
    /// The token states are being asked for in the background (codes keep running).
    pub refreshing: bool,
    /// A passing notice (a toast, read out by the screen reader).
    pub notice: Option<Message>,
    /// Back leads somewhere (false at the root: the app may close).
    pub can_go_back: bool,
}

impl ViewState {
    /// `screen` alone.
    pub fn of(screen: Screen) -> Self {
        ViewState {
            screen,
            busy: false,
            refreshing: false,
            notice: None,
            can_go_back: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spoken_digit_by_digit() {
        assert_eq!(spoken("123 456"), "1 2 3, 4 5 6");
        assert_eq!(spoken(" 1234  5678 "), "1 2 3 4, 5 6 7 8");
        assert_eq!(countdown(58), "0:58");
        assert_eq!(countdown(60), "1:00");
    }
}
