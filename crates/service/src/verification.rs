//! The one place a typed code is judged. Every caller (the bank API's `verify`,
//! `confirm`, `tokens`, `replace` and `stop`, and later the help-desk console and the
//! transaction codes) hands it the request's parts and gets a domain outcome back; the
//! rules (which token, one-time use, what counts as a failure, when a user or token
//! locks) and the audit row of every checked code live here and nowhere else.
//!
//! Every check goes one way: read (the user, their tokens, a challenge), decide in pure
//! code (`Judging::decide`, `decide_held`, `decide_unbound`, `decide_transfer`: no I/O,
//! table-tested below), then apply with one write. Each checked code leaves exactly one
//! audit row, with the outcome the caller got, in the commit of that write: an accepted
//! code, a counted failure, a one-time use refused because another request got there
//! first (the store records the refusal in place of the acceptance), or the row alone when
//! the check writes nothing else (no token, already locked, a spent code: a reused code is
//! refused and audited but never counted as a guess). A proof of possession hands its step
//! to the caller's write (stop, device change, registration), which carries its own row.
//!
//! Each check is counted in the metrics here too (`softtoken_code_checks_total` by
//! purpose and reason, `softtoken_lockouts_total`), so no caller can forget it.

use std::sync::Arc;

use softtoken_protocol::UserId;
use softtoken_protocol::transaction;

use crate::audit::{AuditKind, Detail};
use crate::crypto::{Bound, CryptoError, Keyring};
use crate::otp_check::{Code, CodeMatch, match_code};
use crate::serial::TokenSerial;
use crate::store::rules::Lockout;
use crate::store::{
    Acceptance, Applied, Failures, Judged, Judgement, NewAuditEvent, RefusalDetails, Service,
    StepUse, Store, StoreError, StoreResult, Token, TokenState, Transaction, TransactionUse, User,
    rules,
};

/// What a checked code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Right and fresh: accepted, its step is used.
    Accepted,
    /// Wrong.
    Invalid,
    /// Right, but its step was used already.
    Reused,
    /// The user (or token) is locked after too many wrong codes: not checked.
    Locked,
    /// The user's token waits for its first code (`confirm`), so `verify` cannot check it.
    Pending,
    /// The user has no token to check against.
    NoToken,
    /// `confirm` of a token that is active already.
    AlreadyActive,
    /// A transfer challenge's code given after the challenge expired.
    Expired,
    /// A code of another length than the user's tokens make: not checked, not counted
    /// (it cannot be right, and a customer who typed six digits for an eight-digit token
    /// should be told so rather than locked).
    WrongLength {
        /// How many digits the codes it was checked for have.
        expected: u32,
    },
}

impl Outcome {
    /// The outcome's stable name, as the API and the audit trail show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "ok",
            Outcome::Invalid => "invalid",
            Outcome::Reused => "reused",
            Outcome::Locked => "locked",
            Outcome::Pending => "pending",
            Outcome::NoToken => "no_token",
            Outcome::AlreadyActive => "already_active",
            Outcome::Expired => "expired",
            Outcome::WrongLength { .. } => "wrong_length",
        }
    }
}

/// The outcome of a check and where the user stands after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What the code was.
    pub outcome: Outcome,
    /// The token the code belongs to, if it matched one.
    pub serial: Option<TokenSerial>,
    /// The user's consecutive wrong codes now.
    pub failures: u32,
    /// Wrong codes left before the user is locked.
    pub remaining_attempts: u32,
    /// The audit event the check recorded.
    pub audited: AuditKind,
}

/// Which token a `verify`-like check is against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A login or transfer: the user's active token.
    Verify,
    /// The first code of a token activated by start password: the user's pending token.
    Confirm,
}

impl Purpose {
    fn state(self) -> TokenState {
        match self {
            Purpose::Verify => TokenState::Active,
            Purpose::Confirm => TokenState::Pending,
        }
    }

    fn audit_kind(self) -> AuditKind {
        match self {
            Purpose::Verify => AuditKind::Verify,
            Purpose::Confirm => AuditKind::Confirm,
        }
    }
}

/// A code that proves possession of a token, for a call that then changes something
/// (stop, device change, registration), or the verdict it was refused with.
#[derive(Debug, Clone)]
pub enum Proof {
    /// Right and fresh; the step is not used yet: the caller's write uses it.
    Fresh(StepUse),
    /// Not a proof: the verdict (already counted and audited).
    Refused(Verdict),
}

/// Why a check could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Storage refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A seed would not open.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The verification service over one request's store, master key and time.
pub struct Verification<'a> {
    store: &'a dyn Store,
    key: Arc<Keyring>,
    now: i64,
}

impl<'a> Verification<'a> {
    /// The service for a request made at `now`.
    pub fn new(store: &'a dyn Store, key: Arc<Keyring>, now: i64) -> Self {
        Verification { store, key, now }
    }

    /// Checks `code` against the user's token for `purpose` and, if right, uses its step
    /// (activating a pending token). The decision is made where the store applies it (on
    /// SQLite, inside the write, on the state every earlier write left).
    pub async fn check(
        &self,
        service: &Service,
        user: &UserId,
        code: &Code,
        purpose: Purpose,
    ) -> Result<Verdict, VerifyError> {
        let checked = self.judge(service, user, code, purpose).await;
        let reason = match &checked {
            Ok(verdict) => verdict.outcome.as_str(),
            Err(e) => error_reason(e),
        };
        crate::metrics::code_checked(purpose.audit_kind(), reason);
        checked
    }

