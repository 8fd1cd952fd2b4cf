//! `softtoken activate`, `softtoken provision` and `softtoken sync-time`: getting a token
//! from a bank's server and keeping its clock offset fresh.

use std::time::Duration;

use clap::{Args, Parser};
use serde::Serialize;
use softtoken_core::enroll::{ActivationTarget, EnrollError, ServerUrl};
use softtoken_core::protocol::{ServiceId, UserId};
use softtoken_core::{TokenInfo, TokenStore};

use super::trust::Trust;
use super::vault::{self, PinReader};
use crate::failure::Failure;
use crate::msg;

/// Arguments of `softtoken activate`.
#[derive(Parser)]
pub struct ActivateArgs {
    /// The bank's activation server (https://…).
    #[arg(long, required_unless_present = "uri", conflicts_with = "uri")]
    server: Option<String>,
    /// The service ID the bank gave you.
    #[arg(long, required_unless_present = "uri", conflicts_with = "uri")]
    service: Option<String>,
    /// The user ID the bank gave you.
    #[arg(long, required_unless_present = "uri", conflicts_with = "uri")]
    user: Option<String>,
    /// The activation URI from the bank's QR code (softtoken://activate?…).
    #[arg(long)]
    uri: Option<String>,
    /// Read the start password from stdin (one line) instead of the terminal.
    #[arg(long)]
    password_stdin: bool,
    /// Read the vault's PIN from stdin (one line, before the start password).
    #[arg(long)]
    pin_stdin: bool,
    /// Print {"serial", "issuer", "digits", "period", "code", "seconds_left"} as JSON.
    #[arg(long)]
    json: bool,
    /// Trusted certificates.
    #[command(flatten)]
    trust: Trust,
}

/// Arguments of `softtoken provision`.
#[derive(Parser)]
pub struct ProvisionArgs {
    /// The bank's server (https://…).
    #[arg(long)]
    server: String,
    /// The bank's service ID.
    #[arg(long)]
    service: String,
    /// Read the vault's PIN from stdin (one line).
    #[arg(long)]
    pin_stdin: bool,
    /// Print {"serial", "issuer", "digits", "period", "code", "seconds_left"} as JSON.
    #[arg(long)]
    json: bool,
    /// Trusted certificates.
    #[command(flatten)]
    trust: Trust,
}

/// Arguments of `softtoken sync-time`.
#[derive(Parser)]
pub struct SyncArgs {
    /// Read the vault's PIN from stdin (one line).
    #[arg(long)]
    pin_stdin: bool,
    /// Trusted certificates.
    #[command(flatten)]
    trust: Trust,
}

#[derive(Serialize)]
struct Created<'a> {
    serial: &'a str,
    issuer: &'a str,
    digits: u32,
    period: u64,
    /// The code to confirm the activation (or register the serial) with.
    code: &'a str,
    seconds_left: u64,
}

/// Activates a token with the bank's start password.
pub fn activate(args: ActivateArgs) -> Result<(), Failure> {
    let target = match (&args.uri, &args.server, &args.service, &args.user) {
        (Some(uri), ..) => ActivationTarget::from_uri(uri).map_err(enroll_failure)?,
        (None, Some(server), Some(service), Some(user)) => ActivationTarget {
            server: ServerUrl::parse(server).map_err(enroll_failure)?,
            service: ServiceId::new(service.as_str()).map_err(|e| {
                Failure::BadInput(msg::bad_id("service ID", "サービスID", &e.to_string()))
            })?,
            user: UserId::new(user.as_str()).map_err(|e| {
                Failure::BadInput(msg::bad_id("user ID", "ユーザーID", &e.to_string()))
            })?,
        },
        _ => {
            return Err(Failure::BadInput(msg::activate_target_missing()));
        }
    };
    let enroller = args.trust.enroller(None)?;
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    let password =
        PinReader::start_password(args.password_stdin).read(&msg::start_password_prompt())?;
    let info = enroller
        .activate(&mut store, &target, &password)
        .map_err(enroll_failure)?;
    args.trust.remember_for(target.server.as_str())?;
    if args.json {
        return print_created(&store, &info);
    }
    println!(
        "{}",
        msg::activated(&info.serial.grouped(), &info.issuer, &info.user_label)
    );
    print_code(&store, &info)?;
    println!("{}", msg::type_first_code(info.service_id.as_str()));
    Ok(())
}

