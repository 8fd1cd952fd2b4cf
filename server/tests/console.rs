//! The help-desk console over HTTP (issue 14): sign-in with password and the operator's own
//! token, lockout, sessions, CSRF, roles and services, the help desk's actions through the
//! bank API's own service layer, and the audit trail with its CSV. Runs on SQLite, and on
//! PostgreSQL when `SOFTTOKEN_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{AppToken, TestServer};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::json;
use softtoken_protocol::ServiceId;
use softtoken_server::console::password;
use softtoken_server::routes::rfc3339;
use softtoken_store::NewAuditEvent;
use softtoken_store::audit::{AuditKind, english};
use softtoken_store::console::{NewOperator, OperatorRole};
use softtoken_store::policy::Policy;

const PASSWORD: &str = "operator password 1";

/// A browser without JavaScript: follows nothing by itself, keeps cookies.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: HashMap<String, String>,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The text of the first element with `data-testid="id"`.
    fn testid(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("data-testid=\"{id}\""))?;
        let rest = &self.body[at..];
        let start = rest.find('>')? + 1;
        let end = rest[start..].find('<')?;
        Some(rest[start..start + end].trim().to_owned())
    }

    /// The `datetime` (RFC 3339, UTC) of the `<time>` element with `data-testid="id"`.
    fn datetime(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("data-testid=\"{id}\""))?;
        let tag = &self.body[self.body[..at].rfind('<')?..];
        let tag = &tag[..tag.find('>')?];
        let value = &tag[tag.find("datetime=\"")? + "datetime=\"".len()..];
        Some(value[..value.find('"')?].to_owned())
    }

    /// The confirmation page's `confirm` field.
    fn confirmation(&self) -> Option<String> {
        let at = self.body.find("name=\"confirm\" value=\"")?;
        let rest = &self.body[at + "name=\"confirm\" value=\"".len()..];
        Some(rest[..rest.find('"')?].to_owned())
    }

    fn has(&self, id: &str) -> bool {
        self.body.contains(&format!("data-testid=\"{id}\""))
    }

    /// The page's CSRF token (any form's hidden field).
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form");
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

/// The sign-in page's error paragraph (the message region; the form around it echoes the
/// typed name and carries a fresh CSRF token).
fn error_region(page: &Page) -> Option<String> {
    let at = page.body.find("<p class=\"error\"")?;
    let end = page.body[at..].find("</p>")?;
    Some(page.body[at..at + end].to_owned())
}