    async fn judge(
        &self,
        service: &Service,
        user: &UserId,
        code: &Code,
        purpose: Purpose,
    ) -> Result<Verdict, VerifyError> {
        let kind = purpose.audit_kind();
        let max = service.policy.max_failures;
        let judge = Judging {
            key: Arc::clone(&self.key),
            service: service.clone(),
            user: user.clone(),
            code: code.clone(),
            purpose,
            now: self.now,
        };
        let (applied, decided) = self
            .store
            .check_code(&service.id, user, self.now, move |found| {
                judge.decide(found)
            })
            .await?;
        let serial = decided.serial.as_ref();
        match applied {
            Applied::Accepted => Ok(Verdict {
                outcome: Outcome::Accepted,
                serial: decided.serial.clone(),
                failures: 0,
                remaining_attempts: max,
                audited: kind,
            }),
            Applied::Recorded => Ok(verdict(
                decided.outcome,
                serial,
                decided.failures,
                max,
                kind,
            )),
            Applied::Failed(failures) => Ok(counted(decided.outcome, serial, failures, max, kind)),
            // The step was fresh when read, and another request used it (or locked the
            // user) before this one could: the store recorded the refusal in the same
            // commit, and the answer is as if the code had been read so. A spent code is
            // never a guess: refused and audited, not counted.
            Applied::Refused(Acceptance::Locked) => Ok(verdict(
                Outcome::Locked,
                serial,
                decided.failures,
                max,
                kind,
            )),
            Applied::Refused(Acceptance::Reused { .. }) => Ok(verdict(
                Outcome::Reused,
                serial,
                decided.failures,
                max,
                kind,
            )),
            Applied::Refused(Acceptance::Accepted) => Err(StoreError::Database(
                crate::store::DatabaseError::Internal("an accepted step reported as refused"),
            )
            .into()),
        }
    }

    /// The user's active token `code` belongs to, fresh, for a call that then uses the
    /// step (stop, or the old token of a device change). A wrong code is counted and
    /// audited as `possession`; a reused one is audited, not counted. `NotFound` if no
    /// such user, `Locked`, or a conflict if the user has no active token.
    pub async fn prove(
        &self,
        service: &Service,
        user: &UserId,
        code: &Code,
    ) -> Result<Proof, VerifyError> {
        let proved = self.prove_held(service, user, code).await;
        count_proof(AuditKind::Possession, &proved);
        proved
    }

    async fn prove_held(
        &self,
        service: &Service,
        user: &UserId,
        code: &Code,
    ) -> Result<Proof, VerifyError> {
        let kind = AuditKind::Possession;
        let max = service.policy.max_failures;
        let found = self
            .store
            .user(&service.id, user)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        match decide_held(&self.key, service, user, &found, code, self.now)? {
            Decision::Fresh(step) => Ok(Proof::Fresh(step)),
            Decision::Record { outcome, serial } => {
                let verdict = self
                    .record(
                        service,
                        user,
                        kind,
                        outcome,
                        serial.as_ref(),
                        found.failures,
                    )
                    .await?;
                Ok(Proof::Refused(verdict))
            }
            Decision::Fail { serial } => {
                let mut event =
                    NewAuditEvent::new(&service.id, kind, Outcome::Invalid.as_str()).user(user);
                event.serial = serial.clone();
                let failures = self
                    .store
                    .record_failure(&service.id, user, max, &event, self.now)
                    .await?;
                Ok(Proof::Refused(counted(
                    Outcome::Invalid,
                    serial.as_ref(),
                    failures,
                    max,
                    kind,
                )))
            }
        }
    }

    /// Whether `code` is a fresh code of `token`, which the user does not hold yet
    /// (registration, or a device change's new token; `kind` names which). A wrong code
    /// counts against the user and the token; a spent code (the user's own, or a
    /// colleague's on a shared token) is answered `reused` and counts against nobody. A
    /// token locked by wrong codes is refused before its code is looked at, so it cannot be
    /// guessed further.
    pub async fn prove_unbound(
        &self,
        service: &Service,
        user: &UserId,
        token: &Token,
        code: &Code,
        kind: AuditKind,
    ) -> Result<Proof, VerifyError> {
        let proved = self.prove_new(service, user, token, code, kind).await;
        count_proof(kind, &proved);
        proved
    }

    async fn prove_new(
        &self,
        service: &Service,
        user: &UserId,
        token: &Token,
        code: &Code,
        kind: AuditKind,
    ) -> Result<Proof, VerifyError> {
        let max = service.policy.max_failures;
        match decide_unbound(&self.key, service, user, token, code, self.now)? {
            Decision::Fresh(step) => Ok(Proof::Fresh(step)),
            Decision::Record { outcome, serial } => {
                // The user's failures as stored (none for a user not yet known), for the
                // answer only.
                let failures = match self.store.user(&service.id, user).await? {
                    Some(found) => found.failures,
                    None => 0,
                };
                let verdict = self
                    .record(service, user, kind, outcome, serial.as_ref(), failures)
                    .await?;
                Ok(Proof::Refused(verdict))
            }
            Decision::Fail { .. } => {
                let event = NewAuditEvent::new(&service.id, kind, Outcome::Invalid.as_str())
                    .user(user)
                    .serial(&token.serial);
                let failures = self
                    .store
                    .record_registration_failure(
                        &service.id,
                        user,
                        &token.serial,
                        max,
                        &event,
                        self.now,
                    )
                    .await?;
                Ok(Proof::Refused(counted(
                    Outcome::Invalid,
                    Some(&token.serial),
                    failures,
                    max,
                    kind,
                )))
            }
        }
    }

