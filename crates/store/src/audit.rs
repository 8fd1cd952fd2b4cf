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
    /// A service was added (`softtoken-server service add`, or the demo's).
    ServiceAdded,
    /// A service's activation e-mail settings were replaced (`softtoken-server service mail`).
    ServiceMailSet,
}

impl AuditKind {
    /// Every kind, for documentation and tests.
    pub const ALL: [AuditKind; 35] = [
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
        AuditKind::ServiceAdded,
        AuditKind::ServiceMailSet,
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
            AuditKind::ServiceAdded => "service_added",
            AuditKind::ServiceMailSet => "service_mail_set",
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
/// change) and in the reader's language by the console. Every writer that puts words in the
/// detail stores one of these; what stays text is the bare outcome names of code checks
/// (`ok`, `invalid`, `locked`, …) and a token's state at registration (`active`), stable
/// keys the console words from its catalogue, and rows written before a detail was typed:
/// [`english`] returns text as it is.
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
    /// A cool-down ended early: by whom.
    CooldownEnded {
        /// By the help desk (the console), not the bank's API.
        help_desk: bool,
    },
    /// A service's API key replaced: through which front door.
    ApiKeyRotated {
        /// Where the rotation came from.
        from: KeySource,
    },
    /// A service added: its name, and where its first API key came from (never the key).
    ServiceAdded {
        /// The service's display name.
        name: String,
        /// Where the service and its key came from.
        from: KeySource,
    },
    /// A service's activation e-mail settings replaced: what a help desk asked about a
    /// customer's mail needs to know (the link it gives, and whose words each language
    /// uses), never the templates themselves, which live in the settings.
    ServiceMailSet {
        /// The app's download URL the mails give.
        download_url: String,
        /// The Japanese mail uses the bank's own template, not the built-in one.
        own_ja: bool,
        /// The English mail uses the bank's own template, not the built-in one.
        own_en: bool,
    },
    /// An activation issued: until when, and the activation e-mail if one was queued.
    EnrollmentIssued {
        /// When the activation expires (RFC 3339).
        expires: String,
        /// The activation e-mail queued with it.
        mail: Option<QueuedMail>,
    },
    /// A service's policy replaced: the settings it now has.
    PolicyChanged {
        /// Code length; `None`: the default.
        digits: Option<u32>,
        /// Time step in seconds; `None`: the default.
        period_secs: Option<u64>,
        /// Steps accepted either side.
        window: u32,
        /// Consecutive wrong codes that lock a user.
        max_failures: u32,
        /// The cool-down after a revocation, in seconds.
        cooldown_secs: u64,
        /// An activation's default lifetime, in seconds.
        enrollment_ttl_secs: u64,
        /// Usable tokens per user.
        tokens_per_user: u32,
        /// Whether a token may be shared by several users.
        shared_tokens: bool,
    },
    /// A console operator added.
    OperatorAdded {
        /// Their sign-in name.
        name: String,
        /// Their role's stable name (`helpdesk`, `admin`, `auditor`, `superuser`).
        role: String,
    },
    /// A console operator disabled.
    OperatorDisabled {
        /// Their sign-in name.
        name: String,
    },
    /// A console operator given a new password, their lockout cleared.
    OperatorPasswordReset {
        /// Their sign-in name.
        name: String,
    },
    /// An operator's own token unlocked because their password was reset.
    UnlockedByPasswordReset,
    /// A console operator signed in (or began to).
    SignIn {
        /// How far.
        step: SignInStep,
    },
    /// A console sign-in refused.
    SignInFailed {
        /// Why.
        failure: SignInFailure,
    },
    /// An operator's session ended because they were locked while enrolling their token.
    LockedWhileEnrolling,
    /// An activation start: from where.
    ActivationStarted {
        /// The client's address.
        from: String,
    },
    /// An activation start refused: the enrollment is locked after wrong start passwords.
    EnrollmentLocked,
    /// A wrong start password.
    WrongStartPassword,
    /// An activation finished: the token waits for its first code.
    PendingConfirmation,
    /// A PSKC file imported: its key packages and how many became tokens (the counts
    /// filled in by the store).
    TokensImported {
        /// Key packages in the file, usable or not.
        packages: u64,
        /// Tokens added.
        imported: u64,
        /// Usable tokens offered to the store.
        of: u64,
    },
    /// Provisioned tokens created since the last summary.
    TokensProvisioned {
        /// How many.
        count: u64,
    },
    /// A user locked after consecutive wrong codes.
    UserLocked {
        /// The service's `max_failures` reached.
        after: u32,
    },
    /// A token locked after wrong registration codes.
    TokenLocked {
        /// The service's `max_failures` reached.
        after: u32,
    },
    /// A token revoked: its users and the unused activations it ended.
    TokenRevoked {
        /// The users the token was bound to.
        users: Vec<String>,
        /// Their unused activations ended.
        enrollments_ended: u64,
    },
}

/// Where an API key (a rotation, or a new service's first key) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// The console's administration page.
    Console,
    /// `softtoken-server service rotate-key` (or `service add`).
    CommandLine,
    /// The demo's key, kept in its data directory across restarts.
    Demo,
}

