//! `softtoken activate`, `provision` and `sync-time` against a miniature activation server
//! (the protocol crate's server-side functions behind a loopback HTTP listener).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../core/tests/support/fake_server.rs"]
mod fake_server;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use fake_server::{FakeServer, serve_http};
use softtoken_core::protocol::Serial;
use softtoken_core::protocol::otp::{self, OtpParams};
use softtoken_core::vault::{Clock, SystemClock};

struct Setup {
    home: tempfile::TempDir,
    server: Arc<FakeServer>,
    url: String,
}

fn setup() -> Setup {
    let server = FakeServer::new(Arc::new(|| SystemClock.now_unix_ms()));
    let addr = serve_http(server.clone());
    Setup {
        home: tempfile::tempdir().unwrap(),
        server,
        url: format!("http://{addr}"),
    }
}

impl Setup {
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_softtoken"))
            .args(args)
            .env("SOFTTOKEN_HOME", self.home.path())
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    fn activate(&self, user: &str, password: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "activate",
            "--server",
            &self.url,
            "--service",
            "shinkin",
            "--user",
            user,
            "--password-stdin",
        ];
        args.extend_from_slice(extra);
        self.run(&args, &format!("{password}\n"))
    }

    /// The code the server expects now (or a second ago) for `serial`.
    fn server_codes(&self, serial: &str, params: &OtpParams) -> [String; 2] {
        let seed = self.server.seed_of(&Serial::parse(serial).unwrap());
        let ms = SystemClock.now_unix_ms() + self.server.offset_ms.load(Ordering::SeqCst);
        let at = |ms: i64| otp::totp(&seed, params, (ms / 1000) as u64).to_string();
        [at(ms), at(ms - 1000)]
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn assert_fails(o: &Output, code: i32, needle: &str) {
    let e = err(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {} stderr: {e}",
        out(o)
    );
    assert!(e.contains(needle), "expected {needle:?} in {e:?}");
    assert!(!e.contains("panicked") && !e.contains("backtrace"), "{e}");
}

#[test]
fn activate_wrong_password_first_then_the_code_to_confirm() {
    let s = setup();
    s.server.enroll("yamada.taro", "start-1234");
    s.server.offset_ms.store(-40_000, Ordering::SeqCst);

    let o = s.activate("yamada.taro", "wrong-pass", &[]);
    assert_fails(&o, 1, "wrong start password (4 tries left");

    let o = s.activate("yamada.taro", "start-1234", &[]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains("しんきん銀行") && text.contains("yamada.taro"),
        "{text}"
    );
    assert!(text.contains("internet banking"), "{text}");

    let o = s.run(&["list", "--json"], "");
    let rows: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(rows[0]["state"], "pending");
    assert_eq!(rows[0]["digits"], 8);
    assert_eq!(rows[0]["period"], 60);
    assert_eq!(rows[0]["server_url"], s.url.as_str());
    let serial = rows[0]["serial"].as_str().unwrap().to_string();
    assert!(
        text.contains(&Serial::parse(&serial).unwrap().grouped()),
        "{text}"
    );

    // The printed code and `show` agree with the server, whose clock is 40 s behind.
    let expected = s.server_codes(&serial, &OtpParams::ACTIVATION);
    let printed = text
        .lines()
        .find_map(|l| l.strip_prefix("Code: "))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(expected.contains(&printed), "{printed} vs {expected:?}");
    let o = s.run(&["show", "--json"], "");
    let shown: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert!(expected.contains(&shown[0]["code"].as_str().unwrap().to_string()));
}

#[test]
fn activate_from_the_qr_uri_with_json_output() {
    let s = setup();
    s.server.enroll("alice", "start-1234");
    let uri = format!(
        "softtoken://activate?server={}&service=shinkin&user=alice",
        s.url
    );
    let o = s.run(
        &["activate", "--uri", &uri, "--password-stdin", "--json"],
        "start-1234\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    let created: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(
        created.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "code",
            "digits",
            "issuer",
            "period",
            "seconds_left",
            "serial"
        ]
    );
    assert_eq!(created["issuer"], "しんきん銀行");
    assert_eq!(created["digits"], 8);
    // Issue 16: the code to confirm the activation with comes along.
    assert_eq!(created["code"].as_str().unwrap().len(), 8, "{created}");
    assert!(Serial::parse(created["serial"].as_str().unwrap()).is_ok());

    // Used once: a second activation finds nothing waiting.
    let o = s.run(
        &["activate", "--uri", &uri, "--password-stdin"],
        "start-1234\n",
    );
    assert_fails(&o, 1, "ask the bank to issue one");
}

