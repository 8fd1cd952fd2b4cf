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
    Chrome, CsrfForm, EVENTS_PER_PAGE, Lang, Secret, USERS_PER_PAGE, confirmation, confirmed,
    csrf_refusal, local_hh_mm, local_ms, local_text, may_help, message, qr_data_uri, refusal,
    render, see, workspace, zone_of,
};
use crate::AppState;
use crate::console::password;
use crate::console::session::Signed;
use crate::console::text::{self, Texts};
use crate::error::ApiError;
use crate::routes::enrollments::{EnrollmentRequest, StartPassword};
use crate::routes::rfc3339;
use crate::routes::users::UserResponse;
use softtoken_service::actions::{self, Actor};
use softtoken_service::otp_check::Code;
use softtoken_service::queries;
use softtoken_store::serial::TokenSerial;
use softtoken_store::{AuditEvent, Service, TokenState};

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
        match queries::search_users(
            &state,
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
    /// The state in the operator's words (the glossary's).
    state_text: String,
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
    /// Tokens the user's 利用中止 unbound: they stay on the page, with when and by whom.
    stopped: Vec<StoppedRow>,
    /// While a cool-down runs: when a new token may be issued, in words; the issue form is
    /// disabled meanwhile.
    cooldown: Option<String>,
}

/// A token a 利用中止 unbound from the user.
struct StoppedRow {
    serial: String,
    at: i64,
    by: String,
}

/// The 利用中止 events a user page reads (each names the tokens it unbound).
const STOPPED_SHOWN: u32 = 20;

/// "新しいトークンを発行できるのは 14:35 以降（あと 29 分）" while `until` is ahead of `now`;
/// the date is shown too when the wait ends on another day.
fn cooldown_words(t: &'static Texts, zone: chrono_tz::Tz, until: i64, now: i64) -> Option<String> {
    if until <= now {
        return None;
    }
    let minutes = (until - now).saturating_add(59_999) / 60_000;
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms).map(|d| d.with_timezone(&zone).date_naive())
    };
    let time = if day(until) == day(now) {
        local_hh_mm(zone, until)
    } else {
        let up = until.saturating_add(59_999) / 60_000 * 60_000;
        chrono::DateTime::from_timestamp_millis(up).map_or_else(
            || local_ms(zone, until),
            |d| d.with_timezone(&zone).format("%m/%d %H:%M").to_string(),
        )
    };
    Some(
        t.cooldown_wait
            .replace("{time}", &time)
            .replace("{n}", &minutes.to_string()),
    )
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
    fn of(t: &'static Texts, zone: chrono_tz::Tz, m: &softtoken_store::MailStatus) -> Self {
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
            to: softtoken_service::mail::address::mask(&m.recipient),
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
        Err(e) => return ApiError(e).into_response(),
    };
    // The drift is the help desk's, not the bank API's: read from the same user row.
    let stored = match queries::user(state, &service.id, &uid).await {
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
            state_text: text::token_state(lang.0, &t.state).to_owned(),
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
            Err(e) => return ApiError(e).into_response(),
        };
    let mails = match queries::user_mails(state, &service.id, &uid, MAILS_SHOWN).await {
        Ok(mails) => mails.iter().map(|m| MailRow::of(c.t, zone, m)).collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let stopped = match actions::stopped_tokens(state, &service.id, &uid, STOPPED_SHOWN).await {
        Ok(stopped) => stopped
            .into_iter()
            .map(|s| StoppedRow {
                serial: s.serial,
                at: s.at,
                by: s.operator.unwrap_or_else(|| lang.0.by_bank.to_owned()),
            })
            .collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let cooldown = view
        .cooldown_until
        .as_deref()
        .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
        .and_then(|u| cooldown_words(lang.0, zone, u.timestamp_millis(), state.now()));
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
            stopped,
            cooldown,
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
            // A cool-down says until when, as the page does, not a count of seconds.
            let words = e
                .retry_after
                .filter(|_| e.code == softtoken_protocol::problem::codes::COOLDOWN)
                .and_then(|secs| {
                    let now = state.now();
                    let until = now.saturating_add(i64::try_from(secs).ok()?.saturating_mul(1000));
                    cooldown_words(lang.0, zone_of(service), until, now)
                })
                .unwrap_or_else(|| refusal(lang.0, &e));
            let c = Chrome::signed(lang.0, s, Some(&service.id)).error(words);
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
            .map(|_| ())
            .map_err(ApiError),
        Err(e) => Err(e),
    };
    after_user_action(&state, &lang, &s, &service, &uid, outcome, "unlocked").await
}

