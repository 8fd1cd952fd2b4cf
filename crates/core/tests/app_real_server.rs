//! The app model against the real `softtoken-server` (built by the workspace, started here on
//! a free loopback port with one service), as a bank would run it: the bank issues an
//! activation, the app activates, the bank accepts the code the app copied, revokes the
//! token, and the app's refresh shows it; a transfer the bank created is confirmed with a
//! code the bank accepts. The flows' details are in `app.rs` (the core's miniature server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use softtoken_core::app::{App, AppConfig, Event, MessageKey, Screen, Shell, ViewState};
use softtoken_core::vault::StoreOptions;
use softtoken_core::{FileKeyWrapper, TokenState};

/// The real server, stopped when dropped.
struct RealServer {
    child: Child,
    url: String,
    api_key: String,
    _data: tempfile::TempDir,
}

const SERVICE: &str = "testbank";

fn server_binary() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let server = deps
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join(format!("softtoken-server{}", std::env::consts::EXE_SUFFIX));
    if !server.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "softtoken-server"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building softtoken-server failed");
    }
    server
}

impl RealServer {
    fn start() -> Self {
        let binary = server_binary();
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().to_str().unwrap();
        let added = Command::new(&binary)
            .args([
                "service",
                "add",
                "--id",
                SERVICE,
                "--name",
                "テスト銀行",
                "--data-dir",
                dir,
            ])
            .output()
            .unwrap();
        assert!(added.status.success(), "{added:?}");
        let api_key = String::from_utf8(added.stdout)
            .unwrap()
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap()
            .to_string();
        let mut child = Command::new(&binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir])
            .args(["--app-rate-limit", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The server says where it listens: a readiness signal, not a sleep.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("the server exited").unwrap();
            if let Some((_, rest)) = line.split_once("listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        std::thread::spawn(move || lines.for_each(drop)); // keep its stdout drained
        RealServer {
            child,
            url,
            api_key,
            _data: data,
        }
    }

    /// The bank API: POST `path` with `body`; the status and the answer.
    fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = reqwest::blocking::Client::new()
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.api_key)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    fn accepted(&self, path: &str, body: serde_json::Value) -> bool {
        let (status, answer) = self.post(path, body);
        assert!(status < 500, "{status} {answer}");
        (200..300).contains(&status) && answer["valid"] != serde_json::Value::Bool(false)
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A shell that keeps the clipboard and the last view; no biometrics.
#[derive(Default)]
struct Recorder {
    clip: Mutex<Option<String>>,
    views: Mutex<Vec<ViewState>>,
}

impl Shell for Recorder {
    fn render(&self, view: ViewState) {
        self.views.lock().unwrap().push(view);
    }
    fn put_on_clipboard(&self, text: String) {
        *self.clip.lock().unwrap() = Some(text);
    }
    fn clipboard_still_ours(&self) -> Option<bool> {
        Some(true)
    }
    fn clear_clipboard(&self) {
        *self.clip.lock().unwrap() = None;
    }
    fn biometric_available(&self) -> bool {
        false
    }
    fn biometric_enrolled(&self) -> bool {
        false
    }
    fn biometric_enroll(&self, _pin: &[u8]) -> bool {
        false
    }
    fn biometric_remove(&self) {}
}

#[test]
fn a_real_bank_accepts_the_apps_codes_and_its_revocation_reaches_the_app() {
    let server = RealServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.vault");
    let wrapper = Arc::new(FileKeyWrapper::open(&FileKeyWrapper::path_beside(&path)).unwrap());
    let mut config = AppConfig::new(&path);
    config.activation_server = Some(server.url.clone());
    let shell = Arc::new(Recorder::default());
    let options = StoreOptions {
        pin_iterations: support::TEST_ITERATIONS,
        ..StoreOptions::default()
    };
    let app = App::with_options(config, wrapper, shell.clone(), options);
    app.send(Event::Start);

    let (status, _) = server.post(
        &format!("/v1/services/{SERVICE}/enrollments"),
        serde_json::json!({"user_id": "yamada", "start_password": "start-4821"}),
    );
    assert_eq!(status, 201);
    app.send(Event::StartActivation);
    app.send(Event::SubmitActivation {
        service_id: SERVICE.into(),
        user_id: "yamada".into(),
        start_password: "start-4821".into(),
    });
    let Screen::ActivationDone { token } = app.view().screen else {
        panic!("{:?}", app.view())
    };
    assert_eq!(token.issuer, "テスト銀行");
    assert_eq!(token.state, TokenState::Pending);

    // The customer copies the code and pastes it into internet banking: the bank confirms.
    app.send(Event::CopyCode {
        serial: token.serial.clone(),
    });
    let code = shell.clip.lock().unwrap().clone().unwrap();
    assert!(server.accepted(
        &format!("/v1/services/{SERVICE}/users/yamada/confirm"),
        serde_json::json!({"otp": code}),
    ));

    // 取引確認: the bank's challenge, scanned and confirmed; the bank accepts the code.
    let (status, transfer) = server.post(
        &format!("/v1/services/{SERVICE}/users/yamada/transactions"),
        serde_json::json!({"payee_account": "1234567", "payee_name": "ヤマダ ハナコ",
                           "amount": 50_000, "currency": "JPY"}),
    );
    assert_eq!(status, 201, "{transfer}");
    app.send(Event::Back);
    app.send(Event::Scanned {
        uri: transfer["payload"].as_str().unwrap().to_string(),
    });
    app.send(Event::ConfirmTransfer);
    let Screen::SignCode {
        code: Some(sign_code),
        ..
    } = app.view().screen
    else {
        panic!("{:?}", app.view())
    };
    let id = transfer["id"].as_str().unwrap();
    assert!(server.accepted(
        &format!("/v1/services/{SERVICE}/users/yamada/transactions/{id}/verify"),
        serde_json::json!({"otp": sign_code.0}),
    ));
    app.send(Event::FinishSign);

    // The bank revokes the token; the app's refresh (in the background) shows it dead.
    let (status, answer) = server.post(
        &format!("/v1/services/{SERVICE}/tokens/{}/revoke", token.serial),
        serde_json::json!({}),
    );
    assert!((200..300).contains(&status), "{status} {answer}");
    app.send(Event::RefreshStates);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.view().refreshing {
        assert!(
            std::time::Instant::now() < deadline,
            "the refresh never ended"
        );
        std::thread::yield_now();
    }
    let Screen::Tokens { cards } = app.view().screen else {
        panic!("{:?}", app.view())
    };
    assert_eq!(cards[0].token.state, TokenState::Revoked);
    assert_eq!(cards[0].code, None);
    assert_eq!(app.view().notice.map(|m| m.key), None::<MessageKey>);
}
