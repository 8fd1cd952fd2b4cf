//! The app's flows (crates/core/src/app), end to end: the model over a real vault file, a
//! real HTTP activation server on loopback (the tests' miniature server, built from the
//! protocol crate's server side), and a shell that records what it is asked to draw and do.
//! Time is the vault's manual clock: nothing here sleeps to pass.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use softtoken_core::app::{
    App, AppConfig, BiometricOutcome, Event, InputField, Language, Message, MessageKey, PinStep,
    Screen, Shell, TokenCard, ViewState,
};
use softtoken_core::protocol::Serial;
use softtoken_core::protocol::status::TokenStatus;
use softtoken_core::vault::Clock;
use softtoken_core::{BankDirectory, TokenState};
use support::Vault;
use support::fake_server::{FakeServer, serve_http};
use zeroize::Zeroizing;

/// What the tests' platform did: the views drawn, the clipboard, the biometric key.
#[derive(Default)]
struct TestShell {
    views: Mutex<Vec<ViewState>>,
    drawn: Condvar,
    clipboard: Mutex<Option<String>>,
    /// The clip on the clipboard is the one the app put there.
    ours: AtomicBool,
    /// False: the app is in the background and may not read the clipboard (Android 10+).
    unreadable: AtomicBool,
    no_biometrics: AtomicBool,
    /// The platform cannot make a biometric key (a Keystore error): enrolling stores nothing.
    keystore_broken: AtomicBool,
    biometric_pin: Mutex<Option<Vec<u8>>>,
}

impl Shell for TestShell {
    fn render(&self, view: ViewState) {
        self.views.lock().unwrap().push(view);
        self.drawn.notify_all();
    }
    fn put_on_clipboard(&self, text: String) {
        *self.clipboard.lock().unwrap() = Some(text);
        self.ours.store(true, Ordering::SeqCst);
    }
    fn clipboard_still_ours(&self) -> Option<bool> {
        if self.unreadable.load(Ordering::SeqCst) {
            return None;
        }
        Some(self.ours.load(Ordering::SeqCst))
    }
    fn clear_clipboard(&self) {
        *self.clipboard.lock().unwrap() = None;
    }
    fn biometric_available(&self) -> bool {
        !self.no_biometrics.load(Ordering::SeqCst)
    }
    fn biometric_enrolled(&self) -> bool {
        self.biometric_pin.lock().unwrap().is_some()
    }
    fn biometric_enroll(&self, pin: &[u8]) -> bool {
        if self.keystore_broken.load(Ordering::SeqCst) {
            return false;
        }
        *self.biometric_pin.lock().unwrap() = Some(pin.to_vec());
        true
    }
    fn biometric_remove(&self) {
        *self.biometric_pin.lock().unwrap() = None;
    }
}

impl TestShell {
    fn copied_elsewhere(&self, text: &str) {
        *self.clipboard.lock().unwrap() = Some(text.into());
        self.ours.store(false, Ordering::SeqCst);
    }
    fn clip(&self) -> Option<String> {
        self.clipboard.lock().unwrap().clone()
    }
    /// The biometric prompt, the customer's finger accepted.
    fn prompt(&self) -> BiometricOutcome {
        match self.biometric_pin.lock().unwrap().clone() {
            Some(pin) => BiometricOutcome::Success(Zeroizing::new(pin)),
            None => BiometricOutcome::Invalidated,
        }
    }
    /// Waits (for the refresh thread) until a drawn view satisfies `done`.
    fn wait_for(&self, done: impl Fn(&ViewState) -> bool) -> ViewState {
        let views = self.views.lock().unwrap();
        let (views, timeout) = self
            .drawn
            .wait_timeout_while(views, Duration::from_secs(20), |v| {
                !v.last().is_some_and(&done)
            })
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "never drawn; last: {:?}",
            views.last()
        );
        views.last().unwrap().clone()
    }
}

/// What the gate in front of the test server does with a connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Passes it to the server.
    Forward,
    /// Closes it at once: the server is unreachable.
    Refuse,
    /// Accepts it and never answers: a real hanging server.
    Hang,
}

/// A TCP gate in front of the test server, so a test can make "the bank's server" hang or
/// vanish without changing the URL the tokens hold.
struct Gate {
    mode: Arc<Mutex<Mode>>,
}

