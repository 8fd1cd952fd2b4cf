//! The business steps behind the bank API and the help-desk console, written once: each takes
//! the [`Actor`] who asks (a service's API key, or a console operator) for its audit event,
//! and answers with the bank API's own types, which the console renders as HTML. Codes are
//! judged only by [`crate::verification`]; storage decisions are the store's.

use std::sync::Arc;

use http::StatusCode;
use softtoken_protocol::activation::{PasswordKey, valid_start_password};
use softtoken_protocol::problem::codes;
use softtoken_protocol::{ServiceId, UserId};

use crate::Context;
use crate::audit::{AuditKind, Detail, KeySource, QueuedMail};
use crate::crypto::Bound;
use crate::error::ServiceError;
use crate::error::fresh;
use crate::mail::{Activation, Mailer};
use crate::otp_check::Code;
use crate::policy::{MAX_TTL_SECONDS, MIN_TTL_SECONDS};
use crate::qr;
use crate::serial::TokenSerial;
use crate::store::{
    Binding, EnrollmentId, NewAuditEvent, NewEnrollment, ServiceMail, StoreError, Token, TokenState,
};
use crate::store::{Service, console::AuditFilter};
use crate::views::{
    EnrollmentRequest, EnrollmentResponse, RevokeResponse, RevokedUser, UserResponse, rfc3339,
    user_view,
};

/// Who asks for an action: recorded on its audit event.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The bank's back end, with the service's API key.
    Bank,
    /// A console operator, by sign-in name.
    Operator(&'a str),
}

impl Actor<'_> {
    /// `event`, naming the operator if one acts.
    pub fn stamp(self, event: NewAuditEvent) -> NewAuditEvent {
        match self {
            Actor::Bank => event,
            Actor::Operator(name) => event.by(name),
        }
    }
}

/// Clears a user's lockout (利用停止解除).
pub async fn unlock_user(
    state: &Context,
    service: &Service,
    uid: &UserId,
    actor: Actor<'_>,
) -> Result<UserResponse, ServiceError> {
    let event = actor.stamp(NewAuditEvent::new(&service.id, AuditKind::UserUnlocked, "").user(uid));
    state
        .store
        .unlock_user(&service.id, uid, &event, state.now())
        .await?;
    crate::metrics::unlocked(crate::metrics::Unlocked::User);
    user_view(state, service, uid).await
}

/// Ends a user's revocation cool-down now.
pub async fn end_cooldown(
    state: &Context,
    service: &Service,
    uid: &UserId,
    actor: Actor<'_>,
) -> Result<UserResponse, ServiceError> {
    let detail = Detail::CooldownEnded {
        help_desk: matches!(actor, Actor::Operator(_)),
    };
    let event =
        actor.stamp(NewAuditEvent::new(&service.id, AuditKind::CooldownEnded, detail).user(uid));
    state
        .store
        .end_cooldown(&service.id, uid, &event, state.now())
        .await?;
    user_view(state, service, uid).await
}

/// Revokes a token (トークン失効), ends its users' unused enrollments and starts their
/// cool-down.
pub async fn revoke(
    state: &Context,
    service: &Service,
    serial: &TokenSerial,
    actor: Actor<'_>,
) -> Result<RevokeResponse, ServiceError> {
    let now = state.now();
    let cooldown = crate::store::rules::revoke_cooldown(&service.policy, now);
    let until = cooldown.end();
    let operator = match actor {
        Actor::Bank => None,
        Actor::Operator(name) => Some(name),
    };
    let revocation = state
        .store
        .revoke_token(&service.id, serial, cooldown, operator, now)
        .await?;
    crate::metrics::revoked();
    let latest = revocation
        .users
        .iter()
        .map(|(_, u)| *u)
        .max()
        .unwrap_or(until);
    Ok(RevokeResponse {
        serial: serial.as_str().to_string(),
        state: TokenState::Revoked.as_str().to_string(),
        users: revocation
            .users
            .iter()
            .map(|(u, _)| u.to_string())
            .collect(),
        cooldown_until: rfc3339(latest),
        cooldowns: revocation
            .users
            .iter()
            .map(|(u, until)| RevokedUser {
                user_id: u.to_string(),
                cooldown_until: rfc3339(*until),
            })
            .collect(),
        ended_enrollments: revocation.ended_enrollments,
    })
}

