//! Prometheus metrics: every metric's name and labels are written here once, one function
//! per event, and `GET /metrics` renders them on a listener of its own
//! (`--metrics-listen`), so the scrape is never exposed with the API.
//!
//! Recording goes through the `metrics` facade; nothing is recorded (one atomic load per
//! event) until [`install`] put the Prometheus recorder in place. On the hot paths (every
//! request, every checked code) the counter and histogram handles are looked up once per
//! label combination and kept, so a request costs a read lock and a hash of a few static
//! strings, never a label allocation.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Counter, Histogram, Label, counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use softtoken_store::{PoolUse, Store};

/// Latency buckets in seconds: a verify takes about a millisecond, a start-password check
/// tens of milliseconds, a timeout a minute.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// Writes per SQLite group commit: 1 to the writer's largest batch (512).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// How often histograms are folded and old samples dropped between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

use softtoken_store::metrics::{SQLITE_BATCH_WRITES, on};

pub use softtoken_service::metrics::{
    Unlocked, code_checked, database_unavailable, locked_out, revoked, unlocked,
};
pub use softtoken_store::metrics::group_commit;

/// Installs the process-wide Prometheus recorder (once; later calls return the same
/// handle, so tests may start several servers) and describes every metric.
pub fn install() -> Result<PrometheusHandle, String> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(SQLITE_BATCH_WRITES.into()),
                        BATCH_BUCKETS,
                    )
                })
                .and_then(|b| b.install_recorder())
                .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
            describe();
            softtoken_store::metrics::enable();
            Ok(handle)
        })
        .clone()
}

const HTTP_REQUESTS: &str = "softtoken_http_requests_total";
const LOG_LINES_DROPPED: &str = "softtoken_log_lines_dropped_total";
const HTTP_DURATION: &str = "softtoken_http_request_duration_seconds";
const ACTIVATIONS_STARTED: &str = "softtoken_activations_started_total";
const ACTIVATIONS_FINISHED: &str = "softtoken_activations_finished_total";
const ACTIVATIONS_FAILED: &str = "softtoken_activations_failed_total";
const SQLITE_QUEUE: &str = "softtoken_sqlite_writer_queue_depth";
const POOL_CONNECTIONS: &str = "softtoken_db_pool_connections";
const POOL_IDLE: &str = "softtoken_db_pool_idle_connections";
const POOL_MAX: &str = "softtoken_db_pool_max_connections";
const CONSOLE_SIGN_IN_FAILURES: &str = "softtoken_console_sign_in_failures_total";
const CONSOLE_TEMPORARY_LOCKS: &str = "softtoken_console_temporary_locks_total";

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    softtoken_store::metrics::describe();
    softtoken_service::metrics::describe();
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "time to answer an HTTP request, by method, route template and status"
    );
    describe_counter!(
        LOG_LINES_DROPPED,
        "log lines dropped because stderr did not take them fast enough"
    );
    describe_counter!(
        CONSOLE_SIGN_IN_FAILURES,
        "console sign-ins refused for a wrong password or code, or an unknown name"
    );
    describe_counter!(
        CONSOLE_TEMPORARY_LOCKS,
        "console operators locked for a while by wrong tries (the back-off)"
    );
    describe_counter!(ACTIVATIONS_STARTED, "activation starts answered");
    describe_counter!(ACTIVATIONS_FINISHED, "activations finished: a token issued");
    describe_counter!(
        ACTIVATIONS_FAILED,
        "activation starts and finishes refused, by stage and cause (problem code)"
    );
    describe_gauge!(
        SQLITE_QUEUE,
        "reads and writes waiting for the SQLite writer thread"
    );
    describe_gauge!(POOL_CONNECTIONS, "PostgreSQL pool connections open");
    describe_gauge!(POOL_IDLE, "PostgreSQL pool connections open and idle");
    describe_gauge!(POOL_MAX, "PostgreSQL pool connections at most");
}

/// Route templates seen, interned: there are as many as the API has routes, so each is
/// leaked once and then used as a `&'static str` label without copying.
static ROUTES: OnceLock<RwLock<HashMap<Box<str>, &'static str>>> = OnceLock::new();

fn interned(route: &str) -> &'static str {
    let routes = ROUTES.get_or_init(RwLock::default);
    if let Some(found) = routes.read().unwrap_or_else(|e| e.into_inner()).get(route) {
        return found;
    }
    let mut routes = routes.write().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = routes.get(route) {
        return found;
    }
    let leaked: &'static str = Box::leak(route.into());
    routes.insert(route.into(), leaked);
    leaked
}

