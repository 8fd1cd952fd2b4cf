//! `GET /healthz` and `GET /readyz`: 200 while the server can serve, 503 naming the failed
//! check otherwise; no key, no rate limit, both in the OpenAPI document. Runs on SQLite,
//! and on PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use softtoken_service::clock::ManualClock;
use sqlx::Connection as _;
use tower::ServiceExt;

async fn get(router: &axum::Router, path: &str) -> (u16, String, Value) {
    let response = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, kind, serde_json::from_slice(&body).unwrap())
}

/// Deletes the newest applied migration's row, as if the database were one migration
/// behind this build.
async fn forget_newest_migration(url: &str) -> i64 {
    let newest = "SELECT MAX(version) FROM _sqlx_migrations";
    let forget =
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)";
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        let version: i64 = sqlx::query_scalar(newest)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        sqlx::query(forget).execute(&mut conn).await.unwrap();
        version
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let version: i64 = sqlx::query_scalar(newest)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        sqlx::query(forget).execute(&mut conn).await.unwrap();
        version
    }
}

#[tokio::test]
async fn ready_until_a_migration_goes_missing_then_503_naming_it() {
    let (url, _dir, _) = common::database(true);
    let url = common::isolated(url).await;
    let clock = Arc::new(ManualClock::new(common::START_MS));
    // One app request per minute: neither endpoint may be rate-limited.
    let state = common::state_from_url(&url, clock, 1).await;
    let router = softtoken_server::app(state);

    for _ in 0..3 {
        let (status, kind, body) = get(&router, "/healthz").await;
        assert_eq!((status, kind.as_str()), (200, "application/json"), "{body}");
        assert_eq!(body["status"], "ok");
        let (status, _, body) = get(&router, "/readyz").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            serde_json::json!({"status": "ok", "database": "ok", "migrations": "current", "master_key": "ok"})
        );
    }

    let version = forget_newest_migration(&url).await;
    let (status, kind, body) = get(&router, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(kind, "application/problem+json");
    assert_eq!(body["code"], "unavailable");
    let detail = body["detail"].as_str().unwrap();
    assert_eq!(
        detail,
        format!("not ready: migrations: not applied: {version}")
    );
    // The process is still up.
    assert_eq!(get(&router, "/healthz").await.0, 200);
}

#[tokio::test]
async fn a_database_whose_queries_fail_is_not_ready() {
    // SQLite only: a PostgreSQL server cannot be taken away from under one test, while a
    // SQLite file can be broken from outside: its migrations table dropped, every query of
    // it fails.
    let (url, dir, path) = common::database(false);
    let state = common::state_from_url(&url, Arc::new(ManualClock::new(0)), 0).await;
    let router = softtoken_server::app(state);
    assert_eq!(get(&router, "/readyz").await.0, 200);
    // The migrations table dropped under the running server.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("DROP TABLE _sqlx_migrations")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (status, _, body) = get(&router, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.starts_with("not ready: database: "), "{detail}");
    drop((dir, path));
}

#[tokio::test]
async fn both_are_in_the_openapi_document_without_a_key() {
    let (url, _dir, _) = common::database(false);
    let state = common::state_from_url(&url, Arc::new(ManualClock::new(0)), 0).await;
    let (_, _, document) = get(&softtoken_server::app(state), "/openapi.json").await;
    let healthz = &document["paths"]["/healthz"]["get"];
    assert!(healthz["responses"]["200"]["content"]["application/json"].is_object());
    let readyz = &document["paths"]["/readyz"]["get"];
    assert!(
        readyz["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .ends_with("/Readiness")
    );
    assert!(readyz["responses"]["503"]["content"]["application/problem+json"].is_object());
    assert!(
        readyz
            .get("security")
            .is_none_or(|s| s.as_array().unwrap().is_empty())
    );
    assert!(document["components"]["schemas"]["Readiness"].is_object());
}
