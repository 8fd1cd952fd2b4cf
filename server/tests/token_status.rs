//! `POST /v1/tokens/status` (issue 16 item 1): every state a token can reach, told to the
//! token alone, and nothing told to anyone else. On whichever backend the run uses
//! (PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set; `scripts/test.sh` runs this file
//! again on SQLite).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{AppToken, TestServer, assert_problem};
use reqwest::Method;
use serde_json::{Value, json};
use softtoken_protocol::Serial;
use softtoken_protocol::status::{StatusKey, StatusRequest, StatusResponse, TokenStatus};
use softtoken_store::policy::Policy;

const USERS: &str = "/v1/services/bank/users";

fn now_ms(server: &TestServer) -> i64 {
    server.state.now()
}

async fn send(server: &TestServer, request: &StatusRequest) -> (u16, Value) {
    server
        .call(
            Method::POST,
            "/v1/tokens/status",
            None,
            Some(serde_json::to_value(request).unwrap()),
        )
        .await
}

/// Asks as the token would, checks the answer's MAC, and returns the state.
async fn state_of(server: &TestServer, token: &AppToken) -> TokenStatus {
    let key = StatusKey::derive(&token.seed);
    let request = key.request(&token.serial, now_ms(server), rand_nonce());
    let (status, body) = send(server, &request).await;
    assert_eq!(status, 200, "{body}");
    let answer: StatusResponse = serde_json::from_value(body).unwrap();
    key.check_response(&request, &answer).unwrap();
    assert_eq!(answer.server_unix_ms, now_ms(server));
    answer.state
}

fn rand_nonce() -> [u8; 16] {
    let mut n = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut n);
    n
}

async fn ok(server: &TestServer, path: &str, key: &str, body: Value) {
    let (status, answer) = server.post(path, key, body).await;
    assert!((200..300).contains(&status), "{path}: {answer}");
}

#[tokio::test]
async fn a_token_learns_every_state_it_reaches() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;

    // Activated: pending; its first code confirmed: active.
    server.enroll(&key, "bank", "alice", "start-1111").await;
    let first = server.activate("bank", "alice", "start-1111").await;
    assert_eq!(state_of(&server, &first).await, TokenStatus::Pending);

    // Activated again before confirming: the older pending twin is replaced.
    server.enroll(&key, "bank", "alice", "start-2222").await;
    let second = server.activate("bank", "alice", "start-2222").await;
    assert_eq!(state_of(&server, &first).await, TokenStatus::Replaced);
    assert_eq!(state_of(&server, &second).await, TokenStatus::Pending);
    ok(
        &server,
        &format!("{USERS}/alice/confirm"),
        &key,
        json!({"otp": second.code(&server)}),
    )
    .await;
    assert_eq!(state_of(&server, &second).await, TokenStatus::Active);

    // A device change: the old token is replaced, the new one active.
    server.advance_secs(60);
    let new = server.provision("bank").await;
    assert_eq!(state_of(&server, &new).await, TokenStatus::Pending);
    ok(
        &server,
        &format!("{USERS}/alice/replace"),
        &key,
        json!({"old_otp": second.code(&server), "new_serial": new.serial.as_str(),
               "new_otp": new.code(&server)}),
    )
    .await;
    assert_eq!(state_of(&server, &second).await, TokenStatus::Replaced);
    assert_eq!(state_of(&server, &new).await, TokenStatus::Active);

    // OTP stopped for the user: stopped.
    server.advance_secs(60);
    ok(
        &server,
        &format!("{USERS}/alice/stop"),
        &key,
        json!({"otp": new.code(&server)}),
    )
    .await;
    assert_eq!(state_of(&server, &new).await, TokenStatus::Stopped);

    // Revoked by the bank: revoked, and a later stop of nobody changes nothing.
    let bob = server.provision("bank").await;
    ok(
        &server,
        &format!("{USERS}/bob/tokens"),
        &key,
        json!({"serial": bob.serial.as_str(), "otp": bob.code(&server)}),
    )
    .await;
    assert_eq!(state_of(&server, &bob).await, TokenStatus::Active);
    ok(
        &server,
        &format!("/v1/services/bank/tokens/{}/revoke", bob.serial),
        &key,
        json!({}),
    )
    .await;
    assert_eq!(state_of(&server, &bob).await, TokenStatus::Revoked);
    // The earlier answers keep their reasons.
    assert_eq!(state_of(&server, &first).await, TokenStatus::Replaced);
    assert_eq!(state_of(&server, &new).await, TokenStatus::Stopped);
}

/// Nobody but the token can ask: an unknown serial and a wrong MAC get one answer, and
/// a forged or replayed answer does not pass the app's check.
#[tokio::test]
async fn strangers_learn_nothing_and_cannot_forge() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let token = server.provision("bank").await;
    let now = now_ms(&server);

    let wrong_key = StatusKey::derive(b"not the seed of this token!!");
    let (s1, b1) = send(&server, &wrong_key.request(&token.serial, now, [1; 16])).await;
    let (s2, b2) = send(
        &server,
        &wrong_key.request(&Serial::generate(), now, [1; 16]),
    )
    .await;
    assert_problem(s1, &b1, 401, "not_recognised");
    assert_problem(s2, &b2, 401, "not_recognised");
    assert_eq!(b1, b2);

    // An answer to another question (other nonce) does not check.
    let key = StatusKey::derive(&token.seed);
    let asked = key.request(&token.serial, now, [2; 16]);
    let (_, body) = send(&server, &asked).await;
    let answer: StatusResponse = serde_json::from_value(body).unwrap();
    let other = key.request(&token.serial, now, [3; 16]);
    assert!(key.check_response(&other, &answer).is_err());
    let mut forged = answer.clone();
    forged.state = TokenStatus::Revoked;
    assert!(key.check_response(&asked, &forged).is_err());
}

#[tokio::test]
async fn a_time_off_by_more_than_five_minutes_or_a_malformed_field_is_refused() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let token = server.provision("bank").await;
    let key = StatusKey::derive(&token.seed);
    let now = now_ms(&server);
    for skew in [-300_001, 300_001] {
        let (status, body) = send(&server, &key.request(&token.serial, now + skew, [4; 16])).await;
        assert_problem(status, &body, 400, "clock_skew");
        assert!(
            body["detail"].as_str().unwrap().contains("unix_ms"),
            "{body}"
        );
    }
    for skew in [-300_000, 300_000] {
        let (status, body) = send(&server, &key.request(&token.serial, now + skew, [4; 16])).await;
        assert_eq!(status, 200, "{body}");
    }
    let mut short = key.request(&token.serial, now, [5; 16]);
    short.nonce.0.truncate(8);
    let (status, body) = send(&server, &short).await;
    assert_problem(status, &body, 422, "invalid_request");
    assert!(body["detail"].as_str().unwrap().contains("nonce"), "{body}");
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/tokens/status",
            None,
            Some(json!({"serial": "SKTS-nope", "unix_ms": now, "nonce": "AAAA", "mac": "AAAA"})),
        )
        .await;
    assert!((400..500).contains(&status), "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("serial"),
        "{body}"
    );
}

#[tokio::test]
async fn the_route_is_documented_with_every_status() {
    let server = TestServer::start().await;
    let (status, doc) = server.get("/openapi.json", "").await;
    assert_eq!(status, 200);
    let responses = &doc["paths"]["/v1/tokens/status"]["post"]["responses"];
    for code in ["200", "400", "401", "422", "429"] {
        assert!(responses[code].is_object(), "{code}: {responses}");
    }
}