impl Gate {
    fn open(target: std::net::SocketAddr) -> (Gate, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(Mode::Forward));
        let seen = mode.clone();
        std::thread::spawn(move || {
            let mut hanging = Vec::new();
            for stream in listener.incoming() {
                let Ok(client) = stream else { continue };
                match *seen.lock().unwrap() {
                    Mode::Refuse => drop(client),
                    Mode::Hang => hanging.push(client), // accepted, never answered
                    Mode::Forward => {
                        let Ok(server) = std::net::TcpStream::connect(target) else {
                            continue;
                        };
                        let (mut c_in, mut s_out) =
                            (client.try_clone().unwrap(), server.try_clone().unwrap());
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut c_in, &mut s_out);
                        });
                        let (mut s_in, mut c_out) = (server, client);
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut s_in, &mut c_out);
                            let _ = c_out.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
            }
        });
        (Gate { mode }, url)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

struct World {
    gate: Gate,
    vault: Vault,
    server: Arc<FakeServer>,
    url: String,
    shell: Arc<TestShell>,
    app: App,
}

const SERVICE: &str = "shinkin";

fn config(vault: &Vault, url: &str) -> AppConfig {
    let mut config = AppConfig::new(&vault.path);
    config.activation_server = Some(url.to_string());
    config.registration_server = Some(url.to_string());
    config.registration_service_id = Some(SERVICE.to_string());
    config
}

fn world_with(edit: impl FnOnce(&mut AppConfig)) -> World {
    let vault = Vault::new();
    let device = vault.clock.clone();
    let server = FakeServer::new(Arc::new(move || device.now_unix_ms()));
    let (gate, url) = Gate::open(serve_http(server.clone()));
    let shell = Arc::new(TestShell::default());
    let mut config = config(&vault, &url);
    edit(&mut config);
    let app = App::with_options(config, vault.wrapper(), shell.clone(), vault.options());
    app.send(Event::Start);
    World {
        gate,
        vault,
        server,
        url,
        shell,
        app,
    }
}

fn world() -> World {
    world_with(|_| {})
}

impl World {
    fn send(&self, event: Event) -> ViewState {
        self.app.send(event);
        self.app.view()
    }
    fn screen(&self) -> Screen {
        self.app.view().screen
    }
    fn notice(&self) -> Option<MessageKey> {
        self.app.view().notice.map(|m| m.key)
    }
    fn advance(&self, seconds: i64) {
        self.vault.clock.advance_secs(seconds);
    }
    /// Activates a token for `user` through the typed form; back on the token list.
    fn activate(&self, user: &str) -> String {
        self.server.enroll(user, "start-1234");
        self.send(Event::StartActivation);
        let view = self.send(submit(SERVICE, user, "start-1234"));
        let Screen::ActivationDone { token } = view.screen else {
            panic!("not activated: {view:?}")
        };
        assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::Activated));
        // Back leads to the token list, not the used form.
        self.send(Event::Back);
        self.wait_refreshed();
        token.serial
    }
    /// Waits for a background refresh (if any) to end.
    fn wait_refreshed(&self) -> ViewState {
        self.shell.wait_for(|v| !v.refreshing)
    }
    fn cards(&self) -> Vec<TokenCard> {
        match self.screen() {
            Screen::Tokens { cards } => cards,
            other => panic!("not the token list: {other:?}"),
        }
    }
    fn set_pin(&self, pin: &str) {
        self.send(Event::OpenSettings);
        self.send(Event::BeginSetPin);
        self.send(pin_event(pin));
        let view = self.send(pin_event(pin));
        assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::PinSet));
    }
    /// The app goes to the background long enough to lock.
    fn leave(&self) {
        self.send(Event::Background);
        self.advance(11);
        self.send(Event::Tick);
    }
    fn server_says(&self, serial: &str, status: TokenStatus) {
        let serial = Serial::parse(serial).unwrap();
        self.server.states.lock().unwrap().insert(serial, status);
    }
}

fn submit(service: &str, user: &str, password: &str) -> Event {
    Event::SubmitActivation {
        service_id: service.into(),
        user_id: user.into(),
        start_password: password.into(),
    }
}

fn pin_event(pin: &str) -> Event {
    Event::EnterPin { pin: pin.into() }
}

fn unlock_event(pin: &str) -> Event {
    Event::Unlock { pin: pin.into() }
}

fn error_key(screen: &Screen) -> Option<MessageKey> {
    match screen {
        Screen::Unlock { error, .. }
        | Screen::Activation { error, .. }
        | Screen::PinEntry { error, .. }
        | Screen::SignManual { error, .. } => error.as_ref().map(|m| m.key),
        _ => None,
    }
}

fn period(card: &TokenCard) -> i64 {
    card.token.period_seconds as i64
}

fn code_of(card: &TokenCard) -> String {
    card.code.as_ref().expect("a code").grouped.clone()
}

// --- Activation and registration ------------------------------------------------------

