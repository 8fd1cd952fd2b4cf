//! The console's pages and forms. Each handler checks the session, the role and (for a
//! POST) the CSRF token, then calls [`crate::actions`] — the bank API's own steps — and
//! renders the answer; success of a change is a 303 back (POST-redirect-GET), except where
//! a secret is shown once.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use softtoken_protocol::{ServiceId, UserId};
use zeroize::Zeroizing;

use super::gate::Lane;
use super::password;
use super::session::{self, AnySession, LANG_COOKIE, LIMITS, LOGIN_COOKIE, SESSION_COOKIE, Signed};
use super::text::{self, Texts};
use crate::AppState;
use crate::actions::{self, Actor};
use crate::audit::AuditKind;
use crate::error::ApiError;
use crate::otp_check::Code;
use crate::routes::enrollments::{EnrollmentRequest, EnrollmentResponse, StartPassword};
use crate::routes::rfc3339;
use crate::routes::users::UserResponse;
use crate::serial::TokenSerial;
use crate::store::console::{AuditFilter, Operator, OperatorFailure, OperatorRole, SessionStage};
use crate::store::{AuditEvent, NewAuditEvent, Service, StoreError, TokenState};
use crate::verification::{Outcome, Purpose};

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

/// The words for a refused action.
fn refusal(t: &'static Texts, e: &ApiError) -> String {
    if e.status == StatusCode::NOT_FOUND {
        format!("{}: {}", t.err_not_found, e.detail)
    } else {
        format!("{}: {}", t.err_refused, e.detail)
    }
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
        .map_or(crate::night_cutoff::DEFAULT_ZONE, |n| n.zone)
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
    match state
        .store
        .console_session(&session::id_hash(id), LIMITS, state.now())
        .await
    {
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

// --- sign-in ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    c: Chrome,
    login_csrf: String,
    name: String,
}

fn login_page(
    state: &AppState,
    lang: &Lang,
    c: Chrome,
    status: StatusCode,
    name: &str,
) -> Response {
    let token = session::random_token();
    let mut response = render(
        status,
        &LoginPage {
            c,
            login_csrf: token.to_string(),
            name: name.to_owned(),
        },
        lang,
    );
    if let Ok(value) = session::set_cookie(state, LOGIN_COOKIE, &token, 600).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /console/login`.
pub async fn login_form(State(state): State<AppState>, lang: Lang) -> Response {
    login_page(&state, &lang, Chrome::anonymous(lang.0), StatusCode::OK, "")
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: Secret,
    #[serde(default)]
    otp: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "console/enroll.html")]
struct EnrollPage {
    c: Chrome,
    uri: String,
    qr: String,
    start_password: Option<String>,
}

/// `POST /console/login`: password, and the code of the operator's own token once it has
/// one. The first time, a right password opens an enrollment of that token instead.
pub async fn login(
    State(state): State<AppState>,
    lang: Lang,
    client: Option<axum::Extension<crate::client_addr::ClientAddr>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let t = lang.0;
    // A browser this operator signed in from before skips the per-address limit and has
    // its own lane on the password pool: a flood of strangers does not keep staff out.
    let lane = if super::device::recognised(&state, &headers, form.name.trim()) {
        Lane::KnownDevice
    } else {
        Lane::Anyone
    };
    // Per client address (after the trusted proxies), before any work: one address cannot
    // keep the password pool busy (issue 22).
    let key = client.map_or_else(
        || "unknown".to_owned(),
        |c| crate::rate_limit::client_key(c.0.0),
    );
    let limited = match lane {
        Lane::KnownDevice => Ok(()),
        Lane::Anyone => state.sign_in_limit.check(&key, state.now()),
    };
    if let Err(e) = limited {
        let wait = e.retry_after.unwrap_or(60);
        let c = Chrome::anonymous(t).error(t.err_sign_in_limited.replace("{n}", &wait.to_string()));
        return with_retry_after(message(StatusCode::TOO_MANY_REQUESTS, c, &lang), wait);
    }
    let expected = session::cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !session::same(expected, &form.csrf) {
        return bad_csrf(&lang);
    }
    match sign_in(&state, &lang, &form, lane).await {
        Ok(response) => response,
        Err(SignInRefusal {
            message,
            tries_left,
        }) => {
            let mut c = Chrome::anonymous(t).error(message);
            c.tries_left = tries_left;
            login_page(&state, &lang, c, StatusCode::UNAUTHORIZED, &form.name)
        }
    }
}

struct SignInRefusal {
    message: String,
    tries_left: Option<u32>,
}

impl From<ApiError> for SignInRefusal {
    fn from(e: ApiError) -> Self {
        SignInRefusal {
            message: e.detail,
            tries_left: None,
        }
    }
}

impl From<StoreError> for SignInRefusal {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

/// The console's own service (the operators' tokens).
async fn console_service(state: &AppState) -> Result<Service, ApiError> {
    let sid = ServiceId::new(super::CONSOLE_SERVICE).map_err(ApiError::internal)?;
    crate::routes::service(state, &sid).await
}

/// Where an operator's audit events go: their service, or the console's for a superuser.
fn home_service(operator: &Operator) -> Result<ServiceId, ApiError> {
    match &operator.service_id {
        Some(sid) => Ok(sid.clone()),
        None => ServiceId::new(super::CONSOLE_SERVICE).map_err(ApiError::internal),
    }
}

/// A password field: wiped when the request is done, never printed.
#[derive(Default)]
pub struct Secret(Zeroizing<String>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(Zeroizing::new(String::deserialize(d)?)))
    }
}

/// `response` with `Retry-After: secs`.
fn with_retry_after(mut response: Response, secs: u64) -> Response {
    if let Ok(value) = secs.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

async fn sign_in(
    state: &AppState,
    lang: &Lang,
    form: &LoginForm,
    lane: Lane,
) -> Result<Response, SignInRefusal> {
    let t = lang.0;
    // Every refusal before the password is proven right is this one, whether the name is
    // unknown, disabled, locked or the password wrong: anything else (a count of tries left,
    // "locked") would tell anyone on the network which operator names exist.
    let wrong = || SignInRefusal {
        message: t.err_sign_in.into(),
        tries_left: None,
    };
    let operator = state.store.operator_named(form.name.trim()).await?;
    let phc = operator.as_ref().map(|o| o.password_hash.clone());
    let Ok(password_ok) = state
        .sign_in_pool
        .check(lane, form.password.0.clone(), phc)
        .await
    else {
        // The pool is full: nothing was checked or counted; the operator tries again.
        return Ok(with_retry_after(
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                Chrome::anonymous(t).error(t.err_unavailable),
                lang,
            ),
            super::gate::RETRY_AFTER_SECS,
        ));
    };
    let console = console_service(state).await?;
    let max = console.policy.max_failures;
    let Some(operator) = operator else {
        // The same reads and writes as a known name's wrong password (issue 22): the time
        // of the answer does not tell which names exist.
        let event = NewAuditEvent::new(&console.id, AuditKind::ConsoleSignInFailed, "unknown name");
        state
            .store
            .operator_failure(None, max, &event, state.now())
            .await?;
        crate::metrics::console_sign_in_failed(false);
        return Err(wrong());
    };
    let home = home_service(&operator)?;
    let failed = |detail: &str| {
        NewAuditEvent::new(&home, AuditKind::ConsoleSignInFailed, detail).by(&operator.name)
    };
    if !password_ok {
        // Counted towards the back-off (a try while locked is recorded, not counted), but
        // not shown: see `wrong`. Never ends a live session: only an administrator's
        // decision (disable, password reset) does.
        let detail = if operator.disabled {
            "wrong password; disabled"
        } else if operator.locked_until_at(state.now()).is_some() {
            "wrong password; temporarily locked"
        } else {
            "wrong password"
        };
        let counted = state
            .store
            .operator_failure(Some(operator.id), max, &failed(detail), state.now())
            .await?;
        crate::metrics::console_sign_in_failed(counted.newly_locked);
        return Err(wrong());
    }
    // The password is proven: from here on, the answer may say why.
    if operator.disabled {
        crate::routes::audit(state, failed("disabled")).await;
        return Err(wrong());
    }
    if let Some(until) = operator.locked_until_at(state.now()) {
        crate::routes::audit(state, failed("right password; temporarily locked")).await;
        return Err(locked_until_refusal(state, t, &operator, until).await);
    }
    let token_user = operator.token_user()?;
    let user = state.store.user(&console.id, &token_user).await?;
    if operator.locked || user.as_ref().is_some_and(|u| u.locked) {
        crate::routes::audit(state, failed("locked")).await;
        return Err(SignInRefusal {
            message: t.err_locked.into(),
            tries_left: None,
        });
    }
    let has_token = user
        .as_ref()
        .is_some_and(|u| u.tokens.iter().any(|t| t.state == TokenState::Active));
    if !has_token {
        // First sign-in: the password was right; enrol the operator's own token.
        let id = session::random_token();
        let event = NewAuditEvent::new(
            &home,
            AuditKind::ConsoleSignIn,
            "password; enrolling own token",
        )
        .by(&operator.name);
        state
            .store
            .begin_console_session(
                &session::id_hash(&id),
                operator.id,
                SessionStage::Enroll,
                operator.service_id.as_ref(),
                &event,
                state.now(),
            )
            .await?;
        let (issued, start) = issue_own_token(state, &console, &operator).await?;
        let mut c = Chrome::anonymous(t);
        c.csrf = session::csrf_of(&id);
        let mut response = render(
            StatusCode::OK,
            &EnrollPage {
                c,
                uri: issued.activation_uri.clone(),
                qr: qr_data_uri(&issued),
                start_password: Some(start.to_string()),
            },
            lang,
        );
        set_session_cookie(state, &mut response, &id);
        return Ok(response);
    }
    let Some(code) = Code::parse(form.otp.trim()) else {
        return Err(SignInRefusal {
            message: t.err_code_needed.into(),
            tries_left: None,
        });
    };
    let verdict = state
        .verification()
        .check(&console, &token_user, &code, Purpose::Verify)
        .await
        .map_err(ApiError::from)?;
    if verdict.outcome != Outcome::Accepted {
        let counted = state
            .store
            .operator_failure(Some(operator.id), max, &failed("wrong code"), state.now())
            .await?;
        crate::metrics::console_sign_in_failed(counted.newly_locked);
        return Err(counted_refusal(
            state,
            t,
            &operator,
            &counted,
            verdict.outcome == Outcome::Locked,
            verdict.remaining_attempts,
        )
        .await);
    }
    let id = session::random_token();
    let event =
        NewAuditEvent::new(&home, AuditKind::ConsoleSignIn, "password and code").by(&operator.name);
    state
        .store
        .begin_console_session(
            &session::id_hash(&id),
            operator.id,
            SessionStage::Full,
            operator.service_id.as_ref(),
            &event,
            state.now(),
        )
        .await?;
    let mut response = see("/console");
    set_session_cookie(state, &mut response, &id);
    set_device_cookie(state, &mut response, &operator.name);
    Ok(response)
}

/// The refusal of a wrong code (the password was right): tries left, locked until when, or
/// locked for good (the own token's lockout, which an administrator clears).
async fn counted_refusal(
    state: &AppState,
    t: &'static Texts,
    operator: &Operator,
    counted: &OperatorFailure,
    token_locked: bool,
    remaining: u32,
) -> SignInRefusal {
    if token_locked {
        return SignInRefusal {
            message: t.err_locked.into(),
            tries_left: None,
        };
    }
    if let Some(until) = counted.locked_until {
        return locked_until_refusal(state, t, operator, until).await;
    }
    let max = console_service(state)
        .await
        .map_or(0, |c| c.policy.max_failures);
    SignInRefusal {
        message: t.err_sign_in.into(),
        tries_left: Some(max.saturating_sub(counted.failures).min(remaining)),
    }
}

/// "Locked until HH:MM", on the wall clock of the operator's service (Japan's for a
/// superuser). Only ever shown once the password is proven: it tells the name exists.
async fn locked_until_refusal(
    state: &AppState,
    t: &'static Texts,
    operator: &Operator,
    until: i64,
) -> SignInRefusal {
    let zone = match &operator.service_id {
        Some(sid) => crate::routes::service(state, sid)
            .await
            .map_or(crate::night_cutoff::DEFAULT_ZONE, |s| zone_of(&s)),
        None => crate::night_cutoff::DEFAULT_ZONE,
    };
    SignInRefusal {
        message: t
            .err_locked_until
            .replace("{time}", &local_hh_mm(zone, until)),
        tries_left: None,
    }
}

/// Unix ms as the zone's `HH:MM` (rounded up: "locked until 10:31" must not end before).
fn local_hh_mm(zone: chrono_tz::Tz, ms: i64) -> String {
    let up = ms.saturating_add(59_999) / 60_000 * 60_000;
    chrono::DateTime::from_timestamp_millis(up).map_or_else(
        || rfc3339(ms),
        |t| t.with_timezone(&zone).format("%H:%M").to_string(),
    )
}

fn set_session_cookie(state: &AppState, response: &mut Response, id: &str) {
    let cookie = session::set_cookie(state, SESSION_COOKIE, id, LIMITS.absolute_ms / 1000);
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Makes this browser a known device of `operator` (after a full sign-in only).
fn set_device_cookie(state: &AppState, response: &mut Response, operator: &str) {
    if let Ok(value) = super::device::cookie_for(state, operator).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Issues an activation of the operator's own token, with a generated start password.
async fn issue_own_token(
    state: &AppState,
    console: &Service,
    operator: &Operator,
) -> Result<(EnrollmentResponse, Zeroizing<String>), ApiError> {
    let start = password::generate_start_password();
    let request = EnrollmentRequest {
        user_id: operator.token_user()?,
        start_password: StartPassword::new(start.clone()),
        ttl_seconds: None,
        email: None,
        lang: None,
    };
    let issued =
        actions::issue_enrollment(state, console, request, Actor::Operator(&operator.name)).await?;
    Ok((issued, start))
}

fn qr_data_uri(issued: &EnrollmentResponse) -> String {
    format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(issued.qr_svg.as_bytes())
    )
}

/// `GET /console/enroll`: the operator's pending enrollment, without its start password.
pub async fn enroll_page(State(state): State<AppState>, lang: Lang, s: AnySession) -> Response {
    if s.session.stage == SessionStage::Full {
        return see("/console");
    }
    let c = Chrome::anonymous(lang.0);
    enroll_view(&state, &lang, &s, c, StatusCode::OK).await
}

async fn enroll_view(
    state: &AppState,
    lang: &Lang,
    s: &AnySession,
    mut c: Chrome,
    status: StatusCode,
) -> Response {
    let uri = match (
        console_service(state).await,
        s.session.operator.token_user(),
    ) {
        (Ok(console), Ok(user)) => crate::qr::activation_uri(&state.public_url, &console.id, &user),
        (Err(e), _) => return e.into_response(),
        (_, Err(e)) => return ApiError::from(e).into_response(),
    };
    let qr = crate::qr::svg(&uri)
        .map(|svg| format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)))
        .unwrap_or_default();
    c.csrf = s.csrf.clone();
    render(
        status,
        &EnrollPage {
            c,
            uri,
            qr,
            start_password: None,
        },
        lang,
    )
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// A form with a code.
#[derive(Deserialize)]
pub struct OtpForm {
    #[serde(default)]
    otp: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/enroll/confirm`: the first code of the operator's token makes it active
/// and the session a full one.
pub async fn enroll_confirm(
    State(state): State<AppState>,
    lang: Lang,
    s: AnySession,
    Form(form): Form<OtpForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s, &form.csrf, &lang) {
        return r;
    }
    if s.session.stage == SessionStage::Full {
        return see("/console");
    }
    match confirm_own_token(&state, &s, &form.otp, lang.0).await {
        Ok(None) => {
            let mut response = see("/console");
            set_device_cookie(&state, &mut response, &s.session.operator.name);
            response
        }
        Ok(Some(refusal)) => {
            if refusal.tries_left.is_none() {
                if let Ok(home) = home_service(&s.session.operator) {
                    let event = NewAuditEvent::new(
                        &home,
                        AuditKind::ConsoleSignOut,
                        "locked while enrolling",
                    )
                    .by(&s.session.operator.name);
                    if let Err(e) = state
                        .store
                        .end_console_session(&s.id_hash, &event, state.now())
                        .await
                    {
                        return ApiError::from(e).into_response();
                    }
                }
                let c = Chrome::anonymous(lang.0).error(refusal.message);
                return login_page(&state, &lang, c, StatusCode::UNAUTHORIZED, "");
            }
            let mut c = Chrome::anonymous(lang.0).error(refusal.message);
            c.tries_left = refusal.tries_left;
            enroll_view(&state, &lang, &s, c, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => e.into_response(),
    }
}

/// `Ok(None)`: confirmed; `Ok(Some(refusal))`: refused and counted (no tries left in it:
/// locked, for a while or for good).
async fn confirm_own_token(
    state: &AppState,
    s: &AnySession,
    otp: &str,
    t: &'static Texts,
) -> Result<Option<SignInRefusal>, ApiError> {
    let operator = &s.session.operator;
    let console = console_service(state).await?;
    let max = console.policy.max_failures;
    let home = home_service(operator)?;
    let failed = NewAuditEvent::new(
        &home,
        AuditKind::ConsoleSignInFailed,
        "wrong first code of own token",
    )
    .by(&operator.name);
    let Some(code) = Code::parse(otp.trim()) else {
        let counted = state
            .store
            .operator_failure(Some(operator.id), max, &failed, state.now())
            .await?;
        crate::metrics::console_sign_in_failed(counted.newly_locked);
        return Ok(Some(
            counted_refusal(state, t, operator, &counted, false, u32::MAX).await,
        ));
    };
    let verdict = state
        .verification()
        .check(&console, &operator.token_user()?, &code, Purpose::Confirm)
        .await?;
    if verdict.outcome == Outcome::Accepted {
        let event = NewAuditEvent::new(&home, AuditKind::ConsoleSignIn, "own token confirmed")
            .by(&operator.name);
        state
            .store
            .update_console_session(
                &s.id_hash,
                SessionStage::Full,
                operator.service_id.as_ref(),
                Some(&event),
                state.now(),
            )
            .await?;
        return Ok(None);
    }
    let counted = state
        .store
        .operator_failure(Some(operator.id), max, &failed, state.now())
        .await?;
    crate::metrics::console_sign_in_failed(counted.newly_locked);
    Ok(Some(
        counted_refusal(
            state,
            t,
            operator,
            &counted,
            verdict.outcome == Outcome::Locked,
            verdict.remaining_attempts,
        )
        .await,
    ))
}

/// `POST /console/enroll/reissue`: a new start password for the operator's own token.
pub async fn enroll_reissue(
    State(state): State<AppState>,
    lang: Lang,
    s: AnySession,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s, &form.csrf, &lang) {
        return r;
    }
    if s.session.stage == SessionStage::Full {
        return see("/console");
    }
    let console = match console_service(&state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    match issue_own_token(&state, &console, &s.session.operator).await {
        Ok((issued, start)) => {
            let mut c = Chrome::anonymous(lang.0);
            c.csrf = s.csrf.clone();
            render(
                StatusCode::OK,
                &EnrollPage {
                    c,
                    uri: issued.activation_uri.clone(),
                    qr: qr_data_uri(&issued),
                    start_password: Some(start.to_string()),
                },
                &lang,
            )
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /console/logout`.
pub async fn logout(
    State(state): State<AppState>,
    lang: Lang,
    s: AnySession,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s, &form.csrf, &lang) {
        return r;
    }
    let home = match home_service(&s.session.operator) {
        Ok(home) => home,
        Err(e) => return e.into_response(),
    };
    let event =
        NewAuditEvent::new(&home, AuditKind::ConsoleSignOut, "").by(&s.session.operator.name);
    if let Err(e) = state
        .store
        .end_console_session(&s.id_hash, &event, state.now())
        .await
    {
        return ApiError::from(e).into_response();
    }
    let mut response = see("/console/login");
    if let Ok(value) = session::set_cookie(&state, SESSION_COOKIE, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

// --- superuser: pick a service ---------------------------------------------------------

#[derive(Template)]
#[template(path = "console/services.html")]
struct ServicesPage {
    c: Chrome,
    services: Vec<(String, String)>,
}

/// `GET /console/services`: a superuser picks the service to work on.
pub async fn services(State(state): State<AppState>, lang: Lang, s: Signed) -> Response {
    if s.role() != OperatorRole::Superuser {
        return see("/console");
    }
    match state.store.services().await {
        Ok(list) => render(
            StatusCode::OK,
            &ServicesPage {
                c: Chrome::signed(lang.0, &s, s.0.session.service_id.as_ref()),
                services: list
                    .into_iter()
                    .map(|s| (s.id.to_string(), s.name))
                    .collect(),
            },
            &lang,
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The service picked.
#[derive(Deserialize)]
pub struct PickForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/service`.
pub async fn pick_service(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Form(form): Form<PickForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s.0, &form.csrf, &lang) {
        return r;
    }
    if s.role() != OperatorRole::Superuser {
        return forbidden(&s, &lang);
    }
    let Ok(sid) = ServiceId::new(form.service.trim()) else {
        return not_found(lang).await;
    };
    if sid.as_str() == super::CONSOLE_SERVICE {
        return forbidden(&s, &lang);
    }
    if let Err(e) = crate::routes::service(&state, &sid).await {
        return e.into_response();
    }
    match state
        .store
        .update_console_session(
            &s.0.id_hash,
            SessionStage::Full,
            Some(&sid),
            None,
            state.now(),
        )
        .await
    {
        Ok(()) => see("/console/users"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

// --- help desk ---------------------------------------------------------------------------

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

// --- audit -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    c: Chrome,
    zone: chrono_tz::Tz,
    user: String,
    serial: String,
    from: String,
    to: String,
    kinds: Vec<(&'static str, bool)>,
    events: Vec<AuditEvent>,
    page: u32,
    more: bool,
    query: String,
}

impl AuditPage {
    fn at(&self, ms: &i64) -> String {
        local_ms(self.zone, *ms)
    }

    fn utc(&self, ms: &i64) -> String {
        rfc3339(*ms)
    }
}

/// A date (`YYYY-MM-DD`, the whole UTC day) or an RFC 3339 time, as Unix ms; `end`: the
/// end of that day for a bare date.
fn parse_time(text: &str, end: bool) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Some(t.timestamp_millis()));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a date (YYYY-MM-DD) or RFC 3339 time"))?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis()))
}

fn audit_filter(query: &HashMap<String, String>) -> Result<AuditFilter, String> {
    let field = |name: &str| {
        query
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Ok(AuditFilter {
        user: field("user"),
        serial: field("serial").map(|s| {
            TokenSerial::parse(&s)
                .map(|s| s.as_str().to_owned())
                .unwrap_or(s)
        }),
        kind: field("kind"),
        from: parse_time(query.get("from").map_or("", String::as_str), false)
            .map_err(|e| format!("from: {e}"))?,
        to: parse_time(query.get("to").map_or("", String::as_str), true)
            .map_err(|e| format!("to: {e}"))?,
    })
}

fn filter_query(query: &HashMap<String, String>) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for name in ["user", "serial", "kind", "from", "to"] {
        if let Some(v) = query.get(name).filter(|v| !v.trim().is_empty()) {
            out.append_pair(name, v.trim());
        }
    }
    out.finish()
}

/// `GET /console/audit`: the service's audit trail, filtered, newest first.
pub async fn audit(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let service = match workspace(&state, &s, &lang, may_audit).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let t = lang.0;
    let mut c = Chrome::signed(t, &s, Some(&service.id));
    let page: u32 = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let (events, status) = match audit_filter(&query) {
        Ok(filter) => match actions::audit_page(
            &state,
            &service.id,
            &filter,
            (page - 1).saturating_mul(EVENTS_PER_PAGE),
            EVENTS_PER_PAGE + 1,
        )
        .await
        {
            Ok(events) => (events, StatusCode::OK),
            Err(e) => return e.into_response(),
        },
        Err(e) => {
            c = c.error(e);
            (Vec::new(), StatusCode::BAD_REQUEST)
        }
    };
    let more = events.len() > EVENTS_PER_PAGE as usize;
    let get = |name: &str| query.get(name).cloned().unwrap_or_default();
    render(
        status,
        &AuditPage {
            c,
            zone: zone_of(&service),
            user: get("user"),
            serial: get("serial"),
            from: get("from"),
            to: get("to"),
            kinds: AuditKind::ALL
                .iter()
                .map(|k| {
                    (
                        k.as_str(),
                        Some(&k.as_str().to_owned()) == query.get("kind"),
                    )
                })
                .collect(),
            events: events.into_iter().take(EVENTS_PER_PAGE as usize).collect(),
            page,
            more,
            query: filter_query(&query),
        },
        &lang,
    )
}

/// `GET /console/audit.csv`: the filtered trail as CSV, oldest first.
pub async fn audit_csv(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let service = match workspace(&state, &s, &lang, may_audit).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let filter = match audit_filter(&query) {
        Ok(f) => f,
        Err(e) => return ApiError::bad_request(e).into_response(),
    };
    let mut events =
        match actions::audit_page(&state, &service.id, &filter, 0, CSV_MAX_EVENTS).await {
            Ok(events) => events,
            Err(e) => return e.into_response(),
        };
    events.reverse();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"audit-{}.csv\"", service.id),
            ),
        ],
        super::csv::document(&events),
    )
        .into_response()
}

// --- admin -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/api_key.html")]
struct ApiKeyPage {
    c: Chrome,
    key: Option<String>,
}

/// `GET /console/api-key`.
pub async fn api_key_page(State(state): State<AppState>, lang: Lang, s: Signed) -> Response {
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    render(
        StatusCode::OK,
        &ApiKeyPage {
            c: Chrome::signed(lang.0, &s, Some(&service.id)),
            key: None,
        },
        &lang,
    )
}

/// `POST /console/api-key`: a new API key for the service, shown once.
pub async fn rotate_api_key(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s.0, &form.csrf, &lang) {
        return r;
    }
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let key = crate::auth::generate_key();
    if let Err(e) = state
        .store
        .set_service_key(&service.id, &crate::auth::hash_key(&key))
        .await
    {
        return ApiError::from(e).into_response();
    }
    crate::routes::audit(
        &state,
        NewAuditEvent::new(&service.id, AuditKind::ApiKeyRotated, "from the console").by(s.name()),
    )
    .await;
    render(
        StatusCode::OK,
        &ApiKeyPage {
            c: Chrome::signed(lang.0, &s, Some(&service.id)),
            key: Some(key.to_string()),
        },
        &lang,
    )
}

#[derive(Template)]
#[template(path = "console/operators.html")]
struct OperatorsPage {
    c: Chrome,
    operators: Vec<Operator>,
    self_name: String,
    new_password: Option<(String, String)>,
}

/// `GET /console/operators`: the service's operators, with add, disable and reset.
pub async fn operators(State(state): State<AppState>, lang: Lang, s: Signed) -> Response {
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let c = Chrome::signed(lang.0, &s, Some(&service.id));
    operators_view(&state, &lang, &service, c, StatusCode::OK, None).await
}

/// Shows a duration in the unit `service add` would be given it in.
fn duration_text(secs: u64) -> String {
    crate::policy::duration_text(secs)
}

#[derive(Template)]
#[template(path = "console/policy.html")]
struct PolicyPage {
    c: Chrome,
    digits: String,
    period: String,
    window: String,
    max_failures: String,
    cooldown: String,
    enrollment_ttl: String,
    tokens_per_user: String,
    shared_tokens: bool,
    /// What the form offers and its inputs' `min`/`max`: from the policy's one bounds table.
    b: FormBounds,
}

/// The policy form's choices and input limits, read from [`crate::policy::BOUNDS`] so that
/// the form offers only what the check accepts.
struct FormBounds {
    digits: Vec<String>,
    periods: Vec<String>,
    window: (u64, u64),
    max_failures: (u64, u64),
    tokens_per_user: (u64, u64),
    cooldown: String,
    enrollment_ttl: String,
}

impl FormBounds {
    fn new() -> Self {
        use crate::policy::{
            Allowed, Bound, COOLDOWN, DIGITS, ENROLLMENT_TTL, MAX_FAILURES, PERIOD,
            TOKENS_PER_USER, WINDOW,
        };
        let choices = |b: Bound| match b.allowed {
            Allowed::OneOf(values) => values.iter().map(u64::to_string).collect(),
            Allowed::Range(..) | Allowed::Duration(..) => Vec::new(),
        };
        let range = |b: Bound| (b.min(), b.max());
        FormBounds {
            digits: choices(DIGITS),
            periods: choices(PERIOD),
            window: range(WINDOW),
            max_failures: range(MAX_FAILURES),
            tokens_per_user: range(TOKENS_PER_USER),
            cooldown: COOLDOWN.range_text(""),
            enrollment_ttl: ENROLLMENT_TTL.range_text(""),
        }
    }
}

impl PolicyPage {
    fn is_period(&self, p: &str) -> bool {
        self.period == p
    }

    fn is_digits(&self, d: &str) -> bool {
        self.digits == d
    }

    fn of(c: Chrome, p: &crate::policy::Policy) -> Self {
        PolicyPage {
            c,
            digits: p.digits.map(|d| d.get().to_string()).unwrap_or_default(),
            period: p
                .period
                .map(|s| s.seconds().to_string())
                .unwrap_or_default(),
            window: p.window.to_string(),
            max_failures: p.max_failures.to_string(),
            cooldown: duration_text(p.cooldown_secs),
            enrollment_ttl: duration_text(p.enrollment_ttl_secs),
            tokens_per_user: p.tokens_per_user.to_string(),
            shared_tokens: p.shared_tokens,
            b: FormBounds::new(),
        }
    }

    /// The page again with what the operator typed, after a refusal.
    fn typed(c: Chrome, form: &PolicyForm) -> Self {
        PolicyPage {
            c,
            digits: form.digits.trim().to_owned(),
            period: form.period.trim().to_owned(),
            window: form.window.trim().to_owned(),
            max_failures: form.max_failures.trim().to_owned(),
            cooldown: form.cooldown.trim().to_owned(),
            enrollment_ttl: form.enrollment_ttl.trim().to_owned(),
            tokens_per_user: form.tokens_per_user.trim().to_owned(),
            shared_tokens: !form.shared_tokens.is_empty(),
            b: FormBounds::new(),
        }
    }
}

/// The policy form: the settings `service add` takes, as text.
#[derive(Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    digits: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    window: String,
    #[serde(default)]
    max_failures: String,
    #[serde(default)]
    cooldown: String,
    #[serde(default)]
    enrollment_ttl: String,
    #[serde(default)]
    tokens_per_user: String,
    #[serde(default)]
    shared_tokens: String,
    #[serde(default)]
    csrf: String,
}