/// A destructive form: the CSRF token and, once the confirmation page was shown, its
/// confirmation.
#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage {
    c: Chrome,
    /// What is about to be done (the button's words too).
    title: &'static str,
    /// What will happen, the wait before a new token, what the customer sees.
    lines: Vec<String>,
    action: String,
    confirm: String,
    /// The form's other fields, sent again as they came.
    fields: Vec<(&'static str, String)>,
    /// The label of the start password to type again, if one was typed (a secret is
    /// never put into the page).
    retype: Option<&'static str>,
    back: String,
}

/// The user page's path.
fn user_path(uid: &str) -> String {
    format!(
        "/console/users/{}",
        url::form_urlencoded::byte_serialize(uid.as_bytes()).collect::<String>()
    )
}

/// What a confirmation page asks about.
struct Confirm {
    /// What is about to be done (the button's words too).
    title: &'static str,
    /// What will happen, the wait before a new token, what the customer sees.
    lines: Vec<String>,
    /// Where the confirmed form posts.
    action: String,
    /// What the confirmation is bound to: the action, and for an activation its user.
    key: String,
    /// The form's other fields, sent again as they came.
    fields: Vec<(&'static str, String)>,
    /// The label of the start password to type again, if one was typed.
    retype: Option<&'static str>,
}

/// The confirmation page (nothing done yet): its form posts the fields again with the
/// confirmation of `ask.key`.
fn confirm_page(lang: &Lang, s: &Signed, service: &Service, uid: &str, ask: Confirm) -> Response {
    let c = Chrome::signed(lang.0, s, Some(&service.id));
    let confirm = confirmation(&c.csrf, &ask.key);
    render(
        StatusCode::OK,
        &ConfirmPage {
            c,
            title: ask.title,
            lines: ask.lines,
            action: ask.action,
            confirm,
            fields: ask.fields,
            retype: ask.retype,
            back: user_path(uid),
        },
        lang,
    )
}

/// The wait a revocation now would start, in words: until when (with the night cut-off's
/// part), or none.
fn revocation_wait(t: &'static Texts, service: &Service, now: i64) -> Vec<String> {
    let cooldown = softtoken_store::rules::revoke_cooldown(&service.policy, now);
    let end = cooldown.end();
    if end <= now {
        return vec![t.confirm_no_wait.to_owned()];
    }
    let zone = zone_of(service);
    let mut lines = vec![
        t.confirm_wait
            .replace("{time}", &local_ms(zone, end))
            .replace(
                "{cooldown}",
                &softtoken_store::policy::duration_text(service.policy.cooldown_secs),
            ),
    ];
    if let (Some(night), Some(window)) = (cooldown.night_until, service.policy.night_cutoff)
        && night > cooldown.until
    {
        lines.push(
            t.confirm_night
                .replace("{window}", &window.window())
                .replace("{zone}", window.zone_name()),
        );
    }
    lines
}

/// `POST /console/users/{uid}/stop` (利用中止, without a code): first the confirmation page,
/// then, with its confirmation, the stop.
pub async fn stop(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path(uid): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let service = help_desk_action!(state, lang, s, &form.csrf);
    let action = format!("{}/stop", user_path(&uid));
    if !confirmed(&s, &action, &form.confirm) {
        let t = lang.0;
        let serials = match user_id_or_404(&uid) {
            Ok(u) => match queries::user(&state, &service.id, &u).await {
                Ok(Some(user)) => user
                    .tokens
                    .iter()
                    .map(|t| t.serial.as_str().to_owned())
                    .collect::<Vec<_>>(),
                Ok(None) => Vec::new(),
                Err(e) => return ApiError::from(e).into_response(),
            },
            Err(e) => {
                return after_user_action(&state, &lang, &s, &service, &uid, Err(e), "").await;
            }
        };
        let lines = vec![
            t.confirm_stop.replace("{serials}", &serials.join(", ")),
            t.confirm_no_wait.to_owned(),
            t.confirm_sees_stop.to_owned(),
        ];
        let ask = Confirm {
            title: t.stop,
            lines,
            key: action.clone(),
            action,
            fields: Vec::new(),
            retype: None,
        };
        return confirm_page(&lang, &s, &service, &uid, ask);
    }
    let outcome = match user_id_or_404(&uid) {
        Ok(u) => actions::stop_without_code(&state, &service, &u, Actor::Operator(s.name()))
            .await
            .map(|_| ())
            .map_err(ApiError),
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
            .map(|_| ())
            .map_err(ApiError),
        Err(e) => Err(e),
    };
    after_user_action(&state, &lang, &s, &service, &uid, outcome, "cooldown_ended").await
}

/// `POST /console/users/{uid}/tokens/{serial}/revoke` (トークン失効): first the
/// confirmation page (what happens, the wait before a new token, what the customer sees),
/// then, with its confirmation, the revocation.
pub async fn revoke(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path((uid, serial)): Path<(String, String)>,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let service = help_desk_action!(state, lang, s, &form.csrf);
    let token = match (user_id_or_404(&uid), TokenSerial::parse(&serial)) {
        (Ok(u), Ok(serial)) => {
            // Only a token of this user: the page's form names both.
            match queries::user(&state, &service.id, &u).await {
                Ok(Some(user)) if user.tokens.iter().any(|t| t.serial == serial) => Ok(serial),
                Ok(_) => Err(ApiError::not_found(format!(
                    "no token {serial} of user '{u}'"
                ))),
                Err(e) => Err(e.into()),
            }
        }
        (Err(e), _) => Err(e),
        (_, Err(e)) => Err(ApiError::not_found(format!("serial: {e}"))),
    };
    let serial = match token {
        Ok(serial) => serial,
        Err(e) => return after_user_action(&state, &lang, &s, &service, &uid, Err(e), "").await,
    };
    let action = format!(
        "{}/tokens/{}/revoke",
        user_path(&uid),
        url::form_urlencoded::byte_serialize(serial.as_str().as_bytes()).collect::<String>()
    );
    if !confirmed(&s, &action, &form.confirm) {
        let t = lang.0;
        let mut lines = vec![t.confirm_revoke.replace("{serial}", serial.as_str())];
        lines.extend(revocation_wait(t, &service, state.now()));
        lines.push(t.confirm_sees_revoke.to_owned());
        let ask = Confirm {
            title: t.revoke,
            lines,
            key: action.clone(),
            action,
            fields: Vec::new(),
            retype: None,
        };
        return confirm_page(&lang, &s, &service, &uid, ask);
    }
    let outcome = actions::revoke(&state, &service, &serial, Actor::Operator(s.name()))
        .await
        .map(|_| ())
        .map_err(ApiError);
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
        .map_err(ApiError)
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
    #[serde(default)]
    confirm: String,
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
        address => match softtoken_service::mail::address::EmailAddress::parse(address) {
            Ok(a) => Some(a),
            Err(e) => return fail(ApiError::invalid_field(format!("email: {e}"))),
        },
    };
    // Re-issuing over an open activation ends it: asked first.
    let open = match crate::routes::users::user_view(&state, &service, &uid).await {
        Ok(view) => view
            .enrollment
            .filter(|e| e.state == "open")
            .map(|e| e.expires_at),
        Err(_) => None,
    };
    let key = format!("/console/enrollments#{uid}");
    if let Some(expires) = open.as_ref()
        && !confirmed(&s, &key, &form.confirm)
    {
        let ask = Confirm {
            title: t.issue,
            lines: vec![
                t.confirm_reissue
                    .replace("{time}", &local_text(zone_of(&service), expires)),
                t.confirm_sees_reissue.to_owned(),
            ],
            action: "/console/enrollments".to_owned(),
            key,
            fields: vec![
                ("user_id", uid.to_string()),
                ("ttl_hours", form.ttl_hours.trim().to_owned()),
                ("email", form.email.trim().to_owned()),
            ],
            // The start password the operator typed is typed again on the confirmation
            // page, never carried in it; a generated one is made when confirmed.
            retype: (!generated).then_some(t.confirm_retype_start_password),
        };
        return confirm_page(&lang, &s, &service, uid.as_str(), ask);
    }
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
        Err(e) if e.status.is_server_error() => ApiError(e).into_response(),
        Err(e) => {
            // A known user's refusal (a cool-down, a token too many) is shown on their page.
            let known = open.is_some()
                || matches!(queries::user(&state, &service.id, &uid).await, Ok(Some(_)));
            if known {
                after_user_action(
                    &state,
                    &lang,
                    &s,
                    &service,
                    uid.as_str(),
                    Err(ApiError(e)),
                    "",
                )
                .await
            } else {
                fail(ApiError(e))
            }
        }
    }
}