#[test]
fn a_wrong_then_the_right_start_password_activates_a_pending_token() {
    let w = world();
    assert_eq!(w.cards(), vec![], "the welcome: no token yet");
    w.server.enroll("alice", "start-1234");
    w.send(Event::AddToken);
    w.send(Event::StartActivation);
    let view = w.send(submit(SERVICE, "alice", "wrong-pass"));
    let Screen::Activation {
        error, error_field, ..
    } = &view.screen
    else {
        panic!("{view:?}")
    };
    assert_eq!(
        error.as_ref().map(|m| m.key),
        Some(MessageKey::WrongStartPassword)
    );
    assert_eq!(error.as_ref().unwrap().args, vec![4]);
    assert_eq!(*error_field, Some(InputField::StartPassword));
    assert_eq!(
        error.as_ref().unwrap().text(Language::Japanese),
        "利用開始パスワードが違います（残り4回）。"
    );

    let view = w.send(submit(SERVICE, " alice ", "start-1234"));
    let Screen::ActivationDone { token } = view.screen else {
        panic!("{view:?}")
    };
    assert_eq!(token.state, TokenState::Pending);
    let view = w.send(Event::ContinueAfterActivation);
    let Screen::TokenDetail { card, first_use } = view.screen else {
        panic!("{view:?}")
    };
    assert_eq!(first_use, Some(softtoken_core::app::FirstUse::Activation));
    assert_eq!(
        card.code.as_ref().unwrap().grouped.len(),
        9,
        "8 digits in two halves"
    );
    assert_eq!(card.status.key, MessageKey::StatusPending);
}

#[test]
fn empty_fields_and_unknown_users_are_said_before_and_after_the_network() {
    let w = world();
    w.send(Event::StartActivation);
    let view = w.send(submit(SERVICE, "", "start-1234"));
    assert_eq!(error_key(&view.screen), Some(MessageKey::RequiredField));
    let before = w.server.requests.load(Ordering::SeqCst);
    let view = w.send(submit(SERVICE, "bob", ""));
    assert_eq!(error_key(&view.screen), Some(MessageKey::RequiredField));
    assert_eq!(
        w.server.requests.load(Ordering::SeqCst),
        before,
        "nothing sent"
    );
    let view = w.send(submit(SERVICE, "nobody", "start-1234"));
    assert_eq!(
        error_key(&view.screen),
        Some(MessageKey::EnrollmentNotFound)
    );
}

#[test]
fn an_unreachable_server_is_a_network_error() {
    // A port closed and freed could be taken by another test's server meanwhile: the gate
    // refuses instead, every time.
    let w = world();
    w.gate.set(Mode::Refuse);
    w.send(Event::StartActivation);
    let view = w.send(submit(SERVICE, "alice", "start-1234"));
    assert_eq!(error_key(&view.screen), Some(MessageKey::Network));
}

#[test]
fn a_scanned_activation_code_fills_the_form_after_asking_about_an_unlisted_server() {
    let w = world();
    w.server.enroll("carol", "start-1234");
    let uri = format!(
        "softtoken://activate?server={}&service={SERVICE}&user=carol",
        w.url
    );
    let view = w.send(Event::Scanned { uri });
    let Screen::ConfirmServer { host, target } = view.screen else {
        panic!("{view:?}")
    };
    assert_eq!(host, w.url.trim_start_matches("http://"));
    assert_eq!(target.user_id, "carol");
    let view = w.send(Event::ConfirmServer);
    let Screen::Activation {
        service_id,
        user_id,
        scanned_server,
        ..
    } = view.screen
    else {
        panic!("{view:?}")
    };
    assert_eq!((service_id.as_str(), user_id.as_str()), (SERVICE, "carol"));
    assert_eq!(scanned_server.as_deref(), Some(w.url.as_str()));
    let view = w.send(submit(SERVICE, "carol", "start-1234"));
    assert!(
        matches!(view.screen, Screen::ActivationDone { .. }),
        "{view:?}"
    );

    // A code that is no activation: the form says so.
    w.send(Event::Back);
    w.send(Event::StartActivation);
    let view = w.send(Event::Scanned {
        uri: "https://example.com/".into(),
    });
    let Screen::Activation { error_field, .. } = &view.screen else {
        panic!("{view:?}")
    };
    assert_eq!(
        error_key(&view.screen),
        Some(MessageKey::InvalidActivationUri)
    );
    assert_eq!(*error_field, Some(InputField::ActivationUri));
}