/// The activation e-mail queued with an activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMail {
    /// The mail's language (`ja`, `en`).
    pub language: String,
    /// The address, masked.
    pub to: String,
}

/// How far a console sign-in went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInStep {
    /// The password was right and the operator has no token yet: enrolling it.
    EnrollingOwnToken,
    /// Password and code: signed in.
    PasswordAndCode,
    /// The first code of the operator's new token confirmed: signed in.
    OwnTokenConfirmed,
}

/// Why a console sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInFailure {
    /// No operator of that name.
    UnknownName,
    /// A wrong password.
    WrongPassword,
    /// A wrong password for a disabled operator.
    WrongPasswordDisabled,
    /// A wrong password while temporarily locked.
    WrongPasswordLocked,
    /// The right password of a disabled operator.
    Disabled,
    /// The right password while temporarily locked.
    RightPasswordLocked,
    /// The operator or their token is locked.
    Locked,
    /// A wrong code.
    WrongCode,
    /// A wrong first code of the operator's new token.
    WrongFirstCode,
}

impl KeySource {
    /// The words the rotation's detail had as free text.
    pub fn english(self) -> &'static str {
        match self {
            KeySource::Console => "from the console",
            KeySource::CommandLine => "from the command line",
            KeySource::Demo => "the demo's key, kept in its data directory",
        }
    }
}

impl SignInStep {
    /// The words the sign-in's detail had as free text.
    pub fn english(self) -> &'static str {
        match self {
            SignInStep::EnrollingOwnToken => "password; enrolling own token",
            SignInStep::PasswordAndCode => "password and code",
            SignInStep::OwnTokenConfirmed => "own token confirmed",
        }
    }
}