/// Stops OTP for a user without a code (利用中止 on the customer's written request).
pub async fn stop_without_code(
    state: &Context,
    service: &Service,
    uid: &UserId,
    actor: Actor<'_>,
) -> Result<UserResponse, ServiceError> {
    let stopped = Detail::Stopped {
        help_desk: true,
        unbound: Vec::new(),
    };
    let event =
        actor.stamp(NewAuditEvent::new(&service.id, AuditKind::OtpStopped, stopped).user(uid));
    state
        .store
        .stop_user_without_code(&service.id, uid, &event, state.now())
        .await?;
    user_view(state, service, uid).await
}

/// Stops OTP for a user (利用中止) on a current code of theirs: the code's step, the
/// unbinding and the audit row in one commit.
pub async fn stop(
    state: &Context,
    service: &Service,
    uid: &UserId,
    otp: &Code,
    actor: Actor<'_>,
) -> Result<UserResponse, ServiceError> {
    let step = fresh(
        state.verification().prove(service, uid, otp).await?,
        "the code",
    )?;
    let stopped = Detail::Stopped {
        help_desk: false,
        unbound: Vec::new(),
    };
    let event =
        actor.stamp(NewAuditEvent::new(&service.id, AuditKind::OtpStopped, stopped).user(uid));
    state.store.stop_user(&step, &event, state.now()).await?;
    user_view(state, service, uid).await
}

/// A device change (機種変更): a code of the user's current token and one of the new token
/// (registered to nobody else, or shared where the policy allows); the old token's end, the
/// new one's binding and the audit row in one commit.
pub async fn replace(
    state: &Context,
    service: &Service,
    uid: &UserId,
    old_otp: &Code,
    new_serial: &TokenSerial,
    new_otp: &Code,
    actor: Actor<'_>,
) -> Result<UserResponse, ServiceError> {
    let sid = &service.id;
    let now = state.now();
    let verification = state.verification();
    let old = fresh(
        verification.prove(service, uid, old_otp).await?,
        "the current token's code",
    )?;
    let token = service_token(state, sid, new_serial).await?;
    crate::store::rules::check_replacement(&token, service.policy.max_failures, now)?;
    let proof = verification
        .prove_unbound(service, uid, &token, new_otp, AuditKind::Replacement)
        .await?;
    let new = fresh(proof, "the new token's code")?;
    let event = actor.stamp(
        NewAuditEvent::new(
            sid,
            AuditKind::TokenReplaced,
            Detail::Replaced {
                old_serial: old.serial.to_string(),
            },
        )
        .user(uid)
        .serial(&new.serial),
    );
    state
        .store
        .replace_token(&old, &new, service.policy.max_failures, &event, now)
        .await?;
    user_view(state, service, uid).await
}

/// Clears a token's count of wrong registration codes, after the bank made sure the
/// customer holds it; the token as it is then.
pub async fn unlock_token(
    state: &Context,
    service: &Service,
    serial: &TokenSerial,
    actor: Actor<'_>,
) -> Result<Token, ServiceError> {
    let event =
        actor.stamp(NewAuditEvent::new(&service.id, AuditKind::TokenUnlocked, "").serial(serial));
    state
        .store
        .unlock_token(&service.id, serial, &event, state.now())
        .await?;
    crate::metrics::unlocked(crate::metrics::Unlocked::Token);
    service_token(state, &service.id, serial).await
}

/// Gives a service a new API key, by the hash of it (the key itself is shown once, by the
/// caller, and never stored): the key and its `api_key_rotated` row in one commit.
/// `where_from` says which front door (the console, the command line).
pub async fn set_api_key(
    store: &dyn crate::store::Store,
    sid: &ServiceId,
    key_hash: &[u8; 32],
    where_from: KeySource,
    actor: Actor<'_>,
    now: i64,
) -> Result<(), ServiceError> {
    let event = actor.stamp(NewAuditEvent::new(
        sid,
        AuditKind::ApiKeyRotated,
        Detail::ApiKeyRotated { from: where_from },
    ));
    Ok(store.set_service_key(sid, key_hash, &event, now).await?)
}

/// Adds a service with the hash of its first API key (the key itself is shown once, by the
/// caller, and never stored): the service and its `service_added` row in one commit.
/// `where_from` says which front door. The store's `ServiceExists` if the ID is taken.
pub async fn add_service(
    store: &dyn crate::store::Store,
    service: &Service,
    key_hash: &[u8; 32],
    where_from: KeySource,
    actor: Actor<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let event = actor.stamp(NewAuditEvent::new(
        &service.id,
        AuditKind::ServiceAdded,
        Detail::ServiceAdded {
            name: service.name.clone(),
            from: where_from,
        },
    ));
    store
        .add_service_audited(service, key_hash, &event, now)
        .await
}

