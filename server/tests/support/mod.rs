//! What the multi-instance tests share: the backends to run on, a "cluster" of two
//! server instances over one database, and tiny HTTP helpers for in-process routers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rand::RngCore;
use serde_json::Value;
use softtoken_protocol::{OtpParams, Serial, ServiceId, UserId};
use softtoken_server::auth::hash_key;
use softtoken_server::{AppState, app};
use softtoken_service::clock::{Clock, ManualClock};
use softtoken_service::crypto::{Bound, Keyring};
use softtoken_store::audit::AuditKind;
use softtoken_store::policy::{DEFAULT_UNASSIGNED_QUOTA, Policy};
use softtoken_store::{
    self as store, Binding, NewAuditEvent, Service, StepUse, Store, Token, TokenState, scratch,
};
use tower::ServiceExt;

/// The service every test uses.
pub const SERVICE: &str = "bank-test";
/// Its API key.
pub const API_KEY: &str = "stk_concurrency-test-key";
/// One master key for both instances, as a cluster shares its key file.
pub const MASTER_KEY: &str =
    "softtoken-master-key-v1 test0001 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// Where the manual clock starts (2025-11-21, an ordinary Friday).
const START_MS: i64 = 1_763_700_000_000;

/// A database to run a test on.
pub enum Backend {
    /// A fresh SQLite file in a directory removed on drop.
    Sqlite(tempfile::TempDir),
    /// The PostgreSQL database at this URL (a fresh schema of it, per cluster).
    Postgres(String),
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Sqlite(_) => f.write_str("sqlite"),
            Backend::Postgres(_) => f.write_str("postgres"),
        }
    }
}

/// SQLite always; PostgreSQL too when `SOFTTOKEN_TEST_POSTGRES_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite(tempfile::tempdir().unwrap())];
    if let Some(url) = scratch::test_postgres_url() {
        all.push(Backend::Postgres(url));
    }
    all
}

/// Two server instances sharing one database and one master key, each with its own
/// connection pool, and a clock that moves only when told to.
pub struct Cluster {
    /// Instance A's routes.
    pub a: Router,
    /// Instance B's routes.
    pub b: Router,
    /// Instance A's store.
    pub store_a: Arc<dyn Store>,
    /// Instance B's store.
    pub store_b: Arc<dyn Store>,
    /// Shared clock.
    pub clock: Arc<ManualClock>,
    /// The test service.
    pub service: ServiceId,
    /// Its API key.
    pub api_key: String,
    /// The database URL both instances use.
    pub url: String,
    key: Arc<Keyring>,
    scratch: Option<(String, String)>,
}

impl Cluster {
    /// Two instances on `backend`, with the test service under `policy`.
    pub async fn start(backend: &Backend, policy: Policy) -> Cluster {
        let (url, scratch) = match backend {
            Backend::Sqlite(dir) => (
                format!("sqlite:{}", dir.path().join("softtoken.db").display()),
                None,
            ),
            Backend::Postgres(base) => {
                let (url, schema) = scratch::fresh_schema(base).await.unwrap();
                (url, Some((base.clone(), schema)))
            }
        };
        let cluster = Cluster::attach(&url, scratch).await;
        cluster
            .store_a
            .add_service(
                &Service {
                    id: cluster.service.clone(),
                    name: "Test Bank".into(),
                    policy,
                    created_at: START_MS,
                },
                &hash_key(API_KEY),
            )
            .await
            .unwrap();
        cluster
    }

    /// Two instances on the database at `url`, which already holds the test service (a
    /// restored backup); `scratch` is the PostgreSQL schema to drop at the end, if any.
    pub async fn attach(url: &str, scratch: Option<(String, String)>) -> Cluster {
        let store_a = store::connect(url).await.unwrap();
        let store_b = store::connect(url).await.unwrap();
        let clock = Arc::new(ManualClock::new(START_MS));
        let service = ServiceId::new(SERVICE).unwrap();
        let state = |store: &Arc<dyn Store>| {
            AppState::new(
                Arc::clone(store),
                Keyring::parse(MASTER_KEY).unwrap(),
                Arc::clone(&clock) as Arc<dyn Clock>,
                "http://127.0.0.1:8080",
                0,
            )
        };
        Cluster {
            a: app(state(&store_a)),
            b: app(state(&store_b)),
            store_a,
            store_b,
            clock: Arc::clone(&clock),
            service,
            api_key: API_KEY.into(),
            url: url.to_owned(),
            key: Arc::new(Keyring::parse(MASTER_KEY).unwrap()),
            scratch,
        }
    }

    /// Instance A for even `i`, B for odd.
    pub fn instance(&self, i: usize) -> &Router {
        if i.is_multiple_of(2) {
            &self.a
        } else {
            &self.b
        }
    }

    /// The shared clock's now.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A provisioned, unassigned registration-mode token; returns its serial and seed.
    pub async fn unassigned_token(&self) -> (Serial, Vec<u8>) {
        let serial = Serial::generate();
        let mut seed = vec![0u8; 20];
        rand::thread_rng().fill_bytes(&mut seed);
        let mut token = Token::new(
            self.service.clone(),
            serial.clone().into(),
            TokenState::Unassigned,
            OtpParams::REGISTRATION,
            self.key.seal(
                &seed,
                Bound::Seed {
                    service: self.service.as_str(),
                    serial: serial.as_str(),
                },
            ),
            self.now(),
        );
        token.expires_at = Some(self.now() + 86_400_000);
        self.store_a
            .add_provisioned_token(&token, DEFAULT_UNASSIGNED_QUOTA)
            .await
            .unwrap();
        (serial, seed)
    }

    /// An active token bound to `user` (its last accepted step lies in the past).
    pub async fn active_token(&self, user: &UserId) -> (Serial, Vec<u8>) {
        let (serial, seed) = self.unassigned_token().await;
        self.store_b
            .bind_token(
                &Binding {
                    step: StepUse {
                        service_id: self.service.clone(),
                        user_id: user.clone(),
                        serial: serial.clone().into(),
                        step: self.now() / 30_000 - 10,
                        drift: 0,
                    },
                    shared_tokens: false,
                    tokens_per_user: 1,
                    max_failures: 5,
                },
                &NewAuditEvent::new(&self.service, AuditKind::TokenRegistered, "active").user(user),
                self.now(),
            )
            .await
            .unwrap();
        (serial, seed)
    }

    /// Closes the pools and drops the PostgreSQL scratch schema.
    pub async fn finish(self) {
        let scratch = self.scratch.clone();
        drop(self);
        if let Some((base, schema)) = scratch {
            scratch::drop_schema(&base, &schema).await.unwrap();
        }
    }
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, body)
}

/// `POST uri` with a JSON body, bearer `key` if given.
pub async fn post(
    router: &Router,
    uri: &str,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    send(router, request.body(Body::from(body.to_string())).unwrap()).await
}

/// `GET uri` with bearer `key`.
pub async fn get(router: &Router, uri: &str, key: &str) -> (StatusCode, Value) {
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    send(router, request).await
}
