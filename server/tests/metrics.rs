//! `GET /metrics` after a story: every counter moved by exactly what the story did.
//! Runs on SQLite, and on PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set. The
//! recorder is process-wide, so this binary holds this one test: nothing else counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{TestServer, assert_problem};
use serde_json::json;
use softtoken_protocol::Serial;
use softtoken_protocol::activation::{FinishRequest, StartResponse};
use softtoken_protocol::wire::B64;
use softtoken_store::policy::Policy;

/// Series (name and labels sorted, `name{a="1",b="2"}`) to value.
type Scrape = HashMap<String, f64>;

/// The series of a Prometheus text exposition, keyed canonically.
fn parse(text: &str) -> Scrape {
    let mut series = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name_labels, value) = line.rsplit_once(' ').expect(line);
        let value: f64 = value.parse().expect(line);
        let key = match name_labels.split_once('{') {
            None => name_labels.to_owned(),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect(line);
                key(name, &labels(body))
            }
        };
        assert!(
            series.insert(key, value).is_none(),
            "a series twice: {line}"
        );
    }
    series
}

/// `a="x",b="y"` as pairs; values may hold `{`, `}`, `/` (route templates) and escapes.
fn labels(body: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").expect(body);
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect(body) {
                (_, '\\') => value.push(chars.next().expect(body).1),
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        pairs.push((name.to_owned(), value));
        rest = after[end + 1..].trim_start_matches(',');
    }
    pairs
}

fn key<N: AsRef<str>, V: AsRef<str>>(name: &str, labels: &[(N, V)]) -> String {
    let mut sorted: Vec<String> = labels
        .iter()
        .map(|(n, v)| format!("{}=\"{}\"", n.as_ref(), v.as_ref()))
        .collect();
    sorted.sort();
    format!("{name}{{{}}}", sorted.join(","))
}

async fn scrape(http: &reqwest::Client, url: &str) -> (Scrape, String) {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = response.text().await.unwrap();
    (parse(&text), text)
}

