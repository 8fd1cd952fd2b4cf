//! The app side of activation, provisioning and time sync against a miniature server made
//! of the protocol crate's server-side functions: in process for the protocol logic, and
//! over real loopback HTTP for the reqwest edge.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use softtoken_core::enroll::{
    ActivationTarget, EnrollError, Enroller, HttpRequest, HttpResponse, HttpTransport, SendError,
    ServerUrl, Transport, VaultAccess,
};
use softtoken_core::protocol::otp::{self, OtpParams};
use softtoken_core::protocol::problem::codes;
use softtoken_core::protocol::{ProtocolError, ServiceId, UserId};
use softtoken_core::vault::Clock;
use softtoken_core::{StoreError, TokenState, TokenStore};
use support::fake_server::{FakeServer, problem, serve_http};
use support::*;

const SERVER: &str = "https://otp.shinkin.example";

struct World {
    vault: Vault,
    store: TokenStore,
    server: Arc<FakeServer>,
    enroller: Enroller,
}

fn world() -> World {
    let vault = Vault::new();
    let clock = vault.clock.clone();
    let device = clock.clone();
    let server = FakeServer::new(Arc::new(move || device.now_unix_ms()));
    let enroller = Enroller::with(server.clone(), clock);
    let store = vault.open().unwrap();
    World {
        vault,
        store,
        server,
        enroller,
    }
}

fn target(server: &str, user: &str) -> ActivationTarget {
    ActivationTarget {
        server: ServerUrl::parse(server).unwrap(),
        service: ServiceId::new("shinkin").unwrap(),
        user: UserId::new(user).unwrap(),
    }
}

fn server_code(w: &World, serial: &softtoken_core::protocol::Serial, params: &OtpParams) -> String {
    let server_ms = w.vault.clock.now_unix_ms() + w.server.offset_ms.load(Ordering::SeqCst);
    otp::totp(&w.server.seed_of(serial), params, (server_ms / 1000) as u64).to_string()
}

#[test]
fn activation_stores_a_pending_token_whose_codes_the_server_accepts() {
    let mut w = world();
    w.server.enroll("yamada.taro", "start-1234");
    w.server.offset_ms.store(-95_000, Ordering::SeqCst); // the phone is 95 s fast

    let info = w
        .enroller
        .activate(&mut w.store, &target(SERVER, "yamada.taro"), "start-1234")
        .unwrap();
    assert_eq!(info.issuer, "しんきん銀行");
    assert_eq!(info.service_id.as_str(), "shinkin");
    assert_eq!(info.user_label, "yamada.taro");
    assert_eq!(info.params, OtpParams::ACTIVATION);
    assert_eq!(info.state, TokenState::Pending);
    assert_eq!(info.server_url, SERVER);
    assert_eq!(info.clock_offset_ms, -95_000);
    assert_eq!(info.created_at, 1_700_000_000);

    // The code the app shows is the one the server computes for its own clock.
    let now = w.vault.clock.now_unix_ms();
    let shown = w.store.code(&info.serial, now).unwrap();
    assert_eq!(shown.code, server_code(&w, &info.serial, &info.params));
    assert_eq!(shown.code.len(), 8);

    // It is in the vault, not just in memory.
    drop(w.store);
    let store = w.vault.open().unwrap();
    assert_eq!(store.tokens().unwrap(), [info]);
}

#[test]
fn a_wrong_start_password_says_how_many_tries_remain_and_stores_nothing() {
    let mut w = world();
    w.server.enroll("alice", "right-pass");
    let t = target(SERVER, "alice");
    match w.enroller.activate(&mut w.store, &t, "wrong-pass") {
        Err(EnrollError::WrongStartPassword { attempts_left: 4 }) => {}
        other => panic!("{other:?}"),
    }
    assert!(w.store.tokens().unwrap().is_empty());
    let message = w
        .enroller
        .activate(&mut w.store, &t, "wrong-again")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("wrong start password") && message.contains("3 tries left"),
        "{message}"
    );
    w.enroller.activate(&mut w.store, &t, "right-pass").unwrap();
    assert_eq!(w.store.tokens().unwrap().len(), 1);
    // Single use: the enrollment is gone.
    assert!(matches!(
        w.enroller.activate(&mut w.store, &t, "right-pass"),
        Err(EnrollError::EnrollmentNotFound)
    ));
}