/// A method as a static label: the standard ones by name, any other as `other` (a client
/// may send any token as a method).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

type RequestKey = (&'static str, &'static str, u16);
static REQUESTS: OnceLock<RwLock<HashMap<RequestKey, (Counter, Histogram)>>> = OnceLock::new();

/// Counts an answered request and its latency. `route` is the route template (axum's
/// `MatchedPath`), or `None` for a request no route matched, counted under `unmatched`, so
/// made-up paths cannot grow the label set.
pub fn request(method: &Method, route: Option<&str>, status: StatusCode, elapsed: Duration) {
    if !on() {
        return;
    }
    let key = (
        route.map_or("unmatched", interned),
        method_label(method),
        status.as_u16(),
    );
    let cache = REQUESTS.get_or_init(RwLock::default);
    let cached = cache
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned();
    let (count, latency) = cached.unwrap_or_else(|| {
        let (route, method, status) = key;
        let labels = vec![
            Label::new("method", method),
            Label::new("route", route),
            Label::new("status", status.to_string()),
        ];
        let handles = (
            counter!(HTTP_REQUESTS, labels.clone()),
            histogram!(HTTP_DURATION, labels),
        );
        cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, handles.clone());
        handles
    });
    count.increment(1);
    latency.record(elapsed.as_secs_f64());
}

/// Counts a console sign-in refused for a wrong password or code (or an unknown name), and
/// the temporary lock it began, if it did.
pub fn console_sign_in_failed(locked: bool) {
    if on() {
        counter!(CONSOLE_SIGN_IN_FAILURES).increment(1);
        if locked {
            counter!(CONSOLE_TEMPORARY_LOCKS).increment(1);
        }
    }
}

/// Which half of an activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `POST /v1/activation/start`.
    Start,
    /// `POST /v1/activation/finish`.
    Finish,
}

/// Counts an activation start or finish: started or finished when `cause` is `None`, else
/// failed with that problem code (`confirmation_failed`, `enrollment_locked`, …).
pub fn activation(stage: Stage, cause: Option<&'static str>) {
    if !on() {
        return;
    }
    match (stage, cause) {
        (Stage::Start, None) => counter!(ACTIVATIONS_STARTED).increment(1),
        (Stage::Finish, None) => counter!(ACTIVATIONS_FINISHED).increment(1),
        (stage, Some(cause)) => {
            let stage = match stage {
                Stage::Start => "start",
                Stage::Finish => "finish",
            };
            counter!(ACTIVATIONS_FAILED, "stage" => stage, "cause" => cause).increment(1);
        }
    }
}

/// Sets the database gauges from the store, just before a scrape renders them.
fn pool(store: &dyn Store) {
    // Gauges take f64; connection counts are far below 2^52.
    match softtoken_service::queries::pool_use(store) {
        PoolUse::Pool { open, idle, max } => {
            gauge!(POOL_CONNECTIONS).set(open as f64);
            gauge!(POOL_IDLE).set(idle as f64);
            gauge!(POOL_MAX).set(max as f64);
        }
        PoolUse::Writer { queued } => gauge!(SQLITE_QUEUE).set(queued as f64),
    }
}

/// The metrics listener's state.
#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Arc<dyn Store>,
}

/// `GET /metrics` (Prometheus text format) alone, over `store`.
pub fn router(handle: PrometheusHandle, store: Arc<dyn Store>) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(Scrape { handle, store })
}

async fn render(State(scrape): State<Scrape>) -> Response {
    pool(&*scrape.store);
    counter!(LOG_LINES_DROPPED).absolute(crate::logs::dropped_lines());
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
        .into_response()
}

/// Serves `GET /metrics` on `listen` until `shutdown` completes, and keeps the histograms
/// folded meanwhile. Returns the address actually bound (for `:0`).
pub async fn serve(
    listen: SocketAddr,
    store: Arc<dyn Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<SocketAddr, String> {
    let handle = install()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("--metrics-listen {listen}: cannot listen ({e})"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("--metrics-listen {listen}: {e}"))?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = router(handle, store);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    });
    tracing::info!(listen = %bound, "serving metrics at /metrics");
    Ok(bound)
}
