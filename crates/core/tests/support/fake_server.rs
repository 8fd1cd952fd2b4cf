//! An activation server in miniature, built from the protocol crate's server-side
//! functions: enough to test the app side of activation, provisioning and time sync.
//! [`FakeServer`] is a `Transport` (in process); [`serve_http`] puts it behind a real
//! HTTP listener on loopback, for the reqwest edge and the CLI.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use serde::Serialize;
use softtoken_core::enroll::{HttpRequest, HttpResponse, Method, SendError, Transport};
use softtoken_core::protocol::activation::{
    self, FinishRequest, FinishResponse, PasswordKey, StartRequest, StartResponse,
};
use softtoken_core::protocol::problem::{Problem, codes};
use softtoken_core::protocol::provisioning::{self, ProvisioningRequest, ProvisioningResponse};
use softtoken_core::protocol::status::{StatusKey, StatusRequest, TokenStatus, time_in_window};
use softtoken_core::protocol::wire::B64;
use softtoken_core::protocol::{IssuedToken, OtpParams, Serial, SessionKey, UserId};

/// One enrollment waiting for its activation.
struct Enrollment {
    password: String,
    attempts_left: u32,
}

/// What the fake server issued: serial → seed.
pub type Issued = HashMap<Serial, Vec<u8>>;

pub struct FakeServer {
    pub service: String,
    pub issuer: String,
    pub activation_params: OtpParams,
    pub provisioning_params: OtpParams,
    /// Server clock minus the test's device clock.
    pub offset_ms: AtomicI64,
    /// The device clock the test controls (shared with the `Enroller`).
    pub device_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
    enrollments: Mutex<HashMap<String, Enrollment>>,
    sessions: Mutex<HashMap<String, (SessionKey, String)>>,
    pub issued: Mutex<Issued>,
    pub requests: AtomicUsize,
    /// Every request body received, in order.
    pub bodies: Mutex<Vec<Vec<u8>>>,
    /// Answer the next request with this status and body instead.
    pub next_answer: Mutex<Option<(u16, String)>>,
    /// Change the issuer after the MAC is computed (a tampering middlebox).
    pub tamper: Mutex<bool>,
    /// What the status call answers per token (pending when not set).
    pub states: Mutex<HashMap<Serial, TokenStatus>>,
    /// Activation finish requests still to refuse as `serial_taken` (the real server
    /// keeps the activation session then), as if each serial were held already.
    pub serials_taken: AtomicUsize,
}

impl FakeServer {
    pub fn new(device_ms: Arc<dyn Fn() -> i64 + Send + Sync>) -> Arc<Self> {
        Arc::new(FakeServer {
            service: "shinkin".into(),
            issuer: "しんきん銀行".into(),
            activation_params: OtpParams::ACTIVATION,
            provisioning_params: OtpParams::REGISTRATION,
            offset_ms: AtomicI64::new(0),
            device_ms,
            enrollments: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            issued: Mutex::new(HashMap::new()),
            requests: AtomicUsize::new(0),
            bodies: Mutex::new(Vec::new()),
            next_answer: Mutex::new(None),
            tamper: Mutex::new(false),
            states: Mutex::new(HashMap::new()),
            serials_taken: AtomicUsize::new(0),
        })
    }

    /// The bank issues an activation for `user` with `password`.
    pub fn enroll(&self, user: &str, password: &str) {
        self.enrollments.lock().unwrap().insert(
            user.into(),
            Enrollment {
                password: password.into(),
                attempts_left: 5,
            },
        );
    }

    pub fn seed_of(&self, serial: &Serial) -> Vec<u8> {
        self.issued.lock().unwrap()[serial].clone()
    }

    fn now(&self) -> i64 {
        (self.device_ms)() + self.offset_ms.load(Ordering::SeqCst)
    }

    fn issued_token(&self, params: OtpParams) -> IssuedToken {
        IssuedToken {
            issuer: self.issuer.clone(),
            params,
            server_unix_ms: self.now(),
        }
    }

    fn handle(&self, method: Method, path: &str, body: &[u8]) -> (u16, String) {
        self.bodies.lock().unwrap().push(body.to_vec());
        if let Some(answer) = self.next_answer.lock().unwrap().take() {
            return answer;
        }
        match (method, path) {
            (Method::Get, "/v1/time") => ok(&serde_json::json!({ "unix_ms": self.now() })),
            (Method::Post, "/v1/activation/start") => match serde_json::from_slice(body) {
                Ok(req) => self.start(req),
                Err(e) => problem(400, codes::INVALID_REQUEST, &e.to_string()),
            },
            (Method::Post, "/v1/activation/finish") => match serde_json::from_slice(body) {
                Ok(req) => self.finish(req),
                Err(e) => problem(400, codes::INVALID_REQUEST, &e.to_string()),
            },
            (Method::Post, "/v1/provisioning") => match serde_json::from_slice(body) {
                Ok(req) => self.provision(req),
                Err(e) => problem(400, codes::INVALID_REQUEST, &e.to_string()),
            },
            (Method::Post, "/v1/tokens/status") => match serde_json::from_slice(body) {
                Ok(req) => self.status(req),
                Err(e) => problem(400, codes::INVALID_REQUEST, &e.to_string()),
            },
            _ => problem(404, codes::NOT_FOUND, "no such route"),
        }
    }

