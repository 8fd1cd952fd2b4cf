//! Enrollments and activation sessions: issuing, guesses, the single use.

use super::*;

pub(crate) async fn issue_enrollment<C: Conn>(
    c: &mut C,
    e: &NewEnrollment,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let user = ensure_user(c, &e.service_id, &e.user_id, now).await?;
    // A locked user may be re-enrolled; the lockout stays until the bank unlocks.
    rules::check_cooldown(user.cooldown_until, now)?;
    let active: Int = c
        .fetch_one(
            sql::ACTIVE_TOKENS,
            args![e.service_id.as_str(), e.user_id.as_str()],
        )
        .await?;
    if active.0 > 0 {
        return Err(StoreError::TokenExists);
    }
    c.execute(
        sql::UPSERT_ENROLLMENT,
        args![
            e.id.as_str(),
            e.service_id.as_str(),
            e.user_id.as_str(),
            &e.w,
            now,
            e.expires_at,
        ],
    )
    .await?;
    if let Some(mail) = &e.mail {
        c.execute(
            sql::INSERT_MAIL,
            args![
                mail.id.as_str(),
                e.service_id.as_str(),
                e.user_id.as_str(),
                mail.recipient.as_str(),
                mail.subject.as_str(),
                mail.body.as_str(),
                now,
                e.expires_at,
            ],
        )
        .await?;
    }
    audit(c, event, now).await
}

pub(crate) async fn enrollment_for_start<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    max_guesses: u32,
    now: i64,
) -> StoreResult<OpenEnrollment> {
    let e: EnrollmentForStart = c
        .fetch_optional(
            sql::ENROLLMENT_FOR_START,
            args![service.as_str(), user.as_str()],
        )
        .await?
        .ok_or(StoreError::EnrollmentNotFound)?;
    rules::check_startable(&e, max_guesses, now)?;
    Ok(OpenEnrollment { id: e.id, w: e.w })
}

pub(crate) async fn portable_begin_activation<C: Conn>(
    c: &mut C,
    session: &ActivationSession,
    max_guesses: u32,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<u32> {
    let counted: Option<Int> = c
        .fetch_optional(
            sql::COUNT_GUESS,
            args![session.enrollment_id.as_str(), now, max_guesses],
        )
        .await?;
    let Some(guesses) = counted else {
        // The enrollment changed since it was read (another guess, a revoke, a newer
        // enrollment): say how it stands now, or, if a newer one replaced it, that this one
        // is gone.
        enrollment_for_start(c, &session.service_id, &session.user_id, max_guesses, now).await?;
        return Err(StoreError::EnrollmentNotFound);
    };
    let attempts_left = u32::try_from(i64::from(max_guesses) - guesses.0).unwrap_or(0);
    c.execute(
        sql::INSERT_SESSION,
        args![
            session.id.as_str(),
            session.enrollment_id.as_str(),
            session.service_id.as_str(),
            session.user_id.as_str(),
            &session.session_key,
            attempts_left,
            session.expires_at,
        ],
    )
    .await?;
    audit(c, event, now).await?;
    Ok(attempts_left)
}

pub(crate) async fn session<C: Conn>(
    c: &mut C,
    id: &SessionId,
    now: i64,
) -> StoreResult<Option<ActivationSession>> {
    c.fetch_optional(sql::SESSION, args![id.as_str(), now])
        .await
}

pub(crate) async fn discard_session<C: Conn>(
    c: &mut C,
    id: &SessionId,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    c.execute(sql::DISCARD_SESSION, args![id.as_str()]).await?;
    audit(c, event, now).await
}

pub(crate) async fn portable_finish_activation<C: Conn>(
    c: &mut C,
    session: &SessionId,
    token: &Token,
    user: &UserId,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let enrollment: Text = c
        .fetch_optional(sql::TAKE_SESSION, args![session.as_str(), now])
        .await?
        .ok_or(StoreError::SessionExpired)?;
    let used = c
        .execute(sql::USE_ENROLLMENT, args![now, enrollment.0.as_deref()])
        .await?;
    if used == 0 {
        return Err(StoreError::EnrollmentNotFound);
    }
    c.execute(
        sql::REVOKE_PENDING_OF_USER,
        args![token.service_id.as_str(), user.as_str()],
    )
    .await?;
    if c.execute(sql::INSERT_TOKEN, token_args!(token)).await? == 0 {
        return Err(StoreError::SerialTaken);
    }
    bind(c, &token.service_id, user, &token.serial, now).await?;
    audit(c, event, now).await
}
