//! The audit trail: filtered, paged, and exported as CSV.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{
    CSV_MAX_EVENTS, Chrome, EVENTS_PER_PAGE, Lang, local_ms, may_audit, render, workspace, zone_of,
};
use crate::AppState;
use crate::console::session::Signed;
use crate::error::ApiError;
use crate::routes::rfc3339;
use softtoken_service::actions::{self};
use softtoken_store::AuditEvent;
use softtoken_store::audit::AuditKind;
use softtoken_store::console::AuditFilter;
use softtoken_store::serial::TokenSerial;

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
            Err(e) => return ApiError(e).into_response(),
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
            Err(e) => return ApiError(e).into_response(),
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
        crate::console::csv::document(&events),
    )
        .into_response()
}