#[test]
fn neither_the_start_password_nor_the_seed_crosses_the_wire() {
    let mut w = world();
    w.server.enroll("alice", "secret-start-pw");
    let info = w
        .enroller
        .activate(&mut w.store, &target(SERVER, "alice"), "secret-start-pw")
        .unwrap();
    let seed = w.server.seed_of(&info.serial);
    let bodies = w.server.bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2, "start and finish");
    for body in bodies.iter() {
        let text = String::from_utf8_lossy(body);
        assert!(!text.contains("secret-start-pw"), "{text}");
        assert!(!body.windows(8).any(|win| seed.windows(8).any(|s| s == win)));
    }
}

#[test]
fn five_wrong_start_passwords_lock_the_enrollment() {
    let mut w = world();
    w.server.enroll("alice", "right-pass");
    let t = target(SERVER, "alice");
    for left in (0..5).rev() {
        assert!(matches!(
            w.enroller.activate(&mut w.store, &t, "nope-nope"),
            Err(EnrollError::WrongStartPassword { attempts_left }) if attempts_left == left
        ));
    }
    assert!(matches!(
        w.enroller.activate(&mut w.store, &t, "right-pass"),
        Err(EnrollError::EnrollmentLocked)
    ));
}

#[test]
fn server_problems_become_errors_a_customer_can_act_on() {
    let mut w = world();
    let t = target(SERVER, "alice");
    for (answer, check) in [
        (
            problem(404, codes::ENROLLMENT_NOT_FOUND, "x"),
            (|e: &EnrollError| matches!(e, EnrollError::EnrollmentNotFound))
                as fn(&EnrollError) -> bool,
        ),
        (problem(410, codes::ENROLLMENT_EXPIRED, "x"), |e| {
            matches!(e, EnrollError::EnrollmentExpired)
        }),
        (problem(409, codes::ENROLLMENT_LOCKED, "x"), |e| {
            matches!(e, EnrollError::EnrollmentLocked)
        }),
        (problem(404, codes::UNKNOWN_SERVICE, "x"), |e| {
            matches!(e, EnrollError::UnknownService)
        }),
        (problem(429, codes::RATE_LIMITED, "x"), |e| {
            matches!(
                e,
                EnrollError::RateLimited {
                    retry_after_seconds: 42
                }
            )
        }),
        (problem(400, codes::INVALID_REQUEST, "bad user id"), |e| {
            matches!(e, EnrollError::Refused { status: 400, code, detail, url }
                if code == "invalid_request" && detail == "bad user id"
                    && url == "https://otp.shinkin.example/v1/activation/start")
        }),
        ((502, "<html>Bad Gateway</html>".to_string()), |e| {
            matches!(e, EnrollError::BadResponse { url, reason }
                if url.ends_with("/v1/activation/start") && reason.contains("502"))
        }),
        ((200, "{\"not\":\"a start response\"}".to_string()), |e| {
            matches!(e, EnrollError::BadResponse { .. })
        }),
    ] {
        *w.server.next_answer.lock().unwrap() = Some(answer.clone());
        let err = w
            .enroller
            .activate(&mut w.store, &t, "start-1234")
            .unwrap_err();
        assert!(check(&err), "{answer:?} gave {err:?}");
    }
    assert!(w.store.tokens().unwrap().is_empty());
}

