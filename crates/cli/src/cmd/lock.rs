//! `softtoken lock set|change|off`: the app lock (PIN).

use clap::{Args as ClapArgs, Subcommand};

use super::vault::{self, PinReader};
use crate::failure::Failure;
use crate::msg;

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
                return Err(Failure::Rejected(msg::pin_already_set()));
            }
            let pin = PinReader::new(a.pin_stdin).read_new(&msg::new_pin_prompt())?;
            store.set_pin(&pin).map_err(vault::store_failure)?;
            eprintln!("{}", msg::lock_on());
        }
        Command::Change(a) => {
            let mut store = vault::open()?;
            if !store.has_pin() {
                return Err(Failure::Rejected(msg::no_pin_set(true)));
            }
            let mut pins = PinReader::new(a.pin_stdin);
            let old = pins.read(&msg::current_pin_prompt())?;
            let new = pins.read_new(&msg::new_pin_prompt())?;
            store.change_pin(&old, &new).map_err(vault::store_failure)?;
            eprintln!("{}", msg::pin_changed());
        }
        Command::Off(a) => {
            let mut store = vault::open()?;
            if !store.has_pin() {
                return Err(Failure::Rejected(msg::no_pin_set(false)));
            }
            let pin = PinReader::new(a.pin_stdin).read(&msg::pin_prompt())?;
            store.remove_pin(&pin).map_err(vault::store_failure)?;
            eprintln!("{}", msg::lock_off());
        }
    }
    Ok(())
}
