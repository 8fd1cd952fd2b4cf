//! Reads PSKC (RFC 6030) documents: the seeds of hardware OTP tokens as their
//! vendors deliver them.
//!
//! [`parse`] turns a document into the keys softtoken can use ([`ImportedKey`])
//! and those it cannot, each with a reason ([`Skipped`]). Whatever makes the
//! file untrustworthy or unreadable refuses it whole ([`PskcError`]): malformed
//! XML, a DOCTYPE (no entity or DTD is ever resolved), a wrong namespace,
//! missing fields, bad base64, a wrong password or key, any `ValueMAC` that
//! does not match.
//!
//! Supported protection: plain values; AES-128/192/256-CBC under a pre-shared
//! key or a PBKDF2-derived key (`DerivedKey`), with HMAC-SHA1/SHA2
//! value MACs whose key (`MACKey`) is itself encrypted. Not supported, and
//! refused with a reason: asymmetric key transport (certificates), other
//! ciphers, key wrap. XML signatures are not verified.
//!
//! This crate is pure: no I/O, no storage. The server maps the result onto its
//! tokens.

mod container;
mod crypto;
mod error;
mod package;
mod xml;

use std::collections::HashSet;

pub use container::MAX_PBKDF2_ITERATIONS;
pub use crypto::KeySource;
pub use error::PskcError;
pub use package::{
    ImportedKey, MAX_SECRET_BYTES, MAX_SERIAL_LEN, MIN_SECRET_BYTES, OtpKind, Seed, SkipReason,
    Skipped, valid_serial,
};

use container::Container;
use package::Outcome;
use xml::PSKC;

/// The largest document accepted: 8 MiB, room for well over 10,000 keys.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;

/// What a PSKC document holds, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// `KeyContainer@Id`, if any.
    pub id: Option<String>,
    /// The keys softtoken can use, in file order.
    pub keys: Vec<ImportedKey>,
    /// The key packages that were skipped, in file order.
    pub skipped: Vec<Skipped>,
}

/// Reads and verifies a PSKC document, decrypting it with `key` if needed.
///
/// Every `KeyPackage` is verified, so any error anywhere refuses the whole
/// document. A serial that repeats (ignoring case) is skipped after its first
/// usable occurrence.
pub fn parse(document: &[u8], key: &KeySource) -> Result<Import, PskcError> {
    if document.len() > MAX_DOCUMENT_BYTES {
        return Err(PskcError::TooLarge {
            bytes: document.len(),
            max: MAX_DOCUMENT_BYTES,
        });
    }
    let text = std::str::from_utf8(document).map_err(|_| PskcError::NotUtf8)?;
    let tree = xml::parse(text)?;
    let root = tree.root_element();
    if !xml::is(root, PSKC, "KeyContainer") {
        return Err(PskcError::NotPskc {
            found: xml::qualified(root),
        });
    }
    match root.attribute("Version") {
        Some("1.0") => {}
        Some(other) => return Err(PskcError::Version(xml::clip(other))),
        None => {
            return Err(PskcError::Missing {
                at: "KeyContainer".into(),
                what: "Version attribute",
            });
        }
    }
    let mut container = Container::read(root, key)?;
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = HashSet::new();
    for (i, node) in xml::children(root, PSKC, "KeyPackage").enumerate() {
        match package::read(node, i + 1, &mut container)? {
            Outcome::Key(k) => {
                if seen.insert(k.serial.to_ascii_uppercase()) {
                    keys.push(k);
                } else {
                    skipped.push(Skipped {
                        package: k.package,
                        serial: Some(k.serial.clone()),
                        reason: SkipReason::DuplicateSerial,
                    });
                }
            }
            Outcome::Skip(s) => skipped.push(s),
        }
    }
    Ok(Import {
        id: root.attribute("Id").map(str::to_string),
        keys,
        skipped,
    })
}
