//! The help desk's pages: finding a user, the user page, and its actions (利用停止解除,
//! 利用中止, トークン失効, registering a serial, issuing an activation).

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use softtoken_protocol::UserId;

use super::{
    Chrome, CsrfForm, EVENTS_PER_PAGE, Lang, Secret, USERS_PER_PAGE, csrf_refusal, local_ms,
    local_text, may_help, message, qr_data_uri, refusal, render, see, workspace, zone_of,
};
use crate::AppState;
use crate::actions::{self, Actor};
use crate::console::password;
use crate::console::session::Signed;
use crate::console::text::Texts;
use crate::error::ApiError;
use crate::otp_check::Code;
use crate::routes::enrollments::{EnrollmentRequest, StartPassword};
use crate::routes::rfc3339;
use crate::routes::users::UserResponse;
use crate::serial::TokenSerial;
use crate::store::{AuditEvent, Service, TokenState};

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    c: Chrome,
    q: String,
    users: Vec<String>,
    page: u32,
    more: bool,
    mail: bool,
}

/// `GET /console/users?q=&page=`: find users by user ID or serial.
pub async fn users(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let service = match workspace(&state, &s, &lang, may_help).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let q = query
        .get("q")
        .map(|q| q.trim().to_owned())
        .unwrap_or_default();
    let page: u32 = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let users = if q.is_empty() {
        Vec::new()
    } else {
        match state
            .store
            .search_users(
                &service.id,
                &q,
                (page - 1).saturating_mul(USERS_PER_PAGE),
                USERS_PER_PAGE + 1,
            )
            .await
        {
            Ok(users) => users,
            Err(e) => return ApiError::from(e).into_response(),
        }
    };
    let more = users.len() > USERS_PER_PAGE as usize;
    render(
        StatusCode::OK,
        &UsersPage {
            c: Chrome::signed(lang.0, &s, Some(&service.id)),
            q,
            users: users
                .into_iter()
                .take(USERS_PER_PAGE as usize)
                .map(|u| u.to_string())
                .collect(),
            page,
            more,
            mail: actions::mail_available(&state, &service.id).await,
        },
        &lang,
    )
}

/// A token row of the user page.
struct TokenRow {
    serial: String,
    state: String,
    created: String,
    activated: String,
    last_used: String,
    drift: i64,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    c: Chrome,
    zone: chrono_tz::Tz,
    uid: String,
    user: UserResponse,
    tokens: Vec<TokenRow>,
    events: Vec<AuditEvent>,
    mail: bool,
    /// The user's activation e-mails, newest first.
    mails: Vec<MailRow>,
}

/// One activation e-mail on the user page: where it stands and why, in the operator's words.
struct MailRow {
    state: String,
    state_text: &'static str,
    to: String,
    attempts: u32,
    queued: String,
    reason: String,
    detail: String,
}

impl MailRow {
    fn of(t: &'static Texts, zone: chrono_tz::Tz, m: &crate::store::MailStatus) -> Self {
        let state_text = match m.state.as_str() {
            "sent" => t.mail_sent,
            "failed" => t.mail_failed,
            _ => t.mail_pending,
        };
        let detail = m.last_error.clone().unwrap_or_default();
        // The SMTP server's words stay as they came (the relay's operator reads them); the
        // help desk gets what they mean.
        let reason = if detail.is_empty() {
            String::new()
        } else if detail.contains("given up after") {
            t.mail_reason_attempts.to_owned()
        } else if detail.contains("enrollment expire") {
            t.mail_reason_expired.to_owned()
        } else if m.state == "failed" {
            t.mail_reason_refused.to_owned()
        } else {
            t.mail_reason_later.to_owned()
        };
        MailRow {
            state: m.state.clone(),
            state_text,
            to: crate::mail::address::mask(&m.recipient),
            attempts: m.attempts,
            queued: local_ms(zone, m.created_at),
            reason,
            detail,
        }
    }
}

impl UserPage {
    fn at(&self, ms: &i64) -> String {
        local_ms(self.zone, *ms)
    }

    fn utc(&self, ms: &i64) -> String {
        rfc3339(*ms)
    }

    fn local(&self, text: &str) -> String {
        local_text(self.zone, text)
    }
}

fn notice_of(t: &'static Texts, done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "unlocked" => t.notice_unlocked,
            "revoked" => t.notice_revoked,
            "stopped" => t.notice_stopped,
            "registered" => t.notice_registered,
            "cooldown_ended" => t.notice_cooldown_ended,
            _ => return None,
        }
        .to_owned(),
    )
}

fn parse_uid(text: &str) -> Option<UserId> {
    UserId::new(text).ok()
}

/// Activation e-mails shown on a user's page.
const MAILS_SHOWN: u32 = 5;

