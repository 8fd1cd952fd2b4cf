//! Why a whole PSKC document is refused.
//!
//! A document error means nothing from the file may be imported: the file is not
//! PSKC, is malformed, or its secrets cannot be trusted (wrong key, altered MAC).
//! A single key that is well-formed but not usable here is not an error: it is
//! skipped with a [`SkipReason`](crate::SkipReason) instead.
//!
//! No message ever holds a secret: only element names, positions, lengths and
//! algorithm names.

/// Why a PSKC document was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PskcError {
    /// Larger than [`MAX_DOCUMENT_BYTES`](crate::MAX_DOCUMENT_BYTES).
    #[error("the PSKC document is {bytes} bytes; at most {max} are accepted")]
    TooLarge {
        /// The size of the document.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not UTF-8 text.
    #[error("the PSKC document is not UTF-8 text")]
    NotUtf8,
    /// A `<!DOCTYPE` or `<!ENTITY` declaration: refused outright, so no external
    /// entity or DTD is ever read or expanded (XXE).
    #[error("the PSKC document declares a DOCTYPE or entities; these are refused")]
    Dtd,
    /// Not well-formed XML.
    #[error("the PSKC document is not well-formed XML: {0}")]
    Xml(String),
    /// The root element is not a PSKC `KeyContainer`.
    #[error(
        "the root element is {found}, not KeyContainer in namespace urn:ietf:params:xml:ns:keyprov:pskc"
    )]
    NotPskc {
        /// The root element found, as `{namespace}name`.
        found: String,
    },
    /// A `KeyContainer` version other than 1.0.
    #[error("unsupported KeyContainer Version {0:?}: only \"1.0\" (RFC 6030) is read")]
    Version(String),
    /// A required element or attribute is absent.
    #[error("{at}: missing {what}")]
    Missing {
        /// Where in the document.
        at: String,
        /// What is missing.
        what: &'static str,
    },
    /// An element or attribute holds a value that cannot be read (bad base64,
    /// not an integer, wrong length...).
    #[error("{at}: invalid {what}: {why}")]
    Invalid {
        /// Where in the document.
        at: String,
        /// Which value.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// An algorithm or mechanism this reader does not implement.
    #[error("{at}: unsupported {what} {uri:?}")]
    Unsupported {
        /// Where in the document.
        at: String,
        /// What kind of algorithm (encryption, MAC, key derivation...).
        what: &'static str,
        /// The URI or name found.
        uri: String,
    },
    /// The document holds encrypted values but no key or password was given.
    #[error("the PSKC document is encrypted: {0}")]
    KeyNeeded(&'static str),
    /// A password was given for a pre-shared-key document, or the other way round.
    #[error("{0}")]
    WrongKeyKind(&'static str),
    /// The key (pre-shared, or derived with a declared `KeyLength`) does not fit
    /// the encryption algorithm.
    #[error("the encryption key is {got} bytes but {algorithm} needs {needed}")]
    KeyLength {
        /// The length of the key.
        got: usize,
        /// The length the algorithm needs.
        needed: usize,
        /// The algorithm's short name.
        algorithm: &'static str,
    },
    /// The password or pre-shared key does not decrypt the document.
    #[error("the password or pre-shared key is wrong: the document's keys do not decrypt")]
    WrongKey,
    /// An encrypted value has no `ValueMAC`, so its integrity cannot be checked.
    #[error("{at}: encrypted value without ValueMAC; its integrity cannot be checked")]
    MacMissing {
        /// Where in the document.
        at: String,
    },
    /// A `ValueMAC` does not match: the file was altered (or the key is wrong).
    #[error("{at}: ValueMAC does not match: the file was altered, or the password or key is wrong")]
    MacMismatch {
        /// Where in the document.
        at: String,
    },
    /// The MAC matched but the value does not decrypt (bad padding): the sender
    /// encrypted it wrongly.
    #[error("{at}: the encrypted value does not decrypt (bad padding)")]
    Decrypt {
        /// Where in the document.
        at: String,
    },
}

impl PskcError {
    /// A stable, machine-readable code for the problem document of an import:
    /// `payload_too_large`, `invalid_pskc` (not PSKC, malformed, DTD, missing or
    /// bad values), `unsupported_pskc`, `pskc_key_needed` (no key, or the wrong
    /// kind), `pskc_wrong_key`, or `pskc_integrity` (a MAC missing or not matching).
    pub fn code(&self) -> &'static str {
        match self {
            PskcError::TooLarge { .. } => "payload_too_large",
            PskcError::NotUtf8
            | PskcError::Dtd
            | PskcError::Xml(_)
            | PskcError::NotPskc { .. }
            | PskcError::Version(_)
            | PskcError::Missing { .. }
            | PskcError::Invalid { .. } => "invalid_pskc",
            PskcError::Unsupported { .. } => "unsupported_pskc",
            PskcError::KeyNeeded(_) | PskcError::WrongKeyKind(_) => "pskc_key_needed",
            PskcError::KeyLength { .. } | PskcError::WrongKey => "pskc_wrong_key",
            PskcError::MacMissing { .. }
            | PskcError::MacMismatch { .. }
            | PskcError::Decrypt { .. } => "pskc_integrity",
        }
    }
}
