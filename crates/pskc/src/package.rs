//! One `KeyPackage`: its device serial, key algorithm, parameters and secret,
//! and whether softtoken can use it.
//!
//! Every protected value of every package is opened (MAC checked, decrypted)
//! before the package is judged, so an altered value anywhere refuses the whole
//! document, even in a package that would have been skipped.

use std::fmt;

use roxmltree::Node;
use softtoken_protocol::{Algorithm, Digits, Period};
use zeroize::Zeroizing;

use crate::PskcError;
use crate::container::{Container, Encrypted};
use crate::xml::{self, PSKC};

/// The TOTP algorithm URI (RFC 6030 registry), and the form of earlier drafts.
const TOTP: [&str; 2] = [
    "urn:ietf:params:xml:ns:keyprov:pskc:totp",
    "urn:ietf:params:xml:ns:keyprov:pskc#totp",
];
/// The HOTP algorithm URI (RFC 6030 §10.1), and the form of earlier drafts.
const HOTP: [&str; 2] = [
    "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
    "urn:ietf:params:xml:ns:keyprov:pskc#hotp",
];
/// RFC 4226 §4 R6: a shared secret is at least 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;
/// No OTP token has a longer seed; a bound on what is stored.
pub const MAX_SECRET_BYTES: usize = 128;
/// The longest vendor serial accepted.
pub const MAX_SERIAL_LEN: usize = 64;

/// A token seed read from the file: wiped on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed(Zeroizing<Vec<u8>>);

impl Seed {
    /// The raw bytes, for computing codes or encrypting at rest.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seed([REDACTED; {} bytes])", self.0.len())
    }
}

/// How codes of an imported token advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpKind {
    /// TOTP (RFC 6238) with T0 = 0.
    Totp {
        /// `TimeInterval` (30 s when absent).
        period: Period,
        /// `TimeDrift`: how many intervals the device clock is known to be off
        /// (0 when absent).
        drift_steps: i64,
        /// `Time`, when present: RFC 6030 leaves its meaning to the algorithm
        /// (a number of intervals since a start point); kept for the record, not used.
        time: Option<u64>,
    },
    /// HOTP (RFC 4226).
    Hotp {
        /// `Counter`: the next counter value (0 when absent).
        counter: u64,
    },
}

/// A key softtoken can import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedKey {
    /// The position of its `KeyPackage` in the file, from 1.
    pub package: usize,
    /// `DeviceInfo/SerialNo`, trimmed: 1–64 of `[A-Za-z0-9-]`.
    pub serial: String,
    /// `DeviceInfo/Manufacturer`.
    pub manufacturer: Option<String>,
    /// `Key@Id`.
    pub key_id: Option<String>,
    /// `Key/Issuer`.
    pub issuer: Option<String>,
    /// The HMAC hash (`AlgorithmParameters/Suite`, SHA-1 when absent).
    pub algorithm: Algorithm,
    /// `ResponseFormat@Length`.
    pub digits: Digits,
    /// TOTP or HOTP, with their state.
    pub kind: OtpKind,
    /// The seed.
    pub secret: Seed,
}