/// `GET /console/users/{uid}`.
pub async fn user(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path(uid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let service = match workspace(&state, &s, &lang, may_help).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let mut c = Chrome::signed(lang.0, &s, Some(&service.id));
    c.notice = notice_of(lang.0, query.get("done").map(String::as_str));
    user_page(&state, &lang, &service, &uid, c, StatusCode::OK).await
}

async fn user_page(
    state: &AppState,
    lang: &Lang,
    service: &Service,
    uid: &str,
    c: Chrome,
    status: StatusCode,
) -> Response {
    let Some(uid) = parse_uid(uid) else {
        return message(StatusCode::NOT_FOUND, c.error(lang.0.err_not_found), lang);
    };
    let view = match crate::routes::users::user_view(state, service, &uid).await {
        Ok(view) => view,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            let t = lang.0;
            return message(StatusCode::NOT_FOUND, c.error(t.err_not_found), lang);
        }
        Err(e) => return e.into_response(),
    };
    // The drift is the help desk's, not the bank API's: read from the same user row.
    let stored = match state.store.user(&service.id, &uid).await {
        Ok(u) => u,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let drift_of = |serial: &str| {
        stored
            .as_ref()
            .and_then(|u| u.tokens.iter().find(|t| t.serial.as_str() == serial))
            .map_or(0, |t| t.drift)
    };
    let zone = zone_of(service);
    let shown = |t: &Option<String>| t.as_deref().map_or(String::new(), |t| local_text(zone, t));
    let tokens = view
        .tokens
        .iter()
        .map(|t| TokenRow {
            serial: t.serial.clone(),
            state: t.state.clone(),
            created: local_text(zone, &t.created_at),
            activated: shown(&t.activated_at),
            last_used: shown(&t.last_used_at),
            drift: drift_of(&t.serial),
            revocable: t.state != TokenState::Revoked.as_str(),
        })
        .collect();
    let serials: Vec<String> = view.tokens.iter().map(|t| t.serial.clone()).collect();
    let events =
        match actions::user_trail(state, &service.id, &uid, &serials, EVENTS_PER_PAGE).await {
            Ok(events) => events,
            Err(e) => return e.into_response(),
        };
    let mails = match state.store.user_mails(&service.id, &uid, MAILS_SHOWN).await {
        Ok(mails) => mails.iter().map(|m| MailRow::of(c.t, zone, m)).collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    render(
        status,
        &UserPage {
            c,
            zone,
            uid: uid.to_string(),
            user: view,
            tokens,
            events,
            mail: actions::mail_available(state, &service.id).await,
            mails,
        },
        lang,
    )
}

/// After an action on a user: back to their page, or the page with the refusal.
async fn after_user_action(
    state: &AppState,
    lang: &Lang,
    s: &Signed,
    service: &Service,
    uid: &str,
    outcome: Result<(), ApiError>,
    done: &str,
) -> Response {
    match outcome {
        Ok(()) => see(&format!(
            "/console/users/{}?done={done}",
            url::form_urlencoded::byte_serialize(uid.as_bytes()).collect::<String>()
        )),
        Err(e) if e.status.is_server_error() => e.into_response(),
        Err(e) => {
            let c = Chrome::signed(lang.0, s, Some(&service.id)).error(refusal(lang.0, &e));
            let status = e.status;
            user_page(state, lang, service, uid, c, status).await
        }
    }
}

macro_rules! help_desk_action {
    ($state:ident, $lang:ident, $s:ident, $csrf:expr) => {{
        if let Some(r) = csrf_refusal(&$s.0, $csrf, &$lang) {
            return r;
        }
        match workspace(&$state, &$s, &$lang, may_help).await {
            Ok(service) => service,
            Err(r) => return r,
        }
    }};
}

fn user_id_or_404(uid: &str) -> Result<UserId, ApiError> {
    parse_uid(uid).ok_or_else(|| ApiError::not_found(format!("no user '{uid}'")))
}

/// `POST /console/users/{uid}/unlock` (利用停止解除).
pub async fn unlock(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path(uid): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let service = help_desk_action!(state, lang, s, &form.csrf);
    let outcome = match user_id_or_404(&uid) {
        Ok(u) => actions::unlock_user(&state, &service, &u, Actor::Operator(s.name()))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after_user_action(&state, &lang, &s, &service, &uid, outcome, "unlocked").await
}

/// `POST /console/users/{uid}/stop` (利用中止, without a code).
pub async fn stop(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path(uid): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let service = help_desk_action!(state, lang, s, &form.csrf);
    let outcome = match user_id_or_404(&uid) {
        Ok(u) => actions::stop_without_code(&state, &service, &u, Actor::Operator(s.name()))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after_user_action(&state, &lang, &s, &service, &uid, outcome, "stopped").await
}

/// `POST /console/users/{uid}/cooldown/end`.
pub async fn end_cooldown(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path(uid): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let service = help_desk_action!(state, lang, s, &form.csrf);
    let outcome = match user_id_or_404(&uid) {
        Ok(u) => actions::end_cooldown(&state, &service, &u, Actor::Operator(s.name()))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after_user_action(&state, &lang, &s, &service, &uid, outcome, "cooldown_ended").await
}

/// `POST /console/users/{uid}/tokens/{serial}/revoke` (トークン失効).
pub async fn revoke(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path((uid, serial)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let service = help_desk_action!(state, lang, s, &form.csrf);
    let outcome = match (user_id_or_404(&uid), TokenSerial::parse(&serial)) {
        (Ok(u), Ok(serial)) => {
            // Only a token of this user: the page's form names both.
            match state.store.user(&service.id, &u).await {
                Ok(Some(user)) if user.tokens.iter().any(|t| t.serial == serial) => {
                    actions::revoke(&state, &service, &serial, Actor::Operator(s.name()))
                        .await
                        .map(|_| ())
                }
                Ok(_) => Err(ApiError::not_found(format!(
                    "no token {serial} of user '{u}'"
                ))),
                Err(e) => Err(e.into()),
            }
        }
        (Err(e), _) => Err(e),
        (_, Err(e)) => Err(ApiError::not_found(format!("serial: {e}"))),
    };
    after_user_action(&state, &lang, &s, &service, &uid, outcome, "revoked").await
}

/// The register form.
#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    serial: String,
    #[serde(default)]
    otp: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/users/{uid}/tokens`: register a serial with its current code.
pub async fn register(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path(uid): Path<String>,
    Form(form): Form<RegisterForm>,
) -> Response {
    let service = help_desk_action!(state, lang, s, &form.csrf);
    let outcome = async {
        let u = user_id_or_404(&uid)?;
        let serial = TokenSerial::parse(&form.serial)
            .map_err(|e| ApiError::invalid_field(format!("serial: {e}")))?;
        let code = Code::parse(form.otp.trim())
            .ok_or_else(|| ApiError::invalid_field("otp: 6 to 8 digits"))?;
        actions::register(
            &state,
            &service,
            &u,
            &serial,
            &code,
            Actor::Operator(s.name()),
        )
        .await
        .map(|_| ())
    }
    .await;
    after_user_action(&state, &lang, &s, &service, &uid, outcome, "registered").await
}

/// The activation form.
#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    start_password: Secret,
    #[serde(default)]
    ttl_hours: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "console/issued.html")]
struct IssuedPage {
    c: Chrome,
    uid: String,
    uri: String,
    qr: String,
    expires_at: String,
    expires_local: String,
    start_password: Option<String>,
    email_queued: bool,
}

/// `POST /console/enrollments`: issue an activation; the page shows the QR and URI, and a
/// generated start password once.
pub async fn issue(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Form(form): Form<IssueForm>,
) -> Response {
    let service = help_desk_action!(state, lang, s, &form.csrf);
    let t = lang.0;
    let fail = |e: ApiError| {
        let c = Chrome::signed(t, &s, Some(&service.id)).error(refusal(t, &e));
        message(e.status, c, &lang)
    };
    let Some(uid) = parse_uid(form.user_id.trim()) else {
        return fail(ApiError::invalid_field(
            "user_id: 1 to 64 of A-Z a-z 0-9 . _ -",
        ));
    };
    let generated = form.start_password.0.is_empty();
    let start = if generated {
        password::generate_start_password()
    } else {
        form.start_password.0.clone()
    };
    let ttl_seconds = match form.ttl_hours.trim() {
        "" => None,
        hours => match hours.parse::<u64>() {
            Ok(h) => Some(h.saturating_mul(3600)),
            Err(_) => {
                return fail(ApiError::invalid_field(
                    "ttl_hours: a whole number of hours",
                ));
            }
        },
    };
    let email = match form.email.trim() {
        "" => None,
        address => match crate::mail::address::EmailAddress::parse(address) {
            Ok(a) => Some(a),
            Err(e) => return fail(ApiError::invalid_field(format!("email: {e}"))),
        },
    };
    let request = EnrollmentRequest {
        user_id: uid.clone(),
        start_password: StartPassword::new(start.clone()),
        ttl_seconds,
        email,
        lang: None,
    };
    match actions::issue_enrollment(&state, &service, request, Actor::Operator(s.name())).await {
        Ok(issued) => render(
            StatusCode::OK,
            &IssuedPage {
                c: Chrome::signed(t, &s, Some(&service.id)),
                uid: uid.to_string(),
                uri: issued.activation_uri.clone(),
                qr: qr_data_uri(&issued),
                expires_at: issued.expires_at.clone(),
                expires_local: local_text(zone_of(&service), &issued.expires_at),
                start_password: generated.then(|| start.to_string()),
                email_queued: issued.email_queued,
            },
            &lang,
        ),
        Err(e) if e.status.is_server_error() => e.into_response(),
        Err(e) => fail(e),
    }
}
