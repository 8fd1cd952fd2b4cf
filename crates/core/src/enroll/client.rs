//! [`Enroller`]: activation, provisioning and time sync, from the first request to the
//! token in the vault. The steps are the protocol crate's; this module adds the HTTP
//! exchange (through a [`Transport`]), the server's clock offset, and the vault.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use softtoken_protocol::activation::{
    AppActivation, FinishRequest, FinishResponse, PasswordKey, StartRequest, StartResponse,
    valid_start_password,
};
use softtoken_protocol::problem::{Problem, codes};
use softtoken_protocol::provisioning::{
    AppProvisioning, ProvisioningRequest, ProvisioningResponse,
};
use softtoken_protocol::{IssuedToken, ProtocolError, Serial, ServiceId};

use super::error::EnrollError;
use super::server_url::ServerUrl;
use super::time::{TimeResponse, clock_offset_ms};
#[cfg(feature = "https")]
use super::transport::HttpTransport;
use super::transport::{HttpRequest, Method, SendError, Transport};
use super::uri::ActivationTarget;
use crate::secret::Secret;
use crate::token::{Token, TokenState};
#[cfg(feature = "https")]
use crate::vault::SystemClock;
use crate::vault::{Clock, StoreError, TokenInfo, TokenStore};

/// The longest issuer name accepted from a server (it is shown on a small screen).
const MAX_ISSUER_CHARS: usize = 100;

/// Talks to activation servers and puts the tokens it gets into a vault.
///
/// Every method **blocks** on the network (up to 30 s): call it off the UI thread.
#[derive(Clone)]
pub struct Enroller {
    transport: Arc<dyn Transport>,
    pub(super) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Enroller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enroller")
    }
}

/// How an [`Enroller`] reaches the vault: briefly before its network calls (is the vault
/// unlocked? which servers?) and after them (keep the token, record the clock offset), never
/// while one is under way.
///
/// A vault the caller holds (`&mut TokenStore`) is its own access. A caller that shares the
/// vault between threads behind a lock (the FFI) implements this over its lock, so codes
/// stay readable while a server is slow to answer; the enroller's methods then return the
/// caller's own error type, which every [`EnrollError`] converts into.
pub trait VaultAccess {
    /// The error the enroller's methods return.
    type Error: From<EnrollError>;

    /// Runs `f` on the vault.
    fn with_vault<T>(
        &mut self,
        f: impl FnOnce(&mut TokenStore) -> Result<T, StoreError>,
    ) -> Result<T, Self::Error>;
}

impl VaultAccess for &mut TokenStore {
    type Error = EnrollError;

    fn with_vault<T>(
        &mut self,
        f: impl FnOnce(&mut TokenStore) -> Result<T, StoreError>,
    ) -> Result<T, EnrollError> {
        Ok(f(self)?)
    }
}

/// The outcome of syncing the clock with one server.
#[derive(Debug)]
pub struct TimeSync {
    /// The server.
    pub server_url: String,
    /// Its clock minus ours in milliseconds, or why it could not be learned.
    pub result: Result<i64, EnrollError>,
}

impl Enroller {
    /// An enroller over HTTPS (rustls) and the system clock.
    #[cfg(feature = "https")]
    pub fn new() -> Result<Self, EnrollError> {
        Self::over_https(None, None)
    }

    /// [`Enroller::new`], trusting also the CA certificates in the PEM file at `path`
    /// (`BadCaFile` if it cannot be read or holds none).
    #[cfg(feature = "https")]
    pub fn trusting_ca_file(path: &std::path::Path) -> Result<Self, EnrollError> {
        Self::over_https(Some(path), None)
    }