#[test]
fn the_bank_directory_routes_typed_ids_and_vouches_for_listed_servers() {
    let url_for_dir = Arc::new(Mutex::new(String::new()));
    let vault = Vault::new();
    let device = vault.clock.clone();
    let server = FakeServer::new(Arc::new(move || device.now_unix_ms()));
    let url = format!("http://{}", serve_http(server.clone()));
    *url_for_dir.lock().unwrap() = url.clone();
    let json = format!(
        r#"{{"banks": [{{"serviceId": "{SERVICE}", "name": "しんきん銀行", "serverUrl": "{url}"}},
            {{"serviceId": "other", "name": "Other", "serverUrl": "https://otp.other.example"}}]}}"#
    );
    let shell = Arc::new(TestShell::default());
    let mut config = AppConfig::new(&vault.path);
    config.banks = Some(BankDirectory::from_json(&json).unwrap());
    let app = App::with_options(config, vault.wrapper(), shell.clone(), vault.options());
    app.send(Event::Start);

    app.send(Event::StartActivation);
    let Screen::Activation { banks, .. } = app.view().screen else {
        panic!()
    };
    assert_eq!(banks.len(), 2);
    app.send(submit("unknown-bank", "dave", "start-1234"));
    assert_eq!(
        error_key(&app.view().screen),
        Some(MessageKey::UnknownServiceId)
    );
    server.enroll("dave", "start-1234");
    app.send(submit(SERVICE, "dave", "start-1234"));
    assert!(matches!(app.view().screen, Screen::ActivationDone { .. }));

    // A listed server goes straight to the form.
    app.send(Event::Back);
    let uri = format!("softtoken://activate?server={url}&service={SERVICE}&user=erin");
    app.send(Event::Scanned { uri });
    assert!(
        matches!(app.view().screen, Screen::Activation { .. }),
        "{:?}",
        app.view()
    );
}

#[test]
fn registration_shows_the_serial_and_code_and_an_app_without_it_says_so() {
    let w = world();
    let view = w.send(Event::StartRegistration);
    let Screen::TokenDetail { card, first_use } = view.screen else {
        panic!("{view:?}")
    };
    assert_eq!(first_use, Some(softtoken_core::app::FirstUse::Registration));
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::Registered));
    assert!(card.token.serial.starts_with("SKTS"));
    // Read to TalkBack/VoiceOver symbol by symbol, with a pause between the groups.
    assert!(
        card.token.serial_spoken.starts_with("S K T S, "),
        "{}",
        card.token.serial_spoken
    );
    assert_eq!(
        card.token.serial_spoken.replace([' ', ','], ""),
        card.token.serial
    );
    assert!(card.code.is_some());
    assert!(view.can_go_back, "back leads to the token list");

    let w = world_with(|c| c.registration_server = None);
    let view = w.send(Event::StartRegistration);
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::NotConfigured));
}

// --- Token list, states, refresh -----------------------------------------------------

#[test]
fn the_code_follows_the_clock_and_states_come_from_the_server_on_unlock_and_pull() {
    let w = world();
    let serial = w.activate("alice");
    let first = code_of(&w.cards()[0]);
    w.advance(period(&w.cards()[0]));
    w.send(Event::Tick);
    assert_ne!(code_of(&w.cards()[0]), first, "the next step's code");

    // The bank confirmed the first code: a pull says so.
    w.server_says(&serial, TokenStatus::Active);
    w.send(Event::RefreshStates);
    w.wait_refreshed();
    assert_eq!(w.cards()[0].status.key, MessageKey::StatusActive);
    assert_eq!(w.notice(), None, "success says nothing");

    // Revoked while the app was locked: after the unlock it shows why, without a code.
    w.set_pin("2468");
    w.leave();
    assert!(matches!(w.screen(), Screen::Unlock { .. }));
    w.server_says(&serial, TokenStatus::Revoked);
    w.send(unlock_event("2468"));
    w.wait_refreshed();
    let card = &w.cards()[0];
    assert_eq!(card.code, None);
    assert_eq!(card.status.key, MessageKey::StatusRevoked);
    assert_eq!(
        card.why_dead.as_ref().map(|m| m.key),
        Some(MessageKey::DeadRevoked)
    );

    // A dead token is deleted after a confirmation.
    w.send(Event::RequestDelete {
        serial: serial.clone(),
    });
    assert!(matches!(w.screen(), Screen::ConfirmDelete { .. }));
    let view = w.send(Event::ConfirmDelete);
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::TokenDeleted));
    assert_eq!(w.cards(), vec![]);
}