/// Replaces a service's activation e-mail settings (`softtoken-server service mail`): the
/// settings and their `service_mail_set` row in one commit. The row keeps the download URL
/// and which languages have the bank's own template (a help desk's questions), not the
/// templates. The store's `NotFound` (and nothing recorded) if there is no such service.
pub async fn set_service_mail(
    store: &dyn crate::store::Store,
    settings: &ServiceMail,
    actor: Actor<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let event = actor.stamp(NewAuditEvent::new(
        &settings.service_id,
        AuditKind::ServiceMailSet,
        Detail::ServiceMailSet {
            download_url: settings.download_url.clone(),
            own_ja: settings.ja.is_some(),
            own_en: settings.en.is_some(),
        },
    ));
    store.set_service_mail(settings, &event, now).await
}

/// Deletes expired activation sessions and mails, and the provisioned tokens nobody took
/// that expired before `unassigned_before`: what was deleted.
pub async fn purge_expired(
    state: &Context,
    unassigned_before: i64,
) -> Result<crate::store::Purged, StoreError> {
    state
        .store
        .purge_expired(state.now(), unassigned_before)
        .await
}

/// Records an event that no write carries (a refused or ended console sign-in): the row is
/// its own and only write. A failure to write it is logged, not returned: what it
/// describes has already happened.
pub async fn record(state: &Context, event: NewAuditEvent) {
    if let Err(e) = state.store.audit(&event, state.now()).await {
        tracing::error!(error = %e, kind = %event.kind, "failed to write an audit event");
    }
}

/// A token of the service, or 404.
pub async fn service_token(
    state: &Context,
    sid: &ServiceId,
    serial: &TokenSerial,
) -> Result<Token, ServiceError> {
    state
        .store
        .token(sid, serial)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("no token {serial} in service '{sid}'")))
}

/// Registers a provisioned token (or, where allowed, a shared one) to a user, proven by a
/// code of it.
pub async fn register(
    state: &Context,
    service: &Service,
    uid: &UserId,
    serial: &TokenSerial,
    otp: &Code,
    actor: Actor<'_>,
) -> Result<UserResponse, ServiceError> {
    let sid = &service.id;
    if let Some(user) = state.store.user(sid, uid).await?
        && user.locked
    {
        return Err(StoreError::Locked.into());
    }
    let token = service_token(state, sid, serial).await?;
    let proof = state
        .verification()
        .prove_unbound(service, uid, &token, otp, AuditKind::Registration)
        .await?;
    let step = fresh(proof, "the code")?;
    let binding = Binding {
        step,
        shared_tokens: service.policy.shared_tokens,
        tokens_per_user: service.policy.tokens_per_user,
        max_failures: service.policy.max_failures,
    };
    let event = actor.stamp(
        NewAuditEvent::new(sid, AuditKind::TokenRegistered, "active")
            .user(uid)
            .serial(serial),
    );
    state
        .store
        .bind_token(&binding, &event, state.now())
        .await?;
    user_view(state, service, uid).await
}

