//! 取引確認: the token's code for one transfer (DESIGN.md §11).
//!
//! The app reads the bank's challenge ([`read_challenge`], from the scanned QR), shows its
//! details (振込先, 金額) and, once the customer confirms, [`challenge_code`]; a token
//! without a camera takes the digits typed from the bank's screen ([`read_typed`],
//! [`typed_code`]). The OCRA algorithm, the challenge format and the transaction key are
//! in [`softtoken_protocol::transaction`], shared with the server.

use softtoken_protocol::transaction::{Challenge, ManualDigits, TransactionError};

use crate::token::Token;
use crate::vault::StoreError;

/// Why no code was given.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The challenge or the typed digits are malformed; the message names the field.
    #[error("{0}")]
    Malformed(#[from] TransactionError),
    /// The challenge is from another bank (service) than the token's.
    #[error("this challenge is for service '{challenge}', the token belongs to '{token}'")]
    OtherService {
        /// The challenge's service.
        challenge: String,
        /// The token's service.
        token: String,
    },
    /// The token is dead: revoked, stopped or replaced by its bank.
    #[error("the token is no longer in use (revoked, stopped or replaced by its bank)")]
    Revoked,
    /// The vault refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a scanned challenge payload, refusing anything malformed.
pub fn read_challenge(payload: &str) -> Result<Challenge, SignError> {
    Ok(Challenge::from_payload(payload)?)
}

/// Reads the digits the customer typed in manual mode: the bank's challenge number, the
/// payee account's last 6 digits, then the amount (spaces and hyphens allowed).
pub fn read_typed(digits: &str) -> Result<ManualDigits, SignError> {
    Ok(ManualDigits::parse(digits)?)
}

fn usable(token: &Token) -> Result<(), SignError> {
    // Stopped and replaced tokens are as dead as revoked ones: the bank refuses their codes.
    if token.state.is_dead() {
        return Err(SignError::Revoked);
    }
    Ok(())
}

/// `token`'s code for `challenge`; refused for a revoked token or another bank's challenge.
pub fn challenge_code(token: &Token, challenge: &Challenge) -> Result<String, SignError> {
    usable(token)?;
    if challenge.service_id != token.service_id {
        return Err(SignError::OtherService {
            challenge: challenge.service_id.to_string(),
            token: token.service_id.to_string(),
        });
    }
    Ok(challenge.response(token.secret.expose()).to_string())
}

/// `token`'s code for digits typed in manual mode.
pub fn typed_code(token: &Token, digits: &ManualDigits) -> Result<String, SignError> {
    usable(token)?;
    Ok(digits.response(token.secret.expose()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::token::TokenState;
    use softtoken_protocol::transaction::{ChallengeNumber, TransferDetails};
    use softtoken_protocol::{OtpParams, Serial, ServiceId};

    fn token(service: &str) -> Token {
        Token {
            serial: Serial::generate(),
            issuer: "Bank".into(),
            service_id: ServiceId::new(service).unwrap(),
            user_label: String::new(),
            params: OtpParams::REGISTRATION,
            secret: Secret::new(b"12345678901234567890".to_vec()),
            state: TokenState::Active,
            created_at: 0,
            server_url: "https://bank.example".into(),
            clock_offset_ms: 0,
        }
    }

    #[test]
    fn signs_its_own_banks_challenges_only() {
        let details = TransferDetails::new("1234567", "スズキ", 7, "JPY").unwrap();
        let c = Challenge::new(ServiceId::new("bank").unwrap(), "t1", details).unwrap();
        let payload = c.to_payload();
        let read = read_challenge(&payload).unwrap();
        let code = challenge_code(&token("bank"), &read).unwrap();
        assert_eq!(code, c.response(b"12345678901234567890").to_string());
        assert!(matches!(
            challenge_code(&token("other"), &read),
            Err(SignError::OtherService { .. })
        ));
        for dead in [
            TokenState::Revoked,
            TokenState::Stopped,
            TokenState::Replaced,
        ] {
            let mut revoked = token("bank");
            revoked.state = dead;
            assert!(
                matches!(challenge_code(&revoked, &read), Err(SignError::Revoked)),
                "{dead:?} signed"
            );
        }
        assert!(matches!(
            read_challenge("softtoken://sign?v=9"),
            Err(SignError::Malformed(_))
        ));
        let number = ChallengeNumber::new(482_913).unwrap();
        let typed = read_typed(&c.details.manual_digits(number).grouped()).unwrap();
        assert_eq!(typed.as_str(), "4829132345677");
        let code = typed_code(&token("bank"), &typed).unwrap();
        assert_eq!(code, typed.response(b"12345678901234567890").to_string());
        assert!(matches!(
            read_typed("701234567"),
            Err(SignError::Malformed(_))
        ));
    }
}
