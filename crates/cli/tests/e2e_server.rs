//! End to end: the real `softtoken-server` (SQLite, a port of its own) and the real
//! `softtoken` binary. A bank issues an enrollment; the desktop token activates it (wrong
//! start password first), the bank confirms and verifies its codes; a second token is
//! provisioned and registered; time is synced.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::server_binary;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use serde_json::{Value, json};

/// A running server, killed when dropped.
struct Server {
    child: Child,
    url: String,
    api_key: String,
    /// Kept open so that the server never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let binary = server_binary();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_string();
    let added = Command::new(&binary)
        .args([
            "service",
            "add",
            "--id",
            "bank",
            "--name",
            "しんきん銀行",
            "--data-dir",
            &data_dir,
        ])
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

    // Port 0: the system picks a free port and the server names it in its first line.
    let mut child = Command::new(&binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_dir])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    let url = first_line
        .trim()
        .strip_prefix("softtoken-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_string();
    Server {
        child,
        url,
        api_key,
        _stdout: stdout,
        _data: data,
    }
}

impl Server {
    fn bank(&self, path: &str, body: Value) -> (u16, Value) {
        let response = reqwest::blocking::Client::new()
            .post(format!("{}/v1/services/bank{path}", self.url))
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap())
    }
}

fn softtoken(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_softtoken"))
        .args(args)
        .env("SOFTTOKEN_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Current and next code of the token with `serial`.
fn codes(home: &Path, serial: &str) -> (String, String) {
    let shown: Value =
        serde_json::from_str(&ok(&softtoken(home, &["show", serial, "--json"], ""))).unwrap();
    (
        shown[0]["code"].as_str().unwrap().to_string(),
        shown[0]["next_code"].as_str().unwrap().to_string(),
    )
}

#[test]
fn issue_activate_confirm_verify_provision_register_sync() {
    let server = start_server();
    let home = tempfile::tempdir().unwrap();
    let home = home.path();

    // The bank issues an activation; its URI carries no start password.
    let (status, enrollment) = server.bank(
        "/enrollments",
        json!({"user_id": "yamada.taro", "start_password": "start-1234"}),
    );
    assert_eq!(status, 201, "{enrollment}");
    let uri = enrollment["activation_uri"].as_str().unwrap().to_string();
    assert!(!uri.contains("start-1234"), "{uri}");

    // A wrong start password first: the app says so and how many tries remain.
    let o = softtoken(
        home,
        &["activate", "--uri", &uri, "--password-stdin"],
        "wrong-pass\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("wrong start password") && err.contains("tries left"),
        "{err}"
    );

    let created: Value = serde_json::from_str(&ok(&softtoken(
        home,
        &["activate", "--uri", &uri, "--password-stdin", "--json"],
        "start-1234\n",
    )))
    .unwrap();
    assert_eq!(created["issuer"], "しんきん銀行");
    assert_eq!(created["digits"], 8);
    assert_eq!(created["period"], 60);
    let serial = created["serial"].as_str().unwrap().to_string();

    // The bank confirms with the first code: the token becomes active.
    let (code, next) = codes(home, &serial);
    let (status, confirmed) = server.bank("/users/yamada.taro/confirm", json!({"otp": code}));
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(confirmed["valid"], true, "{confirmed}");

    // A code works once; the next step's code (inside the window) is accepted.
    let (_, again) = server.bank("/users/yamada.taro/verify", json!({"otp": code}));
    assert_eq!(again["valid"], false, "{again}");
    assert_eq!(again["reason"], "reused", "{again}");
    let (_, verified) = server.bank("/users/yamada.taro/verify", json!({"otp": next}));
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["reason"], "ok", "{verified}");

    // 取引確認: the bank's challenge, signed by `softtoken sign` (details first, then the
    // code), is accepted once; manual mode signs the digits typed from the bank's screen.
    let transfer = json!({"payee_account": "0012-3456789", "payee_name": "ヤマダ ハナコ",
        "amount": 50000, "currency": "JPY"});
    let last_code = |out: &str| {
        let last = out.lines().last().unwrap();
        assert!(last.starts_with("code:"), "{out}");
        last.trim_start_matches("code:").trim().to_string()
    };
    for manual in [false, true] {
        let (status, tx) = server.bank("/users/yamada.taro/transactions", transfer.clone());
        assert_eq!(status, 201, "{tx}");
        let (flag, input) = if manual {
            ("--digits-typed", tx["manual_digits"].as_str().unwrap())
        } else {
            ("--challenge", tx["payload"].as_str().unwrap())
        };
        let signed = ok(&softtoken(home, &["sign", &serial, flag, input], ""));
        if manual {
            // The bank's digits are exactly what the command takes: it reads back the
            // challenge number, the account's last 6 digits and the amount.
            let digits = tx["manual_digits"].as_str().unwrap();
            assert!(digits.len() <= 24, "{tx}");
            assert!(
                signed.contains(&digits[..6])
                    && signed.contains("456789")
                    && signed.contains("50,000"),
                "{signed}"
            );
        } else {
            assert!(
                signed.contains("ヤマダ ハナコ")
                    && signed.contains("50,000 JPY")
                    && signed.contains("*****6789")
                    && !signed.contains("3456789"),
                "{signed}"
            );
            // In Japanese, yen reads as yen.
            let ja = ok(&softtoken(
                home,
                &["--lang", "ja", "sign", &serial, flag, input],
                "",
            ));
            assert!(ja.contains("金額") && ja.contains("50,000円"), "{ja}");
        }
        let code = last_code(&signed);
        if manual {
            // The same transfer asked again: the typed code of the first does not confirm it.
            let (_, again) = server.bank("/users/yamada.taro/transactions", transfer.clone());
            let path = format!(
                "/users/yamada.taro/transactions/{}/verify",
                again["id"].as_str().unwrap()
            );
            let (_, v) = server.bank(&path, json!({"otp": code}));
            assert_eq!(v["reason"], "invalid", "{v}");
        }
        let path = format!(
            "/users/yamada.taro/transactions/{}/verify",
            tx["id"].as_str().unwrap()
        );
        let (_, v) = server.bank(&path, json!({"otp": code}));
        assert_eq!(v["reason"], "ok", "{v}");
        let (_, v) = server.bank(&path, json!({"otp": code}));
        assert_eq!(v["reason"], "reused", "{v}");
    }

    // Registration mode: provision, then the bank registers serial + code to a user.
    let provisioned: Value = serde_json::from_str(&ok(&softtoken(
        home,
        &[
            "provision",
            "--server",
            &server.url,
            "--service",
            "bank",
            "--json",
        ],
        "",
    )))
    .unwrap();
    assert_eq!(provisioned["digits"], 6);
    let serial2 = provisioned["serial"].as_str().unwrap().to_string();
    let (code2, _) = codes(home, &serial2);
    let (status, registered) = server.bank(
        "/users/suzuki/tokens",
        json!({"serial": serial2, "otp": code2}),
    );
    assert_eq!(status, 201, "{registered}");

    // Time sync reaches the server and keeps codes valid.
    let synced = ok(&softtoken(home, &["sync-time"], ""));
    assert!(synced.contains(&server.url), "{synced}");
    let list: Value = serde_json::from_str(&ok(&softtoken(home, &["list", "--json"], ""))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // An enrollment that does not exist, and a server that is gone, are explained.
    let o = softtoken(
        home,
        &[
            "activate",
            "--server",
            &server.url,
            "--service",
            "bank",
            "--user",
            "nobody",
            "--password-stdin",
        ],
        "start-1234\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ask the bank"));
    let url = server.url.clone();
    drop(server);
    let o = softtoken(home, &["sync-time"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("cannot reach {url}/v1/time")));
}

/// The state of `serial` in `list --json`.
fn state(home: &Path, serial: &str) -> String {
    let list: Value = serde_json::from_str(&ok(&softtoken(home, &["list", "--json"], ""))).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["serial"] == serial)
        .unwrap()["state"]
        .as_str()
        .unwrap()
        .to_string()
}

