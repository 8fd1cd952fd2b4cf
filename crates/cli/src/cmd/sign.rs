//! `softtoken sign`: the 取引確認 code of a token for one transfer (DESIGN.md §11).
//!
//! Prints what the code confirms (payee and amount) before the code, so the customer
//! checks the transfer, not only types a number.

use clap::Parser;
use softtoken_core::protocol::Serial;
use softtoken_core::sign::{read_challenge, read_typed};
use softtoken_core::{TokenInfo, TokenStore};

use super::vault::{self, PinReader};
use crate::failure::Failure;
use crate::msg;

/// Arguments of `softtoken sign`.
#[derive(Parser)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["challenge", "digits_typed"])))]
pub struct Args {
    /// The token (default: the only usable token, or the only one of the challenge's bank).
    serial: Option<String>,
    /// The challenge payload from the bank's QR code (`softtoken://sign?v=1&...`).
    #[arg(long)]
    challenge: Option<String>,
    /// Manual mode: the digits shown by the bank, exactly as its `manual_digits` (spaces
    /// and hyphens allowed): the 6-digit challenge number, the payee account's last 6
    /// digits, then the amount in minor units.
    #[arg(long)]
    digits_typed: Option<String>,
    /// Read the PIN from stdin (one line) instead of the terminal.
    #[arg(long)]
    pin_stdin: bool,
}

/// Prints the details, then the code.
pub fn run(args: Args) -> Result<(), Failure> {
    let bad = |e: softtoken_core::sign::SignError| Failure::BadInput(e.to_string());
    let wanted = match &args.serial {
        Some(text) => Some(Serial::parse(text).map_err(|e| Failure::BadInput(e.to_string()))?),
        None => None,
    };
    let challenge = args
        .challenge
        .as_deref()
        .map(read_challenge)
        .transpose()
        .map_err(bad)?;
    let typed = args
        .digits_typed
        .as_deref()
        .map(read_typed)
        .transpose()
        .map_err(bad)?;
    let store = vault::open_unlocked(&mut PinReader::new(args.pin_stdin))?;
    let service = challenge.as_ref().map(|c| c.service_id.as_str());
    let token = pick(&store, wanted.as_ref(), service)?;
    let rejected = |e: softtoken_core::sign::SignError| Failure::Rejected(e.to_string());
    let code = match (&challenge, &typed) {
        (Some(c), _) => {
            let d = &c.details;
            // The account masked as the bank's screen shows it (and README promises); the
            // customer compares the payee, the last digits and the amount.
            println!(
                "{}",
                msg::transfer_details(
                    d.payee_name(),
                    &d.masked_account(),
                    &msg::amount(&d.display_amount(), d.currency())
                )
            );
            store.challenge_code(&token.serial, c).map_err(rejected)?
        }
        (None, Some(t)) => {
            println!(
                "{}",
                msg::typed_details(
                    t.challenge_number(),
                    t.account_tail(),
                    &msg::grouped_digits(t.amount())
                )
            );
            store.typed_code(&token.serial, t).map_err(rejected)?
        }
        (None, None) => {
            return Err(Failure::BadInput(msg::sign_needs_input()));
        }
    };
    println!("{}", msg::transfer_code(&code));
    Ok(())
}

fn pick(
    store: &TokenStore,
    wanted: Option<&Serial>,
    service: Option<&str>,
) -> Result<TokenInfo, Failure> {
    let tokens = store.tokens().map_err(vault::store_failure)?;
    if let Some(serial) = wanted {
        return tokens
            .into_iter()
            .find(|t| &t.serial == serial)
            .ok_or_else(|| Failure::Rejected(msg::no_such_token(&serial.grouped())));
    }
    let mut usable: Vec<TokenInfo> = tokens
        .into_iter()
        .filter(|t| !t.state.is_dead())
        .filter(|t| service.is_none_or(|s| t.service_id.as_str() == s))
        .collect();
    match usable.len() {
        1 => Ok(usable.remove(0)),
        0 => Err(Failure::Rejected(msg::no_token_for_challenge())),
        _ => Err(Failure::BadInput(msg::several_tokens_could_sign())),
    }
}