    /// Checks `code` against the transfer challenge `id` of `user` (取引確認): right for one
    /// of the user's active tokens, for this challenge's details (scanned or typed
    /// digits), unused and in time. A wrong code counts toward the same lockout as
    /// `verify` (a reused one is refused, not counted); a code given too late is refused
    /// without counting (it may be right).
    /// The single use is one conditional update, so instances cannot both accept it.
    /// `NotFound` if no such user or challenge.
    pub async fn check_transaction(
        &self,
        service: &Service,
        user: &UserId,
        id: &str,
        code: &str,
    ) -> Result<Verdict, VerifyError> {
        let checked = self.judge_transaction(service, user, id, code).await;
        let reason = match &checked {
            Ok(verdict) => verdict.outcome.as_str(),
            Err(e) => error_reason(e),
        };
        crate::metrics::code_checked(AuditKind::Transaction, reason);
        checked
    }

    async fn judge_transaction(
        &self,
        service: &Service,
        user: &UserId,
        id: &str,
        code: &str,
    ) -> Result<Verdict, VerifyError> {
        let kind = AuditKind::Transaction;
        let max = service.policy.max_failures;
        let challenge = self
            .store
            .transaction(&service.id, user, id)
            .await?
            .ok_or(StoreError::NotFound("transaction"))?;
        let found = self
            .store
            .user(&service.id, user)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        // Every row of a transfer check names its challenge, refusals included: a help desk
        // asked about one transfer finds all its attempts.
        let detail = |outcome: Outcome| Detail::TransferCheck {
            outcome: outcome.as_str().to_owned(),
            id: id.to_owned(),
        };
        match decide_transfer(&self.key, &found, &challenge, code, self.now)? {
            Transfer::Record(outcome) => {
                let event = NewAuditEvent::new(&service.id, kind, detail(outcome)).user(user);
                self.record_event(&event, outcome, found.failures, max)
                    .await
            }
            Transfer::Fail => {
                let event =
                    NewAuditEvent::new(&service.id, kind, detail(Outcome::Invalid)).user(user);
                let failures = self
                    .store
                    .record_failure(&service.id, user, max, &event, self.now)
                    .await?;
                Ok(counted(Outcome::Invalid, None, failures, max, kind))
            }
            Transfer::Use(serial) => {
                let mut event =
                    NewAuditEvent::new(&service.id, kind, detail(Outcome::Accepted)).user(user);
                event.serial = Some(serial.clone());
                let refusal_details = RefusalDetails {
                    reused: detail(Outcome::Reused).into(),
                    locked: detail(Outcome::Locked).into(),
                    expired: detail(Outcome::Expired).into(),
                };
                let used = self
                    .store
                    .use_transaction(&service.id, user, id, &event, &refusal_details, self.now)
                    .await?;
                let refused = match used {
                    TransactionUse::Used => {
                        return Ok(Verdict {
                            outcome: Outcome::Accepted,
                            serial: Some(serial),
                            failures: 0,
                            remaining_attempts: max,
                            audited: kind,
                        });
                    }
                    TransactionUse::AlreadyUsed => Outcome::Reused,
                    TransactionUse::Expired => Outcome::Expired,
                    TransactionUse::Locked => Outcome::Locked,
                };
                // Used, expired or locked between the read and the write: the store recorded
                // the refusal in the same commit.
                Ok(verdict(refused, Some(&serial), found.failures, max, kind))
            }
        }
    }

    /// Records the audit row of a check whose only write it is (one commit), and its
    /// verdict.
    async fn record(
        &self,
        service: &Service,
        user: &UserId,
        kind: AuditKind,
        outcome: Outcome,
        serial: Option<&TokenSerial>,
        failures: u32,
    ) -> Result<Verdict, VerifyError> {
        let mut event = NewAuditEvent::new(&service.id, kind, outcome.as_str()).user(user);
        event.serial = serial.cloned();
        self.record_event(&event, outcome, failures, service.policy.max_failures)
            .await
    }

    /// Records `event`, the only write of a check that ended in `outcome` (one commit),
    /// and returns the check's verdict.
    async fn record_event(
        &self,
        event: &NewAuditEvent,
        outcome: Outcome,
        failures: u32,
        max: u32,
    ) -> Result<Verdict, VerifyError> {
        self.store.audit(event, self.now).await?;
        Ok(verdict(
            outcome,
            event.serial.as_ref(),
            failures,
            max,
            event.kind,
        ))
    }
}

/// The details a check's audit row gets when its one-time use is refused by a change since
/// the read: the outcome the caller is then answered.
fn refusals() -> RefusalDetails {
    RefusalDetails {
        reused: Outcome::Reused.as_str().to_owned(),
        locked: Outcome::Locked.as_str().to_owned(),
        expired: Outcome::Expired.as_str().to_owned(),
    }
}