fn activate(server: &Server, home: &Path, user: &str, password: &str) -> Value {
    let (status, enrollment) = server.bank(
        "/enrollments",
        json!({"user_id": user, "start_password": password}),
    );
    assert_eq!(status, 201, "{enrollment}");
    let uri = enrollment["activation_uri"].as_str().unwrap().to_string();
    let created: Value = serde_json::from_str(&ok(&softtoken(
        home,
        &["activate", "--uri", &uri, "--password-stdin", "--json"],
        &format!("{password}\n"),
    )))
    .unwrap();
    created
}

/// Issue 16 item 1, end to end: `softtoken refresh` learns every state a token can reach
/// on the real server (pending, active, replaced, stopped, revoked), and a dead token says
/// why (in Japanese with `--lang ja`) instead of showing a code.
#[test]
fn refresh_learns_every_state_from_the_server() {
    let server = start_server();
    let home = tempfile::tempdir().unwrap();
    let home = home.path();

    // `activate --json` carries the code to confirm with, of the bank's length.
    let first = activate(&server, home, "sato", "start-1111");
    let first_serial = first["serial"].as_str().unwrap().to_string();
    let code = first["code"].as_str().unwrap();
    assert_eq!(
        code.len() as u64,
        first["digits"].as_u64().unwrap(),
        "{first}"
    );
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{first}");
    let refreshed = ok(&softtoken(home, &["refresh"], ""));
    assert!(
        refreshed.contains(&server.url) && refreshed.contains("pending"),
        "{refreshed}"
    );
    assert_eq!(state(home, &first_serial), "pending");

    // Activated again before confirming: the dead twin is marked replaced.
    let second = activate(&server, home, "sato", "start-2222");
    let second_serial = second["serial"].as_str().unwrap().to_string();
    let o = softtoken(home, &["refresh"], "");
    let said = ok(&o);
    assert!(
        said.contains("replaced") && said.contains(&format!("softtoken delete {first_serial}")),
        "{said}"
    );
    assert_eq!(state(home, &first_serial), "replaced");
    assert_eq!(state(home, &second_serial), "pending");

    // Confirmed: active, 「利用中」 in Japanese.
    let (code, next) = codes(home, &second_serial);
    let (status, body) = server.bank("/users/sato/confirm", json!({"otp": code}));
    assert_eq!(status, 200, "{body}");
    ok(&softtoken(home, &["refresh"], ""));
    assert_eq!(state(home, &second_serial), "active");
    let listed = ok(&softtoken(home, &["--lang", "ja", "list"], ""));
    assert!(listed.contains("利用中"), "{listed}");

    // OTP stopped by the bank: stopped, no code, and what to do.
    let (status, body) = server.bank("/users/sato/stop", json!({"otp": next}));
    assert_eq!(status, 200, "{body}");
    ok(&softtoken(home, &["refresh"], ""));
    assert_eq!(state(home, &second_serial), "stopped");
    let o = softtoken(
        home,
        &["--lang", "ja", "show", &second_serial, "--json"],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("利用が停止") && err.contains("softtoken delete"),
        "{err}"
    );

    // Revoked by the bank.
    let third = activate(&server, home, "kato", "start-3333");
    let third_serial = third["serial"].as_str().unwrap().to_string();
    let (status, body) = server.bank(&format!("/tokens/{third_serial}/revoke"), json!({}));
    assert_eq!(status, 200, "{body}");
    ok(&softtoken(home, &["refresh"], ""));
    assert_eq!(state(home, &third_serial), "revoked");
    // Every earlier answer kept.
    assert_eq!(state(home, &first_serial), "replaced");
    assert_eq!(state(home, &second_serial), "stopped");
}

