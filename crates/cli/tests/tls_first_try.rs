//! Issue 25 item 9, TLS for a first try, with the real `softtoken-server` and `softtoken`:
//! README's openssl commands (`scripts/tls-test-ca.sh`, which README quotes line by line)
//! make a CA and a leaf the server serves and the token accepts; the token remembers that
//! CA for that server alone, so later commands need no `--ca-file`; and a certificate the
//! token cannot verify is said as such, in English and Japanese, not as "offline?".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::server_binary;

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use serde_json::{Value, json};

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// A running HTTPS server, killed when dropped.
struct Server {
    child: Child,
    url: String,
    api_key: String,
    _stdout: BufReader<ChildStdout>,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(cert: &Path, key: &Path) -> Server {
    let binary = server_binary();
    let data = tempfile::tempdir().unwrap();
    let added = Command::new(&binary)
        .args(["service", "add", "--id", "bank", "--name", "しんきん銀行"])
        .arg("--data-dir")
        .arg(data.path())
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
        .arg(data.path())
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
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
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    Server {
        child,
        url,
        api_key,
        _stdout: stdout,
        _data: data,
    }
}

impl Server {
    /// A bank API call; the bank's side accepts any certificate (it is not under test).
    fn bank(&self, path: &str, body: Value) -> (u16, Value) {
        let response = reqwest::blocking::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap()
            .post(format!("{}/v1/services/bank{path}", self.url))
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// Issues an enrollment for `user`; its activation URI.
    fn issue(&self, user: &str) -> String {
        let (status, enrollment) = self.bank(
            "/enrollments",
            json!({"user_id": user, "start_password": "start-1234"}),
        );
        assert_eq!(status, 201, "{enrollment}");
        enrollment["activation_uri"].as_str().unwrap().to_string()
    }
}

fn softtoken(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_softtoken"))
        .args(args)
        .env("SOFTTOKEN_HOME", home)
        .env_remove("SOFTTOKEN_CA_FILE")
        .env_remove("SOFTTOKEN_OFFLINE")
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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Runs README's openssl commands (the script it quotes) in `dir`.
fn readme_certificates(dir: &Path) {
    let script = repo_file("scripts/tls-test-ca.sh");
    let out = Command::new("sh").arg(&script).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The state of token `serial` as `list --json` says after its refresh on open.
fn listed_state(home: &Path, serial: &str) -> (String, String) {
    let o = softtoken(home, &["list", "--json"], "");
    let rows: Value = serde_json::from_str(&ok(&o)).unwrap();
    let state = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["serial"] == serial)
        .unwrap_or_else(|| panic!("{serial} not in {rows}"))["state"]
        .as_str()
        .unwrap()
        .to_string();
    (state, stderr(&o))
}

#[test]
fn readme_lists_the_script_s_commands_word_for_word() {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let script = std::fs::read_to_string(repo_file("scripts/tls-test-ca.sh")).unwrap();
    let commands: Vec<&str> = script
        .lines()
        .filter(|l| l.starts_with("openssl ") || l.starts_with("printf "))
        .collect();
    assert_eq!(commands.len(), 4, "{script}");
    for command in commands {
        assert!(
            readme.lines().any(|l| l == command),
            "README lacks, word for word: {command}"
        );
    }
}

#[test]
fn readme_s_test_ca_activates_a_token_which_remembers_it_for_that_server() {
    let certs = tempfile::tempdir().unwrap();
    readme_certificates(certs.path());
    let ca = certs.path().join("ca.pem");
    let server = start_server(
        &certs.path().join("server.crt"),
        &certs.path().join("server.key"),
    );
    let home = tempfile::tempdir().unwrap();
    let home = home.path();

    let uri = server.issue("sato");
    let created: Value = serde_json::from_str(&ok(&softtoken(
        home,
        &[
            "activate",
            "--uri",
            &uri,
            "--password-stdin",
            "--json",
            "--ca-file",
            ca.to_str().unwrap(),
        ],
        "start-1234\n",
    )))
    .unwrap();
    let first = created["serial"].as_str().unwrap().to_string();

    // A later `list`, told nothing of the CA, reaches the server and no "offline?".
    let (state, said) = listed_state(home, &first);
    assert_eq!(state, "pending", "{said}");
    assert!(!said.contains("offline"), "{said}");

    // A device change (a new activation for the same user) needs no --ca-file either, and
    // the list learns from the server that the first token was replaced.
    let uri = server.issue("sato");
    let created: Value = serde_json::from_str(&ok(&softtoken(
        home,
        &["activate", "--uri", &uri, "--password-stdin", "--json"],
        "start-1234\n",
    )))
    .unwrap();
    let second = created["serial"].as_str().unwrap().to_string();
    let (state, said) = listed_state(home, &first);
    assert_eq!(state, "replaced", "{said}");

    // The bank confirms the new one: `list` learns it is active; refresh and sync-time
    // reach the server too.
    let code = created["code"].as_str().unwrap();
    let (status, body) = server.bank("/users/sato/confirm", json!({"otp": code}));
    assert_eq!(status, 200, "{body}");
    let (state, said) = listed_state(home, &second);
    assert_eq!(state, "active", "{said}");
    assert!(!said.contains("offline"), "{said}");
    let refreshed = ok(&softtoken(home, &["refresh"], ""));
    assert!(refreshed.contains(&server.url), "{refreshed}");
    ok(&softtoken(home, &["sync-time"], ""));

    // The CA vouches for that server URL alone: the same certificate on another port is
    // not believed without --ca-file, and the error says it is the certificate.
    let other = start_server(
        &certs.path().join("server.crt"),
        &certs.path().join("server.key"),
    );
    let uri = other.issue("kato");
    let o = softtoken(
        home,
        &["activate", "--uri", &uri, "--password-stdin"],
        "start-1234\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("cannot verify the certificate of {}", other.url))
            && err.contains("UnknownIssuer")
            && err.contains("--ca-file"),
        "{err}"
    );

    // Forgotten (the file removed), the refresh on open says the certificate, not offline.
    std::fs::remove_file(home.join("server-cas.json")).unwrap();
    let o = softtoken(home, &["--lang", "ja", "list"], "");
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("サーバーの証明書を確認できません")
            && err.contains("信頼されていない発行者")
            && !err.contains("オフライン"),
        "{err}"
    );
}

/// A CA and a leaf for `names` valid from `not_before` to `not_after` (rcgen), written to
/// `dir`: (CA file, certificate, key).
fn rcgen_pair(
    dir: &Path,
    names: Vec<SanType>,
    validity: Option<(i32, i32)>,
) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names = names;
    if let Some((from, to)) = validity {
        leaf.not_before = rcgen::date_time_ymd(from, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(to, 1, 1);
    }
    let leaf = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let files = (
        dir.join("ca.pem"),
        dir.join("leaf.crt"),
        dir.join("leaf.key"),
    );
    std::fs::write(&files.0, ca_cert.pem()).unwrap();
    std::fs::write(&files.1, leaf.pem()).unwrap();
    std::fs::write(&files.2, key.serialize_pem()).unwrap();
    files
}

/// Activation against a server serving `cert`/`key`, trusting `ca`: (English, Japanese)
/// error output; both must fail with status 1.
fn refused(cert: &Path, key: &Path, ca: Option<&Path>) -> (String, String) {
    let server = start_server(cert, key);
    let mut said = Vec::new();
    for lang in ["en", "ja"] {
        let home = tempfile::tempdir().unwrap();
        let uri = server.issue(&format!("user.{lang}"));
        let mut args = vec![
            "--lang",
            lang,
            "activate",
            "--uri",
            &uri,
            "--password-stdin",
        ];
        if let Some(ca) = ca {
            args.extend(["--ca-file", ca.to_str().unwrap()]);
        }
        let o = softtoken(home.path(), &args, "start-1234\n");
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(!home.path().join("server-cas.json").exists());
        said.push(stderr(&o));
    }
    let ja = said.pop().unwrap();
    (said.pop().unwrap(), ja)
}

fn localhost() -> Vec<SanType> {
    vec![
        SanType::DnsName("localhost".try_into().unwrap()),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ]
}

#[test]
fn a_certificate_the_token_cannot_verify_is_said_as_such_in_en_and_ja() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let said = |en: &str, ja: &str, (got_en, got_ja): (String, String)| {
        assert!(
            got_en.contains("cannot verify the certificate of https://127.0.0.1:")
                && got_en.contains(en)
                && !got_en.contains("cannot reach"),
            "{got_en}"
        );
        assert!(
            got_ja.contains("サーバーの証明書を確認できません: https://127.0.0.1:")
                && got_ja.contains(ja)
                && !got_ja.contains("接続できません"),
            "{got_ja}"
        );
    };

