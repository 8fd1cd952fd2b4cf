//! What can go wrong with the vault, in terms a caller acts on.

use std::io;
use std::path::PathBuf;

use softtoken_protocol::Serial;

use crate::keywrap::KeyWrapError;

/// Why a vault operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The PIN is not 1–32 ASCII digits. Never counted as a wrong try.
    #[error("a PIN is 1 to 32 digits (0-9)")]
    InvalidPin,
    /// The PIN was wrong.
    #[error("wrong PIN ({attempts_left} tries left{})", wait_note(*retry_after_seconds))]
    WrongPin {
        /// Tries left before each further try has to wait.
        attempts_left: u32,
        /// Seconds before the next try is accepted (0: right away).
        retry_after_seconds: u64,
    },
    /// Too many wrong PINs: the next try is accepted only after a pause.
    #[error("too many wrong PINs: try again in {retry_after_seconds} s")]
    TooSoon {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// The vault is locked: unlock it with the PIN first.
    #[error("the vault is locked: enter the PIN first")]
    Locked,
    /// The operation needs a PIN and none is set.
    #[error("no PIN is set")]
    NoPin,
    /// A PIN is already set: change it instead.
    #[error("a PIN is already set")]
    PinAlreadySet,
    /// The vault file is damaged or is not a vault. It is left untouched.
    #[error("the vault {} is damaged or not a softtoken vault ({reason}); it was left untouched", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The vault was written by a newer softtoken.
    #[error("the vault {} has format version {version}, newer than this softtoken understands", path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Its format version.
        version: u16,
    },
    /// The platform could not wrap or unwrap the data key; the kind says whether a later
    /// try may work or only a reset helps.
    #[error(transparent)]
    KeyWrapper(#[from] KeyWrapError),
    /// Reading or writing the vault failed.
    #[error("vault file {}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// No token with this serial is in the vault.
    #[error("no token {} in the vault", .0.grouped())]
    NotFound(Serial),
    /// A token with this serial is already in the vault.
    #[error("token {} is already in the vault", .0.grouped())]
    Duplicate(Serial),
}

fn wait_note(seconds: u64) -> String {
    if seconds == 0 {
        String::new()
    } else {
        format!("; next try in {seconds} s")
    }
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
