//! HTTPS against the real `softtoken-server` binary (issue 13, item 1): a test CA made
//! with rcgen, TLS 1.2 and 1.3 only, a renewed certificate taken up without a restart
//! (on its own and on SIGHUP), a broken one refused while the last good one stays.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, SanType};

/// How long a test waits for what the server must do by itself.
const PATIENCE: Duration = Duration::from_secs(30);

/// A certificate authority of the test's own.
struct Ca {
    cert: Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// A server certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM, DER).
    fn server_cert(&self) -> (String, String, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().unwrap()),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        ];
        params
            .distinguished_name
            .push(DnType::CommonName, "softtoken test server");
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem(), cert.der().to_vec())
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }
}

/// Writes a file the way a renewal tool should: a new file renamed over the old one.
fn replace(path: &Path, content: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, content).unwrap();
    std::fs::rename(&next, path).unwrap();
}

/// A running server, killed when dropped; its stderr lines arrive on `log`.
struct Server {
    child: Child,
    url: String,
    log: mpsc::Receiver<String>,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Waits for a log line containing `text`. Every line read on the way must be plain
    /// text: stderr here is a pipe, as it is under systemd or a log shipper, and terminal
    /// colour codes there only garble what a bank's log collector stores.
    fn await_log(&self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.log.recv_timeout(left);
            if let Ok(line) = &line {
                assert!(
                    !line.contains('\u{1b}'),
                    "a log line written to a pipe carries terminal escape codes: {line:?}"
                );
            }
            match line {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("the server never logged {text:?}"),
            }
        }
    }
}