/// A key package that was read but cannot be used by softtoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The position of its `KeyPackage` in the file, from 1.
    pub package: usize,
    /// Its serial, if it has one.
    pub serial: Option<String>,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// Why a key package was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// The package has no `Key`.
    #[error("the key package holds no Key")]
    NoKey,
    /// No `DeviceInfo/SerialNo`: the token could never be registered.
    #[error("no DeviceInfo/SerialNo")]
    NoSerial,
    /// The serial is not 1–64 of `[A-Za-z0-9-]`.
    #[error("serial is not 1 to 64 letters, digits or hyphens")]
    BadSerial,
    /// The serial starts with `SKTS`, the prefix of softtoken's own serials: a
    /// hardware token under it could be mistaken for (or collide with) a soft token.
    #[error("serial starts with SKTS, which is reserved for softtoken's own tokens")]
    ReservedSerial,
    /// The same serial (ignoring case) came earlier in the file.
    #[error("serial appears earlier in this file")]
    DuplicateSerial,
    /// Neither TOTP nor HOTP.
    #[error("algorithm {0:?} is not TOTP or HOTP")]
    Algorithm(String),
    /// `AlgorithmParameters/Suite` names a hash softtoken does not support.
    #[error("algorithm suite {0:?} is not HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512")]
    Suite(String),
    /// No `ResponseFormat` length.
    #[error("no AlgorithmParameters/ResponseFormat@Length")]
    NoResponseFormat,
    /// Codes that are not decimal.
    #[error("response encoding {0:?} is not DECIMAL")]
    Encoding(String),
    /// Not 6 or 8 digits.
    #[error("codes of {0} digits are not supported (6 or 8)")]
    Digits(u32),
    /// A TOTP interval outside 10–300 s.
    #[error("a time interval of {0} s is not supported (10 to 300)")]
    Period(u64),
    /// No secret value in the file (a key derived elsewhere, RFC 6030 Figure 4).
    #[error("no Secret value in the file")]
    NoSecret,
    /// A seed too short to be safe, or longer than any token's.
    #[error("a secret of {0} bytes is not accepted (16 to 128)")]
    SecretLength(usize),
    /// `Policy/KeyUsage` does not allow OTP.
    #[error("Policy/KeyUsage does not include OTP")]
    KeyUsage,
}

/// What became of one key package.
pub enum Outcome {
    /// Usable.
    Key(ImportedKey),
    /// Read and verified, but not usable.
    Skip(Skipped),
}

/// The values of `Key/Data`, opened.
struct Data {
    secret: Option<Zeroizing<Vec<u8>>>,
    counter: Option<u64>,
    time: Option<u64>,
    interval: Option<u64>,
    drift: Option<i64>,
}