/// What a proof of possession decided from what was read, before anything is written.
#[derive(Debug, Clone)]
enum Decision {
    /// Right and fresh: the caller's write uses the step.
    Fresh(StepUse),
    /// Refused without counting (a spent code, a wrong length): only the audit row.
    Record {
        /// What the code was.
        outcome: Outcome,
        /// The token it belongs to, if any.
        serial: Option<TokenSerial>,
    },
    /// Wrong: counted against the user (and a token not held yet).
    Fail {
        /// The token it was checked against, if one.
        serial: Option<TokenSerial>,
    },
}

/// The use of `step` of `token` by `user`.
fn step_use(service: &Service, user: &UserId, token: &Token, step: i64, drift: i64) -> StepUse {
    StepUse {
        service_id: service.id.clone(),
        user_id: user.clone(),
        serial: token.serial.clone(),
        step,
        drift,
    }
}

/// A proof by one of the user's active tokens, decided from the user as read: `Locked`,
/// or a conflict if the user has no active token, before the code is looked at.
fn decide_held(
    key: &Keyring,
    service: &Service,
    user: &UserId,
    found: &User,
    code: &Code,
    now: i64,
) -> Result<Decision, VerifyError> {
    if found.locked {
        return Err(StoreError::Locked.into());
    }
    let active: Vec<&Token> = found
        .tokens
        .iter()
        .filter(|t| t.state == TokenState::Active)
        .collect();
    if active.is_empty() {
        return Err(StoreError::Conflict("the user has no active token").into());
    }
    if let Some(expected) = wrong_length(&active, code) {
        let outcome = Outcome::WrongLength { expected };
        return Ok(Decision::Record {
            outcome,
            serial: None,
        });
    }
    let (matched, token) = find(key, service, &active, code, now)?;
    let serial = token.map(|t| t.serial.clone());
    Ok(match (matched, token) {
        (CodeMatch::Fresh { step, drift }, Some(token)) => {
            Decision::Fresh(step_use(service, user, token, step, drift))
        }
        (CodeMatch::Used, _) => Decision::Record {
            outcome: Outcome::Reused,
            serial,
        },
        _ => Decision::Fail { serial },
    })
}

/// A proof by `token`, which the user does not hold yet: a token locked by wrong codes is
/// refused (`TokenLocked`) before its code is looked at, so it cannot be guessed further.
fn decide_unbound(
    key: &Keyring,
    service: &Service,
    user: &UserId,
    token: &Token,
    code: &Code,
    now: i64,
) -> Result<Decision, VerifyError> {
    if rules::token_locked(token, service.policy.max_failures) {
        return Err(StoreError::TokenLocked.into());
    }
    let serial = Some(token.serial.clone());
    if let Some(expected) = wrong_length(&[token], code) {
        let outcome = Outcome::WrongLength { expected };
        return Ok(Decision::Record { outcome, serial });
    }
    Ok(match matches(key, service, token, code, now)? {
        CodeMatch::Fresh { step, drift } => {
            Decision::Fresh(step_use(service, user, token, step, drift))
        }
        // A spent code (the user's own, or a colleague's on a shared token) counts against
        // nobody.
        CodeMatch::Used => Decision::Record {
            outcome: Outcome::Reused,
            serial,
        },
        CodeMatch::NoMatch => Decision::Fail { serial },
    })
}

/// What a transfer code check decided from the challenge and the user as read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Transfer {
    /// Refused without counting: only the audit row.
    Record(Outcome),
    /// Wrong: counted toward the user's lockout.
    Fail,
    /// Right for this token: use the challenge once.
    Use(TokenSerial),
}

/// The decision on a transfer code: locked, expired, no token and a wrong length are
/// refused without counting (a late code may be right); a code of none of the user's
/// active tokens for this challenge is counted.
fn decide_transfer(
    key: &Keyring,
    found: &User,
    challenge: &Transaction,
    code: &str,
    now: i64,
) -> Result<Transfer, VerifyError> {
    if found.locked {
        return Ok(Transfer::Record(Outcome::Locked));
    }
    if challenge.expires_at <= now && challenge.used_at.is_none() {
        return Ok(Transfer::Record(Outcome::Expired));
    }
    let mut active = found
        .tokens
        .iter()
        .filter(|t| t.state == TokenState::Active)
        .peekable();
    if active.peek().is_none() {
        return Ok(Transfer::Record(Outcome::NoToken));
    }
    let expected = transaction::RESPONSE_DIGITS;
    if usize::try_from(expected).ok() != Some(code.len()) {
        return Ok(Transfer::Record(Outcome::WrongLength { expected }));
    }
    for token in active {
        if transaction_code_matches(key, token, challenge, code)? {
            return Ok(Transfer::Use(token.serial.clone()));
        }
    }
    Ok(Transfer::Fail)
}

/// What a check found, for its answer: the outcome it decided, the token the code matched
/// and the user's failures when read.
#[derive(Debug, Clone)]
struct Decided {
    outcome: Outcome,
    serial: Option<TokenSerial>,
    failures: u32,
}

/// Everything a `verify` or `confirm` decision needs, owned, so the store can run it
/// where it applies it.
struct Judging {
    key: Arc<Keyring>,
    service: Service,
    user: UserId,
    code: Code,
    purpose: Purpose,
    now: i64,
}

