//! Registration mode's provisioning (DESIGN.md §6): the server's side of the X25519
//! exchange in `protocol::provisioning`, with a serial of the server's choosing. The token
//! stays unassigned until the bank registers serial + code to a user.
//!
//! The call is open to anyone (rate-limited per client by the server), so what it may
//! store is bounded: each service has a quota of provisioned tokens waiting for
//! registration, and a provisioning writes no audit row of its own; [`ProvisionedCounts`]
//! sums them up in one `tokens_provisioned` event per service every few minutes (each
//! summary its own commit).

use std::collections::HashMap;
use std::sync::Mutex;

use softtoken_protocol::provisioning::{ProvisioningRequest, ProvisioningResponse, server_respond};
use softtoken_protocol::wire::B64;
use softtoken_protocol::{IssuedToken, Serial, ServiceId};

use crate::Context;
use crate::audit::AuditKind;
use crate::crypto::Bound;
use crate::error::ServiceError;
use crate::policy::UNASSIGNED_TTL_MS;
use crate::store::{NewAuditEvent, Service, Store, StoreError, Token, TokenState};

/// Creates an unassigned token of `service` for the app's request, counted in `counts`.
pub async fn provision(
    state: &Context,
    service: &Service,
    request: &ProvisioningRequest,
    counts: &ProvisionedCounts,
) -> Result<ProvisioningResponse, ServiceError> {
    let now = state.now();
    let params = service.policy.registration_params();
    let quota = service.policy.unassigned_quota;
    // 40 random bits: a taken pick is rare, two in a row rarer than a broken RNG.
    let mut attempt = 1;
    let (serial, public_key, key) = loop {
        let serial = Serial::generate();
        let (public_key, key) = server_respond(request, &serial)?;
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
    counts.count(&service.id);
    let issued = IssuedToken {
        issuer: service.name.clone(),
        params,
        server_unix_ms: now,
    };
    let mac = key.token_mac(&serial, &issued);
    Ok(ProvisioningResponse {
        serial,
        public_key: B64(public_key.to_vec()),
        token: issued,
        mac: B64(mac.to_vec()),
    })
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
                crate::audit::Detail::TokensProvisioned { count: n },
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