/// Reads the `package`-th `KeyPackage` (from 1).
pub fn read(
    node: Node<'_, '_>,
    package: usize,
    keys: &mut Container<'_>,
) -> Result<Outcome, PskcError> {
    let device = xml::child(node, PSKC, "DeviceInfo");
    let serial = device
        .and_then(|d| xml::child(d, PSKC, "SerialNo"))
        .map(xml::text)
        .filter(|s| !s.is_empty());
    let skip = |reason| {
        Ok(Outcome::Skip(Skipped {
            package,
            serial: serial.as_deref().map(xml::clip),
            reason,
        }))
    };
    let at = |field: &str| match &serial {
        Some(s) => format!("KeyPackage {package} (serial {:?}) {field}", xml::clip(s))
            .trim_end()
            .to_string(),
        None => format!("KeyPackage {package} {field}")
            .trim_end()
            .to_string(),
    };
    // RFC 6030's schema allows one Key per package; a second one would be
    // neither imported nor verified, so it is refused rather than ignored.
    if xml::children(node, PSKC, "Key").nth(1).is_some() {
        return Err(PskcError::Invalid {
            at: at(""),
            what: "KeyPackage",
            why: "more than one Key".into(),
        });
    }
    let Some(key) = xml::child(node, PSKC, "Key") else {
        return skip(SkipReason::NoKey);
    };
    let data = read_data(key, keys, &at)?;
    let params = xml::child(key, PSKC, "AlgorithmParameters");
    let format = params.and_then(|p| xml::child(p, PSKC, "ResponseFormat"));
    let length = match format.and_then(|f| f.attribute("Length")) {
        None => None,
        Some(text) => Some(text.trim().parse::<u32>().map_err(|_| PskcError::Invalid {
            at: at("ResponseFormat"),
            what: "Length",
            why: format!("{:?} is not a number", xml::clip(text)),
        })?),
    };

    let Some(serial_text) = serial.clone() else {
        return skip(SkipReason::NoSerial);
    };
    if !valid_serial(&serial_text) {
        return skip(SkipReason::BadSerial);
    }
    if serial_text.len() >= 4 && serial_text[..4].eq_ignore_ascii_case("SKTS") {
        return skip(SkipReason::ReservedSerial);
    }
    let uri = key.attribute("Algorithm").unwrap_or_default().trim();
    let is_totp = TOTP.contains(&uri);
    if !is_totp && !HOTP.contains(&uri) {
        return skip(SkipReason::Algorithm(xml::clip(uri)));
    }
    if let Some(policy) = xml::child(key, PSKC, "Policy") {
        let mut usages = xml::children(policy, PSKC, "KeyUsage").peekable();
        if usages.peek().is_some() && !usages.any(|u| xml::text(u) == "OTP") {
            return skip(SkipReason::KeyUsage);
        }
    }
    let algorithm = match params
        .and_then(|p| xml::child(p, PSKC, "Suite"))
        .map(xml::text)
    {
        None => Algorithm::Sha1,
        Some(suite) => {
            let bare = suite
                .strip_prefix("HMAC-")
                .or_else(|| suite.strip_prefix("hmac-"))
                .unwrap_or(&suite);
            match bare.parse::<Algorithm>() {
                Ok(a) => a,
                Err(_) => return skip(SkipReason::Suite(xml::clip(&suite))),
            }
        }
    };
    let Some(length) = length else {
        return skip(SkipReason::NoResponseFormat);
    };
    if let Some(encoding) = format.and_then(|f| f.attribute("Encoding"))
        && encoding.trim() != "DECIMAL"
    {
        return skip(SkipReason::Encoding(xml::clip(encoding)));
    }
    let Ok(digits) = Digits::try_from(length) else {
        return skip(SkipReason::Digits(length));
    };
    let kind = if is_totp {
        let seconds = data.interval.unwrap_or(30);
        let Ok(period) = Period::new(seconds) else {
            return skip(SkipReason::Period(seconds));
        };
        OtpKind::Totp {
            period,
            drift_steps: data.drift.unwrap_or(0),
            time: data.time,
        }
    } else {
        OtpKind::Hotp {
            counter: data.counter.unwrap_or(0),
        }
    };
    let Some(secret) = data.secret else {
        return skip(SkipReason::NoSecret);
    };
    if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&secret.len()) {
        return skip(SkipReason::SecretLength(secret.len()));
    }
    let optional = |parent: Option<Node<'_, '_>>, name: &str| {
        parent
            .and_then(|p| xml::child(p, PSKC, name))
            .map(xml::text)
            .filter(|s| !s.is_empty())
    };
    Ok(Outcome::Key(ImportedKey {
        package,
        serial: serial_text,
        manufacturer: optional(device, "Manufacturer"),
        key_id: key.attribute("Id").map(str::to_string),
        issuer: optional(Some(key), "Issuer"),
        algorithm,
        digits,
        kind,
        secret: Seed(secret),
    }))
}

