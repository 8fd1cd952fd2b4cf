//! `softtoken delete SERIAL`: removes one token and its seed from the vault.

use clap::Parser;
use softtoken_core::protocol::Serial;

use super::vault::{self, PinReader};
use crate::failure::Failure;
use crate::msg;

/// Arguments of `softtoken delete`.
#[derive(Parser)]
pub struct Args {
    /// The token's serial (spaces, hyphens and lower case are fine).
    serial: String,
    /// Read the PIN from stdin (one line) instead of the terminal.
    #[arg(long)]
    pin_stdin: bool,
}

/// Deletes the token. Its bank must issue a new one to use OTP again.
pub fn run(args: Args) -> Result<(), Failure> {
    let serial =
        Serial::parse(&args.serial).map_err(|e| Failure::BadInput(msg::serial_error(&e)))?;
    let mut store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    store.delete(&serial).map_err(vault::store_failure)?;
    eprintln!("{}", msg::deleted(&serial.grouped()));
    Ok(())
}
