//! What the bench prints: the conditions of the run (CPU model included) and one Markdown
//! table row per scenario, with its rate as a fraction of the same run's no-database
//! ceiling and each number set against its target (issue 12).

use crate::load::Measured;
use crate::pgbench::{self, Pgbench};
use crate::setup::Server;
use crate::{Args, Scenario};

/// The table's header.
pub const HEADER: &str = "| backend | tokens | C | scenario | ops | ops/s | of ceiling | p50 ms | p99 ms | p99.9 ms | errors | target |\n\
     |---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|";

/// p99 latency target for verification, in milliseconds.
const P99_TARGET_MS: f64 = 10.0;

/// The machine and the run's settings.
pub fn conditions(args: &Args) -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!(
        "softtoken-bench: database {}, {} tokens, concurrency {}, {} s per scenario; \
         CPU {} ({cores} CPUs), server threads {}, load-generator threads {}; load average \
         before: {}",
        if args.database == "sqlite" {
            "sqlite (temporary file)"
        } else {
            "postgres (scratch schema)"
        },
        args.tokens,
        args.concurrency,
        args.duration,
        cpu_model(),
        args.server_threads,
        args.client_threads,
        loadavg()
    )
}

/// The CPU's model name from `/proc/cpuinfo`, or `?` where there is none.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into())
}

/// `/proc/loadavg`'s first three fields, or `?` where there is none.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The `p` percentile (0–100) of sorted microseconds, in ms; NaN when there are none.
pub fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    sorted_us[rank.clamp(1, sorted_us.len()) - 1] as f64 / 1000.0
}

/// How `value` stands against `target` (higher is better unless `lower_is_better`).
fn versus(value: f64, target: f64, lower_is_better: bool, what: &str) -> String {
    let met = if lower_is_better {
        value <= target
    } else {
        value >= target
    };
    if met {
        format!("{what} met")
    } else if lower_is_better {
        format!("{what} MISSED by {:.0}%", (value / target - 1.0) * 100.0)
    } else {
        format!("{what} MISSED by {:.0}%", (1.0 - value / target) * 100.0)
    }
}

fn rate_of(m: &Measured) -> f64 {
    m.latencies_us.len() as f64 / m.elapsed.as_secs_f64()
}

/// The row of pgbench's rate, beside the scenarios it is the yardstick of.
pub fn pgbench_row(server: &Server, p: &Pgbench, ceiling: &Measured) -> String {
    format!(
        "| {} | – | {} | pgbench -N | – | {:.0} | {:.0}% | – | – | – | – | the yardstick of valid and invalid |",
        server.backend,
        pgbench::CLIENTS,
        p.tps,
        p.tps / rate_of(ceiling) * 100.0
    )
}

/// One row of the table; `ceiling` is the run's `GET /v1/time`, `yardstick` pgbench's rate
/// on PostgreSQL (issue 23 item 6: codes at least as fast as `pgbench -N`).
pub fn row(
    args: &Args,
    server: &Server,
    scenario: Scenario,
    m: &Measured,
    ceiling: &Measured,
    yardstick: Option<Pgbench>,
) -> String {
    let ops = m.latencies_us.len();
    let rate = rate_of(m);
    let fraction = rate / rate_of(ceiling);
    let p50 = percentile_ms(&m.latencies_us, 50.0);
    let p99 = percentile_ms(&m.latencies_us, 99.0);
    let p999 = percentile_ms(&m.latencies_us, 99.9);
    let target = match scenario {
        Scenario::Time => "the ceiling".to_owned(),
        Scenario::Valid | Scenario::Invalid => {
            let rate_target = match yardstick {
                Some(p) => format!(
                    "≥ pgbench -N ({:.0}/s): {} ({:.0}% of it)",
                    p.tps,
                    versus(rate, p.tps, false, "rate"),
                    rate / p.tps * 100.0
                ),
                None if server.backend == "sqlite" => {
                    format!("≥ 50% of ceiling: {}", versus(fraction, 0.5, false, "rate"))
                }
                None => "≥ pgbench -N: not measured in this run".to_owned(),
            };
            format!(
                "{rate_target}; p99 ≤ {P99_TARGET_MS} ms: {}",
                versus(p99, P99_TARGET_MS, true, "p99")
            )
        }
        Scenario::Activation if server.backend == "sqlite" => {
            format!("≥ 10% of ceiling: {}", versus(fraction, 0.1, false, "rate"))
        }
        Scenario::Activation => format!("≥ 1000/s: {}", versus(rate, 1000.0, false, "rate")),
        Scenario::Transaction => "no target yet (create + verify)".to_owned(),
        Scenario::Mixed => "the soak holds half of it".to_owned(),
        Scenario::ConsoleFlood => "see the console-flood report".to_owned(),
    };
    let mut line = format!(
        "| {} | {} | {} | {} | {ops} | {rate:.0} | {:.0}% | {p50:.2} | {p99:.2} | {p999:.2} | {} | {target} |",
        server.backend,
        server.tokens,
        args.concurrency,
        format!("{scenario:?}").to_lowercase(),
        fraction * 100.0,
        m.errors,
    );
    if scenario == Scenario::Valid && server.clock.speed() > 1.0 {
        line.push_str(&format!(
            "\n  (server clock at {:.1}x real time so {} tokens supply fresh steps)",
            server.clock.speed(),
            server.tokens
        ));
    }
    if scenario == Scenario::Activation && ops + (m.errors as usize) >= server.enrollments.len() {
        line.push_str("\n  (ran out of enrollments before the time was up: raise --enrollments)");
    }
    for sample in &m.samples {
        line.push_str(&format!("\n  error: {sample}"));
    }
    line
}
