#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The server under faults (issue 26, item 1): PostgreSQL stopped and started under load,
//! SQLite on a full disk, and a clock jumping back and forward.
//!
//! While the database is out of reach every request that needs it is answered 503
//! `unavailable` with `Retry-After` in bounded time (never 500, never a hang), the console
//! shows a plain page, `/metrics` counts it, and the server recovers by itself. Nothing is
//! accepted twice and nothing counted twice, whatever the faults.
//!
//! The PostgreSQL test makes a cluster of its own on a free port (`pg_createcluster`, as
//! root, which CI is) so that stopping it disturbs no other test; it runs when
//! `SOFTTOKEN_TEST_POSTGRES_URL` is set, as every PostgreSQL test. The disk-full test mounts
//! a small tmpfs (root too).

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use softtoken_protocol::otp::totp;
use softtoken_protocol::{OtpParams, UserId};
use softtoken_store::policy::Policy;
use softtoken_store::scratch;
use support::{Backend, Cluster};
use tower::ServiceExt;

/// Longer than any answer may take while the database is gone: the old pool waited 30 s
/// for a connection. Not a performance target: a hang detector.
const NO_HANG: Duration = Duration::from_secs(10);

/// How long a restarted database may take to be used again.
const RECOVERY: Duration = Duration::from_secs(60);

fn code(seed: &[u8], now_ms: i64) -> String {
    totp(
        seed,
        &OtpParams::REGISTRATION,
        u64::try_from(now_ms / 1000).unwrap(),
    )
    .to_string()
}

async fn verify(cluster: &Cluster, i: usize, user: &str, otp: &str) -> (StatusCode, Value) {
    let path = format!("/v1/services/{}/users/{user}/verify", cluster.service);
    support::post(
        cluster.instance(i),
        &path,
        Some(&cluster.api_key),
        &json!({ "otp": otp }),
    )
    .await
}

/// A raw request to the router: status, headers and body text (HTML or JSON).
async fn raw(
    cluster: &Cluster,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = cluster.a.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// Asserts a 503 `unavailable` problem with `Retry-After`.
fn assert_unavailable(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    assert_eq!(body["code"], "unavailable", "{what}: {body}");
    assert!(body["retry_after"].as_u64().unwrap() > 0, "{what}: {body}");
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?}: {text}");
    text
}

/// A PostgreSQL cluster of the test's own, dropped (stopped first) at the end.
struct ScratchCluster {
    version: String,
    name: String,
    port: u16,
}

impl ScratchCluster {
    fn create() -> ScratchCluster {
        let version = std::fs::read_dir("/etc/postgresql")
            .expect("PostgreSQL's clusters (pg_createcluster) are needed for this test")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let name = format!("st_outage_{}", std::process::id());
        run(
            "pg_createcluster",
            &[
                &version,
                &name,
                "-p",
                &port.to_string(),
                "--",
                "--auth-host=trust",
                "--auth-local=trust",
            ],
        );
        let cluster = ScratchCluster {
            version,
            name,
            port,
        };
        cluster.ctl("start");
        cluster
    }