impl Judging {
    /// The decision for the user as stored: which token the code belongs to, and whether
    /// it uses a step, counts a failure or only leaves its audit row.
    fn decide(&self, found: Option<&User>) -> StoreResult<(Judgement, Decided)> {
        let kind = self.purpose.audit_kind();
        let decision = |action: Judged, outcome: Outcome, token: Option<&Token>, failures| {
            let serial = token.map(|t| t.serial.clone());
            let mut audit =
                NewAuditEvent::new(&self.service.id, kind, outcome.as_str()).user(&self.user);
            audit.serial = serial.clone();
            (
                Judgement { action, audit },
                Decided {
                    outcome,
                    serial,
                    failures,
                },
            )
        };
        let Some(found) = found else {
            return Ok(decision(Judged::Record, Outcome::NoToken, None, 0));
        };
        if found.locked {
            return Ok(decision(
                Judged::Record,
                Outcome::Locked,
                None,
                found.failures,
            ));
        }
        let wanted = self.purpose.state();
        let candidates: Vec<&Token> = found.tokens.iter().filter(|t| t.state == wanted).collect();
        if candidates.is_empty() {
            let has = |state| found.tokens.iter().any(|t| t.state == state);
            let outcome = match self.purpose {
                Purpose::Verify if has(TokenState::Pending) => Outcome::Pending,
                Purpose::Confirm if has(TokenState::Active) => Outcome::AlreadyActive,
                _ => Outcome::NoToken,
            };
            return Ok(decision(Judged::Record, outcome, None, found.failures));
        }
        if let Some(expected) = wrong_length(&candidates, &self.code) {
            let outcome = Outcome::WrongLength { expected };
            return Ok(decision(Judged::Record, outcome, None, found.failures));
        }
        let (matched, token) = find(&self.key, &self.service, &candidates, &self.code, self.now)
            .map_err(|e| StoreError::Corrupt(format!("a seed does not open: {e}")))?;
        let fail = Judged::Fail {
            max_failures: self.service.policy.max_failures,
        };
        Ok(match (matched, token) {
            (CodeMatch::Fresh { step, drift }, Some(token)) => {
                let accept = Judged::Accept {
                    step: step_use(&self.service, &self.user, token, step, drift),
                    from: wanted,
                    refused: refusals(),
                };
                decision(accept, Outcome::Accepted, Some(token), found.failures)
            }
            // A spent code (by this user, or by a colleague on a shared token) tells an
            // attacker nothing and costs a double-submitting customer nothing.
            (CodeMatch::Used, token) => {
                decision(Judged::Record, Outcome::Reused, token, found.failures)
            }
            (_, token) => decision(fail, Outcome::Invalid, token, found.failures),
        })
    }
}

/// The verdict of a check that counted nothing.
fn verdict(
    outcome: Outcome,
    serial: Option<&TokenSerial>,
    failures: u32,
    max: u32,
    audited: AuditKind,
) -> Verdict {
    Verdict {
        outcome,
        serial: serial.cloned(),
        failures,
        remaining_attempts: if outcome == Outcome::Locked {
            0
        } else {
            Lockout::of(max).remaining(failures)
        },
        audited,
    }
}

/// Which of `tokens` the code belongs to: the first it is fresh for, else one it was
/// used on, else none.
fn find<'t>(
    key: &Keyring,
    service: &Service,
    tokens: &[&'t Token],
    code: &Code,
    now: i64,
) -> Result<(CodeMatch, Option<&'t Token>), CryptoError> {
    let mut best = (CodeMatch::NoMatch, None);
    for &token in tokens {
        match matches(key, service, token, code, now)? {
            fresh @ CodeMatch::Fresh { .. } => return Ok((fresh, Some(token))),
            CodeMatch::Used => best = (CodeMatch::Used, Some(token)),
            CodeMatch::NoMatch => {}
        }
    }
    Ok(best)
}

/// The digits of `tokens`' codes when `code` has the length of none of them (the first
/// token's, newest first as stored), else `None`.
fn wrong_length(tokens: &[&Token], code: &Code) -> Option<u32> {
    let fits =
        |t: &&Token| usize::try_from(t.params.digits.get()).ok() == Some(code.as_str().len());
    if tokens.iter().any(fits) {
        return None;
    }
    tokens.first().map(|t| t.params.digits.get())
}

/// Whether `code` is `token`'s code for this challenge, scanned or typed: against this
/// challenge's own two questions only (each compared in constant time; both are computed,
/// so the time does not say which mode matched). The manual question carries the
/// challenge's own number, so another challenge's typed code, even with the same details,
/// does not match. A challenge stored before manual questions (migration 0010) has none:
/// only its scanned code can match.
fn transaction_code_matches(
    key: &Keyring,
    token: &Token,
    challenge: &Transaction,
    code: &str,
) -> Result<bool, VerifyError> {
    let seed = key.open(
        &token.seed,
        Bound::Seed {
            service: token.service_id.as_str(),
            serial: token.serial.as_str(),
        },
    )?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("a stored transaction's {what}"));
    let scanned =
        transaction::scan_response(&seed, &challenge.question).map_err(|_| corrupt("question"))?;
    let typed = match &challenge.manual_question {
        Some(question) => transaction::ManualDigits::parse(question)
            .map_err(|_| corrupt("manual question"))?
            .response(&seed)
            .matches(code),
        None => false,
    };
    Ok(scanned.matches(code) | typed)
}

