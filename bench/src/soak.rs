//! `--soak SECONDS`: the mixed scenario held at about half of this machine's capacity for
//! a long time (issue 26 item 3), to show what a short run cannot: errors that appear only
//! after a while, latency that creeps up, memory that does not come back.
//!
//! The capacity is measured first, in the same run (the mixed scenario back to back for
//! `--duration` seconds); the soak then paces its workers to `--soak-load` of it (0.5 by
//! default). Every `--soak-interval` seconds it prints the interval's rate, p50, p99,
//! errors and the process's resident memory (server and load generator share the process;
//! the generator keeps no per-request history, so what grows is the server's), and at the
//! end it writes the series as an SVG plot.
//!
//! The mix covers what a bank's day has: right and wrong codes, token status calls,
//! transfers, activations, enrollments whose activation e-mails the server's outbox sends
//! (to an SMTP sink in this process), and help-desk console pages of a signed-in operator.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use softtoken_protocol::ServiceId;
use softtoken_server::AppState;
use softtoken_server::console::password;
use softtoken_server::console::session::{SESSION_COOKIE, id_hash, random_token};
use softtoken_service::mail::Mailer;
use softtoken_service::mail::smtp::{Smtp, SmtpUrl};
use softtoken_store::audit::AuditKind;
use softtoken_store::console::{NewOperator, OperatorRole, SessionStage};
use softtoken_store::{NewAuditEvent, ServiceMail, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::load::{self, Measured};
use crate::setup::Server;
use crate::{Args, Scenario};

/// What the soak adds to the bench's server.
#[derive(Debug)]
pub struct Extras {
    /// The `Cookie` header of a signed-in help-desk operator of the bench service.
    pub console_cookie: String,
    /// Mails the SMTP sink accepted.
    pub delivered: Arc<AtomicU64>,
}

/// Gives `state` a mailer that delivers to an SMTP sink in this process (with the service's
/// e-mail settings, and the server's sender running), and a signed-in operator session.
pub async fn prepare(
    state: AppState,
    store: &dyn Store,
    service: &ServiceId,
    now: i64,
) -> Result<(AppState, Extras), Box<dyn std::error::Error>> {
    let delivered = Arc::new(AtomicU64::new(0));
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = SmtpUrl::from(format!("smtp://{}", sink.local_addr()?));
    tokio::spawn(smtp_sink(sink, Arc::clone(&delivered)));
    let mailer = Arc::new(Mailer::new(Smtp::new(&url, "otp@bench.example")?));
    // As `softtoken-server service mail` sets them: through the action, audited.
    softtoken_service::actions::set_service_mail(
        store,
        &ServiceMail {
            service_id: service.clone(),
            download_url: "https://bench.example/app".into(),
            ja: None,
            en: None,
            updated_at: now,
        },
        softtoken_server::commands::COMMAND_LINE,
        now,
    )
    .await?;
    let state = state.with_mailer(Some(Arc::clone(&mailer)));
    tokio::spawn(softtoken_service::mail::sender::run(
        state.ctx.clone(),
        mailer,
    ));

    let operator = NewOperator {
        service_id: Some(service.clone()),
        name: "soak-helpdesk".into(),
        role: OperatorRole::Helpdesk,
        password_hash: password::hash("soak-operator-password")?,
    };
    let added = NewAuditEvent::new(service, AuditKind::OperatorAdded, "soak-helpdesk");
    let id = store.add_operator(&operator, &added, now).await?;
    let session = random_token();
    let signed_in = NewAuditEvent::new(service, AuditKind::ConsoleSignIn, "soak-helpdesk");
    store
        .begin_console_session(
            &id_hash(&session),
            id,
            SessionStage::Full,
            Some(service),
            &signed_in,
            now,
        )
        .await?;
    let extras = Extras {
        console_cookie: format!("{SESSION_COOKIE}={}", session.as_str()),
        delivered,
    };
    Ok((state, extras))
}

/// A minimal SMTP server that accepts every mail (the relay a bank's server talks to).
async fn smtp_sink(listener: tokio::net::TcpListener, delivered: Arc<AtomicU64>) {
    while let Ok((stream, _)) = listener.accept().await {
        let delivered = Arc::clone(&delivered);
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            if write.write_all(b"220 soak-sink ESMTP\r\n").await.is_err() {
                return;
            }
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                let reply: &[u8] = if in_data {
                    if line != "." {
                        continue;
                    }
                    in_data = false;
                    delivered.fetch_add(1, Ordering::Relaxed);
                    b"250 2.0.0 queued\r\n"
                } else {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    match verb.as_str() {
                        "EHLO" => b"250-soak-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    }
                };
                if write.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Latencies and errors of the interval running now.
#[derive(Debug, Default)]
pub struct Recorder {
    current: Mutex<Interval>,
}

#[derive(Debug, Default)]
struct Interval {
    latencies_us: Vec<u64>,
    /// The same latencies by kind of operation, to find the one that slows down.
    by_kind: BTreeMap<&'static str, Vec<u64>>,
    errors: u64,
    samples: Vec<String>,
}

impl Recorder {
    /// Records one operation of `kind`: its latency, and its error if it failed.
    pub fn record(&self, kind: &'static str, micros: u64, error: Option<&String>) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match error {
            None => {
                current.latencies_us.push(micros);
                current.by_kind.entry(kind).or_default().push(micros);
            }
            Some(e) => {
                current.errors += 1;
                if current.samples.len() < 3 {
                    current.samples.push(e.clone());
                }
            }
        }
    }

    fn take(&self) -> Interval {
        std::mem::take(&mut *self.current.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// One interval of the soak, as printed and plotted.
#[derive(Debug, Clone)]
struct Point {
    /// Seconds since the soak started, at the interval's end.
    at_s: f64,
    ops_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    rss_mib: f64,
}

/// The process's resident memory in MiB, or 0 where `/proc` has none.
fn rss_mib() -> f64 {
    crate::flood::rss_kib() as f64 / 1024.0
}

/// The `p` quantile (0–1) of sorted microseconds, in ms; 0 for an interval without any.
fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    crate::report::percentile_ms(sorted_us, p * 100.0).max(0.0)
}

/// Measures the mix's capacity, then holds `--soak-load` of it for `--soak` seconds.
pub fn run(
    args: &Args,
    server: &Arc<Server>,
    client_rt: &tokio::runtime::Runtime,
    ceiling: &Measured,
) -> Result<(), Box<dyn std::error::Error>> {
    let capacity = client_rt.block_on(load::drive(Arc::clone(server), args, Scenario::Mixed))?;
    let capacity_rate = capacity.latencies_us.len() as f64 / capacity.elapsed.as_secs_f64();
    let ceiling_rate = ceiling.latencies_us.len() as f64 / ceiling.elapsed.as_secs_f64();
    let target = capacity_rate * args.soak_load;
    println!(
        "soak: the mix's capacity {capacity_rate:.0} ops/s ({:.0}% of the {ceiling_rate:.0}/s \
         ceiling, {} errors); holding {target:.0} ops/s ({:.0}%) for {} s, C = {}",
        100.0 * capacity_rate / ceiling_rate,
        capacity.errors,
        args.soak_load * 100.0,
        args.soak,
        args.concurrency
    );
    println!(
        "| t s | ops/s | p50 ms | p99 ms | errors | RSS MiB | slowest p99 |\n\
         |---:|---:|---:|---:|---:|---:|---|"
    );
    let recorder = Arc::new(Recorder::default());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.soak);
    let start_rss = rss_mib();
    let soak = {
        let (server, recorder) = (Arc::clone(server), Arc::clone(&recorder));
        let concurrency = args.concurrency;
        client_rt.spawn(async move {
            load::drive_until(
                server,
                concurrency,
                Scenario::Mixed,
                deadline,
                Some((target, recorder)),
            )
            .await
            .map_err(|e| e.to_string())
        })
    };
    let mut points = Vec::new();
    let mut samples = Vec::new();
    let (mut first_kinds, mut last_kinds) = (None, BTreeMap::new());
    let interval = Duration::from_secs(args.soak_interval.max(1));
    let mut last = started;
    while last < deadline {
        let next = (last + interval).min(deadline);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let mut taken = recorder.take();
        let seconds = next.duration_since(last).as_secs_f64().max(0.001);
        last = next;
        taken.latencies_us.sort_unstable();
        let by_kind: BTreeMap<&'static str, (f64, f64)> = taken
            .by_kind
            .iter_mut()
            .map(|(kind, us)| {
                us.sort_unstable();
                (*kind, (percentile_ms(us, 0.50), percentile_ms(us, 0.99)))
            })
            .collect();
        let slowest = by_kind
            .iter()
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1))
            .map_or(String::new(), |(kind, (_, p99))| {
                format!("{kind} {p99:.0} ms")
            });
        let point = Point {
            at_s: next.duration_since(started).as_secs_f64(),
            ops_per_s: (taken.latencies_us.len() as u64 + taken.errors) as f64 / seconds,
            p50_ms: percentile_ms(&taken.latencies_us, 0.50),
            p99_ms: percentile_ms(&taken.latencies_us, 0.99),
            errors: taken.errors,
            rss_mib: rss_mib(),
        };
        println!(
            "| {:.0} | {:.0} | {:.2} | {:.2} | {} | {:.1} | {slowest} |",
            point.at_s, point.ops_per_s, point.p50_ms, point.p99_ms, point.errors, point.rss_mib
        );
        first_kinds.get_or_insert_with(|| by_kind.clone());
        last_kinds = by_kind;
        samples.extend(taken.samples);
        points.push(point);
    }
    let finished = client_rt.block_on(soak)??;
    let tail = recorder.take();
    let errors: u64 = points.iter().map(|p| p.errors).sum::<u64>() + tail.errors;
    samples.extend(tail.samples);
    // Let the outbox drain before counting what the sink got.
    std::thread::sleep(Duration::from_secs(2));
    let end_rss = rss_mib();
    let mails = server
        .soak
        .as_ref()
        .map_or(0, |e| e.delivered.load(Ordering::Relaxed));
    let first = points.first().map_or(start_rss, |p| p.rss_mib);
    println!(
        "soak summary: {} s, {:.0} ops/s on average, {errors} errors, {} worker errors; RSS \
         {start_rss:.1} MiB at the start, {first:.1} after the first interval, {end_rss:.1} at \
         the end ({:+.1}% from the first interval); {mails} activation e-mails delivered",
        args.soak,
        points.iter().map(|p| p.ops_per_s).sum::<f64>() / points.len().max(1) as f64,
        finished.errors,
        100.0 * (end_rss - first) / first.max(0.001)
    );
    println!(
        "| operation | p50 ms first → last interval | p99 ms first → last interval |\n\
         |---|---|---|"
    );
    for (kind, (p50, p99)) in first_kinds.unwrap_or_default() {
        let (p50_last, p99_last) = last_kinds.get(kind).copied().unwrap_or_default();
        println!("| {kind} | {p50:.2} → {p50_last:.2} | {p99:.1} → {p99_last:.1} |");
    }
    for sample in samples.iter().take(5) {
        println!("  error: {sample}");
    }
    if let Some(path) = &args.soak_plot {
        let title = format!(
            "softtoken-bench --soak {} on {} ({} tokens, C = {}, {:.0}% of the mix's \
             {capacity_rate:.0} ops/s), {}",
            args.soak,
            server.backend,
            server.tokens,
            args.concurrency,
            args.soak_load * 100.0,
            crate::report::cpu_model()
        );
        std::fs::write(path, svg(&title, &points))?;
        println!("soak plot: {}", path.display());
    }
    if errors > 0 {
        return Err(format!("the soak saw {errors} errors").into());
    }
    Ok(())
}

/// Three stacked line charts (rate; p50 and p99; resident memory) over time, as SVG.
fn svg(title: &str, points: &[Point]) -> String {
    const W: f64 = 900.0;
    const PANEL: f64 = 170.0;
    const LEFT: f64 = 70.0;
    const TOP: f64 = 40.0;
    const GAP: f64 = 40.0;
    let t_max = points.last().map_or(1.0, |p| p.at_s).max(1.0);
    let mut out = String::new();
    let height = TOP + 3.0 * (PANEL + GAP) + 10.0;
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" \
         fill=\"white\"/>\n<text x=\"{LEFT}\" y=\"20\" font-size=\"13\">{}</text>\n",
        escape(title)
    );
    type Series<'a> = (&'a str, &'a str, fn(&Point) -> f64);
    let panels: [(&str, Vec<Series>); 3] = [
        ("ops/s", vec![("ops/s", "#1f77b4", |p: &Point| p.ops_per_s)]),
        (
            "latency ms",
            vec![
                ("p50", "#2ca02c", |p: &Point| p.p50_ms),
                ("p99", "#d62728", |p: &Point| p.p99_ms),
            ],
        ),
        ("RSS MiB", vec![("RSS", "#9467bd", |p: &Point| p.rss_mib)]),
    ];
    for (i, (label, series)) in panels.iter().enumerate() {
        let y0 = TOP + i as f64 * (PANEL + GAP);
        let y_max = series
            .iter()
            .flat_map(|(_, _, f)| points.iter().map(f))
            .fold(0.0_f64, f64::max)
            .max(0.001)
            * 1.15;
        let _ = write!(
            out,
            "<rect x=\"{LEFT}\" y=\"{y0}\" width=\"{}\" height=\"{PANEL}\" fill=\"none\" \
             stroke=\"#999\"/>\n<text x=\"5\" y=\"{}\">{label}</text>\n<text x=\"{}\" \
             y=\"{}\" text-anchor=\"end\">{y_max:.1}</text>\n<text x=\"{}\" y=\"{}\" \
             text-anchor=\"end\">0</text>\n<text x=\"{}\" y=\"{}\" \
             text-anchor=\"end\">{t_max:.0} s</text>\n",
            W - LEFT - 20.0,
            y0 + PANEL / 2.0,
            LEFT - 4.0,
            y0 + 12.0,
            LEFT - 4.0,
            y0 + PANEL,
            W - 20.0,
            y0 + PANEL + 14.0
        );
        for (k, (name, colour, f)) in series.iter().enumerate() {
            let coords: Vec<String> = points
                .iter()
                .map(|p| {
                    let x = LEFT + (W - LEFT - 20.0) * p.at_s / t_max;
                    let y = y0 + PANEL - PANEL * f(p) / y_max;
                    format!("{x:.1},{y:.1}")
                })
                .collect();
            let _ = write!(
                out,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" \
                 points=\"{}\"/>\n<text x=\"{}\" y=\"{}\" fill=\"{colour}\">{name}</text>\n",
                coords.join(" "),
                LEFT + 8.0 + 50.0 * k as f64,
                y0 + 14.0
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_ranked_sample() {
        let sorted: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&sorted, 0.50), 50.0);
        assert_eq!(percentile_ms(&sorted, 0.99), 99.0);
        assert_eq!(percentile_ms(&[], 0.99), 0.0);
    }

    #[test]
    fn the_plot_has_a_line_per_series_and_escapes_its_title() {
        let points: Vec<Point> = (1..=3)
            .map(|i| Point {
                at_s: 10.0 * f64::from(i),
                ops_per_s: 100.0,
                p50_ms: 1.0,
                p99_ms: 5.0,
                errors: 0,
                rss_mib: 50.0 + f64::from(i),
            })
            .collect();
        let svg = svg("a <b> & c", &points);
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}
