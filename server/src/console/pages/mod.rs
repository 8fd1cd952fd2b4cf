//! The console's pages and forms. Each handler checks the session, the role and (for a
//! POST) the CSRF token, then calls [`softtoken_service::actions`] — the bank API's own steps — and
//! renders the answer; success of a change is a 303 back (POST-redirect-GET), except where
//! a secret is shown once.
//!
//! This module holds what every page shares (the frame, the language, rendering, the
//! role checks, the wall-clock times); each area has its own module.

mod admin;
mod audit;
mod import;
mod signin;
mod users;

pub use admin::{
    add_operator, api_key_page, disable_operator, operators, policy_page, reset_operator_password,
    rotate_api_key, set_policy,
};
pub use audit::{audit, audit_csv};
pub use import::{MAX_IMPORT_UPLOAD, import, import_page};
pub use signin::{
    enroll_confirm, enroll_page, enroll_reissue, login, login_form, logout, pick_service, services,
};
pub use users::{end_cooldown, issue, register, revoke, stop, unlock, user, users};

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use softtoken_protocol::ServiceId;
use zeroize::Zeroizing;

use super::session::{self, AnySession, LANG_COOKIE, LIMITS, SESSION_COOKIE, Signed};
use super::text::{self, Texts};
use crate::AppState;
use crate::error::ApiError;
use crate::routes::enrollments::EnrollmentResponse;
use crate::routes::rfc3339;
use softtoken_store::Service;
use softtoken_store::console::{OperatorRole, SessionStage};

/// Users per page of a search.
pub const USERS_PER_PAGE: u32 = 20;
/// Events per page of the audit trail.
pub const EVENTS_PER_PAGE: u32 = 50;
/// Most events in one CSV export.
pub const CSV_MAX_EVENTS: u32 = 10_000;

// --- what every page shows --------------------------------------------------------------

/// The operator in the header.
pub struct Who {
    name: String,
    role: &'static str,
    service: String,
    can_help: bool,
    can_audit: bool,
    can_admin: bool,
    superuser: bool,
}

/// The frame of every page: words, who is signed in, the CSRF token, a notice or error.
pub struct Chrome {
    t: &'static Texts,
    who: Option<Who>,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
    tries_left: Option<u32>,
}

impl Chrome {
    fn anonymous(t: &'static Texts) -> Self {
        Chrome {
            t,
            who: None,
            csrf: String::new(),
            notice: None,
            error: None,
            tries_left: None,
        }
    }

    fn signed(t: &'static Texts, s: &Signed, service: Option<&ServiceId>) -> Self {
        let role = s.role();
        Chrome {
            t,
            who: Some(Who {
                name: s.name().to_owned(),
                role: role.as_str(),
                service: service.map(|s| s.to_string()).unwrap_or_default(),
                can_help: may_help(role),
                can_audit: may_audit(role),
                can_admin: may_admin(role),
                superuser: role == OperatorRole::Superuser,
            }),
            csrf: s.0.csrf.clone(),
            notice: None,
            error: None,
            tries_left: None,
        }
    }

    fn error(mut self, message: impl Into<String>) -> Self {
        self.error = Some(message.into());
        self
    }

    /// An unused activation's state in the page's words.
    fn enrollment_state<'a>(&self, state: &'a str) -> &'a str {
        text::enrollment_state(self.t, state)
    }

    /// An operator role in the page's words.
    fn role<'a>(&self, role: &'a str) -> &'a str {
        text::role(self.t, role)
    }

    /// An audit event's detail in the page's words.
    fn detail(&self, detail: &str) -> String {
        text::audit_detail(self.t, detail)
    }

    /// The operator column's actor in the page's words.
    fn actor<'a>(&self, name: &'a str) -> &'a str {
        text::actor(self.t, name)
    }

    /// A PSKC import's skip reason in the page's words.
    fn skip_reason(&self, reason: &str) -> String {
        text::skip_reason(self.t, reason)
    }

    /// An audit event kind in the page's words.
    fn kind<'a>(&self, kind: &'a str) -> &'a str {
        text::audit_kind(self.t, kind)
    }
}

