//! An administrator's pages: the service's API key, its operators and its policy.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{Chrome, CsrfForm, Lang, csrf_refusal, may_admin, refusal, render, see, workspace};
use crate::AppState;
use crate::console::password;
use crate::console::session::Signed;
use crate::console::text::Texts;
use crate::error::ApiError;
use softtoken_service::actions::{self, Actor};
use softtoken_service::{console_sessions, queries};
use softtoken_store::Service;
use softtoken_store::console::{Operator, OperatorRole};

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
    if let Err(e) = softtoken_service::actions::set_api_key(
        state.store.as_ref(),
        &service.id,
        &crate::auth::hash_key(&key),
        softtoken_store::audit::KeySource::Console,
        Actor::Operator(s.name()),
        state.now(),
    )
    .await
    {
        return ApiError::from(e).into_response();
    }
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
    softtoken_store::policy::duration_text(secs)
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
    /// The night cut-off window (`20:50-08:10`), empty for none.
    night_cutoff: String,
    /// Its time zone (IANA name).
    night_zone: String,
    /// What the form offers and its inputs' `min`/`max`: from the policy's one bounds table.
    b: FormBounds,
}

/// The policy form's choices and input limits, read from [`softtoken_store::policy::BOUNDS`] so that
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
        use softtoken_store::policy::{
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

    fn of(c: Chrome, p: &softtoken_store::policy::Policy) -> Self {
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
            night_cutoff: p.night_cutoff.map(|n| n.window()).unwrap_or_default(),
            night_zone: p
                .night_cutoff
                .map_or(softtoken_store::night_cutoff::DEFAULT_ZONE.name(), |n| {
                    n.zone_name()
                })
                .to_owned(),
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
            night_cutoff: form.night_cutoff.trim().to_owned(),
            night_zone: form.night_cutoff_zone.trim().to_owned(),
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
    night_cutoff: String,
    #[serde(default)]
    night_cutoff_zone: String,
    #[serde(default)]
    csrf: String,
}

impl PolicyForm {
    /// `current` with the form's settings, or the refusal naming the field and its range in
    /// the operator's language: a value that is not a number is refused the same way as
    /// one out of range, by [`softtoken_store::policy::Policy::validate`]'s bounds.
    fn apply(
        &self,
        t: &'static Texts,
        current: &softtoken_store::policy::Policy,
    ) -> Result<softtoken_store::policy::Policy, ApiError> {
        use softtoken_protocol::{Digits, Period};
        use softtoken_store::policy::{
            Bound, COOLDOWN, DIGITS, ENROLLMENT_TTL, MAX_FAILURES, PERIOD, TOKENS_PER_USER, WINDOW,
        };
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
            softtoken_store::policy::parse_duration(text)
                .ok()
                .filter(|v| b.admits(*v))
                .ok_or_else(|| refuse(b))
        };
        // The night cut-off: a window in a zone (Japan's when the zone is left empty), or
        // none when the window is empty.
        let night_cutoff = match self.night_cutoff.trim() {
            "" => None,
            window => {
                let zone = match self.night_cutoff_zone.trim() {
                    "" => softtoken_store::night_cutoff::DEFAULT_ZONE.name(),
                    zone => zone,
                };
                Some(
                    softtoken_store::night_cutoff::NightCutoff::parse(window, zone).map_err(
                        |_| {
                            ApiError::invalid_field(
                                t.night_cutoff_invalid.replace("{label}", t.night_cutoff),
                            )
                        },
                    )?,
                )
            }
        };
        let policy = softtoken_store::policy::Policy {
            night_cutoff,
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
fn out_of_bounds(t: &'static Texts, b: softtoken_store::policy::Bound) -> String {
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
        softtoken_store::policy::Allowed::OneOf(_) => t.policy_one_of,
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
            .map(|_| ())
            .map_err(ApiError),
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

// --- operators of the admin's service -----------------------------------------------------

/// The operator `name` of the service the admin works on; 404 for any other (another
/// service's, or a superuser).
async fn own_operator(
    state: &AppState,
    service: &Service,
    name: &str,
) -> Result<Operator, ApiError> {
    match console_sessions::operator_named(state, name).await? {
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
    match queries::operators(state, Some(&service.id)).await {
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
            &state,
            Some(&service.id),
            &name,
            role,
            hash,
            Actor::Operator(s.name()),
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
        actions::disable_operator(&state, &operator, Actor::Operator(s.name()))
            .await
            .map_err(ApiError)
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
        actions::reset_operator_password(&state, &operator, &hash, Actor::Operator(s.name()))
            .await?;
        Ok(secret)
    }
    .await;
    let c = Chrome::signed(lang.0, &s, Some(&service.id));
    let outcome = outcome.map(|secret| Some((name, secret.to_string())));
    operators_after(&state, &lang, &service, c, outcome).await
}
