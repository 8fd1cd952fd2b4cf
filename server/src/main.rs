//! `softtoken-server`: the server a bank runs to activate tokens and verify codes.

use std::process::ExitCode;

use clap::Parser;
use softtoken_server::commands;
use softtoken_server::config::{Cli, LogFormat};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "softtoken_server=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr);
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