impl Browser {
    fn new(server: &TestServer) -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base.clone(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// Posts `multipart/form-data` as a browser's file form does: each part is
    /// `(name, Some(file name) for a file, content)`. Built by hand (no client feature).
    async fn post_multipart(&mut self, path: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Page {
        const BOUNDARY: &str = "----softtoken-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, file, content) in parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match file {
                Some(file) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                         Content-Type: application/xml\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// Signs in with `name`, `password` and `otp` from the sign-in page.
    async fn sign_in(&mut self, name: &str, password: &str, otp: &str) -> Page {
        let form = self.get("/console/login").await;
        let csrf = form.csrf();
        self.post(
            "/console/login",
            &[
                ("name", name),
                ("password", password),
                ("otp", otp),
                ("csrf", &csrf),
            ],
        )
        .await
    }
}

async fn add_operator(
    server: &TestServer,
    service: Option<&str>,
    name: &str,
    role: OperatorRole,
) -> i64 {
    let sid = ServiceId::new(service.unwrap_or("_console")).unwrap();
    server
        .store
        .add_operator(
            &NewOperator {
                service_id: service.map(|s| ServiceId::new(s).unwrap()),
                name: name.into(),
                role,
                password_hash: password::hash(PASSWORD).unwrap(),
            },
            &NewAuditEvent::new(&sid, AuditKind::OperatorAdded, name),
            server.state.now(),
        )
        .await
        .unwrap()
}

/// An operator who signed in for the first time and enrolled their own token.
async fn operator(
    server: &TestServer,
    service: Option<&str>,
    name: &str,
    role: OperatorRole,
) -> (Browser, AppToken) {
    let id = add_operator(server, service, name, role).await;
    let mut browser = Browser::new(server);
    let page = browser.sign_in(name, PASSWORD, "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page.testid("start-password").expect("start password shown");
    let uri = page.testid("activation-uri").unwrap();
    assert!(uri.contains("service=_console"), "{uri}");
    assert!(uri.contains(&format!("user=op-{id}")), "{uri}");
    assert!(page.has("activation-qr"));
    // The enrollment page seen again does not show the start password.
    let again = browser.get("/console/enroll").await;
    assert_eq!(again.status, 200);
    assert!(!again.body.contains(&start));
    // Before the own token is confirmed, nothing else is open.
    assert_eq!(
        browser.get("/console/users").await.location(),
        "/console/enroll"
    );
    let token = server
        .activate("_console", &format!("op-{id}"), &start)
        .await;
    let csrf = again.csrf();
    let done = browser
        .post(
            "/console/enroll/confirm",
            &[("otp", &token.code(server)), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/console");
    (browser, token)
}

/// A customer of `sid` with an active token.
async fn customer(server: &TestServer, key: &str, sid: &str, uid: &str) -> AppToken {
    let (status, body) = server.enroll(key, sid, uid, "start-1234").await;
    assert_eq!(status, 201, "{body}");
    let token = server.activate(sid, uid, "start-1234").await;
    let (status, body) = server
        .post(
            &format!("/v1/services/{sid}/users/{uid}/confirm"),
            key,
            json!({"otp": token.code(server)}),
        )
        .await;
    assert_eq!(body["valid"], true, "{status} {body}");
    token
}

async fn verify(server: &TestServer, key: &str, uid: &str, otp: &str) -> serde_json::Value {
    server
        .post(
            &format!("/v1/services/bank/users/{uid}/verify"),
            key,
            json!({"otp": otp}),
        )
        .await
        .1
}

#[tokio::test]
async fn first_sign_in_enrols_the_own_token_and_later_ones_need_its_code() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let (mut browser, token) =
        operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let home = browser.get("/console").await;
    assert_eq!(home.location(), "/console/users");
    let users = browser.get("/console/users").await;
    assert_eq!(users.status, 200);
    assert_eq!(users.testid("operator-name").as_deref(), Some("hanako"));
    // Strict headers on every page.
    let csp = users.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(users.headers["cache-control"], "no-store");
    assert_eq!(users.headers["x-frame-options"], "DENY");
    // Sign out: the session is gone.
    let csrf = users.csrf();
    let out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/console/login");
    assert_eq!(
        browser.get("/console/users").await.location(),
        "/console/login"
    );
    // Next time: password alone is not enough; password and code are.
    server.advance_secs(60);
    let no_code = browser.sign_in("hanako", PASSWORD, "").await;
    assert_eq!(no_code.status, 401);
    assert!(!no_code.has("start-password"));
    let page = browser
        .sign_in("hanako", PASSWORD, &token.code(&server))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let cookie = page.headers[SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    // A loopback http server: not Secure, or the browser would drop it.
    assert!(!cookie.contains("Secure"));
    assert_eq!(browser.get("/console/users").await.status, 200);
    // The sign-ins are audited under the operator's service, naming them.
    let events = server
        .store
        .audit_events(&ServiceId::new("bank").unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "console_sign_in" && e.operator.as_deref() == Some("hanako"))
    );
}

#[tokio::test]
async fn wrong_passwords_and_codes_count_towards_the_operators_lockout() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let (mut browser, token) =
        operator(&server, Some("bank"), "taro", OperatorRole::Helpdesk).await;
    server.advance_secs(60);
    // max_failures of the console's policy: 5. Wrong password, wrong code: both count. A
    // wrong password answers exactly what an unknown name does (no tries left, no "locked"),
    // so the answer does not tell which operator names exist.
    let page = browser.sign_in("taro", "wrong password!", "").await;
    assert_eq!(page.status, 401);
    assert_eq!(page.testid("tries-left"), None, "{}", page.body);
    let unknown = browser.sign_in("nobody", "wrong password!", "").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(error_region(&page), error_region(&unknown));
    // Past the password, the count shows (only someone with the password sees it).
    let page = browser
        .sign_in("taro", PASSWORD, &token.wrong_code(&server))
        .await;
    assert_eq!(page.testid("tries-left").as_deref(), Some("3"));
    // Three more wrong passwords: the last one locks, and still answers the same.
    for _ in 0..3 {
        let page = browser.sign_in("taro", "wrong password!", "").await;
        let unknown = browser.sign_in("nobody", "wrong password!", "").await;
        assert_eq!(page.status, 401);
        assert_eq!(unknown.status, 401);
        assert!(error_region(&page).is_some(), "{}", page.body);
        assert_eq!(error_region(&page), error_region(&unknown));
    }
    // Locked: even the right password and code are refused, and told it is locked (issue 25
    // item 7), not that something was wrong.
    let page = browser
        .sign_in("taro", PASSWORD, &token.code(&server))
        .await;
    assert_eq!(page.status, 401);
    assert!(!page.has("tries-left"));
    let told = error_region(&page).unwrap();
    assert!(
        told.contains("ロックされています") && !told.contains("違います"),
        "{told}"
    );
    assert!(
        !page
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("console_session="))
    );
    // Locked or not, a wrong password answers what an unknown name does.
    let page = browser.sign_in("taro", "wrong password!", "").await;
    let unknown = browser.sign_in("nobody", PASSWORD, "").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(error_region(&page), error_region(&unknown));
    // Resetting the password (the CLI's store call) clears the lockout.
    let hash = password::hash("a brand new password").unwrap();
    let sid = ServiceId::new("bank").unwrap();
    server
        .store
        .set_operator_password(
            "taro",
            &hash,
            &NewAuditEvent::new(&sid, AuditKind::OperatorChanged, "reset"),
            server.state.now(),
        )
        .await
        .unwrap();
    let op = server.store.operator_named("taro").await.unwrap().unwrap();
    server
        .store
        .unlock_user(
            &ServiceId::new("_console").unwrap(),
            &op.token_user().unwrap(),
            &NewAuditEvent::new(&sid, AuditKind::UserUnlocked, "reset"),
            server.state.now(),
        )
        .await
        .unwrap();
    let page = browser
        .sign_in("taro", "a brand new password", &token.code(&server))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
}

/// `HH:MM` of Unix ms on Japan's wall clock (UTC+9, no summer time), rounded up to the
/// minute as the console shows a lock's end.
fn jst_hh_mm(ms: i64) -> String {
    let minutes = (ms + 59_999) / 60_000 + 9 * 60;
    format!("{:02}:{:02}", minutes / 60 % 24, minutes % 60)
}

/// Issue 22, finding 3: anyone could lock any operator for good and end their session. Now
/// wrong tries lock for a while (1 min at max_failures, doubling to 15 min), an attacker's
/// tries leave the operator's open session alone, and once the password is proven the
/// operator is told until when.
#[tokio::test]
async fn wrong_tries_lock_for_a_growing_while_and_never_end_a_live_session() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let (mut taro, token) = operator(&server, Some("bank"), "taro", OperatorRole::Helpdesk).await;
    server.advance_secs(60);
    let mut attacker = Browser::new(&server);
    for _ in 0..5 {
        let page = attacker.sign_in("taro", "wrong password!", "").await;
        assert_eq!(page.status, 401);
        assert!(!page.has("tries-left"));
    }
    let locked_at = server.state.now();
    let op = server.store.operator_named("taro").await.unwrap().unwrap();
    assert_eq!(op.locked_until, locked_at + 60_000, "{op:?}");
    assert!(!op.locked, "never locked for good by wrong tries");
    // The operator's open session lives on.
    let users = taro.get("/console/users").await;
    assert_eq!(users.status, 200, "{}", users.body);
    // A wrong try while locked is recorded, not counted: the lock does not grow, and the
    // answer is still the unknown name's.
    let page = attacker.sign_in("taro", "wrong password!", "").await;
    let unknown = attacker.sign_in("nobody", "wrong password!", "").await;
    assert_eq!(error_region(&page), error_region(&unknown));
    let op = server.store.operator_named("taro").await.unwrap().unwrap();
    assert_eq!(op.locked_until, locked_at + 60_000);
    assert_eq!(op.failures, 5);
    // With the password proven, the operator is told until when, on Japan's clock; no
    // session begins.
    let page = taro.sign_in("taro", PASSWORD, &token.code(&server)).await;
    assert_eq!(page.status, 401, "{}", page.body);
    let region = error_region(&page).unwrap();
    let until = jst_hh_mm(locked_at + 60_000);
    assert!(
        region.contains(&format!("{until} までロックされています")),
        "{region}"
    );
    assert!(!page.has("tries-left"));
    assert!(
        !page
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("console_session="))
    );
    // Each wrong try after a lock ends locks again, twice as long, at most 15 minutes.
    let mut wait = 1;
    for next in [2, 4, 8, 15, 15] {
        server.advance_secs(wait * 60 + 1);
        let page = attacker.sign_in("taro", "wrong password!", "").await;
        assert_eq!(error_region(&page), error_region(&unknown));
        let op = server.store.operator_named("taro").await.unwrap().unwrap();
        assert_eq!(
            op.locked_until,
            server.state.now() + next * 60_000,
            "after {} failures",
            op.failures
        );
        wait = next;
    }
    // Once the lock is over, the right password and code sign in and clear the count.
    server.advance_secs(wait * 60 + 1);
    let mut again = Browser::new(&server);
    let page = again.sign_in("taro", PASSWORD, &token.code(&server)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let op = server.store.operator_named("taro").await.unwrap().unwrap();
    assert_eq!((op.failures, op.locked_until), (0, 0));
    // All of it is in the operator's service's audit trail.
    let events = server
        .store
        .audit_events(&ServiceId::new("bank").unwrap(), 0, 100)
        .await
        .unwrap();
    let failed = |detail: &str| {
        events
            .iter()
            .filter(|e| e.kind == "console_sign_in_failed" && english(&e.detail) == detail)
            .count()
    };
    assert_eq!(failed("wrong password"), 10);
    assert_eq!(failed("wrong password; temporarily locked"), 1);
    assert_eq!(failed("right password; temporarily locked"), 1);
}

/// The lock's end in English, once the password is proven.
#[tokio::test]
async fn a_locked_operator_with_the_right_password_is_told_until_when_in_english_too() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let (mut taro, token) = operator(&server, Some("bank"), "taro", OperatorRole::Helpdesk).await;
    server.advance_secs(60);
    for _ in 0..5 {
        taro.sign_in("taro", "wrong password!", "").await;
    }
    let until = jst_hh_mm(server.state.now() + 60_000);
    taro.cookies.insert("console_lang".into(), "en".into());
    let page = taro.sign_in("taro", PASSWORD, &token.code(&server)).await;
    assert_eq!(page.status, 401);
    let region = error_region(&page).unwrap();
    assert!(region.contains(&format!("until {until}")), "{region}");
}

/// Issue 22, finding 2: sign-ins are limited per client address (after the trusted
/// proxies), and a full password pool refuses at once with 503 and `Retry-After` instead
/// of running Argon2 without a cap.
#[tokio::test]
async fn sign_ins_are_limited_per_address_and_refused_while_the_password_pool_is_full() {
    let server = TestServer::start_behind(true, 0, &["127.0.0.1/32"]).await;
    server.add_service("bank", Policy::default()).await;
    let http = reqwest::Client::new();
    let login = format!("{}/console/login", server.base);
    let post = |from: &'static str| {
        http.post(&login)
            .header("x-forwarded-for", from)
            .form(&[("name", "nobody"), ("password", "x"), ("csrf", "")])
            .send()
    };
    // Every attempt counts, even one the CSRF check refuses.
    for _ in 0..softtoken_server::SIGN_IN_RATE_LIMIT {
        assert_eq!(post("203.0.113.5").await.unwrap().status(), 403);
    }
    let refused = post("203.0.113.5").await.unwrap();
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let page = refused.text().await.unwrap();
    assert!(page.contains("サインインの試行が多すぎます"), "{page}");
    // Another address still gets through (to the CSRF check).
    assert_eq!(post("203.0.113.6").await.unwrap().status(), 403);

