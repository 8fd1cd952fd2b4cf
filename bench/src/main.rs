//! `softtoken-bench`: how fast softtoken-server verifies codes and activates tokens.
//!
//! It starts a real server on a loopback port (SQLite in a fresh temporary file, or a
//! fresh schema of a PostgreSQL database), creates N active tokens (and enrollments for
//! the activation scenario) in bulk straight through the storage schema, then drives
//! the HTTP API at concurrency C for D seconds per scenario and prints requests/s,
//! latency percentiles and errors, each against its target.
//!
//! Every run first measures the same client against `GET /v1/time`, which touches no
//! database: that rate is the ceiling of this machine, client and HTTP stack, and each
//! scenario is reported as a fraction of it, with the CPU model, so runs on different
//! machines can be compared.
//!
//! Scenarios:
//! - `valid`: correct codes, each token once per time step, so every request consumes a
//!   step durably (the expensive path);
//! - `invalid`: wrong codes, each counted as a failure (the service allows enough that
//!   nobody locks, so every request writes);
//! - `activation`: a full SPAKE2 activation, `start` + `finish`, counted once;
//! - `transaction`: a transfer challenge created and its code verified;
//! - `mixed`: a bank's day in fixed proportions (codes right and wrong, status calls,
//!   transfers, activations, enrollments with e-mail, console pages; see `soak`).
//!
//! `--soak SECONDS` measures the mixed scenario's capacity, then holds half of it for that
//! long and reports rate, latency and memory interval by interval (module `soak`).
//! - `console-flood` (issue 22): C concurrent console sign-ins with unknown names, each
//!   worker from its own `X-Forwarded-For` address, while a real operator signs in every
//!   half second; reports the process's RSS before, at its peak and after, the answers by
//!   status, and the real operator's latency.
//!
//! With few tokens, "each token once per step" caps the valid-code rate at N per
//! period. So the server's clock (and the codes the load generator computes) runs
//! faster than real time when N is small (`--clock-speed`, auto by default); the work
//! per request is unchanged.

mod flood;
mod load;
mod pgbench;
mod report;
mod setup;
mod soak;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, ValueEnum};

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "softtoken-bench", version, about)]
pub struct Args {
    /// `sqlite` (a fresh temporary file) or a `postgres://` URL (a fresh schema in it,
    /// dropped afterwards).
    #[arg(long, default_value = "sqlite")]
    pub database: String,
    /// Active tokens (one per user) to create before the run.
    #[arg(long, default_value_t = 10_000)]
    pub tokens: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Scenarios to run, in order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "valid,invalid,activation"
    )]
    pub scenarios: Vec<Scenario>,
    /// Enrollments to create for the activation scenario (each is used once).
    #[arg(long, default_value_t = 20_000)]
    pub enrollments: usize,
    /// Server clock speed relative to real time; 0 picks one so that the tokens can
    /// take at least 40,000 fresh codes per real second.
    #[arg(long, default_value_t = 0.0)]
    pub clock_speed: f64,
    /// Worker threads of the server's runtime.
    #[arg(long, default_value_t = 2)]
    pub server_threads: usize,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 2)]
    pub client_threads: usize,
    /// Connections of the server's PostgreSQL pool.
    #[arg(long, default_value_t = 32)]
    pub pg_connections: u32,
    /// Seconds to hold the mixed scenario at `--soak-load` of its capacity (0: no soak).
    /// The soak runs after the ceiling and replaces `--scenarios`.
    #[arg(long, default_value_t = 0)]
    pub soak: u64,
    /// The fraction of the measured capacity the soak holds.
    #[arg(long, default_value_t = 0.5)]
    pub soak_load: f64,
    /// Seconds per reported interval of the soak.
    #[arg(long, default_value_t = 10)]
    pub soak_interval: u64,
    /// Where to write the soak's plot (SVG) of rate, latency and memory over time.
    #[arg(long)]
    pub soak_plot: Option<std::path::PathBuf>,
    /// Console password checks at once (0: one per core, the server's default); a large
    /// number approximates the unbounded checks before issue 22.
    #[arg(long, default_value_t = 0)]
    pub sign_in_permits: usize,
    /// In `console-flood`, a fresh `X-Forwarded-For` address for every sign-in (a botnet
    /// no per-address limit slows) instead of one per worker.
    #[arg(long)]
    pub flood_fresh_addresses: bool,
}

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// `GET /v1/time`: no database, the ceiling the others are measured against.
    Time,
    /// Correct codes, each consumed once.
    Valid,
    /// Wrong codes, each counted.
    Invalid,
    /// Start + finish of a start-password activation.
    Activation,
    /// 取引確認: the bank creates a transfer challenge, then verifies the token's right
    /// code for it (two requests, one operation; each a durable write with its audit).
    Transaction,
    /// A bank's day in fixed proportions (the soak's load).
    Mixed,
    /// Console sign-ins with unknown names from many addresses at once, memory and a real
    /// operator's sign-in latency measured (issue 22).
    ConsoleFlood,
}

