//! What the audit trail records: one kind per thing that happened, stored and shown by its
//! stable name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// The bank issued an activation (enrollment) for a user.
    EnrollmentIssued,
    /// A well-formed activation start: one guess of the start password counted.
    ActivationStarted,
    /// An activation start refused because the enrollment is locked.
    ActivationRefused,
    /// A wrong start password, seen at finish.
    ActivationFailed,
    /// A token was activated and waits for its first code.
    ActivationFinished,
    /// Provisioned (registration-mode) tokens created since the last summary.
    TokensProvisioned,
    /// A vendor's PSKC file was imported.
    TokensImported,
    /// A code checked by `verify`.
    Verify,
    /// A code checked by `confirm`.
    Confirm,
    /// A code checked while registering a token to a user.
    Registration,
    /// A code of the new token checked during a device change.
    Replacement,
    /// A code checked before stopping OTP or changing device.
    Possession,
    /// The user reached `max_failures` and is locked.
    UserLocked,
    /// The bank cleared a user's lockout.
    UserUnlocked,
    /// A token collected `max_failures` wrong registration codes and is locked.
    TokenLocked,
    /// The bank cleared a token's registration lockout.
    TokenUnlocked,
    /// A token was registered to a user.
    TokenRegistered,
    /// A user changed device.
    TokenReplaced,
    /// OTP was stopped for a user.
    OtpStopped,
    /// A token was revoked (lost phone).
    TokenRevoked,
    /// The bank ended a cool-down early.
    CooldownEnded,
    /// An activation e-mail was accepted by the SMTP server.
    MailSent,
    /// An activation e-mail failed for now and will be tried again.
    MailDeferred,
    /// An activation e-mail was given up (refused for good, or its enrollment expired).
    MailFailed,
    /// A console operator was added.
    OperatorAdded,
    /// A console operator was disabled, re-enabled or given a new password.
    OperatorChanged,
    /// A console operator signed in (or began enrolling their own token).
    ConsoleSignIn,
    /// A console sign-in was refused: wrong password or code, locked or disabled.
    ConsoleSignInFailed,
    /// A console operator signed out.
    ConsoleSignOut,
    /// A service's API key was replaced from the console.
    ApiKeyRotated,
    /// The bank created a transfer challenge (取引確認); the detail holds the details'
    /// digest and the masked account.
    TransactionCreated,
    /// A code checked against a transfer challenge.
    Transaction,
    /// A service's policy was changed from the console.
    PolicyChanged,
}

