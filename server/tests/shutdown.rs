//! Graceful shutdown of the real binary under load (issue 13, item 6): SIGTERM while
//! clients keep issuing enrollments; the process exits 0, every enrollment answered 201 is
//! in the database afterwards, and every other answer is a 503 or a connection error.
//! Runs on SQLite, and on PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use softtoken_protocol::{ServiceId, UserId};

const PATIENCE: Duration = Duration::from_secs(60);

/// Clients issuing enrollments at once.
const CLIENTS: usize = 8;

/// Enrollments answered before the signal is sent.
const BEFORE_SIGNAL: usize = 40;

#[derive(Default)]
struct Outcomes {
    /// Users whose enrollment was answered 201.
    answered: Vec<String>,
    /// Refusals: 503s and connection errors.
    refused: usize,
    /// Anything else, which must not happen.
    unexpected: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_loses_no_answered_write() {
    let (url, dir, _) = common::database(true);
    let url = common::isolated(url).await;
    let data = match &dir {
        Some(dir) => dir.path().to_path_buf(),
        None => std::env::temp_dir().join(format!("softtoken-shutdown-{}", std::process::id())),
    };
    let binary = env!("CARGO_BIN_EXE_softtoken-server");
    let added = Command::new(binary)
        .args([
            "service",
            "add",
            "--id",
            "bank",
            "--name",
            "Bank",
            "--database",
            &url,
        ])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let api_key = String::from_utf8_lossy(&added.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();

    let mut child = Command::new(binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
        .args(["--shutdown-grace", "20s"])
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_LOG", "softtoken=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("softtoken-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    // Keep reading, so that the server never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));

    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let outcomes = Arc::clone(&outcomes);
        let endpoint = format!("{base}/v1/services/bank/enrollments");
        let api_key = api_key.clone();
        clients.push(tokio::spawn(async move {
            // One kept-alive connection per client, as a bank's back end holds them.
            let http = reqwest::Client::new();
            let started = Instant::now();
            for n in 0.. {
                assert!(started.elapsed() < PATIENCE, "the server never stopped");
                let user = format!("c{client}-u{n}");
                let sent = http
                    .post(&endpoint)
                    .bearer_auth(&api_key)
                    .json(&serde_json::json!({"user_id": user, "start_password": "start-1234"}))
                    .send()
                    .await;
                let mut outcomes = outcomes.lock().unwrap();
                match sent.map(|r| r.status().as_u16()) {
                    Ok(201) => outcomes.answered.push(user),
                    Ok(503) | Err(_) => {
                        outcomes.refused += 1;
                        return;
                    }
                    Ok(other) => {
                        outcomes.unexpected.push(format!("{user}: {other}"));
                        return;
                    }
                }
            }
        }));
    }

    let deadline = Instant::now() + PATIENCE;
    while outcomes.lock().unwrap().answered.len() < BEFORE_SIGNAL {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let at_signal = outcomes.lock().unwrap().answered.len();

    for client in clients {
        client.await.unwrap();
    }
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(exit.code(), Some(0), "{exit:?}");

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    assert!(outcomes.unexpected.is_empty(), "{:?}", outcomes.unexpected);
    assert_eq!(outcomes.refused, CLIENTS, "every client ends refused");
    eprintln!(
        "{} enrollments answered ({} before the signal), {} refused",
        outcomes.answered.len(),
        at_signal,
        outcomes.refused
    );

    // The database as the stopped server left it.
    let store = softtoken_store::connect(&url).await.unwrap();
    let service = ServiceId::new("bank").unwrap();
    let mut lost = Vec::new();
    for user in &outcomes.answered {
        let user_id = UserId::new(user.as_str()).unwrap();
        if store
            .enrollment(&service, &user_id)
            .await
            .unwrap()
            .is_none()
        {
            lost.push(user.clone());
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} answered enrollments are not in the database: {lost:?}",
        lost.len(),
        outcomes.answered.len()
    );
    store.close().await;
    if dir.is_none() {
        let _ = std::fs::remove_dir_all(&data);
    }
}
