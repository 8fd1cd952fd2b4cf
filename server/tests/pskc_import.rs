#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hardware tokens from PSKC files (issue 8): import over the bank API and the CLI,
//! then register with serial + code and verify, like soft tokens.

mod common;

use std::collections::BTreeMap;

use common::{TestServer, assert_problem};
use serde_json::{Value, json};
use softtoken_protocol::otp::totp;
use softtoken_protocol::{Algorithm, OtpParams};
use softtoken_store::policy::Policy;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/pskc/tests/fixtures");
const IMPORT: &str = "/v1/services/bank/tokens/import";

fn fixture(name: &str) -> (String, Value) {
    let xml = std::fs::read_to_string(format!("{FIXTURES}/{name}.pskcxml")).unwrap();
    let json = std::fs::read_to_string(format!("{FIXTURES}/{name}.json")).unwrap();
    (xml, serde_json::from_str(&json).unwrap())
}

/// The code of a fixture key at the server's current time.
fn code(server: &TestServer, key: &Value) -> String {
    let params = OtpParams::new(
        key["algorithm"]
            .as_str()
            .unwrap()
            .parse::<Algorithm>()
            .unwrap(),
        u32::try_from(key["digits"].as_u64().unwrap()).unwrap(),
        key["period"].as_u64().unwrap(),
    )
    .unwrap();
    let seed = hex::decode(key["secret_hex"].as_str().unwrap()).unwrap();
    totp(&seed, &params, server.now_secs()).to_string()
}

async fn register(
    server: &TestServer,
    api: &str,
    uid: &str,
    serial: &str,
    otp: &str,
) -> (u16, Value) {
    server
        .post(
            &format!("/v1/services/bank/users/{uid}/tokens"),
            api,
            json!({"serial": serial, "otp": otp}),
        )
        .await
}