impl AuditKind {
    /// Every kind, for documentation and tests.
    pub const ALL: [AuditKind; 33] = [
        AuditKind::EnrollmentIssued,
        AuditKind::ActivationStarted,
        AuditKind::ActivationRefused,
        AuditKind::ActivationFailed,
        AuditKind::ActivationFinished,
        AuditKind::TokensProvisioned,
        AuditKind::TokensImported,
        AuditKind::Verify,
        AuditKind::Confirm,
        AuditKind::Registration,
        AuditKind::Replacement,
        AuditKind::Possession,
        AuditKind::UserLocked,
        AuditKind::UserUnlocked,
        AuditKind::TokenLocked,
        AuditKind::TokenUnlocked,
        AuditKind::TokenRegistered,
        AuditKind::TokenReplaced,
        AuditKind::OtpStopped,
        AuditKind::TokenRevoked,
        AuditKind::CooldownEnded,
        AuditKind::MailSent,
        AuditKind::MailDeferred,
        AuditKind::MailFailed,
        AuditKind::OperatorAdded,
        AuditKind::OperatorChanged,
        AuditKind::ConsoleSignIn,
        AuditKind::ConsoleSignInFailed,
        AuditKind::ConsoleSignOut,
        AuditKind::ApiKeyRotated,
        AuditKind::TransactionCreated,
        AuditKind::Transaction,
        AuditKind::PolicyChanged,
    ];

    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::EnrollmentIssued => "enrollment_issued",
            AuditKind::ActivationStarted => "activation_started",
            AuditKind::ActivationRefused => "activation_refused",
            AuditKind::ActivationFailed => "activation_failed",
            AuditKind::ActivationFinished => "activation_finished",
            AuditKind::TokensProvisioned => "tokens_provisioned",
            AuditKind::TokensImported => "tokens_imported",
            AuditKind::Verify => "verify",
            AuditKind::Confirm => "confirm",
            AuditKind::Registration => "registration",
            AuditKind::Replacement => "replacement",
            AuditKind::Possession => "possession",
            AuditKind::UserLocked => "user_locked",
            AuditKind::UserUnlocked => "user_unlocked",
            AuditKind::TokenLocked => "token_locked",
            AuditKind::TokenUnlocked => "token_unlocked",
            AuditKind::TokenRegistered => "token_registered",
            AuditKind::TokenReplaced => "token_replaced",
            AuditKind::OtpStopped => "otp_stopped",
            AuditKind::TokenRevoked => "token_revoked",
            AuditKind::CooldownEnded => "cooldown_ended",
            AuditKind::MailSent => "mail_sent",
            AuditKind::MailDeferred => "mail_deferred",
            AuditKind::MailFailed => "mail_failed",
            AuditKind::OperatorAdded => "operator_added",
            AuditKind::OperatorChanged => "operator_changed",
            AuditKind::ConsoleSignIn => "console_sign_in",
            AuditKind::ConsoleSignInFailed => "console_sign_in_failed",
            AuditKind::ConsoleSignOut => "console_sign_out",
            AuditKind::ApiKeyRotated => "api_key_rotated",
            AuditKind::TransactionCreated => "transaction_created",
            AuditKind::Transaction => "transaction",
            AuditKind::PolicyChanged => "policy_changed",
        }
    }

    /// The inverse of [`AuditKind::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An audit event's detail, typed: stored as JSON in the `detail` column and rendered by
/// the reader, in English for the bank's `/v1/audit` and the CSV export ([`Detail::english`]:
/// the words these details had when they were free text, so the bank API's answer did not
/// change) and in the reader's language by the console. Details written before (free text)
/// and the bare outcome names of code checks (`ok`, `invalid`, …) stay text: [`english`]
/// returns them as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "detail", rename_all = "snake_case")]
pub enum Detail {
    /// A code checked against a transfer challenge: its outcome's stable name and the
    /// challenge.
    TransferCheck {
        /// `ok`, `invalid`, … (`verification::Outcome`'s names).
        outcome: String,
        /// The challenge's id.
        id: String,
    },
    /// A transfer challenge created: what the audit may keep of it (never the full account).
    TransactionCreated {
        /// The challenge's id.
        id: String,
        /// SHA-256 of the details' canonical encoding, hex.
        digest: String,
        /// The payee account, masked.
        account: String,
        /// The amount in minor units.
        amount: u64,
        /// ISO 4217 currency code.
        currency: String,
    },
    /// OTP stopped for a user (利用中止): the tokens it unbound, filled in by the store.
    Stopped {
        /// Stopped by the help desk on the customer's written request (no code), not by
        /// the bank with a code.
        help_desk: bool,
        /// The serials unbound.
        unbound: Vec<String>,
    },
    /// A device change (機種変更): the token it replaced.
    Replaced {
        /// The old token's serial.
        old_serial: String,
    },
    /// An activation e-mail accepted by the SMTP server.
    MailSent {
        /// The address, masked.
        to: String,
        /// The mail's Message-ID.
        message_id: String,
        /// Which attempt it was.
        attempt: u32,
    },
    /// An activation e-mail that failed for now and will be tried again.
    MailDeferred {
        /// The address, masked.
        to: String,
        /// Which attempt failed.
        attempt: u32,
        /// The SMTP server's answer, as it gave it.
        error: String,
        /// When the next attempt is due (RFC 3339).
        next_at: String,
    },
    /// An activation e-mail given up.
    MailFailed {
        /// The address, masked.
        to: String,
        /// The last attempt.
        attempt: u32,
        /// The SMTP server's answer, as it gave it.
        error: String,
    },
}

impl Detail {
    /// A stored detail, if it is a typed one (older rows and outcome names are not).
    pub fn parse(stored: &str) -> Option<Detail> {
        if !stored.starts_with('{') {
            return None;
        }
        serde_json::from_str(stored).ok()
    }