/// What `code` is for `token`.
fn matches(
    key: &Keyring,
    service: &Service,
    token: &Token,
    code: &Code,
    now: i64,
) -> Result<CodeMatch, CryptoError> {
    let seed = key.open(
        &token.seed,
        Bound::Seed {
            service: token.service_id.as_str(),
            serial: token.serial.as_str(),
        },
    )?;
    Ok(match_code(
        &seed,
        &token.params,
        code.as_str(),
        now,
        token.drift,
        service.policy.window,
        token.last_step,
    ))
}

/// The metrics' reason for a check that ended in an error: a lockout found before the
/// code was looked at is `locked` (`token_locked` for a token's), anything else `error`.
fn error_reason(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::Store(StoreError::Locked) => Outcome::Locked.as_str(),
        VerifyError::Store(StoreError::TokenLocked) => "token_locked",
        _ => "error",
    }
}

/// Counts a proof of possession in the metrics: a fresh one as `ok` (the caller's write
/// then uses its step), a refused one by its verdict.
fn count_proof(kind: AuditKind, proved: &Result<Proof, VerifyError>) {
    let reason = match proved {
        Ok(Proof::Fresh(_)) => Outcome::Accepted.as_str(),
        Ok(Proof::Refused(verdict)) => verdict.outcome.as_str(),
        Err(e) => error_reason(e),
    };
    crate::metrics::code_checked(kind, reason);
}

/// The verdict of a counted failure: `locked` if the user was locked before it could count.
/// Every failure that locks a user passes here, so this is where lockouts are counted.
fn counted(
    outcome: Outcome,
    serial: Option<&TokenSerial>,
    f: Failures,
    max: u32,
    audited: AuditKind,
) -> Verdict {
    let already_locked = f.locked && !f.newly_locked;
    if f.newly_locked {
        crate::metrics::locked_out();
    }
    Verdict {
        outcome: if already_locked {
            Outcome::Locked
        } else {
            outcome
        },
        serial: serial.cloned(),
        failures: f.failures,
        remaining_attempts: if already_locked {
            0
        } else {
            Lockout::of(max).remaining(f.failures)
        },
        audited,
    }
}

#[cfg(test)]
mod tests {
    //! The decision of a `verify` or `confirm`, table-tested: pure (no store, no clock), from
    //! the user as read and the code given.

    use softtoken_protocol::otp::totp;
    use softtoken_protocol::{Algorithm, OtpParams, Serial, ServiceId};

    use super::*;
    use crate::crypto::MasterKey;
    use crate::policy::Policy;

    const NOW: i64 = 1_700_000_000_000;
    const SEED: &[u8] = b"12345678901234567890";

    fn params() -> OtpParams {
        OtpParams::new(Algorithm::Sha1, 6, 30).unwrap()
    }

    fn step_at(ms: i64) -> i64 {
        ms.div_euclid(30_000)
    }

    fn code_at(ms: i64) -> String {
        totp(SEED, &params(), u64::try_from(ms / 1000).unwrap())
            .as_str()
            .to_owned()
    }

    /// A code of the right length that is not the token's at any step in the window.
    fn wrong_code() -> String {
        let near: Vec<String> = (-2..=2).map(|s| code_at(NOW + s * 30_000)).collect();
        (0..1_000_000)
            .map(|n| format!("{n:06}"))
            .find(|c| !near.contains(c))
            .unwrap()
    }

    struct Case {
        key: Arc<Keyring>,
        service: Service,
        user: UserId,
        token: Token,
    }

    impl Case {
        fn new(state: TokenState) -> Self {
            let key = Arc::new(Keyring::from(MasterKey::generate()));
            let sid = ServiceId::new("bank").unwrap();
            let serial = TokenSerial::parse(Serial::generate().as_str()).unwrap();
            let seed = key.seal(
                SEED,
                Bound::Seed {
                    service: sid.as_str(),
                    serial: serial.as_str(),
                },
            );
            let policy = Policy {
                window: 1,
                max_failures: 5,
                ..Policy::default()
            };
            Case {
                key,
                service: Service {
                    id: sid.clone(),
                    name: "Bank".into(),
                    policy,
                    created_at: 0,
                },
                user: UserId::new("alice").unwrap(),
                token: Token::new(sid, serial, state, params(), seed, 0),
            }
        }

        fn user(&self, failures: u32, locked: bool) -> User {
            User {
                user_id: self.user.clone(),
                failures,
                locked,
                cooldown_until: None,
                tokens: vec![self.token.clone()],
            }
        }

        fn decide(
            &self,
            found: Option<&User>,
            code: &str,
            purpose: Purpose,
        ) -> (Judgement, Decided) {
            Judging {
                key: Arc::clone(&self.key),
                service: self.service.clone(),
                user: self.user.clone(),
                code: Code::parse(code).unwrap(),
                purpose,
                now: NOW,
            }
            .decide(found)
            .unwrap()
        }
    }

    /// What a decision writes, in a form the table can compare.
    #[derive(Debug, PartialEq, Eq)]
    enum Writes {
        Record,
        Accept { step: i64, drift: i64 },
        Fail { max_failures: u32 },
    }