/// Issues an activation; replaces the user's unused older one. The start password is
/// stretched into `w` (PBKDF2, as the app does) and only `w`, sealed, is stored.
pub async fn issue_enrollment(
    state: &Context,
    service: &Service,
    request: EnrollmentRequest,
    actor: Actor<'_>,
) -> Result<EnrollmentResponse, ServiceError> {
    let sid = service.id.clone();
    if !valid_start_password(request.start_password.expose()) {
        return Err(ServiceError::bad_request(
            "start_password must be 4 to 64 printable ASCII characters",
        ));
    }
    let ttl = request
        .ttl_seconds
        .unwrap_or(service.policy.enrollment_ttl_secs);
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ServiceError::bad_request(format!(
            "ttl_seconds must be {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}"
        )));
    }
    let uid = request.user_id.clone();
    // Refused before anything is derived or written: a mail that cannot go is an error
    // the bank must see now, not an enrollment the customer never hears of.
    let mail = match &request.email {
        None => None,
        Some(address) => Some((address.clone(), mail_setup(state, &sid).await?)),
    };
    // PBKDF2 with 100,000 iterations takes tens of milliseconds: keep it off the
    // async workers.
    let (password, s, u) = (request.start_password, sid.clone(), uid.clone());
    let w = tokio::task::spawn_blocking(move || PasswordKey::derive(password.expose(), &s, &u))
        .await
        .map_err(ServiceError::internal)?;
    let now = state.now();
    let id = EnrollmentId::generate();
    let expires_at = now + i64::try_from(ttl * 1000).unwrap_or(i64::MAX);
    let activation_uri = qr::activation_uri(&state.public_url, &sid, &uid);
    let language = request.lang.unwrap_or_default();
    let mail = mail.map(|(address, (mailer, settings))| {
        let composed = Activation {
            service,
            settings: &settings,
            user_id: uid.as_str(),
            expires_at_ms: expires_at,
            language,
        }
        .compose(&address, &activation_uri);
        (mailer, address, composed)
    });
    let detail = Detail::EnrollmentIssued {
        expires: rfc3339(expires_at),
        mail: mail.as_ref().map(|(_, address, _)| QueuedMail {
            language: language.to_string(),
            to: address.masked(),
        }),
    };
    let issued =
        actor.stamp(NewAuditEvent::new(&sid, AuditKind::EnrollmentIssued, detail).user(&uid));
    state
        .store
        .issue_enrollment(
            &NewEnrollment {
                w: state.key.seal(
                    w.expose(),
                    Bound::W {
                        enrollment: id.as_str(),
                    },
                ),
                id,
                service_id: sid.clone(),
                user_id: uid.clone(),
                expires_at,
                mail: mail.as_ref().map(|(_, _, composed)| composed.clone()),
            },
            &issued,
            now,
        )
        .await?;
    let email_queued = match &mail {
        Some((mailer, _, _)) => {
            mailer.wake();
            true
        }
        None => false,
    };
    let qr_svg = qr::svg(&activation_uri)
        .ok_or_else(|| ServiceError::internal("activation URI too long for a QR code"))?;
    Ok(EnrollmentResponse {
        service_id: sid,
        user_id: uid,
        expires_at: rfc3339(expires_at),
        activation_uri,
        qr_svg,
        email_queued,
    })
}

/// The mailer and the service's mail settings, or 409 `mail_not_configured` saying which
/// is missing.
async fn mail_setup(
    state: &Context,
    sid: &ServiceId,
) -> Result<(Arc<Mailer>, ServiceMail), ServiceError> {
    let not_configured = |detail: String| {
        ServiceError::new(StatusCode::CONFLICT, codes::MAIL_NOT_CONFIGURED, detail)
    };
    let Some(mailer) = state.mailer.clone() else {
        return Err(not_configured(
            "email: this server sends no e-mail (it runs without --smtp-url and --mail-from); \
             leave email out, or ask the operator to configure SMTP"
                .into(),
        ));
    };
    let Some(settings) = state.store.service_mail(sid).await? else {
        return Err(not_configured(format!(
            "email: service '{sid}' has no activation e-mail set up (no download URL); the \
             operator runs `softtoken-server service mail --id {sid} --download-url URL`"
        )));
    };
    Ok((mailer, settings))
}

/// Whether a server sends activation e-mail for the service (the console offers the field
/// only then).
pub async fn mail_available(state: &Context, sid: &ServiceId) -> bool {
    mail_setup(state, sid).await.is_ok()
}

/// A page of the service's audit trail through `filter`, newest first.
pub async fn audit_page(
    state: &Context,
    sid: &ServiceId,
    filter: &AuditFilter,
    offset: u32,
    limit: u32,
) -> Result<Vec<crate::store::AuditEvent>, ServiceError> {
    Ok(state.store.audit_search(sid, filter, offset, limit).await?)
}

/// Replaces the service's policy after the checks `service add` makes
/// ([`crate::policy::Policy::check`]); this instance forgets its cached copy at once, other
/// instances within [`crate::service_cache::SERVICE_CACHE_TTL`].
pub async fn set_policy(
    state: &Context,
    service: &Service,
    policy: crate::policy::Policy,
    actor: Actor<'_>,
) -> Result<Service, ServiceError> {
    policy
        .validate()
        .map_err(|e| ServiceError::invalid_field(e.to_string()))?;
    let p = &policy;
    let detail = Detail::PolicyChanged {
        digits: p.digits.map(|d| d.get()),
        period_secs: p.period.map(|s| s.seconds()),
        window: p.window,
        max_failures: p.max_failures,
        cooldown_secs: p.cooldown_secs,
        enrollment_ttl_secs: p.enrollment_ttl_secs,
        tokens_per_user: p.tokens_per_user,
        shared_tokens: p.shared_tokens,
    };
    let event = actor.stamp(NewAuditEvent::new(
        &service.id,
        AuditKind::PolicyChanged,
        detail,
    ));
    state
        .store
        .set_service_policy(&service.id, &policy, &event, state.now())
        .await?;
    state.services.forget(&service.id);
    Ok(Service {
        policy,
        ..service.clone()
    })
}

