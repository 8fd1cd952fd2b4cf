//! Tokens: issuing, one-time use of steps, failures and locks, binding, revoking, replacing.

use super::*;

/// `token`'s columns as the fifteen arguments of [`sql::INSERT_TOKEN`].
macro_rules! token_args {
    ($t:expr $(, $extra:expr)*) => {
        args![
            $t.serial.as_str(),
            $t.service_id.as_str(),
            $t.state.as_str(),
            $t.params.algorithm.as_str(),
            i64::from($t.params.digits.get()),
            $crate::ops::secs($t.params.period.seconds())?,
            &$t.seed,
            $t.last_step,
            $t.drift,
            $t.failures,
            $t.last_used_by.as_ref().map(|u| u.as_str()),
            $t.created_at,
            $t.activated_at,
            $t.last_used_at,
            $t.expires_at
            $(, $extra)*
        ]
    };
}
pub(crate) use token_args;

pub(crate) async fn token<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    serial: &TokenSerial,
) -> StoreResult<Option<Token>> {
    c.fetch_optional(sql::TOKEN, args![serial.as_str(), service.as_str()])
        .await
}

pub(crate) async fn token_standing<C: Conn>(
    c: &mut C,
    serial: &TokenSerial,
) -> StoreResult<Option<TokenStanding>> {
    c.fetch_optional(sql::TOKEN_STANDING, args![serial.as_str()])
        .await
}

pub(crate) async fn add_provisioned_token<C: Conn>(
    c: &mut C,
    token: &Token,
    quota: u32,
) -> StoreResult<()> {
    if c.execute(sql::INSERT_PROVISIONED, token_args!(token, quota))
        .await?
        == 1
    {
        return Ok(());
    }
    let taken: Flag = c
        .fetch_one(sql::SERIAL_EXISTS, args![token.serial.as_str()])
        .await?;
    Err(if taken.0 {
        StoreError::SerialTaken
    } else {
        StoreError::ProvisioningFull { quota }
    })
}

pub(crate) async fn import_tokens<C: Conn>(
    c: &mut C,
    tokens: &[Token],
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<Vec<bool>> {
    let mut added = Vec::with_capacity(tokens.len());
    for token in tokens {
        added.push(c.execute(sql::INSERT_TOKEN, token_args!(token)).await? == 1);
    }
    let imported = added.iter().filter(|&&a| a).count();
    // The caller says what the file held; the counts are the store's to fill in. A caller's
    // free text (tests) gets them appended, as all details did before they were typed.
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let detail = match crate::audit::Detail::parse(&event.detail) {
        Some(crate::audit::Detail::TokensImported { packages, .. }) => {
            crate::audit::Detail::TokensImported {
                packages,
                imported: count(imported),
                of: count(tokens.len()),
            }
            .into()
        }
        _ => format!("{}; imported {imported} of {}", event.detail, tokens.len()),
    };
    let event = NewAuditEvent {
        detail,
        ..event.clone()
    };
    audit(c, &event, now).await?;
    Ok(added)
}

pub(crate) async fn unlock_token<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    serial: &TokenSerial,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let key = args![serial.as_str(), service.as_str()];
    change_found(c, sql::UNLOCK_TOKEN, key, "token", event, now).await
}

/// Why a step could not be consumed by [`sql::CONSUME_STEP`]: the user is locked, or the
/// step was used (by whom, for shared tokens).
async fn refusal<C: Conn>(c: &mut C, step: &StepUse) -> StoreResult<Acceptance> {
    let locked: Option<Flag> = c
        .fetch_optional(
            sql::USER_LOCKED,
            args![step.service_id.as_str(), step.user_id.as_str()],
        )
        .await?;
    if locked.is_some_and(|l| l.0) {
        return Ok(Acceptance::Locked);
    }
    let by: Option<Text> = c
        .fetch_optional(
            sql::LAST_USED_BY,
            args![step.serial.as_str(), step.service_id.as_str()],
        )
        .await?;
    let last_used_by = by
        .and_then(|t| t.0)
        .map(|u| UserId::new(u).map_err(crate::error::corrupt))
        .transpose()?;
    Ok(Acceptance::Reused { last_used_by })
}