/// How much a series moved between two scrapes (absent counts as 0).
fn moved(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let k = if labels.is_empty() {
        name.to_owned()
    } else {
        key(name, labels)
    };
    after.get(&k).copied().unwrap_or(0.0) - before.get(&k).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn a_story_moves_each_counter_by_exactly_what_it_did() {
    let server = TestServer::start().await;
    let bound = softtoken_server::metrics::serve(
        "127.0.0.1:0".parse().unwrap(),
        server.store.clone(),
        std::future::pending(),
    )
    .await
    .unwrap();
    let url = format!("http://{bound}/metrics");
    let http = reqwest::Client::new();
    let key = server
        .add_service(
            "obs",
            Policy {
                max_failures: 3,
                ..Policy::default()
            },
        )
        .await;
    let users = "/v1/services/obs/users";
    let (before, _) = scrape(&http, &url).await;

    // Enrollment; a wrong start password (started, then refused at finish); the right one.
    let (status, body) = server.enroll(&key, "obs", "alice", "4321abcd").await;
    assert_eq!(status, 201, "{body}");
    let (_, status, body) = server.start_activation("obs", "alice", "wrong-pw").await;
    assert_eq!(status, 200, "{body}");
    let response: StartResponse = serde_json::from_value(body).unwrap();
    let bogus = FinishRequest {
        session_id: response.session_id,
        confirmation: B64(vec![0; 32]),
        serial: Serial::generate(),
    };
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            "/v1/activation/finish",
            None,
            Some(serde_json::to_value(&bogus).unwrap()),
        )
        .await;
    assert_problem(status, &body, 400, "confirmation_failed");
    let alice = server.activate("obs", "alice", "4321abcd").await;

    // Confirm; a right code, then it again; three wrong ones lock alice; one refused locked.
    let (_, body) = server
        .post(
            &format!("{users}/alice/confirm"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok", "{body}");
    server.advance_secs(60);
    let (_, body) = server
        .post(
            &format!("{users}/alice/verify"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok", "{body}");
    // The same code again (a double submit): metered as reused, not a step toward the lock.
    let (_, body) = server
        .post(
            &format!("{users}/alice/verify"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "reused", "{body}");
    assert_eq!(body["failures"], 0, "{body}");
    for _ in 0..3 {
        let (_, body) = server
            .post(
                &format!("{users}/alice/verify"),
                &key,
                json!({"otp": alice.wrong_code(&server)}),
            )
            .await;
        assert_eq!(body["reason"], "invalid", "{body}");
    }
    let (_, body) = server
        .post(
            &format!("{users}/alice/verify"),
            &key,
            json!({"otp": alice.wrong_code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "locked", "{body}");

    // Unlock, revoke.
    let (status, body) = server
        .post(&format!("{users}/alice/unlock"), &key, json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .post(
            &format!("/v1/services/obs/tokens/{}/revoke", alice.serial),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Console sign-ins (issue 22): five wrong passwords lock the operator for a while (one
    // temporary lock), a sixth while locked is refused and counted as a failure only, and
    // an unknown name is a failure too.
    console_operator(&server, "obs-op").await;
    for name in [
        "obs-op", "obs-op", "obs-op", "obs-op", "obs-op", "obs-op", "nobody",
    ] {
        assert_eq!(console_sign_in(&server, name, "wrong password!").await, 401);
    }

    let (after, text) = scrape(&http, &url).await;
    let m = |name: &str, labels: &[(&str, &str)]| moved(&before, &after, name, labels);

    let checks = "softtoken_code_checks_total";
    assert_eq!(m(checks, &[("purpose", "confirm"), ("reason", "ok")]), 1.0);
    assert_eq!(m(checks, &[("purpose", "verify"), ("reason", "ok")]), 1.0);
    assert_eq!(
        m(checks, &[("purpose", "verify"), ("reason", "invalid")]),
        3.0
    );
    assert_eq!(
        m(checks, &[("purpose", "verify"), ("reason", "locked")]),
        1.0
    );
    assert_eq!(
        m(checks, &[("purpose", "verify"), ("reason", "reused")]),
        1.0
    );
    assert_eq!(m("softtoken_lockouts_total", &[]), 1.0);
    assert_eq!(m("softtoken_unlocks_total", &[("what", "user")]), 1.0);
    assert_eq!(m("softtoken_unlocks_total", &[("what", "token")]), 0.0);
    assert_eq!(m("softtoken_revocations_total", &[]), 1.0);
    assert_eq!(m("softtoken_activations_started_total", &[]), 2.0);
    assert_eq!(m("softtoken_activations_finished_total", &[]), 1.0);
    let failed = "softtoken_activations_failed_total";
    assert_eq!(
        m(
            failed,
            &[("stage", "finish"), ("cause", "confirmation_failed")]
        ),
        1.0
    );
    let failures: f64 = after
        .iter()
        .filter(|(k, _)| k.starts_with(failed))
        .map(|(k, v)| v - before.get(k).copied().unwrap_or(0.0))
        .sum();
    assert_eq!(failures, 1.0, "one failed activation in all");
    assert_eq!(m("softtoken_console_sign_in_failures_total", &[]), 7.0);
    assert_eq!(m("softtoken_console_temporary_locks_total", &[]), 1.0);
    // Exposed from the first scrape on, and nothing dropped in a story's worth of lines.
    assert_eq!(after.get("softtoken_log_lines_dropped_total"), Some(&0.0));

    // Requests by route template and status, with as many latencies.
    let requests = |route: &str, status: &str| {
        let labels = [("method", "POST"), ("route", route), ("status", status)];
        let count = m("softtoken_http_requests_total", &labels);
        let timed = m("softtoken_http_request_duration_seconds_count", &labels);
        assert_eq!(
            count, timed,
            "{route} {status}: counted {count}, timed {timed}"
        );
        count
    };
    assert_eq!(
        requests("/v1/services/{sid}/users/{uid}/verify", "200"),
        6.0
    );
    assert_eq!(
        requests("/v1/services/{sid}/users/{uid}/confirm", "200"),
        1.0
    );
    assert_eq!(requests("/v1/services/{sid}/enrollments", "201"), 1.0);
    assert_eq!(requests("/v1/activation/start", "200"), 2.0);
    assert_eq!(requests("/v1/activation/finish", "200"), 1.0);
    assert_eq!(requests("/v1/activation/finish", "400"), 1.0);
    assert_eq!(
        requests("/v1/services/{sid}/users/{uid}/unlock", "200"),
        1.0
    );
    assert_eq!(
        requests("/v1/services/{sid}/tokens/{serial}/revoke", "200"),
        1.0
    );
    // No raw path, user ID or serial became a label.
    assert!(!text.contains("alice"), "{text}");
    assert!(!text.contains(alice.serial.as_str()), "{text}");

    // The database: SQLite's group commits, or PostgreSQL's pool.
    if server.db_path.is_some() {
        let commits = m("softtoken_sqlite_group_commit_writes_count", &[]);
        let writes = m("softtoken_sqlite_group_commit_writes_sum", &[]);
        // At least the story's writes (enrollment, 2 starts, a discarded and a finished
        // session, confirm, 5 verifies, unlock, revoke), each commit at least one.
        assert!(writes >= 13.0, "{writes} writes");
        assert!(commits >= 1.0 && commits <= writes, "{commits} commits");
        assert_eq!(
            m("softtoken_sqlite_group_commit_duration_seconds_count", &[]),
            commits
        );
        assert_eq!(m("softtoken_sqlite_group_commits_failed_total", &[]), 0.0);
        assert_eq!(after["softtoken_sqlite_writer_queue_depth"], 0.0);
    } else {
        let open = after["softtoken_db_pool_connections"];
        assert!(open >= 1.0, "{open} connections open");
        assert!(after["softtoken_db_pool_max_connections"] >= open);
        assert!(
            after["softtoken_db_pool_idle_connections"] <= after["softtoken_db_pool_connections"]
        );
    }
}

/// Adds a help-desk operator of service `obs` (password `operator password 1`).
async fn console_operator(server: &TestServer, name: &str) {
    use softtoken_store::NewAuditEvent;
    use softtoken_store::audit::AuditKind;
    use softtoken_store::console::{NewOperator, OperatorRole};
    let sid = softtoken_protocol::ServiceId::new("obs").unwrap();
    server
        .store
        .add_operator(
            &NewOperator {
                service_id: Some(sid.clone()),
                name: name.into(),
                role: OperatorRole::Helpdesk,
                password_hash: softtoken_server::console::password::hash("operator password 1")
                    .unwrap(),
            },
            &NewAuditEvent::new(&sid, AuditKind::OperatorAdded, name),
            server.state.now(),
        )
        .await
        .unwrap();
}

/// One console sign-in with a fresh CSRF pair from the sign-in page; its status.
async fn console_sign_in(server: &TestServer, name: &str, password: &str) -> u16 {
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/console/login", server.base))
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let body = page.text().await.unwrap();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = &body[at..at + body[at..].find('"').unwrap()];
    http.post(format!("{}/console/login", server.base))
        .header("cookie", pair)
        .form(&[("name", name), ("password", password), ("csrf", csrf)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