    // A full pool: the right password is refused unchecked, with a plain page.
    add_operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let mut browser = Browser::new(&server);
    let held = server.state.sign_in_pool.fill();
    let page = browser.sign_in("hanako", PASSWORD, "").await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert_eq!(page.headers["retry-after"], "2");
    assert!(
        page.body.contains("一時的に利用できません"),
        "{}",
        page.body
    );
    assert!(!page.has("start-password"));
    let op = server
        .store
        .operator_named("hanako")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.failures, 0, "nothing counted");
    // Once it has room, the same sign-in goes through.
    drop(held);
    let page = browser.sign_in("hanako", PASSWORD, "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.has("start-password"));
}

/// Issue 22, finding 2: a flood of strangers (the password pool full, the proxy's address
/// over its sign-in limit) does not keep out an operator on a browser they fully signed in
/// from before: its device cookie, for the name typed, has its own lane. Another name's
/// cookie, a forged one, or none at all waits like everyone else.
#[tokio::test]
async fn a_known_device_signs_in_through_a_flood_and_nothing_else_does() {
    let server = TestServer::start_behind(true, 0, &["127.0.0.1/32"]).await;
    server.add_service("bank", Policy::default()).await;
    let (mut known, token) =
        operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    assert!(
        known.cookies.contains_key("console_device"),
        "{:?}",
        known.cookies
    );
    add_operator(&server, Some("bank"), "taro", OperatorRole::Helpdesk).await;

    // The flood: every place of the pool taken, and this address's sign-ins used up.
    let held = server.state.sign_in_pool.fill();
    let http = reqwest::Client::new();
    // (hanako's own first sign-in from here counted too: post until the limit answers.)
    let mut refused = false;
    for _ in 0..=softtoken_server::SIGN_IN_RATE_LIMIT {
        let status = http
            .post(format!("{}/console/login", server.base))
            .form(&[("name", "nobody"), ("password", "x"), ("csrf", "")])
            .send()
            .await
            .unwrap()
            .status();
        if status == 429 {
            refused = true;
            break;
        }
        assert_eq!(status, 403);
    }
    assert!(refused, "the per-address limit never answered");
    let mut stranger = Browser::new(&server);
    assert_eq!(stranger.sign_in("hanako", PASSWORD, "").await.status, 429);
    // hanako's cookie does not speak for taro; a forged cookie speaks for nobody.
    let mut borrowed = Browser::new(&server);
    borrowed.cookies.insert(
        "console_device".into(),
        known.cookies["console_device"].clone(),
    );
    assert_eq!(borrowed.sign_in("taro", PASSWORD, "").await.status, 429);
    let mut forged = Browser::new(&server);
    forged.cookies.insert(
        "console_device".into(),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
    );
    assert_eq!(forged.sign_in("hanako", PASSWORD, "").await.status, 429);

    // hanako, from her browser: password and code as always, through the flood.
    server.advance_secs(token.params.period.seconds() as i64);
    let page = known
        .sign_in("hanako", PASSWORD, &token.code(&server))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), "/console");
    // The lane is no way around the password: a wrong one is refused and counted.
    let wrong = known.sign_in("hanako", "wrong password!", "").await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    let op = server
        .store
        .operator_named("hanako")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.failures, 1);
    drop(held);
}

/// Issue 22, finding 4: before the password is proven, an unknown name costs what a known
/// one does: the Argon2 check (against a decoy hash) and the same store round trip, which
/// records the failure (audited under the console's service, naming no operator).
#[tokio::test]
async fn an_unknown_name_is_refused_after_the_same_work_as_a_known_one() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    add_operator(&server, Some("bank"), "taro", OperatorRole::Helpdesk).await;
    let mut browser = Browser::new(&server);
    let known = browser.sign_in("taro", "wrong password!", "").await;
    let unknown = browser.sign_in("nobody", "wrong password!", "").await;
    assert_eq!((known.status, unknown.status), (401, 401));
    assert_eq!(error_region(&known), error_region(&unknown));
    let console = server
        .store
        .audit_events(&ServiceId::new("_console").unwrap(), 0, 100)
        .await
        .unwrap();
    let unknowns: Vec<_> = console
        .iter()
        .filter(|e| e.kind == "console_sign_in_failed" && english(&e.detail) == "unknown name")
        .collect();
    assert_eq!(unknowns.len(), 1, "{console:?}");
    assert_eq!(unknowns[0].operator, None);
    let bank = server
        .store
        .audit_events(&ServiceId::new("bank").unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(
        bank.iter().any(
            |e| english(&e.detail) == "wrong password" && e.operator.as_deref() == Some("taro")
        )
    );
    // The unknown name's round trip changed no operator.
    let op = server.store.operator_named("taro").await.unwrap().unwrap();
    assert_eq!(op.failures, 1);
}

#[tokio::test]
async fn the_help_desk_unlocks_a_customer_whose_next_code_then_verifies() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let alice = customer(&server, &key, "bank", "alice").await;
    for _ in 0..5 {
        verify(&server, &key, "alice", &alice.wrong_code(&server)).await;
    }
    server.advance_secs(60);
    assert_eq!(
        verify(&server, &key, "alice", &alice.code(&server)).await["reason"],
        "locked"
    );
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    // Partial match on the user ID, and on the serial.
    let found = desk.get("/console/users?q=LIC").await;
    assert_eq!(found.testid("user-link").as_deref(), Some("alice"));
    let serial = alice.serial.to_string();
    let found = desk
        .get(&format!("/console/users?q={}", &serial[2..8]))
        .await;
    assert_eq!(found.testid("user-link").as_deref(), Some("alice"));
    let page = desk.get("/console/users/alice").await;
    assert!(page.has("user-locked"));
    assert_eq!(page.testid("user-failures").as_deref(), Some("5"));
    assert!(page.has("token-row"));
    // CSRF: missing or wrong token → 403, and nothing changed.
    let refused = desk.post("/console/users/alice/unlock", &[]).await;
    assert_eq!(refused.status, 403);
    let refused = desk
        .post("/console/users/alice/unlock", &[("csrf", "forged")])
        .await;
    assert_eq!(refused.status, 403);
    assert!(desk.get("/console/users/alice").await.has("user-locked"));
    let csrf = page.csrf();
    let done = desk
        .post("/console/users/alice/unlock", &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = desk.get(done.location()).await;
    assert!(page.has("notice"));
    assert!(!page.has("user-locked"));
    assert_eq!(
        verify(&server, &key, "alice", &alice.code(&server)).await["valid"],
        true
    );
    // The unlock names the operator, in the user's trail and in the auditor's CSV.
    assert!(page.body.contains("user_unlocked"));
    let (mut auditor, _) = operator(&server, Some("bank"), "kenji", OperatorRole::Auditor).await;
    let trail = auditor.get("/console/audit?user=alice").await;
    assert_eq!(trail.status, 200);
    assert!(trail.has("audit-row"));
    let csv = auditor.get("/console/audit.csv?user=alice").await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some("id,at,kind,user_id,serial,operator,detail")
    );
    let unlocks: Vec<&str> = lines.filter(|l| l.contains(",user_unlocked,")).collect();
    assert_eq!(unlocks.len(), 1, "{}", csv.body);
    assert!(unlocks[0].contains(",alice,,hanako,"), "{}", unlocks[0]);
    // The bank API's own events carry no operator.
    assert!(
        csv.body
            .lines()
            .any(|l| l.contains(",verify,") && l.contains(",alice,") && !l.contains("hanako"))
    );
}

