//! Activation by start password (DESIGN.md §5): SPAKE2 over the Ed25519 group.
//!
//! The start password (利用開始パスワード) is low-entropy, so it never crosses
//! the wire and the server stores only `w`, a PBKDF2 hash of it. A wrong
//! password shows up as a key-confirmation mismatch, and each attempt costs the
//! attacker one online guess; the server locks the enrollment after five.
//!
//! ```text
//! app                                              server (stores w)
//! w = PBKDF2(password, service, user)
//! start_a(w) ── StartRequest{service, user, msg_a} ──▶ start_b(w), K = finish(msg_a)
//!            ◀── StartResponse{session, msg_b, conf_server} ──
//! K = finish(msg_b); check conf_server
//! serial = new ── FinishRequest{session, conf_app, serial} ──▶ check conf_app
//!            ◀── FinishResponse{token params, time, mac} ──
//! both: seed = HKDF(K, transcript, "softtoken/seed/v1" || serial)
//! ```

use serde::{Deserialize, Serialize};
use spake2::{Ed25519Group, Identity, Password, Spake2};
use zeroize::Zeroizing;

use crate::ids::{ServiceId, UserId};
use crate::serial::Serial;
use crate::session::{IssuedToken, ProtocolError, SessionKey};
use crate::wire::{B64, Transcript, concat};

/// PBKDF2 iterations for `w`: fixed by protocol version 1 (both sides must agree).
pub const PBKDF2_ITERATIONS: u32 = 100_000;
const LABEL: &str = "softtoken/activation/v1";
const ID_APP: &[u8] = b"softtoken/app";
const ID_SERVER: &[u8] = b"softtoken/server";

/// Shortest start password a bank may issue.
pub const START_PASSWORD_MIN: usize = 4;
/// Longest start password a bank may issue.
pub const START_PASSWORD_MAX: usize = 64;

/// `w`, the SPAKE2 password: PBKDF2-HMAC-SHA256 of the start password. Wiped on drop.
#[derive(Clone)]
pub struct PasswordKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for PasswordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordKey([REDACTED])")
    }
}

impl PasswordKey {
    /// Derives `w = PBKDF2-HMAC-SHA256(password, salt = label, service_id, user_id)`
    /// (fields length-prefixed so no two ID pairs share a salt), 100,000 iterations.
    pub fn derive(start_password: &str, service: &ServiceId, user: &UserId) -> Self {
        let salt = concat(&[
            LABEL.as_bytes(),
            service.as_str().as_bytes(),
            user.as_str().as_bytes(),
        ]);
        let mut w = Zeroizing::new([0u8; 32]);
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            start_password.as_bytes(),
            &salt,
            PBKDF2_ITERATIONS,
            &mut *w,
        );
        PasswordKey(w)
    }

    /// Rebuilds `w` from its stored bytes (the server decrypts it from the database).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PasswordKey(Zeroizing::new(bytes))
    }

    /// The raw bytes, for encrypting at rest.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Whether `text` is an acceptable start password: 4–64 printable ASCII characters.
pub fn valid_start_password(text: &str) -> bool {
    (START_PASSWORD_MIN..=START_PASSWORD_MAX).contains(&text.len())
        && text.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// `POST /v1/activation/start`.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The service the enrollment belongs to.
    pub service_id: ServiceId,
    /// The user the enrollment was issued for.
    pub user_id: UserId,
    /// The app's SPAKE2 message.
    pub message: B64,
}

/// The answer to [`StartRequest`].
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartResponse {
    /// Names this attempt in the finish call.
    pub session_id: String,
    /// The server's SPAKE2 message.
    pub message: B64,
    /// HMAC(K, "server" || transcript hash).
    pub confirmation: B64,
    /// Further tries the enrollment allows if this one turns out wrong (the app shows it
    /// when the confirmation does not match: a wrong start password).
    pub attempts_left: u32,
}

