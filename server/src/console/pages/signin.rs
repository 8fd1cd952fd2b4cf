//! Signing in: the password and the operator's own code, the first enrolment of that
//! token, signing out, and a superuser's choice of the service to work on.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use softtoken_protocol::ServiceId;
use zeroize::Zeroizing;

use super::{
    Chrome, CsrfForm, Lang, Secret, bad_csrf, csrf_refusal, forbidden, local_hh_mm, message,
    not_found, qr_data_uri, render, see, zone_of,
};
use crate::AppState;
use crate::console::gate::Lane;
use crate::console::password;
use crate::console::session::{self, AnySession, LIMITS, LOGIN_COOKIE, SESSION_COOKIE, Signed};
use crate::console::text::Texts;
use crate::error::{ApiError, ServiceError};
use crate::routes::enrollments::{EnrollmentRequest, EnrollmentResponse, StartPassword};
use softtoken_service::actions::{self, Actor};
use softtoken_service::console_sessions::{self, Ending};
use softtoken_service::otp_check::Code;
use softtoken_service::queries;
use softtoken_service::verification::{Outcome, Purpose};
use softtoken_store::audit::{SignInFailure, SignInStep};
use softtoken_store::console::{Operator, OperatorFailure, OperatorRole, SessionStage};
use softtoken_store::{Service, StoreError, TokenState};

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
    let lane = if crate::console::device::recognised(&state, &headers, form.name.trim()) {
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
            message: e.0.detail,
            tries_left: None,
        }
    }
}

impl From<StoreError> for SignInRefusal {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<ServiceError> for SignInRefusal {
    fn from(e: ServiceError) -> Self {
        ApiError(e).into()
    }
}

/// The console's own service (the operators' tokens).
async fn console_service(state: &AppState) -> Result<Service, ApiError> {
    let sid = ServiceId::new(crate::console::CONSOLE_SERVICE).map_err(ApiError::internal)?;
    crate::routes::service(state, &sid).await
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
    let operator = console_sessions::operator_named(state, form.name.trim()).await?;
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
            crate::console::gate::RETRY_AFTER_SECS,
        ));
    };
    let console = console_service(state).await?;
    let max = console.policy.max_failures;
    let Some(operator) = operator else {
        // The same reads and writes as a known name's wrong password (issue 22): the time
        // of the answer does not tell which names exist.
        console_sessions::count_failure(state, None, max, SignInFailure::UnknownName).await?;
        crate::metrics::console_sign_in_failed(false);
        return Err(wrong());
    };
    if !password_ok {
        // Counted towards the back-off (a try while locked is recorded, not counted), but
        // not shown: see `wrong`. Never ends a live session: only an administrator's
        // decision (disable, password reset) does.
        let detail = if operator.disabled {
            SignInFailure::WrongPasswordDisabled
        } else if operator.locked_until_at(state.now()).is_some() {
            SignInFailure::WrongPasswordLocked
        } else {
            SignInFailure::WrongPassword
        };
        let counted = console_sessions::count_failure(state, Some(&operator), max, detail).await?;
        crate::metrics::console_sign_in_failed(counted.newly_locked);
        return Err(wrong());
    }
    // The password is proven: from here on, the answer may say why.
    if operator.disabled {
        console_sessions::refuse(state, &operator, SignInFailure::Disabled).await?;
        return Err(wrong());
    }
    if let Some(until) = operator.locked_until_at(state.now()) {
        console_sessions::refuse(state, &operator, SignInFailure::RightPasswordLocked).await?;
        return Err(locked_until_refusal(state, t, &operator, until).await);
    }
    let token_user = operator.token_user()?;
    let user = queries::user(state, &console.id, &token_user).await?;
    if operator.locked || user.as_ref().is_some_and(|u| u.locked) {
        console_sessions::refuse(state, &operator, SignInFailure::Locked).await?;
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
        console_sessions::begin(
            state,
            &session::id_hash(&id),
            &operator,
            SessionStage::Enroll,
            SignInStep::EnrollingOwnToken,
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
        let counted =
            console_sessions::count_failure(state, Some(&operator), max, SignInFailure::WrongCode)
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
    console_sessions::begin(
        state,
        &session::id_hash(&id),
        &operator,
        SessionStage::Full,
        SignInStep::PasswordAndCode,
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
            .map_or(softtoken_store::night_cutoff::DEFAULT_ZONE, |s| zone_of(&s)),
        None => softtoken_store::night_cutoff::DEFAULT_ZONE,
    };
    SignInRefusal {
        message: t
            .err_locked_until
            .replace("{time}", &local_hh_mm(zone, until)),
        tries_left: None,
    }
}

fn set_session_cookie(state: &AppState, response: &mut Response, id: &str) {
    let cookie = session::set_cookie(state, SESSION_COOKIE, id, LIMITS.absolute_ms / 1000);
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Makes this browser a known device of `operator` (after a full sign-in only).
fn set_device_cookie(state: &AppState, response: &mut Response, operator: &str) {
    if let Ok(value) = crate::console::device::cookie_for(state, operator).parse() {
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
        (Ok(console), Ok(user)) => {
            softtoken_service::qr::activation_uri(&state.public_url, &console.id, &user)
        }
        (Err(e), _) => return e.into_response(),
        (_, Err(e)) => return ApiError::from(e).into_response(),
    };
    let qr = softtoken_service::qr::svg(&uri)
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
                if let Err(e) = console_sessions::end(
                    &state,
                    &s.id_hash,
                    &s.session.operator,
                    Ending::LockedWhileEnrolling,
                )
                .await
                {
                    return ApiError(e).into_response();
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
    let wrong = SignInFailure::WrongFirstCode;
    let Some(code) = Code::parse(otp.trim()) else {
        let counted = console_sessions::count_failure(state, Some(operator), max, wrong).await?;
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
        console_sessions::confirm_own_token(state, &s.id_hash, operator).await?;
        return Ok(None);
    }
    let counted = console_sessions::count_failure(state, Some(operator), max, wrong).await?;
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
    if let Err(e) =
        console_sessions::end(&state, &s.id_hash, &s.session.operator, Ending::SignedOut).await
    {
        return ApiError(e).into_response();
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
    match queries::services(&state).await {
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
    if sid.as_str() == crate::console::CONSOLE_SERVICE {
        return forbidden(&s, &lang);
    }
    if let Err(e) = crate::routes::service(&state, &sid).await {
        return e.into_response();
    }
    match console_sessions::pick_service(&state, &s.0.id_hash, &sid).await {
        Ok(()) => see("/console/users"),
        Err(e) => ApiError(e).into_response(),
    }
}