/// Provisions a token for registration mode and prints its serial and code.
pub fn provision(args: ProvisionArgs) -> Result<(), Failure> {
    let server = ServerUrl::parse(&args.server).map_err(enroll_failure)?;
    let service = ServiceId::new(args.service.as_str())
        .map_err(|e| Failure::BadInput(msg::bad_id("service ID", "サービスID", &e.to_string())))?;
    let enroller = args.trust.enroller(None)?;
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    let info = enroller
        .provision(&mut store, &server, &service)
        .map_err(enroll_failure)?;
    args.trust.remember_for(server.as_str())?;
    if args.json {
        return print_created(&store, &info);
    }
    println!("{}", msg::provisioned(&info.serial.grouped(), &info.issuer));
    print_code(&store, &info)?;
    println!("{}", msg::register_serial());
    Ok(())
}

/// Refreshes the clock offset of every server the vault's tokens come from.
pub fn sync_time(args: SyncArgs) -> Result<(), Failure> {
    let enroller = args.trust.enroller(None)?;
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    let outcomes = enroller.sync_time(&mut store).map_err(enroll_failure)?;
    if outcomes.is_empty() {
        eprintln!("{}", msg::nothing_to_sync());
        return Ok(());
    }
    let mut failed = 0;
    for outcome in &outcomes {
        match &outcome.result {
            Ok(offset) => println!(
                "{}",
                msg::clock_offset(&outcome.server_url, *offset as f64 / 1000.0)
            ),
            Err(e) => {
                failed += 1;
                eprintln!("softtoken: {}", msg::enroll_error(e));
            }
        }
    }
    if failed > 0 {
        return Err(Failure::Rejected(msg::servers_unreachable(
            failed,
            outcomes.len(),
        )));
    }
    Ok(())
}

/// Refreshes the clock offsets, then asks each live token's server what became of it.
pub fn refresh(args: SyncArgs) -> Result<(), Failure> {
    let enroller = args.trust.enroller(None)?;
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    let refresh = enroller.refresh(&mut store).map_err(enroll_failure)?;
    if refresh.time.is_empty() {
        eprintln!("{}", msg::no_tokens());
        return Ok(());
    }
    let mut failed = 0;
    for outcome in &refresh.time {
        match &outcome.result {
            Ok(offset) => println!(
                "{}",
                msg::clock_offset(&outcome.server_url, *offset as f64 / 1000.0)
            ),
            Err(e) => {
                failed += 1;
                eprintln!("softtoken: {}", msg::enroll_error(e));
            }
        }
    }
    for outcome in &refresh.status {
        let grouped = outcome.serial.grouped();
        match &outcome.result {
            Ok(state) => println!("{}", msg::refreshed(&grouped, &msg::state(*state))),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "softtoken: {}",
                    msg::refresh_failed(&grouped, &msg::enroll_error(e))
                );
            }
        }
    }
    // Dead tokens say why and what to do, whether they died now or before.
    for token in store.tokens().map_err(vault::store_failure)? {
        if token.state.is_dead() {
            println!(
                "{}",
                msg::dead_token(token.state, &token.serial.grouped(), token.serial.as_str())
            );
        }
    }
    if failed > 0 {
        let total = refresh.time.len() + refresh.status.len();
        return Err(Failure::Rejected(msg::refresh_incomplete(failed, total)));
    }
    Ok(())
}

