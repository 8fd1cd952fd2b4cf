#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Two server instances (two routers, two connection pools) on one database, hammered
//! with concurrent requests that race for the same one-time resource. Each check-and-
//! update must have exactly one winner however the requests interleave: a code is
//! accepted once, wrong codes are counted exactly and lock exactly at `max_failures`,
//! one activation session and one unassigned serial go to one caller.
//!
//! Every test runs on SQLite (a temporary file) and, when `SOFTTOKEN_TEST_POSTGRES_URL`
//! is set, on PostgreSQL (a fresh schema of that database).

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use softtoken_protocol::activation::{AppActivation, FinishRequest, PasswordKey, StartResponse};
use softtoken_protocol::otp::totp;
use softtoken_protocol::wire::B64;
use softtoken_protocol::{OtpParams, Serial, ServiceId, UserId};
use softtoken_store::audit::AuditKind;
use softtoken_store::policy::Policy;
use softtoken_store::{Acceptance, NewAuditEvent, RefusalDetails, StepUse, TokenState};
use support::{Cluster, backends};

/// Concurrent requests per round.
const RACERS: usize = 50;

fn code(seed: &[u8], params: &OtpParams, now_ms: i64) -> String {
    totp(seed, params, u64::try_from(now_ms / 1000).unwrap()).to_string()
}

