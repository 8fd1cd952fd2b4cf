//! `softtoken lock set|change|off`: the app lock (PIN).

use clap::{Args as ClapArgs, Subcommand};

use super::vault::{self, PinReader};
use crate::failure::Failure;

/// The `lock` subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Turn the PIN lock on.
    Set(PinArgs),
    /// Change the PIN (the old one first).
    Change(PinArgs),
    /// Turn the PIN lock off (asks for the PIN).
    Off(PinArgs),
}

/// How PINs are read.
#[derive(ClapArgs)]
pub struct PinArgs {
    /// Read PINs from stdin, one per line (for `change`: the old, then the new).
    #[arg(long)]
    pin_stdin: bool,
}

/// Runs a `lock` subcommand.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Set(a) => {
            let mut store = vault::open()?;
            if store.has_pin() {
                return Err(Failure::Rejected(
                    "a PIN is already set; use `softtoken lock change`".into(),
                ));
            }
            let pin = PinReader::new(a.pin_stdin).read_new("New PIN (1-32 digits): ")?;
            store.set_pin(&pin).map_err(vault::store_failure)?;
            eprintln!("PIN lock on");
        }
        Command::Change(a) => {
            let mut store = vault::open()?;
            if !store.has_pin() {
                return Err(Failure::Rejected(
                    "no PIN is set; use `softtoken lock set`".into(),
                ));
            }
            let mut pins = PinReader::new(a.pin_stdin);
            let old = pins.read("Current PIN: ")?;
            let new = pins.read_new("New PIN (1-32 digits): ")?;
            store.change_pin(&old, &new).map_err(vault::store_failure)?;
            eprintln!("PIN changed");
        }
        Command::Off(a) => {
            let mut store = vault::open()?;
            if !store.has_pin() {
                return Err(Failure::Rejected("no PIN is set".into()));
            }
            let pin = PinReader::new(a.pin_stdin).read("PIN: ")?;
            store.remove_pin(&pin).map_err(vault::store_failure)?;
            eprintln!("PIN lock off");
        }
    }
    Ok(())
}