#[test]
fn stopped_and_replaced_tokens_say_why() {
    let w = world();
    let first = w.activate("alice");
    let second = w.activate("bob");
    w.server_says(&first, TokenStatus::Stopped);
    w.server_says(&second, TokenStatus::Replaced);
    w.send(Event::RefreshStates);
    w.wait_refreshed();
    let whys: Vec<_> = w
        .cards()
        .iter()
        .map(|c| c.why_dead.as_ref().map(|m| m.key))
        .collect();
    assert_eq!(
        whys,
        vec![
            Some(MessageKey::DeadStopped),
            Some(MessageKey::DeadReplaced)
        ]
    );
}

#[test]
fn an_unreachable_server_keeps_the_last_states_with_one_quiet_notice() {
    let w = world();
    let serial = w.activate("alice");
    // The token's server goes away: the last known state stays.
    w.server_says(&serial, TokenStatus::Active);
    w.gate.set(Mode::Refuse);
    w.send(Event::RefreshStates);
    let view = w.wait_refreshed();
    assert_eq!(
        view.notice.map(|m| m.key),
        Some(MessageKey::StatesUnreachable)
    );
    assert_eq!(w.cards()[0].status.key, MessageKey::StatusPending);
}

// --- The app lock ---------------------------------------------------------------------

#[test]
fn a_pin_is_set_twice_and_leaving_locks_then_wrong_pins_back_off() {
    let w = world();
    w.activate("alice");
    w.send(Event::OpenSettings);
    w.send(Event::BeginSetPin);
    w.send(pin_event("2468"));
    let view = w.send(pin_event("1357"));
    assert_eq!(error_key(&view.screen), Some(MessageKey::PinMismatch));
    assert!(matches!(
        view.screen,
        Screen::PinEntry {
            step: PinStep::New,
            ..
        }
    ));
    w.send(pin_event("2468"));
    let view = w.send(pin_event("2468"));
    assert!(
        matches!(view.screen, Screen::Settings { lock_on: true, .. }),
        "{view:?}"
    );

    // A glance away does not lock; a longer absence does.
    w.send(Event::Background);
    w.advance(5);
    w.send(Event::Foreground);
    assert!(matches!(w.screen(), Screen::Settings { .. }));
    w.leave();
    let view = w.send(Event::Foreground);
    assert!(matches!(view.screen, Screen::Unlock { .. }));
    assert!(!view.can_go_back);

    let mut wait = 0;
    for _ in 0..5 {
        let view = w.send(unlock_event("0000"));
        if let Screen::Unlock { wait_seconds, .. } = view.screen {
            wait = wait_seconds;
        }
    }
    assert!(wait > 0, "the back-off starts");
    let view = w.send(unlock_event("2468"));
    assert_eq!(
        error_key(&view.screen),
        Some(MessageKey::PinWait),
        "too soon: not tried"
    );
    w.advance(i64::try_from(wait).unwrap());
    w.send(Event::Tick);
    w.send(unlock_event("2468"));
    assert!(matches!(w.screen(), Screen::Tokens { .. }));
}

#[test]
fn change_then_turn_off_the_pin_and_a_forgotten_pin_is_reset() {
    let w = world();
    w.set_pin("2468");
    w.send(Event::BeginChangePin);
    w.send(pin_event("2468"));
    w.send(pin_event("1111"));
    let view = w.send(pin_event("1111"));
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::PinChanged));
    w.send(Event::BeginRemovePin);
    let view = w.send(pin_event("2468"));
    assert_eq!(error_key(&view.screen), Some(MessageKey::WrongPin));
    let view = w.send(pin_event("1111"));
    assert!(matches!(
        view.screen,
        Screen::Settings { lock_on: false, .. }
    ));
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::PinRemoved));

    // Forgotten: the reset deletes every token and the PIN.
    let w = world();
    w.activate("alice");
    w.set_pin("2468");
    w.leave();
    w.send(Event::ForgotPin);
    let view = w.send(Event::ConfirmReset);
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::AppReset));
    assert_eq!(w.cards(), vec![]);
    w.send(Event::OpenSettings);
    assert!(matches!(
        w.screen(),
        Screen::Settings { lock_on: false, .. }
    ));
}

#[test]
fn a_restart_with_the_lock_on_asks_for_the_pin() {
    let w = world();
    w.set_pin("2468");
    let again = App::with_options(
        config(&w.vault, &w.url),
        w.vault.wrapper(),
        w.shell.clone(),
        w.vault.options(),
    );
    again.send(Event::Start);
    assert!(matches!(again.view().screen, Screen::Unlock { .. }));
}

