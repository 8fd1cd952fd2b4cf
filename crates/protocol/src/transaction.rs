//! 取引確認: codes bound to one transfer (this payee, this amount), built on OCRA.
//!
//! The bank creates a [`Challenge`] from the transfer's [`TransferDetails`]; the app scans
//! its QR payload (`softtoken://sign?v=1&...`, [`Challenge::to_payload`] /
//! [`Challenge::from_payload`]), shows the payee and amount, and on confirmation shows
//! [`Challenge::response`]. The OCRA question is the hex SHA-256 of a length-prefixed
//! encoding of every detail and the challenge id ([`Challenge::question`]), so a changed
//! detail changes the code.
//!
//! A token without a camera uses the manual mode ([`ManualDigits`]): the customer types a
//! 6-digit challenge number the bank chose for this challenge alone ([`ChallengeNumber`],
//! like chipTAN's start code), the last 6 digits of the payee account, then the amount in
//! minor units. The challenge number binds the code to one challenge: two transfers with
//! the same amount and account tail, or the same transfer asked twice, get different
//! digits and so different codes. Its first digit is 1–9 because a numeric OCRA question is
//! read as one number, which would lose leading zeros; the amount comes last (no leading
//! zero either), so every typed string is a different number.
//!
//! Both sides derive the transaction key with [`transaction_key`], so the TOTP seed itself
//! is never an OCRA key.

use std::fmt;

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::ServiceId;
use crate::ocra::{self, Inputs, Suite};
use crate::otp::Code;

/// The HKDF info of the transaction key (DESIGN §11).
pub const KEY_INFO: &[u8] = b"softtoken/ocra/v1";
/// The suite of scanned challenges: the question is the details' 64-hex-digit digest.
pub const SCAN_SUITE: &str = "OCRA-1:HOTP-SHA256-8:QH64";
/// The suite of the manual mode: the question is the typed digits (13 to 24 of them).
pub const MANUAL_SUITE: &str = "OCRA-1:HOTP-SHA256-8:QN24";
/// How many digits a transfer code has, in either mode (the `-8` of both suites).
pub const RESPONSE_DIGITS: u32 = 8;
/// The version of the QR payload this module writes and reads.
pub const PAYLOAD_VERSION: &str = "1";
/// The longest amount, in minor units, a challenge carries: 12 digits, so the manual
/// digits (6-digit challenge number + 6 account digits + amount) fit the manual suite's 24.
pub const MAX_AMOUNT: u64 = 999_999_999_999;

/// How many digits of the payee account the manual digits carry (its last ones).
pub const MANUAL_ACCOUNT_DIGITS: usize = 6;
/// The shortest manual digits: challenge number, account tail and a 1-digit amount.
pub const MANUAL_MIN_LEN: usize = 6 + MANUAL_ACCOUNT_DIGITS + 1;
/// The longest manual digits: challenge number, account tail and a 12-digit amount.
pub const MANUAL_MAX_LEN: usize = 6 + MANUAL_ACCOUNT_DIGITS + 12;

const PAYLOAD_PREFIX: &str = "softtoken://sign?";
const DIGEST_LABEL: &[u8] = b"softtoken/ocra/transaction/v1";

/// Why transfer details, a payload or typed digits were refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// A field is missing or malformed; the message says which and why.
    #[error("{field}: {reason}")]
    Field {
        /// The field's name, as in the payload and the API (`payee_account`, `amount`, ...).
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The text is not a `softtoken://sign?` payload.
    #[error("not a softtoken transaction challenge (softtoken://sign?v=1&...)")]
    NotAChallenge,
    /// The payload is of a version this app does not read.
    #[error("challenge version '{0}' is not supported; update the app")]
    Version(String),
    /// The payload names a field twice or one that no version defines.
    #[error("the challenge has an unknown or repeated field '{0}'")]
    UnknownField(String),
}

fn field(field: &'static str, reason: &'static str) -> TransactionError {
    TransactionError::Field { field, reason }
}