/// What unlocks a PSKC file: its password or a pre-shared key in hex (at most one).
pub fn pskc_key_source(
    password: Option<&str>,
    preshared_key_hex: Option<&str>,
) -> Result<softtoken_pskc::KeySource, ServiceError> {
    use softtoken_pskc::KeySource;
    use zeroize::Zeroizing;
    match (password, preshared_key_hex) {
        (Some(_), Some(_)) => Err(ServiceError::bad_request(
            "give the password or the pre-shared key, not both",
        )),
        (Some(p), None) => Ok(KeySource::Password(Zeroizing::new(p.to_owned()))),
        (None, Some(h)) => hex::decode(h.trim())
            .map(|k| KeySource::PreSharedKey(Zeroizing::new(k)))
            .map_err(|_| ServiceError::bad_request("preshared_key_hex is not hexadecimal")),
        (None, None) => Ok(KeySource::None),
    }
}

/// Imports a vendor's PSKC file as unassigned hardware tokens of the service.
pub async fn import_pskc(
    state: &Context,
    service: &Service,
    document: zeroize::Zeroizing<Vec<u8>>,
    source: softtoken_pskc::KeySource,
    actor: Actor<'_>,
) -> Result<crate::import::ImportOutcome, ServiceError> {
    crate::import::import(
        state.store.as_ref(),
        &state.key,
        &service.id,
        document,
        source,
        actor,
        state.now(),
    )
    .await
}

// --- operators (the CLI and the console's admin pages) -----------------------------------

/// Where an operator's audit events go: their service, or the console's for a superuser.
pub fn operator_home(service: Option<&ServiceId>) -> Result<ServiceId, ServiceError> {
    match service {
        Some(sid) => Ok(sid.clone()),
        None => {
            ServiceId::new(crate::store::console::CONSOLE_SERVICE).map_err(ServiceError::internal)
        }
    }
}

/// Adds an operator after the rules every front door shares: a superuser has no service,
/// everyone else one that exists; names are 1–64 of `[A-Za-z0-9._-]`, and an operator of a
/// service is stored and signs in as `name@service` (see
/// [`crate::store::console::sign_in_name`]): a name taken in another service, or by a
/// superuser, is no conflict and is never revealed. Its row ID and sign-in name.
pub async fn add_operator(
    state: &Context,
    service: Option<&ServiceId>,
    name: &str,
    role: crate::store::console::OperatorRole,
    password_hash: String,
    actor: Actor<'_>,
) -> Result<(i64, String), ServiceError> {
    use crate::store::console::{CONSOLE_SERVICE, NewOperator, OperatorRole, sign_in_name};
    match (service, role) {
        (None, OperatorRole::Superuser)
        | (Some(_), OperatorRole::Helpdesk | OperatorRole::Admin | OperatorRole::Auditor) => {}
        (Some(_), OperatorRole::Superuser) => {
            return Err(ServiceError::invalid_field(
                "role: a superuser acts on every service and has none",
            ));
        }
        (None, _) => {
            return Err(ServiceError::invalid_field(
                "service: required except for the superuser role",
            ));
        }
    }
    // The same rule as user IDs: safe in URLs, logs and the audit trail.
    UserId::new(name).map_err(|_| ServiceError::invalid_field("name: 1–64 of [A-Za-z0-9._-]"))?;
    if let Some(sid) = service
        && (sid.as_str() == CONSOLE_SERVICE || state.store.service(sid).await?.is_none())
    {
        return Err(ServiceError::not_found(format!(
            "no service '{sid}' on this server"
        )));
    }
    let home = operator_home(service)?;
    let name = sign_in_name(service, name);
    let event = actor.stamp(NewAuditEvent::new(
        &home,
        AuditKind::OperatorAdded,
        Detail::OperatorAdded {
            name: name.clone(),
            role: role.as_str().to_owned(),
        },
    ));
    let id = state
        .store
        .add_operator(
            &NewOperator {
                service_id: service.cloned(),
                name: name.clone(),
                role,
                password_hash,
            },
            &event,
            state.now(),
        )
        .await
        .map_err(|e| match e {
            // Only ever a name of the same service (or, from the CLI, a superuser's).
            StoreError::Conflict(_) => ServiceError::new(
                StatusCode::CONFLICT,
                codes::CONFLICT,
                format!("name: an operator '{name}' exists"),
            ),
            e => e.into(),
        })?;
    Ok((id, name))
}