#[test]
fn a_damaged_vault_offers_the_reset() {
    let w = world();
    w.activate("alice");
    std::fs::write(&w.vault.path, b"not a vault").unwrap();
    w.send(Event::Retry);
    let Screen::Broken { message } = w.screen() else {
        panic!("{:?}", w.screen())
    };
    assert_eq!(message.key, MessageKey::CorruptVault);
    w.send(Event::RequestReset);
    w.send(Event::ConfirmReset);
    assert_eq!(w.cards(), vec![]);
}

#[test]
fn biometrics_unlock_beside_the_pin_follow_a_change_and_fall_back_when_biometry_changes() {
    let w = world();
    w.set_pin("2468");
    w.send(Event::BeginEnableBiometric);
    let view = w.send(pin_event("2468"));
    assert!(
        matches!(
            view.screen,
            Screen::Settings {
                biometric_on: true,
                ..
            }
        ),
        "{view:?}"
    );
    assert_eq!(
        w.shell.biometric_pin.lock().unwrap().as_deref(),
        Some(&b"2468"[..])
    );
    w.send(Event::BeginChangePin);
    w.send(pin_event("2468"));
    w.send(pin_event("1357"));
    w.send(pin_event("1357"));
    assert_eq!(
        w.shell.biometric_pin.lock().unwrap().as_deref(),
        Some(&b"1357"[..])
    );

    w.leave();
    assert!(matches!(
        w.screen(),
        Screen::Unlock {
            biometric: true,
            ..
        }
    ));
    w.send(Event::Biometric(BiometricOutcome::Cancelled));
    assert!(matches!(w.screen(), Screen::Unlock { .. }));
    w.send(Event::Biometric(w.shell.prompt()));
    assert!(matches!(w.screen(), Screen::Tokens { .. }));

    w.leave();
    w.send(Event::Biometric(BiometricOutcome::Invalidated));
    assert_eq!(error_key(&w.screen()), Some(MessageKey::BiometryChanged));
    assert!(
        !w.shell.biometric_enrolled(),
        "biometric unlock is gone for good"
    );
    assert!(matches!(
        w.screen(),
        Screen::Unlock {
            biometric: false,
            ..
        }
    ));
    w.send(unlock_event("1357"));
    assert!(matches!(w.screen(), Screen::Tokens { .. }));

    // No biometrics on the device: none offered.
    let w = world();
    w.shell.no_biometrics.store(true, Ordering::SeqCst);
    w.send(Event::OpenSettings);
    assert!(matches!(
        w.screen(),
        Screen::Settings {
            biometric_available: false,
            ..
        }
    ));
    let view = w.send(Event::BeginEnableBiometric);
    assert_eq!(
        view.notice.map(|m| m.key),
        Some(MessageKey::BiometricFailed)
    );
}

#[test]
fn a_link_opened_while_locked_waits_for_the_unlock() {
    let w = world();
    w.set_pin("2468");
    w.leave();
    w.server.enroll("carol", "start-1234");
    let uri = format!(
        "softtoken://activate?server={}&service={SERVICE}&user=carol",
        w.url
    );
    let view = w.send(Event::Scanned { uri });
    assert!(matches!(view.screen, Screen::Unlock { .. }));
    assert_eq!(
        view.notice.map(|m| m.key),
        Some(MessageKey::LinkAfterUnlock)
    );
    w.send(unlock_event("2468"));
    assert!(
        matches!(w.screen(), Screen::ConfirmServer { .. }),
        "{:?}",
        w.screen()
    );
}

#[test]
fn the_scanner_does_not_lock_the_app_but_a_scanner_left_open_too_long_does() {
    let w = world();
    w.set_pin("2468");
    w.send(Event::ScanStarted);
    w.send(Event::Background);
    w.advance(60);
    w.send(Event::Tick);
    assert!(!matches!(w.screen(), Screen::Unlock { .. }));
    w.advance(61);
    w.send(Event::Tick);
    assert!(matches!(w.screen(), Screen::Unlock { .. }));

    let view = w.send(Event::ScanFailed {
        camera_denied: true,
    });
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::CameraDenied));
    // A scanner that cannot run for another reason (no usable camera) says so too.
    let view = w.send(Event::ScanFailed {
        camera_denied: false,
    });
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::ScannerFailed));
}

// --- The clipboard ----------------------------------------------------------------------