#[test]
fn a_tampered_answer_is_refused() {
    let mut w = world();
    w.server.enroll("alice", "start-1234");
    *w.server.tamper.lock().unwrap() = true;
    assert!(matches!(
        w.enroller
            .activate(&mut w.store, &target(SERVER, "alice"), "start-1234"),
        Err(EnrollError::Protocol(ProtocolError::BadMac))
    ));
    let server = ServerUrl::parse(SERVER).unwrap();
    let service = ServiceId::new("shinkin").unwrap();
    assert!(matches!(
        w.enroller.provision(&mut w.store, &server, &service),
        Err(EnrollError::Protocol(ProtocolError::BadMac))
    ));
    assert!(w.store.tokens().unwrap().is_empty());
}

#[test]
fn nothing_is_sent_for_a_locked_vault_or_a_malformed_password() {
    let mut w = world();
    w.server.enroll("alice", "start-1234");
    let t = target(SERVER, "alice");
    for bad in ["abc", &"x".repeat(65), "パスワード", "tab\there"] {
        assert!(matches!(
            w.enroller.activate(&mut w.store, &t, bad),
            Err(EnrollError::InvalidStartPassword)
        ));
    }
    w.store.set_pin("2468").unwrap();
    w.store.lock();
    assert!(matches!(
        w.enroller.activate(&mut w.store, &t, "start-1234"),
        Err(EnrollError::Store(StoreError::Locked))
    ));
    assert!(matches!(
        w.enroller.provision(
            &mut w.store,
            &ServerUrl::parse(SERVER).unwrap(),
            &ServiceId::new("shinkin").unwrap()
        ),
        Err(EnrollError::Store(StoreError::Locked))
    ));
    assert_eq!(w.server.requests.load(Ordering::SeqCst), 0);
}

#[test]
fn provisioning_stores_a_token_with_the_servers_seed() {
    let mut w = world();
    w.server.offset_ms.store(12_345, Ordering::SeqCst);
    let info = w
        .enroller
        .provision(
            &mut w.store,
            &ServerUrl::parse(SERVER).unwrap(),
            &ServiceId::new("shinkin").unwrap(),
        )
        .unwrap();
    assert_eq!(info.params, OtpParams::REGISTRATION);
    assert_eq!(info.state, TokenState::Pending);
    assert_eq!(info.user_label, "");
    assert_eq!(info.clock_offset_ms, 12_345);
    let now = w.vault.clock.now_unix_ms();
    assert_eq!(
        w.store.code(&info.serial, now).unwrap().code,
        server_code(&w, &info.serial, &info.params)
    );
    assert!(matches!(
        w.enroller.provision(
            &mut w.store,
            &ServerUrl::parse(SERVER).unwrap(),
            &ServiceId::new("other-bank").unwrap()
        ),
        Err(EnrollError::UnknownService)
    ));
}

#[test]
fn sync_time_refreshes_each_servers_offset_and_reports_failures_by_url() {
    let mut w = world();
    let info = w
        .enroller
        .provision(
            &mut w.store,
            &ServerUrl::parse(SERVER).unwrap(),
            &ServiceId::new("shinkin").unwrap(),
        )
        .unwrap();
    assert_eq!(info.clock_offset_ms, 0);
    // A token of a server that is down (reached through real HTTP: a closed port).
    let mut other = token("Down Bank", &[5; 20]);
    other.server_url = "http://127.0.0.1:9".into();
    w.store.add(other.clone()).unwrap();

    w.server.offset_ms.store(-7_000, Ordering::SeqCst);
    let outcomes = w.enroller.sync_time(&mut w.store).unwrap();
    assert_eq!(outcomes.len(), 2);
    let ours = outcomes.iter().find(|o| o.server_url == SERVER).unwrap();
    assert_eq!(*ours.result.as_ref().unwrap(), -7_000);
    let tokens = w.store.tokens().unwrap();
    assert_eq!(
        tokens
            .iter()
            .find(|t| t.serial == info.serial)
            .unwrap()
            .clock_offset_ms,
        -7_000
    );

    // Over real HTTP the closed port is a network error naming the URL.
    let http = Enroller::with(
        Arc::new(HttpTransport::new().unwrap()),
        w.vault.clock.clone(),
    );
    let err = http
        .server_offset(&ServerUrl::parse("http://127.0.0.1:9").unwrap())
        .unwrap_err();
    match &err {
        EnrollError::Network { url, .. } => assert_eq!(url, "http://127.0.0.1:9/v1/time"),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("http://127.0.0.1:9/v1/time"),
        "{err}"
    );
}