    /// As the real server: the request's MAC and time checked, the answer MAC'd (and, with
    /// `tamper`, its state changed afterwards).
    fn status(&self, req: StatusRequest) -> (u16, String) {
        let Some(seed) = self.issued.lock().unwrap().get(&req.serial).cloned() else {
            return problem(401, codes::NOT_RECOGNISED, "not recognised");
        };
        let key = StatusKey::derive(&seed);
        if key.check_request(&req).is_err() {
            return problem(401, codes::NOT_RECOGNISED, "not recognised");
        }
        if !time_in_window(req.unix_ms, self.now()) {
            return problem(400, codes::CLOCK_SKEW, "unix_ms: off");
        }
        let state = self
            .states
            .lock()
            .unwrap()
            .get(&req.serial)
            .copied()
            .unwrap_or(TokenStatus::Pending);
        let mut answer = key.response(&req, state, self.now());
        if *self.tamper.lock().unwrap() {
            answer.state = TokenStatus::Active;
        }
        ok(&answer)
    }

    fn start(&self, req: StartRequest) -> (u16, String) {
        // As the real server: an unknown service looks like a user without an enrollment.
        if req.service_id.as_str() != self.service {
            return problem(404, codes::ENROLLMENT_NOT_FOUND, "no enrollment");
        }
        let mut enrollments = self.enrollments.lock().unwrap();
        let Some(enrollment) = enrollments.get_mut(req.user_id.as_str()) else {
            return problem(404, codes::ENROLLMENT_NOT_FOUND, "no enrollment");
        };
        if enrollment.attempts_left == 0 {
            return problem(409, codes::ENROLLMENT_LOCKED, "locked");
        }
        // Every start counts as a guess until a finish proves it right.
        enrollment.attempts_left -= 1;
        let w = PasswordKey::derive(&enrollment.password, &req.service_id, &req.user_id);
        let (message, key) =
            activation::server_respond(&w, &req.service_id, &req.user_id, &req.message.0).unwrap();
        let session_id = format!("s{}", self.requests.load(Ordering::SeqCst));
        let confirmation = B64(key.server_confirmation().to_vec());
        self.sessions
            .lock()
            .unwrap()
            .insert(session_id.clone(), (key, req.user_id.as_str().into()));
        ok(&StartResponse {
            session_id,
            message: B64(message),
            confirmation,
            attempts_left: enrollment.attempts_left,
        })
    }

    /// Whether this request's serial counts as held already (and one fewer will).
    fn serial_taken(&self) -> bool {
        self.serials_taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn finish(&self, req: FinishRequest) -> (u16, String) {
        if self.serial_taken() {
            return problem(409, codes::SERIAL_TAKEN, "serial taken");
        }
        let Some((key, user)) = self.sessions.lock().unwrap().remove(&req.session_id) else {
            return problem(404, codes::SESSION_EXPIRED, "no session");
        };
        if key.check_app_confirmation(&req.confirmation.0).is_err() {
            return problem(403, codes::CONFIRMATION_FAILED, "wrong confirmation");
        }
        self.enrollments.lock().unwrap().remove(&user);
        let token = self.issued_token(self.activation_params);
        let seed = key.seed(&req.serial, token.params.algorithm);
        self.issued
            .lock()
            .unwrap()
            .insert(req.serial.clone(), seed.to_vec());
        let mac = B64(key.token_mac(&req.serial, &token).to_vec());
        let mut response = FinishResponse { token, mac };
        if *self.tamper.lock().unwrap() {
            response.token.issuer = "Evil Bank".into();
        }
        ok(&response)
    }

    fn provision(&self, req: ProvisioningRequest) -> (u16, String) {
        if req.service_id.as_str() != self.service {
            return problem(404, codes::UNKNOWN_SERVICE, "unknown service");
        }
        let serial = Serial::generate();
        let (public, key) = provisioning::server_respond(&req, &serial).unwrap();
        let token = self.issued_token(self.provisioning_params);
        let seed = key.seed(&serial, token.params.algorithm);
        self.issued
            .lock()
            .unwrap()
            .insert(serial.clone(), seed.to_vec());
        let mac = B64(key.token_mac(&serial, &token).to_vec());
        let mut response = ProvisioningResponse {
            serial,
            public_key: B64(public.to_vec()),
            token,
            mac,
        };
        if *self.tamper.lock().unwrap() {
            response.token.params = OtpParams::ACTIVATION;
        }
        ok(&response)
    }
}

fn ok<T: Serialize>(value: &T) -> (u16, String) {
    (200, serde_json::to_string(value).unwrap())
}

pub fn problem(status: u16, code: &str, detail: &str) -> (u16, String) {
    let p = Problem {
        kind: format!("https://softtoken.dev/problems/{code}"),
        title: code.into(),
        status,
        detail: detail.into(),
        code: code.into(),
        retry_after: (code == codes::RATE_LIMITED).then_some(42),
        attempts_left: None,
        digits: None,
    };
    (status, serde_json::to_string(&p).unwrap())
}

/// In process: the path is whatever follows the scheme and authority.
impl Transport for FakeServer {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, SendError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let after_scheme = request.url.split_once("://").map_or("", |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
        let (status, body) = self.handle(
            request.method,
            path,
            request.body.as_deref().unwrap_or_default(),
        );
        Ok(HttpResponse {
            status,
            body: body.into_bytes(),
        })
    }
}

/// Serves `server` over plain HTTP on a loopback port until the test process ends.
pub fn serve_http(server: Arc<FakeServer>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let mut parts = request_line.split_whitespace();
            let method = match parts.next() {
                Some("POST") => Method::Post,
                _ => Method::Get,
            };
            let path = parts.next().unwrap_or("/").to_string();
            server.requests.fetch_add(1, Ordering::SeqCst);
            let (status, body) = server.handle(method, &path, &body);
            let content_type = if status >= 400 && body.contains("\"code\"") {
                "application/problem+json"
            } else {
                "application/json"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

/// Unused user ID helper so tests read naturally.
pub fn user(id: &str) -> UserId {
    UserId::new(id).unwrap()
}