    /// The detail in English, as the bank API and the CSV export show it.
    pub fn english(&self) -> String {
        match self {
            Detail::TransferCheck { outcome, id } => format!("{outcome} id={id}"),
            Detail::TransactionCreated {
                id,
                digest,
                account,
                amount,
                currency,
            } => format!("id={id} digest={digest} account={account} amount={amount} {currency}"),
            Detail::Stopped { help_desk, unbound } => {
                let unbound = format!("unbound {}", unbound.join(", "));
                if *help_desk {
                    format!("by the help desk; {unbound}")
                } else {
                    unbound
                }
            }
            Detail::Replaced { old_serial } => format!("replaces {old_serial}"),
            Detail::MailSent {
                to,
                message_id,
                attempt,
            } => format!("to {to}, Message-ID {message_id}, attempt {attempt}"),
            Detail::MailDeferred {
                to,
                attempt,
                error,
                next_at,
            } => format!("to {to}, attempt {attempt} failed: {error}; next attempt at {next_at}"),
            Detail::MailFailed { to, attempt, error } => {
                format!("to {to}, given up at attempt {attempt}: {error}")
            }
        }
    }
}

/// The detail column's JSON.
impl From<Detail> for String {
    fn from(detail: Detail) -> String {
        // A derived serialisation of strings and integers cannot fail.
        serde_json::to_string(&detail).unwrap_or_default()
    }
}

/// A stored detail in English: a typed one rendered, text (older rows, outcome names) as
/// it is.
pub fn english(stored: &str) -> String {
    match Detail::parse(stored) {
        Some(detail) => detail.english(),
        None => stored.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditKind::ALL.len());
        assert_eq!(AuditKind::parse("nothing"), None);
    }

    #[test]
    fn typed_details_read_in_english_as_their_text_did() {
        let cases = [
            (
                Detail::TransferCheck {
                    outcome: "ok".into(),
                    id: "tx1".into(),
                },
                "ok id=tx1",
            ),
            (
                Detail::TransactionCreated {
                    id: "tx1".into(),
                    digest: "ab12".into(),
                    account: "******7890".into(),
                    amount: 50_000,
                    currency: "JPY".into(),
                },
                "id=tx1 digest=ab12 account=******7890 amount=50000 JPY",
            ),
            (
                Detail::Replaced {
                    old_serial: "SKTS1".into(),
                },
                "replaces SKTS1",
            ),
            (
                Detail::Stopped {
                    help_desk: true,
                    unbound: vec!["SKTS1".into(), "SKTS2".into()],
                },
                "by the help desk; unbound SKTS1, SKTS2",
            ),
            (
                Detail::Stopped {
                    help_desk: false,
                    unbound: vec!["SKTS1".into()],
                },
                "unbound SKTS1",
            ),
            (
                Detail::MailSent {
                    to: "a***@bank.example".into(),
                    message_id: "<m1@x>".into(),
                    attempt: 1,
                },
                "to a***@bank.example, Message-ID <m1@x>, attempt 1",
            ),
            (
                Detail::MailDeferred {
                    to: "a***@bank.example".into(),
                    attempt: 2,
                    error: "451 busy".into(),
                    next_at: "2026-12-07T10:00:00Z".into(),
                },
                "to a***@bank.example, attempt 2 failed: 451 busy; next attempt at 2026-12-07T10:00:00Z",
            ),
            (
                Detail::MailFailed {
                    to: "a***@bank.example".into(),
                    attempt: 3,
                    error: "550 no".into(),
                },
                "to a***@bank.example, given up at attempt 3: 550 no",
            ),
        ];
        for (detail, text) in cases {
            let stored = String::from(detail.clone());
            assert!(stored.starts_with('{'), "{stored}");
            assert_eq!(Detail::parse(&stored), Some(detail), "{stored}");
            assert_eq!(english(&stored), text);
        }
        // Older rows and outcome names are text, shown as they are.
        for text in ["ok", "replaces SKTS1", "{not json", ""] {
            assert_eq!(Detail::parse(text), None);
            assert_eq!(english(text), text);
        }
    }
}