#[test]
fn a_copied_code_is_announced_and_cleared_after_60_seconds_only_if_still_ours() {
    let w = world();
    let serial = w.activate("alice");
    let view = w.send(Event::CopyCode {
        serial: serial.clone(),
    });
    let notice = view.notice.unwrap();
    assert_eq!(notice, Message::with(MessageKey::CodeCopied, vec![60]));
    let on_screen = code_of(&w.cards()[0]).replace(' ', "");
    assert_eq!(w.shell.clip(), Some(on_screen));
    w.advance(59);
    w.send(Event::Tick);
    assert!(w.shell.clip().is_some());
    w.advance(1);
    w.send(Event::Tick);
    assert_eq!(w.shell.clip(), None);

    // Someone else's copy stays.
    w.send(Event::CopyCode {
        serial: serial.clone(),
    });
    w.shell.copied_elsewhere("my note");
    w.advance(60);
    w.send(Event::Tick);
    assert_eq!(w.shell.clip().as_deref(), Some("my note"));

    // In the background (clipboard unreadable) it is cleared on time all the same.
    w.send(Event::CopyCode { serial });
    w.shell.unreadable.store(true, Ordering::SeqCst);
    w.send(Event::Background);
    w.advance(60);
    w.send(Event::Tick);
    assert_eq!(w.shell.clip(), None);
}

#[test]
fn locking_the_app_clears_a_copied_code() {
    let w = world();
    let serial = w.activate("alice");
    w.set_pin("2468");
    w.send(Event::Back);
    w.send(Event::CopyCode { serial });
    w.leave();
    assert_eq!(w.shell.clip(), None);
}

// --- 取引確認 ------------------------------------------------------------------------------

fn challenge(service: &str) -> String {
    use softtoken_core::protocol::transaction::{Challenge, TransferDetails};
    let details = TransferDetails::new("1234567890", "ヤマダ タロウ", 50_000, "JPY").unwrap();
    Challenge::new(
        softtoken_core::protocol::ServiceId::new(service).unwrap(),
        "c-1",
        details,
    )
    .unwrap()
    .to_payload()
}

#[test]
fn a_biometric_key_the_platform_cannot_make_is_said_and_never_left_holding_an_old_pin() {
    let w = world();
    w.set_pin("2468");
    w.shell.keystore_broken.store(true, Ordering::SeqCst);
    w.send(Event::BeginEnableBiometric);
    let view = w.send(pin_event("2468"));
    assert_eq!(
        view.notice.as_ref().map(|m| m.key),
        Some(MessageKey::BiometricSetupFailed)
    );
    assert!(
        matches!(
            view.screen,
            Screen::Settings {
                biometric_on: false,
                ..
            }
        ),
        "{view:?}"
    );

    // On, then a PIN change whose re-encryption fails: the key would hold the old PIN.
    w.shell.keystore_broken.store(false, Ordering::SeqCst);
    w.send(Event::BeginEnableBiometric);
    w.send(pin_event("2468"));
    assert!(w.shell.biometric_enrolled());
    w.shell.keystore_broken.store(true, Ordering::SeqCst);
    w.send(Event::BeginChangePin);
    w.send(pin_event("2468"));
    w.send(pin_event("1357"));
    let view = w.send(pin_event("1357"));
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::PinChanged));
    assert!(!w.shell.biometric_enrolled(), "the old PIN is not kept");
    assert!(matches!(
        view.screen,
        Screen::Settings {
            biometric_on: false,
            ..
        }
    ));
}

