//! The `console-flood` scenario (issue 22, finding 2): C workers sign in to the console
//! with unknown names back to back, each from its own `X-Forwarded-For` address (the bench
//! server trusts loopback as its proxy), each with its own CSRF pair, for D seconds. Beside
//! them a real operator signs in every half second from an address of their own. Reported:
//! the process's resident memory (`VmRSS` of `/proc/self/status`: the server and the load
//! generator share this process) before, at its peak (sampled every 20 ms) and 5 s after;
//! the flood's answers by status; the real operator's sign-in latency and answers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Args;
use crate::setup::{OPERATOR, OPERATOR_PASSWORD, Server};

/// How long after the flood the memory is read again.
const SETTLE: Duration = Duration::from_secs(5);
/// How often the real operator signs in during the flood.
const OPERATOR_EVERY: Duration = Duration::from_millis(500);
/// What the issue asks: the flood grows the process by less than this…
const GROWTH_TARGET_MIB: f64 = 256.0;
/// …and a real operator's sign-in answers within this.
const OPERATOR_TARGET_MS: f64 = 2_000.0;

/// The process's resident memory in KiB (0 where `/proc` has none).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// One sign-in from `from`: the form's CSRF pair first, then the POST. The status and
/// how long the POST took.
async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    from: &str,
    name: &str,
    password: &str,
    device: Option<&str>,
) -> Result<(u16, Duration), String> {
    let form = client
        .get(format!("{base}/console/login"))
        .header("x-forwarded-for", from)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let cookie = form
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("no CSRF cookie")?
        .to_owned();
    let page = form.text().await.map_err(|e| e.to_string())?;
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).ok_or("no CSRF field")? + marker.len();
    let csrf = page[at..]
        .split('"')
        .next()
        .ok_or("no CSRF value")?
        .to_owned();
    let cookie = match device {
        Some(device) => format!("{cookie}; {device}"),
        None => cookie,
    };
    let began = Instant::now();
    let answer = client
        .post(format!("{base}/console/login"))
        .header("x-forwarded-for", from)
        .header("cookie", cookie)
        .form(&[("name", name), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = answer.status().as_u16();
    // Read the body, as a browser would, before timing stops.
    let _ = answer.bytes().await;
    Ok((status, began.elapsed()))
}

/// The real operator's sign-ins of one kind: how many, answered how, how fast.
fn operator_line(attempts: &[Result<(u16, Duration), String>], from: &str) -> String {
    let mut ms: Vec<f64> = Vec::new();
    let mut answers: BTreeMap<String, u64> = BTreeMap::new();
    for attempt in attempts {
        match attempt {
            Ok((status, took)) => {
                ms.push(took.as_secs_f64() * 1000.0);
                *answers.entry(status.to_string()).or_default() += 1;
            }
            Err(e) => *answers.entry(format!("error {e}")).or_default() += 1,
        }
    }
    ms.sort_by(f64::total_cmp);
    let pick = |p: f64| -> f64 {
        if ms.is_empty() {
            return f64::NAN;
        }
        let i = ((ms.len() - 1) as f64 * p).round() as usize;
        ms[i]
    };
    let max = ms.last().copied().unwrap_or(f64::NAN);
    let answers: Vec<String> = answers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(
        "  real operator's sign-ins during the flood {from}: {} (200 = password accepted; {}), \
         p50 {:.0} ms, max {max:.0} ms (target < {OPERATOR_TARGET_MS:.0} ms: {})",
        attempts.len(),
        answers.join(", "),
        pick(0.5),
        if max < OPERATOR_TARGET_MS {
            "met"
        } else {
            "MISSED"
        },
    )
}

/// Runs the flood; its report.
pub async fn run(server: Arc<Server>, args: &Args) -> Result<String, Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .no_proxy()
        .build()?;
    let base = format!("http://{}", server.addr);
    // Argon2's decoy hash and the first allocations out of the way, then the baseline.
    let _ = sign_in(
        &client,
        &base,
        "192.0.2.9",
        "warm-up",
        "warm-up password",
        None,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib();
    let peak = Arc::new(AtomicU64::new(before));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, running) = (Arc::clone(&peak), Arc::clone(&running));
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let statuses: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let mut workers = Vec::with_capacity(args.concurrency);
    for w in 0..args.concurrency {
        let (client, base, statuses) = (client.clone(), base.clone(), Arc::clone(&statuses));
        let fresh = args.flood_fresh_addresses;
        workers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                // 10.x.y.z: one address per worker, or (IPv6, 2001:db8::/32) one per
                // request, each in a /64 of its own.
                let from = if fresh {
                    format!("2001:db8:{:x}:{:x}::1", w, n & 0xffff)
                } else {
                    format!("10.{}.{}.{}", (w >> 16) & 255, (w >> 8) & 255, w & 255)
                };
                let name = format!("nobody-{w}-{n}");
                let key =
                    match sign_in(&client, &base, &from, &name, "not the password", None).await {
                        Ok((status, _)) => status.to_string(),
                        Err(_) => "transport error".to_owned(),
                    };
                *statuses
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(key)
                    .or_default() += 1;
            }
        }));
    }
    // The real operator, alternately from a browser they signed in from before (its device
    // cookie) and from a new one.
    let (mut known, mut stranger) = (Vec::new(), Vec::new());
    while Instant::now() + OPERATOR_EVERY < deadline {
        tokio::time::sleep(OPERATOR_EVERY).await;
        let with_device = known.len() <= stranger.len();
        let device = with_device.then_some(server.operator_device.as_str());
        let attempt = sign_in(
            &client,
            &base,
            "192.0.2.1",
            OPERATOR,
            OPERATOR_PASSWORD,
            device,
        )
        .await;
        if with_device {
            known.push(attempt);
        } else {
            stranger.push(attempt);
        }
    }
    for worker in workers {
        worker.await?;
    }
    let flood_peak = peak.load(Ordering::Relaxed);
    tokio::time::sleep(SETTLE).await;
    running.store(false, Ordering::Relaxed);
    sampler.await?;
    let after = rss_kib();

    let mut out = String::new();
    let growth = mib(flood_peak.saturating_sub(before));
    writeln!(
        out,
        "console-flood ({}, C = {}, D = {} s, password checks at once: {}, flood addresses: {}): RSS before {:.0} MiB, \
         peak {:.0} MiB (+{growth:.0} MiB; target < {GROWTH_TARGET_MIB:.0}: {}), {} s after {:.0} MiB \
         (+{:.0} MiB over before)",
        server.backend,
        args.concurrency,
        args.duration,
        if args.sign_in_permits == 0 {
            "one per core".to_owned()
        } else {
            args.sign_in_permits.to_string()
        },
        if args.flood_fresh_addresses {
            "a fresh one per sign-in"
        } else {
            "one per worker"
        },
        mib(before),
        mib(flood_peak),
        if growth < GROWTH_TARGET_MIB {
            "met"
        } else {
            "MISSED"
        },
        SETTLE.as_secs(),
        mib(after),
        mib(after).max(mib(before)) - mib(before),
    )?;
    let statuses = statuses.lock().unwrap_or_else(|e| e.into_inner());
    let total: u64 = statuses.values().sum();
    let by_status: Vec<String> = statuses.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    writeln!(
        out,
        "  flood sign-ins answered: {total} ({:.0}/s; {})",
        total as f64 / args.duration as f64,
        by_status.join(", ")
    )?;
    for (attempts, from) in [
        (&known, "from a known browser (device cookie)"),
        (&stranger, "from a new browser"),
    ] {
        writeln!(out)?;
        write!(out, "{}", operator_line(attempts, from))?;
    }
    Ok(out)
}