fn print_created(store: &TokenStore, info: &TokenInfo) -> Result<(), Failure> {
    let code = store
        .code(&info.serial, vault::now_unix_ms()?)
        .map_err(vault::store_failure)?;
    let created = Created {
        serial: info.serial.as_str(),
        issuer: &info.issuer,
        digits: info.params.digits.get(),
        period: info.params.period.seconds(),
        code: &code.code,
        seconds_left: code.seconds_left,
    };
    println!("{}", super::show::to_json(&created)?);
    Ok(())
}

fn print_code(store: &TokenStore, info: &TokenInfo) -> Result<(), Failure> {
    let code = store
        .code(&info.serial, vault::now_unix_ms()?)
        .map_err(vault::store_failure)?;
    println!("{}", msg::code_line(&code.code, code.seconds_left));
    Ok(())
}

/// How long `list` and `show` wait for the servers when they refresh on open, in all.
const OPEN_REFRESH_BUDGET: Duration = Duration::from_secs(3);

/// Whether `list` and `show` ask the servers first, and whom to trust when they do.
#[derive(Args)]
pub struct OnOpen {
    /// Do not ask the servers what became of the tokens first (no network at all;
    /// SOFTTOKEN_OFFLINE=1 does the same).
    #[arg(long, env = "SOFTTOKEN_OFFLINE", value_parser = clap::builder::BoolishValueParser::new())]
    offline: bool,
    /// Trusted certificates.
    #[command(flatten)]
    trust: Trust,
}

/// The core's refresh (clock offsets, then token states) when a command opens the vault,
/// best-effort: at most [`OPEN_REFRESH_BUDGET`] in all, once per run, and never a failure
/// of the command: what could not be learned is one note on stderr and the states stay as
/// recorded. Only a vault error fails (the vault is then not usable anyway).
pub fn refresh_on_open(store: &mut TokenStore, on_open: &OnOpen) -> Result<(), Failure> {
    if on_open.offline {
        return Ok(());
    }
    let live = store
        .tokens()
        .map_err(vault::store_failure)?
        .iter()
        .any(|t| !t.state.is_dead());
    if !live {
        return Ok(());
    }
    let enroller = on_open.trust.enroller(Some(OPEN_REFRESH_BUDGET))?;
    match enroller.refresh(store) {
        Ok(refresh) => {
            let errors = refresh
                .time
                .iter()
                .filter_map(|t| t.result.as_ref().err())
                .chain(
                    refresh
                        .status
                        .iter()
                        .filter_map(|s| s.result.as_ref().err()),
                );
            let mut offline = false;
            let mut said = Vec::new();
            for e in errors {
                // A certificate is not "offline": it is said as what it is, once a server.
                if let EnrollError::Certificate { .. } = e {
                    let line = msg::enroll_error(e);
                    if !said.contains(&line) {
                        eprintln!("softtoken: {line}");
                        said.push(line);
                    }
                } else {
                    offline = true;
                }
            }
            if offline {
                eprintln!("softtoken: {}", msg::offline_note());
            } else if !said.is_empty() {
                eprintln!("softtoken: {}", msg::last_known_states());
            }
            Ok(())
        }
        Err(EnrollError::Store(e)) => Err(vault::store_failure(e)),
        Err(_) => {
            eprintln!("softtoken: {}", msg::offline_note());
            Ok(())
        }
    }
}

/// Malformed input is status 2; everything the server or network said is status 1.
pub(super) fn enroll_failure(e: EnrollError) -> Failure {
    match e {
        EnrollError::BadServerUrl { .. }
        | EnrollError::BadCaFile { .. }
        | EnrollError::BadUri(_)
        | EnrollError::InvalidStartPassword => Failure::BadInput(msg::enroll_error(&e)),
        EnrollError::Store(store) => vault::store_failure(store),
        EnrollError::WrongStartPassword { attempts_left } => {
            Failure::Rejected(msg::wrong_start_password(attempts_left))
        }
        other => Failure::Rejected(msg::enroll_error(&other)),
    }
}
