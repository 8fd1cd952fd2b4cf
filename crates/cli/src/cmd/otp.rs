//! `softtoken otp`: the code of a base32 secret, for interop checks and debugging.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use softtoken_core::protocol::otp::{Algorithm, OtpParams};
use softtoken_core::{Secret, Totp};

use crate::failure::Failure;

/// Arguments of `softtoken otp`.
#[derive(Parser)]
pub struct Args {
    /// The secret in base32 (RFC 4648), with or without padding, any case, spaces allowed.
    #[arg(long)]
    secret: String,
    /// HMAC hash function: sha1, sha256 or sha512.
    #[arg(long, default_value = "sha1")]
    algorithm: String,
    /// Code length: 6 or 8.
    #[arg(long, default_value_t = 6)]
    digits: u32,
    /// Time step in seconds (10–300).
    #[arg(long, default_value_t = 30)]
    period: u64,
    /// The moment to compute the code for, in Unix seconds (default: now).
    #[arg(long)]
    time: Option<u64>,
}

/// Prints the code and nothing else.
pub fn run(args: Args) -> Result<(), Failure> {
    let algorithm: Algorithm = args.algorithm.parse().map_err(bad)?;
    let params = OtpParams::new(algorithm, args.digits, args.period).map_err(bad)?;
    let secret = decode_base32(&args.secret)?;
    let time = match args.time {
        Some(t) => t,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Failure::BadInput("the system clock is before 1970".into()))?
            .as_secs(),
    };
    println!("{}", Totp::new(secret, params).code_at(time));
    Ok(())
}

fn bad(e: impl std::fmt::Display) -> Failure {
    Failure::BadInput(e.to_string())
}

/// Decodes base32 the way people paste it: any case, spaces and hyphens, padding or not.
pub fn decode_base32(text: &str) -> Result<Secret, Failure> {
    let mut cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    while cleaned.ends_with('=') {
        cleaned.pop();
    }
    if cleaned.is_empty() {
        return Err(Failure::BadInput("the secret is empty".into()));
    }
    data_encoding::BASE32_NOPAD
        .decode(cleaned.as_bytes())
        .map(Secret::new)
        .map_err(|e| Failure::BadInput(format!("the secret is not valid base32: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_forms_agree() {
        let want = b"12345678901234567890".to_vec();
        for text in [
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
        ] {
            assert_eq!(decode_base32(text).unwrap().expose(), &want[..]);
        }
        assert_eq!(decode_base32("MZXW6===").unwrap().expose(), b"foo");
        assert!(decode_base32("").is_err());
        assert!(decode_base32("0189").is_err());
    }
}