/// The transaction key: HKDF-SHA256(seed, info "softtoken/ocra/v1"), 32 bytes whatever the
/// seed's length (20, 32 or 64 bytes for SHA-1/256/512 tokens), for the SHA-256 suites.
pub fn transaction_key(seed: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(vec![0u8; 32]);
    Hkdf::<Sha256>::new(None, seed)
        .expand(KEY_INFO, &mut key)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 length"));
    key
}

fn suite(text: &str) -> Suite {
    text.parse()
        .unwrap_or_else(|_| unreachable!("the transaction suites are valid"))
}

/// The details of one transfer, as the bank states them and the customer confirms them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferDetails {
    payee_account: String,
    payee_name: String,
    amount: u64,
    currency: String,
}

impl TransferDetails {
    /// Validates the details: the account is 1–34 of `A-Z0-9` (a Japanese account number or
    /// an IBAN, spaces and hyphens dropped) with at least one digit; the name 1–70
    /// characters without control characters; the amount 1 to [`MAX_AMOUNT`] in the
    /// currency's minor units (yen for JPY, cents for EUR); the currency three letters
    /// (ISO 4217, upper-cased).
    pub fn new(
        payee_account: &str,
        payee_name: &str,
        amount: u64,
        currency: &str,
    ) -> Result<Self, TransactionError> {
        let account: String = payee_account
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if account.is_empty()
            || account.len() > 34
            || !account.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(field("payee_account", "1 to 34 letters and digits"));
        }
        if !account.bytes().any(|b| b.is_ascii_digit()) {
            return Err(field("payee_account", "must contain digits"));
        }
        let name = payee_name.trim();
        let name_len = name.chars().count();
        if name_len == 0 || name_len > 70 || name.chars().any(char::is_control) {
            return Err(field(
                "payee_name",
                "1 to 70 characters without control characters",
            ));
        }
        if amount == 0 || amount > MAX_AMOUNT {
            return Err(field("amount", "1 to 999999999999 minor units"));
        }
        let currency = currency.to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(field("currency", "three letters (ISO 4217)"));
        }
        Ok(TransferDetails {
            payee_account: account,
            payee_name: name.to_string(),
            amount,
            currency,
        })
    }

    /// The payee account, normalised (upper case, no spaces or hyphens).
    pub fn payee_account(&self) -> &str {
        &self.payee_account
    }

    /// The payee's name.
    pub fn payee_name(&self) -> &str {
        &self.payee_name
    }

    /// The amount in the currency's minor units.
    pub fn amount(&self) -> u64 {
        self.amount
    }

    /// The currency code.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The account with all but its last four characters masked, for audit trails and logs.
    pub fn masked_account(&self) -> String {
        mask_account(&self.payee_account)
    }

    /// The amount for people: `¥50,000`-style grouping in major units, e.g. `50,000 JPY`,
    /// `12.34 EUR` (exponent 0 for JPY, KRW and VND, 3 for BHD, KWD, JOD, OMR, TND, 2 else).
    pub fn display_amount(&self) -> String {
        let exponent = match self.currency.as_str() {
            "JPY" | "KRW" | "VND" | "ISK" | "CLP" => 0,
            "BHD" | "KWD" | "JOD" | "OMR" | "TND" | "IQD" | "LYD" => 3,
            _ => 2,
        };
        let scale = 10u64.pow(exponent);
        let major = group_thousands(self.amount / scale);
        if exponent == 0 {
            format!("{major} {}", self.currency)
        } else {
            let minor = self.amount % scale;
            format!(
                "{major}.{minor:0w$} {}",
                self.currency,
                w = exponent as usize
            )
        }
    }

    /// The digits the customer types in manual mode for the challenge numbered `number`:
    /// the number, the last 6 digits of the payee account (zero-padded on the left if it
    /// has fewer), then the amount in minor units.
    pub fn manual_digits(&self, number: ChallengeNumber) -> ManualDigits {
        let digits: Vec<char> = self
            .payee_account
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let tail: String = digits[digits.len().saturating_sub(MANUAL_ACCOUNT_DIGITS)..]
            .iter()
            .collect();
        ManualDigits(format!(
            "{}{tail:0>w$}{}",
            number.0,
            self.amount,
            w = MANUAL_ACCOUNT_DIGITS
        ))
    }
}