    /// An enroller over HTTPS trusting also `ca_file` when given, whose requests together
    /// take at most `budget` when given (see [`HttpTransport::within`]): for best-effort
    /// calls such as refreshing token states when the vault is opened.
    #[cfg(feature = "https")]
    pub fn over_https(
        ca_file: Option<&std::path::Path>,
        budget: Option<std::time::Duration>,
    ) -> Result<Self, EnrollError> {
        let transport = match ca_file {
            Some(path) => {
                let bad = |reason: String| EnrollError::BadCaFile {
                    path: path.display().to_string(),
                    reason,
                };
                let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
                HttpTransport::trusting(&pem).map_err(bad)?
            }
            None => HttpTransport::new().map_err(|reason| EnrollError::Network {
                url: String::new(),
                reason,
            })?,
        };
        let transport = match budget {
            Some(budget) => transport.within(budget),
            None => transport,
        };
        Ok(Self::with(Arc::new(transport), Arc::new(SystemClock)))
    }

    /// An enroller over `transport`, reading time from `clock` (tests use both).
    pub fn with(transport: Arc<dyn Transport>, clock: Arc<dyn Clock>) -> Self {
        Enroller { transport, clock }
    }

    /// Activates a token with a start password (DESIGN.md §5) and stores it as `pending`
    /// until the bank confirms its first code. The vault must be unlocked: that is checked
    /// before anything is sent, since an activation cannot be repeated.
    pub fn activate<V: VaultAccess>(
        &self,
        mut vault: V,
        target: &ActivationTarget,
        start_password: &str,
    ) -> Result<TokenInfo, V::Error> {
        if !valid_start_password(start_password) {
            return Err(EnrollError::InvalidStartPassword.into());
        }
        vault.with_vault(ensure_unlocked)?;
        let token = self.activate_token(target, start_password)?;
        vault.with_vault(|store| store_token(store, token))
    }

    /// The network half of [`Enroller::activate`]: the new token, not yet stored.
    fn activate_token(
        &self,
        target: &ActivationTarget,
        start_password: &str,
    ) -> Result<Token, EnrollError> {
        let w = PasswordKey::derive(start_password, &target.service, &target.user);
        let (state, request) =
            AppActivation::start(&w, target.service.clone(), target.user.clone());
        let start_url = target.server.endpoint("/v1/activation/start");
        let (started, ..): (StartResponse, _, _) =
            self.call::<StartRequest, _>(Method::Post, &start_url, Some(&request))?;
        let session = state.finish(&started).map_err(|e| match e {
            ProtocolError::ConfirmationMismatch => EnrollError::WrongStartPassword {
                attempts_left: started.attempts_left,
            },
            other => EnrollError::Protocol(other),
        })?;

        // The serial is the app's pick; the server refuses one it holds already and keeps
        // the session, so a (vanishingly rare) collision costs one more round trip.
        let finish_url = target.server.endpoint("/v1/activation/finish");
        let mut attempt = 1;
        let (serial, (finished, sent, received)) = loop {
            let serial = Serial::generate();
            let finish = FinishRequest {
                session_id: started.session_id.clone(),
                confirmation: softtoken_protocol::wire::B64(session.app_confirmation().to_vec()),
                serial: serial.clone(),
            };
            match self.call::<_, FinishResponse>(Method::Post, &finish_url, Some(&finish)) {
                Err(e) if is_serial_taken(&e) && attempt < SERIAL_ATTEMPTS => attempt += 1,
                answer => break (serial, answer?),
            }
        };
        session
            .check_token_mac(&serial, &finished.token, &finished.mac.0)
            .map_err(EnrollError::Protocol)?;
        let seed = session.seed(&serial, finished.token.params.algorithm);
        self.token(
            serial,
            &finished.token,
            Secret::new(seed.to_vec()),
            target.service.clone(),
            target.user.as_str().to_string(),
            &target.server,
            clock_offset_ms(sent, received, finished.token.server_unix_ms),
        )
    }

    /// Provisions a token for registration mode (DESIGN.md §6): the server picks the
    /// serial (bound into the exchange's MAC), the seed comes from an X25519 exchange, and the token stays `pending` until the
    /// bank registers its serial and a code to a user.
    pub fn provision<V: VaultAccess>(
        &self,
        mut vault: V,
        server: &ServerUrl,
        service: &ServiceId,
    ) -> Result<TokenInfo, V::Error> {
        vault.with_vault(ensure_unlocked)?;
        let token = self.provision_token(server, service)?;
        vault.with_vault(|store| store_token(store, token))
    }