    fn ctl(&self, action: &str) {
        let mut args = vec![
            "--skip-systemctl-redirect",
            &self.version,
            &self.name,
            action,
        ];
        if action == "stop" {
            // As in the outage this imitates: every connection cut at once.
            args.extend(["-m", "fast"]);
        }
        run("pg_ctlcluster", &args);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for ScratchCluster {
    fn drop(&mut self) {
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", &self.version, &self.name])
            .output();
    }
}

/// Verifies of several users from both instances until `stop`; records every accepted
/// (user, code) and every status seen.
#[derive(Default)]
struct Seen {
    /// User, time step the code was made for, code. Keyed by the step, not by the code
    /// alone: two steps of one seed share a 6-digit code about once in a million pairs,
    /// and a run accepts hundreds of steps per user, so the same digits rightly accepted
    /// at two steps were once taken for a code accepted twice.
    accepted: Vec<(String, i64, String)>,
    statuses: Vec<u16>,
    slowest: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_and_started_under_load_answers_503_then_recovers() {
    if scratch::test_postgres_url().is_none() {
        return; // SQLite-only run: the other tests here cover SQLite.
    }
    let _ = softtoken_server::metrics::install();
    let pg = ScratchCluster::create();
    let cluster = Arc::new(Cluster::start(&Backend::Postgres(pg.url()), Policy::default()).await);
    let mut tokens = Vec::new();
    for n in 0..4 {
        let user = format!("user{n}");
        let (_, seed) = cluster.active_token(&UserId::new(&user).unwrap()).await;
        tokens.push((user, seed));
    }
    let tokens = Arc::new(tokens);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (cluster, tokens, seen, stop) = (
            Arc::clone(&cluster),
            Arc::clone(&tokens),
            Arc::clone(&seen),
            Arc::clone(&stop),
        );
        load.push(tokio::spawn(async move {
            let mut i = worker;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (user, seed) = &tokens[i % tokens.len()];
                let now = cluster.now();
                let otp = code(seed, now);
                let started = Instant::now();
                let (status, body) = verify(&cluster, i, user, &otp).await;
                let took = started.elapsed();
                let mut seen = seen.lock().unwrap();
                seen.slowest = seen.slowest.max(took);
                seen.statuses.push(status.as_u16());
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    assert_unavailable(status, &body, "verify during the outage");
                } else {
                    assert_eq!(status, StatusCode::OK, "{body}");
                }
                if body["valid"] == true {
                    seen.accepted
                        .push((user.clone(), now.div_euclid(30_000), otp));
                }
                drop(seen);
                i += 1;
                // Each step's codes are spent by then; move on to fresh ones now and then.
                if i % 16 == 0 {
                    cluster.clock.advance_ms(30_000);
                }
            }
        }));
    }
    let wait_for = |want: fn(u16) -> bool, seen: Arc<Mutex<Seen>>| async move {
        let from = seen.lock().unwrap().statuses.len();
        let deadline = Instant::now() + RECOVERY;
        loop {
            if seen.lock().unwrap().statuses[from..]
                .iter()
                .any(|s| want(*s))
            {
                return;
            }
            assert!(Instant::now() < deadline, "the load saw no such answer");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    wait_for(|s| s == 200, Arc::clone(&seen)).await;

    pg.ctl("stop");
    wait_for(|s| s == 503, Arc::clone(&seen)).await;
    // A bank's own calls while the database is down: refused in bounded time, and the
    // console says so in words.
    let started = Instant::now();
    let (status, body) = verify(&cluster, 0, "user0", "123456").await;
    assert_unavailable(status, &body, "verify");
    let (status, body) = support::get(
        &cluster.a,
        &format!("/v1/services/{}/users/user0", cluster.service),
        &cluster.api_key,
    )
    .await;
    assert_unavailable(status, &body, "user read");
    let (status, headers, page) = raw(
        &cluster,
        Request::get("/console")
            .header(header::COOKIE, "console_session=any")
            .header(header::ACCEPT_LANGUAGE, "ja")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(headers.contains_key(header::RETRY_AFTER));
    assert!(page.contains("一時的に利用できません"), "{page}");
    assert!(
        started.elapsed() < NO_HANG,
        "answers took {:?}",
        started.elapsed()
    );

    pg.ctl("start");
    wait_for(|s| s == 200, Arc::clone(&seen)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }

    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    assert!(
        seen.statuses.iter().all(|s| matches!(s, 200 | 503)),
        "{:?}",
        seen.statuses.iter().collect::<HashSet<_>>()
    );
    assert!(seen.slowest < NO_HANG, "a verify took {:?}", seen.slowest);
    let unique: HashSet<_> = seen.accepted.iter().collect();
    assert_eq!(
        unique.len(),
        seen.accepted.len(),
        "a code was accepted twice"
    );
    let metrics = softtoken_server::metrics::install().unwrap().render();
    let counted = metrics
        .lines()
        .find(|l| l.starts_with("softtoken_database_unavailable_total"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(counted >= 1.0, "{metrics}");
    Arc::try_unwrap(cluster).ok().unwrap().finish().await;
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted at the end.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "softtoken-test",
                dir.path().to_str().unwrap(),
            ],
        );
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left of the disk; returns the filler file.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .args(["-l", self.dir.path().to_str().unwrap()])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_on_a_full_disk_refuses_writes_with_503_reads_on_and_recovers_intact() {
    let disk = SmallDisk::mount("8m");
    let backend = Backend::Sqlite(tempfile::tempdir_in(disk.path()).unwrap());
    let database = match &backend {
        Backend::Sqlite(dir) => dir.path().join("softtoken.db"),
        Backend::Postgres(_) => unreachable!(),
    };
    let cluster = Cluster::start(&backend, Policy::default()).await;
    let user = UserId::new("alice").unwrap();
    let (_, seed) = cluster.active_token(&user).await;
    cluster.clock.advance_ms(30_000);
    let spent = code(&seed, cluster.now());
    let (_, body) = verify(&cluster, 0, "alice", &spent).await;
    assert_eq!(body["valid"], true, "{body}");

    let filler = disk.fill();
    // Writes until the disk refuses one: each enrollment adds rows and an audit event.
    let mut issued = Vec::new();
    let mut refused = None;
    for n in 0..5_000 {
        let uid = format!("customer{n}");
        let (status, body) = support::post(
            &cluster.a,
            &format!("/v1/services/{}/enrollments", cluster.service),
            Some(&cluster.api_key),
            &json!({"user_id": uid, "start_password": "start-1234"}),
        )
        .await;
        match status {
            StatusCode::CREATED => issued.push(uid),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_unavailable(status, &body, "an enrollment on a full disk");
                refused = Some(uid);
                break;
            }
            other => panic!("an enrollment on a full disk: {other} {body}"),
        }
    }
    let refused = refused.expect("the disk never filled");

    // Reads go on.
    let (status, body) = support::get(
        &cluster.a,
        &format!("/v1/services/{}/users/alice", cluster.service),
        &cluster.api_key,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A verify is a write: refused, and the spent code stays spent either way.
    let (status, body) = verify(&cluster, 1, "alice", &spent).await;
    assert!(
        status == StatusCode::SERVICE_UNAVAILABLE || body["reason"] == "reused",
        "{status} {body}"
    );

    // Space returns: writes resume by themselves.
    std::fs::remove_file(filler).unwrap();
    let (status, body) = support::post(
        &cluster.a,
        &format!("/v1/services/{}/enrollments", cluster.service),
        Some(&cluster.api_key),
        &json!({"user_id": refused, "start_password": "start-1234"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    cluster.clock.advance_ms(30_000);
    let (_, body) = verify(&cluster, 0, "alice", &code(&seed, cluster.now())).await;
    assert_eq!(body["valid"], true, "{body}");
    let (_, body) = verify(&cluster, 1, "alice", &spent).await;
    assert_eq!(body["valid"], false, "{body}");

    // Every enrollment answered 201 is there, and the file is intact.
    for uid in issued.iter().chain([&refused]) {
        let (status, body) = support::get(
            &cluster.a,
            &format!("/v1/services/{}/users/{uid}", cluster.service),
            &cluster.api_key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{uid}: {body}");
    }
    cluster.finish().await;
    let conn = rusqlite::Connection::open(&database).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clock_jumping_back_and_forward_accepts_nothing_twice_and_counts_each_failure_once() {
    for backend in support::backends() {
        let policy = Policy {
            max_failures: 10,
            ..Policy::default()
        };
        let cluster = Cluster::start(&backend, policy).await;
        let (_, seed) = cluster.active_token(&UserId::new("alice").unwrap()).await;
        cluster.clock.advance_ms(30_000);
        let first = code(&seed, cluster.now());
        let (_, body) = verify(&cluster, 0, "alice", &first).await;
        assert_eq!(body["valid"], true, "{backend}: {body}");

        // Back ten minutes: the code of that moment is older than the last one accepted.
        cluster.clock.advance_ms(-600_000);
        let past = code(&seed, cluster.now());
        for i in 0..2 {
            let (_, body) = verify(&cluster, i, "alice", &past).await;
            assert_eq!(body["valid"], false, "{backend}: {body}");
        }
        // And the code accepted before the jump is not taken again either way.
        let (_, body) = verify(&cluster, 1, "alice", &first).await;
        assert_eq!(body["valid"], false, "{backend}: {body}");

        // Forward again, twenty minutes: one fresh code, once.
        cluster.clock.advance_ms(1_200_000);
        let later = code(&seed, cluster.now());
        let answers: Vec<Value> = futures_answers(&cluster, "alice", &later, 3).await;
        let accepted = answers.iter().filter(|b| b["valid"] == true).count();
        assert_eq!(accepted, 1, "{backend}: {answers:?}");

        // Failures: each wrong code counted once, however the clock moved between them.
        let (_, after_success) = support::get(
            &cluster.a,
            &format!("/v1/services/{}/users/alice", cluster.service),
            &cluster.api_key,
        )
        .await;
        let base = after_success["failures"].as_u64().unwrap_or(0);
        for (i, jump) in [-300_000i64, 600_000, -900_000].into_iter().enumerate() {
            cluster.clock.advance_ms(jump);
            let (_, body) = verify(&cluster, i, "alice", "000000").await;
            assert_eq!(body["valid"], false, "{backend}: {body}");
        }
        let (_, user) = support::get(
            &cluster.a,
            &format!("/v1/services/{}/users/alice", cluster.service),
            &cluster.api_key,
        )
        .await;
        assert_eq!(
            user["failures"].as_u64().unwrap_or(0),
            base + 3,
            "{backend}: {user}"
        );
        cluster.finish().await;
    }
}

/// `n` verifies of the same code at once, from both instances.
async fn futures_answers(cluster: &Cluster, user: &str, otp: &str, n: usize) -> Vec<Value> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let router = cluster.instance(i).clone();
        let path = format!("/v1/services/{}/users/{user}/verify", cluster.service);
        let key = cluster.api_key.clone();
        let otp = otp.to_owned();
        tasks.push(tokio::spawn(async move {
            support::post(&router, &path, Some(&key), &json!({ "otp": otp }))
                .await
                .1
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}