/// The manual mode's challenge number: six digits, the first 1–9 (100000 to 999999), chosen
/// by the bank at random for one challenge and shown on its screen before the account and
/// amount digits. What makes two challenges' manual digits, and so their codes, differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeNumber(u32);

impl ChallengeNumber {
    /// The smallest number: six digits, no leading zero.
    pub const MIN: u32 = 100_000;
    /// The largest number.
    pub const MAX: u32 = 999_999;

    /// The number `n`; refused unless it has six digits with no leading zero.
    pub fn new(n: u32) -> Result<Self, TransactionError> {
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(field("challenge_number", "100000 to 999999"));
        }
        Ok(ChallengeNumber(n))
    }

    /// A uniformly random number from `rng` (the bank's is a CSPRNG: the number must not be
    /// predictable, or a code could be asked for a challenge before it exists).
    pub fn random<R: rand::RngCore + rand::CryptoRng>(rng: &mut R) -> Self {
        use rand::Rng;
        ChallengeNumber(rng.gen_range(Self::MIN..=Self::MAX))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ChallengeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn group_thousands(n: u64) -> String {
    let plain = n.to_string();
    let mut out = String::new();
    for (i, c) in plain.chars().enumerate() {
        if i > 0 && (plain.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// All but the last four characters of `account` as `*` (an account of four or fewer
/// characters is masked entirely).
pub fn mask_account(account: &str) -> String {
    let len = account.chars().count();
    if len <= 4 {
        return "*".repeat(len);
    }
    let shown: String = account.chars().skip(len - 4).collect();
    format!("{}{shown}", "*".repeat(len - 4))
}

/// A transfer challenge: the bank's details, the bank (service) and the challenge's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The service (bank) that asks.
    pub service_id: ServiceId,
    /// The challenge's id: 1–64 of `A-Za-z0-9_-`, unique per challenge, so two transfers
    /// with the same details still get different codes.
    pub id: String,
    /// What the customer confirms.
    pub details: TransferDetails,
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

impl Challenge {
    /// A challenge for `details`; refuses an id that is not 1–64 of `A-Za-z0-9_-`.
    pub fn new(
        service_id: ServiceId,
        id: impl Into<String>,
        details: TransferDetails,
    ) -> Result<Self, TransactionError> {
        let id = id.into();
        if !valid_id(&id) {
            return Err(field("id", "1 to 64 of A-Z, a-z, 0-9, '_' or '-'"));
        }
        Ok(Challenge {
            service_id,
            id,
            details,
        })
    }

    /// The QR payload: `softtoken://sign?v=1&service=..&id=..&account=..&name=..&amount=..&currency=..`,
    /// values form-urlencoded (the name is UTF-8).
    pub fn to_payload(&self) -> String {
        let d = &self.details;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("v", PAYLOAD_VERSION)
            .append_pair("service", self.service_id.as_str())
            .append_pair("id", &self.id)
            .append_pair("account", &d.payee_account)
            .append_pair("name", &d.payee_name)
            .append_pair("amount", &d.amount.to_string())
            .append_pair("currency", &d.currency)
            .finish();
        format!("{PAYLOAD_PREFIX}{query}")
    }

    /// Reads a scanned payload; anything but exactly the fields of version 1, each once and
    /// valid, is refused with the field named.
    pub fn from_payload(payload: &str) -> Result<Self, TransactionError> {
        let query = payload
            .trim()
            .strip_prefix(PAYLOAD_PREFIX)
            .ok_or(TransactionError::NotAChallenge)?;
        let names = [
            "v", "service", "id", "account", "name", "amount", "currency",
        ];
        let mut values: [Option<String>; 7] = Default::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = names
                .iter()
                .position(|n| *n == key)
                .and_then(|i| values.get_mut(i))
                .filter(|slot| slot.is_none())
                .ok_or_else(|| TransactionError::UnknownField(key.to_string()))?;
            *slot = Some(value.into_owned());
        }
        let [v, service, id, account, name, amount, currency] = values;
        match v.as_deref() {
            Some(PAYLOAD_VERSION) => {}
            Some(other) => return Err(TransactionError::Version(other.to_string())),
            None => return Err(field("v", "missing")),
        }
        let service = service.ok_or(field("service", "missing"))?;
        let service_id =
            ServiceId::new(service).map_err(|_| field("service", "not a service ID"))?;
        let id = id.ok_or(field("id", "missing"))?;
        let amount = amount.ok_or(field("amount", "missing"))?;
        if amount.is_empty()
            || amount.starts_with('0')
            || !amount.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(field("amount", "a whole number of minor units"));
        }
        let amount: u64 = amount
            .parse()
            .map_err(|_| field("amount", "1 to 999999999999 minor units"))?;
        let details = TransferDetails::new(
            &account.ok_or(field("payee_account", "missing"))?,
            &name.ok_or(field("payee_name", "missing"))?,
            amount,
            &currency.ok_or(field("currency", "missing"))?,
        )?;
        Challenge::new(service_id, id, details)
    }

    /// The canonical encoding every detail is bound by: a label, then each of service, id,
    /// account, name, amount (decimal) and currency as a 4-byte big-endian length and its
    /// UTF-8 bytes. Unambiguous: no two different challenges encode alike.
    pub fn canonical_encoding(&self) -> Vec<u8> {
        let d = &self.details;
        let amount = d.amount.to_string();
        let mut out = DIGEST_LABEL.to_vec();
        for part in [
            self.service_id.as_str(),
            &self.id,
            &d.payee_account,
            &d.payee_name,
            &amount,
            &d.currency,
        ] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }

    /// SHA-256 of [`Challenge::canonical_encoding`], in lower-case hex: what the audit trail
    /// records instead of the details.
    pub fn digest_hex(&self) -> String {
        hex_lower(&Sha256::digest(self.canonical_encoding()))
    }

    /// The OCRA question of the scan suite: the digest as 64 hex digits.
    pub fn question(&self) -> String {
        self.digest_hex()
    }

    /// The code for this challenge from the token whose seed is `seed`.
    pub fn response(&self, seed: &[u8]) -> Code {
        scan_response(seed, &self.question())
            .unwrap_or_else(|_| unreachable!("a digest is a valid QH64 question"))
    }
}

/// The scan-suite code for a stored `question` (a challenge's [`Challenge::question`]):
/// what the server recomputes without keeping the details themselves.
pub fn scan_response(seed: &[u8], question: &str) -> Result<Code, ocra::OcraError> {
    let key = transaction_key(seed);
    ocra::response(
        &suite(SCAN_SUITE),
        &key,
        &Inputs {
            question,
            ..Default::default()
        },
    )
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digits of the manual mode, 13 to 24: the 6-digit challenge number (first digit
/// 1–9), the payee account's last 6 digits, then the amount in minor units (no leading
/// zero, at most 12 digits). Also the manual suite's OCRA question, as typed.
#[derive(Clone, PartialEq, Eq)]
pub struct ManualDigits(String);

impl ManualDigits {
    /// Reads what the customer typed; spaces and hyphens are dropped.
    pub fn parse(typed: &str) -> Result<Self, TransactionError> {
        let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !(MANUAL_MIN_LEN..=MANUAL_MAX_LEN).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(field(
                "digits",
                "13 to 24 digits: the challenge number, the account's last 6 digits, then the amount",
            ));
        }
        if digits.starts_with('0') {
            return Err(field(
                "digits",
                "the challenge number comes first and has no leading zero",
            ));
        }
        if digits.as_bytes()[6 + MANUAL_ACCOUNT_DIGITS] == b'0' {
            return Err(field(
                "digits",
                "the amount comes last and has no leading zero",
            ));
        }
        Ok(ManualDigits(digits))
    }

    /// The digits, ungrouped: what the customer types and the OCRA question.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The challenge number part: the first 6 digits.
    pub fn challenge_number(&self) -> &str {
        &self.0[..6]
    }

    /// The account part: the last 6 digits of the payee account.
    pub fn account_tail(&self) -> &str {
        &self.0[6..6 + MANUAL_ACCOUNT_DIGITS]
    }

    /// The amount part, in minor units.
    pub fn amount(&self) -> &str {
        &self.0[6 + MANUAL_ACCOUNT_DIGITS..]
    }

    /// The digits as shown to a person: challenge number, account tail and amount as three
    /// groups separated by spaces (`123456 456789 50000`); [`ManualDigits::parse`] reads it.
    pub fn grouped(&self) -> String {
        format!(
            "{} {} {}",
            self.challenge_number(),
            self.account_tail(),
            self.amount()
        )
    }

    /// The code for these digits from the token whose seed is `seed`.
    pub fn response(&self, seed: &[u8]) -> Code {
        let key = transaction_key(seed);
        ocra::response(
            &suite(MANUAL_SUITE),
            &key,
            &Inputs {
                question: &self.0,
                ..Default::default()
            },
        )
        .unwrap_or_else(|_| unreachable!("13 to 24 digits are a valid QN24 question"))
    }
}

impl fmt::Debug for ManualDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ManualDigits({})", self.0)
    }
}

impl fmt::Display for ManualDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> TransferDetails {
        TransferDetails::new("0012-3456789", "ヤマダ タロウ", 50_000, "jpy").unwrap()
    }

    fn challenge() -> Challenge {
        Challenge::new(ServiceId::new("bank-a").unwrap(), "tx_01", details()).unwrap()
    }

    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn both_suites_answer_with_response_digits() {
        for text in [SCAN_SUITE, MANUAL_SUITE] {
            assert_eq!(suite(text).digits(), RESPONSE_DIGITS, "{text}");
        }
        let code = challenge().response(SEED);
        assert_eq!(code.as_str().len(), 8);
    }

    #[test]
    fn details_are_normalised_and_shown() {
        let d = details();
        assert_eq!(d.payee_account(), "00123456789");
        assert_eq!(d.currency(), "JPY");
        assert_eq!(d.masked_account(), "*******6789");
        assert_eq!(d.display_amount(), "50,000 JPY");
        let eur = TransferDetails::new("DE89370400440532013000", "Max", 123_456, "EUR").unwrap();
        assert_eq!(eur.display_amount(), "1,234.56 EUR");
        assert_eq!(mask_account("123"), "***");
    }

    #[test]
    fn malformed_details_name_their_field() {
        let f = |r: Result<TransferDetails, TransactionError>| match r {
            Err(TransactionError::Field { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(f(TransferDetails::new("", "A", 1, "JPY")), "payee_account");
        assert_eq!(
            f(TransferDetails::new("ABCDEF", "A", 1, "JPY")),
            "payee_account"
        );
        assert_eq!(
            f(TransferDetails::new("12#4", "A", 1, "JPY")),
            "payee_account"
        );
        assert_eq!(f(TransferDetails::new("1234", " ", 1, "JPY")), "payee_name");
        assert_eq!(
            f(TransferDetails::new("1234", "a\nb", 1, "JPY")),
            "payee_name"
        );
        assert_eq!(
            f(TransferDetails::new("1234", &"x".repeat(71), 1, "JPY")),
            "payee_name"
        );
        assert_eq!(f(TransferDetails::new("1234", "A", 0, "JPY")), "amount");
        assert_eq!(
            f(TransferDetails::new("1234", "A", MAX_AMOUNT + 1, "JPY")),
            "amount"
        );
        assert_eq!(f(TransferDetails::new("1234", "A", 1, "YEN!")), "currency");
    }

    #[test]
    fn payload_round_trips_and_refuses_anything_else() {
        let c = challenge();
        let payload = c.to_payload();
        assert!(payload.starts_with("softtoken://sign?v=1&service=bank-a&id=tx_01&"));
        assert_eq!(Challenge::from_payload(&payload).unwrap(), c);

        assert_eq!(
            Challenge::from_payload("https://evil.example/sign?v=1"),
            Err(TransactionError::NotAChallenge)
        );
        assert_eq!(
            Challenge::from_payload(&payload.replace("v=1", "v=2")),
            Err(TransactionError::Version("2".into()))
        );
        assert_eq!(
            Challenge::from_payload(&format!("{payload}&amount=1")),
            Err(TransactionError::UnknownField("amount".into()))
        );
        assert_eq!(
            Challenge::from_payload(&format!("{payload}&memo=x")),
            Err(TransactionError::UnknownField("memo".into()))
        );
        let no_name: Vec<&str> = payload
            .split('&')
            .filter(|p| !p.starts_with("name="))
            .collect();
        assert!(matches!(
            Challenge::from_payload(&no_name.join("&")),
            Err(TransactionError::Field {
                field: "payee_name",
                ..
            })
        ));
        for (from, to, field_name) in [
            ("amount=50000", "amount=050000", "amount"),
            ("amount=50000", "amount=-5", "amount"),
            ("amount=50000", "amount=99999999999999999999", "amount"),
            ("currency=JPY", "currency=JP", "currency"),
            ("id=tx_01", "id=", "id"),
            ("service=bank-a", "service=..", "service"),
        ] {
            match Challenge::from_payload(&payload.replace(from, to)) {
                Err(TransactionError::Field { field, .. }) => assert_eq!(field, field_name, "{to}"),
                other => panic!("{to}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_detail_changes_the_code() {
        let c = challenge();
        let code = c.response(SEED);
        assert_eq!(code.as_str().len(), 8);
        let changed = [
            Challenge {
                id: "tx_02".into(),
                ..c.clone()
            },
            Challenge {
                service_id: ServiceId::new("bank-b").unwrap(),
                ..c.clone()
            },
            Challenge {
                details: TransferDetails::new("00123456780", "ヤマダ タロウ", 50_000, "JPY")
                    .unwrap(),
                ..c.clone()
            },
            Challenge {
                details: TransferDetails::new("00123456789", "ヤマダ ハナコ", 50_000, "JPY")
                    .unwrap(),
                ..c.clone()
            },
            Challenge {
                details: TransferDetails::new("00123456789", "ヤマダ タロウ", 50_001, "JPY")
                    .unwrap(),
                ..c.clone()
            },
            Challenge {
                details: TransferDetails::new("00123456789", "ヤマダ タロウ", 50_000, "USD")
                    .unwrap(),
                ..c.clone()
            },
        ];
        for other in changed {
            assert_ne!(other.digest_hex(), c.digest_hex(), "{other:?}");
            assert_ne!(other.response(SEED), code, "{other:?}");
        }
        // Another token's seed gives another code.
        assert_ne!(c.response(b"another seed of twenty"), code);
    }

    #[test]
    fn the_scan_code_is_ocra_of_the_digest_under_the_derived_key() {
        let c = challenge();
        let key = transaction_key(SEED);
        assert_ne!(key.as_slice(), SEED);
        let q = c.question();
        assert_eq!(q.len(), 64);
        let direct = ocra::response(
            &SCAN_SUITE.parse().unwrap(),
            &key,
            &Inputs {
                question: &q,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(direct, c.response(SEED));
        // The key is HKDF-SHA256(seed, info) with no salt: pinned so both sides never drift.
        let hk = Hkdf::<Sha256>::new(None, SEED);
        let mut want = [0u8; 32];
        hk.expand(b"softtoken/ocra/v1", &mut want).unwrap();
        assert_eq!(key.as_slice(), want);
    }

    #[test]
    fn manual_digits_are_challenge_number_account_tail_then_amount() {
        let d = details();
        let n = ChallengeNumber::new(123_456).unwrap();
        let m = d.manual_digits(n);
        assert_eq!(m.as_str(), "12345645678950000");
        assert_eq!(m.challenge_number(), "123456");
        assert_eq!(m.account_tail(), "456789");
        assert_eq!(m.amount(), "50000");
        assert_eq!(m.grouped(), "123456 456789 50000");
        assert_eq!(m.to_string(), m.as_str());
        // The grouped form, and hyphens, read back as the same digits.
        assert_eq!(ManualDigits::parse(&m.grouped()).unwrap(), m);
        assert_eq!(ManualDigits::parse("123456-456789-50000").unwrap(), m);
        // A short account is zero-padded on the left; a 1-digit amount gives 13 digits.
        let short = TransferDetails::new("12345", "A", 7, "JPY").unwrap();
        assert_eq!(short.manual_digits(n).as_str(), "1234560123457");
        // The largest amount gives 24 digits, the manual suite's maximum.
        let max = TransferDetails::new("1234567", "A", MAX_AMOUNT, "JPY").unwrap();
        let longest = max.manual_digits(ChallengeNumber::new(ChallengeNumber::MAX).unwrap());
        assert_eq!(longest.as_str().len(), MANUAL_MAX_LEN);
        assert_eq!(MANUAL_MAX_LEN, 24);
        assert_eq!(ManualDigits::parse(longest.as_str()).unwrap(), longest);
        assert_eq!(longest.amount(), "999999999999");
    }

    #[test]
    fn the_challenge_number_changes_the_manual_code() {
        // Same amount, same account tail (different accounts): only the number differs.
        let e = TransferDetails::new("GB33BUKB20201555555555", "E", 12_345, "JPY").unwrap();
        let f = TransferDetails::new("DE89370400440555555555", "F", 12_345, "JPY").unwrap();
        let n1 = ChallengeNumber::new(482_913).unwrap();
        let n2 = ChallengeNumber::new(482_914).unwrap();
        assert_eq!(e.manual_digits(n1), f.manual_digits(n1));
        assert_ne!(e.manual_digits(n1), f.manual_digits(n2));
        assert_ne!(
            e.manual_digits(n1).response(SEED),
            e.manual_digits(n2).response(SEED)
        );
        assert_ne!(
            e.manual_digits(n1).response(SEED),
            TransferDetails::new("GB33BUKB20201555555555", "E", 12_346, "JPY")
                .unwrap()
                .manual_digits(n1)
                .response(SEED)
        );
    }

    #[test]
    fn challenge_numbers_have_six_digits_without_a_leading_zero() {
        assert!(ChallengeNumber::new(99_999).is_err());
        assert!(ChallengeNumber::new(1_000_000).is_err());
        assert_eq!(ChallengeNumber::new(100_000).unwrap().get(), 100_000);
        assert_eq!(ChallengeNumber::new(999_999).unwrap().to_string(), "999999");
        let mut rng = rand::rngs::OsRng;
        for _ in 0..1000 {
            let n = ChallengeNumber::random(&mut rng);
            assert!((ChallengeNumber::MIN..=ChallengeNumber::MAX).contains(&n.get()));
            assert_eq!(ChallengeNumber::new(n.get()).unwrap(), n);
        }
    }

    #[test]
    fn malformed_manual_digits_are_refused() {
        for bad in [
            // 12 digits: too short for number, tail and an amount.
            "123456123456",
            // 25 digits: longer than the suite's 24.
            "1234561234561234567890123",
            // The challenge number starts with a zero.
            "0234561234565",
            // The amount starts with a zero.
            "1234561234560",
            "12345612345605000",
            // Not digits.
            "123456123456a",
            "１２３４５６１２３４５６７",
            "",
        ] {
            assert!(
                matches!(
                    ManualDigits::parse(bad),
                    Err(TransactionError::Field {
                        field: "digits",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        for good in ["1234561234561", "999999 000000 999999999999"] {
            assert!(ManualDigits::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn the_manual_code_is_ocra_qn24_of_the_digits_under_the_derived_key() {
        let m = ManualDigits::parse("482913 555555 12345").unwrap();
        let direct = ocra::response(
            &"OCRA-1:HOTP-SHA256-8:QN24".parse().unwrap(),
            &transaction_key(SEED),
            &Inputs {
                question: "48291355555512345",
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(m.response(SEED), direct);
        assert_eq!(m.response(SEED).as_str().len(), 8);
    }
}
