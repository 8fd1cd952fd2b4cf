//! 取引確認 for the apps: read a scanned transfer challenge, show its details, and give the
//! chosen token's code for it (or for digits typed in manual mode). Thin: the logic is in
//! `softtoken_core::sign` and the protocol crate.

use softtoken_core::protocol::Serial;
use softtoken_core::sign::{self, SignError};

use crate::{InputField, SoftTokenError, TokenStore};

/// What a transfer challenge asks the customer to confirm: show 振込先 and 金額 large.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransferChallenge {
    /// The bank (service) that asks; pick the token of this service.
    pub service_id: String,
    /// The challenge's id.
    pub id: String,
    /// The payee's name (振込先).
    pub payee_name: String,
    /// The payee's account.
    pub payee_account: String,
    /// The payee's account as the bank's screen shows it: all but the last four masked.
    pub masked_account: String,
    /// The amount in the currency's minor units.
    pub amount: u64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The amount for people, e.g. `50,000 JPY` (金額).
    pub display_amount: String,
}

impl From<SignError> for SoftTokenError {
    fn from(e: SignError) -> Self {
        match e {
            SignError::Store(e) => e.into(),
            SignError::Revoked => SoftTokenError::invalid(InputField::Serial, e),
            // A malformed payload or typed digits, or another bank's challenge.
            other => SoftTokenError::invalid(InputField::Other, other),
        }
    }
}

/// Reads a scanned challenge payload (`softtoken://sign?v=1&...`); anything malformed is
/// [`SoftTokenError::InvalidInput`] naming what is wrong.
#[uniffi::export]
pub fn parse_transfer_challenge(payload: String) -> Result<TransferChallenge, SoftTokenError> {
    let c = sign::read_challenge(&payload)?;
    let d = &c.details;
    Ok(TransferChallenge {
        service_id: c.service_id.to_string(),
        id: c.id.clone(),
        payee_name: d.payee_name().to_string(),
        payee_account: d.payee_account().to_string(),
        masked_account: d.masked_account(),
        amount: d.amount(),
        currency: d.currency().to_string(),
        display_amount: d.display_amount(),
    })
}

#[uniffi::export]
impl TokenStore {
    /// Token `serial`'s code for the scanned challenge `payload`: call it only after the
    /// customer confirmed the details.
    pub fn sign_challenge(
        &self,
        serial: String,
        payload: String,
    ) -> Result<String, SoftTokenError> {
        let serial = Serial::parse(&serial)?;
        let challenge = sign::read_challenge(&payload)?;
        Ok(self.store()?.challenge_code(&serial, &challenge)?)
    }

    /// Token `serial`'s code for digits typed in manual mode: the bank's `manual_digits`
    /// (the 6-digit challenge number, the payee account's last 6 digits, then the amount;
    /// spaces and hyphens allowed).
    pub fn sign_typed_digits(
        &self,
        serial: String,
        digits: String,
    ) -> Result<String, SoftTokenError> {
        let serial = Serial::parse(&serial)?;
        let digits = sign::read_typed(&digits)?;
        Ok(self.store()?.typed_code(&serial, &digits)?)
    }
}