impl PolicyForm {
    /// `current` with the form's settings, or the refusal naming the field and its range in
    /// the operator's language: a value that is not a number is refused the same way as
    /// one out of range, by [`crate::policy::Policy::validate`]'s bounds.
    fn apply(
        &self,
        t: &'static Texts,
        current: &crate::policy::Policy,
    ) -> Result<crate::policy::Policy, ApiError> {
        use crate::policy::{
            Bound, COOLDOWN, DIGITS, ENROLLMENT_TTL, MAX_FAILURES, PERIOD, TOKENS_PER_USER, WINDOW,
        };
        use softtoken_protocol::{Digits, Period};
        let refuse = |b: Bound| ApiError::invalid_field(out_of_bounds(t, b));
        let number = |b: Bound, text: &str| {
            text.trim()
                .parse::<u64>()
                .ok()
                .filter(|v| b.admits(*v))
                .ok_or_else(|| refuse(b))
        };
        let count = |b: Bound, text: &str| {
            number(b, text).and_then(|v| u32::try_from(v).map_err(|_| refuse(b)))
        };
        let digits = match self.digits.trim() {
            "" => None,
            d => Some(
                u32::try_from(number(DIGITS, d)?)
                    .ok()
                    .and_then(|d| Digits::try_from(d).ok())
                    .ok_or_else(|| refuse(DIGITS))?,
            ),
        };
        let period = match self.period.trim() {
            "" => None,
            p => Some(Period::new(number(PERIOD, p)?).map_err(|_| refuse(PERIOD))?),
        };
        let duration = |b: Bound, text: &str| {
            crate::policy::parse_duration(text)
                .ok()
                .filter(|v| b.admits(*v))
                .ok_or_else(|| refuse(b))
        };
        let policy = crate::policy::Policy {
            digits,
            period,
            window: count(WINDOW, &self.window)?,
            max_failures: count(MAX_FAILURES, &self.max_failures)?,
            cooldown_secs: duration(COOLDOWN, &self.cooldown)?,
            enrollment_ttl_secs: duration(ENROLLMENT_TTL, &self.enrollment_ttl)?,
            tokens_per_user: count(TOKENS_PER_USER, &self.tokens_per_user)?,
            shared_tokens: !self.shared_tokens.is_empty(),
            ..current.clone()
        };
        // The settings the form does not carry (e.g. a quota set before the bounds) are
        // checked too: the console saves nothing the rule refuses.
        policy.validate().map_err(|e| refuse(e.bound))?;
        Ok(policy)
    }
}

