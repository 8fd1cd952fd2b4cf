//! How a command fails: one message on stderr and a meaningful exit status.

use std::process::ExitCode;

/// A command's failure, carrying the exit status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The input was malformed (exit status 2, like a usage error).
    #[error("{0}")]
    BadInput(String),
    /// The input was well-formed but the check it asked for failed (exit status 1).
    #[error("{0}")]
    Rejected(String),
}

impl Failure {
    /// Prints the message and returns the exit status.
    pub fn report(&self) -> ExitCode {
        eprintln!("softtoken: {self}");
        match self {
            Failure::BadInput(_) => ExitCode::from(2),
            Failure::Rejected(_) => ExitCode::from(1),
        }
    }
}
