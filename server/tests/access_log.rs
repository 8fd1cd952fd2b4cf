//! The access log of the real binary with `--log-format json`: one parseable line per
//! request with its request id, method, route template, status, latency, service ID and
//! client; the caller's `X-Request-Id` echoed and logged; and none of a story's secrets
//! (codes, start password, API key, seed, the user ID) anywhere in the log. Runs on
//! SQLite, and on PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};
use softtoken_protocol::activation::{
    AppActivation, FinishRequest, FinishResponse, PasswordKey, StartResponse,
};
use softtoken_protocol::otp::totp;
use softtoken_protocol::wire::B64;
use softtoken_protocol::{Serial, ServiceId, UserId};

const SERVICE: &str = "logbank";
const USER: &str = "cust-8817-zq5w";
const START_PASSWORD: &str = "Sp-73kq-9wZx";

fn binary(data: &Path, database: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_softtoken-server"));
    command
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("RUST_LOG")
        .env("SOFTTOKEN_DATA_DIR", data)
        .env("SOFTTOKEN_DATABASE_URL", database);
    command
}

/// RFC 4648 base32 without padding, as otpauth URIs carry seeds.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn access_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"))
            })
            .filter(|line| line["target"] == "softtoken_server::access")
            .collect()
    }

    /// The access lines once there are `n` of them (each is written as its request ends,
    /// possibly a moment after the client has the answer).
    fn wait_for_access_lines(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.access_lines();
            if lines.len() >= n || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn one_json_line_per_request_and_no_secret_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (database, _db_dir, _) = common::database(true);
    let database = common::isolated(database).await;

    let added = binary(dir.path(), &database)
        .args(["service", "add", "--id", SERVICE, "--name", "Log Bank"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let api_key = String::from_utf8(added.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();

    let log = dir.path().join("server.log");
    let mut child = binary(dir.path(), &database)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first
        .trim()
        .strip_prefix("softtoken-server listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let server = Server { child, base, log };
    let http = reqwest::Client::new();
    let mut sent = 0;

    // Enrollment, with the bank's own request id.
    let users = format!("{}/v1/services/{SERVICE}/users", server.base);
    let response = http
        .post(format!("{}/v1/services/{SERVICE}/enrollments", server.base))
        .bearer_auth(&api_key)
        .header("x-request-id", "ib-gw-20261202-0001")
        .json(&json!({"user_id": USER, "start_password": START_PASSWORD}))
        .send()
        .await
        .unwrap();
    sent += 1;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "ib-gw-20261202-0001");

    // Activation by the app: start, finish.
    let (sid, uid) = (ServiceId::new(SERVICE).unwrap(), UserId::new(USER).unwrap());
    let w = PasswordKey::derive(START_PASSWORD, &sid, &uid);
    let (app, start) = AppActivation::start(&w, sid, uid);
    let response = http
        .post(format!("{}/v1/activation/start", server.base))
        .header("x-request-id", "bad id with spaces")
        .json(&start)
        .send()
        .await
        .unwrap();
    sent += 1;
    assert_eq!(response.status(), 200);
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(generated, "bad id with spaces");
    let started: StartResponse = response.json().await.unwrap();
    let key = app.finish(&started).unwrap();
    let serial = Serial::generate();
    let finish = FinishRequest {
        session_id: started.session_id.clone(),
        confirmation: B64(key.app_confirmation().to_vec()),
        serial: serial.clone(),
    };
    let response = http
        .post(format!("{}/v1/activation/finish", server.base))
        .json(&finish)
        .send()
        .await
        .unwrap();
    sent += 1;
    assert_eq!(response.status(), 200);
    let finished: FinishResponse = response.json().await.unwrap();
    let params = finished.token.params;
    let seed = key.seed(&serial, params.algorithm).to_vec();

    // Confirm; verify with the next step's code (inside the window); a wrong code.
    let now = unix_secs();
    let first_code = totp(&seed, &params, now).to_string();
    let next_code = totp(&seed, &params, now + params.period.seconds()).to_string();
    let near: Vec<String> = (0..4)
        .map(|i| {
            totp(
                &seed,
                &params,
                now + i * params.period.seconds() - params.period.seconds(),
            )
            .to_string()
        })
        .collect();
    let width = params.digits.get() as usize;
    let wrong_code = (0u32..)
        .map(|n| format!("{:0width$}", 31_415_926 + n * 7))
        .map(|c| c[c.len() - width..].to_owned())
        .find(|c| !near.contains(c))
        .unwrap();
    let mut codes = vec![];
    for (path, code, reason) in [
        ("confirm", &first_code, "ok"),
        ("verify", &next_code, "ok"),
        ("verify", &wrong_code, "invalid"),
    ] {
        let response = http
            .post(format!("{users}/{USER}/{path}"))
            .bearer_auth(&api_key)
            .json(&json!({"otp": code}))
            .send()
            .await
            .unwrap();
        sent += 1;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["reason"], reason, "{path} {body}");
        codes.push(code.clone());
    }

    // Revoke.
    let response = http
        .post(format!(
            "{}/v1/services/{SERVICE}/tokens/{}/revoke",
            server.base,
            serial.as_str()
        ))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();
    sent += 1;
    assert_eq!(response.status(), 200);

    let lines = server.wait_for_access_lines(sent);
    assert_eq!(lines.len(), sent, "{lines:#?}");
    let routes: Vec<&str> = lines.iter().map(|l| l["route"].as_str().unwrap()).collect();
    assert_eq!(
        routes,
        [
            "/v1/services/{sid}/enrollments",
            "/v1/activation/start",
            "/v1/activation/finish",
            "/v1/services/{sid}/users/{uid}/confirm",
            "/v1/services/{sid}/users/{uid}/verify",
            "/v1/services/{sid}/users/{uid}/verify",
            "/v1/services/{sid}/tokens/{serial}/revoke",
        ]
    );
    for line in &lines {
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["method"], "POST", "{line}");
        assert_eq!(line["client"], "127.0.0.1", "{line}");
        assert!(line["latency_ms"].as_f64().unwrap() >= 0.0, "{line}");
        assert!(line["timestamp"].is_string(), "{line}");
        let id = line["request_id"].as_str().unwrap();
        assert!(!id.is_empty() && id.len() <= 64, "{line}");
        let statuses = line["status"].as_u64().unwrap();
        assert!(statuses == 200 || statuses == 201, "{line}");
        let bank = line["route"].as_str().unwrap().contains("{sid}");
        assert_eq!(
            line.get("service_id").and_then(Value::as_str),
            bank.then_some(SERVICE),
            "{line}"
        );
    }
    assert_eq!(lines[0]["request_id"], "ib-gw-20261202-0001");
    assert_eq!(lines[0]["status"], 201);
    assert_eq!(lines[1]["request_id"], generated.as_str());
    let ids: std::collections::HashSet<&str> = lines
        .iter()
        .map(|l| l["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), sent, "every request has its own id");

    let text = std::fs::read_to_string(&server.log).unwrap();
    let mut secrets = vec![
        START_PASSWORD.to_owned(),
        api_key.clone(),
        USER.to_owned(),
        base32(&seed),
        base64::engine::general_purpose::STANDARD.encode(&seed),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&seed),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&seed),
        hex::encode(&seed),
        started.session_id.clone(),
        base64::engine::general_purpose::STANDARD.encode(key.app_confirmation()),
    ];
    secrets.extend(codes);
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{secret} is in the log:\n{text}"
        );
    }
    // Not even part of the user ID (a masked form may keep a short prefix only).
    assert!(!text.contains("8817-zq5w"), "{text}");
}