#[test]
fn activation_and_provisioning_over_real_http() {
    let vault = Vault::new();
    let server = FakeServer::new(Arc::new(|| {
        softtoken_core::vault::SystemClock.now_unix_ms()
    }));
    server.enroll("alice", "start-1234");
    server.offset_ms.store(30_000, Ordering::SeqCst);
    let addr = serve_http(server.clone());
    let url = format!("http://{addr}");
    let enroller = Enroller::new().unwrap();
    let mut store = vault.open().unwrap();

    let err = enroller
        .activate(&mut store, &target(&url, "alice"), "wrong-pass")
        .unwrap_err();
    assert!(matches!(
        err,
        EnrollError::WrongStartPassword { attempts_left: 4 }
    ));
    let info = enroller
        .activate(&mut store, &target(&url, "alice"), "start-1234")
        .unwrap();
    // Real clocks: the offset is right to within the round trip.
    assert!(
        (info.clock_offset_ms - 30_000).abs() < 2_000,
        "{}",
        info.clock_offset_ms
    );
    let now = softtoken_core::vault::SystemClock.now_unix_ms();
    let code = store.code(&info.serial, now).unwrap().code;
    let seed = server.seed_of(&info.serial);
    let step = |ms: i64| otp::totp(&seed, &info.params, (ms / 1000) as u64).to_string();
    assert!(
        [step(now + 28_000), step(now + 30_000), step(now + 32_000)].contains(&code),
        "{code}"
    );

    let provisioned = enroller
        .provision(
            &mut store,
            &ServerUrl::parse(&url).unwrap(),
            &ServiceId::new("shinkin").unwrap(),
        )
        .unwrap();
    assert_eq!(provisioned.params, OtpParams::REGISTRATION);
    let offset = enroller
        .server_offset(&ServerUrl::parse(&url).unwrap())
        .unwrap();
    assert!((offset - 30_000).abs() < 2_000, "{offset}");
    let err = enroller
        .activate(&mut store, &target(&url, "nobody"), "start-1234")
        .unwrap_err();
    assert!(matches!(err, EnrollError::EnrollmentNotFound), "{err:?}");
}

#[test]
fn plain_http_to_another_machine_is_refused_before_any_request() {
    for text in ["http://otp.bank.example", "http://192.168.0.10:8080"] {
        assert!(matches!(
            ServerUrl::parse(text),
            Err(EnrollError::BadServerUrl { .. })
        ));
        assert!(
            ActivationTarget::from_uri(&format!(
                "softtoken://activate?server={text}&service=s&user=u"
            ))
            .is_err()
        );
    }
}

/// A vault shared between threads behind a lock, as the FFI holds it: the enroller takes
/// the lock for each of its vault steps.
struct Shared<'a>(&'a Mutex<TokenStore>);

impl VaultAccess for Shared<'_> {
    type Error = EnrollError;

    fn with_vault<T>(
        &mut self,
        f: impl FnOnce(&mut TokenStore) -> Result<T, StoreError>,
    ) -> Result<T, EnrollError> {
        Ok(f(&mut self.0.lock().unwrap())?)
    }
}

/// Passes requests to the fake server, noting whether the vault was free at each.
struct Watching {
    server: Arc<FakeServer>,
    vault: Arc<Mutex<TokenStore>>,
    sent_while_held: AtomicUsize,
}

impl Transport for Watching {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, SendError> {
        if self.vault.try_lock().is_err() {
            self.sent_while_held.fetch_add(1, Ordering::SeqCst);
        }
        self.server.send(request)
    }
}

