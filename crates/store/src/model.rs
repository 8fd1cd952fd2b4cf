//! What the store keeps and hands out, as domain types: both backends convert their rows
//! into these in one place (`rows.rs`) and take them back as statement arguments.

use std::fmt;

use softtoken_protocol::{OtpParams, ServiceId, UserId};

use crate::audit::AuditKind;
use crate::policy::Policy;
use crate::serial::TokenSerial;

use super::StoreResult;
use super::error::corrupt;

/// Declares a random 128-bit identifier shown as 32 lowercase hex digits.
/// A random identifier: 16 bytes from the OS CSPRNG as 32 hex digits.
pub fn random_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

macro_rules! random_id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// A fresh identifier from the OS CSPRNG.
            pub fn generate() -> Self {
                $name(random_id())
            }

            /// Reads an identifier a client sent back; `None` unless it has the form this
            /// server gives out, so nothing else ever reaches a query.
            pub fn parse(text: &str) -> Option<Self> {
                let ok = text.len() == 32
                    && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                ok.then(|| $name(text.to_owned()))
            }

            /// Reads a stored identifier.
            pub(crate) fn from_stored(text: String) -> StoreResult<Self> {
                match Self::parse(&text) {
                    Some(id) => Ok(id),
                    None => Err(corrupt(format!("{} '{text}'", stringify!($name)))),
                }
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

random_id_type! {
    /// Names an enrollment (an activation the bank issued).
    EnrollmentId
}

random_id_type! {
    /// Names an activation session between start and finish; the app holds it.
    SessionId
}

random_id_type! {
    /// Names a mail of the outbox; its Message-ID is made from it.
    MailId
}

/// A service (tenant) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its ID.
    pub id: ServiceId,
    /// Display name, shown on tokens as the issuer.
    pub name: String,
    /// Its rules.
    pub policy: Policy,
    /// When it was added (Unix ms).
    pub created_at: i64,
}

/// The life stages of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Provisioned, waiting for the bank to register it to a user.
    Unassigned,
    /// Activated by start password, waiting for its first code.
    Pending,
    /// In use.
    Active,
    /// Revoked or stopped; never usable again.
    Revoked,
}

impl TokenState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Unassigned => "unassigned",
            TokenState::Pending => "pending",
            TokenState::Active => "active",
            TokenState::Revoked => "revoked",
        }
    }

    /// The inverse of [`TokenState::as_str`].
    pub fn parse(text: &str) -> StoreResult<Self> {
        Ok(match text {
            "unassigned" => TokenState::Unassigned,
            "pending" => TokenState::Pending,
            "active" => TokenState::Active,
            "revoked" => TokenState::Revoked,
            other => return Err(corrupt(format!("token state '{other}'"))),
        })
    }
}

/// How a token ended, kept beside its `Revoked` state so its holder can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEnd {
    /// The bank revoked it.
    Revoked,
    /// The bank stopped OTP for its user.
    Stopped,
    /// A device change or a newer activation took its place.
    Replaced,
}

impl TokenEnd {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenEnd::Revoked => "revoked",
            TokenEnd::Stopped => "stopped",
            TokenEnd::Replaced => "replaced",
        }
    }

    /// The inverse of [`TokenEnd::as_str`].
    pub fn parse(text: &str) -> StoreResult<Self> {
        Ok(match text {
            "revoked" => TokenEnd::Revoked,
            "stopped" => TokenEnd::Stopped,
            "replaced" => TokenEnd::Replaced,
            other => return Err(corrupt(format!("token end '{other}'"))),
        })
    }
}

/// What the token status call reads of a token, found by serial alone.
#[derive(Clone)]
pub struct TokenStanding {
    /// Its service (the seed is sealed bound to it).
    pub service_id: ServiceId,
    /// Its life stage.
    pub state: TokenState,
    /// How it ended, if it did (`None` also for tokens that ended before this was kept).
    pub ended_as: Option<TokenEnd>,
    /// The seed, sealed.
    pub seed: Vec<u8>,
}

impl fmt::Debug for TokenStanding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStanding")
            .field("service_id", &self.service_id)
            .field("state", &self.state)
            .field("ended_as", &self.ended_as)
            .finish_non_exhaustive()
    }
}

/// A token as stored; `seed` is sealed.
#[derive(Debug, Clone)]
pub struct Token {
    /// Its service.
    pub service_id: ServiceId,
    /// Its serial.
    pub serial: TokenSerial,
    /// Its life stage.
    pub state: TokenState,
    /// OTP parameters.
    pub params: OtpParams,
    /// The seed, sealed under the master keyring, bound to its service and serial.
    pub seed: Vec<u8>,
    /// Last accepted time step (-1: none).
    pub last_step: i64,
    /// Clock drift in steps, learned at the last accepted code.
    pub drift: i64,
    /// Consecutive wrong codes given to register it (locked at the policy's `max_failures`).
    pub failures: u32,
    /// Who spent its last accepted code (shared tokens have several users).
    pub last_used_by: Option<UserId>,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Became active (Unix ms).
    pub activated_at: Option<i64>,
    /// Last accepted code (Unix ms).
    pub last_used_at: Option<i64>,
    /// Unassigned tokens expire (Unix ms).
    pub expires_at: Option<i64>,
}