#[test]
fn a_scanned_transfer_is_confirmed_then_its_code_counts_down_and_is_withdrawn() {
    let w = world();
    let serial = w.activate("alice");
    let view = w.send(Event::Scanned {
        uri: challenge(SERVICE),
    });
    let Screen::SignConfirm { transfer, token } = view.screen else {
        panic!("{view:?}")
    };
    assert_eq!(token.serial, serial);
    assert_eq!(transfer.payee_name, "ヤマダ タロウ");
    assert!(transfer.masked_account.ends_with("7890"));
    let view = w.send(Event::ConfirmTransfer);
    let Screen::SignCode {
        code,
        seconds_left,
        countdown,
        remaining,
        ..
    } = view.screen
    else {
        panic!("{view:?}")
    };
    let code = code.unwrap();
    assert_eq!(code.0.len(), 8);
    assert_eq!(
        code.spoken(),
        code.0
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert_eq!(
        (seconds_left, countdown.as_str(), remaining),
        (300, "5:00", 1.0)
    );
    w.advance(299);
    w.send(Event::Tick);
    let Screen::SignCode {
        seconds_left: 1,
        code: Some(_),
        countdown,
        remaining,
        ..
    } = w.screen()
    else {
        panic!("{:?}", w.screen())
    };
    assert_eq!((countdown.as_str(), remaining), ("0:01", 1.0 / 300.0));
    w.advance(1);
    w.send(Event::Tick);
    assert!(matches!(w.screen(), Screen::SignCode { code: None, .. }));
    w.send(Event::FinishSign);
    assert!(matches!(w.screen(), Screen::Tokens { .. }));
}

#[test]
fn malformed_and_other_banks_challenges_are_refused_and_manual_mode_signs_typed_digits() {
    let w = world();
    let serial = w.activate("alice");
    let refused = |uri: String| match w.send(Event::Scanned { uri }).screen {
        Screen::SignRefused { message } => message.key,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused("softtoken://sign?v=1&bad".into()),
        MessageKey::SignMalformed
    );
    assert_eq!(refused(challenge("otherbank")), MessageKey::SignOtherBank);
    w.send(Event::FinishSign);

    w.send(Event::StartTypedSign {
        serial: serial.clone(),
    });
    let view = w.send(Event::SubmitTypedDigits {
        digits: "12".into(),
    });
    assert_eq!(error_key(&view.screen), Some(MessageKey::SignInvalidDigits));
    let view = w.send(Event::SubmitTypedDigits {
        digits: "123456-567890-50000".into(),
    });
    let Screen::SignCode {
        typed_digits, code, ..
    } = view.screen
    else {
        panic!("{view:?}")
    };
    assert_eq!(typed_digits.as_deref(), Some("12345656789050000"));
    assert!(code.is_some());

    // A revoked token answers no transfer.
    w.send(Event::FinishSign);
    w.server_says(&serial, TokenStatus::Revoked);
    w.send(Event::RefreshStates);
    w.wait_refreshed();
    assert_eq!(refused(challenge(SERVICE)), MessageKey::SignRevoked);
}

// --- Never a stale code ----------------------------------------------------------------

#[test]
fn the_code_changes_on_time_while_a_server_hangs() {
    let w = world_with(|c| c.refresh_budget = Duration::from_secs(5));
    w.activate("alice");
    w.set_pin("2468");
    w.send(Event::Back);
    w.gate.set(Mode::Hang);
    w.leave();
    let view = w.send(unlock_event("2468"));
    assert!(
        view.refreshing,
        "the refresh runs in the background: {view:?}"
    );
    let before = code_of(&w.cards()[0]);
    let period = period(&w.cards()[0]);
    for _ in 0..period {
        w.advance(1);
        let view = w.send(Event::Tick);
        assert!(view.refreshing, "the server still hangs");
    }
    let after = &w.cards()[0];
    assert_ne!(code_of(after), before, "a new code on time");
    let now_s = w.vault.clock.now_unix_ms() / 1000;
    assert_eq!(
        after.code.as_ref().unwrap().seconds_left,
        (period - now_s % period) as u64,
        "the countdown is the clock's"
    );
    // Within its budget the refresh gives up, quietly.
    let view = w.wait_refreshed();
    assert_eq!(
        view.notice.map(|m| m.key),
        Some(MessageKey::StatesUnreachable)
    );
}

#[test]
fn a_time_sync_runs_beside_the_code_and_says_how_it_went() {
    let w = world_with(|c| c.time_sync_budget = Duration::from_secs(5));
    let serial = w.activate("alice");
    w.send(Event::OpenToken {
        serial: serial.clone(),
    });
    w.send(Event::SyncTime {
        serial: serial.clone(),
    });
    let view = w.wait_refreshed();
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::TimeSynced));
    assert!(matches!(view.screen, Screen::TokenDetail { .. }));

    // A server that never answers: the code keeps changing on time, then the sync gives up.
    w.gate.set(Mode::Hang);
    let view = w.send(Event::SyncTime { serial });
    assert!(view.refreshing && !view.busy, "{view:?}");
    let card = |view: ViewState| match view.screen {
        Screen::TokenDetail { card, .. } => card,
        other => panic!("not the token: {other:?}"),
    };
    let before = card(view.clone());
    for _ in 0..period(&before) {
        w.advance(1);
        let view = w.send(Event::Tick);
        assert!(view.refreshing, "the server still hangs");
    }
    assert_ne!(
        code_of(&card(w.app.view())),
        code_of(&before),
        "a new code on time"
    );
    let view = w.wait_refreshed();
    assert_eq!(view.notice.map(|m| m.key), Some(MessageKey::Network));
}

#[test]
fn views_never_show_a_plain_code_or_pin_in_debug() {
    let w = world();
    let serial = w.activate("alice");
    w.send(Event::OpenToken { serial });
    let view = w.app.view();
    let Screen::TokenDetail { card, .. } = &view.screen else {
        panic!()
    };
    let digits = card.code.as_ref().unwrap().grouped.replace(' ', "");
    assert!(!format!("{view:?}").contains(&digits));
    let event = unlock_event("97531");
    assert!(!format!("{event:?}").contains("97531"));
}
