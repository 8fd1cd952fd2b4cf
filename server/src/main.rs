//! `softtoken-server`: the server a bank runs to activate tokens and verify codes.

use std::io::IsTerminal;
use std::process::ExitCode;

use softtoken_server::commands;
use softtoken_server::config::LogFormat;
use softtoken_server::config_file::{self, LoadError};
use softtoken_server::logs;

/// mimalloc instead of glibc's allocator: under load, glibc's `malloc` and `free` (with
/// `malloc_consolidate`) took over a fifth of the server threads' time (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // The command line over the environment and the configuration file, before anything
    // else: every setting, logging's included, may come from the file.
    let cli = match config_file::load_process() {
        Ok(cli) => cli,
        Err(LoadError::Clap(e)) => e.exit(),
        Err(LoadError::Config(message)) => {
            eprintln!("softtoken-server: configuration: {message}");
            return ExitCode::from(2);
        }
    };
    // Held to the end of `main`: dropping it flushes the lines still queued.
    let (stderr, _flush_on_exit) = logs::queued(std::io::stderr(), logs::QUEUED_LINES);
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // `softtoken`: the server, service and store crates alike (targets match by prefix).
                .unwrap_or_else(|_| "softtoken=info,tower_http=warn".into()),
        )
        // Colours on a terminal only: under systemd, a container runtime or a log shipper
        // stderr is a pipe or a file, where escape codes garble every stored line (and
        // writing them showed in the no-database ceiling's profile).
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(stderr);
    match cli.command.log_format() {
        // Fields at the top level of each object, where log collectors look for them.
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Text => logs.init(),
    }
    match commands::run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("softtoken-server: {e}");
            ExitCode::FAILURE
        }
    }
}
