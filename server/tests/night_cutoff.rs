//! The night cut-off of the guides (issue 13, item 8), with the server's clock set: a token
//! revoked between 20:50 and 08:10 in Tokyo (UTC+9, no daylight saving) may be replaced
//! from 08:10, across midnight; outside the window the ordinary cool-down holds. On the
//! backend the run uses (PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::TimeZone;
use common::{START_MS, TestServer, assert_problem};
use serde_json::{Value, json};
use softtoken_store::night_cutoff::NightCutoff;
use softtoken_store::policy::Policy;

/// Unix ms of a wall-clock time in Tokyo on a November day of 2023 (after `START_MS`).
fn jst(day: u32, h: u32, m: u32, s: u32) -> i64 {
    chrono_tz::Asia::Tokyo
        .with_ymd_and_hms(2023, 11, day, h, m, s)
        .single()
        .unwrap()
        .timestamp_millis()
}

/// Moves the server's clock forward to `at`.
fn set_clock(server: &TestServer, at: i64) {
    let now = server.state.now();
    assert!(at >= now, "the clock only moves forward");
    server.clock.advance_ms(at - now);
}

/// The API's form of an instant.
fn rfc3339(unix_ms: i64) -> String {
    softtoken_server::routes::rfc3339(unix_ms)
}

async fn bank() -> (TestServer, String) {
    assert!(jst(15, 12, 0, 0) > START_MS);
    let server = TestServer::start().await;
    let policy = Policy {
        night_cutoff: Some(NightCutoff::parse("20:50-08:10", "Asia/Tokyo").unwrap()),
        ..Policy::default()
    };
    assert_eq!(policy.cooldown_secs, 30 * 60);
    let key = server.add_service("bank", policy).await;
    (server, key)
}