impl Token {
    /// A token nobody has used yet, as provisioning, activation and import create it.
    pub fn new(
        service_id: ServiceId,
        serial: TokenSerial,
        state: TokenState,
        params: OtpParams,
        seed: Vec<u8>,
        now: i64,
    ) -> Self {
        Token {
            service_id,
            serial,
            state,
            params,
            seed,
            last_step: -1,
            drift: 0,
            failures: 0,
            last_used_by: None,
            created_at: now,
            activated_at: None,
            last_used_at: None,
            expires_at: None,
        }
    }
}

/// A user with the tokens bound to them (all states, newest first).
#[derive(Debug, Clone)]
pub struct User {
    /// The user's ID.
    pub user_id: UserId,
    /// Consecutive wrong codes.
    pub failures: u32,
    /// Locked after `max_failures`.
    pub locked: bool,
    /// End of a revocation cool-down (Unix ms), if one was ever started.
    pub cooldown_until: Option<i64>,
    /// Bound tokens.
    pub tokens: Vec<Token>,
}

/// A user's unused enrollment, as the bank sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// Its ID.
    pub id: EnrollmentId,
    /// Issued (Unix ms).
    pub created_at: i64,
    /// Expiry (Unix ms).
    pub expires_at: i64,
    /// Start-password guesses counted so far.
    pub guesses: u32,
}

/// A new enrollment (replaces any older one of the same user).
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    /// Random ID.
    pub id: EnrollmentId,
    /// Service.
    pub service_id: ServiceId,
    /// User.
    pub user_id: UserId,
    /// `w`, sealed under the master keyring, bound to the enrollment.
    pub w: Vec<u8>,
    /// Expiry (Unix ms).
    pub expires_at: i64,
    /// The activation e-mail to queue in the same commit, if the bank gave an address.
    pub mail: Option<NewMail>,
}

/// The user's open enrollment as an activation start finds it, before a guess is counted.
#[derive(Debug, Clone)]
pub struct OpenEnrollment {
    /// The enrollment.
    pub id: EnrollmentId,
    /// Sealed `w`.
    pub w: Vec<u8>,
}

/// The server's half of an activation between start and finish.
#[derive(Debug, Clone)]
pub struct ActivationSession {
    /// Random ID given to the app.
    pub id: SessionId,
    /// The enrollment it belongs to.
    pub enrollment_id: EnrollmentId,
    /// Service.
    pub service_id: ServiceId,
    /// User.
    pub user_id: UserId,
    /// The SPAKE2 session key, sealed under the master keyring, bound to the session.
    pub session_key: Vec<u8>,
    /// Tries the enrollment has left if this one fails.
    pub attempts_left: u32,
    /// Expiry (Unix ms).
    pub expires_at: i64,
}

/// The use of one time step of one token by one user.
#[derive(Debug, Clone)]
pub struct StepUse {
    /// Service.
    pub service_id: ServiceId,
    /// User.
    pub user_id: UserId,
    /// Token.
    pub serial: TokenSerial,
    /// The step the code matched; must be greater than the token's last step.
    pub step: i64,
    /// Its offset from the server's current step.
    pub drift: i64,
}

/// What became of a code the verification found fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acceptance {
    /// Accepted: the step is used, the failures are cleared.
    Accepted,
    /// The user was locked meanwhile; nothing changed.
    Locked,
    /// Another request used this step (or a later one) first; nothing changed.
    Reused {
        /// Who spent the token's last step.
        last_used_by: Option<UserId>,
    },
}

/// The detail a one-time use's audit row gets instead of its own when the use is refused
/// (the same event otherwise), so that a refusal is recorded in the use's own commit: the
/// caller decides the words, the store only which of them applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefusalDetails {
    /// Another request used the step (or a later one, or the challenge) first.
    pub reused: String,
    /// The user was locked meanwhile.
    pub locked: String,
    /// The challenge expired meanwhile (transfer challenges only).
    pub expired: String,
}

impl RefusalDetails {
    /// The detail for `refusal` (`None` for an acceptance, which keeps its own).
    pub fn of(&self, refusal: &Acceptance) -> Option<&str> {
        match refusal {
            Acceptance::Accepted => None,
            Acceptance::Locked => Some(&self.locked),
            Acceptance::Reused { .. } => Some(&self.reused),
        }
    }
}

