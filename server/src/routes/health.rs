//! `GET /healthz` and `GET /readyz`, for load balancers and orchestrators: no key, no rate
//! limit. `healthz` says the process answers; `readyz` that it can do its work now: the
//! database answers, its schema is the one this build expects, and the master key seals
//! and opens.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use softtoken_protocol::Problem;
use softtoken_protocol::problem::codes;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Json};
use softtoken_service::crypto::Bound;
use softtoken_service::queries;
use softtoken_store::MigrationStatus;

/// The longest `/readyz` waits for the database: a database that does not answer by then
/// is as good as gone for the requests behind it.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(5);

/// The process is up.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// Every readiness check passed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// Always `ok`.
    pub status: String,
    /// The database answered: `ok`.
    pub database: String,
    /// The applied migrations are this build's: `current`.
    pub migrations: String,
    /// The master key sealed and opened a value: `ok`.
    pub master_key: String,
}

/// Whether the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Whether the server can serve: database, migrations, master key.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "unavailable: a check failed; the detail names which", body = Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    let unready = |detail: String| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            format!("not ready: {detail}"),
        )
    };
    let status =
        match tokio::time::timeout(DATABASE_TIMEOUT, queries::migration_status(&state)).await {
            Err(_) => {
                return Err(unready(format!(
                    "database: no answer within {} s",
                    DATABASE_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => return Err(unready(format!("database: {e}"))),
            Ok(Ok(status)) => status,
        };
    if status != MigrationStatus::Current {
        return Err(unready(format!("migrations: {status}")));
    }
    let probe = Bound::Session { session: "readyz" };
    let sealed = state.key.seal(b"readyz", probe);
    match state
        .key
        .open(&sealed, Bound::Session { session: "readyz" })
    {
        Ok(opened) if opened.as_slice() == b"readyz" => {}
        Ok(_) => return Err(unready("master key: a sealed value opened wrong".into())),
        Err(e) => return Err(unready(format!("master key: {e}"))),
    }
    Ok(Json(Readiness {
        status: "ok".into(),
        database: "ok".into(),
        migrations: status.to_string(),
        master_key: "ok".into(),
    }))
}
