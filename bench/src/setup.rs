//! The server under test: its database, its bulk-loaded tokens and enrollments, and the
//! HTTP listener, all on the server's own runtime.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use sha2::{Digest, Sha256};
use softtoken_protocol::{Serial, ServiceId};
use softtoken_server::auth::hash_key;
use softtoken_server::client_addr::TrustedProxies;
use softtoken_server::console::gate::{PasswordPool, QUEUE_DEADLINE, QUEUE_PER_PERMIT};
use softtoken_server::{AppState, app};
use softtoken_service::clock::Clock;
use softtoken_service::crypto::{Bound, Keyring, MasterKey, random_id};
use softtoken_store::NewAuditEvent;
use softtoken_store::audit::AuditKind;
use softtoken_store::console::{NewOperator, OperatorRole};
use softtoken_store::policy::Policy;
use softtoken_store::{self as store, PostgresStore, Service, Store, scratch};
use sqlx::QueryBuilder;
use tokio::sync::oneshot;

use crate::Args;

/// The bench service's ID.
pub const SERVICE: &str = "bench";
/// Its API key (a benchmark, not a secret).
pub const API_KEY: &str = "stk_benchmark-key";
/// The console operator whose sign-ins the `console-flood` scenario times.
pub const OPERATOR: &str = "bench-operator";
/// Their password (a benchmark, not a secret).
pub const OPERATOR_PASSWORD: &str = "bench operator password";
/// Rows per bulk `INSERT` (13 columns: below SQLite's 32,766 parameters).
const CHUNK: usize = 2_000;
/// Fresh codes per real second the tokens must be able to supply (see `--clock-speed`).
const FRESH_CODES_PER_SECOND: f64 = 40_000.0;
/// The registration-mode period the bench tokens use, in seconds.
pub const PERIOD: i64 = 30;

/// A clock that runs `speed` times faster than real time from the moment it is made.
#[derive(Debug)]
pub struct FastClock {
    origin: Instant,
    origin_ms: i64,
    speed: f64,
}

impl FastClock {
    fn new(speed: f64) -> Self {
        let origin_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        FastClock {
            origin: Instant::now(),
            origin_ms,
            speed,
        }
    }