/// The console's words for a policy setting outside its bound: the field's label, its
/// name, and what it may be.
fn out_of_bounds(t: &'static Texts, b: crate::policy::Bound) -> String {
    let label = match b.field {
        "digits" => t.digits,
        "period" => t.period,
        "window" => t.window,
        "max_failures" => t.max_failures,
        "cooldown" => t.cooldown,
        "enrollment_ttl" => t.enrollment_ttl,
        "tokens_per_user" => t.tokens_per_user,
        other => other,
    };
    let pattern = match b.allowed {
        crate::policy::Allowed::OneOf(_) => t.policy_one_of,
        _ => t.policy_range,
    };
    pattern
        .replace("{label}", label)
        .replace("{field}", b.field)
        .replace("{range}", &b.range_text(t.or))
}

/// `GET /console/policy` (admin).
pub async fn policy_page(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let mut c = Chrome::signed(lang.0, &s, Some(&service.id));
    if query.get("done").map(String::as_str) == Some("saved") {
        c.notice = Some(lang.0.notice_policy.to_owned());
    }
    render(StatusCode::OK, &PolicyPage::of(c, &service.policy), &lang)
}

/// `POST /console/policy` (admin): the same checks as `service add`, audited.
pub async fn set_policy(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Form(form): Form<PolicyForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s.0, &form.csrf, &lang) {
        return r;
    }
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let outcome = match form.apply(lang.0, &service.policy) {
        Ok(policy) => actions::set_policy(&state, &service, policy, Actor::Operator(s.name()))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => see("/console/policy?done=saved"),
        Err(e) if e.status.is_server_error() => e.into_response(),
        Err(e) => {
            let c = Chrome::signed(lang.0, &s, Some(&service.id)).error(refusal(lang.0, &e));
            render(e.status, &PolicyPage::typed(c, &form), &lang)
        }
    }
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage {
    c: Chrome,
    report: Option<crate::import::ImportOutcome>,
}

