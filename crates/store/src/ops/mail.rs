//! The activation e-mail outbox: queueing, claiming, outcomes.

use super::*;

/// Replaces a service's activation e-mail settings and records `event` with them: both or
/// neither (no such service records nothing).
pub(crate) async fn set_service_mail<C: Conn>(
    c: &mut C,
    m: &ServiceMail,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    service(c, &m.service_id)
        .await?
        .ok_or(StoreError::NotFound("service"))?;
    let part = |t: &Option<MailTemplate>| {
        (
            t.as_ref().map(|t| t.subject.clone()),
            t.as_ref().map(|t| t.body.clone()),
        )
    };
    let ((subject_ja, body_ja), (subject_en, body_en)) = (part(&m.ja), part(&m.en));
    c.execute(
        sql::UPSERT_SERVICE_MAIL,
        args![
            m.service_id.as_str(),
            m.download_url.as_str(),
            subject_ja.as_deref(),
            body_ja.as_deref(),
            subject_en.as_deref(),
            body_en.as_deref(),
            m.updated_at,
        ],
    )
    .await?;
    audit(c, event, now).await
}

pub(crate) async fn service_mail<C: Conn>(
    c: &mut C,
    service: &ServiceId,
) -> StoreResult<Option<ServiceMail>> {
    c.fetch_optional(sql::SERVICE_MAIL, args![service.as_str()])
        .await
}

pub(crate) async fn user_mails<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    limit: u32,
) -> StoreResult<Vec<MailStatus>> {
    c.fetch_all(
        sql::USER_MAILS,
        args![service.as_str(), user.as_str(), limit],
    )
    .await
}

pub(crate) async fn claim_mail<C: Conn>(
    c: &mut C,
    now: i64,
    lease_until: i64,
    limit: u32,
) -> StoreResult<Vec<OutboxMail>> {
    let mut claimed: Vec<OutboxMail> = c
        .fetch_all(sql::CLAIM_MAIL, args![lease_until, now, limit])
        .await?;
    // RETURNING keeps no order: oldest first, as they were queued.
    claimed.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
    Ok(claimed)
}

pub(crate) async fn finish_mail<C: Conn>(
    c: &mut C,
    id: &MailId,
    outcome: &MailOutcome,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<bool> {
    let changed = match outcome {
        MailOutcome::Sent => c.execute(sql::MAIL_SENT, args![id.as_str(), now]).await?,
        MailOutcome::Retry { at, error } => {
            c.execute(sql::MAIL_RETRY, args![id.as_str(), *at, error.as_str()])
                .await?
        }
        MailOutcome::Failed { error } => {
            c.execute(sql::MAIL_FAILED, args![id.as_str(), error.as_str()])
                .await?
        }
    };
    if changed == 0 {
        return Ok(false);
    }
    audit(c, event, now).await?;
    Ok(true)
}