#[tokio::test]
async fn revoking_a_lost_phone_shows_when_a_new_token_may_be_issued() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let bob = customer(&server, &key, "bank", "bob").await;
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let page = desk.get("/console/users/bob").await;
    assert!(!page.has("cooldown-until"));
    assert!(!page.has("issue-disabled"));
    let csrf = page.csrf();
    let revoke = format!("/console/users/bob/tokens/{}/revoke", bob.serial);
    // The first click only asks (issue 25 item 3): what happens, the wait, what the
    // customer sees; nothing is revoked yet.
    let asked = desk.post(&revoke, &[("csrf", &csrf)]).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.has("confirm-page"));
    assert!(asked.body.contains("トークン失効") && asked.body.contains(bob.serial.as_str()));
    assert!(
        asked.body.contains("新しいトークンを発行できるのは"),
        "{}",
        asked.body
    );
    assert!(asked.body.contains("お客さまのアプリ"));
    let still = desk.get("/console/users/bob").await;
    assert_eq!(
        still.testid("token-state").as_deref(),
        Some("利用中"),
        "revoked without confirmation"
    );
    // A made-up confirmation does nothing either.
    let forged = desk
        .post(
            &revoke,
            &[
                ("csrf", &csrf),
                ("confirm", "00112233445566778899aabbccddeeff"),
            ],
        )
        .await;
    assert!(forged.has("confirm-page"));
    let confirm = asked.confirmation().expect("the confirmation field");
    let done = desk
        .post(&revoke, &[("csrf", &csrf), ("confirm", &confirm)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = desk.get(done.location()).await;
    // Default cool-down: 30 minutes after now.
    let end = server.state.now() + 30 * 60 * 1000;
    let until = page.datetime("cooldown-until").expect("cool-down shown");
    assert_eq!(until, rfc3339(end));
    // Shown on Japan's wall clock (the service has no zone of its own).
    let jst = chrono::DateTime::from_timestamp_millis(end + 9 * 3600 * 1000)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S JST")
        .to_string();
    assert_eq!(page.testid("cooldown-until").unwrap(), jst);
    // In words, with the issue form disabled (issue 25 item 5).
    let hh_mm = chrono::DateTime::from_timestamp_millis(end + 9 * 3600 * 1000 + 59_999)
        .unwrap()
        .format("%H:%M")
        .to_string();
    let wait = format!("新しいトークンを発行できるのは {hh_mm} 以降（あと 30 分）");
    assert_eq!(page.testid("cooldown-wait").as_deref(), Some(wait.as_str()));
    assert!(page.has("issue-disabled"));
    // The revocation is in the user's own trail, though its row names the token only.
    let revoked = page
        .body
        .split("data-testid=\"audit-row\"")
        .skip(1)
        .find(|row| row.contains("data-kind=\"token_revoked\""))
        .expect("the revocation in the user's trail");
    assert!(revoked.contains(bob.serial.as_str()) && revoked.contains("hanako"));
    assert!(revoked.contains(">トークン失効<"), "{revoked}");
    assert_eq!(page.testid("token-state").as_deref(), Some("トークン失効"));
    // Re-issuing during the cool-down is refused, back on the user's page with the wait.
    let refused = desk
        .post(
            "/console/enrollments",
            &[("user_id", "bob"), ("start_password", ""), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.testid("user-id").as_deref(), Some("bob"));
    let error = refused.testid("error").unwrap();
    assert!(
        error.starts_with("新しいトークンを発行できるのは") && !error.contains(" s"),
        "{error}"
    );
    let events = server
        .store
        .audit_events(&ServiceId::new("bank").unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "token_revoked" && e.operator.as_deref() == Some("hanako"))
    );
}

#[tokio::test]
async fn a_stop_is_confirmed_first_and_the_stopped_token_stays_on_the_user_page() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let carol = customer(&server, &key, "bank", "carol").await;
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let page = desk.get("/console/users/carol").await;
    let csrf = page.csrf();
    let asked = desk
        .post("/console/users/carol/stop", &[("csrf", &csrf)])
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.has("confirm-page"));
    assert!(asked.body.contains("利用中止") && asked.body.contains(carol.serial.as_str()));
    // Nothing stopped by the first click.
    let still = desk.get("/console/users/carol").await;
    assert_eq!(still.testid("token-state").as_deref(), Some("利用中"));
    assert!(!still.has("stopped-tokens"));
    let confirm = asked.confirmation().unwrap();
    let done = desk
        .post(
            "/console/users/carol/stop",
            &[("csrf", &csrf), ("confirm", &confirm)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = desk.get(done.location()).await;
    assert_eq!(page.testid("notice").as_deref(), Some("利用を中止しました"));
    // The token is unbound, yet shown: 利用中止, when, by whom (issue 25 item 4).
    assert!(page.has("stopped-tokens"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("data-serial=\"{}\"", carol.serial.as_str())),
        "{}",
        page.body
    );
    assert_eq!(page.testid("stopped-state").as_deref(), Some("利用中止"));
    assert_eq!(page.testid("stopped-by").as_deref(), Some("hanako"));
    assert!(page.datetime("stopped-at").is_some());
}

#[tokio::test]
async fn a_revocation_at_night_says_the_wait_lasts_until_the_night_ends() {
    let server = TestServer::start().await;
    // A night window around now on Japan's clock: from an hour ago to three hours on.
    let jst = |offset_ms: i64| {
        chrono::DateTime::from_timestamp_millis(server.state.now() + offset_ms + 9 * 3600 * 1000)
            .unwrap()
            .format("%H:%M")
            .to_string()
    };
    let window = format!("{}-{}", jst(-3600 * 1000), jst(3 * 3600 * 1000));
    let night = softtoken_store::night_cutoff::NightCutoff::parse(&window, "Asia/Tokyo").unwrap();
    let policy = Policy {
        night_cutoff: Some(night),
        ..Policy::default()
    };
    let key = server.add_service("bank", policy).await;
    let bob = customer(&server, &key, "bank", "bob").await;
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let csrf = desk.get("/console/users/bob").await.csrf();
    let asked = desk
        .post(
            &format!("/console/users/bob/tokens/{}/revoke", bob.serial),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(asked.has("confirm-page"), "{}", asked.body);
    // The wait ends with the night (three hours on), not after the 30-minute cool-down.
    assert!(
        asked
            .body
            .contains(&format!("夜間（{window}、Asia/Tokyo）")),
        "{}",
        asked.body
    );
    assert!(
        asked.body.contains(&format!("{}:", jst(3 * 3600 * 1000))),
        "{}",
        asked.body
    );
}

#[tokio::test]
async fn re_issuing_over_an_open_activation_is_confirmed_first() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let (status, body) = server.enroll(&key, "bank", "dave", "start-1234").await;
    assert_eq!(status, 201, "{body}");
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let page = desk.get("/console/users/dave").await;
    assert!(page.has("enrollment"));
    let csrf = page.csrf();
    let form = [
        ("user_id", "dave"),
        ("start_password", ""),
        ("csrf", csrf.as_str()),
    ];
    let asked = desk.post("/console/enrollments", &form).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.has("confirm-page"));
    assert!(!asked.has("start-password"), "issued without confirmation");
    assert!(asked.body.contains("前の利用開始パスワード"));
    let confirm = asked.confirmation().unwrap();
    let mut confirmed = form.to_vec();
    confirmed.push(("confirm", &confirm));
    let issued = desk.post("/console/enrollments", &confirmed).await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert!(issued.has("start-password"));
    // The confirmation is the user's: it does not re-issue another user's activation.
    let (status, _) = server.enroll(&key, "bank", "erin", "start-1234").await;
    assert_eq!(status, 201);
    let other = desk
        .post(
            "/console/enrollments",
            &[
                ("user_id", "erin"),
                ("start_password", ""),
                ("csrf", &csrf),
                ("confirm", &confirm),
            ],
        )
        .await;
    assert!(other.has("confirm-page"));
}

