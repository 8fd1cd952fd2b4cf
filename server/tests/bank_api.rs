//! The bank API's failure paths: authentication (401/403) on every call, malformed
//! bodies as problem documents, and each call's business refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, assert_problem};
use reqwest::Method;
use serde_json::{Value, json};
use softtoken_protocol::ServiceId;
use softtoken_store::Purged;
use softtoken_store::policy::Policy;

/// Every bank call, with a body that would otherwise be acceptable in shape.
fn bank_calls(serial: &str) -> Vec<(Method, String, Option<Value>)> {
    let u = "/v1/services/bank/users/alice";
    vec![
        (
            Method::POST,
            "/v1/services/bank/enrollments".into(),
            Some(json!({"user_id": "alice", "start_password": "1234"})),
        ),
        (
            Method::POST,
            format!("{u}/confirm"),
            Some(json!({"otp": "123456"})),
        ),
        (
            Method::POST,
            format!("{u}/verify"),
            Some(json!({"otp": "123456"})),
        ),
        (
            Method::POST,
            format!("{u}/tokens"),
            Some(json!({"serial": serial, "otp": "123456"})),
        ),
        (
            Method::POST,
            format!("{u}/replace"),
            Some(json!({"old_otp": "123456", "new_serial": serial, "new_otp": "123456"})),
        ),
        (
            Method::POST,
            format!("{u}/stop"),
            Some(json!({"otp": "123456"})),
        ),
        (Method::POST, format!("{u}/unlock"), None),
        (Method::GET, u.to_string(), None),
        (
            Method::POST,
            format!("/v1/services/bank/tokens/{serial}/revoke"),
            None,
        ),
        (Method::GET, "/v1/services/bank/audit".into(), None),
        (
            Method::POST,
            format!("{u}/transactions"),
            Some(
                json!({"payee_account": "1234", "payee_name": "A", "amount": 1, "currency": "JPY"}),
            ),
        ),
        (
            Method::POST,
            format!("{u}/transactions/tx/verify"),
            Some(json!({"otp": "12345678"})),
        ),
    ]
}