/// `GET /console/import` (admin).
pub async fn import_page(State(state): State<AppState>, lang: Lang, s: Signed) -> Response {
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    render(
        StatusCode::OK,
        &ImportPage {
            c: Chrome::signed(lang.0, &s, Some(&service.id)),
            report: None,
        },
        &lang,
    )
}

/// Most bytes of an upload besides the file: the other fields and the multipart framing.
const IMPORT_FORM_SLACK: usize = 64 * 1024;

/// The body limit of `POST /console/import`: the bank API's import limit (8 MiB, the PSKC
/// document's own) plus the form around the file.
pub const MAX_IMPORT_UPLOAD: usize = crate::import::MAX_IMPORT_BODY + IMPORT_FORM_SLACK;

/// The PSKC upload (`multipart/form-data`): the file `pskc`, and what unlocks it.
#[derive(Default)]
pub struct ImportForm {
    pskc: Option<Zeroizing<Vec<u8>>>,
    password: Secret,
    preshared_key_hex: Secret,
    csrf: String,
}

/// A multipart field that could not be read (cut off, not text), naming it; an upload over
/// the limit names the file, whichever field the limit was reached in.
fn upload_refusal(field: &str, e: &axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            softtoken_protocol::problem::codes::PAYLOAD_TOO_LARGE,
            format!(
                "pskc: the upload is larger than {} MiB",
                crate::import::MAX_IMPORT_BODY / (1024 * 1024)
            ),
        )
    } else {
        ApiError::bad_request(format!("{field}: {}", e.body_text()))
    }
}

