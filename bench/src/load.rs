//! The load generator: C workers sending requests back to back for D seconds, each
//! timing its own requests.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};
use softtoken_protocol::activation::{AppActivation, FinishRequest, PasswordKey, StartResponse};
use softtoken_protocol::otp::totp;
use softtoken_protocol::status::{NONCE_LEN, StatusKey};
use softtoken_protocol::transaction::Challenge;
use softtoken_protocol::wire::B64;
use softtoken_protocol::{OtpParams, Serial, UserId};
use softtoken_service::clock::Clock;

use crate::setup::{API_KEY, PERIOD, Server, enrollment_user, seed, token_user};
use crate::{Args, Scenario};

/// What one scenario measured.
#[derive(Debug, Default)]
pub struct Measured {
    /// Latency of every successful operation, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
    /// Operations that failed: transport errors, non-2xx answers, or answers other than
    /// the scenario expects (a valid code refused, a wrong one accepted).
    pub errors: u64,
    /// The first few error descriptions, for the report.
    pub samples: Vec<String>,
    /// How long the workers ran.
    pub elapsed: Duration,
}

/// Hands out (token, step) pairs so that each token is used once per time step.
///
/// Tokens are taken round the ring, carrying on where the last step stopped, so that a
/// token comes up again only after all the others. Starting each step at token 0 made the
/// same few tokens recur step after step, and a request still in flight from one step could
/// then lose the race to the same token's next code: a "reused" answer that was the load
/// generator's doing, not the server's.
pub struct Steps {
    clock: Arc<dyn Clock>,
    tokens: usize,
    /// The step being handed out, the next token (an index into the ring) and how many
    /// tokens this step has had.
    next: Mutex<(i64, usize, usize)>,
}

impl Steps {
    /// Hands out the steps of `tokens` tokens on `clock`. One per server: a (token, step)
    /// given out in one scenario must not come up again in the next.
    pub fn new(clock: Arc<dyn Clock>, tokens: usize) -> Self {
        Steps {
            clock,
            tokens,
            next: Mutex::new((i64::MIN, 0, 0)),
        }
    }

    /// A token not yet used in the current step, or how long to wait for the next one.
    fn claim(&self) -> Result<(usize, i64), Duration> {
        let now = self.clock.now_ms();
        let step = now / 1000 / PERIOD;
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        if next.0 != step {
            *next = (step, next.1, 0);
        }
        if next.2 < self.tokens {
            let token = next.1;
            next.1 = (token + 1) % self.tokens;
            next.2 += 1;
            Ok((token, step))
        } else {
            // Virtual milliseconds to the next step, in real time (at least 1 ms).
            let left = (step + 1) * PERIOD * 1000 - now;
            Err(Duration::from_millis(
                u64::try_from(left).unwrap_or(1).max(1),
            ))
        }
    }
}

struct Worker {
    client: reqwest::Client,
    base: String,
    server: Arc<Server>,
    /// Operations this worker has done (picks the mixed scenario's next operation).
    done: usize,
    /// The soak's pacing and per-interval recorder; `None`: back to back.
    paced: Option<Paced>,
}

/// How a soak worker paces itself: one operation every `every`, starting at `first`, and
/// where it records each one.
#[derive(Clone)]
pub struct Paced {
    /// When this worker's first operation is due.
    pub first: Instant,
    /// The time between two of its operations.
    pub every: Duration,
    /// Where latencies and errors go, interval by interval.
    pub recorder: Arc<crate::soak::Recorder>,
}

/// Runs `scenario` against `server` as `args` says.
pub async fn drive(
    server: Arc<Server>,
    args: &Args,
    scenario: Scenario,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    drive_until(server, args.concurrency, scenario, deadline, None).await
}

