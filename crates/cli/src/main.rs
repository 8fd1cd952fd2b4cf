//! `softtoken`: the desktop software token, and the interop/debug `otp` command.

mod cmd;
mod failure;
mod help_ja;
mod msg;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// The desktop software token.
#[derive(Parser)]
#[command(
    name = "softtoken",
    version,
    about = "softtoken: one-time passwords for internet banking"
)]
struct Cli {
    /// The language to speak (default: from LC_ALL / LC_MESSAGES / LANG; ja_JP.UTF-8 is
    /// Japanese).
    #[arg(long, global = true, value_enum)]
    lang: Option<msg::Lang>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the TOTP code of a base32 secret (interop and debugging; stores nothing).
    Otp(cmd::otp::Args),
    /// Generate or check serial numbers (シリアル番号).
    #[command(subcommand)]
    Serial(cmd::serial::Command),
    /// List the tokens in the vault.
    List(cmd::list::Args),
    /// Show current codes: live with a countdown (Ctrl-C to stop), `--once`, or `--json`.
    Show(cmd::show::Args),
    /// Turn the PIN lock on, change the PIN, or turn it off.
    #[command(subcommand)]
    Lock(cmd::lock::Command),
    /// Delete one token from the vault.
    Delete(cmd::delete::Args),
    /// Delete every token, the PIN and the keys (the way out of a forgotten PIN).
    Wipe(cmd::wipe::Args),
    /// Activate a token with the start password the bank gave you.
    Activate(cmd::enroll::ActivateArgs),
    /// Create a token to register in internet banking by serial and code.
    Provision(cmd::enroll::ProvisionArgs),
    /// Refresh each server's clock offset.
    SyncTime(cmd::enroll::SyncArgs),
    /// Ask each token's bank what became of it (active, revoked, …), and refresh the clock
    /// offsets.
    Refresh(cmd::enroll::SyncArgs),
    /// 取引確認: the code confirming one transfer, from the bank's QR payload or typed digits.
    Sign(cmd::sign::Args),
    /// Print the OCRA (RFC 6287) response of a suite and hex key (interop; stores nothing).
    Ocra(cmd::ocra::Args),
}

fn main() -> ExitCode {
    // The language is known before the arguments are parsed, so `--help` speaks it too.
    let lang = msg::requested(std::env::args().skip(1));
    let mut command = Cli::command();
    if lang == msg::Lang::Ja {
        command = help_ja::localise(command);
    }
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    msg::init(cli.lang);
    let result = match cli.command {
        Command::Otp(args) => cmd::otp::run(args),
        Command::Serial(c) => cmd::serial::run(c),
        Command::List(args) => cmd::list::run(args),
        Command::Show(args) => cmd::show::run(args),
        Command::Lock(c) => cmd::lock::run(c),
        Command::Delete(args) => cmd::delete::run(args),
        Command::Wipe(args) => cmd::wipe::run(args),
        Command::Activate(args) => cmd::enroll::activate(args),
        Command::Provision(args) => cmd::enroll::provision(args),
        Command::SyncTime(args) => cmd::enroll::sync_time(args),
        Command::Refresh(args) => cmd::enroll::refresh(args),
        Command::Sign(args) => cmd::sign::run(args),
        Command::Ocra(args) => cmd::ocra::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