/// `POST /v1/activation/finish`.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    /// From [`StartResponse::session_id`].
    pub session_id: String,
    /// HMAC(K, "app" || transcript hash).
    pub confirmation: B64,
    /// The serial the app generated for the new token.
    pub serial: Serial,
}

/// The answer to [`FinishRequest`]: the token's parameters, MACed under K.
// No `deny_unknown_fields`: serde does not support it together with `flatten` (every
// answer failed to parse with "unknown field `issuer`").
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishResponse {
    /// Issuer, OTP parameters and server time.
    #[serde(flatten)]
    pub token: IssuedToken,
    /// [`SessionKey::token_mac`] over the serial and `token`.
    pub mac: B64,
}

fn transcript(service: &ServiceId, user: &UserId, msg_app: &[u8], msg_server: &[u8]) -> [u8; 32] {
    let mut t = Transcript::new(LABEL);
    t.push(service.as_str().as_bytes())
        .push(user.as_str().as_bytes())
        .push(msg_app)
        .push(msg_server);
    t.finish()
}

/// The app's side of an activation between start and its response.
pub struct AppActivation {
    state: Spake2<Ed25519Group>,
    service: ServiceId,
    user: UserId,
    message: Vec<u8>,
}

impl std::fmt::Debug for AppActivation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppActivation")
            .field("service", &self.service)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl AppActivation {
    /// Starts an activation: returns the state to keep and the request to send.
    pub fn start(w: &PasswordKey, service: ServiceId, user: UserId) -> (Self, StartRequest) {
        let (state, message) = Spake2::<Ed25519Group>::start_a(
            &Password::new(w.expose()),
            &Identity::new(ID_APP),
            &Identity::new(ID_SERVER),
        );
        let request = StartRequest {
            service_id: service.clone(),
            user_id: user.clone(),
            message: B64(message.clone()),
        };
        (
            AppActivation {
                state,
                service,
                user,
                message,
            },
            request,
        )
    }

    /// Processes the server's answer. `Err(ConfirmationMismatch)` means a wrong start password.
    pub fn finish(self, response: &StartResponse) -> Result<SessionKey, ProtocolError> {
        let key = self
            .state
            .finish(&response.message.0)
            .map_err(|_| ProtocolError::BadMessage("server SPAKE2 message"))?;
        let th = transcript(
            &self.service,
            &self.user,
            &self.message,
            &response.message.0,
        );
        let session = SessionKey::new(Zeroizing::new(key), th);
        session.check_server_confirmation(&response.confirmation.0)?;
        Ok(session)
    }
}