/// What a code check decided to write, from the user as read just before (see
/// `check_code` on `dyn Store`, and [`super::Store::apply_judgement`]).
#[derive(Debug, Clone)]
pub enum Judged {
    /// Nothing but the audit row (no token, locked, a colleague's code, …).
    Record,
    /// Use the step; the audit row is written as it is if the step is accepted, else with
    /// the refusal's detail, in the same commit.
    Accept {
        /// The step the code matched.
        step: StepUse,
        /// The state the token must be in.
        from: TokenState,
        /// The details the audit row gets if the step is refused.
        refused: RefusalDetails,
    },
    /// Count a failure against the audit event's user (locking at `max_failures`).
    Fail {
        /// The service's `max_failures`.
        max_failures: u32,
    },
}

/// A decision and the audit event of the check that made it.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// What to write.
    pub action: Judged,
    /// The check's audit event (its service and user are the check's).
    pub audit: NewAuditEvent,
}

/// What became of a [`Judgement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The audit row was written.
    Recorded,
    /// The step was used.
    Accepted,
    /// The step could not be used (a race another instance won, or a lockout meanwhile);
    /// only the audit row was written, with the refusal's detail.
    Refused(Acceptance),
    /// The failure was counted.
    Failed(Failures),
}

/// A failure count after a wrong code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    /// Consecutive failures now.
    pub failures: u32,
    /// Whether the user is locked now.
    pub locked: bool,
    /// Whether this failure locked them; `locked && !newly_locked` means the user was
    /// already locked and nothing was counted.
    pub newly_locked: bool,
}

/// Registering a token to a user (registration mode, or a shared token's next user).
#[derive(Debug, Clone)]
pub struct Binding {
    /// The step use proving the user holds the token.
    pub step: StepUse,
    /// Whether the service allows binding an active token to another user.
    pub shared_tokens: bool,
    /// The service's limit of usable tokens per user.
    pub tokens_per_user: u32,
    /// The service's `max_failures`, at which a token stays locked.
    pub max_failures: u32,
}

/// The cool-down a revocation asks for (`rules::revoke_cooldown` of the service's policy);
/// `rules::cooldown_after_revoke` turns it into each user's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokeCooldown {
    /// Unix ms the policy's cool-down, counted from the revocation, ends.
    pub until: i64,
    /// Unix ms the night window the revocation fell in ends, if it fell in one: no cool-down
    /// of this revocation ends before it.
    pub night_until: Option<i64>,
    /// Whether a running cool-down starts afresh (`until`) rather than keep its end.
    pub restarts: bool,
}

impl RevokeCooldown {
    /// The end of the cool-down of a user not yet in one.
    pub fn end(&self) -> i64 {
        self.night_until
            .map_or(self.until, |night| self.until.max(night))
    }
}

/// A revocation: the token's users and the cool-down each is in now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The users the token was bound to, by ID, with the end of their cool-down.
    pub users: Vec<(UserId, i64)>,
    /// Unused enrollments of those users that the revoke ended.
    pub ended_enrollments: u64,
}

/// What [`super::Store::purge_expired`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Activation sessions past their expiry (started, never finished).
    pub sessions: u64,
    /// Provisioned tokens that expired without being registered.
    pub tokens: u64,
    /// Outbox mails done with (sent, failed, or expired unsent) past their retention.
    pub mails: u64,
}

/// An audit event to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    /// Service.
    pub service_id: ServiceId,
    /// What happened.
    pub kind: AuditKind,
    /// The user concerned.
    pub user_id: Option<UserId>,
    /// The token concerned.
    pub serial: Option<TokenSerial>,
    /// Outcome or extra facts; never a secret.
    pub detail: String,
    /// The console operator who acted (`None`: the bank API or the app).
    pub operator: Option<String>,
}

impl NewAuditEvent {
    /// An event of `kind` in `service`, with `detail`.
    pub fn new(service_id: &ServiceId, kind: AuditKind, detail: impl Into<String>) -> Self {
        NewAuditEvent {
            service_id: service_id.clone(),
            kind,
            user_id: None,
            serial: None,
            detail: detail.into(),
            operator: None,
        }
    }

    /// The same event, about `user`.
    pub fn user(mut self, user: &UserId) -> Self {
        self.user_id = Some(user.clone());
        self
    }

    /// The same event, about `serial`.
    pub fn serial(mut self, serial: &TokenSerial) -> Self {
        self.serial = Some(serial.clone());
        self
    }

    /// The same event, done by the console operator `name`.
    pub fn by(mut self, name: &str) -> Self {
        self.operator = Some(name.to_owned());
        self
    }