    /// How fast it runs.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

impl Clock for FastClock {
    fn now_ms(&self) -> i64 {
        let elapsed = self.origin.elapsed().as_secs_f64() * 1000.0 * self.speed;
        self.origin_ms + elapsed as i64
    }
}

/// The seed of bench token `i`: derived, so the load generator needs no table of them.
pub fn seed(i: usize) -> [u8; 20] {
    let digest = Sha256::new()
        .chain_update(b"softtoken-bench/seed")
        .chain_update((i as u64).to_le_bytes())
        .finalize();
    let mut seed = [0u8; 20];
    seed.copy_from_slice(&digest[..20]);
    seed
}

/// The user holding bench token `i`.
pub fn token_user(i: usize) -> String {
    format!("b{i}")
}

/// The user of bench enrollment `i`.
pub fn enrollment_user(i: usize) -> String {
    format!("a{i}")
}

/// Inserts users, active tokens and bindings, then users and open enrollments, in
/// chunked multi-row `INSERT`s, one transaction per chunk. A macro because the two
/// backends' query builders are different types with the same methods.
macro_rules! bulk_load {
    ($db:ty, $pool:expr, $rows:expr) => {{
        let rows = $rows;
        let service = SERVICE;
        let step = rows.now / 1000 / PERIOD;
        for (chunk_no, chunk) in rows.serials.chunks(CHUNK).enumerate() {
            let first = chunk_no * CHUNK;
            let mut tx = $pool.begin().await?;
            let mut users = QueryBuilder::<$db>::new(
                "INSERT INTO users (service_id, user_id, failures, locked, created_at) ",
            );
            users.push_values(0..chunk.len(), |mut b, k| {
                b.push_bind(service)
                    .push_bind(token_user(first + k))
                    .push_bind(0i64)
                    .push_bind(false)
                    .push_bind(rows.now);
            });
            users.build().execute(&mut *tx).await?;
            let mut tokens = QueryBuilder::<$db>::new(
                "INSERT INTO tokens (serial, service_id, state, algorithm, digits, period, \
                 seed, last_step, drift, created_at, activated_at) ",
            );
            tokens.push_values(chunk.iter().enumerate(), |mut b, (k, serial)| {
                let sealed = rows.key.seal(
                    &seed(first + k),
                    Bound::Seed {
                        service: SERVICE,
                        serial: serial.as_str(),
                    },
                );
                b.push_bind(serial.as_str().to_string())
                    .push_bind(service)
                    .push_bind("active")
                    .push_bind("sha1")
                    .push_bind(6i64)
                    .push_bind(PERIOD)
                    .push_bind(sealed)
                    .push_bind(step - 10)
                    .push_bind(0i64)
                    .push_bind(rows.now)
                    .push_bind(rows.now);
            });
            tokens.build().execute(&mut *tx).await?;
            let mut bindings = QueryBuilder::<$db>::new(
                "INSERT INTO token_users (service_id, user_id, serial, bound_at) ",
            );
            bindings.push_values(chunk.iter().enumerate(), |mut b, (k, serial)| {
                b.push_bind(service)
                    .push_bind(token_user(first + k))
                    .push_bind(serial.as_str().to_string())
                    .push_bind(rows.now);
            });
            bindings.build().execute(&mut *tx).await?;
            tx.commit().await?;
        }
        for (chunk_no, chunk) in rows.enrollments.chunks(CHUNK).enumerate() {
            let first = chunk_no * CHUNK;
            let mut tx = $pool.begin().await?;
            let mut users = QueryBuilder::<$db>::new(
                "INSERT INTO users (service_id, user_id, failures, locked, created_at) ",
            );
            users.push_values(0..chunk.len(), |mut b, k| {
                b.push_bind(service)
                    .push_bind(enrollment_user(first + k))
                    .push_bind(0i64)
                    .push_bind(false)
                    .push_bind(rows.now);
            });
            users.build().execute(&mut *tx).await?;
            let mut enrollments = QueryBuilder::<$db>::new(
                "INSERT INTO enrollments (id, service_id, user_id, w, guesses, created_at, \
                 expires_at) ",
            );
            enrollments.push_values(chunk.iter().enumerate(), |mut b, (k, w)| {
                let id = random_id();
                let sealed = rows.key.seal(w, Bound::W { enrollment: &id });
                b.push_bind(id)
                    .push_bind(service)
                    .push_bind(enrollment_user(first + k))
                    .push_bind(sealed)
                    .push_bind(0i64)
                    .push_bind(rows.now)
                    // Far enough ahead for any clock speed the bench runs at.
                    .push_bind(rows.now + 1_000 * 86_400_000);
            });
            enrollments.build().execute(&mut *tx).await?;
            tx.commit().await?;
        }
    }};
}

/// A running server and what the load generator needs to know about it.
pub struct Server {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its clock (shared with the load generator).
    pub clock: Arc<FastClock>,
    /// The bench service.
    pub service: ServiceId,
    /// Active tokens created.
    pub tokens: usize,
    /// Token `i`'s serial (user `b{i}`), for status calls.
    pub serials: Vec<Serial>,
    /// `w` of each enrollment, by index.
    pub enrollments: Vec<[u8; 32]>,
    /// Seconds the bulk load of tokens and enrollments took.
    pub load_seconds: f64,
    /// The `Cookie` pair of a browser the console-flood's real operator signed in from
    /// before (a device cookie, minted with the server's key).
    pub operator_device: String,
    /// What the soak adds: a console session, and the SMTP sink mails go to.
    pub soak: Option<crate::soak::Extras>,
    /// The (token, step) pairs not yet used, across every scenario of the run.
    pub steps: crate::load::Steps,
    /// The next enrollment to activate (or user number to enroll), across the run.
    pub next_enrollment: std::sync::atomic::AtomicUsize,
    shutdown: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<()>,
    scratch: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// Creates the database, loads it and starts serving.
    pub async fn start(args: &Args) -> Result<Server, Box<dyn std::error::Error>> {
        let (url, backend, dir, scratch) = if args.database == "sqlite" {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite:{}", dir.path().join("bench.db").display());
            (url, "sqlite", Some(dir), None)
        } else if args.database.starts_with("postgres") {
            let (url, schema) = scratch::fresh_schema(&args.database).await?;
            (url, "postgres", None, Some((args.database.clone(), schema)))
        } else {
            return Err("--database must be `sqlite` or a postgres:// URL".into());
        };
        let store: Arc<dyn Store> = if backend == "postgres" {
            Arc::new(PostgresStore::connect_with(&url, args.pg_connections).await?)
        } else {
            store::connect(&url).await?
        };
        let speed = if args.clock_speed > 0.0 {
            args.clock_speed
        } else if args.soak > 0 {
            // Real time: console sessions and mail retries keep their real lifetimes.
            1.0
        } else {
            (FRESH_CODES_PER_SECOND * PERIOD as f64 / args.tokens as f64).max(1.0)
        };
        let clock = Arc::new(FastClock::new(speed));
        let now = clock.now_ms();
        let service = ServiceId::new(SERVICE)?;
        let policy = Policy {
            // Every wrong code is counted, and nobody locks in the `invalid` scenario.
            max_failures: 1_000_000_000,
            ..Policy::default()
        };
        store
            .add_service(
                &Service {
                    id: service.clone(),
                    name: "Bench Bank".into(),
                    policy,
                    created_at: now,
                },
                &hash_key(API_KEY),
            )
            .await?;
        let key = Keyring::from(MasterKey::generate());
        let started = Instant::now();
        let mut w_keys = Vec::with_capacity(args.enrollments);
        for _ in 0..args.enrollments {
            let mut w = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut w);
            w_keys.push(w);
        }
        let token_serials = serials(args.tokens);
        let rows = Rows {
            key: &key,
            now,
            serials: &token_serials,
            enrollments: &w_keys,
        };
        if backend == "postgres" {
            let pool = sqlx::PgPool::connect(&url).await?;
            bulk_load!(sqlx::Postgres, &pool, rows);
            pool.close().await;
        } else {
            let pool = sqlx::SqlitePool::connect(&url).await?;
            bulk_load!(sqlx::Sqlite, &pool, rows);
            pool.close().await;
        }
        let load_seconds = started.elapsed().as_secs_f64();
        // A real operator of the bench service, for the console-flood scenario.
        let hash = softtoken_server::console::password::hash(OPERATOR_PASSWORD)?;
        store
            .add_operator(
                &NewOperator {
                    service_id: Some(service.clone()),
                    name: OPERATOR.into(),
                    role: OperatorRole::Helpdesk,
                    password_hash: hash,
                },
                &NewAuditEvent::new(&service, AuditKind::OperatorAdded, OPERATOR),
                now,
            )
            .await?;
        let pool = match args.sign_in_permits {
            0 => PasswordPool::for_this_machine(),
            n => PasswordPool::new(n, n * QUEUE_PER_PERMIT, QUEUE_DEADLINE),
        };
        let state = AppState::new(
            Arc::clone(&store),
            key,
            Arc::clone(&clock) as Arc<dyn Clock>,
            "http://127.0.0.1",
            // The load comes from one address: no per-IP limit.
            0,
        )
        // The console flood comes "through a proxy" on loopback, from many addresses.
        .with_trusted_proxies(TrustedProxies::new(vec!["127.0.0.1/32".parse()?]))
        .with_sign_in_pool(pool);
        // What a browser the real operator fully signed in from before carries.
        let operator_device = softtoken_server::console::device::cookie_for(&state, OPERATOR)
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let (state, soak) = if args.soak > 0 {
            let (state, extras) = crate::soak::prepare(state, &*store, &service, now).await?;
            (state, Some(extras))
        } else {
            (state, None)
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        // The production accept loop and its limits, as `softtoken-server serve` runs it.
        let served = tokio::spawn(softtoken_server::serve::serve(
            listener,
            app(state),
            softtoken_server::serve::Limits::default(),
            async {
                let _ = stop.await;
            },
        ));
        let steps = crate::load::Steps::new(Arc::clone(&clock) as Arc<dyn Clock>, args.tokens);
        Ok(Server {
            operator_device,
            backend,
            addr,
            clock,
            service,
            tokens: args.tokens,
            serials: token_serials,
            enrollments: w_keys,
            load_seconds,
            soak,
            steps,
            next_enrollment: std::sync::atomic::AtomicUsize::new(0),
            shutdown,
            served,
            scratch,
            _dir: dir,
        })
    }

    /// Stops serving and drops the PostgreSQL scratch schema.
    pub async fn stop(self) -> Result<(), Box<dyn std::error::Error>> {
        let _ = self.shutdown.send(());
        self.served.await?;
        if let Some((base, schema)) = &self.scratch {
            scratch::drop_schema(base, schema).await?;
        }
        Ok(())
    }
}

/// What to bulk-load.
struct Rows<'a> {
    key: &'a Keyring,
    now: i64,
    serials: &'a [Serial],
    enrollments: &'a [[u8; 32]],
}

/// Unique random serials (the generator's space is 32^7; at a million tokens a repeat
/// is likely enough to need checking).
fn serials(n: usize) -> Vec<Serial> {
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let serial = Serial::generate();
        if seen.insert(serial.as_str().to_string()) {
            out.push(serial);
        }
    }
    out
}