impl ImportForm {
    /// Reads every field of the upload (bounded by [`MAX_IMPORT_UPLOAD`]); nothing is
    /// judged here, so the CSRF check comes before anything else looks at the file.
    async fn read(
        multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
    ) -> Result<Self, ApiError> {
        let mut multipart = multipart.map_err(|_| {
            ApiError::bad_request("pskc: send the form as multipart/form-data with the file")
        })?;
        let mut form = ImportForm::default();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => return Ok(form),
                Err(e) => return Err(upload_refusal("pskc", &e)),
            };
            let name = field.name().unwrap_or_default().to_owned();
            let text = |r: Result<String, _>| r.map_err(|e| upload_refusal(&name, &e));
            match name.as_str() {
                "pskc" => {
                    let bytes = field.bytes().await.map_err(|e| upload_refusal(&name, &e))?;
                    form.pskc = Some(Zeroizing::new(bytes.to_vec()));
                }
                "password" => form.password = Secret(Zeroizing::new(text(field.text().await)?)),
                "preshared_key_hex" => {
                    form.preshared_key_hex = Secret(Zeroizing::new(text(field.text().await)?));
                }
                "csrf" => form.csrf = text(field.text().await)?,
                // Unknown fields are read past, not kept.
                _ => {}
            }
        }
    }
}

