//! `softtoken ocra`: the RFC 6287 response of a suite and key, for interop checks.

use clap::Parser;
use softtoken_core::protocol::ocra::{Inputs, Suite, response};

use crate::failure::Failure;

/// Arguments of `softtoken ocra`.
#[derive(Parser)]
pub struct Args {
    /// The OCRA suite, e.g. `OCRA-1:HOTP-SHA1-6:QN08`.
    #[arg(long)]
    suite: String,
    /// The key in hexadecimal.
    #[arg(long)]
    key: String,
    /// The counter `C`, if the suite has one.
    #[arg(long)]
    counter: Option<u64>,
    /// The question, written in the suite's format (QN decimal, QA text, QH hex).
    #[arg(long, default_value = "")]
    question: String,
    /// The PIN, if the suite has `P` (it is hashed as the suite says).
    #[arg(long)]
    password: Option<String>,
    /// The session information `S`, in hexadecimal, if the suite has one.
    #[arg(long)]
    session: Option<String>,
    /// The time in Unix seconds, if the suite has `T`.
    #[arg(long)]
    time: Option<u64>,
}

/// Prints the response and nothing else.
pub fn run(args: Args) -> Result<(), Failure> {
    let suite: Suite = args.suite.parse().map_err(bad)?;
    let key = data_encoding::HEXLOWER_PERMISSIVE
        .decode(args.key.trim().as_bytes())
        .map_err(|e| Failure::BadInput(format!("the key is not hexadecimal: {e}")))?;
    let session = match &args.session {
        Some(s) => Some(
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(s.trim().as_bytes())
                .map_err(|e| {
                    Failure::BadInput(format!("the session information is not hexadecimal: {e}"))
                })?,
        ),
        None => None,
    };
    let inputs = Inputs {
        counter: args.counter,
        question: &args.question,
        password: args.password.as_deref().map(str::as_bytes),
        session: session.as_deref(),
        unix_time: args.time,
    };
    println!("{}", response(&suite, &key, &inputs).map_err(bad)?);
    Ok(())
}

fn bad(e: impl std::fmt::Display) -> Failure {
    Failure::BadInput(e.to_string())
}