#[tokio::test]
async fn every_bank_call_needs_the_services_own_key() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let other = server.add_service("other", Policy::default()).await;
    let token = server.provision("bank").await;
    for (method, path, body) in bank_calls(token.serial.as_str()) {
        let (status, problem) = server.call(method.clone(), &path, None, body.clone()).await;
        assert_problem(status, &problem, 401, "unauthorized");
        let (status, problem) = server
            .call(method.clone(), &path, Some("stk_not-a-key"), body.clone())
            .await;
        assert_problem(status, &problem, 401, "unauthorized");
        let (status, problem) = server
            .call(method.clone(), &path, Some(&other), body.clone())
            .await;
        assert_problem(status, &problem, 403, "forbidden");
        // And the right key gets past authentication.
        let (status, problem) = server.call(method.clone(), &path, Some(&key), body).await;
        assert!(
            status != 401 && status != 403 && status < 500,
            "{path}: {status} {problem}"
        );
    }
    // A malformed header is a 401 too, not a 500.
    let resp = server
        .http
        .get(format!("{}/v1/services/bank/audit", server.base))
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn malformed_bodies_get_problem_documents() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let url = format!("{}/v1/services/bank/users/alice/verify", server.base);
    let send = |body: String, content_type: &'static str| {
        let req = server
            .http
            .post(&url)
            .bearer_auth(&key)
            .header("Content-Type", content_type)
            .body(body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
            assert_eq!(ct, "application/problem+json");
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = send("{not json".into(), "application/json").await;
    assert_problem(status, &body, 400, "invalid_request");
    let (status, body) = send(r#"{"otp": 123456}"#.into(), "application/json").await;
    assert_problem(status, &body, 422, "invalid_request");
    let (status, body) = send(
        r#"{"otp": "123456", "extra": 1}"#.into(),
        "application/json",
    )
    .await;
    assert_problem(status, &body, 422, "invalid_request");
    assert!(body["detail"].as_str().unwrap().contains("extra"), "{body}");
    let (status, body) = send(r#"{"otp": "123456"}"#.into(), "text/plain").await;
    assert_problem(status, &body, 415, "unsupported_media_type");
    let big = format!(r#"{{"otp": "{}"}}"#, "1".repeat(17 * 1024));
    let (status, body) = send(big, "application/json").await;
    assert_problem(status, &body, 413, "payload_too_large");
    let (status, body) = send(r#"{"otp": "12ab56"}"#.into(), "application/json").await;
    assert_problem(status, &body, 422, "invalid_request");
    assert_eq!(body["detail"], "otp: must be 6 to 8 digits", "{body}");

    // Invalid IDs in the path or body, and an unknown route.
    let (status, body) = server
        .post(
            "/v1/services/bank/users/al%20ice/verify",
            &key,
            json!({"otp": "123456"}),
        )
        .await;
    assert_problem(status, &body, 400, "invalid_request");
    let (status, body) = server
        .post(
            "/v1/services/bank/enrollments",
            &key,
            json!({"user_id": "a/b", "start_password": "1234"}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_request");
    let (status, body) = server.get("/v1/nothing", &key).await;
    assert_problem(status, &body, 404, "not_found");
    let (status, body) = server.get("/v1/services/bank/audit?limit=0", &key).await;
    assert_problem(status, &body, 400, "invalid_request");
    let (status, body) = server.get("/v1/services/bank/audit?limit=x", &key).await;
    assert_problem(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn enrollment_refusals() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    for password in ["123", &"x".repeat(65), "パスワード", "12\n34"] {
        let (status, body) = server.enroll(&key, "bank", "alice", password).await;
        assert_problem(status, &body, 400, "invalid_request");
    }
    for ttl in [0, 59, 30 * 86_400 + 1] {
        let (status, body) = server
            .post(
                "/v1/services/bank/enrollments",
                &key,
                json!({"user_id": "alice", "start_password": "1234", "ttl_seconds": ttl}),
            )
            .await;
        assert_problem(status, &body, 400, "invalid_request");
    }
    // An active token blocks a new enrollment.
    server.enroll(&key, "bank", "alice", "1234").await;
    let token = server.activate("bank", "alice", "1234").await;
    let (_, body) = server
        .post(
            "/v1/services/bank/users/alice/confirm",
            &key,
            json!({"otp": token.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok");
    let (status, body) = server.enroll(&key, "bank", "alice", "1234").await;
    assert_problem(status, &body, 409, "token_exists");
}

#[tokio::test]
async fn activation_guesses_expiry_and_replacement() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let (_, status, body) = server.start_activation("bank", "nobody", "1234").await;
    assert_problem(status, &body, 404, "enrollment_not_found");
    let (_, status, body) = server.start_activation("nobank", "alice", "1234").await;
    assert_problem(status, &body, 404, "enrollment_not_found");

    // Five starts use up the enrollment; the sixth is refused.
    server.enroll(&key, "bank", "alice", "right").await;
    for left in (0..5).rev() {
        let (_, status, body) = server.start_activation("bank", "alice", "wrong").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["attempts_left"], left);
    }
    let (_, status, body) = server.start_activation("bank", "alice", "right").await;
    assert_problem(status, &body, 403, "enrollment_locked");

    // A newer enrollment replaces the locked one.
    server.enroll(&key, "bank", "alice", "right").await;
    let (_, status, _) = server.start_activation("bank", "alice", "right").await;
    assert_eq!(status, 200);

    // Enrollments expire.
    let (status, _) = server
        .post(
            "/v1/services/bank/enrollments",
            &key,
            json!({"user_id": "bob", "start_password": "right", "ttl_seconds": 60}),
        )
        .await;
    assert_eq!(status, 201);
    server.advance_secs(60);
    let (_, status, body) = server.start_activation("bank", "bob", "right").await;
    assert_problem(status, &body, 410, "enrollment_expired");

    // Sessions expire after five minutes.
    server.enroll(&key, "bank", "carol", "right").await;
    let (app, status, body) = server.start_activation("bank", "carol", "right").await;
    assert_eq!(status, 200);
    let response: softtoken_protocol::activation::StartResponse =
        serde_json::from_value(body).unwrap();
    let session = app.finish(&response).unwrap();
    server.advance_secs(301);
    let finish = softtoken_protocol::activation::FinishRequest {
        session_id: response.session_id,
        confirmation: softtoken_protocol::wire::B64(session.app_confirmation().to_vec()),
        serial: softtoken_protocol::Serial::generate(),
    };
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/activation/finish",
            None,
            Some(serde_json::to_value(&finish).unwrap()),
        )
        .await;
    assert_problem(status, &body, 410, "session_expired");

    // A garbage SPAKE2 message is a 400, not a 500.
    server.enroll(&key, "bank", "dave", "right").await;
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/activation/start",
            None,
            Some(json!({"service_id": "bank", "user_id": "dave", "message": "AAAA"})),
        )
        .await;
    assert_problem(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn registration_replace_stop_and_revoke_refusals() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let u = "/v1/services/bank/users";
    let token = server.provision("bank").await;

    // A malformed provisioning request.
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/provisioning",
            None,
            Some(json!({"service_id": "bank", "serial": "SKTS0000000X", "public_key": "AAAA"})),
        )
        .await;
    assert!(status == 422 || status == 400, "{status} {body}");

    // Unknown serial, wrong code.
    let unknown = softtoken_protocol::Serial::generate();
    let (status, body) = server
        .post(
            &format!("{u}/bob/tokens"),
            &key,
            json!({"serial": unknown.as_str(), "otp": "123456"}),
        )
        .await;
    assert_problem(status, &body, 404, "not_found");
    let (status, body) = server
        .post(
            &format!("{u}/bob/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": token.wrong_code(&server)}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_otp");

    // Registered once; a second user may not share it (not allowed here).
    let (status, _) = server
        .post(
            &format!("{u}/bob/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": token.code(&server)}),
        )
        .await;
    assert_eq!(status, 201);
    server.advance_secs(30);
    let (status, body) = server
        .post(
            &format!("{u}/carol/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": token.code(&server)}),
        )
        .await;
    assert_problem(status, &body, 409, "conflict");
    // Bob may hold one token only.
    let second = server.provision("bank").await;
    let (status, body) = server
        .post(
            &format!("{u}/bob/tokens"),
            &key,
            json!({"serial": second.serial.as_str(), "otp": second.code(&server)}),
        )
        .await;
    assert_problem(status, &body, 409, "token_exists");

    // Replace: a wrong old code counts as a failure; a wrong new code is refused.
    let (status, body) = server
        .post(
            &format!("{u}/bob/replace"),
            &key,
            json!({"old_otp": token.wrong_code(&server), "new_serial": second.serial.as_str(),
                   "new_otp": second.code(&server)}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_otp");
    assert_eq!(body["attempts_left"], 4);
    let (status, body) = server
        .post(
            &format!("{u}/bob/replace"),
            &key,
            json!({"old_otp": token.code(&server), "new_serial": second.serial.as_str(),
                   "new_otp": second.wrong_code(&server)}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_otp");
    let (status, body) = server
        .post(
            &format!("{u}/nobody/replace"),
            &key,
            json!({"old_otp": "123456", "new_serial": second.serial.as_str(), "new_otp": "123456"}),
        )
        .await;
    assert_problem(status, &body, 404, "not_found");

    // Stop needs a right code; unknown users are 404.
    let (status, body) = server
        .post(
            &format!("{u}/bob/stop"),
            &key,
            json!({"otp": token.wrong_code(&server)}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_otp");
    let (status, body) = server
        .post(&format!("{u}/nobody/stop"), &key, json!({"otp": "123456"}))
        .await;
    assert_problem(status, &body, 404, "not_found");
    let (status, body) = server
        .post(&format!("{u}/nobody/unlock"), &key, json!({}))
        .await;
    assert_problem(status, &body, 404, "not_found");
    let (status, body) = server.get(&format!("{u}/nobody"), &key).await;
    assert_problem(status, &body, 404, "not_found");

    // Revoke: unknown or malformed serials.
    let (status, body) = server
        .post(
            &format!("/v1/services/bank/tokens/{unknown}/revoke"),
            &key,
            json!({}),
        )
        .await;
    assert_problem(status, &body, 404, "not_found");
    let (status, body) = server
        .post(
            // Hardware serials are letters, digits and hyphens: an underscore is neither kind.
            "/v1/services/bank/tokens/NOT_A_SERIAL/revoke",
            &key,
            json!({}),
        )
        .await;
    assert_problem(status, &body, 400, "invalid_request");

    // Verify for users without tokens.
    let (status, body) = server
        .post(
            &format!("{u}/nobody/verify"),
            &key,
            json!({"otp": "123456"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["reason"], "no_token");
}

#[tokio::test]
async fn locked_users_are_refused_everywhere() {
    let server = TestServer::start().await;
    let key = server
        .add_service(
            "bank",
            Policy {
                max_failures: 2,
                ..Policy::default()
            },
        )
        .await;
    let u = "/v1/services/bank/users";
    let token = server.provision("bank").await;
    server
        .post(
            &format!("{u}/bob/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": token.code(&server)}),
        )
        .await;
    for _ in 0..2 {
        server
            .post(
                &format!("{u}/bob/verify"),
                &key,
                json!({"otp": token.wrong_code(&server)}),
            )
            .await;
    }
    server.advance_secs(30);
    let (status, body) = server
        .post(
            &format!("{u}/bob/stop"),
            &key,
            json!({"otp": token.code(&server)}),
        )
        .await;
    assert_problem(status, &body, 409, "locked");
    let (_, body) = server
        .post(
            &format!("{u}/bob/verify"),
            &key,
            json!({"otp": token.code(&server)}),
        )
        .await;
    assert_eq!(
        body,
        json!({"valid": false, "reason": "locked", "failures": 2, "remaining_attempts": 0})
    );
}

#[tokio::test]
async fn the_app_api_is_rate_limited_per_ip() {
    let server = TestServer::start_with(false, 3).await;
    for _ in 0..3 {
        let (status, body) = server.call(Method::GET, "/v1/time", None, None).await;
        assert_eq!(status, 200);
        assert_eq!(body["unix_ms"], common::START_MS);
    }
    let resp = server
        .http
        .get(format!("{}/v1/time", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "60");
    let body: Value = resp.json().await.unwrap();
    assert_problem(429, &body, 429, "rate_limited");
    server.advance_secs(60);
    let (status, _) = server.call(Method::GET, "/v1/time", None, None).await;
    assert_eq!(status, 200);
}

/// The router and the document are built from the same declarations: every operation the
/// document lists is routed (none falls through to the 404 or 405 fallback), and each
/// declares the problem answers every operation of its kind may give.
#[tokio::test]
async fn openapi_describes_every_route() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let (status, body) = server.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert!(body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = body["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let uri = path
                .replace("{sid}", "bank")
                .replace("{uid}", "alice")
                .replace("{serial}", "SKTS00000000")
                .replace("{id}", "tx");
            let json_body = (method == Method::POST).then(|| json!({}));
            let (status, answer) = server
                .call(method.clone(), &uri, Some(&key), json_body)
                .await;
            assert_ne!(status, 405, "{method} {path} is not routed: {answer}");
            assert!(
                !answer["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("no such endpoint"),
                "{method} {path} is not routed: {answer}"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path}");
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path}: {status}");
                }
                let problem = &responses["415"]["content"];
                assert!(
                    problem.get("application/problem+json").is_some(),
                    "{problem}"
                );
            }
            if operation.get("security").is_some() {
                assert!(responses.contains_key("401"), "{method} {path}");
                assert!(responses.contains_key("403"), "{method} {path}");
            }
            operations += 1;
        }
    }
    assert!(paths.contains_key("/openapi.json"));
    assert!(paths.contains_key("/healthz") && paths.contains_key("/readyz"));
    // 21 with POST /v1/tokens/status (issue 16), 23 with the two transfer-challenge calls (issue 15).
    assert_eq!(operations, 23, "{:?}", paths.keys().collect::<Vec<_>>());
}

/// Each checked code leaves one audit event naming its outcome, whether it was written with
/// the check's own commit (accepted, wrong, reused) or on its own (no token, locked).
#[tokio::test]
async fn every_checked_code_is_audited_once_with_its_outcome() {
    let server = TestServer::start().await;
    let key = server
        .add_service(
            "bank",
            Policy {
                max_failures: 3,
                ..Policy::default()
            },
        )
        .await;
    let u = "/v1/services/bank/users";
    let token = server.provision("bank").await;
    let (status, _) = server
        .post(
            &format!("{u}/carol/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": token.code(&server)}),
        )
        .await;
    assert_eq!(status, 201);
    server.advance_secs(30);
    let verify = |otp: String| {
        let server = &server;
        let key = &key;
        async move {
            let (_, body) = server
                .post(&format!("{u}/carol/verify"), key, json!({ "otp": otp }))
                .await;
            body["reason"].as_str().unwrap().to_owned()
        }
    };
    let code = token.code(&server);
    let mut outcomes = vec![
        verify(code.clone()).await,
        verify(code).await,
        verify(token.wrong_code(&server)).await,
        verify(token.wrong_code(&server)).await,
        verify(token.wrong_code(&server)).await,
        verify(token.code(&server)).await,
    ];
    let (_, body) = server
        .post(
            &format!("{u}/nobody/verify"),
            &key,
            json!({"otp": "123456"}),
        )
        .await;
    outcomes.push(body["reason"].as_str().unwrap().to_owned());
    // The reused code is no failure; the third wrong code locks the user (its answer has
    // no attempts left); the next code is refused unchecked.
    assert_eq!(
        outcomes,
        [
            "ok", "reused", "invalid", "invalid", "invalid", "locked", "no_token"
        ]
    );

    let (status, body) = server.get("/v1/services/bank/audit?limit=1000", &key).await;
    assert_eq!(status, 200);
    let verifies: Vec<(String, String)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "verify")
        .map(|e| {
            (
                e["user_id"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("carol", "ok"),
        ("carol", "reused"),
        ("carol", "invalid"),
        ("carol", "invalid"),
        ("carol", "invalid"),
        ("carol", "locked"),
        ("nobody", "no_token"),
    ]
    .iter()
    .map(|(u, d)| (u.to_string(), d.to_string()))
    .collect();
    assert_eq!(verifies, expected);
}

/// Sessions nobody finished and provisioned tokens nobody registered are deleted once they
/// can never be used; everything still usable stays.
#[tokio::test]
async fn expired_sessions_and_unregistered_tokens_are_purged() {
    use softtoken_service::clock::Clock;
    use softtoken_store::policy::{EXPIRED_UNASSIGNED_KEPT_MS, SESSION_TTL_MS, UNASSIGNED_TTL_MS};
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let purge = || {
        let now = server.clock.now_ms();
        server
            .store
            .purge_expired(now, now - EXPIRED_UNASSIGNED_KEPT_MS)
    };

    // A started, abandoned activation; a provisioned token left unregistered; another one
    // registered to a user.
    assert_eq!(
        server.enroll(&key, "bank", "dan", "start-2468").await.0,
        201
    );
    let (_, status, _) = server.start_activation("bank", "dan", "start-2468").await;
    assert_eq!(status, 200);
    let forgotten = server.provision("bank").await;
    let registered = server.provision("bank").await;
    let (status, body) = server
        .post(
            "/v1/services/bank/users/erin/tokens",
            &key,
            json!({"serial": registered.serial.as_str(), "otp": registered.code(&server)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(purge().await.unwrap(), Purged::default());

    server.advance_secs(SESSION_TTL_MS / 1000 + 1);
    assert_eq!(
        purge().await.unwrap(),
        Purged {
            sessions: 1,
            tokens: 0,
            mails: 0
        }
    );

    // Expired, but within the grace that lets a late registration hear "expired".
    server.advance_secs(UNASSIGNED_TTL_MS / 1000);
    assert_eq!(purge().await.unwrap(), Purged::default());
    let late = server.provision("bank").await;
    server.advance_secs(EXPIRED_UNASSIGNED_KEPT_MS / 1000);
    assert_eq!(
        purge().await.unwrap(),
        Purged {
            sessions: 0,
            tokens: 1,
            mails: 0
        }
    );
    let store = &server.store;
    let bank = ServiceId::new("bank").unwrap();
    assert!(
        store
            .token(&bank, &forgotten.serial.clone().into())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .token(&bank, &registered.serial.clone().into())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .token(&bank, &late.serial.clone().into())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(purge().await.unwrap(), Purged::default());
}

/// A finish with a serial some token already has is refused as `serial_taken` and changes
/// nothing: the same session then finishes with a fresh serial, once.
#[tokio::test]
async fn a_taken_serial_leaves_the_activation_session_usable() {
    use softtoken_protocol::activation::{FinishRequest, StartResponse};
    use softtoken_protocol::wire::B64;

    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let taken = server.provision("bank").await.serial;
    assert_eq!(
        server.enroll(&key, "bank", "fay", "start-1357").await.0,
        201
    );
    let (app, status, body) = server.start_activation("bank", "fay", "start-1357").await;
    assert_eq!(status, 200, "{body}");
    let started: StartResponse = serde_json::from_value(body).unwrap();
    let session = app.finish(&started).unwrap();
    let finish = |serial: softtoken_protocol::Serial| {
        let request = FinishRequest {
            session_id: started.session_id.clone(),
            confirmation: B64(session.app_confirmation().to_vec()),
            serial,
        };
        let server = &server;
        async move {
            server
                .call(
                    Method::POST,
                    "/v1/activation/finish",
                    None,
                    Some(serde_json::to_value(&request).unwrap()),
                )
                .await
        }
    };
    let (status, body) = finish(taken).await;
    assert_problem(status, &body, 409, "serial_taken");
    let (status, body) = finish(softtoken_protocol::Serial::generate()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = finish(softtoken_protocol::Serial::generate()).await;
    assert_problem(status, &body, 410, "session_expired");
    let (_, body) = server.get("/v1/services/bank/users/fay", &key).await;
    assert_eq!(body["tokens"].as_array().unwrap().len(), 1, "{body}");
}

/// The first code of a start-password token has eight digits, a registration token's six:
/// `confirm` and registration answer a code of the other length with the digits expected
/// and count nothing, so a customer who types the wrong length is told so, never locked.
#[tokio::test]
async fn confirm_and_register_name_the_digits_of_a_code_of_the_wrong_length() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let u = "/v1/services/bank/users";

    server.enroll(&key, "bank", "alice", "right").await;
    let pending = server.activate("bank", "alice", "right").await;
    assert_eq!(pending.params.digits.get(), 8);
    for _ in 0..6 {
        let (status, body) = server
            .post(
                &format!("{u}/alice/confirm"),
                &key,
                json!({"otp": "123456"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["reason"], "wrong_length", "{body}");
        assert_eq!(
            (body["digits"].as_u64(), body["failures"].as_u64()),
            (Some(8), Some(0))
        );
    }
    let (_, body) = server
        .post(
            &format!("{u}/alice/confirm"),
            &key,
            json!({"otp": pending.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok", "{body}");

    let provisioned = server.provision("bank").await;
    assert_eq!(provisioned.params.digits.get(), 6);
    let register = |otp: String| {
        let server = &server;
        let key = &key;
        let serial = provisioned.serial.as_str().to_owned();
        async move {
            server
                .post(
                    &format!("{u}/bob/tokens"),
                    key,
                    json!({"serial": serial, "otp": otp}),
                )
                .await
        }
    };
    for _ in 0..6 {
        let (status, body) = register("12345678".into()).await;
        assert_problem(status, &body, 422, "wrong_length");
        assert_eq!(
            (body["digits"].as_u64(), body["attempts_left"].as_u64()),
            (Some(6), Some(5))
        );
    }
    let (status, body) = register(provisioned.code(&server)).await;
    assert_eq!(status, 201, "{body}");
}
