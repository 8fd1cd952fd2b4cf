//! A customer's e-mail address: checked as it arrives, masked wherever it is shown.

use std::fmt;
use std::str::FromStr;

/// The longest address accepted (RFC 5321's limit on a forward path, less its brackets).
pub const MAX_ADDRESS_LEN: usize = 254;

/// A checked recipient address (`local@domain`, no display name). Its `Debug` and
/// `Display` show it masked; [`EmailAddress::as_str`] is for the SMTP envelope only.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    /// Checks `text` (surrounding spaces ignored): an error in words, naming nothing of the
    /// address itself, which the caller's message names as the field `email`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty".into());
        }
        if text.len() > MAX_ADDRESS_LEN {
            return Err(format!("is longer than {MAX_ADDRESS_LEN} characters"));
        }
        if text.contains(['<', '>', ',', ';', '\r', '\n', ' ']) {
            return Err("must be one bare address like name@example.co.jp".into());
        }
        let address = lettre::Address::from_str(text)
            .map_err(|_| "is not an e-mail address like name@example.co.jp".to_owned())?;
        // A domain without a dot (`user@localhost`) cannot be a customer's mailbox.
        if !address.domain().contains('.') || address.domain().starts_with('[') {
            return Err("must have an internet domain, like name@example.co.jp".into());
        }
        Ok(EmailAddress(address))
    }

    /// The address, for the message and its envelope.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    /// The address as lettre takes it.
    pub fn address(&self) -> &lettre::Address {
        &self.0
    }

    /// The address as the audit trail and the log show it.
    pub fn masked(&self) -> String {
        mask(self.as_str())
    }
}

/// `alice@example.co.jp` → `a***@example.co.jp`: enough for an operator to tell which
/// mailbox provider answered, not enough to learn whose mail it was.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        EmailAddress::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_addresses_are_kept_and_shown_masked() {
        let a = EmailAddress::parse(" taro.yamada+otp@example.co.jp ").unwrap();
        assert_eq!(a.as_str(), "taro.yamada+otp@example.co.jp");
        assert_eq!(a.masked(), "t***@example.co.jp");
        assert_eq!(format!("{a:?}"), "EmailAddress(t***@example.co.jp)");
        assert_eq!(a.to_string(), "t***@example.co.jp");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "Alice <alice@example.com>",
            "a@example.com, b@example.com",
            "alice@example.com\r\nBcc: x@example.com",
            "alice@[127.0.0.1]",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
