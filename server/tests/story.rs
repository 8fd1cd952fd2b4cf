//! The whole life of tokens on a real server on port 0 (issue 4's acceptance story):
//! issue → activate (wrong password first) → confirm → verify → reused → locked →
//! unlock → provision + register → shared token → replace → stop → revoke →
//! cool-down → new enrollment. Runs on SQLite, and on PostgreSQL when
//! `SOFTTOKEN_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, assert_problem};
use serde_json::json;
use softtoken_protocol::ProtocolError;
use softtoken_protocol::Serial;
use softtoken_protocol::activation::{FinishRequest, StartResponse};
use softtoken_protocol::wire::B64;
use softtoken_store::policy::Policy;

#[tokio::test]
async fn a_token_from_issue_to_revocation() {
    let server = TestServer::start().await;
    let policy = Policy {
        shared_tokens: true,
        ..Policy::default()
    };
    let key = server.add_service("shinkin", policy).await;
    let users = "/v1/services/shinkin/users";

    // Issue: the URI names server, service and user, never the password.
    let (status, body) = server.enroll(&key, "shinkin", "alice", "4321abcd").await;
    assert_eq!(status, 201, "{body}");
    let uri = body["activation_uri"].as_str().unwrap();
    assert!(uri.starts_with("softtoken://activate?server=http%3A%2F%2F127.0.0.1%3A"));
    assert!(uri.ends_with("&service=shinkin&user=alice"));
    assert!(!uri.contains("4321abcd"));
    assert!(body["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(body["expires_at"], "2023-11-15T22:14:00.000Z");

    // A wrong start password: the app sees the confirmation fail, 4 tries left.
    let (app, status, body) = server
        .start_activation("shinkin", "alice", "wrong-pw")
        .await;
    assert_eq!(status, 200, "{body}");
    let response: StartResponse = serde_json::from_value(body).unwrap();
    assert_eq!(response.attempts_left, 4);
    assert_eq!(
        app.finish(&response).unwrap_err(),
        ProtocolError::ConfirmationMismatch
    );
    // An app that finishes anyway is refused, and its session is gone.
    let bogus = FinishRequest {
        session_id: response.session_id.clone(),
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
    assert_eq!(body["attempts_left"], 4);
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            "/v1/activation/finish",
            None,
            Some(serde_json::to_value(&bogus).unwrap()),
        )
        .await;
    assert_problem(status, &body, 410, "session_expired");

    // The right password: an 8-digit, 60 s token, pending until confirmed.
    let alice = server.activate("shinkin", "alice", "4321abcd").await;
    assert_eq!(alice.params.digits.get(), 8);
    assert_eq!(alice.params.period.seconds(), 60);
    let (_, body) = server
        .post(
            &format!("{users}/alice/verify"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "pending", "{body}");
    // The enrollment is single-use.
    let (_, status, body) = server
        .start_activation("shinkin", "alice", "4321abcd")
        .await;
    assert_problem(status, &body, 404, "enrollment_not_found");

    // Confirm with the first code.
    let (status, body) = server
        .post(
            &format!("{users}/alice/confirm"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["reason"], "ok");

    // Verify: the confirmed code cannot be used again; the next step's code works once.
    let (_, body) = server
        .post(
            &format!("{users}/alice/verify"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "reused", "{body}");
    server.advance_secs(60);
    let code = alice.code(&server);
    let (_, body) = server
        .post(&format!("{users}/alice/verify"), &key, json!({"otp": code}))
        .await;
    assert_eq!(
        body,
        json!({"valid": true, "reason": "ok", "failures": 0, "remaining_attempts": 5})
    );
    // A spent code is refused but never counted as a guess, however often it comes back
    // (a customer who double-submits loses no try).
    for _ in 0..6 {
        let (_, body) = server
            .post(&format!("{users}/alice/verify"), &key, json!({"otp": code}))
            .await;
        assert_eq!(
            body,
            json!({"valid": false, "reason": "reused", "failures": 0, "remaining_attempts": 5})
        );
    }

    // Wrong codes until locked; then even a right code is refused.
    for failures in 1..=5 {
        let (_, body) = server
            .post(
                &format!("{users}/alice/verify"),
                &key,
                json!({"otp": alice.wrong_code(&server)}),
            )
            .await;
        assert_eq!(body["reason"], "invalid", "{body}");
        assert_eq!(body["failures"], failures);
        assert_eq!(body["remaining_attempts"], 5 - failures);
    }
    server.advance_secs(60);
    let (_, body) = server
        .post(
            &format!("{users}/alice/verify"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "locked", "{body}");
    assert_eq!(body["valid"], false);
    let (_, body) = server.get(&format!("{users}/alice"), &key).await;
    assert_eq!(body["locked"], true, "{body}");

    // Unlock; the same (unused) code now works.
    let (status, body) = server
        .post(&format!("{users}/alice/unlock"), &key, json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["locked"], false);
    let (_, body) = server
        .post(
            &format!("{users}/alice/verify"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok", "{body}");

    // Registration mode: a 6-digit, 30 s token registered to bob...
    let shared = server.provision("shinkin").await;
    assert_eq!(shared.params.digits.get(), 6);
    assert_eq!(shared.params.period.seconds(), 30);
    let (status, body) = server
        .post(
            &format!("{users}/bob/tokens"),
            &key,
            json!({"serial": shared.serial.grouped(), "otp": shared.code(&server)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tokens"][0]["state"], "active");
    assert_eq!(body["tokens"][0]["serial"], shared.serial.as_str());
    // ...and, as the service allows it, shared with carol (with the next code).
    server.advance_secs(30);
    let (status, body) = server
        .post(
            &format!("{users}/carol/tokens"),
            &key,
            json!({"serial": shared.serial.as_str(), "otp": shared.code(&server)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // Bob changes phones: old code, new serial + new code, atomically.
    server.advance_secs(30);
    let bobs_new = server.provision("shinkin").await;
    let (status, body) = server
        .post(
            &format!("{users}/bob/replace"),
            &key,
            json!({
                "old_otp": shared.code(&server),
                "new_serial": bobs_new.serial.as_str(),
                "new_otp": bobs_new.code(&server),
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let tokens = body["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1, "{body}");
    assert_eq!(tokens[0]["serial"], bobs_new.serial.as_str());
    // Carol still holds the shared token.
    server.advance_secs(30);
    let (_, body) = server
        .post(
            &format!("{users}/carol/verify"),
            &key,
            json!({"otp": shared.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok", "{body}");

    // Carol stops OTP: the shared token, held by nobody now, is revoked.
    server.advance_secs(30);
    let (status, body) = server
        .post(
            &format!("{users}/carol/stop"),
            &key,
            json!({"otp": shared.code(&server)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokens"], json!([]));
    let (_, body) = server
        .post(
            &format!("{users}/carol/verify"),
            &key,
            json!({"otp": shared.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "no_token", "{body}");

    // Alice loses her phone: revoke starts a 30-minute cool-down.
    let (status, body) = server
        .post(
            &format!("/v1/services/shinkin/tokens/{}/revoke", alice.serial),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["users"], json!(["alice"]));
    let (_, body) = server
        .post(
            &format!("{users}/alice/verify"),
            &key,
            json!({"otp": alice.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "no_token", "{body}");
    let (status, body) = server.enroll(&key, "shinkin", "alice", "new-pass").await;
    assert_problem(status, &body, 409, "cooldown");
    assert_eq!(body["retry_after"], 1800);
    server.advance_secs(1799);
    let (status, body) = server.enroll(&key, "shinkin", "alice", "new-pass").await;
    assert_problem(status, &body, 409, "cooldown");
    assert_eq!(body["retry_after"], 1);
    server.advance_secs(1);
    let (status, body) = server.enroll(&key, "shinkin", "alice", "new-pass").await;
    assert_eq!(status, 201, "{body}");
    let again = server.activate("shinkin", "alice", "new-pass").await;
    let (_, body) = server
        .post(
            &format!("{users}/alice/confirm"),
            &key,
            json!({"otp": again.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok", "{body}");

    // The audit trail saw all of it, in order; provisioning in a summary, written when the
    // housekeeping task runs.
    server
        .state
        .provisioned
        .flush(&*server.store, server.state.now())
        .await;
    let (status, body) = server
        .get("/v1/services/shinkin/audit?limit=1000", &key)
        .await;
    assert_eq!(status, 200);
    let kinds: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "enrollment_issued",
        "activation_started",
        "activation_failed",
        "activation_finished",
        "confirm",
        "verify",
        "user_locked",
        "user_unlocked",
        "tokens_provisioned",
        "token_registered",
        "token_replaced",
        "otp_stopped",
        "token_revoked",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    let first = body["events"][0]["id"].as_i64().unwrap();
    let (_, page) = server
        .get(
            &format!("/v1/services/shinkin/audit?after={first}&limit=2"),
            &key,
        )
        .await;
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    assert_eq!(page["events"][0]["id"], body["events"][1]["id"]);
}
