//! A token as the core holds it: what the vault stores and what activation and
//! provisioning produce.

use serde::{Deserialize, Serialize};
use softtoken_protocol::status::TokenStatus;
use softtoken_protocol::{OtpParams, Serial, ServiceId};

use crate::otp::{TokenCode, Totp};
use crate::secret::Secret;

/// Where a token is in its life, as far as the app knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Activated or provisioned, waiting for the bank to confirm or register its first code.
    Pending,
    /// In use.
    Active,
    /// Revoked (トークン失効): kept only so the customer sees what happened.
    Revoked,
    /// The bank stopped OTP for the customer: kept only so the customer sees what happened.
    Stopped,
    /// Another token took its place (a device change or a newer activation).
    Replaced,
}

impl TokenState {
    /// The word `softtoken list --json` and the status call use.
    pub fn as_str(self) -> &'static str {
        self.status().as_str()
    }

    /// Whether the token can never give an accepted code again (shows no code).
    pub fn is_dead(self) -> bool {
        self.status().is_dead()
    }

    fn status(self) -> TokenStatus {
        match self {
            TokenState::Pending => TokenStatus::Pending,
            TokenState::Active => TokenStatus::Active,
            TokenState::Revoked => TokenStatus::Revoked,
            TokenState::Stopped => TokenStatus::Stopped,
            TokenState::Replaced => TokenStatus::Replaced,
        }
    }
}

impl From<TokenStatus> for TokenState {
    fn from(status: TokenStatus) -> Self {
        match status {
            TokenStatus::Pending => TokenState::Pending,
            TokenStatus::Active => TokenState::Active,
            TokenStatus::Revoked => TokenState::Revoked,
            TokenStatus::Stopped => TokenState::Stopped,
            TokenStatus::Replaced => TokenState::Replaced,
        }
    }
}

/// One token of one bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token's serial number (シリアル番号).
    pub serial: Serial,
    /// The bank's display name, shown above the code.
    pub issuer: String,
    /// The service this token belongs to on its server.
    pub service_id: ServiceId,
    /// The customer's own label (for instance the user ID at activation); may be empty.
    pub user_label: String,
    /// OTP parameters.
    pub params: OtpParams,
    /// The seed. Never leaves the core in the clear except into the encrypted vault.
    pub secret: Secret,
    /// Life-cycle state.
    pub state: TokenState,
    /// When the token was created, in Unix seconds.
    pub created_at: u64,
    /// The server that issued it (`https://…`), for time sync.
    pub server_url: String,
    /// Server clock minus device clock, in milliseconds, learned at activation or sync.
    pub clock_offset_ms: i64,
}

impl Token {
    /// What the token shows at device time `device_unix_ms`, corrected by its clock offset.
    pub fn code_at(&self, device_unix_ms: i64) -> TokenCode {
        let server_ms = device_unix_ms.saturating_add(self.clock_offset_ms).max(0);
        let seconds = u64::try_from(server_ms / 1000).unwrap_or(0);
        Totp::new(self.secret.clone(), self.params).at(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_offset_moves_the_code() {
        let token = Token {
            serial: Serial::generate(),
            issuer: "Bank".into(),
            service_id: ServiceId::new("bank").unwrap(),
            user_label: String::new(),
            params: OtpParams::REGISTRATION,
            secret: Secret::new(b"12345678901234567890".to_vec()),
            state: TokenState::Active,
            created_at: 0,
            server_url: "https://bank.example".into(),
            clock_offset_ms: 30_000,
        };
        // Device at 29 s, server 30 s ahead: the server is at 59 s, RFC 4226 counter 1.
        assert_eq!(token.code_at(29_000).code, "287082");
        assert_eq!(token.code_at(29_000).seconds_left, 1);
    }
}
