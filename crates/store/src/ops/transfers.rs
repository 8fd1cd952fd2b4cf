//! Transfer challenges (取引確認): issuing and their single use.

use super::*;

/// Stores a challenge and its audit event; `false` (nothing written) if the user already
/// has a challenge with the same manual question, so the caller draws another number.
pub(crate) async fn create_transaction<C: Conn>(
    c: &mut C,
    t: &crate::Transaction,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<bool> {
    user(c, &t.service_id, &t.user_id)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    let inserted = c
        .execute(
            sql::INSERT_TRANSACTION,
            args![
                t.id.as_str(),
                t.service_id.as_str(),
                t.user_id.as_str(),
                t.question.as_str(),
                t.manual_question.as_deref(),
                t.masked_account.as_str(),
                t.created_at,
                t.expires_at,
            ],
        )
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    audit(c, event, now).await?;
    Ok(true)
}

pub(crate) async fn transaction<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    id: &str,
) -> StoreResult<Option<crate::Transaction>> {
    c.fetch_optional(sql::TRANSACTION, args![id, service.as_str(), user.as_str()])
        .await
}

/// The right code of a challenge: uses it once (a conditional update, so two instances
/// cannot both accept it), clears the user's failures as an accepted `verify` does, and
/// records the audit event, in one transaction. `Locked` (nothing written) if the user
/// was locked meanwhile.
pub(crate) async fn use_transaction<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    id: &str,
    event: &NewAuditEvent,
    refused: &crate::RefusalDetails,
    now: i64,
) -> StoreResult<crate::TransactionUse> {
    // Read in the same transaction as the use, so a lockout cannot slip in between.
    let locked: Option<Flag> = c
        .fetch_optional(sql::USER_LOCKED, args![service.as_str(), user.as_str()])
        .await?;
    if locked.is_some_and(|l| l.0) {
        audit(c, &event.with_detail(&refused.locked), now).await?;
        return Ok(crate::TransactionUse::Locked);
    }
    let used = c
        .execute(
            sql::USE_TRANSACTION,
            args![id, service.as_str(), user.as_str(), now],
        )
        .await?;
    if used == 0 {
        let found = transaction(c, service, user, id)
            .await?
            .ok_or(StoreError::NotFound("transaction"))?;
        let (refusal, detail) = if found.used_at.is_some() {
            (crate::TransactionUse::AlreadyUsed, &refused.reused)
        } else {
            (crate::TransactionUse::Expired, &refused.expired)
        };
        audit(c, &event.with_detail(detail), now).await?;
        return Ok(refusal);
    }
    let reset = c
        .execute(sql::RESET_FAILURES, args![service.as_str(), user.as_str()])
        .await?;
    if reset == 0 {
        // Undoes the use: the error rolls the transaction (or the SQLite write) back.
        return Err(StoreError::Locked);
    }
    audit(c, event, now).await?;
    Ok(crate::TransactionUse::Used)
}
