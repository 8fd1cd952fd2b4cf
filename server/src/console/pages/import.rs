//! The PSKC import page: the upload, read whole before it is judged, through the bank
//! API's import.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use zeroize::Zeroizing;

use super::{Chrome, Lang, Secret, csrf_refusal, forbidden, may_admin, refusal, render, workspace};
use crate::AppState;
use crate::console::session::Signed;
use crate::error::ApiError;
use softtoken_service::actions::{self, Actor};

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage {
    c: Chrome,
    report: Option<softtoken_service::import::ImportOutcome>,
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
pub const MAX_IMPORT_UPLOAD: usize = softtoken_service::import::MAX_IMPORT_BODY + IMPORT_FORM_SLACK;

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
                softtoken_service::import::MAX_IMPORT_BODY / (1024 * 1024)
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
        (Some(_), Err(e)) => Err(ApiError(e)),
        (Some(document), Ok(source)) => actions::import_pskc(
            &state,
            &service,
            document,
            source,
            Actor::Operator(s.name()),
        )
        .await
        .map_err(ApiError),
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
