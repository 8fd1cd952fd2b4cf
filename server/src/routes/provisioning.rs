//! `POST /v1/provisioning`: registration mode (DESIGN.md §6), the server's side of the
//! X25519 exchange in `protocol::provisioning`. The token stays unassigned until the
//! bank registers serial + code to a user.
//!
//! The server picks the serial: an open endpoint that stored the caller's pick would have
//! to refuse a serial some service holds, and so tell anyone which serials exist (which the
//! status API hides). The reserved console service answers as an unknown one.
//!
//! The call is open to anyone (rate-limited per client), so what it may store is
//! bounded: each service has a quota of provisioned tokens waiting for registration, and
//! provisioning writes no audit row of its own; [`ProvisionedCounts`] sums it up in one
//! `tokens_provisioned` event per service every few minutes.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::State;
use softtoken_protocol::provisioning::{ProvisioningRequest, ProvisioningResponse, server_respond};
use softtoken_protocol::wire::B64;
use softtoken_protocol::{IssuedToken, Serial, ServiceId};

use softtoken_protocol::Problem;

use crate::AppState;
use crate::audit::AuditKind;
use crate::crypto::Bound;
use crate::error::{ApiError, Json};
use crate::policy::UNASSIGNED_TTL_MS;
use crate::routes::{service, unknown_service};
use crate::store::console::CONSOLE_SERVICE;
use crate::store::{NewAuditEvent, Store, StoreError, Token, TokenState};

/// Creates an unassigned token with a serial of the server's choosing.
#[utoipa::path(post, path = "/v1/provisioning", tag = "app",
    request_body = ProvisioningRequest,
    responses(
        (status = 200, body = ProvisioningResponse),
        (status = 404, description = "unknown_service (the reserved `_console` service too)", body = Problem),
        (status = 503, description = "provisioning_full: the service's quota of unregistered tokens is reached", body = Problem)))]
pub async fn provision(
    State(state): State<AppState>,
    Json(request): Json<ProvisioningRequest>,
) -> Result<Json<ProvisioningResponse>, ApiError> {
    let now = state.now();
    if request.service_id.as_str() == CONSOLE_SERVICE {
        return Err(unknown_service(&request.service_id));
    }
    let service = service(&state, &request.service_id).await?;
    let params = service.policy.registration_params();
    let quota = service.policy.unassigned_quota;
    // 40 random bits: a taken pick is rare, two in a row rarer than a broken RNG.
    let mut attempt = 1;
    let (serial, public_key, key) = loop {
        let serial = Serial::generate();
        let (public_key, key) = server_respond(&request, &serial)?;
        let seed = key.seed(&serial, params.algorithm);
        let mut token = Token::new(
            service.id.clone(),
            serial.clone().into(),
            TokenState::Unassigned,
            params,
            state.key.seal(
                &seed,
                Bound::Seed {
                    service: service.id.as_str(),
                    serial: serial.as_str(),
                },
            ),
            now,
        );
        token.expires_at = Some(now + UNASSIGNED_TTL_MS);
        match state.store.add_provisioned_token(&token, quota).await {
            Ok(()) => break (serial, public_key, key),
            Err(StoreError::SerialTaken) if attempt < SERIAL_ATTEMPTS => attempt += 1,
            Err(e @ StoreError::ProvisioningFull { .. }) => {
                tracing::warn!(
                    service = %service.id,
                    quota,
                    "provisioning refused: the service's quota of unregistered tokens is reached"
                );
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
    };
    state.provisioned.count(&service.id);
    let issued = IssuedToken {
        issuer: service.name,
        params,
        server_unix_ms: now,
    };
    let mac = key.token_mac(&serial, &issued);
    Ok(Json(ProvisioningResponse {
        serial,
        public_key: B64(public_key.to_vec()),
        token: issued,
        mac: B64(mac.to_vec()),
    }))
}

/// Serials the server tries before it gives up on a provisioning (a 500: with 40 random
/// bits, three taken picks in a row mean the generator is broken, not the store full).
const SERIAL_ATTEMPTS: u32 = 3;

/// Tokens this instance provisioned per service since the last summary.
#[derive(Debug, Default)]
pub struct ProvisionedCounts(Mutex<HashMap<ServiceId, u64>>);

impl ProvisionedCounts {
    fn count(&self, service: &ServiceId) {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry(service.clone()).or_default() += 1;
    }

    /// Records one `tokens_provisioned` event per service that provisioned any since the
    /// last call. Counts that could not be written are kept for the next call.
    pub async fn flush(&self, store: &dyn Store, now: i64) {
        let counts = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        for (service, n) in counts {
            let event = NewAuditEvent::new(
                &service,
                AuditKind::TokensProvisioned,
                format!("{n} provisioned since the last summary"),
            );
            if let Err(e) = store.audit(&event, now).await {
                tracing::warn!(error = %e, %service, "could not record a provisioning summary");
                *self
                    .0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(service)
                    .or_default() += n;
            }
        }
    }
}