/// Runs `scenario` with `concurrency` workers until `deadline`; with `rate` (operations
/// per second in all, and a recorder), each worker is paced to its share of it.
pub async fn drive_until(
    server: Arc<Server>,
    concurrency: usize,
    scenario: Scenario,
    deadline: Instant,
    rate: Option<(f64, Arc<crate::soak::Recorder>)>,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .no_proxy()
        .build()?;
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for k in 0..concurrency {
        let paced = rate.as_ref().map(|(rate, recorder)| {
            // Each worker's share of the rate, the workers spread over one period.
            let every = Duration::from_secs_f64(concurrency as f64 / rate.max(0.001));
            Paced {
                first: started + every.mul_f64(k as f64 / concurrency as f64),
                every,
                recorder: Arc::clone(recorder),
            }
        });
        let worker = Worker {
            client: client.clone(),
            base: format!("http://{}", server.addr),
            server: Arc::clone(&server),
            done: k,
            paced,
        };
        workers.push(tokio::spawn(worker.run(scenario, deadline)));
    }
    let mut total = Measured::default();
    for worker in workers {
        let part = worker.await?;
        total.latencies_us.extend(part.latencies_us);
        total.errors += part.errors;
        for sample in part.samples {
            if total.samples.len() < 5 {
                total.samples.push(sample);
            }
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    Ok(total)
}

/// The kind of the mixed scenario's `done`-th operation (see [`Worker::mixed`]), for the
/// soak's per-operation latencies.
pub fn mixed_kind(done: usize) -> &'static str {
    match done % 20 {
        0..=6 => "right code",
        7..=9 => "wrong code",
        10..=12 => "status",
        13..=14 => "transfer",
        15 => "activation",
        16 => "enrollment",
        17..=18 => "console page",
        _ => "time",
    }
}

impl Worker {
    async fn run(mut self, scenario: Scenario, deadline: Instant) -> Measured {
        let mut out = Measured::default();
        let mut due = self.paced.as_ref().map(|p| p.first);
        while Instant::now() < deadline {
            if let (Some(at), Some(paced)) = (due, &self.paced) {
                // Open loop: a late worker does not catch up in a burst, it skips ahead.
                let now = Instant::now();
                if at > now {
                    tokio::time::sleep((at - now).min(deadline - now)).await;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                due = Some(at.max(now) + paced.every);
            }
            let began = Instant::now();
            self.done += 1;
            let outcome = match scenario {
                Scenario::Mixed => self.mixed().await,
                Scenario::Time => self.time().await,
                Scenario::Valid => match self.server.steps.claim() {
                    Ok((token, step)) => self.verify(token, step, true).await,
                    Err(wait) => {
                        tokio::time::sleep(wait.min(deadline - Instant::now())).await;
                        continue;
                    }
                },
                Scenario::Invalid => {
                    let token = rand::thread_rng().gen_range(0..self.server.tokens);
                    let step = self.server.clock.now_ms() / 1000 / PERIOD;
                    self.verify(token, step, false).await
                }
                Scenario::Transaction => {
                    let token = rand::thread_rng().gen_range(0..self.server.tokens);
                    self.transaction(token).await
                }
                // Driven by `flood::run`, with its own report.
                Scenario::ConsoleFlood => break,
                Scenario::Activation => {
                    let i = self.server.next_enrollment.fetch_add(1, Ordering::Relaxed);
                    if i >= self.server.enrollments.len() {
                        break;
                    }
                    self.activate(i).await
                }
            };
            let micros = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
            if let Some(paced) = &self.paced {
                let kind = match scenario {
                    Scenario::Mixed => mixed_kind(self.done),
                    _ => "other",
                };
                paced.recorder.record(kind, micros, outcome.as_ref().err());
            }
            match outcome {
                // A soak keeps no latency list of its own: its recorder keeps one interval.
                Ok(()) if self.paced.is_some() => {}
                Ok(()) => out.latencies_us.push(micros),
                Err(e) => {
                    out.errors += 1;
                    if out.samples.len() < 5 {
                        out.samples.push(e);
                    }
                }
            }
        }
        out
    }

    /// One operation of the mixed scenario, in fixed proportions out of 20: 7 right codes
    /// (a status call when no token has a fresh step left), 3 wrong codes, 3 status calls,
    /// 2 transfers (create + verify), 1 activation (start + finish), 1 enrollment with its
    /// activation e-mail, 2 console pages, 1 `GET /v1/time`.
    async fn mixed(&self) -> Result<(), String> {
        let token = rand::thread_rng().gen_range(0..self.server.tokens);
        let step = self.server.clock.now_ms() / 1000 / PERIOD;
        match self.done % 20 {
            0..=6 => match self.server.steps.claim() {
                Ok((token, step)) => self.verify(token, step, true).await,
                Err(_) => self.status(token).await,
            },
            7..=9 => self.verify(token, step, false).await,
            10..=12 => self.status(token).await,
            13..=14 => self.transaction(token).await,
            15 => {
                let i = self.server.next_enrollment.fetch_add(1, Ordering::Relaxed);
                if i < self.server.enrollments.len() {
                    self.activate(i).await
                } else {
                    self.enroll_with_mail().await
                }
            }
            16 => self.enroll_with_mail().await,
            17..=18 => self.console(token).await,
            _ => self.time().await,
        }
    }

    /// One token status call (`POST /v1/tokens/status`), as the app makes it on open.
    async fn status(&self, token: usize) -> Result<(), String> {
        let key = StatusKey::derive(&seed(token));
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill(&mut nonce);
        let request = key.request(
            &self.server.serials[token],
            self.server.clock.now_ms(),
            nonce,
        );
        let body = serde_json::to_value(&request).map_err(|e| e.to_string())?;
        let reply = self.post("/v1/tokens/status", false, &body).await?;
        if reply["state"] == "active" {
            Ok(())
        } else {
            Err(format!("expected state active, got {reply}"))
        }
    }

    /// One enrollment for a new user with an e-mail address: the bank's call, which queues
    /// the activation e-mail in the same commit (the server's sender delivers it to the
    /// soak's SMTP sink).
    async fn enroll_with_mail(&self) -> Result<(), String> {
        let n = self.server.next_enrollment.fetch_add(1, Ordering::Relaxed);
        let user = format!("m{n}");
        let path = format!("/v1/services/{}/enrollments", self.server.service);
        let body = json!({"user_id": user, "start_password": "soak-2468",
            "email": format!("{user}@bench.example")});
        let reply = self.post(&path, true, &body).await?;
        if reply["email_queued"] == true {
            Ok(())
        } else {
            Err(format!("expected email_queued, got {reply}"))
        }
    }

    /// One help-desk console page: the user page of token `token`'s customer, signed in.
    async fn console(&self, token: usize) -> Result<(), String> {
        let Some(extras) = &self.server.soak else {
            return Err("the console needs the soak's operator session".into());
        };
        let response = self
            .client
            .get(format!("{}/console/users/{}", self.base, token_user(token)))
            .header("Cookie", &extras.console_cookie)
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status();
        let page = response
            .text()
            .await
            .map_err(|e| format!("{status}: unreadable page: {e}"))?;
        if status.is_success() && page.contains(&token_user(token)) {
            Ok(())
        } else {
            Err(format!("console user page: {status}"))
        }
    }

    async fn post(&self, path: &str, bearer: bool, body: &Value) -> Result<Value, String> {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if bearer {
            request = request.bearer_auth(API_KEY);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| format!("{status}: unreadable body: {e}"))?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{status}: {body}"))
        }
    }

    /// One `GET /v1/time`.
    async fn time(&self) -> Result<(), String> {
        let response = self
            .client
            .get(format!("{}/v1/time", self.base))
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| format!("{status}: unreadable body: {e}"))?;
        if status.is_success() && body["unix_ms"].is_i64() {
            Ok(())
        } else {
            Err(format!("{status}: {body}"))
        }
    }

    /// One verification of token `token`'s code at `step` (or a wrong one).
    async fn verify(&self, token: usize, step: i64, right: bool) -> Result<(), String> {
        let seconds = u64::try_from(step * PERIOD).map_err(|e| e.to_string())?;
        let code = totp(&seed(token), &OtpParams::REGISTRATION, seconds).to_string();
        let otp = if right {
            code
        } else {
            // A code no step near this one has (the server accepts a neighbouring step's,
            // and at --clock-speed its step may have moved on by the time it checks): the
            // last digit moved until it matches none of them.
            let near: Vec<String> = (step - 2..=step + 2)
                .filter_map(|s| u64::try_from(s * PERIOD).ok())
                .map(|at| totp(&seed(token), &OtpParams::REGISTRATION, at).to_string())
                .collect();
            let n: u32 = code.parse().map_err(|_| "non-numeric code".to_string())?;
            (1..10)
                .map(|d| format!("{:06}", (n / 10) * 10 + (n % 10 + d) % 10))
                .find(|wrong| !near.contains(wrong))
                .ok_or_else(|| "no wrong code left".to_string())?
        };
        let path = format!(
            "/v1/services/{}/users/{}/verify",
            self.server.service,
            token_user(token)
        );
        let reply = self.post(&path, true, &json!({ "otp": otp })).await?;
        let expected = if right { "ok" } else { "invalid" };
        if reply["reason"] == expected {
            Ok(())
        } else {
            Err(format!("expected {expected}, got {reply}"))
        }
    }

    /// One transfer challenge for token `token`'s user: create, sign as the app does, verify.
    async fn transaction(&self, token: usize) -> Result<(), String> {
        let path = format!(
            "/v1/services/{}/users/{}/transactions",
            self.server.service,
            token_user(token)
        );
        // The longest life a challenge may have: the server's clock may run many times faster
        // than real time here (`--clock-speed`), and a challenge that outlives the round trip
        // only in virtual time is answered `expired`, rightly.
        let details = json!({"payee_account": "0012-3456789", "payee_name": "ヤマダ タロウ",
            "amount": 50_000, "currency": "JPY", "ttl_seconds": 900});
        let created_at = self.server.clock.now_ms();
        let created = self.post(&path, true, &details).await?;
        let (Some(id), Some(payload)) = (created["id"].as_str(), created["payload"].as_str())
        else {
            return Err(format!("no id or payload in {created}"));
        };
        let code = Challenge::from_payload(payload)
            .map_err(|e| e.to_string())?
            .response(&seed(token))
            .to_string();
        let reply = self
            .post(
                &format!("{path}/{id}/verify"),
                true,
                &json!({ "otp": code }),
            )
            .await?;
        if reply["reason"] == "ok" {
            Ok(())
        } else {
            let virtual_ms = self.server.clock.now_ms() - created_at;
            Err(format!(
                "expected ok, got {reply} ({virtual_ms} ms of server time after the create)"
            ))
        }
    }

    /// One full activation of enrollment `i`: start, then finish.
    async fn activate(&self, i: usize) -> Result<(), String> {
        let user = UserId::new(enrollment_user(i)).map_err(|e| e.to_string())?;
        let w = PasswordKey::from_bytes(self.server.enrollments[i]);
        let (app, start) = AppActivation::start(&w, self.server.service.clone(), user);
        let body = serde_json::to_value(&start).map_err(|e| e.to_string())?;
        let reply = self.post("/v1/activation/start", false, &body).await?;
        let started: StartResponse =
            serde_json::from_value(reply).map_err(|e| format!("start answer: {e}"))?;
        let key = app
            .finish(&started)
            .map_err(|e| format!("SPAKE2 finish: {e}"))?;
        let finish = FinishRequest {
            session_id: started.session_id,
            confirmation: B64(key.app_confirmation().to_vec()),
            serial: Serial::generate(),
        };
        let body = serde_json::to_value(&finish).map_err(|e| e.to_string())?;
        self.post("/v1/activation/finish", false, &body).await?;
        Ok(())
    }
}
