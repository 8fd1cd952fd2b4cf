//! The activation e-mail (issue 13, item 7) against a real SMTP server on loopback
//! (aiosmtpd, `tests/smtp_sink.py`): the message's headers, encoding and words, the
//! checks on the request, and the outbox's promise across restarts (nothing lost, nothing
//! sent twice). The outbox tests run on SQLite, and on PostgreSQL when
//! `SOFTTOKEN_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{START_MS, assert_problem};
use serde_json::{Value, json};
use softtoken_protocol::ServiceId;
use softtoken_server::auth::{generate_key, hash_key};
use softtoken_server::{AppState, app};
use softtoken_service::clock::ManualClock;
use softtoken_service::crypto::MasterKey;
use softtoken_service::mail::Mailer;
use softtoken_service::mail::smtp::{Smtp, SmtpUrl};
use softtoken_store::policy::Policy;
use softtoken_store::{self as store, Service, ServiceMail, Store};
use tokio::task::JoinHandle;

/// How long a test waits for what must happen by itself (a mail to arrive, an event to
/// be recorded); only a broken feature takes this long.
const PATIENCE: Duration = Duration::from_secs(30);

const SERVICE: &str = "shinkin";
const SERVICE_NAME: &str = "しんきん銀行";
const DOWNLOAD_URL: &str = "https://apps.shinkin.example/otp";
const PASSWORD: &str = "Start-Pw-7391";
const FROM: &str = "しんきん銀行 <otp@shinkin.example>";

/// A free port on loopback, for a server started later.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd on a loopback port, keeping what it receives in a directory.
struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
}

/// One message as the sink received it.
#[derive(Debug)]
struct Received {
    raw: String,
    json: Value,
}

