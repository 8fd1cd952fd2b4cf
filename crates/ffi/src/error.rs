//! The one error type the apps see, holding only what an app acts on.
//!
//! The core has rich errors (file paths, I/O sources, protocol detail); apps need to know
//! what to show and what to offer next. Every core error is converted here, in one place,
//! so the exported surface stays small and stable while the core evolves.

use softtoken_core::StoreError;
use softtoken_core::protocol::{ParamError, SerialError};

use crate::KeyWrapperError;
use crate::key_wrapper::ForeignKeyWrapper;

/// What went wrong, in the terms an app acts on. `detail` texts are English, for logs and
/// support; apps show their own localised text chosen by the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SoftTokenError {
    /// Something the customer typed or the app passed is not valid (a serial number, a
    /// service or user ID, OTP parameters): show `detail` by the field and let them retype.
    #[error("invalid input: {detail}")]
    InvalidInput {
        /// What is wrong, in English.
        detail: String,
    },
    /// A PIN must be 1 to 32 digits. Never counted as a wrong try.
    #[error("a PIN is 1 to 32 digits")]
    InvalidPin,
    /// The PIN was wrong. After the free tries run out, each further try must wait.
    #[error("wrong PIN: {attempts_left} tries left, next try in {retry_after_seconds} s")]
    WrongPin {
        /// Wrong PINs still allowed before tries have to wait.
        attempts_left: u32,
        /// Seconds before the next try is accepted (0: right away).
        retry_after_seconds: u64,
    },
    /// Too many wrong PINs: the try was not checked; wait, then try again.
    #[error("too many wrong PINs: try again in {retry_after_seconds} s")]
    TooSoon {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// The vault is locked: ask for the PIN and call `unlock` first.
    #[error("the token store is locked")]
    Locked,
    /// The operation needs a PIN and none is set.
    #[error("no PIN is set")]
    NoPin,
    /// A PIN is already set: use `change_pin`.
    #[error("a PIN is already set")]
    PinAlreadySet,
    /// No token with this serial number is in the vault.
    #[error("no token {serial} in this app")]
    TokenNotFound {
        /// The serial asked for, compact.
        serial: String,
    },
    /// The vault file is damaged or not a vault. It was left untouched; the way out is
    /// `TokenStore.reset` (which deletes every token).
    #[error("the token store is damaged: {detail}")]
    CorruptVault {
        /// What is wrong with the file.
        detail: String,
    },
    /// The vault was written by a newer version of the app: update the app.
    #[error("the token store was written by a newer app version: {detail}")]
    VaultTooNew {
        /// Which format version was found.
        detail: String,
    },
    /// The platform key could not be used right now (device locked, authentication needed,
    /// or the `KeyWrapper` threw something unexpected): try again later.
    #[error("the device key is unavailable: {detail}")]
    KeyUnavailable {
        /// What the `KeyWrapper` reported.
        detail: String,
    },
    /// The platform key is gone for good: the vault can never be opened again and must be
    /// reset (each bank then issues new tokens).
    #[error("the device key is lost: {detail}")]
    KeyLost {
        /// What the `KeyWrapper` reported.
        detail: String,
    },
    /// The vault file could not be read or written (storage full, permissions).
    #[error("storage failed: {detail}")]
    Storage {
        /// The I/O error.
        detail: String,
    },
    /// A bug: a state the core should never reach. Please report `detail`.
    #[error("internal error: {detail}")]
    Internal {
        /// What happened.
        detail: String,
    },
}

impl From<SerialError> for SoftTokenError {
    fn from(e: SerialError) -> Self {
        SoftTokenError::InvalidInput {
            detail: e.to_string(),
        }
    }
}

impl From<ParamError> for SoftTokenError {
    fn from(e: ParamError) -> Self {
        SoftTokenError::InvalidInput {
            detail: e.to_string(),
        }
    }
}

/// Converts a vault error. `wrapper` is the store's key wrapper: when the platform key
/// failed, the error it last reported says whether the key is lost or only unavailable.
pub(crate) fn store_error(e: StoreError, wrapper: &ForeignKeyWrapper) -> SoftTokenError {
    match e {
        StoreError::InvalidPin => SoftTokenError::InvalidPin,
        StoreError::WrongPin {
            attempts_left,
            retry_after_seconds,
        } => SoftTokenError::WrongPin {
            attempts_left,
            retry_after_seconds,
        },
        StoreError::TooSoon {
            retry_after_seconds,
        } => SoftTokenError::TooSoon {
            retry_after_seconds,
        },
        StoreError::Locked => SoftTokenError::Locked,
        StoreError::NoPin => SoftTokenError::NoPin,
        StoreError::PinAlreadySet => SoftTokenError::PinAlreadySet,
        StoreError::NotFound(serial) => SoftTokenError::TokenNotFound {
            serial: serial.as_str().to_owned(),
        },
        e @ StoreError::Corrupt { .. } => SoftTokenError::CorruptVault {
            detail: e.to_string(),
        },
        e @ StoreError::UnsupportedVersion { .. } => SoftTokenError::VaultTooNew {
            detail: e.to_string(),
        },
        StoreError::KeyWrapper(core) => match wrapper.take_last_error() {
            Some(KeyWrapperError::KeyLost { detail }) => SoftTokenError::KeyLost { detail },
            Some(
                KeyWrapperError::Unavailable { detail } | KeyWrapperError::Unexpected { detail },
            ) => SoftTokenError::KeyUnavailable { detail },
            // The foreign wrapper answered, but the core rejected its answer (a key of the
            // wrong length, say): the platform key no longer gives back what it wrapped.
            None => SoftTokenError::KeyLost {
                detail: core.to_string(),
            },
        },
        e @ StoreError::Io { .. } => SoftTokenError::Storage {
            detail: e.to_string(),
        },
        e @ StoreError::Duplicate(_) => SoftTokenError::Internal {
            detail: e.to_string(),
        },
    }
}