/// Disables an operator (their sessions end), audited under their service.
pub async fn disable_operator(
    state: &Context,
    operator: &crate::store::console::Operator,
    actor: Actor<'_>,
) -> Result<(), ServiceError> {
    let home = operator_home(operator.service_id.as_ref())?;
    let event = actor.stamp(NewAuditEvent::new(
        &home,
        AuditKind::OperatorChanged,
        Detail::OperatorDisabled {
            name: operator.name.clone(),
        },
    ));
    Ok(state
        .store
        .set_operator_disabled(&operator.name, true, &event, state.now())
        .await?)
}

/// Gives an operator a new password hash: clears their lockout (also the code failures of
/// their own token) and ends their sessions, in one commit with both audit rows.
pub async fn reset_operator_password(
    state: &Context,
    operator: &crate::store::console::Operator,
    password_hash: &str,
    actor: Actor<'_>,
) -> Result<(), ServiceError> {
    let home = operator_home(operator.service_id.as_ref())?;
    let event = actor.stamp(NewAuditEvent::new(
        &home,
        AuditKind::OperatorChanged,
        Detail::OperatorPasswordReset {
            name: operator.name.clone(),
        },
    ));
    let console =
        ServiceId::new(crate::store::console::CONSOLE_SERVICE).map_err(ServiceError::internal)?;
    let token_user = operator.token_user()?;
    let unlock = actor.stamp(
        NewAuditEvent::new(
            &console,
            AuditKind::UserUnlocked,
            Detail::UnlockedByPasswordReset,
        )
        .user(&token_user),
    );
    // The new password and the token's unlock in one commit: never one without the other.
    Ok(state
        .store
        .reset_operator(&operator.name, password_hash, &event, &unlock, state.now())
        .await?)
}

/// A token OTP was stopped on for a user (利用中止), for the user page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedToken {
    /// Its serial.
    pub serial: String,
    /// When (Unix ms).
    pub at: i64,
    /// The console operator who stopped it (`None`: the bank).
    pub operator: Option<String>,
}

/// The tokens OTP was stopped on for a user, newest first: read from the store's
/// `otp_stopped` rows of this user (however long their trail), the serials from the typed
/// detail (rows written before typed details: from their text).
pub async fn stopped_tokens(
    state: &Context,
    sid: &ServiceId,
    uid: &UserId,
    limit: u32,
) -> Result<Vec<StoppedToken>, ServiceError> {
    let filter = AuditFilter {
        user: Some(uid.to_string()),
        kind: Some(AuditKind::OtpStopped.as_str().to_owned()),
        ..AuditFilter::default()
    };
    let events = audit_page(state, sid, &filter, 0, limit).await?;
    Ok(events
        .into_iter()
        .flat_map(|e| {
            let serials = match Detail::parse(&e.detail) {
                Some(Detail::Stopped { unbound, .. }) => unbound,
                _ => legacy_unbound(&e.detail),
            };
            serials.into_iter().map(move |serial| StoppedToken {
                serial,
                at: e.at,
                operator: e.operator.clone(),
            })
        })
        .collect())
}

/// The serials of an `otp_stopped` row written as text (`…; unbound A, B`).
fn legacy_unbound(detail: &str) -> Vec<String> {
    detail
        .rsplit_once("unbound ")
        .map(|(_, list)| {
            list.split(", ")
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A user's audit trail, newest first: their own events, and the events of their tokens
/// that name no user (a revocation names its token, and its users only in the detail).
pub async fn user_trail(
    state: &Context,
    sid: &ServiceId,
    uid: &UserId,
    serials: &[String],
    limit: u32,
) -> Result<Vec<crate::store::AuditEvent>, ServiceError> {
    let own = AuditFilter {
        user: Some(uid.to_string()),
        ..AuditFilter::default()
    };
    let mut events = audit_page(state, sid, &own, 0, limit).await?;
    for serial in serials {
        let of_token = AuditFilter {
            serial: Some(serial.clone()),
            ..AuditFilter::default()
        };
        events.extend(
            audit_page(state, sid, &of_token, 0, limit)
                .await?
                .into_iter()
                .filter(|e| e.user_id.is_none()),
        );
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.id));
    events.dedup_by_key(|e| e.id);
    events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(events)
}