    /// The network half of [`Enroller::provision`]: the new token, not yet stored.
    fn provision_token(
        &self,
        server: &ServerUrl,
        service: &ServiceId,
    ) -> Result<Token, EnrollError> {
        let url = server.endpoint("/v1/provisioning");
        let (state, request) = AppProvisioning::start(service.clone());
        let (response, sent, received) = self.call::<ProvisioningRequest, ProvisioningResponse>(
            Method::Post,
            &url,
            Some(&request),
        )?;
        let (serial, session) = state.finish(&response).map_err(EnrollError::Protocol)?;
        let seed = session.seed(&serial, response.token.params.algorithm);
        self.token(
            serial,
            &response.token,
            Secret::new(seed.to_vec()),
            service.clone(),
            String::new(),
            server,
            clock_offset_ms(sent, received, response.token.server_unix_ms),
        )
    }

    /// The server's clock minus ours, in milliseconds, from `GET /v1/time` (corrected for
    /// half the round trip).
    pub fn server_offset(&self, server: &ServerUrl) -> Result<i64, EnrollError> {
        let url = server.endpoint("/v1/time");
        let (time, sent, received): (TimeResponse, _, _) =
            self.call::<(), _>(Method::Get, &url, None)?;
        Ok(clock_offset_ms(sent, received, time.unix_ms))
    }

    /// Refreshes the clock offset of every server the vault's tokens come from. One
    /// unreachable server does not stop the others; each outcome is reported.
    pub fn sync_time<V: VaultAccess>(&self, mut vault: V) -> Result<Vec<TimeSync>, V::Error> {
        self.sync_all(&mut vault)
    }

    /// [`Enroller::sync_time`] over a borrowed vault access (refresh goes on with it).
    pub(super) fn sync_all<V: VaultAccess>(
        &self,
        vault: &mut V,
    ) -> Result<Vec<TimeSync>, V::Error> {
        let mut servers: Vec<String> = vault
            .with_vault(|store| store.tokens())?
            .into_iter()
            .map(|t| t.server_url)
            .collect();
        servers.sort();
        servers.dedup();
        let mut outcomes = Vec::with_capacity(servers.len());
        for server_url in servers {
            let result = self.sync_server(vault, &server_url)?;
            outcomes.push(TimeSync { server_url, result });
        }
        Ok(outcomes)
    }

    /// Refreshes the clock offset of the server token `serial` comes from (for every token
    /// of that server) and returns it: server minus device, in milliseconds.
    pub fn sync_token_time<V: VaultAccess>(
        &self,
        mut vault: V,
        serial: &Serial,
    ) -> Result<i64, V::Error> {
        let server_url = vault.with_vault(|store| Ok(store.token(serial)?.server_url))?;
        Ok(self.sync_server(&mut vault, &server_url)??)
    }

    /// Asks `server_url` for its time and records the offset on its tokens. The outer error
    /// is the vault's, which stops a sync; the inner one is this server's alone.
    pub(super) fn sync_server<V: VaultAccess>(
        &self,
        vault: &mut V,
        server_url: &str,
    ) -> Result<Result<i64, EnrollError>, V::Error> {
        let offset = ServerUrl::parse(server_url).and_then(|s| self.server_offset(&s));
        if let Ok(offset) = offset {
            vault.with_vault(|store| store.set_clock_offset(server_url, offset))?;
        }
        Ok(offset)
    }

