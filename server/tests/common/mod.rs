//! Test harness: a server over any database URL, on a real port or in process, with a
//! clock the test moves, and an app side built from `protocol` alone.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use softtoken_protocol::activation::{AppActivation, FinishRequest, PasswordKey, StartResponse};
use softtoken_protocol::otp::totp;
use softtoken_protocol::provisioning::{AppProvisioning, ProvisioningResponse};
use softtoken_protocol::wire::B64;
use softtoken_protocol::{OtpParams, Serial, ServiceId, UserId};
use softtoken_server::auth::{generate_key, hash_key};
use softtoken_server::{AppState, app};
use softtoken_service::clock::{Clock, ManualClock};
use softtoken_service::crypto::MasterKey;
use softtoken_store::policy::Policy;
use softtoken_store::{self as store, Service, Store};

/// 2023-11-14T22:13:20Z, on a 60 s step boundary.
pub const START_MS: i64 = 1_700_000_040_000;

/// A running server and what a test needs to drive it.
pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    pub dir: Option<tempfile::TempDir>,
    pub db_path: Option<std::path::PathBuf>,
}

/// The database URL for a test: PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set and
/// `allow_postgres`, else a fresh SQLite file in a temporary directory.
pub fn database(
    allow_postgres: bool,
) -> (
    String,
    Option<tempfile::TempDir>,
    Option<std::path::PathBuf>,
) {
    if allow_postgres && let Ok(url) = std::env::var("SOFTTOKEN_TEST_POSTGRES_URL") {
        return (url, None, None);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("softtoken.db");
    (
        format!("sqlite://{}", path.display()),
        Some(dir),
        Some(path),
    )
}

/// A PostgreSQL URL narrowed to a fresh scratch schema of its own, so that tests running
/// in parallel on one database never meet; SQLite URLs (a fresh file each) unchanged.
pub async fn isolated(url: String) -> String {
    if url.starts_with("postgres") {
        softtoken_store::scratch::fresh_schema(&url)
            .await
            .unwrap()
            .0
    } else {
        url
    }
}

/// Builds the application state over the database at `url`.
pub async fn state_from_url(url: &str, clock: Arc<ManualClock>, rate_limit: u32) -> AppState {
    let store = store::connect(url).await.unwrap();
    AppState::new(
        store,
        MasterKey::generate(),
        clock,
        "http://127.0.0.1:1",
        rate_limit,
    )
}

impl TestServer {
    /// A server on 127.0.0.1:0 over a fresh database.
    pub async fn start() -> Self {
        Self::start_with(true, 0).await
    }

    /// A server with a given per-IP rate limit (0: unlimited).
    pub async fn start_with(allow_postgres: bool, rate_limit: u32) -> Self {
        Self::start_behind(allow_postgres, rate_limit, &[]).await
    }

    /// A server that believes the forwarding headers of the proxies in `trusted` (CIDR).
    pub async fn start_behind(allow_postgres: bool, rate_limit: u32, trusted: &[&str]) -> Self {
        Self::start_full(allow_postgres, rate_limit, trusted, None).await
    }

    /// A server that queues activation e-mail for `smtp_url` (no sender runs: the mails
    /// stay in the outbox for the test to read).
    pub async fn start_mailing(smtp_url: &str) -> Self {
        let smtp = softtoken_service::mail::smtp::Smtp::new(
            &softtoken_service::mail::smtp::SmtpUrl::from(smtp_url.to_string()),
            "otp@bank.example",
        )
        .unwrap();
        let mailer = Arc::new(softtoken_service::mail::Mailer::new(smtp));
        Self::start_full(true, 0, &[], Some(mailer)).await
    }

    async fn start_full(
        allow_postgres: bool,
        rate_limit: u32,
        trusted: &[&str],
        mailer: Option<Arc<softtoken_service::mail::Mailer>>,
    ) -> Self {
        // The server's warnings and errors, shown with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("softtoken=warn")
            .with_test_writer()
            .try_init();
        let (url, dir, db_path) = database(allow_postgres);
        let url = isolated(url).await;
        let clock = Arc::new(ManualClock::new(START_MS));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let store = store::connect(&url).await.unwrap();
        let proxies = trusted.iter().map(|cidr| cidr.parse().unwrap()).collect();
        let state = AppState::new(
            store.clone(),
            MasterKey::generate(),
            clock.clone(),
            &base,
            rate_limit,
        )
        .with_trusted_proxies(softtoken_server::client_addr::TrustedProxies::new(proxies))
        .with_mailer(mailer);
        let router = app(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestServer {
            base,
            state,
            clock,
            store,
            http: reqwest::Client::new(),
            dir,
            db_path,
        }
    }

    /// Adds a service with `policy`; returns its API key.
    pub async fn add_service(&self, id: &str, policy: Policy) -> String {
        let key = generate_key();
        self.store
            .add_service(
                &Service {
                    id: ServiceId::new(id).unwrap(),
                    name: format!("{id} bank"),
                    policy,
                    created_at: START_MS,
                },
                &hash_key(&key),
            )
            .await
            .unwrap();
        key.to_string()
    }

    pub fn now_secs(&self) -> u64 {
        u64::try_from(self.clock.now_ms() / 1000).unwrap()
    }

    pub fn advance_secs(&self, s: i64) {
        self.clock.advance_ms(s * 1000);
    }

    /// Sends a request; returns status and JSON body (Null when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(key), Some(body))
            .await
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(key), None).await
    }

    pub async fn enroll(&self, key: &str, sid: &str, uid: &str, password: &str) -> (u16, Value) {
        self.post(
            &format!("/v1/services/{sid}/enrollments"),
            key,
            json!({"user_id": uid, "start_password": password}),
        )
        .await
    }

    /// Runs the app's side of start; returns the app state and the server's answer.
    pub async fn start_activation(
        &self,
        sid: &str,
        uid: &str,
        password: &str,
    ) -> (AppActivation, u16, Value) {
        let (s, u) = (ServiceId::new(sid).unwrap(), UserId::new(uid).unwrap());
        let w = PasswordKey::derive(password, &s, &u);
        let (app, request) = AppActivation::start(&w, s, u);
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/v1/activation/start",
                None,
                Some(serde_json::to_value(&request).unwrap()),
            )
            .await;
        (app, status, body)
    }

    /// A whole activation with the right password; returns the token.
    pub async fn activate(&self, sid: &str, uid: &str, password: &str) -> AppToken {
        let (app, status, body) = self.start_activation(sid, uid, password).await;
        assert_eq!(status, 200, "{body}");
        let response: StartResponse = serde_json::from_value(body).unwrap();
        let key = app.finish(&response).unwrap();
        let serial = Serial::generate();
        let finish = FinishRequest {
            session_id: response.session_id.clone(),
            confirmation: B64(key.app_confirmation().to_vec()),
            serial: serial.clone(),
        };
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/v1/activation/finish",
                None,
                Some(serde_json::to_value(&finish).unwrap()),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let finished: softtoken_protocol::activation::FinishResponse =
            serde_json::from_value(body).unwrap();
        key.check_token_mac(&serial, &finished.token, &finished.mac.0)
            .unwrap();
        AppToken {
            seed: key.seed(&serial, finished.token.params.algorithm).to_vec(),
            params: finished.token.params,
            serial,
        }
    }

    /// Provisions a token in registration mode.
    pub async fn provision(&self, sid: &str) -> AppToken {
        let (app, request) = AppProvisioning::start(ServiceId::new(sid).unwrap());
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/v1/provisioning",
                None,
                Some(serde_json::to_value(&request).unwrap()),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let response: ProvisioningResponse = serde_json::from_value(body).unwrap();
        let (serial, key) = app.finish(&response).unwrap();
        AppToken {
            seed: key.seed(&serial, response.token.params.algorithm).to_vec(),
            params: response.token.params,
            serial,
        }
    }
}

/// The app's copy of a token.
#[derive(Clone)]
pub struct AppToken {
    pub serial: Serial,
    pub seed: Vec<u8>,
    pub params: OtpParams,
}

impl AppToken {
    pub fn code(&self, server: &TestServer) -> String {
        totp(&self.seed, &self.params, server.now_secs()).to_string()
    }

    /// A code that is wrong now (and one step either side).
    pub fn wrong_code(&self, server: &TestServer) -> String {
        let now = server.now_secs();
        let period = self.params.period.seconds();
        let near: Vec<String> = [now - period, now, now + period]
            .iter()
            .map(|t| totp(&self.seed, &self.params, *t).to_string())
            .collect();
        let width = self.params.digits.get() as usize;
        (0u32..)
            .map(|n| format!("{n:0width$}"))
            .find(|c| !near.contains(c))
            .unwrap()
    }
}

/// Asserts an error is a problem document with `code`.
pub fn assert_problem(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], want_status, "{body}");
    assert!(body["type"].as_str().unwrap().ends_with(code), "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}