fn may_help(role: OperatorRole) -> bool {
    matches!(
        role,
        OperatorRole::Helpdesk | OperatorRole::Admin | OperatorRole::Superuser
    )
}

fn may_audit(role: OperatorRole) -> bool {
    matches!(
        role,
        OperatorRole::Auditor | OperatorRole::Admin | OperatorRole::Superuser
    )
}

fn may_admin(role: OperatorRole) -> bool {
    matches!(role, OperatorRole::Admin | OperatorRole::Superuser)
}

/// The request's language (`?lang=`, cookie, `Accept-Language`).
pub struct Lang(pub &'static Texts, Option<&'static str>);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let asked = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| match v.as_ref() {
                    "en" => Some("en"),
                    "ja" => Some("ja"),
                    _ => None,
                })
        });
        Ok(Lang(text::pick(asked, &parts.headers), asked))
    }
}

impl Lang {
    /// The `Set-Cookie` that keeps a language asked for by `?lang=`.
    fn cookie(&self) -> Option<String> {
        self.1
            .map(|l| format!("{LANG_COOKIE}={l}; Path=/console; SameSite=Strict; Max-Age=31536000"))
    }
}

fn render(status: StatusCode, page: &impl Template, lang: &Lang) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response();
            if let Some(cookie) = lang.cookie()
                && let Ok(value) = cookie.parse()
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

fn see(location: &str) -> Response {
    Redirect::to(location).into_response()
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    c: Chrome,
}

fn message(status: StatusCode, c: Chrome, lang: &Lang) -> Response {
    render(status, &MessagePage { c }, lang)
}

/// 403 "may not" for a signed-in operator.
fn forbidden(s: &Signed, lang: &Lang) -> Response {
    let c = Chrome::signed(lang.0, s, s.0.session.service_id.as_ref()).error(lang.0.err_forbidden);
    message(StatusCode::FORBIDDEN, c, lang)
}

/// 403 for a form without this session's CSRF token: nothing was changed.
fn bad_csrf(lang: &Lang) -> Response {
    message(
        StatusCode::FORBIDDEN,
        Chrome::anonymous(lang.0).error(lang.0.err_csrf),
        lang,
    )
}

/// Middleware: a 503 problem document from anything under `/console` (the database out
/// of reach or out of space) becomes a plain page in the operator's language, keeping the
/// status and `Retry-After`: staff see "一時的に利用できません", not JSON.
pub async fn unavailable_page(
    lang: Lang,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if response.status() != StatusCode::SERVICE_UNAVAILABLE || !is_problem {
        return response;
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let mut page = message(
        StatusCode::SERVICE_UNAVAILABLE,
        Chrome::anonymous(lang.0).error(lang.0.err_unavailable),
        &lang,
    );
    if let Some(value) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, value);
    }
    page
}

/// The words for a refused action: in Japanese, the catalogue's words for the problem's
/// code where it has them (the bank API's detail is English, for the bank's developers).
fn refusal(t: &'static Texts, e: &ApiError) -> String {
    let head = if e.status == StatusCode::NOT_FOUND {
        t.err_not_found
    } else {
        t.err_refused
    };
    let words = if e.code == softtoken_protocol::problem::codes::INVALID_REQUEST {
        text::field_refusal(t, &e.detail)
    } else {
        text::problem(t, e.code).map(str::to_owned)
    };
    format!("{head}: {}", words.unwrap_or_else(|| e.detail.clone()))
}

/// The value a confirmation page's form carries for `action` (the POST path): bound to the
/// session's CSRF token, so only a form this session was shown acts, never a first click.
fn confirmation(csrf: &str, action: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"console-confirm\0")
        .chain_update(csrf.as_bytes())
        .chain_update(b"\0")
        .chain_update(action.as_bytes())
        .finalize();
    hex::encode(&digest[..16])
}