impl SignInFailure {
    /// The words the refusal's detail had as free text.
    pub fn english(self) -> &'static str {
        match self {
            SignInFailure::UnknownName => "unknown name",
            SignInFailure::WrongPassword => "wrong password",
            SignInFailure::WrongPasswordDisabled => "wrong password; disabled",
            SignInFailure::WrongPasswordLocked => "wrong password; temporarily locked",
            SignInFailure::Disabled => "disabled",
            SignInFailure::RightPasswordLocked => "right password; temporarily locked",
            SignInFailure::Locked => "locked",
            SignInFailure::WrongCode => "wrong code",
            SignInFailure::WrongFirstCode => "wrong first code of own token",
        }
    }
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
            Detail::CooldownEnded { help_desk: true } => "by the help desk".into(),
            Detail::CooldownEnded { help_desk: false } => "by the bank".into(),
            Detail::ApiKeyRotated { from } => from.english().into(),
            Detail::ServiceAdded { name, from } => format!("{name}; {}", from.english()),
            Detail::ServiceMailSet {
                download_url,
                own_ja,
                own_en,
            } => {
                let template = |own: bool| {
                    if own {
                        "own template"
                    } else {
                        "built-in template"
                    }
                };
                format!(
                    "download URL {download_url}; ja: {}, en: {}",
                    template(*own_ja),
                    template(*own_en)
                )
            }
            Detail::EnrollmentIssued { expires, mail } => match mail {
                Some(QueuedMail { language, to }) => {
                    format!("expires {expires}; e-mail ({language}) queued to {to}")
                }
                None => format!("expires {expires}"),
            },
            Detail::PolicyChanged {
                digits,
                period_secs,
                window,
                max_failures,
                cooldown_secs,
                enrollment_ttl_secs,
                tokens_per_user,
                shared_tokens,
            } => format!(
                "digits {} period {} window {window} max-failures {max_failures} \
                 cooldown {cooldown_secs}s enrollment-ttl {enrollment_ttl_secs}s \
                 tokens-per-user {tokens_per_user} shared-tokens {shared_tokens}",
                digits.map_or("default".into(), |d| d.to_string()),
                period_secs.map_or("default".into(), |s| format!("{s}s")),
            ),
            Detail::OperatorAdded { name, role } => format!("{name} ({role})"),
            Detail::OperatorDisabled { name } => format!("{name}: disabled"),
            Detail::OperatorPasswordReset { name } => {
                format!("{name}: password reset; lockout cleared")
            }
            Detail::UnlockedByPasswordReset => "password reset".into(),
            Detail::SignIn { step } => step.english().into(),
            Detail::SignInFailed { failure } => failure.english().into(),
            Detail::LockedWhileEnrolling => "locked while enrolling".into(),
            Detail::ActivationStarted { from } => format!("from {from}"),
            Detail::EnrollmentLocked => "locked".into(),
            Detail::WrongStartPassword => "wrong start password".into(),
            Detail::PendingConfirmation => "token pending confirmation".into(),
            Detail::TokensImported {
                packages,
                imported,
                of,
            } => format!("{packages} key packages in the file; imported {imported} of {of}"),
            Detail::TokensProvisioned { count } => {
                format!("{count} provisioned since the last summary")
            }
            Detail::UserLocked { after } => {
                format!("locked after {after} consecutive wrong codes")
            }
            Detail::TokenLocked { after } => {
                format!("locked after {after} wrong registration codes")
            }
            Detail::TokenRevoked {
                users,
                enrollments_ended,
            } => format!(
                "users: {}; enrollments ended: {enrollments_ended}",
                users.join(", ")
            ),
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
        let cases = cases.into_iter().chain(later_typed());
        let mut seen = [false; VARIANTS];
        for (detail, text) in cases {
            seen[variant(&detail)] = true;
            let stored = String::from(detail.clone());
            assert!(stored.starts_with('{'), "{stored}");
            assert_eq!(Detail::parse(&stored), Some(detail), "{stored}");
            assert_eq!(english(&stored), text);
        }
        assert!(
            seen.iter().all(|&s| s),
            "a variant without a case: {seen:?}"
        );
        // Older rows and outcome names are text, shown as they are.
        for text in ["ok", "replaces SKTS1", "{not json", ""] {
            assert_eq!(Detail::parse(text), None);
            assert_eq!(english(text), text);
        }
    }

    /// How many variants [`Detail`] has: [`variant`] numbers them, so that a new one
    /// does not compile here until it is counted, and then needs a case.
    const VARIANTS: usize = 29;

    fn variant(detail: &Detail) -> usize {
        match detail {
            Detail::TransferCheck { .. } => 0,
            Detail::TransactionCreated { .. } => 1,
            Detail::Stopped { .. } => 2,
            Detail::Replaced { .. } => 3,
            Detail::MailSent { .. } => 4,
            Detail::MailDeferred { .. } => 5,
            Detail::MailFailed { .. } => 6,
            Detail::CooldownEnded { .. } => 7,
            Detail::ApiKeyRotated { .. } => 8,
            Detail::EnrollmentIssued { .. } => 9,
            Detail::PolicyChanged { .. } => 10,
            Detail::OperatorAdded { .. } => 11,
            Detail::OperatorDisabled { .. } => 12,
            Detail::OperatorPasswordReset { .. } => 13,
            Detail::UnlockedByPasswordReset => 14,
            Detail::SignIn { .. } => 15,
            Detail::SignInFailed { .. } => 16,
            Detail::LockedWhileEnrolling => 17,
            Detail::ActivationStarted { .. } => 18,
            Detail::EnrollmentLocked => 19,
            Detail::WrongStartPassword => 20,
            Detail::PendingConfirmation => 21,
            Detail::TokensImported { .. } => 22,
            Detail::TokensProvisioned { .. } => 23,
            Detail::UserLocked { .. } => 24,
            Detail::TokenLocked { .. } => 25,
            Detail::TokenRevoked { .. } => 26,
            Detail::ServiceAdded { .. } => 27,
            Detail::ServiceMailSet { .. } => 28,
        }
    }

    /// The details typed after the first ones, each with the exact text its writer stored
    /// before (the strings the bank API's and the console's tests read).
    fn later_typed() -> Vec<(Detail, &'static str)> {
        let mut cases = vec![
            (
                Detail::CooldownEnded { help_desk: true },
                "by the help desk",
            ),
            (Detail::CooldownEnded { help_desk: false }, "by the bank"),
            (
                Detail::ApiKeyRotated {
                    from: KeySource::Console,
                },
                "from the console",
            ),
            (
                Detail::ApiKeyRotated {
                    from: KeySource::CommandLine,
                },
                "from the command line",
            ),
            (
                Detail::ApiKeyRotated {
                    from: KeySource::Demo,
                },
                "the demo's key, kept in its data directory",
            ),
            (
                Detail::ServiceAdded {
                    name: "Bank A".into(),
                    from: KeySource::CommandLine,
                },
                "Bank A; from the command line",
            ),
            (
                Detail::ServiceMailSet {
                    download_url: "https://apps.example/otp".into(),
                    own_ja: true,
                    own_en: false,
                },
                "download URL https://apps.example/otp; ja: own template, en: built-in template",
            ),
            (
                Detail::EnrollmentIssued {
                    expires: "2026-12-08T10:00:00Z".into(),
                    mail: None,
                },
                "expires 2026-12-08T10:00:00Z",
            ),
            (
                Detail::EnrollmentIssued {
                    expires: "2026-12-08T10:00:00Z".into(),
                    mail: Some(QueuedMail {
                        language: "ja".into(),
                        to: "t***@example.co.jp".into(),
                    }),
                },
                "expires 2026-12-08T10:00:00Z; e-mail (ja) queued to t***@example.co.jp",
            ),
            (
                Detail::PolicyChanged {
                    digits: None,
                    period_secs: None,
                    window: 1,
                    max_failures: 5,
                    cooldown_secs: 1800,
                    enrollment_ttl_secs: 86_400,
                    tokens_per_user: 1,
                    shared_tokens: false,
                },
                "digits default period default window 1 max-failures 5 cooldown 1800s \
                 enrollment-ttl 86400s tokens-per-user 1 shared-tokens false",
            ),
            (
                Detail::PolicyChanged {
                    digits: Some(8),
                    period_secs: Some(30),
                    window: 2,
                    max_failures: 10,
                    cooldown_secs: 0,
                    enrollment_ttl_secs: 3600,
                    tokens_per_user: 3,
                    shared_tokens: true,
                },
                "digits 8 period 30s window 2 max-failures 10 cooldown 0s enrollment-ttl 3600s \
                 tokens-per-user 3 shared-tokens true",
            ),
            (
                Detail::OperatorAdded {
                    name: "jiro@bank-a".into(),
                    role: "helpdesk".into(),
                },
                "jiro@bank-a (helpdesk)",
            ),
            (
                Detail::OperatorDisabled {
                    name: "hanako".into(),
                },
                "hanako: disabled",
            ),
            (
                Detail::OperatorPasswordReset {
                    name: "jiro@bank-a".into(),
                },
                "jiro@bank-a: password reset; lockout cleared",
            ),
            (Detail::UnlockedByPasswordReset, "password reset"),
            (Detail::LockedWhileEnrolling, "locked while enrolling"),
            (
                Detail::ActivationStarted {
                    from: "192.0.2.77".into(),
                },
                "from 192.0.2.77",
            ),
            (Detail::EnrollmentLocked, "locked"),
            (Detail::WrongStartPassword, "wrong start password"),
            (Detail::PendingConfirmation, "token pending confirmation"),
            (
                Detail::TokensImported {
                    packages: 1000,
                    imported: 0,
                    of: 1000,
                },
                "1000 key packages in the file; imported 0 of 1000",
            ),
            (
                Detail::TokensProvisioned { count: 4 },
                "4 provisioned since the last summary",
            ),
            (
                Detail::UserLocked { after: 5 },
                "locked after 5 consecutive wrong codes",
            ),
            (
                Detail::TokenLocked { after: 5 },
                "locked after 5 wrong registration codes",
            ),
            (
                Detail::TokenRevoked {
                    users: vec!["alice".into(), "bob".into()],
                    enrollments_ended: 1,
                },
                "users: alice, bob; enrollments ended: 1",
            ),
        ];
        let steps = [
            (
                SignInStep::EnrollingOwnToken,
                "password; enrolling own token",
            ),
            (SignInStep::PasswordAndCode, "password and code"),
            (SignInStep::OwnTokenConfirmed, "own token confirmed"),
        ];
        cases.extend(
            steps
                .into_iter()
                .map(|(step, text)| (Detail::SignIn { step }, text)),
        );
        let failures = [
            (SignInFailure::UnknownName, "unknown name"),
            (SignInFailure::WrongPassword, "wrong password"),
            (
                SignInFailure::WrongPasswordDisabled,
                "wrong password; disabled",
            ),
            (
                SignInFailure::WrongPasswordLocked,
                "wrong password; temporarily locked",
            ),
            (SignInFailure::Disabled, "disabled"),
            (
                SignInFailure::RightPasswordLocked,
                "right password; temporarily locked",
            ),
            (SignInFailure::Locked, "locked"),
            (SignInFailure::WrongCode, "wrong code"),
            (
                SignInFailure::WrongFirstCode,
                "wrong first code of own token",
            ),
        ];
        cases.extend(
            failures
                .into_iter()
                .map(|(failure, text)| (Detail::SignInFailed { failure }, text)),
        );
        cases
    }
}