struct Files {
    dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

fn files(ca: &Ca) -> (Files, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("server.crt");
    let key = dir.path().join("server.key");
    let (cert_pem, key_pem, der) = ca.server_cert();
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    (Files { dir, cert, key }, der)
}

fn serve(files: &Files, extra: &[&str]) -> Server {
    let data = files.dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .arg("--tls-cert")
        .arg(&files.cert)
        .arg("--tls-key")
        .arg(&files.key)
        .args(extra)
        .env("RUST_LOG", "softtoken=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("softtoken-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    Server {
        child,
        url,
        log,
        _stdout: stdout,
    }
}

/// A fresh client (so a fresh connection and handshake) trusting only `ca`.
fn client(ca: &str) -> reqwest::blocking::ClientBuilder {
    reqwest::blocking::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .tls_info(true)
        .timeout(Duration::from_secs(10))
}

/// The certificate the server presents to a new connection trusting `ca`, or why not.
fn presented(url: &str, ca: &str) -> Result<Vec<u8>, String> {
    let response = client(ca)
        .build()
        .unwrap()
        .get(format!("{url}/v1/time"))
        .send()
        .map_err(|e| chain(&e))?;
    assert_eq!(response.status(), 200);
    let info = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .unwrap();
    Ok(info.peer_certificate().unwrap().to_vec())
}

/// An error with all its causes.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[test]
fn https_with_the_ca_trusted_and_only_then() {
    let ca = Ca::new("softtoken test CA");
    let (files, der) = files(&ca);
    let server = serve(&files, &[]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );

    // By IP address and by name, both in the certificate.
    assert_eq!(presented(&server.url, &ca.pem()).unwrap(), der);
    let by_name = server.url.replace("127.0.0.1", "localhost");
    let time: serde_json::Value = client(&ca.pem())
        .build()
        .unwrap()
        .get(format!("{by_name}/v1/time"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(time["unix_ms"].as_i64().unwrap() > 0, "{time}");

    // The built-in roots do not know the test CA; neither does a client trusting another.
    let e = reqwest::blocking::get(format!("{}/v1/time", server.url)).unwrap_err();
    assert!(chain(&e).contains("UnknownIssuer"), "{}", chain(&e));
    let stranger = Ca::new("another CA");
    let e = presented(&server.url, &stranger.pem()).unwrap_err();
    assert!(e.contains("UnknownIssuer"), "{e}");

    // Plain HTTP to the TLS port gets no answer.
    assert!(
        reqwest::blocking::get(server.url.replace("https", "http") + "/v1/time")
            .map(|r| r.status() != 200)
            .unwrap_or(true)
    );
}

#[test]
fn tls_1_2_is_served_and_1_1_refused() {
    let ca = Ca::new("softtoken test CA");
    let (files, _) = files(&ca);
    let server = serve(&files, &[]);

    let twelve = client(&ca.pem())
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap()
        .get(format!("{}/v1/time", server.url))
        .send()
        .unwrap();
    assert_eq!(twelve.status(), 200);

    // rustls cannot speak TLS 1.1, so this ClientHello is written by hand: version 3.2,
    // two TLS 1.1 cipher suites, no extensions (so no supported_versions either).
    let mut body = vec![0x03, 0x02];
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // no session id
    body.extend_from_slice(&[0x00, 0x04, 0xc0, 0x13, 0x00, 0x2f]); // cipher suites
    body.extend_from_slice(&[0x01, 0x00]); // null compression
    let mut handshake = vec![0x01, 0x00, 0x00, body.len() as u8];
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01, 0x00, handshake.len() as u8];
    record.extend_from_slice(&handshake);

    let addr = server.url.trim_start_matches("https://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(&record).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    // An alert record (21), fatal (2), protocol_version (70) or handshake_failure (40)
    // (rustls finds nothing it offers in a TLS 1.1 hello): never a ServerHello.
    assert!(answer.len() >= 7, "{answer:?}");
    assert_eq!(answer[0], 21, "{answer:?}");
    assert_eq!(answer[5], 2, "{answer:?}");
    assert!([40, 70].contains(&answer[6]), "{answer:?}");
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart_and_a_broken_one_refused() {
    let first_ca = Ca::new("first CA");
    let (files, first_der) = files(&first_ca);
    let server = serve(&files, &["--tls-reload-every", "1s"]);
    assert_eq!(presented(&server.url, &first_ca.pem()).unwrap(), first_der);

    // Renewal, from another CA even: new connections get the new certificate.
    let second_ca = Ca::new("second CA");
    let (cert_pem, key_pem, second_der) = second_ca.server_cert();
    replace(&files.key, &key_pem);
    replace(&files.cert, &cert_pem);
    let deadline = Instant::now() + PATIENCE;
    while presented(&server.url, &second_ca.pem()).is_err() {
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        presented(&server.url, &second_ca.pem()).unwrap(),
        second_der
    );
    server.await_log("TLS certificate reloaded");
    let e = presented(&server.url, &first_ca.pem()).unwrap_err();
    assert!(e.contains("UnknownIssuer"), "{e}");

    // A broken file: logged with its name, and the last good certificate stays.
    replace(&files.cert, "-----BEGIN CERTIFICATE-----\nbroken\n");
    let line = server.await_log("keeping the TLS certificate in use");
    assert!(line.contains("server.crt"), "{line}");
    assert_eq!(
        presented(&server.url, &second_ca.pem()).unwrap(),
        second_der
    );
    // So does a key that belongs to another certificate.
    let (cert_pem, _, _) = second_ca.server_cert();
    replace(&files.cert, &cert_pem);
    let line = server.await_log("keeping the TLS certificate in use");
    assert!(line.contains("does not fit"), "{line}");
    assert_eq!(
        presented(&server.url, &second_ca.pem()).unwrap(),
        second_der
    );
}

#[test]
fn sighup_reloads_the_certificate_at_once() {
    let first_ca = Ca::new("first CA");
    let (files, _) = files(&first_ca);
    let server = serve(&files, &["--tls-reload-every", "1h"]);
    presented(&server.url, &first_ca.pem()).unwrap();
    let second_ca = Ca::new("second CA");
    let (cert_pem, key_pem, second_der) = second_ca.server_cert();
    replace(&files.key, &key_pem);
    replace(&files.cert, &cert_pem);
    // The hourly look is far away: only the signal can make the server see the new pair.
    let status = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    server.await_log("TLS certificate reloaded");
    assert_eq!(
        presented(&server.url, &second_ca.pem()).unwrap(),
        second_der
    );
}

#[test]
fn a_bad_certificate_or_a_lone_flag_stops_the_start_with_a_clear_message() {
    let ca = Ca::new("softtoken test CA");
    let (files, _) = files(&ca);
    let data = files.dir.path().join("data");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(args)
            .env_remove("SOFTTOKEN_TLS_CERT")
            .env_remove("SOFTTOKEN_TLS_KEY")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            out.stdout.is_empty(),
            "announced a server that cannot serve"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let cert = files.cert.to_str().unwrap();
    let key = files.key.to_str().unwrap();

    let e = run(&["--tls-cert", cert]);
    assert!(e.contains("--tls-key"), "{e}");
    let e = run(&["--tls-key", key]);
    assert!(e.contains("--tls-cert"), "{e}");

    let missing = files.dir.path().join("nothing.pem");
    let e = run(&["--tls-cert", missing.to_str().unwrap(), "--tls-key", key]);
    assert!(e.contains("nothing.pem"), "{e}");

    // The key file given as the certificate: it holds no certificate.
    let e = run(&["--tls-cert", key, "--tls-key", key]);
    assert!(
        e.contains("server.key") && e.contains("no CERTIFICATE"),
        "{e}"
    );
}

#[test]
fn a_stalled_handshake_is_cut_off_and_sigterm_ends_a_tls_server_cleanly() {
    let ca = Ca::new("softtoken test CA");
    let (files, _) = files(&ca);
    let mut server = serve(
        &files,
        &["--max-connections", "1", "--header-timeout", "1s"],
    );
    let addr = server.url.trim_start_matches("https://").to_string();

    // A client that connects and never says hello holds the only slot, for a second.
    let mut stalled = TcpStream::connect(&addr).unwrap();
    stalled.set_read_timeout(Some(PATIENCE)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    presented(&server.url, &ca.pem()).unwrap();
    assert!(
        sent.elapsed() >= Duration::from_millis(700),
        "served after {:?} while the slot was held",
        sent.elapsed()
    );
    let mut rest = Vec::new();
    // Closed by the server: end of stream (or a reset), not the read timeout.
    let read = stalled.read_to_end(&mut rest);
    assert!(
        !matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{read:?}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + PATIENCE;
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}