/// Whether `serial` is 1–64 of `[A-Za-z0-9-]`.
pub fn valid_serial(serial: &str) -> bool {
    (1..=MAX_SERIAL_LEN).contains(&serial.len())
        && serial
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Opens every value in `Key/Data`.
fn read_data(
    key: Node<'_, '_>,
    keys: &mut Container<'_>,
    at: &dyn Fn(&str) -> String,
) -> Result<Data, PskcError> {
    let mut data = Data {
        secret: None,
        counter: None,
        time: None,
        interval: None,
        drift: None,
    };
    let Some(node) = xml::child(key, PSKC, "Data") else {
        return Ok(data);
    };
    // Each value appears once (RFC 6030 schema); a repeated one would go unread
    // and unverified, so it is refused.
    let mut names = std::collections::HashSet::new();
    for el in node.children().filter(|n| n.is_element()) {
        if !names.insert(el.tag_name().name()) {
            return Err(PskcError::Invalid {
                at: at("Data"),
                what: "Data",
                why: format!("{} appears more than once", xml::clip(el.tag_name().name())),
            });
        }
    }
    if let Some(el) = xml::child(node, PSKC, "Secret") {
        let where_ = || at("Data/Secret");
        data.secret = Some(match open(el, keys, &where_)? {
            Value::Plain(text) => xml::base64(&text, where_, "Secret PlainValue")?,
            Value::Decrypted(bytes) => bytes,
        });
    }
    data.counter = read_uint(node, "Counter", keys, at)?;
    data.time = read_uint(node, "Time", keys, at)?;
    data.interval = read_uint(node, "TimeInterval", keys, at)?;
    if let Some(el) = xml::child(node, PSKC, "TimeDrift") {
        let where_ = || at("Data/TimeDrift");
        data.drift = Some(match open(el, keys, &where_)? {
            Value::Plain(text) => text.parse::<i64>().map_err(|_| PskcError::Invalid {
                at: where_(),
                what: "PlainValue",
                why: format!("{:?} is not an integer", xml::clip(&text)),
            })?,
            Value::Decrypted(bytes) => {
                let n = big_endian(&bytes, &where_)?;
                i64::try_from(n).map_err(|_| PskcError::Invalid {
                    at: where_(),
                    what: "EncryptedValue",
                    why: "out of range".into(),
                })?
            }
        });
    }
    Ok(data)
}

/// Reads a non-negative integer `Data` element such as `Counter`.
fn read_uint(
    data: Node<'_, '_>,
    name: &'static str,
    keys: &mut Container<'_>,
    at: &dyn Fn(&str) -> String,
) -> Result<Option<u64>, PskcError> {
    let Some(el) = xml::child(data, PSKC, name) else {
        return Ok(None);
    };
    let where_ = || at(&format!("Data/{name}"));
    match open(el, keys, &where_)? {
        Value::Plain(text) => text
            .parse::<u64>()
            .map(Some)
            .map_err(|_| PskcError::Invalid {
                at: where_(),
                what: "PlainValue",
                why: format!("{:?} is not a non-negative integer", xml::clip(&text)),
            }),
        Value::Decrypted(bytes) => big_endian(&bytes, &where_).map(Some),
    }
}

/// An encrypted integer is its big-endian bytes (as python-pskc writes them).
fn big_endian(bytes: &[u8], at: &dyn Fn() -> String) -> Result<u64, PskcError> {
    if bytes.is_empty() || bytes.len() > 8 {
        return Err(PskcError::Invalid {
            at: at(),
            what: "EncryptedValue",
            why: format!("an integer of {} bytes", bytes.len()),
        });
    }
    Ok(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// A `Data` value as it is stored.
enum Value {
    /// `PlainValue` text, trimmed.
    Plain(String),
    /// `EncryptedValue`, MAC-checked and decrypted.
    Decrypted(Zeroizing<Vec<u8>>),
}

/// Opens a `Data` element: its `PlainValue`, or its `EncryptedValue` checked
/// against its `ValueMAC`.
fn open(
    el: Node<'_, '_>,
    keys: &mut Container<'_>,
    at: &dyn Fn() -> String,
) -> Result<Value, PskcError> {
    if let Some(plain) = xml::child(el, PSKC, "PlainValue") {
        return Ok(Value::Plain(xml::text(plain)));
    }
    let Some(enc) = xml::child(el, PSKC, "EncryptedValue") else {
        return Err(PskcError::Missing {
            at: at(),
            what: "PlainValue or EncryptedValue",
        });
    };
    let encrypted = Encrypted::read(enc, at)?;
    let mac = match xml::child(el, PSKC, "ValueMAC") {
        Some(m) => Some(xml::base64(&xml::text(m), at, "ValueMAC")?),
        None => None,
    };
    keys.open(&encrypted, mac.as_deref().map(|m| m.as_slice()), at)
        .map(Value::Decrypted)
}
