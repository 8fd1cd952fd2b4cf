//! The holes an outside review found (issue 11), each as the attack or slip it was, on
//! whichever backend the run uses (PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set;
//! `scripts/test.sh` runs this file again on SQLite).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{AppToken, TestServer, assert_problem};
use reqwest::Method;
use serde_json::{Value, json};
use softtoken_store::policy::Policy;

const USERS: &str = "/v1/services/bank/users";

async fn revoke(server: &TestServer, key: &str, token: &AppToken) -> Value {
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

async fn user(server: &TestServer, key: &str, uid: &str) -> Value {
    let (status, body) = server.get(&format!("{USERS}/{uid}"), key).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn audit(server: &TestServer, key: &str) -> Vec<Value> {
    let (status, body) = server.get("/v1/services/bank/audit?limit=1000", key).await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn kinds<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["kind"] == kind).collect()
}

async fn start_raw(server: &TestServer, sid: &str, uid: &str, message: &str) -> (u16, Value) {
    server
        .call(
            Method::POST,
            "/v1/activation/start",
            None,
            Some(json!({"service_id": sid, "user_id": uid, "message": message})),
        )
        .await
}

/// The bypass: E1 activated (pending token), E2 issued beside it, the pending token revoked,
/// then E2 activated and confirmed minutes after the revoke. The revoke must end E2, and
/// nothing may be issued until the cool-down is over.
#[tokio::test]
async fn a_revoke_ends_open_enrollments_and_nothing_activates_during_the_cooldown() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    assert_eq!(
        server.enroll(&key, "bank", "alice", "start-1111").await.0,
        201
    );
    let first = server.activate("bank", "alice", "start-1111").await;
    // The user holds only a pending token, so a second enrollment is accepted.
    assert_eq!(
        server.enroll(&key, "bank", "alice", "start-2222").await.0,
        201
    );
    assert!(user(&server, &key, "alice").await["enrollment"].is_object());

    let revoked = revoke(&server, &key, &first).await;
    let shown = user(&server, &key, "alice").await;
    assert_eq!(shown["enrollment"], Value::Null, "{shown}");
    assert_eq!(
        shown["cooldown_until"], revoked["cooldown_until"],
        "{shown}"
    );

    // E2 is gone: the app hears what it hears for a user with no enrollment at all.
    let (_, status, body) = server.start_activation("bank", "alice", "start-2222").await;
    assert_problem(status, &body, 404, "enrollment_not_found");
    // The bank cannot issue another one until the cool-down ends.
    server.advance_secs(600);
    let (status, body) = server.enroll(&key, "bank", "alice", "start-3333").await;
    assert_problem(status, &body, 409, "cooldown");
    assert_eq!(body["retry_after"], 1200, "{body}");

    server.advance_secs(1200);
    assert_eq!(
        server.enroll(&key, "bank", "alice", "start-4444").await.0,
        201
    );
    let token = server.activate("bank", "alice", "start-4444").await;
    let (_, body) = server
        .post(
            &format!("{USERS}/alice/confirm"),
            &key,
            json!({"otp": token.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok", "{body}");
}

/// An activation started before the revoke cannot finish after it.
#[tokio::test]
async fn an_activation_started_before_a_revoke_cannot_finish_after_it() {
    use softtoken_protocol::activation::{FinishRequest, StartResponse};
    use softtoken_protocol::wire::B64;

    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    server.enroll(&key, "bank", "bob", "start-1111").await;
    let first = server.activate("bank", "bob", "start-1111").await;
    server.enroll(&key, "bank", "bob", "start-2222").await;
    let (app, status, body) = server.start_activation("bank", "bob", "start-2222").await;
    assert_eq!(status, 200, "{body}");
    let started: StartResponse = serde_json::from_value(body).unwrap();
    let session = app.finish(&started).unwrap();

    revoke(&server, &key, &first).await;
    let finish = FinishRequest {
        session_id: started.session_id.clone(),
        confirmation: B64(session.app_confirmation().to_vec()),
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
    assert_problem(status, &body, 404, "enrollment_not_found");
    let tokens = user(&server, &key, "bob").await["tokens"].clone();
    assert_eq!(tokens.as_array().unwrap().len(), 1, "{tokens}");
    assert_eq!(tokens[0]["state"], "revoked");
}

/// Five garbage SPAKE2 messages used to lock a customer's enrollment without a trace. Only
/// a well-formed message is a guess, and every guess is audited with where it came from.
#[tokio::test]
async fn malformed_starts_are_no_guesses_and_every_guess_is_audited() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    server.enroll(&key, "bank", "carol", "start-1111").await;
    // Valid base64, but no SPAKE2 message: refused by the protocol, after the enrollment
    // was read and before anything is counted.
    for message in ["AA", "AAAA", "", &"A".repeat(44)] {
        for _ in 0..2 {
            let (status, body) = start_raw(&server, "bank", "carol", message).await;
            assert_problem(status, &body, 400, "invalid_request");
        }
    }
    // Not base64 at all: the field is wrong.
    let (status, body) = start_raw(&server, "bank", "carol", "not base64!").await;
    assert_problem(status, &body, 422, "invalid_request");
    assert!(
        body["detail"].as_str().unwrap().starts_with("message:"),
        "{body}"
    );
    assert_eq!(
        user(&server, &key, "carol").await["enrollment"]["attempts_left"],
        5
    );
    let (_, status, body) = server.start_activation("bank", "carol", "wrong-pass").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["attempts_left"], 4);
    server.activate("bank", "carol", "start-1111").await;

    let events = audit(&server, &key).await;
    let guesses = kinds(&events, "activation_started");
    assert_eq!(guesses.len(), 2, "{events:?}");
    for guess in guesses {
        assert_eq!(guess["user_id"], "carol");
        assert!(
            guess["detail"].as_str().unwrap().contains("127.0.0.1"),
            "{guess}"
        );
    }
}

/// Which customers exist is not the app API's to tell: an unknown service, an unknown user,
/// a user whose enrollment was used and a user who never had one all get the same answer.
#[tokio::test]
async fn the_app_api_does_not_reveal_which_customers_exist() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    server.enroll(&key, "bank", "dave", "start-1111").await;
    server.activate("bank", "dave", "start-1111").await;
    let token = server.provision("bank").await;
    let (status, _) = server
        .post(
            &format!("{USERS}/erin/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": token.code(&server)}),
        )
        .await;
    assert_eq!(status, 201);
    let mut answers = Vec::new();
    for (sid, uid) in [
        ("nobank", "dave"),
        ("bank", "nobody"),
        ("bank", "dave"),
        ("bank", "erin"),
    ] {
        let (_, status, body) = server.start_activation(sid, uid, "start-1111").await;
        assert_problem(status, &body, 404, "enrollment_not_found");
        answers.push(body);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    // Only the service that exists got per-user buckets: made-up services cannot fill
    // the limiter.
    assert_eq!(server.state.user_limit.keys(), 3);
}

/// A wrong code used to count only when the user already had a row, and a wrong new code
/// of a device change never. Each counts now, against the user and against the token, and
/// a token that collects `max_failures` wrong registration codes waits for the bank.
#[tokio::test]
async fn wrong_registration_and_replacement_codes_count() {
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
    let token = server.provision("bank").await;
    let register = |uid: &'static str, otp: String| {
        let (server, key, serial) = (&server, &key, token.serial.clone());
        async move {
            server
                .post(
                    &format!("{USERS}/{uid}/tokens"),
                    key,
                    json!({"serial": serial.as_str(), "otp": otp}),
                )
                .await
        }
    };
    let (status, body) = register("frank", token.wrong_code(&server)).await;
    assert_problem(status, &body, 422, "invalid_otp");
    assert_eq!(body["attempts_left"], 2, "{body}");
    assert_eq!(user(&server, &key, "frank").await["failures"], 1);
    for uid in ["gina", "hana"] {
        let (status, body) = register(uid, token.wrong_code(&server)).await;
        assert_problem(status, &body, 422, "invalid_otp");
    }
    // Three wrong codes against one token: even the right code of its owner waits.
    let (status, body) = register("frank", token.code(&server)).await;
    assert_problem(status, &body, 409, "token_locked");
    let (status, body) = server
        .post(
            &format!("/v1/services/bank/tokens/{}/unlock", token.serial),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = register("frank", token.code(&server)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["failures"], 0);

    // Device change with a wrong code of the new token: counted and audited.
    server.advance_secs(30);
    let new = server.provision("bank").await;
    let (status, body) = server
        .post(
            &format!("{USERS}/frank/replace"),
            &key,
            json!({"old_otp": token.code(&server), "new_serial": new.serial.as_str(),
                   "new_otp": new.wrong_code(&server)}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_otp");
    assert_eq!(body["attempts_left"], 2, "{body}");
    assert_eq!(user(&server, &key, "frank").await["failures"], 1);
    let events = audit(&server, &key).await;
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e["serial"] == new.serial.as_str() && e["detail"] == "invalid")
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    // The old code was not spent by the refused change: it still replaces.
    let (status, body) = server
        .post(
            &format!("{USERS}/frank/replace"),
            &key,
            json!({"old_otp": token.code(&server), "new_serial": new.serial.as_str(),
                   "new_otp": new.code(&server)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Companies share tokens (法人): a colleague's code of this step is a right code, not a
/// guess. It is answered `reused` and charged to nobody but the one who spent it twice.
#[tokio::test]
async fn colleagues_sharing_a_token_are_not_charged_for_each_others_codes() {
    let server = TestServer::start().await;
    let key = server
        .add_service(
            "bank",
            Policy {
                shared_tokens: true,
                ..Policy::default()
            },
        )
        .await;
    let token = server.provision("bank").await;
    let code = token.code(&server);
    let (status, _) = server
        .post(
            &format!("{USERS}/staff1/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": code}),
        )
        .await;
    assert_eq!(status, 201);
    // The second member of staff registers with the code the first just used.
    let (status, body) = server
        .post(
            &format!("{USERS}/staff2/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": code}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_otp");
    assert!(
        body["detail"].as_str().unwrap().contains("already used"),
        "{body}"
    );
    server.advance_secs(30);
    let (status, body) = server
        .post(
            &format!("{USERS}/staff2/tokens"),
            &key,
            json!({"serial": token.serial.as_str(), "otp": token.code(&server)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["failures"], 0, "{body}");

    // Both log on within one time step.
    server.advance_secs(30);
    let code = token.code(&server);
    let verify = |uid: &'static str| {
        let (server, key, code) = (&server, &key, code.clone());
        async move {
            server
                .post(
                    &format!("{USERS}/{uid}/verify"),
                    key,
                    json!({ "otp": code }),
                )
                .await
                .1
        }
    };
    assert_eq!(verify("staff1").await["reason"], "ok");
    let second = verify("staff2").await;
    assert_eq!(second["reason"], "reused", "{second}");
    assert_eq!(second["failures"], 0, "{second}");
    // The one who spent it, replaying it, is refused too, and charged nothing either.
    let replay = verify("staff1").await;
    assert_eq!(replay["reason"], "reused", "{replay}");
    assert_eq!(replay["failures"], 0, "{replay}");
}

/// A spent code tells an attacker nothing, and a customer who double-submits must not lose
/// a try (issue 22, item 8): the confirm's code used to log in, a login code replayed, a
/// spent code given as proof for a stop, and a confirmed transfer's code again are each
/// refused as `reused`, audited, and never counted toward the lockout.
#[tokio::test]
async fn a_spent_code_is_refused_and_audited_but_never_counted() {
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
    let (status, body) = server.enroll(&key, "bank", "rin", "4321abcd").await;
    assert_eq!(status, 201, "{body}");
    let token = server.activate("bank", "rin", "4321abcd").await;
    let code = token.code(&server);
    let (_, body) = server
        .post(&format!("{USERS}/rin/confirm"), &key, json!({"otp": code}))
        .await;
    assert_eq!(body["reason"], "ok", "{body}");
    // More replays than the lockout allows guesses: none of them counts.
    for _ in 0..3 {
        let (_, body) = server
            .post(&format!("{USERS}/rin/verify"), &key, json!({"otp": code}))
            .await;
        assert_eq!(
            body,
            json!({"valid": false, "reason": "reused", "failures": 0, "remaining_attempts": 2})
        );
    }
    // As the proof of a stop: refused (the step is spent), not counted.
    let (status, body) = server
        .post(&format!("{USERS}/rin/stop"), &key, json!({"otp": code}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(user(&server, &key, "rin").await["failures"], 0);
    // A transfer confirmed once; its code again is `reused`, not a failure.
    let (status, created) = server
        .post(
            &format!("{USERS}/rin/transactions"),
            &key,
            json!({"payee_account": "GB33BUKB20201555555555", "payee_name": "ACME",
                   "amount": 12345, "currency": "JPY"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let payload = created["payload"].as_str().unwrap();
    let challenge = softtoken_protocol::transaction::Challenge::from_payload(payload).unwrap();
    let signed = challenge.response(&token.seed).to_string();
    let verify = format!("{USERS}/rin/transactions/{id}/verify");
    let (_, body) = server.post(&verify, &key, json!({"otp": signed})).await;
    assert_eq!(body["reason"], "ok", "{body}");
    for _ in 0..3 {
        let (_, body) = server.post(&verify, &key, json!({"otp": signed})).await;
        assert_eq!(body["reason"], "reused", "{body}");
        assert_eq!(body["failures"], 0, "{body}");
    }
    // Still unlocked: a fresh code logs in; every replay left its audit row.
    server.advance_secs(token.params.period.seconds() as i64);
    let (_, body) = server
        .post(
            &format!("{USERS}/rin/verify"),
            &key,
            json!({"otp": token.code(&server)}),
        )
        .await;
    assert_eq!(body["reason"], "ok", "{body}");
    let events = audit(&server, &key).await;
    let reused = events
        .iter()
        .filter(|e| {
            e["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("reused"))
        })
        .count();
    assert_eq!(reused, 3 + 1 + 3, "{events:?}");
}

/// A second confirm says the token is active already, instead of "no token".
#[tokio::test]
async fn a_second_confirm_says_the_token_is_already_active() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    server.enroll(&key, "bank", "ivy", "start-1111").await;
    let token = server.activate("bank", "ivy", "start-1111").await;
    let confirm = || {
        let (server, key, otp) = (&server, &key, token.code(&server));
        async move {
            server
                .post(&format!("{USERS}/ivy/confirm"), key, json!({ "otp": otp }))
                .await
                .1
        }
    };
    assert_eq!(confirm().await["reason"], "ok");
    server.advance_secs(60);
    let again = confirm().await;
    assert_eq!(again["reason"], "already_active", "{again}");
    assert_eq!(again["valid"], false);
    assert_eq!(again["failures"], 0);
}

/// The bank sees a running cool-down and may end it; a second revoke does not restart it
/// unless the service's policy says so.
#[tokio::test]
async fn the_bank_sees_and_can_end_a_cooldown() {
    for restarts in [false, true] {
        let server = TestServer::start().await;
        let key = server
            .add_service(
                "bank",
                Policy {
                    tokens_per_user: 2,
                    cooldown_restarts: restarts,
                    ..Policy::default()
                },
            )
            .await;
        let mut tokens = Vec::new();
        for _ in 0..2 {
            let token = server.provision("bank").await;
            let (status, body) = server
                .post(
                    &format!("{USERS}/jun/tokens"),
                    &key,
                    json!({"serial": token.serial.as_str(), "otp": token.code(&server)}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            tokens.push(token);
        }
        assert_eq!(
            user(&server, &key, "jun").await["cooldown_until"],
            Value::Null
        );
        let first = revoke(&server, &key, &tokens[0]).await;
        assert_eq!(
            user(&server, &key, "jun").await["cooldown_until"],
            first["cooldown_until"]
        );
        server.advance_secs(600);
        let second = revoke(&server, &key, &tokens[1]).await;
        let shown = user(&server, &key, "jun").await["cooldown_until"].clone();
        assert_eq!(shown, second["cooldown_until"], "restarts: {restarts}");
        assert_eq!(shown == first["cooldown_until"], !restarts, "{shown}");

        let (status, body) = server.enroll(&key, "bank", "jun", "start-1111").await;
        assert_problem(status, &body, 409, "cooldown");
        let (status, body) = server
            .post(&format!("{USERS}/jun/cooldown/end"), &key, json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["cooldown_until"], Value::Null, "{body}");
        assert_eq!(
            server.enroll(&key, "bank", "jun", "start-1111").await.0,
            201
        );
        let events = audit(&server, &key).await;
        assert_eq!(kinds(&events, "cooldown_ended").len(), 1, "{events:?}");
        let (status, body) = server
            .post(&format!("{USERS}/nobody/cooldown/end"), &key, json!({}))
            .await;
        assert_problem(status, &body, 404, "not_found");
    }
}

async fn time_from(server: &TestServer, forwarded_for: Option<&str>) -> u16 {
    let mut request = server.http.get(format!("{}/v1/time", server.base));
    if let Some(client) = forwarded_for {
        request = request.header("X-Forwarded-For", client);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Behind a TLS proxy every customer used to share the proxy's rate-limit bucket. From a
/// trusted proxy the client address comes from X-Forwarded-For; from anyone else that
/// header is ignored, so nobody picks their own bucket.
#[tokio::test]
async fn clients_behind_a_trusted_proxy_get_their_own_buckets() {
    let behind = TestServer::start_behind(false, 1, &["127.0.0.1/32"]).await;
    assert_eq!(time_from(&behind, Some("203.0.113.1")).await, 200);
    assert_eq!(time_from(&behind, Some("203.0.113.2")).await, 200);
    assert_eq!(
        time_from(&behind, Some("198.51.100.9, 203.0.113.1")).await,
        429
    );
    assert_eq!(time_from(&behind, Some("203.0.113.3")).await, 200);

    let direct = TestServer::start_behind(false, 1, &[]).await;
    assert_eq!(time_from(&direct, Some("203.0.113.1")).await, 200);
    assert_eq!(time_from(&direct, Some("203.0.113.2")).await, 429);
    assert_eq!(time_from(&direct, None).await, 429);
    // The client's address is what the audit trail records for a guess.
    let key = behind.add_service("bank", Policy::default()).await;
    behind.enroll(&key, "bank", "kai", "start-1111").await;
    let (s, u) = (
        softtoken_protocol::ServiceId::new("bank").unwrap(),
        softtoken_protocol::UserId::new("kai").unwrap(),
    );
    let w = softtoken_protocol::activation::PasswordKey::derive("start-1111", &s, &u);
    let (_, start) = softtoken_protocol::activation::AppActivation::start(&w, s, u);
    let resp = behind
        .http
        .post(format!("{}/v1/activation/start", behind.base))
        .header("X-Forwarded-For", "192.0.2.77")
        .json(&start)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = audit(&behind, &key).await;
    let guess = kinds(&events, "activation_started");
    assert_eq!(guess[0]["detail"], "from 192.0.2.77", "{events:?}");
}

/// The unauthenticated provisioning call used to fill any tenant's tables (a row and an
/// audit row per call). A service holds at most its quota of unregistered tokens, and the
/// trail gets one summary per period instead of a row per token.
#[tokio::test]
async fn provisioning_is_bounded_by_a_quota_and_summarised() {
    let server = TestServer::start().await;
    let key = server
        .add_service(
            "bank",
            Policy {
                unassigned_quota: 3,
                ..Policy::default()
            },
        )
        .await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(server.provision("bank").await);
    }
    let (app, request) = softtoken_protocol::provisioning::AppProvisioning::start(
        softtoken_protocol::ServiceId::new("bank").unwrap(),
    );
    drop(app);
    let (status, body) = server
        .call(
            Method::POST,
            "/v1/provisioning",
            None,
            Some(serde_json::to_value(&request).unwrap()),
        )
        .await;
    assert_problem(status, &body, 503, "provisioning_full");
    assert!(audit(&server, &key).await.is_empty(), "no row per token");

    // Registering one frees a place.
    let (status, _) = server
        .post(
            &format!("{USERS}/lea/tokens"),
            &key,
            json!({"serial": tokens[0].serial.as_str(), "otp": tokens[0].code(&server)}),
        )
        .await;
    assert_eq!(status, 201);
    server.provision("bank").await;

    server
        .state
        .provisioned
        .flush(&*server.store, server.state.now())
        .await;
    let events = audit(&server, &key).await;
    let summaries = kinds(&events, "tokens_provisioned");
    assert_eq!(summaries.len(), 1, "{events:?}");
    assert_eq!(
        summaries[0]["detail"],
        "4 provisioned since the last summary"
    );
    // Nothing new, nothing written.
    server
        .state
        .provisioned
        .flush(&*server.store, server.state.now())
        .await;
    assert_eq!(
        kinds(&audit(&server, &key).await, "tokens_provisioned").len(),
        1
    );
}

/// What the API answers matches what it documents: a wrong method is a 405 problem, a 401
/// names its scheme, and the scheme's name is case-insensitive.
#[tokio::test]
async fn methods_and_authorization_answer_as_documented() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let resp = server
        .http
        .get(format!("{}{USERS}/alice/verify", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: Value = resp.json().await.unwrap();
    assert_problem(405, &body, 405, "method_not_allowed");

    let resp = server
        .http
        .get(format!("{}{USERS}/alice", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"),
    );
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let resp = server
            .http
            .get(format!("{}/v1/services/bank/audit", server.base))
            .header("Authorization", format!("{scheme} {key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{scheme}");
    }
    // `.` and `..` are no user IDs (clients would normalise them out of the path).
    let (status, body) = server
        .post(
            "/v1/services/bank/enrollments",
            &key,
            json!({"user_id": "..", "start_password": "1234"}),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_request");
    assert!(
        body["detail"].as_str().unwrap().starts_with("user_id:"),
        "{body}"
    );
}

/// The SQLite file is created readable by its owner only.
#[cfg(unix)]
#[tokio::test]
async fn the_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("softtoken.db");
    softtoken_store::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Provisioning is open to anyone, so it must not be an oracle for which serials exist
/// (the status API hides exactly that), nor a way into the console's reserved service
/// (issue 22, item 5). The server picks the serial; a request naming one is refused the same
/// way whether that serial is held (here, or by another bank) or free; `_console` answers
/// as an unknown service.
#[tokio::test]
async fn provisioning_reveals_no_serial_and_refuses_the_console_service() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    server.add_service("other", Policy::default()).await;
    let mine = server.provision("bank").await;
    let theirs = server.provision("other").await;
    let (app, request) = softtoken_protocol::provisioning::AppProvisioning::start(
        softtoken_protocol::ServiceId::new("bank").unwrap(),
    );
    drop(app);
    let public_key = serde_json::to_value(&request).unwrap()["public_key"].clone();
    let naming = |serial: String| {
        let (server, public_key) = (&server, public_key.clone());
        async move {
            server
                .call(
                    Method::POST,
                    "/v1/provisioning",
                    None,
                    Some(json!({"service_id": "bank", "serial": serial, "public_key": public_key})),
                )
                .await
        }
    };
    let fresh = naming(softtoken_protocol::Serial::generate().to_string()).await;
    assert_eq!(fresh.0, 422, "{}", fresh.1);
    assert!(
        fresh.1["detail"].as_str().unwrap().contains("serial"),
        "{}",
        fresh.1
    );
    for held in [&mine.serial, &theirs.serial] {
        assert_eq!(naming(held.to_string()).await, fresh);
    }

    // The server's picks are fresh each time, and each is a working token.
    let mut serials: Vec<String> = Vec::new();
    for _ in 0..5 {
        serials.push(server.provision("bank").await.serial.to_string());
    }
    serials.push(mine.serial.to_string());
    serials.push(theirs.serial.to_string());
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 7, "{serials:?}");
    let (status, body) = server
        .post(
            &format!("{USERS}/mei/tokens"),
            &key,
            json!({"serial": mine.serial.as_str(), "otp": mine.code(&server)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // The console's reserved service is refused exactly like a service that does not exist.
    let ask = |sid: &'static str| {
        let server = &server;
        async move {
            let (app, request) = softtoken_protocol::provisioning::AppProvisioning::start(
                softtoken_protocol::ServiceId::new(sid).unwrap(),
            );
            drop(app);
            server
                .call(
                    Method::POST,
                    "/v1/provisioning",
                    None,
                    Some(serde_json::to_value(&request).unwrap()),
                )
                .await
        }
    };
    let (status, console) = ask("_console").await;
    assert_problem(status, &console, 404, "unknown_service");
    let (status, unknown) = ask("nosuch").await;
    assert_problem(status, &unknown, 404, "unknown_service");
    assert_eq!(
        console["detail"].as_str().unwrap().replace("_console", "X"),
        unknown["detail"].as_str().unwrap().replace("nosuch", "X")
    );
}
