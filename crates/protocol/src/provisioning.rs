//! Provisioning for registration mode (DESIGN.md §6): ephemeral X25519.
//!
//! The app sends an ephemeral X25519 key; the server picks the token's serial (so the
//! open endpoint never says whether a serial the caller chose exists anywhere) and both
//! sides derive the seed from the ECDH secret, bound to that serial, so the seed never
//! crosses the wire. The token is then
//! `unassigned` until the bank registers serial + code to a user, which is what
//! binds it to a person: TLS protects this exchange, the registration step
//! proves the customer holds the token.

use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use x25519_dalek::{EphemeralSecret, PublicKey};
use zeroize::Zeroizing;

use crate::ids::ServiceId;
use crate::serial::Serial;
use crate::session::{IssuedToken, ProtocolError, SessionKey};
use crate::wire::{B64, Transcript};

const LABEL: &str = "softtoken/provisioning/v1";

/// `POST /v1/provisioning`.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningRequest {
    /// The service to create the token in.
    pub service_id: ServiceId,
    /// The app's ephemeral X25519 public key (32 bytes).
    pub public_key: B64,
}

/// The answer to [`ProvisioningRequest`].
// No `deny_unknown_fields`: serde does not support it together with `flatten` (every
// answer failed to parse with "unknown field `issuer`").
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningResponse {
    /// The serial the server gave the token (bound into the session key and the MAC).
    pub serial: Serial,
    /// The server's ephemeral X25519 public key (32 bytes).
    pub public_key: B64,
    /// Issuer, OTP parameters and server time.
    #[serde(flatten)]
    pub token: IssuedToken,
    /// [`SessionKey::token_mac`] over the serial and `token`.
    pub mac: B64,
}

fn public_key(bytes: &[u8]) -> Result<PublicKey, ProtocolError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ProtocolError::BadMessage("X25519 key must be 32 bytes"))?;
    Ok(PublicKey::from(array))
}

fn session(
    secret: EphemeralSecret,
    peer: &PublicKey,
    service: &ServiceId,
    serial: &Serial,
    app_key: &[u8; 32],
    server_key: &[u8; 32],
) -> Result<SessionKey, ProtocolError> {
    let shared = secret.diffie_hellman(peer);
    // A low-order peer key forces a known shared secret; refuse it.
    if !shared.was_contributory() {
        return Err(ProtocolError::BadMessage("X25519 key of low order"));
    }
    let mut t = Transcript::new(LABEL);
    t.push(service.as_str().as_bytes())
        .push(serial.as_str().as_bytes())
        .push(app_key)
        .push(server_key);
    Ok(SessionKey::new(
        Zeroizing::new(shared.as_bytes().to_vec()),
        t.finish(),
    ))
}

/// The app's side between request and response.
pub struct AppProvisioning {
    secret: EphemeralSecret,
    public: PublicKey,
    service: ServiceId,
}

impl std::fmt::Debug for AppProvisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppProvisioning")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl AppProvisioning {
    /// Starts provisioning a token in `service`.
    pub fn start(service: ServiceId) -> (Self, ProvisioningRequest) {
        let secret = EphemeralSecret::random_from_rng(OsRng);
        let public = PublicKey::from(&secret);
        let request = ProvisioningRequest {
            service_id: service.clone(),
            public_key: B64(public.as_bytes().to_vec()),
        };
        (
            AppProvisioning {
                secret,
                public,
                service,
            },
            request,
        )
    }

    /// Checks the server's answer and returns the token's serial (the server's pick) and
    /// the session key to derive the seed from.
    pub fn finish(
        self,
        response: &ProvisioningResponse,
    ) -> Result<(Serial, SessionKey), ProtocolError> {
        let server = public_key(&response.public_key.0)?;
        let serial = &response.serial;
        let key = session(
            self.secret,
            &server,
            &self.service,
            serial,
            self.public.as_bytes(),
            server.as_bytes(),
        )?;
        key.check_token_mac(serial, &response.token, &response.mac.0)?;
        Ok((serial.clone(), key))
    }
}

