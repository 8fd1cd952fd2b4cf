//! `softtoken list`: the tokens in the vault, without codes.

use clap::Parser;
use serde::Serialize;

use super::vault::{self, PinReader};
use crate::failure::Failure;
use crate::msg;

/// Arguments of `softtoken list`.
#[derive(Parser)]
pub struct Args {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    /// Read the PIN from stdin (one line) instead of the terminal.
    #[arg(long)]
    pin_stdin: bool,
    /// Refresh the token states first (unless `--offline`).
    #[command(flatten)]
    on_open: super::enroll::OnOpen,
}

#[derive(Serialize)]
struct Row<'a> {
    serial: &'a str,
    issuer: &'a str,
    service_id: &'a str,
    user_label: &'a str,
    /// pending, active, revoked, stopped or replaced.
    state: &'static str,
    algorithm: &'a str,
    digits: u32,
    period: u64,
    server_url: &'a str,
}

/// Prints one line per token (or JSON).
pub fn run(args: Args) -> Result<(), Failure> {
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    super::enroll::refresh_on_open(&mut store, &args.on_open)?;
    let tokens = store.tokens().map_err(vault::store_failure)?;
    if args.json {
        let rows: Vec<Row<'_>> = tokens
            .iter()
            .map(|t| Row {
                serial: t.serial.as_str(),
                issuer: &t.issuer,
                service_id: t.service_id.as_str(),
                user_label: &t.user_label,
                state: t.state.as_str(),
                algorithm: t.params.algorithm.as_str(),
                digits: t.params.digits.get(),
                period: t.params.period.seconds(),
                server_url: &t.server_url,
            })
            .collect();
        println!("{}", super::show::to_json(&rows)?);
        return Ok(());
    }
    if tokens.is_empty() {
        eprintln!("{}", msg::no_tokens());
        return Ok(());
    }
    for t in &tokens {
        let state = msg::state(t.state);
        println!(
            "{}  {}  {}  {}  {}-{}/{}s  {}",
            t.serial.grouped(),
            t.issuer,
            if t.user_label.is_empty() {
                "-"
            } else {
                &t.user_label
            },
            state,
            t.params.algorithm.as_str(),
            t.params.digits.get(),
            t.params.period.seconds(),
            t.server_url,
        );
    }
    // On stderr: the table stays one line per token for scripts.
    for t in tokens.iter().filter(|t| t.state.is_dead()) {
        eprintln!(
            "{}",
            msg::dead_token(t.state, &t.serial.grouped(), t.serial.as_str())
        );
    }
    Ok(())
}