impl Received {
    /// The raw (still encoded) value of a header.
    fn header(&self, name: &str) -> String {
        self.json["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {name} header in {}", self.raw))
    }

    fn subject(&self) -> &str {
        self.json["subject"].as_str().unwrap()
    }

    fn body(&self) -> String {
        self.json["body"].as_str().unwrap().replace("\r\n", "\n")
    }

    fn to(&self) -> Vec<String> {
        self.json["rcpt_tos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }
}

impl SmtpSink {
    fn start(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/setup.sh installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        SmtpSink { child, dir }
    }

    fn messages(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|json| Received {
                raw: std::fs::read_to_string(json.with_extension("eml")).unwrap(),
                json: serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap(),
            })
            .collect()
    }

    /// The messages once there are at least `n`.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{} message(s) arrived, not {n}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server instance with its mail sender, over a database another instance may share or
/// take over ("restart").
struct MailServer {
    base: String,
    state: AppState,
    key: String,
    http: reqwest::Client,
    tasks: Vec<JoinHandle<()>>,
}

impl MailServer {
    /// An instance over the database at `url` sending through SMTP on `smtp_port` (or
    /// sending nothing); with `sender` false it queues but never sends, like a server that
    /// dies right after each commit.
    async fn start(
        url: &str,
        clock: Arc<ManualClock>,
        smtp_port: Option<u16>,
        sender: bool,
    ) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("softtoken=warn")
            .with_test_writer()
            .try_init();
        let store = store::connect(url).await.unwrap();
        let key = generate_key();
        // The first instance adds the service; a restarted one gives it a fresh key.
        let sid = ServiceId::new(SERVICE).unwrap();
        if store.service(&sid).await.unwrap().is_none() {
            store
                .add_service(
                    &Service {
                        id: sid.clone(),
                        name: SERVICE_NAME.into(),
                        policy: Policy::default(),
                        created_at: START_MS,
                    },
                    &hash_key(&key),
                )
                .await
                .unwrap();
        } else {
            softtoken_service::actions::set_api_key(
                store.as_ref(),
                &sid,
                &hash_key(&key),
                softtoken_store::audit::KeySource::CommandLine,
                softtoken_service::actions::Actor::Bank,
                START_MS,
            )
            .await
            .unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mailer = smtp_port.map(|port| {
            let url = SmtpUrl::from(format!("smtp://127.0.0.1:{port}"));
            Arc::new(Mailer::new(Smtp::new(&url, FROM).unwrap()))
        });
        let state = AppState::new(store, MasterKey::generate(), clock, &base, 0)
            .with_mailer(mailer.clone());
        let router = app(state.clone());
        let mut tasks = vec![tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        })];
        if let (Some(mailer), true) = (mailer, sender) {
            tasks.push(tokio::spawn(softtoken_service::mail::sender::run(
                state.ctx.clone(),
                mailer,
            )));
        }
        MailServer {
            base,
            state,
            key: key.to_string(),
            http: reqwest::Client::new(),
            tasks,
        }
    }

    fn store(&self) -> &Arc<dyn Store> {
        &self.state.store
    }

    async fn set_mail(&self) {
        // As `softtoken-server service mail` sets them: through the action, audited.
        softtoken_service::actions::set_service_mail(
            &**self.store(),
            &ServiceMail {
                service_id: ServiceId::new(SERVICE).unwrap(),
                download_url: DOWNLOAD_URL.into(),
                ja: None,
                en: None,
                updated_at: START_MS,
            },
            softtoken_server::commands::COMMAND_LINE,
            START_MS,
        )
        .await
        .unwrap();
    }

    async fn enroll(&self, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/v1/services/{SERVICE}/enrollments", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn audit(&self) -> Vec<Value> {
        let response = self
            .http
            .get(format!(
                "{}/v1/services/{SERVICE}/audit?limit=1000",
                self.base
            ))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["events"].as_array().unwrap().clone()
    }

    /// The audit events of `kind` once there are at least `n`.
    async fn wait_for_events(&self, kind: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let events: Vec<Value> = self
                .audit()
                .await
                .into_iter()
                .filter(|e| e["kind"] == kind)
                .collect();
            if events.len() >= n {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "{} {kind} event(s), not {n}",
                events.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the instance as a crash would: its tasks end wherever they are.
    fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A fresh database: SQLite in a temporary directory, or a fresh PostgreSQL schema.
async fn database() -> (String, Option<tempfile::TempDir>) {
    let (url, dir, _) = common::database(true);
    (common::isolated(url).await, dir)
}

#[tokio::test]
async fn the_activation_mail_arrives_with_its_headers_and_words() {
    let (url, _dir) = database().await;
    let port = free_port();
    let sink = SmtpSink::start(port);
    let clock = Arc::new(ManualClock::new(START_MS));
    let server = MailServer::start(&url, clock, Some(port), true).await;
    server.set_mail().await;

    let (status, body) = server
        .enroll(json!({"user_id": "alice", "start_password": PASSWORD,
                       "email": "taro.yamada@example.co.jp"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email_queued"], true, "{body}");
    let activation_uri = body["activation_uri"].as_str().unwrap().to_owned();

    let messages = sink.wait_for(1).await;
    let ja = &messages[0];
    assert_eq!(ja.to(), ["taro.yamada@example.co.jp"]);
    assert_eq!(ja.json["mail_from"], "otp@shinkin.example");
    // Headers: the Japanese display name and subject RFC 2047-encoded, the rest plain.
    assert!(
        ja.header("From").contains("<otp@shinkin.example>"),
        "{}",
        ja.raw
    );
    assert!(
        ja.header("From").to_ascii_lowercase().contains("=?utf-8?"),
        "{}",
        ja.raw
    );
    assert_eq!(ja.header("To"), "taro.yamada@example.co.jp");
    let subject = ja.header("Subject");
    assert!(
        subject.to_ascii_lowercase().starts_with("=?utf-8?"),
        "{subject}"
    );
    assert!(subject.is_ascii(), "{subject}");
    assert_eq!(
        ja.subject(),
        "【しんきん銀行】ワンタイムパスワード（ソフトウェアトークン）利用開始のご案内"
    );
    // The date the server's clock says, in RFC 5322 form.
    let date = chrono::DateTime::parse_from_rfc2822(&ja.header("Date")).unwrap();
    assert_eq!(date.timestamp_millis(), START_MS);
    let message_id = ja.header("Message-ID");
    assert!(
        message_id.starts_with('<') && message_id.ends_with(".activation@shinkin.example>"),
        "{message_id}"
    );
    assert_eq!(ja.header("MIME-Version"), "1.0");
    assert_eq!(
        ja.header("Content-Type").to_ascii_lowercase(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(ja.json["charset"], "utf-8");
    let encoding = ja.header("Content-Transfer-Encoding");
    assert!(
        ["base64", "quoted-printable"].contains(&encoding.as_str()),
        "{encoding}"
    );
    // Every line as sent is 7-bit: any relay can carry it.
    assert!(ja.raw.is_ascii(), "{}", ja.raw);
    // The words: what the customer types into the app, where to get it, the link.
    let text = ja.body();
    for needle in [
        "いつもしんきん銀行をご利用いただきありがとうございます。",
        "サービスID：shinkin",
        "ユーザID：alice",
        &format!("ダウンロードURL：{DOWNLOAD_URL}"),
        &activation_uri,
        "お手続きの有効期限：2023年11月16日 07時14分",
    ] {
        assert!(text.contains(needle), "{needle} is not in:\n{text}");
    }
    // Never the start password: not in the words, not anywhere in the bytes.
    assert!(!text.contains(PASSWORD) && !ja.raw.contains(PASSWORD));

    // English on request.
    let (status, body) = server
        .enroll(json!({"user_id": "bob", "start_password": PASSWORD,
                       "email": "bob@example.com", "lang": "en"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let messages = sink.wait_for(2).await;
    let en = &messages[1];
    assert_eq!(en.to(), ["bob@example.com"]);
    assert_eq!(
        en.subject(),
        "[しんきん銀行] Setting up your one-time password token"
    );
    let text = en.body();
    for needle in [
        "Service ID: shinkin",
        "User ID: bob",
        DOWNLOAD_URL,
        body["activation_uri"].as_str().unwrap(),
        "expires on 16 November 2023, 07:14 (Japan time, UTC+9)",
    ] {
        assert!(text.contains(needle), "{needle} is not in:\n{text}");
    }
    assert!(!text.contains("サービスID") && !en.raw.contains(PASSWORD));
    assert_ne!(en.header("Message-ID"), message_id);

    // The audit trail: queued with the enrollment, sent, the address masked throughout.
    let sent = server.wait_for_events("mail_sent", 2).await;
    assert_eq!(sent[0]["user_id"], "alice");
    let detail = sent[0]["detail"].as_str().unwrap();
    assert!(detail.contains("to t***@example.co.jp"), "{detail}");
    assert!(detail.contains(&message_id), "{detail}");
    let events = server.audit().await;
    let issued: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "enrollment_issued")
        .collect();
    assert!(
        issued[0]["detail"]
            .as_str()
            .unwrap()
            .ends_with("e-mail (ja) queued to t***@example.co.jp"),
        "{issued:?}"
    );
    let all = serde_json::to_string(&events).unwrap();
    assert!(
        !all.contains("taro.yamada") && !all.contains(PASSWORD),
        "{all}"
    );
    server.stop();
}

#[tokio::test]
async fn an_email_is_checked_and_needs_smtp_and_the_services_settings() {
    let (url, _dir) = database().await;
    let clock = Arc::new(ManualClock::new(START_MS));
    let port = free_port();
    let server = MailServer::start(&url, clock.clone(), Some(port), false).await;

    // A malformed address is a 422 naming the field; nothing is issued.
    for bad in [
        "alice",
        "alice@localhost",
        "Alice <a@example.com>",
        "a@example.com\r\nBcc: b@example.com",
        // Issue 22, item 7: parsed by lettre, taken by no relay.
        "\"a\\\"b\"@example.com",
        "taro@ｅｘａｍｐｌｅ\u{200B}.jp",
        "太郎@example.jp",
    ] {
        let (status, body) = server
            .enroll(json!({"user_id": "alice", "start_password": PASSWORD, "email": bad}))
            .await;
        assert_problem(status, &body, 422, "invalid_request");
        assert!(
            body["detail"].as_str().unwrap().starts_with("email:"),
            "{body}"
        );
    }
    let (status, body) = server
        .enroll(json!({"user_id": "alice", "start_password": PASSWORD,
                       "email": "a@example.com", "lang": "fr"}))
        .await;
    assert_problem(status, &body, 422, "invalid_request");
    assert!(
        body["detail"].as_str().unwrap().starts_with("lang:"),
        "{body}"
    );

    // The service has not set its mail up: refused, saying how to.
    let (status, body) = server
        .enroll(json!({"user_id": "alice", "start_password": PASSWORD, "email": "a@example.com"}))
        .await;
    assert_problem(status, &body, 409, "mail_not_configured");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("softtoken-server service mail --id shinkin"),
        "{body}"
    );
    let user = server
        .store()
        .enrollment(
            &ServiceId::new(SERVICE).unwrap(),
            &softtoken_protocol::UserId::new("alice").unwrap(),
        )
        .await
        .unwrap();
    assert!(user.is_none(), "a refused request issued an enrollment");

    // Without an address no mail; the answer says so.
    let (status, body) = server
        .enroll(json!({"user_id": "alice", "start_password": PASSWORD}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email_queued"], false);
    server.stop();

    // A server without SMTP refuses an address whatever the service has set.
    let server = MailServer::start(&url, clock, None, false).await;
    server.set_mail().await;
    let (status, body) = server
        .enroll(json!({"user_id": "bob", "start_password": PASSWORD, "email": "b@example.com"}))
        .await;
    assert_problem(status, &body, 409, "mail_not_configured");
    assert!(
        body["detail"].as_str().unwrap().contains("--smtp-url"),
        "{body}"
    );
    server.stop();
}

#[tokio::test]
async fn no_mail_is_lost_or_sent_twice_across_crashes_and_restarts() {
    let (url, _dir) = database().await;
    let clock = Arc::new(ManualClock::new(START_MS));
    let port = free_port();

    // 1. A server that dies right after its commit: the mail is queued, never sent.
    let crashed = MailServer::start(&url, clock.clone(), Some(port), false).await;
    crashed.set_mail().await;
    let (status, body) = crashed
        .enroll(
            json!({"user_id": "alice", "start_password": PASSWORD, "email": "alice@example.com"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email_queued"], true);
    crashed.stop();

    // 2. Restarted while the SMTP server is down: the attempt fails and is put off.
    let server = MailServer::start(&url, clock.clone(), Some(port), true).await;
    let deferred = server.wait_for_events("mail_deferred", 1).await;
    let detail = deferred[0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("to a***@example.com, attempt 1 failed:"),
        "{detail}"
    );
    assert!(
        detail.contains("next attempt at 2023-11-14T22:14:30.000Z"),
        "{detail}"
    );

    // 3. The SMTP server is back and the pause is over: the mail arrives, once.
    let sink = SmtpSink::start(port);
    clock.advance_ms(31_000);
    server.state.mailer.as_ref().unwrap().wake();
    let messages = sink.wait_for(1).await;
    assert_eq!(messages[0].to(), ["alice@example.com"]);
    assert!(messages[0].body().contains("ユーザID：alice"));
    let sent = server.wait_for_events("mail_sent", 1).await;
    assert!(
        sent[0]["detail"].as_str().unwrap().ends_with("attempt 2"),
        "{sent:?}"
    );
    server.stop();

    // 4. Restarted again, well past every lease: alice's mail is not sent again. Bob's,
    // queued now, goes; had alice's still been due it would have gone first.
    clock.advance_ms(3_600_000);
    let server = MailServer::start(&url, clock.clone(), Some(port), true).await;
    let (status, _) = server
        .enroll(json!({"user_id": "bob", "start_password": PASSWORD, "email": "bob@example.com"}))
        .await;
    assert_eq!(status, 201);
    let messages = sink.wait_for(2).await;
    let sent: Vec<Vec<String>> = sink.wait_for(2).await.iter().map(Received::to).collect();
    assert_eq!(sent, [vec!["alice@example.com"], vec!["bob@example.com"]]);
    assert_eq!(messages.len(), 2);
    server.wait_for_events("mail_sent", 2).await;
    // One more round of the sender finds nothing: still two.
    softtoken_service::mail::sender::deliver_due(
        &server.state,
        server.state.mailer.as_ref().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(sink.messages().len(), 2);
    server.stop();
}

#[tokio::test]
async fn a_refused_mail_is_given_up_and_a_deferred_one_tried_again() {
    let (url, _dir) = database().await;
    let clock = Arc::new(ManualClock::new(START_MS));
    let port = free_port();
    let sink = SmtpSink::start(port);
    let server = MailServer::start(&url, clock.clone(), Some(port), true).await;
    server.set_mail().await;

    // 550 for this recipient: given up at once, never tried again.
    let (status, _) = server
        .enroll(json!({"user_id": "alice", "start_password": PASSWORD,
                       "email": "reject.alice@example.com"}))
        .await;
    assert_eq!(status, 201);
    let failed = server.wait_for_events("mail_failed", 1).await;
    let detail = failed[0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("to r***@example.com, given up at attempt 1:"),
        "{detail}"
    );
    assert!(detail.contains("550"), "{detail}");
    assert!(!detail.contains("reject.alice"), "{detail}");

    // 451: put off, and tried again once the pause is over.
    let (status, _) = server
        .enroll(json!({"user_id": "bob", "start_password": PASSWORD,
                       "email": "later.bob@example.com"}))
        .await;
    assert_eq!(status, 201);
    server.wait_for_events("mail_deferred", 1).await;
    clock.advance_ms(31_000);
    server.state.mailer.as_ref().unwrap().wake();
    let deferred = server.wait_for_events("mail_deferred", 2).await;
    assert!(
        deferred[1]["detail"]
            .as_str()
            .unwrap()
            .contains("attempt 2 failed"),
        "{deferred:?}"
    );
    // Tried until the enrollment expires, then given up.
    clock.advance_ms(25 * 3_600_000);
    server.state.mailer.as_ref().unwrap().wake();
    let failed = server.wait_for_events("mail_failed", 2).await;
    assert!(
        failed[1]["detail"]
            .as_str()
            .unwrap()
            .contains("enrollment expired"),
        "{failed:?}"
    );
    assert!(sink.messages().is_empty());

    // Done with, they are kept a week, then the periodic purge deletes them.
    let now = START_MS + 6 * 86_400_000;
    let purged = server.store().purge_expired(now, now).await.unwrap();
    assert_eq!(purged.mails, 0);
    let now = START_MS + 8 * 86_400_000;
    let purged = server.store().purge_expired(now, now).await.unwrap();
    assert_eq!(purged.mails, 2);
    server.stop();
}

/// `softtoken-server …` with a data directory; its status, stdout and stderr.
fn cli(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("SOFTTOKEN_SMTP_URL")
        .env_remove("SOFTTOKEN_MAIL_FROM")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A running `softtoken-server serve`, killed on drop; its stderr collected in a file.
struct Served {
    child: Child,
    base: String,
    stderr: PathBuf,
}

impl Served {
    fn start(data: &std::path::Path, extra: &[&str]) -> Self {
        let stderr = data.join(format!("stderr-{}.log", free_port()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(extra)
            .env("RUST_LOG", "softtoken=debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("softtoken-server listening on ")
            .unwrap_or_else(|| panic!("the server did not start: {line}"))
            .to_owned();
        Served {
            child,
            base,
            stderr,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_server_binary_sends_the_services_own_template_and_never_logs_the_smtp_password() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let (ok, out, err) = cli(
        data,
        &["service", "add", "--id", SERVICE, "--name", SERVICE_NAME],
    );
    assert!(ok, "{err}");
    let key = out.lines().last().unwrap().trim().to_owned();

    // Templates are checked when set: an unknown placeholder is refused, naming it.
    let (ok, _, err) = cli(
        data,
        &[
            "service",
            "mail",
            "--id",
            SERVICE,
            "--download-url",
            DOWNLOAD_URL,
            "--subject-ja",
            "{service_name}: {start_password}",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("--subject-ja: unknown placeholder {start_password}"),
        "{err}"
    );
    let body = data.join("ja.txt");
    std::fs::write(
        &body,
        "{service_name}のお客さまへ\n\nサービスID {service_id} / ユーザID {user_id}\n\
         アプリ: {download_url}\n設定: {activation_link}\n",
    )
    .unwrap();
    let (ok, out, err) = cli(
        data,
        &[
            "service",
            "mail",
            "--id",
            SERVICE,
            "--download-url",
            DOWNLOAD_URL,
            "--subject-ja",
            "【{service_name}】トークンのご案内",
            "--body-ja-file",
            body.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("ja (own template): 【しんきん銀行】トークンのご案内"),
        "{out}"
    );
    assert!(out.contains("en (built-in)"), "{out}");

    // Both flags or neither.
    let (ok, _, err) = cli(data, &["serve", "--smtp-url", "smtp://127.0.0.1:1"]);
    assert!(!ok);
    assert!(err.contains("--smtp-url needs --mail-from"), "{err}");

    // The mail goes out through the real binary, in the service's own words.
    let port = free_port();
    let sink = SmtpSink::start(port);
    let server = Served::start(
        data,
        &[
            "--smtp-url",
            &format!("smtp://127.0.0.1:{port}"),
            "--mail-from",
            FROM,
        ],
    );
    let http = reqwest::Client::new();
    let enroll = |uid: &str, base: &str| {
        http.post(format!("{base}/v1/services/{SERVICE}/enrollments"))
            .bearer_auth(&key)
            .json(&json!({"user_id": uid, "start_password": PASSWORD,
                          "email": format!("{uid}@example.co.jp")}))
            .send()
    };
    let response = enroll("alice", &server.base).await.unwrap();
    assert_eq!(response.status(), 201);
    let messages = sink.wait_for(1).await;
    assert_eq!(messages[0].subject(), "【しんきん銀行】トークンのご案内");
    let text = messages[0].body();
    assert!(text.starts_with("しんきん銀行のお客さまへ"), "{text}");
    assert!(
        text.contains("サービスID shinkin / ユーザID alice"),
        "{text}"
    );
    assert!(text.contains(&format!("アプリ: {DOWNLOAD_URL}")), "{text}");
    assert!(
        text.contains("設定: softtoken://activate?server="),
        "{text}"
    );
    drop(server);

    // With credentials in the URL (this SMTP server offers no AUTH, so the mail waits):
    // the log shows the URL with the password masked, never the password.
    let server = Served::start(
        data,
        &[
            "--smtp-url",
            &format!("smtp://otp-user:s3cret-pw@127.0.0.1:{port}"),
            "--mail-from",
            FROM,
        ],
    );
    let response = enroll("bob", &server.base).await.unwrap();
    assert_eq!(response.status(), 201);
    let deadline = Instant::now() + PATIENCE;
    while !server.log().contains("will retry") {
        assert!(
            Instant::now() < deadline,
            "no retry logged: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = server.log();
    assert!(log.contains("smtp://otp-user:***@127.0.0.1"), "{log}");
    assert!(!log.contains("s3cret-pw"), "{log}");
    assert!(
        !log.contains("bob@example.co.jp") && log.contains("b***@example.co.jp"),
        "{log}"
    );
    assert_eq!(sink.messages().len(), 1);
}