/// A form field left empty is not given.
fn given(field: &Secret) -> Option<&str> {
    Some(field.0.trim()).filter(|v| !v.is_empty())
}

/// The import page with a refusal (4xx) or the server error (5xx) as it is.
fn import_refused(c: Chrome, e: &ApiError, lang: &Lang) -> Response {
    if e.status.is_server_error() {
        return e.clone().into_response();
    }
    let c = c.error(refusal(lang.0, e));
    render(e.status, &ImportPage { c, report: None }, lang)
}

/// `POST /console/import` (admin): the uploaded file through the bank API's import; the
/// page shows its report. An unreadable or oversized upload, or one without the file, is
/// the import page with an error naming the field; a bad CSRF token is 403 before the file
/// is looked at.
pub async fn import(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let form = match ImportForm::read(multipart).await {
        Ok(form) => form,
        // Only an admin sees the import page, even one with its error.
        Err(_) if !may_admin(s.role()) => return forbidden(&s, &lang),
        Err(e) => {
            let c = Chrome::signed(lang.0, &s, s.0.session.service_id.as_ref());
            return import_refused(c, &e, &lang);
        }
    };
    if let Some(r) = csrf_refusal(&s.0, &form.csrf, &lang) {
        return r;
    }
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let outcome = match (
        form.pskc.filter(|d| !d.is_empty()),
        actions::pskc_key_source(
            given(&form.password).map(|_| form.password.0.as_str()),
            given(&form.preshared_key_hex),
        ),
    ) {
        (None, _) => Err(ApiError::bad_request("pskc: choose a PSKC file to upload")),
        (Some(_), Err(e)) => Err(e),
        (Some(document), Ok(source)) => {
            actions::import_pskc(
                &state,
                &service,
                document,
                source,
                Actor::Operator(s.name()),
            )
            .await
        }
    };
    let c = Chrome::signed(lang.0, &s, Some(&service.id));
    match outcome {
        Ok(report) => render(
            StatusCode::OK,
            &ImportPage {
                c,
                report: Some(report),
            },
            &lang,
        ),
        Err(e) => import_refused(c, &e, &lang),
    }
}

