//! `POST /v1/activation/start` and `/finish`: activation by start password
//! (DESIGN.md §5), the server's side of the SPAKE2 exchange in `protocol::activation`.
//!
//! A start is a guess of the start password only once the app's message has been
//! answered: a malformed message is refused before anything is counted, so nobody can
//! lock a customer's enrollment with garbage. Every counted guess is audited with the
//! client's address. An unknown service, an unknown user, a user without an open
//! enrollment and a user in a revocation cool-down all get the same answer, so the app
//! API tells nobody which customers exist. The session key waits for finish sealed in the
//! database, so start and finish may hit different instances.

use axum::Extension;
use axum::extract::State;
use softtoken_protocol::Problem;
use softtoken_protocol::activation::{FinishRequest, FinishResponse, StartRequest, StartResponse};
use softtoken_service::activation;

use crate::AppState;
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, Json};
use crate::metrics::Stage;
use softtoken_store::StoreError;

/// Starts an activation: answers the app's SPAKE2 message.
#[utoipa::path(post, path = "/v1/activation/start", tag = "app",
    request_body = StartRequest,
    responses(
        (status = 200, body = StartResponse),
        (status = 403, description = "enrollment_locked", body = Problem),
        (status = 404, description = "enrollment_not_found: no open enrollment for this service and user (or no such service or user)", body = Problem),
        (status = 410, description = "enrollment_expired", body = Problem)))]
pub async fn start(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    Json(request): Json<StartRequest>,
) -> Result<Json<StartResponse>, ApiError> {
    let started = answer_start(&state, client, &request).await;
    count(Stage::Start, &started);
    started
}

/// Counts a start or finish the handler answered in the metrics, failed by its problem code.
fn count<T>(stage: Stage, answer: &Result<T, ApiError>) {
    crate::metrics::activation(stage, answer.as_ref().err().map(|e| e.code));
}

async fn answer_start(
    state: &AppState,
    client: ClientAddr,
    request: &StartRequest,
) -> Result<Json<StartResponse>, ApiError> {
    let sid = &request.service_id;
    let uid = &request.user_id;
    // Only a service that exists gets a per-user bucket, so made-up services cannot fill
    // the limiter's memory; it answers like a user without an enrollment.
    if state.service(sid).await?.is_none() {
        return Err(StoreError::EnrollmentNotFound.into());
    }
    state
        .user_limit
        .check(&format!("{sid}/{uid}"), state.now())?;
    let started = activation::start(state, request, &client.0.to_string()).await?;
    Ok(Json(started))
}

/// Finishes an activation: checks the app's confirmation and issues the token as pending.
#[utoipa::path(post, path = "/v1/activation/finish", tag = "app",
    request_body = FinishRequest,
    responses(
        (status = 200, body = FinishResponse),
        (status = 400, description = "confirmation_failed: wrong start password", body = Problem),
        (status = 404, description = "enrollment_not_found: replaced, used or ended by a revocation meanwhile", body = Problem),
        (status = 409, description = "serial_taken", body = Problem),
        (status = 410, description = "session_expired", body = Problem)))]
pub async fn finish(
    State(state): State<AppState>,
    Json(request): Json<FinishRequest>,
) -> Result<Json<FinishResponse>, ApiError> {
    let finished = answer_finish(&state, &request).await;
    count(Stage::Finish, &finished);
    finished
}

async fn answer_finish(
    state: &AppState,
    request: &FinishRequest,
) -> Result<Json<FinishResponse>, ApiError> {
    Ok(Json(activation::finish(state, request).await?))
}