#[tokio::test]
async fn an_issued_activation_shows_its_generated_start_password_once() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let page = desk.get("/console/users").await;
    let csrf = page.csrf();
    let issued = desk
        .post(
            "/console/enrollments",
            &[
                ("user_id", "carol"),
                ("start_password", ""),
                ("ttl_hours", "2"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let start = issued.testid("start-password").unwrap();
    let uri = issued.testid("activation-uri").unwrap();
    assert!(
        uri.contains("service=bank") && uri.contains("user=carol"),
        "{uri}"
    );
    assert!(!uri.contains(&start));
    assert_eq!(
        issued.datetime("expires-at").unwrap(),
        rfc3339(server.state.now() + 2 * 3600 * 1000)
    );
    // Never again: not on the user's page, not in the audit trail.
    let user = desk.get("/console/users/carol").await;
    assert!(user.has("enrollment"));
    assert!(!user.body.contains(&start));
    let events = server
        .store
        .audit_events(&ServiceId::new("bank").unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(events.iter().all(|e| !e.detail.contains(&start)));
    // The customer activates with it and the bank confirms.
    let token = server.activate("bank", "carol", &start).await;
    let (_, body) = server
        .post(
            "/v1/services/bank/users/carol/confirm",
            &key,
            json!({"otp": token.code(&server)}),
        )
        .await;
    assert_eq!(body["valid"], true, "{body}");
    // A start password the customer chose is not echoed.
    let issued = desk
        .post(
            "/console/enrollments",
            &[
                ("user_id", "dave"),
                ("start_password", "chosen-by-dave"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(issued.status, 200);
    assert!(!issued.has("start-password"));
    assert!(!issued.body.contains("chosen-by-dave"));
    // Malformed input is a 4xx page naming the field, never a 500.
    let bad = desk
        .post(
            "/console/enrollments",
            &[("user_id", "no spaces"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("user_id"));
    let bad = desk
        .post(
            "/console/enrollments",
            &[("user_id", "erin"), ("ttl_hours", "soon"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("ttl_hours"));
}

#[tokio::test]
async fn an_activation_e_mail_is_queued_where_the_service_sends_mail_and_refused_elsewhere() {
    // Port 9 (discard): no sender runs here, the mail stays in the outbox to be read.
    let server = TestServer::start_mailing("smtp://127.0.0.1:9").await;
    server.add_service("bank", Policy::default()).await;
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let csrf = desk.get("/console/users").await.csrf();
    let form = |uid: &'static str, csrf: &str| {
        vec![
            ("user_id", uid.to_string()),
            ("start_password", String::new()),
            ("email", "carol@example.jp".to_string()),
            ("csrf", csrf.to_string()),
        ]
    };
    // The service has no mail settings yet: refused, naming the e-mail, nothing issued.
    let fields = form("carol", &csrf);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = desk.post("/console/enrollments", &fields).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(!refused.has("start-password"));
    let sid = ServiceId::new("bank").unwrap();
    assert!(
        server
            .store
            .enrollment(&sid, &"carol".parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    softtoken_service::actions::set_service_mail(
        &*server.store,
        &softtoken_store::ServiceMail {
            service_id: sid.clone(),
            download_url: "https://bank.example/app".into(),
            ja: None,
            en: None,
            updated_at: server.state.now(),
        },
        softtoken_server::commands::COMMAND_LINE,
        server.state.now(),
    )
    .await
    .unwrap();
    let issued = desk.post("/console/enrollments", &fields).await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert!(issued.has("email-queued"), "{}", issued.body);
    let start = issued.testid("start-password").unwrap();
    let now = server.state.now();
    let mails = server
        .store
        .claim_mail(now, now + 60_000, 10)
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipient, "carol@example.jp");
    assert_eq!(mails[0].user_id.as_str(), "carol");
    assert!(
        !mails[0].body.contains(&start),
        "the start password went into the mail"
    );
}

#[tokio::test]
async fn roles_and_services_wall_operators_in() {
    let server = TestServer::start().await;
    let key_a = server.add_service("bank-a", Policy::default()).await;
    let key_b = server.add_service("bank-b", Policy::default()).await;
    customer(&server, &key_a, "bank-a", "alice").await;
    customer(&server, &key_b, "bank-b", "bella").await;
    let (mut desk, _) = operator(&server, Some("bank-a"), "hanako", OperatorRole::Helpdesk).await;
    // A help desk may not run the service or read the whole trail.
    assert_eq!(desk.get("/console/api-key").await.status, 403);
    let page = desk.get("/console/users").await;
    let csrf = page.csrf();
    assert_eq!(
        desk.post("/console/api-key", &[("csrf", &csrf)])
            .await
            .status,
        403
    );
    assert_eq!(desk.get("/console/operators").await.status, 403);
    assert_eq!(desk.get("/console/audit").await.status, 403);
    assert_eq!(desk.get("/console/audit.csv").await.status, 403);
    // Service A's operator sees nothing of B.
    let found = desk.get("/console/users?q=bella").await;
    assert!(!found.has("user-link"));
    assert_eq!(desk.get("/console/users/bella").await.status, 404);
    let refused = desk
        .post("/console/users/bella/unlock", &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, 404);
    // An auditor reads, but does not help.
    let (mut auditor, _) = operator(&server, Some("bank-a"), "kenji", OperatorRole::Auditor).await;
    assert_eq!(auditor.get("/console").await.location(), "/console/audit");
    assert_eq!(auditor.get("/console/users").await.status, 403);
    let csrf = auditor.get("/console/audit").await.csrf();
    assert_eq!(
        auditor
            .post("/console/users/alice/unlock", &[("csrf", &csrf)])
            .await
            .status,
        403
    );
    let csv = auditor.get("/console/audit.csv").await;
    assert!(!csv.body.contains("bella"));
    // An admin rotates the API key, shown once; the old one stops working.
    let (mut admin, _) = operator(&server, Some("bank-a"), "yuki", OperatorRole::Admin).await;
    let page = admin.get("/console/api-key").await;
    let rotated = admin
        .post("/console/api-key", &[("csrf", &page.csrf())])
        .await;
    let new_key = rotated.testid("api-key").unwrap();
    assert!(new_key.starts_with("stk_"));
    assert!(!admin.get("/console/api-key").await.body.contains(&new_key));
    // A superuser picks any service (but never the console's own).
    let (mut root, _) = operator(&server, None, "root", OperatorRole::Superuser).await;
    assert_eq!(root.get("/console").await.location(), "/console/services");
    let page = root.get("/console/services").await;
    assert!(page.body.contains("bank-b") && !page.body.contains("value=\"_console\""));
    let csrf = page.csrf();
    let picked = root
        .post(
            "/console/service",
            &[("service", "bank-b"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(picked.location(), "/console/users");
    assert_eq!(root.get("/console/users/bella").await.status, 200);
    let refused = root
        .post(
            "/console/service",
            &[("service", "_console"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn sessions_end_after_15_idle_minutes_and_8_hours_in_all() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let (mut desk, token) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    server.advance_secs(14 * 60);
    assert_eq!(desk.get("/console/users").await.status, 200);
    server.advance_secs(15 * 60 + 1);
    assert_eq!(
        desk.get("/console/users").await.location(),
        "/console/login"
    );
    // Busy all day: still ends 8 hours after sign-in.
    let page = desk.sign_in("hanako", PASSWORD, &token.code(&server)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    for _ in 0..47 {
        server.advance_secs(10 * 60);
        assert_eq!(desk.get("/console/users").await.status, 200);
    }
    server.advance_secs(10 * 60);
    assert_eq!(
        desk.get("/console/users").await.location(),
        "/console/login"
    );
}

#[tokio::test]
async fn csv_cells_cannot_become_formulas() {
    let server = TestServer::start().await;
    let key = server.add_service("bank", Policy::default()).await;
    // A user ID may start with '-', which a spreadsheet would run.
    let (status, body) = server.enroll(&key, "bank", "-2-3", "start-1234").await;
    assert_eq!(status, 201, "{body}");
    let (mut auditor, _) = operator(&server, Some("bank"), "kenji", OperatorRole::Auditor).await;
    let csv = auditor
        .get("/console/audit.csv?kind=enrollment_issued")
        .await;
    assert!(csv.body.contains(",'-2-3,"), "{}", csv.body);
    assert!(!csv.body.contains(",-2-3,"));
    assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
}

#[tokio::test]
async fn operator_add_reads_the_password_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_softtoken-server"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(
        run(&["service", "add", "--id", "bank", "--name", "Bank"], "")
            .status
            .success()
    );
    let reserved = run(&["service", "add", "--id", "_mine", "--name", "No"], "");
    assert!(!reserved.status.success());
    let added = run(
        &[
            "operator",
            "add",
            "--service",
            "bank",
            "--name",
            "hanako",
            "--role",
            "helpdesk",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let out = String::from_utf8_lossy(&added.stdout).to_string();
    assert!(!out.contains("a long enough password"));
    // An operator of a service signs in as name@service (issue 22: names are per service).
    assert!(out.contains("they sign in as 'hanako@bank'"), "{out}");
    let generated = run(
        &["operator", "add", "--name", "root", "--role", "superuser"],
        "",
    );
    let out = String::from_utf8_lossy(&generated.stdout).to_string();
    assert!(out.contains("Password (shown once):"), "{out}");
    let short = run(
        &[
            "operator",
            "add",
            "--service",
            "bank",
            "--name",
            "x",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!short.status.success());
    let no_service = run(
        &["operator", "add", "--name", "y", "--role", "helpdesk"],
        "",
    );
    assert!(!no_service.status.success());
    let listed = String::from_utf8_lossy(&run(&["operator", "list"], "").stdout).to_string();
    assert!(
        listed.contains("hanako@bank\tbank\thelpdesk\tactive"),
        "{listed}"
    );
    assert!(listed.contains("root\t*\tsuperuser\tactive"), "{listed}");
    assert!(
        run(&["operator", "disable", "--name", "hanako@bank"], "")
            .status
            .success()
    );
    let listed = String::from_utf8_lossy(&run(&["operator", "list"], "").stdout).to_string();
    assert!(
        listed.contains("hanako@bank\tbank\thelpdesk\tdisabled"),
        "{listed}"
    );
}

fn policy_form<'a>(csrf: &'a str, window: &'a str, cooldown: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("digits", "6"),
        ("period", "30"),
        ("window", window),
        ("max_failures", "3"),
        ("cooldown", cooldown),
        ("enrollment_ttl", "48h"),
        ("tokens_per_user", "2"),
        ("shared_tokens", "on"),
        ("csrf", csrf),
    ]
}

#[tokio::test]
async fn the_night_cut_off_and_its_zone_are_set_on_the_policy_page() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let sid = ServiceId::new("bank").unwrap();
    let (mut admin, _) = operator(&server, Some("bank"), "yuki", OperatorRole::Admin).await;
    let page = admin.get("/console/policy").await;
    assert!(page.has("policy-night-cutoff") && page.has("policy-night-zone"));
    // Only the digits the rule allows are offered (6 and 8, not 7).
    assert!(page.body.contains("<option value=\"6\"") && page.body.contains("<option value=\"8\""));
    assert!(!page.body.contains("<option value=\"7\""));
    let csrf = page.csrf();
    let with = |window: &'static str, zone: &'static str| {
        let mut form = policy_form(&csrf, "2", "1h");
        form.push(("night_cutoff", window));
        form.push(("night_cutoff_zone", zone));
        form
    };
    let bad = admin
        .post("/console/policy", &with("25:00-08:10", "Asia/Tokyo"))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let error = bad.testid("error").unwrap();
    assert!(
        error.contains("night_cutoff") && error.contains("夜間"),
        "{error}"
    );
    let nowhere = admin
        .post("/console/policy", &with("20:50-08:10", "Mars/Olympus"))
        .await;
    assert_eq!(nowhere.status, 422);
    assert_eq!(
        server
            .store
            .service(&sid)
            .await
            .unwrap()
            .unwrap()
            .policy
            .night_cutoff,
        None
    );
    let saved = admin
        .post("/console/policy", &with("20:50-08:10", "Asia/Tokyo"))
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let night = server
        .store
        .service(&sid)
        .await
        .unwrap()
        .unwrap()
        .policy
        .night_cutoff
        .expect("the night cut-off saved");
    assert_eq!(night.to_string(), "20:50-08:10 Asia/Tokyo");
    let page = admin.get("/console/policy").await;
    assert!(page.body.contains("value=\"20:50-08:10\""));
    // Emptied, there is none again.
    let cleared = admin.post("/console/policy", &with("", "")).await;
    assert_eq!(cleared.status, 303);
    assert_eq!(
        server
            .store
            .service(&sid)
            .await
            .unwrap()
            .unwrap()
            .policy
            .night_cutoff,
        None
    );
}

#[tokio::test]
async fn an_admin_edits_the_policy_with_the_service_add_rules_and_a_help_desk_may_not() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let sid = ServiceId::new("bank").unwrap();
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    assert_eq!(desk.get("/console/policy").await.status, 403);
    let csrf = desk.get("/console/users").await.csrf();
    let refused = desk
        .post("/console/policy", &policy_form(&csrf, "2", "1h"))
        .await;
    assert_eq!(refused.status, 403);
    let (mut admin, _) = operator(&server, Some("bank"), "yuki", OperatorRole::Admin).await;
    let page = admin.get("/console/policy").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("value=\"30m\""),
        "the cool-down as typed for service add"
    );
    let csrf = page.csrf();
    // Without the session's CSRF token: refused, nothing changed.
    let forged = admin
        .post("/console/policy", &policy_form("forged", "2", "1h"))
        .await;
    assert_eq!(forged.status, 403);
    // service add's rules: a window above 10 steps, a duration that is none.
    let wide = admin
        .post("/console/policy", &policy_form(&csrf, "11", "1h"))
        .await;
    assert_eq!(wide.status, 422, "{}", wide.body);
    assert!(wide.body.contains("window"), "{}", wide.body);
    let bad = admin
        .post("/console/policy", &policy_form(&csrf, "2", "soon"))
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("cooldown"));
    assert_eq!(
        server.store.service(&sid).await.unwrap().unwrap().policy,
        Policy::default()
    );
    let saved = admin
        .post("/console/policy", &policy_form(&csrf, "2", "1h"))
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(admin.get(saved.location()).await.has("notice"));
    let policy = server.store.service(&sid).await.unwrap().unwrap().policy;
    assert_eq!(policy.digits.map(|d| d.get()), Some(6));
    assert_eq!(policy.period.map(|p| p.seconds()), Some(30));
    assert_eq!(policy.window, 2);
    assert_eq!(policy.max_failures, 3);
    assert_eq!(policy.cooldown_secs, 3600);
    assert_eq!(policy.enrollment_ttl_secs, 48 * 3600);
    assert_eq!(policy.tokens_per_user, 2);
    assert!(policy.shared_tokens);
    assert_eq!(policy.unassigned_quota, Policy::default().unassigned_quota);
    // This instance's cache forgot the old policy: the next call already uses the new one.
    let served = softtoken_server::routes::service(&server.state, &sid)
        .await
        .unwrap();
    assert_eq!(served.policy, policy);
    // Audited in the same commit, naming the operator.
    let events = server.store.audit_events(&sid, 0, 1000).await.unwrap();
    let changed: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "policy_changed")
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].operator.as_deref(), Some("yuki"));
    let detail = english(&changed[0].detail);
    assert!(detail.contains("window 2"), "{detail}");
}

#[tokio::test]
async fn an_admin_uploads_a_pskc_file_and_sees_the_import_report() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let xml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/pskc/tests/fixtures/mixed-skips.pskcxml"
    ))
    .unwrap();
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    assert_eq!(desk.get("/console/import").await.status, 403);
    let not_multipart = desk.post("/console/import", &[("pskc", "<x/>")]).await;
    assert_eq!(not_multipart.status, 403);
    let (mut admin, _) = operator(&server, Some("bank"), "yuki", OperatorRole::Admin).await;
    let form = admin.get("/console/import").await;
    assert!(form.body.contains(r#"enctype="multipart/form-data""#));
    assert!(form.body.contains(r#"type="file" name="pskc""#));
    let csrf = form.csrf();
    let sid = ServiceId::new("bank").unwrap();
    let serial = softtoken_store::serial::TokenSerial::parse("MX-GOOD-1").unwrap();
    fn file(content: &[u8]) -> (&'static str, Option<&'static str>, &[u8]) {
        ("pskc", Some("tokens.pskcxml"), content)
    }
    let xml = xml.as_bytes();
    // Without this session's CSRF token (forged or missing): 403, nothing imported.
    let forged = admin
        .post_multipart("/console/import", &[file(xml), ("csrf", None, b"forged")])
        .await;
    assert_eq!(forged.status, 403);
    let missing = admin.post_multipart("/console/import", &[file(xml)]).await;
    assert_eq!(missing.status, 403);
    assert!(missing.has("error"));
    assert!(server.store.token(&sid, &serial).await.unwrap().is_none());
    // The CSRF field may come after the file, as a browser may order it.
    let page = admin
        .post_multipart(
            "/console/import",
            &[
                file(xml),
                ("password", None, b""),
                ("csrf", None, csrf.as_bytes()),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.testid("imported-count").as_deref(), Some("1"));
    assert!(page.has("skipped-row"));
    assert!(page.body.contains("MX-HOTP-1") && page.body.contains("HOTP"));
    assert!(server.store.token(&sid, &serial).await.unwrap().is_some());
    // The bank API's import, audited naming the operator.
    let events = server.store.audit_events(&sid, 0, 1000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "tokens_imported" && e.operator.as_deref() == Some("yuki"))
    );
    // A broken file: the import's own refusal, shown on the page.
    let broken = admin
        .post_multipart(
            "/console/import",
            &[("csrf", None, csrf.as_bytes()), file(b"<not pskc")],
        )
        .await;
    assert_eq!(broken.status, 400);
    assert!(broken.has("error") && !broken.has("import-report"));
    // No file, or not a multipart form at all: the page names the field, no 500.
    let no_file = admin
        .post_multipart("/console/import", &[("csrf", None, csrf.as_bytes())])
        .await;
    assert_eq!(no_file.status, 400);
    assert!(no_file.testid("error").unwrap_or_default().contains("pskc"));
    let pasted = admin
        .post("/console/import", &[("pskc", "<x/>"), ("csrf", &csrf)])
        .await;
    assert_eq!(pasted.status, 400);
    assert!(pasted.testid("error").unwrap_or_default().contains("pskc"));
    // Larger than the bank API's 8 MiB: the console's 413 page naming the field.
    let huge = vec![b' '; softtoken_service::import::MAX_IMPORT_BODY + 128 * 1024];
    let oversized = admin
        .post_multipart(
            "/console/import",
            &[("csrf", None, csrf.as_bytes()), file(&huge)],
        )
        .await;
    assert_eq!(oversized.status, 413, "{}", oversized.body);
    assert!(
        oversized
            .testid("error")
            .unwrap_or_default()
            .contains("pskc")
    );
}

#[tokio::test]
async fn an_admin_adds_disables_and_resets_operators_of_their_own_service_only() {
    let server = TestServer::start().await;
    server.add_service("bank-a", Policy::default()).await;
    server.add_service("bank-b", Policy::default()).await;
    add_operator(&server, Some("bank-b"), "other", OperatorRole::Helpdesk).await;
    add_operator(&server, None, "root", OperatorRole::Superuser).await;
    let (mut admin, _) = operator(&server, Some("bank-a"), "yuki", OperatorRole::Admin).await;
    let page = admin.get("/console/operators").await;
    assert!(!page.body.contains(">other<") && !page.body.contains(">root<"));
    let csrf = page.csrf();
    // Add: the password is generated and shown once; no superuser from the console.
    let added = admin
        .post(
            "/console/operators",
            &[("name", "jiro"), ("role", "helpdesk"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let secret = added.testid("operator-password").unwrap();
    assert!(added.body.contains("jiro@bank-a"), "{}", added.body);
    assert!(!admin.get("/console/operators").await.body.contains(&secret));
    // Names are per service (issue 22): jiro signs in as jiro@bank-a.
    assert!(server.store.operator_named("jiro").await.unwrap().is_none());
    let jiro = server
        .store
        .operator_named("jiro@bank-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(jiro.service_id, Some(ServiceId::new("bank-a").unwrap()));
    assert_eq!(jiro.role, OperatorRole::Helpdesk);
    let mut jiro_browser = Browser::new(&server);
    assert_eq!(
        jiro_browser
            .sign_in("jiro@bank-a", &secret, "")
            .await
            .status,
        200
    );
    for (name, role) in [("sudo", "superuser"), ("bad name!", "helpdesk")] {
        let refused = admin
            .post(
                "/console/operators",
                &[("name", name), ("role", role), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(refused.status, 422, "{name}");
        assert!(server.store.operator_named(name).await.unwrap().is_none());
    }
    // A name of the admin's own service is taken; another service's operator's or the
    // superuser's name is not even seen: adding it makes this service's own (issue 22).
    let taken = admin
        .post(
            "/console/operators",
            &[("name", "jiro"), ("role", "auditor"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(taken.status, 409);
    for name in ["other", "root"] {
        let added = admin
            .post(
                "/console/operators",
                &[("name", name), ("role", "auditor"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(added.status, 200, "{name}: {}", added.body);
        assert!(added.body.contains(&format!("{name}@bank-a")));
        let own = server
            .store
            .operator_named(&format!("{name}@bank-a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(own.service_id, Some(ServiceId::new("bank-a").unwrap()));
    }
    // Another service's operator, or a superuser: not there for this admin.
    for name in ["other", "root"] {
        for action in ["disable", "reset-password"] {
            let refused = admin
                .post(
                    &format!("/console/operators/{name}/{action}"),
                    &[("csrf", &csrf)],
                )
                .await;
            assert_eq!(refused.status, 404, "{name} {action}");
        }
        let o = server.store.operator_named(name).await.unwrap().unwrap();
        assert!(!o.disabled);
    }
    // A help desk may not manage operators at all.
    let (mut desk, _) = operator(&server, Some("bank-a"), "hanako", OperatorRole::Helpdesk).await;
    let desk_csrf = desk.get("/console/users").await.csrf();
    let refused = desk
        .post(
            "/console/operators",
            &[("name", "x1"), ("role", "admin"), ("csrf", &desk_csrf)],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        desk.post("/console/operators/jiro/disable", &[("csrf", &desk_csrf)])
            .await
            .status,
        403
    );
    // Reset: a new password, shown once; the old one no longer signs in.
    let reset = admin
        .post(
            "/console/operators/jiro@bank-a/reset-password",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let fresh = reset.testid("operator-password").unwrap();
    assert_ne!(fresh, secret);
    assert_eq!(
        jiro_browser
            .sign_in("jiro@bank-a", &secret, "")
            .await
            .status,
        401
    );
    assert_eq!(
        jiro_browser.sign_in("jiro@bank-a", &fresh, "").await.status,
        200
    );
    // Disable: the operator's sessions end and sign-in is refused.
    let disabled = admin
        .post("/console/operators/hanako/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert!(disabled.has("notice"));
    assert_eq!(
        desk.get("/console/users").await.location(),
        "/console/login"
    );
    assert!(
        server
            .store
            .operator_named("hanako")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    // Every change names the admin and the operator changed.
    let events = server
        .store
        .audit_events(&ServiceId::new("bank-a").unwrap(), 0, 1000)
        .await
        .unwrap();
    let by_yuki = |kind: &str, detail: &str| {
        events.iter().any(|e| {
            e.kind == kind
                && e.operator.as_deref() == Some("yuki")
                && english(&e.detail).contains(detail)
        })
    };
    assert!(by_yuki("operator_added", "jiro@bank-a (helpdesk)"));
    assert!(by_yuki("operator_changed", "jiro@bank-a: password reset"));
    assert!(by_yuki("operator_changed", "hanako: disabled"));
}

/// Issue 22, item 6: the policy page offers only what the policy's bounds allow, and a value
/// outside them is refused in the operator's language, naming the field and its range;
/// the bounds' edges are saved.
#[tokio::test]
async fn the_policy_page_offers_and_takes_only_what_the_bounds_allow() {
    let server = TestServer::start().await;
    server.add_service("bank", Policy::default()).await;
    let sid = ServiceId::new("bank").unwrap();
    let (mut admin, _) = operator(&server, Some("bank"), "yuki", OperatorRole::Admin).await;
    let page = admin.get("/console/policy").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"<option value="6""#), "{}", page.body);
    assert!(page.body.contains(r#"<option value="8""#));
    assert!(
        !page.body.contains(r#"<option value="7""#),
        "7 digits offered"
    );
    assert!(page.body.contains(r#"<option value="30""#));
    assert!(page.body.contains(r#"<option value="60""#));
    assert!(
        page.body
            .contains(r#"name="max_failures" value="5" type="number" min="1" max="20""#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"name="window" value="1" type="number" min="0" max="10""#)
    );
    assert!(page.body.contains("(0s–7d)"), "the cool-down's range shown");
    assert!(
        page.body.contains("(1m–30d)"),
        "the enrollment lifetime's range shown"
    );
    let csrf = page.csrf();
    let form = |field: &'static str, value: &'static str| {
        let mut f = policy_form(&csrf, "1", "30m");
        for pair in f.iter_mut() {
            if pair.0 == field {
                pair.1 = value;
            }
        }
        f
    };
    // The pen test's policy, then each field's step over the edge: Japanese words by default.
    let cases = [
        (
            "max_failures",
            "1000000",
            "ロックまでの誤り回数（max_failures）は 1–20 の範囲で指定してください",
        ),
        ("max_failures", "0", "（max_failures）は 1–20 の範囲"),
        ("window", "11", "（window）は 0–10 の範囲"),
        ("digits", "7", "（digits）は 6 または 8 のいずれか"),
        ("period", "45", "（period）は 30 または 60 のいずれか"),
        ("tokens_per_user", "11", "（tokens_per_user）は 1–10 の範囲"),
        ("cooldown", "8d", "（cooldown）は 0s–7d の範囲"),
        (
            "enrollment_ttl",
            "59s",
            "（enrollment_ttl）は 1m–30d の範囲",
        ),
        ("max_failures", "many", "（max_failures）は 1–20 の範囲"),
    ];
    for (field, value, said) in cases {
        let f = form(field, value);
        let refused = admin.post("/console/policy", &f).await;
        assert_eq!(refused.status, 422, "{field}={value}: {}", refused.body);
        assert!(
            refused.body.contains(said),
            "{field}={value}: {}",
            refused.body
        );
    }
    // English for an operator who asked for it.
    admin.get("/console/policy?lang=en").await;
    let f = form("max_failures", "1000000");
    let refused = admin.post("/console/policy", &f).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("Wrong codes before lock (max_failures) must be 1–20"),
        "{}",
        refused.body
    );
    assert_eq!(
        server.store.service(&sid).await.unwrap().unwrap().policy,
        Policy::default(),
        "nothing refused was saved"
    );
    // The edges are saved.
    for (window, failures, tokens, cooldown, ttl) in
        [("0", "1", "1", "0s", "1m"), ("10", "20", "10", "7d", "30d")]
    {
        let mut f = policy_form(&csrf, window, cooldown);
        for pair in f.iter_mut() {
            match pair.0 {
                "max_failures" => pair.1 = failures,
                "tokens_per_user" => pair.1 = tokens,
                "enrollment_ttl" => pair.1 = ttl,
                _ => {}
            }
        }
        let saved = admin.post("/console/policy", &f).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let policy = server.store.service(&sid).await.unwrap().unwrap().policy;
        assert_eq!(policy.window.to_string(), window);
        assert_eq!(policy.max_failures.to_string(), failures);
        assert_eq!(policy.tokens_per_user.to_string(), tokens);
    }
}

/// aiosmtpd on a free loopback port (`tests/smtp_sink.py`: a local part starting with
/// `reject` is refused 550, `later` 451); the directory holds what it received.
struct Sink {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Sink {
    fn start() -> Self {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let script =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/setup.sh installs it)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        Sink { child, port, dir }
    }

    /// The envelope recipients of every message received.
    fn recipients(&self) -> Vec<String> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let record: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                for to in record["rcpt_tos"].as_array().unwrap() {
                    all.push(to.as_str().unwrap().to_owned());
                }
            }
        }
        all
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 22, item 7: an address the relay cannot take is refused at the enrollment naming
/// `email`; an international domain goes out in ASCII; a mail the relay refuses (550) or
/// keeps putting off (451) ends `failed` within its bounded attempts, and the help desk
/// sees the state and the reason in Japanese on the user's page.
#[tokio::test]
async fn undeliverable_mail_is_refused_or_fails_in_bounded_time_and_the_desk_sees_why() {
    use softtoken_service::mail::sender::{MAX_ATTEMPTS, deliver_due, retry_delay_ms};
    let sink = Sink::start();
    let server = TestServer::start_mailing(&format!("smtp://127.0.0.1:{}", sink.port)).await;
    let key = server.add_service("bank", Policy::default()).await;
    let sid = ServiceId::new("bank").unwrap();
    softtoken_service::actions::set_service_mail(
        &*server.store,
        &softtoken_store::ServiceMail {
            service_id: sid.clone(),
            download_url: "https://bank.example/app".into(),
            ja: None,
            en: None,
            updated_at: server.state.now(),
        },
        softtoken_server::commands::COMMAND_LINE,
        server.state.now(),
    )
    .await
    .unwrap();
    let enroll = |uid: &'static str, email: &'static str| {
        server.post(
            "/v1/services/bank/enrollments",
            &key,
            json!({"user_id": uid, "start_password": "start-1234", "email": email}),
        )
    };
    // The pen test's addresses, and their kin: 422 naming `email`, nothing issued.
    for bad in [
        "\"a\\\"b\"@example.com",
        "\"ab\"@example.com",
        "taro@ｅｘａｍｐｌｅ\u{200B}.jp",
        "taro@exa\u{200B}mple.com",
        "ta\u{200D}ro@example.com",
        "山田@example.jp",
        "taro@exa_mple.jp",
        "taro@xn--zz.jp",
    ] {
        let (status, body) = enroll("mallory", bad).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
        assert_eq!(body["code"], "invalid_request", "{body}");
        assert!(
            body["detail"].as_str().unwrap().starts_with("email: "),
            "{bad:?}: {body}"
        );
    }
    assert!(
        server
            .store
            .enrollment(&sid, &"mallory".parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    // An international domain: accepted and sent as punycode; a fullwidth one normalised.
    assert_eq!(enroll("taro", "taro@例え.jp").await.0, 201);
    assert_eq!(enroll("hanako", "hanako@ｅｘａｍｐｌｅ．jp").await.0, 201);
    // Refused for good by the relay, and put off by it every time.
    assert_eq!(enroll("alice", "reject.alice@example.com").await.0, 201);
    assert_eq!(enroll("bob", "later.bob@example.com").await.0, 201);
    let mailer = server.state.mailer.clone().unwrap();
    assert_eq!(deliver_due(&server.state, &mailer).await.unwrap(), 4);
    let mut sent = sink.recipients();
    sent.sort();
    assert_eq!(sent, ["hanako@example.jp", "taro@xn--r8jz45g.jp"]);
    let alice = server
        .store
        .user_mails(&sid, &"alice".parse().unwrap(), 5)
        .await
        .unwrap();
    assert_eq!(alice[0].state, "failed", "550 fails at once: {alice:?}");
    assert_eq!(alice[0].attempts, 1);
    // The 451 is tried again after each pause, then given up: bounded attempts, well inside
    // the enrollment's day.
    for attempt in 1..MAX_ATTEMPTS {
        let bob = server
            .store
            .user_mails(&sid, &"bob".parse().unwrap(), 5)
            .await
            .unwrap();
        assert_eq!(bob[0].state, "pending", "attempt {attempt}: {bob:?}");
        server.clock.advance_ms(retry_delay_ms(attempt));
        assert_eq!(deliver_due(&server.state, &mailer).await.unwrap(), 1);
    }
    let bob = server
        .store
        .user_mails(&sid, &"bob".parse().unwrap(), 5)
        .await
        .unwrap();
    assert_eq!(bob[0].state, "failed", "{bob:?}");
    assert_eq!(bob[0].attempts, MAX_ATTEMPTS);
    assert!(
        bob[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains(&format!("given up after {MAX_ATTEMPTS} attempts")),
        "{bob:?}"
    );
    assert_eq!(sent.len(), sink.recipients().len(), "nothing more was sent");

    // The help desk sees the state and the reason, in Japanese.
    let (mut desk, _) = operator(&server, Some("bank"), "hanako", OperatorRole::Helpdesk).await;
    let page = desk.get("/console/users/alice").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.testid("mail-state").as_deref(),
        Some("送信できませんでした")
    );
    assert!(
        page.testid("mail-reason")
            .unwrap()
            .contains("宛先のメールサーバーが受け取りを拒否しました"),
        "{}",
        page.body
    );
    assert!(page.testid("mail-detail").unwrap().contains("550"));
    assert!(!page.body.contains("reject.alice"), "the address is masked");
    let page = desk.get("/console/users/bob").await;
    assert_eq!(
        page.testid("mail-state").as_deref(),
        Some("送信できませんでした")
    );
    assert!(
        page.testid("mail-reason")
            .unwrap()
            .contains("再送を繰り返しましたが")
    );
    let page = desk.get("/console/users/taro").await;
    assert_eq!(page.testid("mail-state").as_deref(), Some("送信済み"));
}