    /// The same event with another detail (a refusal recorded in place of an acceptance).
    pub fn with_detail(&self, detail: &str) -> Self {
        NewAuditEvent {
            detail: detail.to_owned(),
            ..self.clone()
        }
    }
}

/// An audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Increasing ID, for paging.
    pub id: i64,
    /// When (Unix ms).
    pub at: i64,
    /// What happened.
    pub kind: String,
    /// The user concerned.
    pub user_id: Option<String>,
    /// The token concerned.
    pub serial: Option<String>,
    /// Outcome or extra facts.
    pub detail: String,
    /// The console operator who acted, if one did.
    pub operator: Option<String>,
}

/// Which sealed secret of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedKind {
    /// `tokens.seed`, by serial.
    Seed,
    /// `enrollments.w`, by enrollment id.
    W,
    /// `activation_sessions.session_key`, by session id.
    SessionKey,
}

impl SealedKind {
    /// Every kind.
    pub const ALL: [SealedKind; 3] = [SealedKind::Seed, SealedKind::W, SealedKind::SessionKey];
}

/// A sealed secret as stored, with what it is bound to.
#[derive(Debug, Clone)]
pub struct SealedValue {
    /// The row's key: serial, enrollment id or session id.
    pub id: String,
    /// The row's service.
    pub service_id: String,
    /// The sealed bytes.
    pub blob: Vec<u8>,
}

/// A sealed secret re-sealed, to be stored if its row still holds `old`.
#[derive(Debug, Clone)]
pub struct Resealed {
    /// The row's key.
    pub id: String,
    /// What the row held.
    pub old: Vec<u8>,
    /// What it holds from now on.
    pub new: Vec<u8>,
}

/// A service's activation e-mail: where the app is downloaded, and its own subject and
/// body per language (`None`: the built-in one). Templates are checked before they are
/// stored (by the service's mail templates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceMail {
    /// The service.
    pub service_id: ServiceId,
    /// The app's download URL.
    pub download_url: String,
    /// The Japanese subject and body template.
    pub ja: Option<MailTemplate>,
    /// The English subject and body template.
    pub en: Option<MailTemplate>,
    /// Last set (Unix ms).
    pub updated_at: i64,
}

/// A subject and body template as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTemplate {
    /// The subject template.
    pub subject: String,
    /// The body template.
    pub body: String,
}

/// An activation e-mail to queue with its enrollment: already rendered (it holds no
/// secret: never the start password).
#[derive(Debug, Clone)]
pub struct NewMail {
    /// Random ID, also its Message-ID's.
    pub id: MailId,
    /// The customer's address.
    pub recipient: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// A mail of the outbox, claimed for sending.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    /// Its ID.
    pub id: MailId,
    /// The service.
    pub service_id: ServiceId,
    /// The user it is about.
    pub user_id: UserId,
    /// The customer's address.
    pub recipient: String,
    /// The subject.
    pub subject: String,
    /// The body.
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// When its enrollment expires (Unix ms): no use sending it after.
    pub expires_at: i64,
    /// Queued (Unix ms).
    pub created_at: i64,
}

/// An outbox mail as the help desk sees it: where it stands and why, without its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailStatus {
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// The address (shown masked).
    pub recipient: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed (the address masked), if it did.
    pub last_error: Option<String>,
    /// Queued (Unix ms).
    pub created_at: i64,
    /// Sent (Unix ms), once it was.
    pub sent_at: Option<i64>,
}

/// What became of a claimed mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    /// The SMTP server accepted it.
    Sent,
    /// It failed for now; try again at `at` (Unix ms).
    Retry {
        /// The next attempt.
        at: i64,
        /// Why it failed (the address masked).
        error: String,
    },
    /// It failed for good.
    Failed {
        /// Why (the address masked).
        error: String,
    },
}

/// A transfer challenge (取引確認) as stored: enough to recompute its codes, no full
/// account number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Random id, also in the QR payload.
    pub id: String,
    /// The bank.
    pub service_id: ServiceId,
    /// The customer.
    pub user_id: UserId,
    /// The scan suite's OCRA question (hex digest of the details).
    pub question: String,
    /// The manual mode's OCRA question: exactly the digits the customer types (challenge
    /// number, account's last 6 digits, amount). `None` for a challenge stored before
    /// manual questions were (migration 0010): only its scanned code is accepted.
    pub manual_question: Option<String>,
    /// The payee account, all but its last four characters masked.
    pub masked_account: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; a code given at or after it is refused.
    pub expires_at: i64,
    /// When its code was accepted; a challenge is used once.
    pub used_at: Option<i64>,
}

/// What happened to the single use of a challenge's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionUse {
    /// This call used it.
    Used,
    /// It was used already (by another request or instance).
    AlreadyUsed,
    /// It expired.
    Expired,
    /// The user is locked.
    Locked,
}