    // A plain `openssl req -x509` certificate: a CA, refused as the server's own even when
    // trusted, with what to do instead.
    let plain = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            "plain.key",
            "-out",
            "plain.pem",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(plain.status.success(), "{}", stderr(&plain));
    let (cert, key) = (dir.join("plain.pem"), dir.join("plain.key"));
    said(
        "CaUsedAsEndEntity",
        "CA証明書がサーバー証明書として使われています",
        refused(&cert, &key, Some(&cert)),
    );

    // README's leaf without its CA: an untrusted issuer.
    readme_certificates(dir);
    said(
        "UnknownIssuer",
        "信頼されていない発行者",
        refused(&dir.join("server.crt"), &dir.join("server.key"), None),
    );

    // Expired.
    let expired = dir.join("expired");
    std::fs::create_dir(&expired).unwrap();
    let (ca, cert, key) = rcgen_pair(&expired, localhost(), Some((2020, 2021)));
    said("Expired", "有効期限切れ", refused(&cert, &key, Some(&ca)));

    // Issued for another name.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let names = vec![SanType::DnsName("otp.bank.example".try_into().unwrap())];
    let (ca, cert, key) = rcgen_pair(&elsewhere, names, None);
    said(
        "NotValidForName",
        "別の名前に発行された証明書",
        refused(&cert, &key, Some(&ca)),
    );
}
