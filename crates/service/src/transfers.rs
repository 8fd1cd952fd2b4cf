//! Creating a transfer challenge (取引確認, DESIGN.md §11): the challenge is stored as its
//! two OCRA questions (the digest of every detail, and the manual digits: a random
//! challenge number, the account's last 6 digits and the amount) with its audit row, in
//! one commit. Its code is judged by [`crate::verification`].

use rand::rngs::OsRng;
use softtoken_protocol::UserId;
use softtoken_protocol::transaction::{Challenge, ChallengeNumber, ManualDigits, TransferDetails};

use crate::Context;
use crate::actions::Actor;
use crate::audit::{AuditKind, Detail};
use crate::crypto::random_id;
use crate::error::ServiceError;
use crate::store::{NewAuditEvent, Service, Transaction};

/// How long a challenge's code is accepted unless the bank asks otherwise: 5 minutes.
pub const DEFAULT_TTL_SECONDS: u64 = 300;
/// Shortest lifetime a bank may ask for.
pub const MIN_TTL_SECONDS: u64 = 30;
/// Longest lifetime a bank may ask for (15 minutes): a transfer is confirmed now.
pub const MAX_TTL_SECONDS: u64 = 900;
/// Challenge numbers drawn before giving up when each gives a manual question the user
/// already had: a collision needs the same amount and account tail and one chance in
/// 900,000, so a second draw is already rare and the sixteenth never happens in practice.
const NUMBER_DRAWS: usize = 16;

/// A stored challenge, for the bank's answer.
#[derive(Debug, Clone)]
pub struct Created {
    /// The challenge (its id, details and questions).
    pub challenge: Challenge,
    /// What a customer without a camera types.
    pub manual: ManualDigits,
    /// When its code stops being accepted (Unix ms).
    pub expires_at: i64,
}

/// Creates a transfer challenge for `uid`, accepted for `ttl_seconds` (30 to 900; 300 if
/// `None`). The audit trail gets the digest and the masked account, never the full account.
/// `NotFound` if no such user.
pub async fn create(
    state: &Context,
    service: &Service,
    uid: &UserId,
    details: TransferDetails,
    ttl_seconds: Option<u64>,
    actor: Actor<'_>,
) -> Result<Created, ServiceError> {
    let ttl = ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ServiceError::invalid_field(format!(
            "ttl_seconds must be {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}"
        )));
    }
    let challenge = Challenge::new(service.id.clone(), random_id(), details)
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    let now = state.now();
    // `ttl` is at most 900 seconds; times are Unix milliseconds.
    let expires_at = now + ttl as i64 * 1000;
    let d = &challenge.details;
    let event = actor.stamp(
        NewAuditEvent::new(
            &service.id,
            AuditKind::TransactionCreated,
            Detail::TransactionCreated {
                id: challenge.id.clone(),
                digest: challenge.digest_hex(),
                account: d.masked_account(),
                amount: d.amount(),
                currency: d.currency().to_owned(),
            },
        )
        .user(uid),
    );
    // A fresh challenge number until the user has no challenge with the same manual
    // question: the store refuses a repeat atomically (a unique index), so a typed code
    // can never confirm two challenges.
    for _ in 0..NUMBER_DRAWS {
        let manual = d.manual_digits(ChallengeNumber::random(&mut OsRng));
        let stored = Transaction {
            id: challenge.id.clone(),
            service_id: service.id.clone(),
            user_id: uid.clone(),
            question: challenge.question(),
            manual_question: Some(manual.as_str().to_string()),
            masked_account: d.masked_account(),
            created_at: now,
            expires_at,
            used_at: None,
        };
        if state.store.create_transaction(&stored, &event, now).await? {
            return Ok(Created {
                challenge,
                manual,
                expires_at,
            });
        }
    }
    Err(ServiceError::internal(
        "no free challenge number for the manual digits",
    ))
}