/// Issues `uid` a token and revokes it now; returns the revocation's answer.
async fn issue_and_revoke(server: &TestServer, key: &str, uid: &str) -> Value {
    let (status, body) = server.enroll(key, "bank", uid, "start-1111").await;
    assert_eq!(status, 201, "{body}");
    let token = server.activate("bank", uid, "start-1111").await;
    let (status, body) = server
        .post(
            &format!("/v1/services/bank/tokens/{}/revoke", token.serial),
            key,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn shown_cooldown(server: &TestServer, key: &str, uid: &str) -> Value {
    let (status, body) = server
        .get(&format!("/v1/services/bank/users/{uid}"), key)
        .await;
    assert_eq!(status, 200, "{body}");
    body["cooldown_until"].clone()
}

/// Asserts a new enrollment is refused for `retry_after` more seconds.
async fn refused_for(server: &TestServer, key: &str, uid: &str, retry_after: u64) {
    let (status, body) = server.enroll(key, "bank", uid, "start-2222").await;
    assert_problem(status, &body, 409, "cooldown");
    assert_eq!(body["retry_after"], retry_after, "{body}");
}

#[tokio::test]
async fn revoked_before_midnight_a_new_token_waits_until_0810() {
    let (server, key) = bank().await;
    set_clock(&server, jst(20, 23, 59, 0));
    let revoked = issue_and_revoke(&server, &key, "alice").await;
    // 08:10 JST on the 21st is 23:10 UTC on the 20th.
    let morning = jst(21, 8, 10, 0);
    assert_eq!(rfc3339(morning), "2023-11-20T23:10:00.000Z");
    assert_eq!(revoked["cooldown_until"], rfc3339(morning), "{revoked}");
    assert_eq!(
        shown_cooldown(&server, &key, "alice").await,
        rfc3339(morning)
    );

    // Long past the ordinary 30 minutes, across midnight: still refused, until 08:10.
    set_clock(&server, jst(21, 0, 30, 0));
    refused_for(&server, &key, "alice", (7 * 60 + 40) * 60).await;
    set_clock(&server, jst(21, 8, 9, 59));
    refused_for(&server, &key, "alice", 1).await;
    set_clock(&server, morning);
    assert_eq!(shown_cooldown(&server, &key, "alice").await, Value::Null);
    let (status, body) = server.enroll(&key, "bank", "alice", "start-3333").await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn revoked_after_midnight_the_same_morning_and_outside_the_window_as_ever() {
    let (server, key) = bank().await;
    // At 20:49 the window has not begun: 30 minutes, though they end inside it.
    set_clock(&server, jst(20, 20, 49, 0));
    let revoked = issue_and_revoke(&server, &key, "bob").await;
    let ordinary = jst(20, 21, 19, 0);
    assert_eq!(revoked["cooldown_until"], rfc3339(ordinary), "{revoked}");
    set_clock(&server, jst(20, 21, 18, 0));
    refused_for(&server, &key, "bob", 60).await;
    set_clock(&server, ordinary);
    assert_eq!(
        server.enroll(&key, "bank", "bob", "start-3333").await.0,
        201
    );

    // At 00:30 the window began the day before: 08:10 the same morning.
    set_clock(&server, jst(21, 0, 30, 0));
    let revoked = issue_and_revoke(&server, &key, "carol").await;
    assert_eq!(revoked["cooldown_until"], rfc3339(jst(21, 8, 10, 0)));
    refused_for(&server, &key, "carol", (7 * 60 + 40) * 60).await;

    // At 08:10 the window is over: 30 minutes again.
    set_clock(&server, jst(21, 8, 10, 0));
    let revoked = issue_and_revoke(&server, &key, "dave").await;
    assert_eq!(revoked["cooldown_until"], rfc3339(jst(21, 8, 40, 0)));
    assert_eq!(
        server.enroll(&key, "bank", "carol", "start-3333").await.0,
        201
    );
    refused_for(&server, &key, "dave", 30 * 60).await;
}

/// The window set on the command line is stored (migration 0003) and read back by the
/// server and by `service list`.
#[tokio::test]
async fn service_add_stores_the_window_and_service_list_shows_it() {
    let (url, dir, _) = common::database(true);
    let url = common::isolated(url).await;
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
            .args(args)
            .args(["--database", &url, "--data-dir"])
            .arg(data.path())
            .env_remove("SOFTTOKEN_MASTER_KEY")
            .env_remove("SOFTTOKEN_CONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        )
    };
    let (ok, _, stderr) = run(&[
        "service",
        "add",
        "--id",
        "shinkin",
        "--name",
        "Shinkin",
        "--night-cutoff",
        "20:50-08:10",
    ]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(&[
        "service",
        "add",
        "--id",
        "utc",
        "--name",
        "UTC bank",
        "--night-cutoff",
        "22:00-06:00",
        "--night-cutoff-zone",
        "UTC",
    ]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(&["service", "add", "--id", "plain", "--name", "Plain"]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(&[
        "service",
        "add",
        "--id",
        "bad",
        "--name",
        "Bad",
        "--night-cutoff",
        "20:50-08:10",
        "--night-cutoff-zone",
        "Asia/Osaka",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("--night-cutoff: 'Asia/Osaka' is not an IANA time zone"),
        "{stderr}"
    );

    let (ok, list, stderr) = run(&["service", "list"]);
    assert!(ok, "{stderr}");
    let line = |id: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{id}\t")))
            .unwrap_or_else(|| panic!("no {id} in {list}"))
            .to_owned()
    };
    assert!(
        line("shinkin").ends_with(" night-cutoff 20:50-08:10 Asia/Tokyo"),
        "{list}"
    );
    assert!(
        line("utc").ends_with(" night-cutoff 22:00-06:00 UTC"),
        "{list}"
    );
    assert!(!line("plain").contains("night-cutoff"), "{list}");
    assert!(!list.contains("bad\t"), "{list}");

    let store = softtoken_store::connect(&url).await.unwrap();
    let sid = softtoken_protocol::ServiceId::new("shinkin").unwrap();
    let shinkin = store.service(&sid).await.unwrap().unwrap();
    assert_eq!(
        shinkin.policy.night_cutoff,
        Some(NightCutoff::parse("20:50-08:10", "Asia/Tokyo").unwrap())
    );
    drop(dir);
}