/// Consumes a step of a token bound to the user, in state `from`.
async fn consume_step<C: Conn>(
    c: &mut C,
    step: &StepUse,
    from: TokenState,
    now: i64,
) -> StoreResult<Acceptance> {
    let done = c
        .execute(
            sql::CONSUME_STEP,
            args![
                step.step,
                step.drift,
                now,
                step.serial.as_str(),
                step.service_id.as_str(),
                from.as_str(),
                step.user_id.as_str(),
            ],
        )
        .await?;
    if done == 0 {
        return refusal(c, step).await;
    }
    clear_failures(c, &step.service_id, &step.user_id).await?;
    Ok(Acceptance::Accepted)
}

/// A consumed step, or the refusal as an error (for operations that go on after it).
async fn consume_step_or_refuse<C: Conn>(
    c: &mut C,
    step: &StepUse,
    from: TokenState,
    now: i64,
) -> StoreResult<()> {
    match consume_step(c, step, from, now).await? {
        Acceptance::Accepted => Ok(()),
        Acceptance::Locked => Err(StoreError::Locked),
        Acceptance::Reused { .. } => Err(StoreError::Reused),
    }
}

pub(crate) async fn portable_accept_step<C: Conn>(
    c: &mut C,
    step: &StepUse,
    from: TokenState,
    event: &NewAuditEvent,
    refused: &RefusalDetails,
    now: i64,
) -> StoreResult<Acceptance> {
    let outcome = consume_step(c, step, from, now).await?;
    match refused.of(&outcome) {
        None => audit(c, event, now).await?,
        Some(detail) => audit(c, &event.with_detail(detail), now).await?,
    }
    Ok(outcome)
}

/// Consumes a step of a token the user does not hold yet (registration, a device change's
/// new token), activating it.
async fn consume_unbound_step<C: Conn>(
    c: &mut C,
    step: &StepUse,
    state: TokenState,
    now: i64,
) -> StoreResult<()> {
    let done = c
        .execute(
            sql::CONSUME_UNBOUND_STEP,
            args![
                now,
                step.step,
                step.drift,
                step.serial.as_str(),
                step.service_id.as_str(),
                state.as_str(),
                step.user_id.as_str(),
            ],
        )
        .await?;
    if done == 0 {
        return Err(StoreError::Reused);
    }
    Ok(())
}

pub(super) async fn bind<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    serial: &TokenSerial,
    now: i64,
) -> StoreResult<()> {
    c.execute(
        sql::BIND,
        args![service.as_str(), user.as_str(), serial.as_str(), now],
    )
    .await?;
    Ok(())
}

/// Unbinds a token from a user; revokes it once no user holds it, recording `end` as how
/// it ended.
async fn unbind<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    serial: &TokenSerial,
    end: TokenEnd,
) -> StoreResult<()> {
    c.execute(
        sql::UNBIND,
        args![service.as_str(), user.as_str(), serial.as_str()],
    )
    .await?;
    c.execute(sql::REVOKE_IF_UNHELD, args![serial.as_str(), end.as_str()])
        .await?;
    Ok(())
}

pub(crate) async fn bind_token<C: Conn>(
    c: &mut C,
    b: &Binding,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    let s = &b.step;
    let user = ensure_user(c, &s.service_id, &s.user_id, now).await?;
    if user.locked {
        return Err(StoreError::Locked);
    }
    rules::check_cooldown(user.cooldown_until, now)?;
    let token = token(c, &s.service_id, &s.serial)
        .await?
        .ok_or(StoreError::NotFound("token"))?;
    let bound: Flag = c
        .fetch_one(
            sql::IS_BOUND,
            args![s.service_id.as_str(), s.user_id.as_str(), s.serial.as_str()],
        )
        .await?;
    if bound.0 {
        return Err(StoreError::Conflict(
            "the token is already registered to this user",
        ));
    }
    rules::check_bindable(&token, b.shared_tokens, b.max_failures, now)?;
    let active: Int = c
        .fetch_one(
            sql::ACTIVE_TOKENS,
            args![s.service_id.as_str(), s.user_id.as_str()],
        )
        .await?;
    rules::check_token_limit(active.0, b.tokens_per_user)?;
    consume_unbound_step(c, s, token.state, now).await?;
    bind(c, &s.service_id, &s.user_id, &s.serial, now).await?;
    clear_failures(c, &s.service_id, &s.user_id).await?;
    audit(c, event, now).await
}

