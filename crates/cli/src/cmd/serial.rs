//! `softtoken serial new|check`: serial numbers (シリアル番号).

use clap::Subcommand;
use softtoken_core::protocol::Serial;

use crate::failure::Failure;

/// The `serial` subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Print a fresh serial (12 characters, no spaces).
    New,
    /// Print the normalised serial, or say exactly what is wrong with it.
    Check {
        /// The serial as typed: spaces, hyphens and lower case are fine.
        text: String,
    },
}

/// Runs a `serial` subcommand.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::New => println!("{}", Serial::generate().as_str()),
        Command::Check { text } => {
            let serial = Serial::parse(&text)
                .map_err(|e| Failure::Rejected(crate::msg::serial_error(&e)))?;
            println!("{}", serial.as_str());
        }
    }
    Ok(())
}