#[test]
fn provision_prints_serial_and_code_and_sync_time_refreshes_the_offset() {
    let s = setup();
    let o = s.run(
        &[
            "provision",
            "--server",
            &s.url,
            "--service",
            "shinkin",
            "--json",
        ],
        "",
    );
    assert!(o.status.success(), "{}", err(&o));
    let created: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(created["digits"], 6);
    assert_eq!(created["period"], 30);

    let o = s.run(
        &["provision", "--server", &s.url, "--service", "shinkin"],
        "",
    );
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.starts_with("Serial: SKTS "), "{text}");
    assert!(text.contains("Code: "), "{text}");

    s.server.offset_ms.store(90_000, Ordering::SeqCst);
    let o = s.run(&["sync-time"], "");
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(&s.url), "{}", out(&o));
    let o = s.run(&["list", "--json"], "");
    let rows: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let serial = rows[0]["serial"].as_str().unwrap();
    let expected = s.server_codes(serial, &OtpParams::REGISTRATION);
    let o = s.run(&["show", serial, "--json"], "");
    let shown: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert!(
        expected.contains(&shown[0]["code"].as_str().unwrap().to_string()),
        "the 90 s offset is applied"
    );
}

#[test]
fn a_locked_vault_takes_the_pin_before_the_start_password() {
    let s = setup();
    s.server.enroll("alice", "start-1234");
    let o = s.run(&["lock", "set", "--pin-stdin"], "2468\n2468\n");
    assert!(o.status.success(), "{}", err(&o));
    let o = s.run(
        &[
            "activate",
            "--server",
            &s.url,
            "--service",
            "shinkin",
            "--user",
            "alice",
            "--pin-stdin",
            "--password-stdin",
        ],
        "2468\nstart-1234\n",
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = s.run(&["sync-time", "--pin-stdin"], "0000\n");
    assert_fails(&o, 1, "wrong PIN");
}

#[test]
fn bad_input_and_unreachable_servers_get_clear_errors() {
    let s = setup();
    for (args, code, needle) in [
        (
            vec![
                "activate",
                "--server",
                "http://bank.example",
                "--service",
                "s",
                "--user",
                "u",
                "--password-stdin",
            ],
            2,
            "https",
        ),
        (
            vec![
                "activate",
                "--server",
                "not a url",
                "--service",
                "s",
                "--user",
                "u",
                "--password-stdin",
            ],
            2,
            "server URL",
        ),
        (
            vec![
                "activate",
                "--server",
                &s.url,
                "--service",
                "bad/id",
                "--user",
                "u",
                "--password-stdin",
            ],
            2,
            "service ID",
        ),
        (
            vec![
                "activate",
                "--server",
                &s.url,
                "--service",
                "s",
                "--user",
                "",
                "--password-stdin",
            ],
            2,
            "user ID",
        ),
        (
            vec![
                "activate",
                "--uri",
                "https://bank.example/?server=x",
                "--password-stdin",
            ],
            2,
            "activation URI",
        ),
        (
            vec!["activate", "--server", &s.url, "--service", "shinkin"],
            2,
            "--user",
        ),
        (
            vec![
                "provision",
                "--server",
                "ftp://bank.example",
                "--service",
                "s",
            ],
            2,
            "https",
        ),
        (
            vec![
                "activate",
                "--server",
                "http://127.0.0.1:9",
                "--service",
                "s",
                "--user",
                "u",
                "--password-stdin",
            ],
            1,
            "http://127.0.0.1:9/v1/activation/start",
        ),
        (
            vec![
                "provision",
                "--server",
                "http://127.0.0.1:9",
                "--service",
                "s",
            ],
            1,
            "cannot reach http://127.0.0.1:9/v1/provisioning",
        ),
        (
            vec!["provision", "--server", &s.url, "--service", "other-bank"],
            1,
            "does not know the service",
        ),
    ] {
        let o = s.run(&args, "start-1234\n");
        assert_fails(&o, code, needle);
        assert!(out(&o).is_empty(), "{args:?}");
    }
    let o = s.activate("alice", "abc", &[]);
    assert_fails(&o, 2, "4 to 64 printable ASCII");
    let o = s.activate("alice", "", &[]);
    assert_fails(&o, 2, "4 to 64");
    assert_eq!(
        s.server.requests.load(Ordering::SeqCst),
        1,
        "only the unknown-service provisioning reached the server"
    );
}