/// The allocator `softtoken-server` runs with, for the server this process runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse();
    // The server's own log on stderr (warnings and errors by default, `RUST_LOG` to change):
    // a 500 in the report then comes with its cause.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("softtoken-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.tokens == 0 || args.concurrency == 0 || args.duration == 0 {
        return Err("--tokens, --concurrency and --duration must be positive".into());
    }
    if !(args.soak_load > 0.0 && args.soak_load <= 1.0) {
        return Err("--soak-load must be in (0, 1]".into());
    }
    // Named apart, so a profile tells the server's work from the load generator's.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("server")
        .worker_threads(args.server_threads.max(1))
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("load")
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()?;
    println!("{}", report::conditions(args));
    let server = server_rt.block_on(setup::Server::start(args))?;
    println!(
        "bulk load of {} tokens + {} enrollments: {:.1} s",
        server.tokens,
        server.enrollments.len(),
        server.load_seconds
    );
    let server = Arc::new(server);
    println!("{}", report::HEADER);
    let ceiling = client_rt.block_on(load::drive(Arc::clone(&server), args, Scenario::Time))?;
    println!(
        "{}",
        report::row(args, &server, Scenario::Time, &ceiling, &ceiling, None)
    );
    if args.soak > 0 {
        soak::run(args, &server, &client_rt, &ceiling)?;
    }
    let scenarios = if args.soak > 0 {
        &[][..]
    } else {
        &args.scenarios[..]
    };
    // On PostgreSQL the codes are set against pgbench's rate on the same database, measured
    // here in the same series, after the bulk load and before the scenarios.
    let yardstick = if server.backend == "postgres"
        && scenarios
            .iter()
            .any(|s| matches!(s, Scenario::Valid | Scenario::Invalid))
    {
        let measured = client_rt.block_on(pgbench::run(&args.database, args.duration))?;
        println!("{}", report::pgbench_row(&server, &measured, &ceiling));
        Some(measured)
    } else {
        None
    };
    for &scenario in scenarios
        .iter()
        .filter(|&&s| s != Scenario::Time && s != Scenario::ConsoleFlood)
    {
        let result = client_rt.block_on(load::drive(Arc::clone(&server), args, scenario))?;
        println!(
            "{}",
            report::row(args, &server, scenario, &result, &ceiling, yardstick)
        );
    }
    if args.scenarios.contains(&Scenario::ConsoleFlood) {
        let flood = client_rt.block_on(flood::run(Arc::clone(&server), args))?;
        println!("{flood}");
    }
    println!("load average after: {}", report::loadavg());
    let server = Arc::try_unwrap(server).map_err(|_| "the server is still in use")?;
    server_rt.block_on(server.stop())?;
    Ok(())
}
