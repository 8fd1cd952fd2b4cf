//! `softtoken activate`, `softtoken provision` and `softtoken sync-time`: getting a token
//! from a bank's server and keeping its clock offset fresh.

use std::path::PathBuf;

use clap::{Args, Parser};
use serde::Serialize;
use softtoken_core::enroll::{ActivationTarget, EnrollError, Enroller, ServerUrl};
use softtoken_core::protocol::{ServiceId, UserId};
use softtoken_core::{TokenInfo, TokenStore};

use super::vault::{self, PinReader};
use crate::failure::Failure;

/// Which servers' certificates to trust, for every command that goes on the network.
#[derive(Args)]
pub struct Trust {
    /// A PEM file of CA certificates to trust besides the built-in ones (a bank's own CA,
    /// a test server's).
    #[arg(long, env = "SOFTTOKEN_CA_FILE")]
    ca_file: Option<PathBuf>,
}

impl Trust {
    fn enroller(&self) -> Result<Enroller, Failure> {
        match &self.ca_file {
            Some(path) => Enroller::trusting_ca_file(path),
            None => Enroller::new(),
        }
        .map_err(enroll_failure)
    }
}

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
    /// Print {"serial", "issuer", "digits", "period"} as JSON.
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
    /// Print {"serial", "issuer", "digits", "period"} as JSON.
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
}

/// Activates a token with the bank's start password.
pub fn activate(args: ActivateArgs) -> Result<(), Failure> {
    let target = match (&args.uri, &args.server, &args.service, &args.user) {
        (Some(uri), ..) => ActivationTarget::from_uri(uri).map_err(enroll_failure)?,
        (None, Some(server), Some(service), Some(user)) => ActivationTarget {
            server: ServerUrl::parse(server).map_err(enroll_failure)?,
            service: ServiceId::new(service.as_str())
                .map_err(|e| Failure::BadInput(format!("service ID: {e}")))?,
            user: UserId::new(user.as_str())
                .map_err(|e| Failure::BadInput(format!("user ID: {e}")))?,
        },
        _ => {
            return Err(Failure::BadInput(
                "give --uri, or --server, --service and --user".into(),
            ));
        }
    };
    let enroller = args.trust.enroller()?;
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    let password = PinReader::new(args.password_stdin).read("Start password: ")?;
    let info = enroller
        .activate(&mut store, &target, &password)
        .map_err(enroll_failure)?;
    if args.json {
        return print_created(&info);
    }
    println!(
        "Activated token {} ({}, user {})",
        info.serial.grouped(),
        info.issuer,
        info.user_label
    );
    print_code(&store, &info)?;
    println!("Type this code into your internet banking to finish the activation.");
    Ok(())
}

/// Provisions a token for registration mode and prints its serial and code.
pub fn provision(args: ProvisionArgs) -> Result<(), Failure> {
    let server = ServerUrl::parse(&args.server).map_err(enroll_failure)?;
    let service = ServiceId::new(args.service.as_str())
        .map_err(|e| Failure::BadInput(format!("service ID: {e}")))?;
    let enroller = args.trust.enroller()?;
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    let info = enroller
        .provision(&mut store, &server, &service)
        .map_err(enroll_failure)?;
    if args.json {
        return print_created(&info);
    }
    println!("Serial: {} ({})", info.serial.grouped(), info.issuer);
    print_code(&store, &info)?;
    println!("Register this serial and code in your internet banking.");
    Ok(())
}

/// Refreshes the clock offset of every server the vault's tokens come from.
pub fn sync_time(args: SyncArgs) -> Result<(), Failure> {
    let enroller = args.trust.enroller()?;
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    let outcomes = enroller.sync_time(&mut store).map_err(enroll_failure)?;
    if outcomes.is_empty() {
        eprintln!("no tokens: nothing to sync");
        return Ok(());
    }
    let mut failed = 0;
    for outcome in &outcomes {
        match &outcome.result {
            Ok(offset) => println!(
                "{}: server clock {:+.3} s from this computer's",
                outcome.server_url,
                *offset as f64 / 1000.0
            ),
            Err(e) => {
                failed += 1;
                eprintln!("softtoken: {e}");
            }
        }
    }
    if failed > 0 {
        return Err(Failure::Rejected(format!(
            "{failed} of {} servers could not be reached",
            outcomes.len()
        )));
    }
    Ok(())
}

fn print_created(info: &TokenInfo) -> Result<(), Failure> {
    let created = Created {
        serial: info.serial.as_str(),
        issuer: &info.issuer,
        digits: info.params.digits.get(),
        period: info.params.period.seconds(),
    };
    println!("{}", super::show::to_json(&created)?);
    Ok(())
}

fn print_code(store: &TokenStore, info: &TokenInfo) -> Result<(), Failure> {
    let code = store
        .code(&info.serial, vault::now_unix_ms()?)
        .map_err(vault::store_failure)?;
    println!("Code: {}  ({} s left)", code.code, code.seconds_left);
    Ok(())
}

/// Malformed input is status 2; everything the server or network said is status 1.
fn enroll_failure(e: EnrollError) -> Failure {
    match e {
        EnrollError::BadServerUrl { .. }
        | EnrollError::BadCaFile { .. }
        | EnrollError::BadUri(_)
        | EnrollError::InvalidStartPassword => Failure::BadInput(e.to_string()),
        EnrollError::Store(store) => vault::store_failure(store),
        other => Failure::Rejected(other.to_string()),
    }
}