// --- operators of the admin's service -----------------------------------------------------

/// The operator `name` of the service the admin works on; 404 for any other (another
/// service's, or a superuser).
async fn own_operator(
    state: &AppState,
    service: &Service,
    name: &str,
) -> Result<Operator, ApiError> {
    match state.store.operator_named(name).await? {
        Some(o) if o.service_id.as_ref() == Some(&service.id) => Ok(o),
        _ => Err(ApiError::not_found(format!(
            "no operator '{name}' in service '{}'",
            service.id
        ))),
    }
}

async fn operators_view(
    state: &AppState,
    lang: &Lang,
    service: &Service,
    c: Chrome,
    status: StatusCode,
    new_password: Option<(String, String)>,
) -> Response {
    let self_name = c.who.as_ref().map(|w| w.name.clone()).unwrap_or_default();
    match state.store.operators(Some(&service.id)).await {
        Ok(operators) => render(
            status,
            &OperatorsPage {
                c,
                operators,
                self_name,
                new_password,
            },
            lang,
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The operators page after an admin's action: with the new password shown once (add,
/// reset) or the page's notice on success, with the refusal on the page otherwise; a server
/// error stays a problem document.
async fn operators_after(
    state: &AppState,
    lang: &Lang,
    service: &Service,
    c: Chrome,
    outcome: Result<Option<(String, String)>, ApiError>,
) -> Response {
    match outcome {
        Ok(new_password) => {
            operators_view(state, lang, service, c, StatusCode::OK, new_password).await
        }
        Err(e) if e.status.is_server_error() => e.into_response(),
        Err(e) => {
            let status = e.status;
            let c = c.error(refusal(lang.0, &e));
            operators_view(state, lang, service, c, status, None).await
        }
    }
}

/// The add-operator form.
#[derive(Deserialize)]
pub struct OperatorForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/operators` (admin): an operator of this service with a generated
/// password, shown once. No superuser from here.
pub async fn add_operator(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Form(form): Form<OperatorForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s.0, &form.csrf, &lang) {
        return r;
    }
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let name = form.name.trim().to_owned();
    let outcome = async {
        let role = match OperatorRole::parse(form.role.trim()) {
            Some(r @ (OperatorRole::Helpdesk | OperatorRole::Admin | OperatorRole::Auditor)) => r,
            _ => {
                return Err(ApiError::invalid_field("role: helpdesk, admin or auditor"));
            }
        };
        let secret = password::generate_password();
        let hash = hash_password(secret.clone()).await?;
        let (_, signs_in_as) = actions::add_operator(
            state.store.as_ref(),
            Some(&service.id),
            &name,
            role,
            hash,
            Actor::Operator(s.name()),
            state.now(),
        )
        .await?;
        Ok((signs_in_as, secret))
    }
    .await;
    let c = Chrome::signed(lang.0, &s, Some(&service.id));
    let outcome = outcome.map(|(signs_in_as, secret)| Some((signs_in_as, secret.to_string())));
    operators_after(&state, &lang, &service, c, outcome).await
}

async fn hash_password(secret: Zeroizing<String>) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// `POST /console/operators/{name}/disable` (admin, own service only).
pub async fn disable_operator(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s.0, &form.csrf, &lang) {
        return r;
    }
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let outcome = async {
        if name == s.name() {
            return Err(ApiError::invalid_field("name: not your own account"));
        }
        let operator = own_operator(&state, &service, &name).await?;
        actions::disable_operator(
            state.store.as_ref(),
            &operator,
            Actor::Operator(s.name()),
            state.now(),
        )
        .await
    }
    .await;
    let mut c = Chrome::signed(lang.0, &s, Some(&service.id));
    if outcome.is_ok() {
        c.notice = Some(lang.0.notice_operator_disabled.to_owned());
    }
    operators_after(&state, &lang, &service, c, outcome.map(|()| None)).await
}

/// `POST /console/operators/{name}/reset-password` (admin, own service only): a generated
/// password shown once; their lockout cleared and sessions ended.
pub async fn reset_operator_password(
    State(state): State<AppState>,
    lang: Lang,
    s: Signed,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = csrf_refusal(&s.0, &form.csrf, &lang) {
        return r;
    }
    let service = match workspace(&state, &s, &lang, may_admin).await {
        Ok(service) => service,
        Err(r) => return r,
    };
    let outcome = async {
        if name == s.name() {
            return Err(ApiError::invalid_field("name: not your own account"));
        }
        let operator = own_operator(&state, &service, &name).await?;
        let secret = password::generate_password();
        let hash = hash_password(secret.clone()).await?;
        actions::reset_operator_password(
            state.store.as_ref(),
            &operator,
            &hash,
            Actor::Operator(s.name()),
            state.now(),
        )
        .await?;
        Ok(secret)
    }
    .await;
    let c = Chrome::signed(lang.0, &s, Some(&service.id));
    let outcome = outcome.map(|secret| Some((name, secret.to_string())));
    operators_after(&state, &lang, &service, c, outcome).await
}