    fn writes(judged: &Judged) -> Writes {
        match judged {
            Judged::Record => Writes::Record,
            Judged::Accept { step, .. } => Writes::Accept {
                step: step.step,
                drift: step.drift,
            },
            Judged::Fail { max_failures } => Writes::Fail {
                max_failures: *max_failures,
            },
        }
    }

    /// One row: name, case, the user as read, the code, the purpose, then what is written,
    /// the outcome and the failure count the answer reports.
    type Row<'a> = (
        &'a str,
        &'a Case,
        Option<User>,
        &'a str,
        Purpose,
        Writes,
        Outcome,
        u32,
    );

    #[test]
    fn each_kind_of_code_is_decided_without_the_store() {
        let right = code_at(NOW);
        let next = code_at(NOW + 30_000);
        let wrong = wrong_code();
        let now_step = step_at(NOW);
        let active = Case::new(TokenState::Active);
        let pending = Case::new(TokenState::Pending);
        let mut spent = active.user(0, false);
        spent.tokens[0].last_step = now_step;
        let mut colleague = active.user(0, false);
        colleague.tokens[0].last_step = now_step;
        colleague.tokens[0].last_used_by = Some(UserId::new("bob").unwrap());

        let table: Vec<Row<'_>> = vec![
            (
                "right",
                &active,
                Some(active.user(2, false)),
                &right,
                Purpose::Verify,
                Writes::Accept {
                    step: now_step,
                    drift: 0,
                },
                Outcome::Accepted,
                2,
            ),
            (
                "wrong",
                &active,
                Some(active.user(2, false)),
                &wrong,
                Purpose::Verify,
                Writes::Fail { max_failures: 5 },
                Outcome::Invalid,
                2,
            ),
            (
                "reused",
                &active,
                Some(spent),
                &right,
                Purpose::Verify,
                Writes::Record,
                Outcome::Reused,
                0,
            ),
            (
                "locked",
                &active,
                Some(active.user(5, true)),
                &right,
                Purpose::Verify,
                Writes::Record,
                Outcome::Locked,
                5,
            ),
            (
                "wrong length",
                &active,
                Some(active.user(1, false)),
                "1234567",
                Purpose::Verify,
                Writes::Record,
                Outcome::WrongLength { expected: 6 },
                1,
            ),
            (
                "drift",
                &active,
                Some(active.user(0, false)),
                &next,
                Purpose::Verify,
                Writes::Accept {
                    step: now_step + 1,
                    drift: 1,
                },
                Outcome::Accepted,
                0,
            ),
            (
                "shared token, a colleague's code",
                &active,
                Some(colleague),
                &right,
                Purpose::Verify,
                Writes::Record,
                Outcome::Reused,
                0,
            ),
            (
                "no user",
                &active,
                None,
                &right,
                Purpose::Verify,
                Writes::Record,
                Outcome::NoToken,
                0,
            ),
            (
                "verify before confirm",
                &pending,
                Some(pending.user(0, false)),
                &right,
                Purpose::Verify,
                Writes::Record,
                Outcome::Pending,
                0,
            ),
            (
                "confirm",
                &pending,
                Some(pending.user(0, false)),
                &right,
                Purpose::Confirm,
                Writes::Accept {
                    step: now_step,
                    drift: 0,
                },
                Outcome::Accepted,
                0,
            ),
            (
                "confirm again",
                &active,
                Some(active.user(0, false)),
                &right,
                Purpose::Confirm,
                Writes::Record,
                Outcome::AlreadyActive,
                0,
            ),
        ];
        for (name, case, found, code, purpose, want_writes, want_outcome, want_failures) in table {
            let (judgement, decided) = case.decide(found.as_ref(), code, purpose);
            assert_eq!(writes(&judgement.action), want_writes, "{name}");
            assert_eq!(decided.outcome, want_outcome, "{name}");
            assert_eq!(decided.failures, want_failures, "{name}");
            // Every decision carries the audit row of the check, naming its user.
            assert_eq!(judgement.audit.kind, purpose.audit_kind(), "{name}");
            assert_eq!(judgement.audit.user_id.as_ref(), Some(&case.user), "{name}");
            assert_eq!(judgement.audit.detail, want_outcome.as_str(), "{name}");
        }
    }

    /// What a proof decided, in a form the table can compare.
    fn decision(d: &Result<Decision, VerifyError>) -> String {
        match d {
            Ok(Decision::Fresh(step)) => format!("fresh {} {}", step.step, step.drift),
            Ok(Decision::Record { outcome, serial }) => {
                format!("record {} {}", outcome.as_str(), serial.is_some())
            }
            Ok(Decision::Fail { serial }) => format!("fail {}", serial.is_some()),
            Err(VerifyError::Store(e)) => format!("error {e:?}"),
            Err(VerifyError::Crypto(_)) => "crypto".into(),
        }
    }

    #[test]
    fn each_kind_of_proof_is_decided_without_the_store() {
        let right = code_at(NOW);
        let wrong = wrong_code();
        let now_step = step_at(NOW);
        let active = Case::new(TokenState::Active);
        let pending = Case::new(TokenState::Pending);
        let mut spent = active.user(0, false);
        spent.tokens[0].last_step = now_step;
        let held = |case: &Case, found: &User, code: &str| {
            decision(&decide_held(
                &case.key,
                &case.service,
                &case.user,
                found,
                &Code::parse(code).unwrap(),
                NOW,
            ))
        };
        let table = [
            (
                "right",
                held(&active, &active.user(1, false), &right),
                format!("fresh {now_step} 0"),
            ),
            (
                "wrong",
                held(&active, &active.user(1, false), &wrong),
                // A wrong code matches no token: its row names none.
                "fail false".into(),
            ),
            (
                "reused",
                held(&active, &spent, &right),
                "record reused true".into(),
            ),
            (
                "wrong length",
                held(&active, &active.user(0, false), "1234567"),
                "record wrong_length false".into(),
            ),
            (
                "locked",
                held(&active, &active.user(5, true), &right),
                "error Locked".into(),
            ),
            (
                "no active token",
                held(&pending, &pending.user(0, false), &right),
                "error Conflict(\"the user has no active token\")".into(),
            ),
        ];
        for (name, got, want) in table {
            assert_eq!(got, want, "{name}");
        }

        let unbound = |case: &Case, token: &Token, code: &str| {
            decision(&decide_unbound(
                &case.key,
                &case.service,
                &case.user,
                token,
                &Code::parse(code).unwrap(),
                NOW,
            ))
        };
        let unassigned = Case::new(TokenState::Unassigned);
        let mut guessed = unassigned.token.clone();
        guessed.failures = 5;
        let mut used = unassigned.token.clone();
        used.last_step = now_step;
        let table = [
            (
                "right",
                unbound(&unassigned, &unassigned.token, &right),
                format!("fresh {now_step} 0"),
            ),
            (
                "wrong",
                unbound(&unassigned, &unassigned.token, &wrong),
                "fail true".into(),
            ),
            (
                "a colleague's code",
                unbound(&unassigned, &used, &right),
                "record reused true".into(),
            ),
            (
                "wrong length",
                unbound(&unassigned, &unassigned.token, "12345678"),
                "record wrong_length true".into(),
            ),
            (
                "token locked",
                unbound(&unassigned, &guessed, &right),
                "error TokenLocked".into(),
            ),
        ];
        for (name, got, want) in table {
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn each_kind_of_transfer_code_is_decided_without_the_store() {
        use softtoken_protocol::transaction::{Challenge, ChallengeNumber, TransferDetails};
        let case = Case::new(TokenState::Active);
        let details = TransferDetails::new("1234567890", "Payee", 50_000, "JPY").unwrap();
        let challenge = Challenge::new(case.service.id.clone(), "tx1", details).unwrap();
        let manual = challenge
            .details
            .manual_digits(ChallengeNumber::new(482_913).unwrap());
        let stored = Transaction {
            id: challenge.id.clone(),
            service_id: case.service.id.clone(),
            user_id: case.user.clone(),
            question: challenge.question(),
            manual_question: Some(manual.as_str().to_owned()),
            masked_account: challenge.details.masked_account(),
            created_at: NOW,
            expires_at: NOW + 300_000,
            used_at: None,
        };
        let scanned = challenge.response(SEED).as_str().to_owned();
        let typed = manual.response(SEED).as_str().to_owned();
        let wrong = if scanned == "00000000" {
            "11111111"
        } else {
            "00000000"
        };
        let mut late = stored.clone();
        late.expires_at = NOW;
        let mut stopped = case.user(0, false);
        stopped.tokens.clear();
        let decide = |found: &User, challenge: &Transaction, code: &str| {
            decide_transfer(&case.key, found, challenge, code, NOW).unwrap()
        };
        let serial = case.token.serial.clone();
        let table = [
            (
                "scanned",
                decide(&case.user(2, false), &stored, &scanned),
                Transfer::Use(serial.clone()),
            ),
            (
                "typed",
                decide(&case.user(0, false), &stored, &typed),
                Transfer::Use(serial),
            ),
            (
                "wrong",
                decide(&case.user(0, false), &stored, wrong),
                Transfer::Fail,
            ),
            (
                "locked",
                decide(&case.user(5, true), &stored, &scanned),
                Transfer::Record(Outcome::Locked),
            ),
            (
                "expired",
                decide(&case.user(0, false), &late, &scanned),
                Transfer::Record(Outcome::Expired),
            ),
            (
                "no token",
                decide(&stopped, &stored, &scanned),
                Transfer::Record(Outcome::NoToken),
            ),
            (
                "wrong length",
                decide(&case.user(0, false), &stored, "123456"),
                Transfer::Record(Outcome::WrongLength { expected: 8 }),
            ),
        ];
        for (name, got, want) in table {
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_refused_use_is_recorded_with_the_answer_it_gets() {
        let case = Case::new(TokenState::Active);
        let (judgement, _) =
            case.decide(Some(&case.user(0, false)), &code_at(NOW), Purpose::Verify);
        let Judged::Accept { refused, .. } = judgement.action else {
            panic!("a right code is accepted");
        };
        assert_eq!(
            refused.of(&Acceptance::Locked),
            Some(Outcome::Locked.as_str())
        );
        assert_eq!(
            refused.of(&Acceptance::Reused { last_used_by: None }),
            Some(Outcome::Reused.as_str())
        );
        assert_eq!(refused.of(&Acceptance::Accepted), None);
    }
}