    #[allow(clippy::too_many_arguments)] // one call site per protocol; a struct would only rename them
    fn token(
        &self,
        serial: Serial,
        issued: &IssuedToken,
        secret: Secret,
        service_id: ServiceId,
        user_label: String,
        server: &ServerUrl,
        clock_offset_ms: i64,
    ) -> Result<Token, EnrollError> {
        let issuer = issued.issuer.trim();
        if issuer.is_empty()
            || issuer.chars().count() > MAX_ISSUER_CHARS
            || issuer.chars().any(char::is_control)
        {
            return Err(EnrollError::Protocol(ProtocolError::BadParams(
                "the issuer name is empty, too long or holds control characters".into(),
            )));
        }
        let now_ms = self.clock.now_unix_ms();
        Ok(Token {
            serial,
            issuer: issuer.to_string(),
            service_id,
            user_label,
            params: issued.params,
            secret,
            state: TokenState::Pending,
            created_at: u64::try_from(now_ms / 1000).unwrap_or(0),
            server_url: server.as_str().to_string(),
            clock_offset_ms,
        })
    }

    /// Sends one JSON request and reads the answer: the decoded body on 2xx, the problem
    /// document as an error otherwise. Also returns the device times just before sending
    /// and just after the answer, for the clock offset.
    pub(super) fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<&Req>,
    ) -> Result<(Resp, i64, i64), EnrollError> {
        let body =
            body.map(serde_json::to_vec)
                .transpose()
                .map_err(|e| EnrollError::BadResponse {
                    url: url.to_string(),
                    reason: format!("cannot encode the request: {e}"),
                })?;
        let request = HttpRequest {
            method,
            url: url.to_string(),
            body,
        };
        let sent = self.clock.now_unix_ms();
        let response = self.transport.send(&request).map_err(|e| match e {
            SendError::Certificate(problem) => EnrollError::Certificate {
                url: url.to_string(),
                problem,
            },
            SendError::Failed(reason) => EnrollError::Network {
                url: url.to_string(),
                reason,
            },
        })?;
        let received = self.clock.now_unix_ms();
        if (200..300).contains(&response.status) {
            let decoded =
                serde_json::from_slice(&response.body).map_err(|e| EnrollError::BadResponse {
                    url: url.to_string(),
                    reason: format!("HTTP {}: {e}", response.status),
                })?;
            return Ok((decoded, sent, received));
        }
        Err(problem_error(url, response.status, &response.body))
    }
}

fn ensure_unlocked(store: &mut TokenStore) -> Result<(), StoreError> {
    if store.is_locked() {
        return Err(StoreError::Locked);
    }
    Ok(())
}

fn store_token(store: &mut TokenStore, token: Token) -> Result<TokenInfo, StoreError> {
    let info = TokenInfo::from(&token);
    store.add(token)?;
    Ok(info)
}

/// Serials tried in one activation before a `serial_taken` is reported: with 40 random
/// bits a second collision in a row means something else is wrong. (Provisioning needs
/// none: there the server picks the serial.)
const SERIAL_ATTEMPTS: u32 = 3;

/// Whether the server refused the app's serial as one it holds already.
fn is_serial_taken(e: &EnrollError) -> bool {
    matches!(e, EnrollError::Refused { code, .. } if code == codes::SERIAL_TAKEN)
}

/// Turns a non-2xx answer into the error a customer can act on.
fn problem_error(url: &str, status: u16, body: &[u8]) -> EnrollError {
    let Ok(problem) = serde_json::from_slice::<Problem>(body) else {
        let text: String = String::from_utf8_lossy(body)
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        return EnrollError::BadResponse {
            url: url.to_string(),
            reason: format!("HTTP {status}: {text}"),
        };
    };
    match problem.code.as_str() {
        codes::ENROLLMENT_NOT_FOUND => EnrollError::EnrollmentNotFound,
        codes::ENROLLMENT_EXPIRED => EnrollError::EnrollmentExpired,
        codes::ENROLLMENT_LOCKED => EnrollError::EnrollmentLocked,
        codes::UNKNOWN_SERVICE => EnrollError::UnknownService,
        codes::RATE_LIMITED => EnrollError::RateLimited {
            retry_after_seconds: problem.retry_after.unwrap_or(60),
        },
        codes::CONFIRMATION_FAILED => EnrollError::WrongStartPassword {
            attempts_left: problem.attempts_left.unwrap_or(0),
        },
        _ => EnrollError::Refused {
            url: url.to_string(),
            status,
            code: problem.code,
            detail: problem.detail,
        },
    }
}