/// Sends `bodies[i]` to `path(i)` on alternating instances, all at once.
async fn race(
    cluster: &Cluster,
    path: impl Fn(usize) -> String,
    bodies: Vec<Value>,
) -> Vec<(StatusCode, Value)> {
    let mut tasks = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let router = cluster.instance(i).clone();
        let uri = path(i);
        let key = cluster.api_key.clone();
        tasks.push(tokio::spawn(async move {
            support::post(&router, &uri, Some(&key), &body).await
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_valid_code_raced_from_two_instances_is_accepted_exactly_once() {
    for backend in backends() {
        // Every loser of a round is a `reused` failure: allow more than the test makes.
        let policy = Policy {
            max_failures: 100_000,
            ..Policy::default()
        };
        let cluster = Cluster::start(&backend, policy).await;
        let user = UserId::new("alice").unwrap();
        let (serial, seed) = cluster.active_token(&user).await;
        let params = OtpParams::REGISTRATION;
        for round in 0..100 {
            cluster.clock.advance_ms(30_000);
            let otp = code(&seed, &params, cluster.now());
            let replies = race(
                &cluster,
                |_| format!("/v1/services/{}/users/alice/verify", cluster.service),
                vec![json!({ "otp": otp }); RACERS],
            )
            .await;
            let valid = replies.iter().filter(|(_, r)| r["valid"] == true).count();
            let reused = replies
                .iter()
                .filter(|(_, r)| r["reason"] == "reused")
                .count();
            assert!(
                replies.iter().all(|(status, _)| *status == StatusCode::OK),
                "{backend}: round {round}: {replies:?}"
            );
            assert_eq!(valid, 1, "{backend}: round {round}: {replies:?}");
            assert_eq!(reused, RACERS - 1, "{backend}: round {round}");
        }
        let token = cluster
            .store_a
            .token(&cluster.service, &serial.clone().into())
            .await
            .unwrap()
            .unwrap();
        let last_step = cluster.now() / 30_000;
        assert_eq!(token.last_step, last_step, "{backend}");
        cluster.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_codes_are_counted_exactly_and_lock_at_max_failures() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let max = Policy::default().max_failures;
        let user = UserId::new("bob").unwrap();
        let (_, seed) = cluster.active_token(&user).await;
        let path = format!("/v1/services/{}/users/bob", cluster.service);
        for round in 0..10 {
            cluster.clock.advance_ms(30_000);
            let right = code(&seed, &OtpParams::REGISTRATION, cluster.now());
            // A wrong code that is not the right one for any step in the window.
            let wrong = (0..)
                .map(|n| format!("{:06}", (right.parse::<u32>().unwrap() + 1 + n) % 1_000_000))
                .find(|c| {
                    [-30_000, 0, 30_000]
                        .iter()
                        .all(|d| *c != code(&seed, &OtpParams::REGISTRATION, cluster.now() + d))
                })
                .unwrap();
            let replies = race(
                &cluster,
                |_| format!("{path}/verify"),
                vec![json!({ "otp": wrong }); RACERS],
            )
            .await;
            let mut counted: Vec<u64> = replies
                .iter()
                .filter(|(_, r)| r["reason"] == "invalid")
                .map(|(_, r)| r["failures"].as_u64().unwrap())
                .collect();
            counted.sort_unstable();
            assert_eq!(
                counted,
                (1..=u64::from(max)).collect::<Vec<_>>(),
                "{backend}: round {round}: each failure counted once: {replies:?}"
            );
            assert!(
                replies.iter().all(|(s, r)| *s == StatusCode::OK
                    && (r["reason"] == "invalid" || r["reason"] == "locked")),
                "{backend}: round {round}: {replies:?}"
            );
            assert_eq!(
                replies
                    .iter()
                    .filter(|(_, r)| r["reason"] == "locked")
                    .count(),
                RACERS - max as usize,
                "{backend}: round {round}"
            );
            let (status, shown) =
                support::get(cluster.instance(round), &path, &cluster.api_key).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(shown["locked"], true, "{backend}: {shown}");
            assert_eq!(shown["failures"], max, "{backend}: {shown}");
            // Locked means locked: even the right code is refused until the bank unlocks.
            let (_, reply) = support::post(
                cluster.instance(round + 1),
                &format!("{path}/verify"),
                Some(&cluster.api_key),
                &json!({ "otp": right }),
            )
            .await;
            assert_eq!(reply["reason"], "locked", "{backend}: {reply}");
            let (status, _) = support::post(
                cluster.instance(round),
                &format!("{path}/unlock"),
                Some(&cluster.api_key),
                &json!({}),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{backend}");
        }
        cluster.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_unassigned_serial_raced_to_many_users_is_bound_to_exactly_one() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        for round in 0..10 {
            cluster.clock.advance_ms(30_000);
            let (serial, seed) = cluster.unassigned_token().await;
            let otp = code(&seed, &OtpParams::REGISTRATION, cluster.now());
            let replies = race(
                &cluster,
                |i| format!("/v1/services/{}/users/r{round}u{i}/tokens", cluster.service),
                vec![json!({ "serial": serial.as_str(), "otp": otp }); RACERS],
            )
            .await;
            let winners: Vec<usize> = replies
                .iter()
                .enumerate()
                .filter(|(_, (s, _))| *s == StatusCode::CREATED)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(winners.len(), 1, "{backend}: round {round}: {replies:?}");
            assert!(
                replies
                    .iter()
                    .all(|(s, _)| *s == StatusCode::CREATED || s.is_client_error()),
                "{backend}: round {round}: {replies:?}"
            );
            // The store agrees: the token is active and held by the winner alone.
            let token = cluster
                .store_b
                .token(&cluster.service, &serial.clone().into())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(token.state, TokenState::Active);
            let mut holders = 0;
            for i in 0..RACERS {
                let uid = UserId::new(format!("r{round}u{i}")).unwrap();
                let user = cluster.store_a.user(&cluster.service, &uid).await.unwrap();
                if user.is_some_and(|u| {
                    u.tokens
                        .iter()
                        .any(|t| t.serial.as_str() == serial.as_str())
                }) {
                    assert_eq!(i, winners[0], "{backend}");
                    holders += 1;
                }
            }
            assert_eq!(holders, 1, "{backend}: round {round}");
        }
        cluster.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_activation_session_finished_concurrently_issues_exactly_one_token() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        for round in 0..5 {
            let user = UserId::new(format!("carol{round}")).unwrap();
            let (status, reply) = support::post(
                cluster.instance(round),
                &format!("/v1/services/{}/enrollments", cluster.service),
                Some(&cluster.api_key),
                &json!({ "user_id": user.as_str(), "start_password": "4321abcd" }),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{backend}: {reply}");
            let w = PasswordKey::derive("4321abcd", &cluster.service, &user);
            let (app, start) = AppActivation::start(&w, cluster.service.clone(), user.clone());
            let (status, reply) = support::post(
                cluster.instance(round + 1),
                "/v1/activation/start",
                None,
                &serde_json::to_value(&start).unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{backend}: {reply}");
            let started: StartResponse = serde_json::from_value(reply).unwrap();
            let key = app.finish(&started).unwrap();
            // Every racer finishes the same session, each with a serial of its own.
            let bodies = (0..RACERS)
                .map(|_| {
                    serde_json::to_value(FinishRequest {
                        session_id: started.session_id.clone(),
                        confirmation: B64(key.app_confirmation().to_vec()),
                        serial: Serial::generate(),
                    })
                    .unwrap()
                })
                .collect::<Vec<_>>();
            let replies = race(&cluster, |_| "/v1/activation/finish".to_string(), bodies).await;
            let winners = replies.iter().filter(|(s, _)| *s == StatusCode::OK).count();
            assert_eq!(winners, 1, "{backend}: round {round}: {replies:?}");
            assert!(
                replies
                    .iter()
                    .all(|(s, _)| *s == StatusCode::OK || s.is_client_error()),
                "{backend}: round {round}: {replies:?}"
            );
            let held = cluster
                .store_a
                .user(&cluster.service, &user)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(held.tokens.len(), 1, "{backend}: {held:?}");
            assert_eq!(held.tokens[0].state, TokenState::Pending);
        }
        cluster.finish().await;
    }
}

/// Parallel replays of a spent code, from both instances: more than the lockout allows,
/// and every answer is `reused`, none counted (a spent code is no guess, issue 22 item 8),
/// so the user never locks; the audit trail records for each exactly the answer its caller
/// got.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_reuses_are_audited_as_answered() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let user = UserId::new("erin").unwrap();
        let (_, seed) = cluster.active_token(&user).await;
        let path = format!("/v1/services/{}/users/erin/verify", cluster.service);
        cluster.clock.advance_ms(30_000);
        let otp = code(&seed, &OtpParams::REGISTRATION, cluster.now());
        let (_, first) = support::post(
            &cluster.a,
            &path,
            Some(&cluster.api_key),
            &json!({ "otp": otp }),
        )
        .await;
        assert_eq!(first["reason"], "ok", "{backend}: {first}");
        let replies = race(&cluster, |_| path.clone(), vec![json!({ "otp": otp }); 12]).await;
        let mut answered: Vec<String> = replies
            .iter()
            .map(|(_, r)| r["reason"].as_str().unwrap().to_owned())
            .collect();
        answered.sort();
        assert!(12 > Policy::default().max_failures as usize);
        assert_eq!(
            answered,
            vec!["reused".to_owned(); 12],
            "{backend}: {replies:?}"
        );
        assert!(
            replies.iter().all(|(_, r)| r["failures"] == 0),
            "{backend}: {replies:?}"
        );

        let (_, audit) = support::get(
            &cluster.b,
            &format!("/v1/services/{}/audit?limit=1000", cluster.service),
            &cluster.api_key,
        )
        .await;
        let mut recorded: Vec<String> = audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "verify" && e["detail"] != "ok")
            .map(|e| e["detail"].as_str().unwrap().to_owned())
            .collect();
        recorded.sort();
        assert_eq!(recorded, answered, "{backend}: {audit}");
        let locks = audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "user_locked")
            .count();
        assert_eq!(locks, 0, "{backend}: {audit}");
        cluster.finish().await;
    }
}

/// The storage layer on its own, without HTTP in between: one step offered by many
/// tasks on two pools is consumed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accept_step_is_one_time_across_pools() {
    for backend in backends() {
        let cluster = Cluster::start(&backend, Policy::default()).await;
        let user = UserId::new("dave").unwrap();
        let (serial, _) = cluster.active_token(&user).await;
        for round in 0..20 {
            let step = StepUse {
                service_id: cluster.service.clone(),
                user_id: user.clone(),
                serial: serial.clone().into(),
                step: cluster.now() / 30_000 + 1 + round,
                drift: 0,
            };
            let mut tasks = Vec::new();
            for i in 0..RACERS {
                let store = if i.is_multiple_of(2) {
                    Arc::clone(&cluster.store_a)
                } else {
                    Arc::clone(&cluster.store_b)
                };
                let step = step.clone();
                let now = cluster.now();
                let event =
                    NewAuditEvent::new(&cluster.service, AuditKind::Verify, "ok").user(&user);
                let refused = RefusalDetails {
                    reused: "reused".into(),
                    locked: "locked".into(),
                    expired: "expired".into(),
                };
                tasks.push(tokio::spawn(async move {
                    store
                        .accept_step(&step, TokenState::Active, &event, &refused, now)
                        .await
                }));
            }
            let mut accepted = 0;
            for task in tasks {
                match task.await.unwrap() {
                    Ok(Acceptance::Accepted) => accepted += 1,
                    Ok(Acceptance::Reused { last_used_by }) => {
                        assert_eq!(last_used_by.as_ref(), Some(&user), "{backend}");
                    }
                    other => panic!("{backend}: {other:?}"),
                }
            }
            assert_eq!(accepted, 1, "{backend}: round {round}");
        }
        // Every offer left its row, the refused ones too, each in its offer's own commit:
        // one `ok` and the rest `reused` per round.
        let events = cluster
            .store_a
            .audit_events(&cluster.service, 0, 100_000)
            .await
            .unwrap();
        let rows = |detail: &str| {
            events
                .iter()
                .filter(|e| e.kind == "verify" && e.user_id.as_deref() == Some("dave"))
                .filter(|e| e.detail == detail)
                .count()
        };
        assert_eq!(rows("ok"), 20, "{backend}");
        assert_eq!(rows("reused"), 20 * (RACERS - 1), "{backend}");
        cluster.finish().await;
    }
}

#[test]
fn service_ids_in_fixtures_are_valid() {
    assert!(ServiceId::new(support::SERVICE).is_ok());
}
