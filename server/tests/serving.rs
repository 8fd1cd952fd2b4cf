//! The accept loop against real sockets: slow clients are cut off, the connection cap
//! holds, and a slow body is answered 408 (issue 11, item 5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use softtoken_server::serve::{Limits, serve};
use softtoken_service::clock::ManualClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for what the server must do by itself; far beyond the limits
/// under test, so it only ends a test that would otherwise hang.
const PATIENCE: Duration = Duration::from_secs(20);

async fn server(limits: Limits) -> (SocketAddr, tempfile::TempDir) {
    let (url, dir, _) = common::database(false);
    let state = common::state_from_url(&url, Arc::new(ManualClock::new(common::START_MS)), 0).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = softtoken_server::app(state);
    tokio::spawn(serve(listener, router, limits, std::future::pending()));
    (addr, dir.unwrap())
}

fn limits(header: u64, body: u64, connections: usize) -> Limits {
    Limits {
        header_timeout: Duration::from_secs(header),
        body_timeout: Duration::from_secs(body),
        max_connections: connections,
        ..Limits::default()
    }
}

/// Reads until the server closes the connection; what it sent.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&all).into_owned(),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open: {all:?}"),
        }
    }
}

#[tokio::test]
async fn a_client_stalled_in_its_headers_or_idle_is_cut_off() {
    let (addr, _dir) = server(limits(1, 30, 16)).await;
    let started = Instant::now();
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /v1/time HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    until_closed(&mut half).await;
    until_closed(&mut idle).await;
    assert!(started.elapsed() >= Duration::from_millis(900));

    // A kept-alive connection is cut once it idles too, after its request was answered.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /v1/time HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = until_closed(&mut kept).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test]
async fn a_body_that_trickles_in_is_answered_408() {
    let (addr, _dir) = server(limits(10, 1, 16)).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /v1/provisioning HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\nConnection: close\r\n\r\n{\"service_id\"",
    )
    .await
    .unwrap();
    let answer = until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_a_slot_frees() {
    let (addr, _dir) = server(limits(1, 30, 1)).await;
    let mut holder = TcpStream::connect(addr).await.unwrap();
    holder.write_all(b"GET /v1/ti").await.unwrap();
    // Let the server take the first connection before the second arrives.
    tokio::task::yield_now().await;
    let mut waiting = TcpStream::connect(addr).await.unwrap();
    let sent = Instant::now();
    waiting
        .write_all(b"GET /v1/time HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut waiting).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Not before the holder's one-second header timeout freed the only slot.
    assert!(
        sent.elapsed() >= Duration::from_millis(900),
        "served after {:?}, while the slot was taken",
        sent.elapsed()
    );
    until_closed(&mut holder).await;
}
