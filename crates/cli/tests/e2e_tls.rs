//! The desktop token over HTTPS (issue 13, item 1): the real `softtoken-server` serving
//! a certificate of a test CA (rcgen), and the real `softtoken` activating through it once
//! that CA is trusted with `--ca-file` or `SOFTTOKEN_CA_FILE`, and refusing the server
//! without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::server_binary;

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use serde_json::{Value, json};

/// A running HTTPS server, killed when dropped.
struct Server {
    child: Child,
    url: String,
    api_key: String,
    ca_pem: String,
    ca_file: PathBuf,
    _stdout: BufReader<ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it, written to `dir`.
fn certificates(dir: &Path) -> (String, PathBuf, PathBuf, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "しんきん test CA");
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(Vec::<String>::new()).unwrap();
    server.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into().unwrap()),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ];
    let server = server.signed_by(&key, &ca, &ca_key).unwrap();
    let ca_file = dir.join("ca.pem");
    let cert_file = dir.join("server.crt");
    let key_file = dir.join("server.key");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&cert_file, server.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (ca.pem(), ca_file, cert_file, key_file)
}

fn start_server() -> Server {
    let binary = server_binary();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ca_pem, ca_file, cert, key) = certificates(dir.path());
    let added = Command::new(&binary)
        .args(["service", "add", "--id", "bank", "--name", "しんきん銀行"])
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
    let mut child = Command::new(&binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("SOFTTOKEN_TLS_CERT", &cert)
        .env("SOFTTOKEN_TLS_KEY", &key)
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
        ca_pem,
        ca_file,
        _stdout: stdout,
        _dir: dir,
    }
}

impl Server {
    /// Issues an enrollment for `user`; its activation URI.
    fn issue(&self, user: &str) -> String {
        let response = reqwest::blocking::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap())
            .build()
            .unwrap()
            .post(format!("{}/v1/services/bank/enrollments", self.url))
            .bearer_auth(&self.api_key)
            .json(&json!({"user_id": user, "start_password": "start-1234"}))
            .send()
            .unwrap();
        assert_eq!(response.status(), 201);
        let enrollment: Value = response.json().unwrap();
        enrollment["activation_uri"].as_str().unwrap().to_string()
    }
}

fn softtoken(home: &Path, args: &[&str], env: &[(&str, &Path)], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_softtoken"));
    command
        .args(args)
        .env("SOFTTOKEN_HOME", home)
        .env_remove("SOFTTOKEN_CA_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn the_desktop_token_activates_over_https_once_the_ca_is_trusted() {
    let server = start_server();
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let ca_file = server.ca_file.to_str().unwrap();

    // Without the CA the server is not believed, and the error says it is the certificate.
    let uri = server.issue("yamada.taro");
    let o = softtoken(
        home,
        &["activate", "--uri", &uri, "--password-stdin"],
        &[],
        "start-1234\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot verify the certificate") && err.contains("UnknownIssuer"),
        "{err}"
    );

    // With --ca-file.
    let created: Value = serde_json::from_str(&ok(&softtoken(
        home,
        &[
            "activate",
            "--uri",
            &uri,
            "--password-stdin",
            "--json",
            "--ca-file",
            ca_file,
        ],
        &[],
        "start-1234\n",
    )))
    .unwrap();
    assert_eq!(created["issuer"], "しんきん銀行");

    // With SOFTTOKEN_CA_FILE, for another user.
    let uri = server.issue("suzuki.hanako");
    let created: Value = serde_json::from_str(&ok(&softtoken(
        home,
        &["activate", "--uri", &uri, "--password-stdin", "--json"],
        &[("SOFTTOKEN_CA_FILE", &server.ca_file)],
        "start-1234\n",
    )))
    .unwrap();
    assert_eq!(created["digits"], 8);

    // Time sync over HTTPS too, with the CA given or remembered from the activation, and
    // not once the remembered CA is gone.
    let synced = ok(&softtoken(
        home,
        &["sync-time", "--ca-file", ca_file],
        &[],
        "",
    ));
    assert!(synced.contains(&server.url), "{synced}");
    let synced = ok(&softtoken(home, &["sync-time"], &[], ""));
    assert!(synced.contains(&server.url), "{synced}");
    std::fs::remove_file(home.join("server-cas.json")).unwrap();
    let o = softtoken(home, &["sync-time"], &[], "");
    assert_eq!(o.status.code(), Some(1));

    // A CA file that is not one is bad input, named, before anything is sent.
    let not_pem = home.join("not-a-ca.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let o = softtoken(
        home,
        &[
            "activate",
            "--uri",
            &uri,
            "--password-stdin",
            "--ca-file",
            not_pem.to_str().unwrap(),
        ],
        &[],
        "start-1234\n",
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("CA file") && err.contains("not-a-ca.pem"),
        "{err}"
    );
    let o = softtoken(
        home,
        &["sync-time"],
        &[("SOFTTOKEN_CA_FILE", &home.join("missing.pem"))],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("missing.pem"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