pub(crate) async fn replace_token<C: Conn>(
    c: &mut C,
    old: &StepUse,
    new: &StepUse,
    max_failures: u32,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<()> {
    consume_step_or_refuse(c, old, TokenState::Active, now).await?;
    let token = token(c, &new.service_id, &new.serial)
        .await?
        .ok_or(StoreError::NotFound("token"))?;
    rules::check_replacement(&token, max_failures, now)?;
    consume_unbound_step(c, new, TokenState::Unassigned, now).await?;
    unbind(
        c,
        &old.service_id,
        &old.user_id,
        &old.serial,
        TokenEnd::Replaced,
    )
    .await?;
    bind(c, &new.service_id, &new.user_id, &new.serial, now).await?;
    audit(c, event, now).await
}

pub(crate) async fn stop_user<C: Conn>(
    c: &mut C,
    step: &StepUse,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<Vec<TokenSerial>> {
    consume_step_or_refuse(c, step, TokenState::Active, now).await?;
    unbind_all(c, &step.service_id, &step.user_id, event.clone(), now).await
}

/// Stops OTP for a user without a code (the help desk, on the customer's written request):
/// the same unbinding as [`stop_user`]. `NotFound` if no such user.
pub(crate) async fn stop_user_without_code<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    event: &NewAuditEvent,
    now: i64,
) -> StoreResult<Vec<TokenSerial>> {
    let _: UserState = c
        .fetch_optional(sql::USER_STATE, args![service.as_str(), user.as_str()])
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    unbind_all(c, service, user, event.clone(), now).await
}

/// Unbinds every token of the user (revoking those no user holds any more) and records
/// `event` with the unbound serials appended to its detail.
async fn unbind_all<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    user: &UserId,
    mut event: NewAuditEvent,
    now: i64,
) -> StoreResult<Vec<TokenSerial>> {
    let rows: Vec<Text> = c
        .fetch_all(sql::USER_SERIALS, args![service.as_str(), user.as_str()])
        .await?;
    let serials = rows
        .into_iter()
        .map(|t| stored_serial(t.0))
        .collect::<StoreResult<Vec<_>>>()?;
    for serial in &serials {
        unbind(c, service, user, serial, TokenEnd::Stopped).await?;
    }
    // The caller says who stopped; the serials are the store's to fill in.
    let help_desk = matches!(
        crate::audit::Detail::parse(&event.detail),
        Some(crate::audit::Detail::Stopped {
            help_desk: true,
            ..
        })
    );
    event.detail = crate::audit::Detail::Stopped {
        help_desk,
        unbound: serials.iter().map(|s| s.as_str().to_owned()).collect(),
    }
    .into();
    audit(c, &event, now).await?;
    Ok(serials)
}

pub(crate) async fn revoke_token<C: Conn>(
    c: &mut C,
    service: &ServiceId,
    serial: &TokenSerial,
    cooldown: RevokeCooldown,
    operator: Option<&str>,
    now: i64,
) -> StoreResult<Revocation> {
    let token = token(c, service, serial)
        .await?
        .ok_or(StoreError::NotFound("token"))?;
    let holders: Vec<TokenUser> = c
        .fetch_all(sql::TOKEN_USERS, args![serial.as_str(), service.as_str()])
        .await?;
    if token.state == TokenState::Revoked {
        // Revoked already: nothing changes, and the cool-downs are what they are.
        let users = holders
            .into_iter()
            .map(|u| (u.user_id, u.cooldown_until.unwrap_or(now)))
            .collect();
        return Ok(Revocation {
            users,
            ended_enrollments: 0,
        });
    }
    let ended_enrollments = c
        .execute(
            sql::END_ENROLLMENTS_OF_TOKEN_USERS,
            args![service.as_str(), serial.as_str()],
        )
        .await?;
    c.execute(sql::REVOKE, args![serial.as_str(), service.as_str()])
        .await?;
    let mut users = Vec::with_capacity(holders.len());
    for holder in holders {
        let until = rules::cooldown_after_revoke(holder.cooldown_until, now, cooldown);
        if Some(until) != holder.cooldown_until {
            c.execute(
                sql::SET_COOLDOWN,
                args![until, service.as_str(), holder.user_id.as_str()],
            )
            .await?;
        }
        users.push((holder.user_id, until));
    }
    let names: Vec<&str> = users.iter().map(|(u, _)| u.as_str()).collect();
    let event = NewAuditEvent::new(
        service,
        AuditKind::TokenRevoked,
        crate::audit::Detail::TokenRevoked {
            users: names.iter().map(|&u| u.to_owned()).collect(),
            enrollments_ended: ended_enrollments,
        },
    )
    .serial(serial);
    let event = match operator {
        Some(name) => event.by(name),
        None => event,
    };
    audit(c, &event, now).await?;
    Ok(Revocation {
        users,
        ended_enrollments,
    })
}