/// The server's side: answers an app's SPAKE2 message with its own and the session key.
pub fn server_respond(
    w: &PasswordKey,
    service: &ServiceId,
    user: &UserId,
    app_message: &[u8],
) -> Result<(Vec<u8>, SessionKey), ProtocolError> {
    let (state, message) = Spake2::<Ed25519Group>::start_b(
        &Password::new(w.expose()),
        &Identity::new(ID_APP),
        &Identity::new(ID_SERVER),
    );
    let key = state
        .finish(app_message)
        .map_err(|_| ProtocolError::BadMessage("app SPAKE2 message"))?;
    let th = transcript(service, user, app_message, &message);
    Ok((message, SessionKey::new(Zeroizing::new(key), th)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::{Algorithm, OtpParams};

    fn ids() -> (ServiceId, UserId) {
        (
            ServiceId::new("shinkin").unwrap(),
            UserId::new("alice").unwrap(),
        )
    }

    #[test]
    fn right_password_agrees_on_seed_and_mac() {
        let (s, u) = ids();
        let w_app = PasswordKey::derive("4321abcd", &s, &u);
        let w_server = PasswordKey::derive("4321abcd", &s, &u);
        let (app, req) = AppActivation::start(&w_app, s.clone(), u.clone());
        let (msg_b, server_key) = server_respond(&w_server, &s, &u, &req.message.0).unwrap();
        let resp = StartResponse {
            session_id: "x".into(),
            message: B64(msg_b),
            confirmation: B64(server_key.server_confirmation().to_vec()),
            attempts_left: 4,
        };
        let app_key = app.finish(&resp).unwrap();
        server_key
            .check_app_confirmation(&app_key.app_confirmation())
            .unwrap();
        let serial = Serial::generate();
        for alg in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
            let seed = app_key.seed(&serial, alg);
            assert_eq!(seed.len(), alg.seed_len());
            assert_eq!(*seed, *server_key.seed(&serial, alg));
        }
        let token = IssuedToken {
            issuer: "しんきん".into(),
            params: OtpParams::ACTIVATION,
            server_unix_ms: 1_700_000_000_000,
        };
        let mac = server_key.token_mac(&serial, &token);
        app_key.check_token_mac(&serial, &token, &mac).unwrap();
        let mut tampered = token.clone();
        tampered.params = OtpParams::REGISTRATION;
        assert_eq!(
            app_key.check_token_mac(&serial, &tampered, &mac),
            Err(ProtocolError::BadMac)
        );
        let restored = SessionKey::from_bytes(&server_key.to_bytes()).unwrap();
        assert_eq!(
            *restored.seed(&serial, Algorithm::Sha1),
            *app_key.seed(&serial, Algorithm::Sha1)
        );
    }

    #[test]
    fn finish_response_survives_json() {
        let response = FinishResponse {
            token: IssuedToken {
                issuer: "しんきん".into(),
                params: OtpParams::ACTIVATION,
                server_unix_ms: 1_700_000_000_000,
            },
            mac: B64(vec![7; 32]),
        };
        let json = serde_json::to_string(&response).unwrap();
        assert_eq!(
            serde_json::from_str::<FinishResponse>(&json).unwrap(),
            response
        );
        assert!(json.contains(r#""digits":8"#), "flattened: {json}");
    }

    #[test]
    fn wrong_password_fails_confirmation() {
        let (s, u) = ids();
        let (app, req) =
            AppActivation::start(&PasswordKey::derive("wrong", &s, &u), s.clone(), u.clone());
        let (msg_b, server_key) = server_respond(
            &PasswordKey::derive("right", &s, &u),
            &s,
            &u,
            &req.message.0,
        )
        .unwrap();
        let resp = StartResponse {
            session_id: "x".into(),
            message: B64(msg_b),
            confirmation: B64(server_key.server_confirmation().to_vec()),
            attempts_left: 4,
        };
        assert_eq!(
            app.finish(&resp).unwrap_err(),
            ProtocolError::ConfirmationMismatch
        );
    }

    #[test]
    fn password_key_depends_on_ids() {
        let (s, u) = ids();
        let other = UserId::new("bob").unwrap();
        assert_ne!(
            PasswordKey::derive("pw12", &s, &u).expose(),
            PasswordKey::derive("pw12", &s, &other).expose()
        );
        assert_eq!(
            format!("{:?}", PasswordKey::derive("pw12", &s, &u)),
            "PasswordKey([REDACTED])"
        );
    }

    #[test]
    fn garbage_messages_are_errors_not_panics() {
        let (s, u) = ids();
        let w = PasswordKey::derive("pw12", &s, &u);
        assert!(server_respond(&w, &s, &u, b"").is_err());
        assert!(server_respond(&w, &s, &u, &[0u8; 33]).is_err());
        assert!(SessionKey::from_bytes(&[0u8; 10]).is_err());
    }

    #[test]
    fn start_password_rules() {
        assert!(valid_start_password("1234"));
        assert!(valid_start_password(&"x".repeat(64)));
        assert!(!valid_start_password("123"));
        assert!(!valid_start_password(&"x".repeat(65)));
        assert!(!valid_start_password("12\n34"));
        assert!(!valid_start_password("パスワード"));
    }
}