/// The server's side: its public key and the session key for `request`, for the token
/// `serial` the server picked. A server whose pick is taken picks again and calls this
/// again: the app's key can be answered any number of times.
pub fn server_respond(
    request: &ProvisioningRequest,
    serial: &Serial,
) -> Result<([u8; 32], SessionKey), ProtocolError> {
    let app = public_key(&request.public_key.0)?;
    let secret = EphemeralSecret::random_from_rng(OsRng);
    let public = PublicKey::from(&secret);
    let key = session(
        secret,
        &app,
        &request.service_id,
        serial,
        app.as_bytes(),
        public.as_bytes(),
    )?;
    Ok((*public.as_bytes(), key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::{Algorithm, OtpParams};

    #[test]
    fn both_sides_derive_the_same_seed() {
        let service = ServiceId::new("bank").unwrap();
        let serial = Serial::generate();
        let (app, request) = AppProvisioning::start(service);
        let (public, server_key) = server_respond(&request, &serial).unwrap();
        let token = IssuedToken {
            issuer: "Bank".into(),
            params: OtpParams::REGISTRATION,
            server_unix_ms: 5,
        };
        let response = ProvisioningResponse {
            serial: serial.clone(),
            public_key: B64(public.to_vec()),
            mac: B64(server_key.token_mac(&serial, &token).to_vec()),
            token,
        };
        let (app_serial, app_key) = app.finish(&response).unwrap();
        assert_eq!(app_serial, serial);
        assert_eq!(
            *app_key.seed(&serial, Algorithm::Sha1),
            *server_key.seed(&serial, Algorithm::Sha1)
        );
    }

    #[test]
    fn response_survives_json() {
        let response = ProvisioningResponse {
            serial: Serial::generate(),
            public_key: B64(vec![1; 32]),
            token: IssuedToken {
                issuer: "Bank".into(),
                params: OtpParams::REGISTRATION,
                server_unix_ms: 5,
            },
            mac: B64(vec![2; 32]),
        };
        let json = serde_json::to_string(&response).unwrap();
        assert_eq!(
            serde_json::from_str::<ProvisioningResponse>(&json).unwrap(),
            response
        );
    }

    #[test]
    fn tampered_parameters_and_bad_keys_are_rejected() {
        let service = ServiceId::new("bank").unwrap();
        let serial = Serial::generate();
        let (app, request) = AppProvisioning::start(service.clone());
        let (public, server_key) = server_respond(&request, &serial).unwrap();
        let token = IssuedToken {
            issuer: "Bank".into(),
            params: OtpParams::REGISTRATION,
            server_unix_ms: 5,
        };
        let mut response = ProvisioningResponse {
            serial: serial.clone(),
            public_key: B64(public.to_vec()),
            mac: B64(server_key.token_mac(&serial, &token).to_vec()),
            token,
        };
        // Another serial than the one the server bound: the MAC does not verify (a
        // man in the middle cannot hand the app a serial of their choosing).
        let mut swapped = response.clone();
        swapped.serial = Serial::generate();
        assert_eq!(app.finish(&swapped).unwrap_err(), ProtocolError::BadMac);
        let (app, request) = AppProvisioning::start(service.clone());
        let (public, server_key) = server_respond(&request, &serial).unwrap();
        response.public_key = B64(public.to_vec());
        response.mac = B64(server_key.token_mac(&serial, &response.token).to_vec());
        response.token.issuer = "Evil".into();
        assert_eq!(app.finish(&response).unwrap_err(), ProtocolError::BadMac);

        let mut bad = request.clone();
        bad.public_key = B64(vec![0u8; 31]);
        assert!(server_respond(&bad, &serial).is_err());
        bad.public_key = B64(vec![0u8; 32]);
        assert_eq!(
            server_respond(&bad, &serial).unwrap_err(),
            ProtocolError::BadMessage("X25519 key of low order")
        );
        let _ = service;
    }
}