#[test]
fn a_shared_vault_is_not_held_while_the_network_is_in_use() {
    let w = world();
    w.server.enroll("alice", "start-1234");
    let vault = Arc::new(Mutex::new(w.store));
    let watching = Arc::new(Watching {
        server: w.server.clone(),
        vault: vault.clone(),
        sent_while_held: AtomicUsize::new(0),
    });
    let enroller = Enroller::with(watching.clone(), w.vault.clock.clone());

    let activated = enroller
        .activate(Shared(&vault), &target(SERVER, "alice"), "start-1234")
        .unwrap();
    let provisioned = enroller
        .provision(
            Shared(&vault),
            &ServerUrl::parse(SERVER).unwrap(),
            &ServiceId::new("shinkin").unwrap(),
        )
        .unwrap();
    w.server.offset_ms.store(4_000, Ordering::SeqCst);
    let synced = enroller.sync_time(Shared(&vault)).unwrap();
    assert_eq!(*synced[0].result.as_ref().unwrap(), 4_000);

    assert!(w.server.requests.load(Ordering::SeqCst) >= 4);
    assert_eq!(watching.sent_while_held.load(Ordering::SeqCst), 0);
    let tokens = vault.lock().unwrap().tokens().unwrap();
    assert_eq!(
        tokens.iter().map(|t| &t.serial).collect::<Vec<_>>(),
        [&activated.serial, &provisioned.serial]
    );
    assert!(tokens.iter().all(|t| t.clock_offset_ms == 4_000));
}

#[test]
fn sync_token_time_refreshes_the_tokens_server_only() {
    let mut w = world();
    let ours = w
        .enroller
        .provision(
            &mut w.store,
            &ServerUrl::parse(SERVER).unwrap(),
            &ServiceId::new("shinkin").unwrap(),
        )
        .unwrap();
    // Plain HTTP to another machine: a server the core refuses to ask.
    let mut other = token("Other Bank", &[5; 20]);
    other.server_url = "http://otp.other.example".into();
    w.store.add(other.clone()).unwrap();

    w.server.offset_ms.store(12_000, Ordering::SeqCst);
    let offset = w
        .enroller
        .sync_token_time(&mut w.store, &ours.serial)
        .unwrap();
    assert_eq!(offset, 12_000);
    let offsets: Vec<i64> = w
        .store
        .tokens()
        .unwrap()
        .iter()
        .map(|t| t.clock_offset_ms)
        .collect();
    assert_eq!(offsets, [12_000, 0], "the other server was not asked");

    // A token nobody has, and a token whose server cannot be asked, are errors.
    let nobody = softtoken_core::protocol::Serial::generate();
    assert!(matches!(
        w.enroller.sync_token_time(&mut w.store, &nobody),
        Err(EnrollError::Store(StoreError::NotFound(_)))
    ));
    assert!(matches!(
        w.enroller.sync_token_time(&mut w.store, &other.serial),
        Err(EnrollError::BadServerUrl { .. })
    ));
}