#[tokio::test]
async fn thousand_tokens_import_in_one_call_then_each_registers_and_verifies() {
    let server = TestServer::start().await;
    let api = server.add_service("bank", Policy::default()).await;
    let (xml, expected) = fixture("totp-1000-pbkdf2");
    let started = std::time::Instant::now();
    let (status, body) = server
        .post(
            IMPORT,
            &api,
            json!({"pskc": xml, "password": expected["password"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 1000, "{body}");
    assert_eq!(body["skipped"], json!([]));
    eprintln!("1,000-token import took {:?}", started.elapsed());

    // A second import of the same file adds nothing and overwrites nothing.
    let (status, body) = server
        .post(
            IMPORT,
            &api,
            json!({"pskc": xml, "password": expected["password"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 0);
    assert_eq!(body["skipped"].as_array().unwrap().len(), 1000);
    assert_eq!(
        body["skipped"][0]["reason"],
        "the serial is already on this server"
    );

    let (_, audit) = server.get("/v1/services/bank/audit", &api).await;
    let details: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "tokens_imported")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        details,
        [
            "1000 key packages in the file; imported 1000 of 1000",
            "1000 key packages in the file; imported 0 of 1000"
        ]
    );

    let keys = expected["keys"].as_array().unwrap();
    for (i, key) in keys.iter().enumerate() {
        // Serials match ignoring case.
        let serial = key["serial"].as_str().unwrap().to_lowercase();
        let (status, body) = register(
            &server,
            &api,
            &format!("user{i}"),
            &serial,
            &code(&server, key),
        )
        .await;
        assert_eq!(status, 201, "{serial}: {body}");
    }
    server.advance_secs(30);
    for (i, key) in keys.iter().enumerate() {
        let (status, body) = server
            .post(
                &format!("/v1/services/bank/users/user{i}/verify"),
                &api,
                json!({"otp": code(&server, key)}),
            )
            .await;
        assert_eq!((status, &body["valid"]), (200, &json!(true)), "{body}");
    }
}

#[tokio::test]
async fn tampered_mac_or_wrong_password_imports_nothing() {
    let server = TestServer::start().await;
    let api = server.add_service("bank", Policy::default()).await;
    let (xml, expected) = fixture("totp-1000-pbkdf2");
    let password = expected["password"].as_str().unwrap();
    let first_key = &expected["keys"][0];

    let (status, body) = server
        .post(
            IMPORT,
            &api,
            json!({"pskc": xml, "password": "not the password"}),
        )
        .await;
    assert_problem(status, &body, 422, "pskc_wrong_key");

    let mac_at = xml.rfind("<pskc:ValueMAC>").unwrap() + "<pskc:ValueMAC>".len();
    let mut tampered = xml.clone();
    let flipped = if &xml[mac_at..=mac_at] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(mac_at..=mac_at, flipped);
    let (status, body) = server
        .post(
            IMPORT,
            &api,
            json!({"pskc": tampered, "password": password}),
        )
        .await;
    assert_problem(status, &body, 422, "pskc_integrity");

    // Nothing was stored: the first token of the file is unknown.
    let serial = first_key["serial"].as_str().unwrap();
    let (status, body) = register(&server, &api, "alice", serial, &code(&server, first_key)).await;
    assert_problem(status, &body, 404, "not_found");
}

#[tokio::test]
async fn pre_shared_key_files_and_skips_are_reported() {
    let server = TestServer::start().await;
    let api = server.add_service("bank", Policy::default()).await;
    let (xml, expected) = fixture("totp-psk-aes256");
    let (status, body) = server
        .post(
            IMPORT,
            &api,
            json!({"pskc": xml, "preshared_key_hex": expected["preshared_key_hex"]}),
        )
        .await;
    assert_eq!((status, &body["imported"]), (200, &json!(3)), "{body}");
    let key = &expected["keys"][1];
    let (status, body) = register(
        &server,
        &api,
        "bob",
        key["serial"].as_str().unwrap(),
        &code(&server, key),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (xml, _) = fixture("mixed-skips");
    let (status, body) = server.post(IMPORT, &api, json!({"pskc": xml})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 1, "{body}");
    let reasons: BTreeMap<String, String> = body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["serial"].as_str().unwrap_or("-").to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(reasons["MX-HOTP-1"].contains("HOTP"), "{reasons:?}");
    assert!(reasons["MX-7DIGITS"].contains("7 digits"), "{reasons:?}");
    assert!(reasons["-"].contains("SerialNo"), "{reasons:?}");
}

#[tokio::test]
async fn hostile_or_broken_files_are_4xx_problems() {
    let server = TestServer::start().await;
    let api = server.add_service("bank", Policy::default()).await;
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
        <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&e;</KeyContainer>"#;
    let (status, body) = server.post(IMPORT, &api, json!({"pskc": xxe})).await;
    assert_problem(status, &body, 400, "invalid_pskc");
    assert!(
        !body["detail"].as_str().unwrap().contains("root:"),
        "{body}"
    );

    let (status, body) = server
        .post(IMPORT, &api, json!({"pskc": "<KeyContainer"}))
        .await;
    assert_problem(status, &body, 400, "invalid_pskc");
    let (status, body) = server
        .post(
            IMPORT,
            &api,
            json!({"pskc": "<KeyContainer xmlns=\"urn:x\"/>"}),
        )
        .await;
    assert_problem(status, &body, 400, "invalid_pskc");

    let (xml, _) = fixture("totp-psk-aes128");
    let (status, body) = server.post(IMPORT, &api, json!({"pskc": xml})).await;
    assert_problem(status, &body, 400, "pskc_key_needed");
    let (status, body) = server
        .post(
            IMPORT,
            &api,
            json!({"pskc": xml, "preshared_key_hex": "zz"}),
        )
        .await;
    assert_problem(status, &body, 400, "invalid_request");
    let (status, body) = server
        .post(
            IMPORT,
            &api,
            json!({"pskc": xml, "password": "x", "preshared_key_hex": "00"}),
        )
        .await;
    assert_problem(status, &body, 400, "invalid_request");

    let huge = "x".repeat(softtoken_pskc::MAX_DOCUMENT_BYTES + 1);
    let (status, body) = server.post(IMPORT, &api, json!({"pskc": huge})).await;
    assert_problem(status, &body, 413, "payload_too_large");
    // Other routes keep their small limit.
    let (status, body) = server
        .post(
            "/v1/services/bank/users/u/verify",
            &api,
            json!({"otp": "x".repeat(20_000)}),
        )
        .await;
    assert_problem(status, &body, 413, "payload_too_large");

    let (status, body) = server.post(IMPORT, "wrong key", json!({"pskc": xml})).await;
    assert_problem(status, &body, 401, "unauthorized");
}

#[test]
fn the_cli_imports_through_the_same_code_path() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_softtoken-server");
    let data = dir.path().to_str().unwrap();
    let add = Command::new(bin)
        .args([
            "service",
            "add",
            "--id",
            "bank",
            "--name",
            "Bank",
            "--data-dir",
            data,
        ])
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("SOFTTOKEN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );

    let file = format!("{FIXTURES}/totp-pbkdf2-aes256.pskcxml");
    let (_, totp_expected) = fixture("totp-pbkdf2-aes256");
    let mut child = Command::new(bin)
        .args([
            "tokens",
            "import",
            "--service",
            "bank",
            &file,
            "--password-stdin",
            "--data-dir",
            data,
        ])
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("SOFTTOKEN_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let password = totp_expected["password"].as_str().unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("imported 2 token(s), skipped 0"),
        "{stdout}"
    );
    assert!(!stdout.contains(password));

    // A PSK file for a password document is refused, and says why.
    let psk = dir.path().join("psk.hex");
    std::fs::write(&psk, "00112233445566778899aabbccddeeff").unwrap();
    let out = Command::new(bin)
        .args(["tokens", "import", "--service", "bank", &file, "--psk-file"])
        .arg(&psk)
        .args(["--data-dir", data])
        .env_remove("SOFTTOKEN_MASTER_KEY")
        .env_remove("SOFTTOKEN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
}