/// Issue 16 item 1: `show` refreshes the states when it opens the vault. A token the bank
/// revokes stops showing a code on the next plain `softtoken show --once`, which says why,
/// with no `softtoken refresh` in between; `--offline` skips the asking.
#[test]
fn show_learns_a_revocation_on_open() {
    let server = start_server();
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let token = activate(&server, home, "ito", "start-4444");
    let serial = token["serial"].as_str().unwrap().to_string();
    let grouped = softtoken_core::protocol::Serial::parse(&serial)
        .unwrap()
        .grouped();
    let o = softtoken(home, &["--lang", "en", "show", "--once"], "");
    assert!(ok(&o).contains(&grouped), "{}", ok(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "",
        "no note when online"
    );

    let (status, body) = server.bank(&format!("/tokens/{serial}/revoke"), json!({}));
    assert_eq!(status, 200, "{body}");

    // Without asking, the vault still believes the token alive.
    let o = softtoken(home, &["--lang", "en", "show", "--once", "--offline"], "");
    assert!(ok(&o).contains(&grouped), "{}", ok(&o));

    let o = softtoken(home, &["--lang", "en", "show", "--once"], "");
    let shown = ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !shown.contains(&grouped),
        "a revoked token shows no code: {shown}"
    );
    assert!(
        err.contains("revoked") && err.contains(&format!("softtoken delete {serial}")),
        "{err}"
    );
    assert_eq!(state(home, &serial), "revoked");
}