/// Issue 16: `refresh` syncs the clock (the status call needs the server's time) and records
/// each live token's state; a forged answer is refused and changes nothing; dead tokens are
/// not asked again.
#[test]
fn refresh_records_each_state_and_refuses_a_forged_answer() {
    use softtoken_core::protocol::status::TokenStatus;
    let mut w = world();
    // The device is 10 minutes slow: outside the status call's window until time is synced.
    w.server.offset_ms.store(600_000, Ordering::SeqCst);
    let server = ServerUrl::parse(SERVER).unwrap();
    let service = ServiceId::new("shinkin").unwrap();
    let info = w
        .enroller
        .provision(&mut w.store, &server, &service)
        .unwrap();
    w.server.offset_ms.store(1_200_000, Ordering::SeqCst);

    let refresh = w.enroller.refresh(&mut w.store).unwrap();
    assert_eq!(refresh.time.len(), 1);
    assert_eq!(*refresh.time[0].result.as_ref().unwrap(), 1_200_000);
    assert_eq!(refresh.status.len(), 1);
    assert_eq!(
        *refresh.status[0].result.as_ref().unwrap(),
        TokenState::Pending
    );

    w.server
        .states
        .lock()
        .unwrap()
        .insert(info.serial.clone(), TokenStatus::Stopped);
    *w.server.tamper.lock().unwrap() = true;
    let refresh = w.enroller.refresh(&mut w.store).unwrap();
    assert!(
        matches!(
            refresh.status[0].result,
            Err(EnrollError::Protocol(ProtocolError::BadMac))
        ),
        "{:?}",
        refresh.status[0].result
    );
    assert_eq!(
        w.store.token(&info.serial).unwrap().state,
        TokenState::Pending
    );

    *w.server.tamper.lock().unwrap() = false;
    let refresh = w.enroller.refresh(&mut w.store).unwrap();
    assert_eq!(
        *refresh.status[0].result.as_ref().unwrap(),
        TokenState::Stopped
    );
    assert_eq!(
        w.store.token(&info.serial).unwrap().state,
        TokenState::Stopped
    );
    // Dead: not asked again (only the clock is synced).
    let before = w.server.requests.load(Ordering::SeqCst);
    let refresh = w.enroller.refresh(&mut w.store).unwrap();
    assert!(refresh.status.is_empty());
    assert_eq!(w.server.requests.load(Ordering::SeqCst), before + 1);
}

/// In an activation the serial is the app's random pick: a server that holds it already
/// answers `serial_taken`, and the app picks another (up to three in all) in the same
/// activation session, so the customer never sees a collision; the third refusal in a row
/// is reported, with nothing stored. Provisioning takes the server's pick.
#[test]
fn a_taken_serial_is_replaced_by_a_fresh_one() {
    let mut w = world();
    w.server.enroll("sato.hanako", "start-2468");
    w.server.serials_taken.store(2, Ordering::SeqCst);
    let info = w
        .enroller
        .activate(&mut w.store, &target(SERVER, "sato.hanako"), "start-2468")
        .unwrap();
    let serials: Vec<String> = w
        .server
        .bodies
        .lock()
        .unwrap()
        .iter()
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .filter_map(|v| v.get("serial").and_then(|s| s.as_str()).map(str::to_owned))
        .collect();
    assert_eq!(serials.len(), 3, "{serials:?}");
    assert_ne!(serials[0], serials[1]);
    assert_ne!(serials[1], serials[2]);
    assert_eq!(serials[2], info.serial.as_str());
    assert_eq!(w.store.tokens().unwrap(), std::slice::from_ref(&info));
    let now = w.vault.clock.now_unix_ms();
    assert_eq!(
        w.store.code(&info.serial, now).unwrap().code,
        server_code(&w, &info.serial, &info.params)
    );

    let bank = ServiceId::new("shinkin").unwrap();
    let server = ServerUrl::parse(SERVER).unwrap();
    let provisioned = w.enroller.provision(&mut w.store, &server, &bank).unwrap();
    assert_eq!(
        w.store.code(&provisioned.serial, now).unwrap().code,
        server_code(&w, &provisioned.serial, &provisioned.params)
    );

    w.server.enroll("suzuki.ichiro", "start-1357");
    w.server.serials_taken.store(3, Ordering::SeqCst);
    let refused = w
        .enroller
        .activate(&mut w.store, &target(SERVER, "suzuki.ichiro"), "start-1357");
    assert!(
        matches!(&refused, Err(EnrollError::Refused { code, .. }) if code == codes::SERIAL_TAKEN),
        "{refused:?}"
    );
    assert_eq!(w.server.serials_taken.load(Ordering::SeqCst), 0);
    assert_eq!(w.store.tokens().unwrap().len(), 2);
}
