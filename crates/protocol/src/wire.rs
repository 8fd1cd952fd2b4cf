//! Encoding helpers shared by the protocol modules: base64 bytes on the wire,
//! and length-prefixed transcripts that cannot be read two ways.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Binary data carried in JSON as unpadded base64url.
#[derive(Clone, PartialEq, Eq)]
pub struct B64(pub Vec<u8>);

impl fmt::Debug for B64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B64({})", URL_SAFE_NO_PAD.encode(&self.0))
    }
}

impl Serialize for B64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&URL_SAFE_NO_PAD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for B64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map(B64)
            .map_err(|e| serde::de::Error::custom(format!("invalid base64url: {e}")))
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::PartialSchema for B64 {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[A-Za-z0-9_-]*$"))
            .content_encoding("base64url")
            .description(Some("Bytes as unpadded base64url."))
            .into()
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::ToSchema for B64 {}

/// A SHA-256 transcript of length-prefixed fields, so `("ab", "c")` and `("a", "bc")` differ.
#[derive(Clone, Default)]
pub struct Transcript(Sha256);

impl Transcript {
    /// Starts a transcript with a protocol label.
    pub fn new(label: &str) -> Self {
        let mut t = Transcript(Sha256::new());
        t.push(label.as_bytes());
        t
    }

    /// Appends one field.
    pub fn push(&mut self, field: &[u8]) -> &mut Self {
        // Fields here are a few hundred bytes at most; u64 keeps the prefix unambiguous anyway.
        self.0.update((field.len() as u64).to_be_bytes());
        self.0.update(field);
        self
    }

    /// The hash of everything pushed.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// Length-prefixed concatenation, for HKDF info and PBKDF2 salts.
pub fn concat(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        out.extend_from_slice(&(f.len() as u64).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}