/// Whether `given` is the confirmation of `action` for this session (constant time).
fn confirmed(s: &Signed, action: &str, given: &str) -> bool {
    !given.is_empty() && session::same(&confirmation(&s.0.csrf, action), given)
}

/// The service the signed-in operator works on, if their role is allowed by `allowed`.
async fn workspace(
    state: &AppState,
    s: &Signed,
    lang: &Lang,
    allowed: fn(OperatorRole) -> bool,
) -> Result<Service, Response> {
    if !allowed(s.role()) {
        return Err(forbidden(s, lang));
    }
    let Some(sid) = s.0.session.service_id.clone() else {
        return Err(see("/console/services"));
    };
    crate::routes::service(state, &sid)
        .await
        .map_err(|e| e.into_response())
}

/// The CSRF check of a form: `Some` is the 403 answer.
fn csrf_refusal(s: &AnySession, field: &str, lang: &Lang) -> Option<Response> {
    (!s.csrf_ok(field)).then(|| bad_csrf(lang))
}

/// The zone the console shows times in: the service's night cut-off zone, else Japan's
/// (the help desk reads wall-clock times; CSV and `datetime` attributes stay UTC).
fn zone_of(service: &Service) -> chrono_tz::Tz {
    service
        .policy
        .night_cutoff
        .map_or(softtoken_store::night_cutoff::DEFAULT_ZONE, |n| n.zone)
}

/// Unix ms as the zone's wall-clock time, e.g. `2026-12-02 15:33:40 JST`.
fn local_ms(zone: chrono_tz::Tz, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || rfc3339(ms),
        |t| {
            t.with_timezone(&zone)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        },
    )
}

/// Unix ms as the zone's `HH:MM` (rounded up: "locked until 10:31" must not end before).
pub(super) fn local_hh_mm(zone: chrono_tz::Tz, ms: i64) -> String {
    let up = ms.saturating_add(59_999) / 60_000 * 60_000;
    chrono::DateTime::from_timestamp_millis(up).map_or_else(
        || rfc3339(ms),
        |t| t.with_timezone(&zone).format("%H:%M").to_string(),
    )
}

/// An RFC 3339 time (as the bank API answers) in the zone; empty stays empty.
fn local_text(zone: chrono_tz::Tz, text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text).map_or_else(
        |_| text.to_owned(),
        |t| local_ms(zone, t.timestamp_millis()),
    )
}

// --- home, stylesheet, 404 ---------------------------------------------------------------

/// `GET /console`: where the operator should be.
pub async fn home(State(state): State<AppState>, parts: HeaderMap) -> Response {
    let Some(id) = session::cookie(&parts, SESSION_COOKIE) else {
        return see("/console/login");
    };
    match softtoken_service::console_sessions::live(&state, &session::id_hash(id), LIMITS).await {
        Ok(Some(s)) if s.stage == SessionStage::Enroll => see("/console/enroll"),
        Ok(Some(s)) => {
            if s.service_id.is_none() {
                see("/console/services")
            } else if s.operator.role == OperatorRole::Auditor {
                see("/console/audit")
            } else {
                see("/console/users")
            }
        }
        Ok(None) => see("/console/login"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Any other path under `/console`.
pub async fn not_found(lang: Lang) -> Response {
    message(
        StatusCode::NOT_FOUND,
        Chrome::anonymous(lang.0).error(lang.0.err_not_found),
        &lang,
    )
}

// --- forms and pieces more than one area uses ----------------------------------------

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// A password field: wiped when the request is done, never printed.
#[derive(Default)]
pub struct Secret(Zeroizing<String>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(Zeroizing::new(String::deserialize(d)?)))
    }
}

fn qr_data_uri(issued: &EnrollmentResponse) -> String {
    format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(issued.qr_svg.as_bytes())
    )
}
