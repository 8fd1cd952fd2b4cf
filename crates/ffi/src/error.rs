//! The one error type the apps see, holding only what an app acts on.
//!
//! The core has rich errors (file paths, I/O sources, protocol detail); apps need to know
//! what to show and what to offer next. Every core error is converted here, in one place,
//! so the exported surface stays small and stable while the core evolves.

use softtoken_core::protocol::{ParamError, SerialError};
use softtoken_core::{EnrollError, KeyWrapError, StoreError};

/// What went wrong, in the terms an app acts on. `detail` texts are English, for logs and
/// support; apps show their own localised text chosen by the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SoftTokenError {
    /// Something the customer typed or the app passed is not valid (a serial number, a
    /// service or user ID, a start password, an activation URI): mark `field` and let them
    /// retype. Nothing was sent anywhere.
    #[error("invalid {field:?}: {detail}")]
    InvalidInput {
        /// Which input is wrong, so a form can mark it.
        field: InputField,
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
    /// The start password (利用開始パスワード) was wrong; the server counted one failed try.
    #[error("wrong start password: {attempts_left} tries left")]
    WrongStartPassword {
        /// Tries left before the activation locks and the bank must issue a new one.
        attempts_left: u32,
    },
    /// No activation is waiting for this service and user: a typo in an ID, or it was
    /// already used or replaced. The bank can issue one.
    #[error("no activation is waiting for this user at this service")]
    EnrollmentNotFound,
    /// The activation expired: the bank must issue a new one.
    #[error("the activation has expired")]
    EnrollmentExpired,
    /// Too many wrong start passwords: the bank must issue a new activation.
    #[error("the activation is locked after too many wrong start passwords")]
    EnrollmentLocked,
    /// The server does not know this service ID.
    #[error("the server does not know this service")]
    UnknownService,
    /// The server asks the app to slow down: try again after `retry_after_seconds`.
    #[error("the server is busy: try again in {retry_after_seconds} s")]
    ServerBusy {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// The server refused for a reason the app cannot fix; `code` is the server's stable
    /// problem code, for support.
    #[error("the server refused ({status} {code}): {detail}")]
    ServerRefused {
        /// The HTTP status.
        status: u16,
        /// The server's problem code.
        code: String,
        /// What the server said.
        detail: String,
    },
    /// The server could not be reached (no network, DNS, TLS, timeout): try again later.
    /// For an activation, the start password was not used up.
    #[error("cannot reach the server: {detail}")]
    Network {
        /// What failed.
        detail: String,
    },
    /// The server answered something that is not the protocol, or an answer failed its
    /// integrity check (the wrong server, or tampering on the way): nothing was stored.
    #[error("the server's answer is not trustworthy: {detail}")]
    BadServerResponse {
        /// What was wrong.
        detail: String,
    },
    /// The vault already holds a token with this serial (an activation run twice on a
    /// copied vault, or a one-in-2^55 collision): nothing was changed.
    #[error("a token {serial} is already in this app")]
    DuplicateToken {
        /// The serial, compact.
        serial: String,
    },
    /// A bug: a state the core should never reach. Please report `detail`.
    #[error("internal error: {detail}")]
    Internal {
        /// What happened.
        detail: String,
    },
}

/// The input an [`SoftTokenError::InvalidInput`] refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum InputField {
    /// A serial number (シリアル番号).
    Serial,
    /// A service ID.
    ServiceId,
    /// A user ID.
    UserId,
    /// A start password (利用開始パスワード): 4 to 64 printable ASCII characters.
    StartPassword,
    /// An activation URI, as read from a QR code.
    ActivationUri,
    /// A server URL: `https://`, or `http://` only to this machine.
    ServerUrl,
    /// OTP settings (algorithm, digits, period).
    OtpSettings,
    /// Anything else, such as the app's bank directory file.
    Other,
}

impl SoftTokenError {
    /// An [`SoftTokenError::InvalidInput`] for `field`.
    pub(crate) fn invalid(field: InputField, detail: impl ToString) -> Self {
        SoftTokenError::InvalidInput {
            field,
            detail: detail.to_string(),
        }
    }
}

impl From<SerialError> for SoftTokenError {
    fn from(e: SerialError) -> Self {
        SoftTokenError::invalid(InputField::Serial, e)
    }
}

impl From<ParamError> for SoftTokenError {
    fn from(e: ParamError) -> Self {
        SoftTokenError::invalid(InputField::OtpSettings, e)
    }
}

/// Enrollment (activation, provisioning, time sync) errors, input errors among them.
impl From<EnrollError> for SoftTokenError {
    fn from(e: EnrollError) -> Self {
        match e {
            EnrollError::BadServerUrl { url, reason } => {
                SoftTokenError::invalid(InputField::ServerUrl, format!("{url:?}: {reason}"))
            }
            EnrollError::BadUri(reason) => {
                SoftTokenError::invalid(InputField::ActivationUri, reason)
            }
            e @ EnrollError::InvalidStartPassword => {
                SoftTokenError::invalid(InputField::StartPassword, e)
            }
            EnrollError::WrongStartPassword { attempts_left } => {
                SoftTokenError::WrongStartPassword { attempts_left }
            }
            EnrollError::EnrollmentNotFound => SoftTokenError::EnrollmentNotFound,
            EnrollError::EnrollmentExpired => SoftTokenError::EnrollmentExpired,
            EnrollError::EnrollmentLocked => SoftTokenError::EnrollmentLocked,
            EnrollError::UnknownService => SoftTokenError::UnknownService,
            EnrollError::RateLimited {
                retry_after_seconds,
            } => SoftTokenError::ServerBusy {
                retry_after_seconds,
            },
            EnrollError::Refused {
                status,
                code,
                detail,
                ..
            } => SoftTokenError::ServerRefused {
                status,
                code,
                detail,
            },
            // The shells never hand the core a CA file; should one, it is a set-up failure.
            // The shells' own words for a certificate error are still to come (issue 25
            // item 9 covered the desktop token); until then the detail names it.
            e @ (EnrollError::Network { .. }
            | EnrollError::BadCaFile { .. }
            | EnrollError::Certificate { .. }) => SoftTokenError::Network {
                detail: e.to_string(),
            },
            e @ (EnrollError::BadResponse { .. } | EnrollError::Protocol(_)) => {
                SoftTokenError::BadServerResponse {
                    detail: e.to_string(),
                }
            }
            EnrollError::Store(e) => e.into(),
        }
    }
}

/// Vault errors.
impl From<StoreError> for SoftTokenError {
    fn from(e: StoreError) -> Self {
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
            StoreError::KeyWrapper(e) => e.into(),
            e @ StoreError::Io { .. } => SoftTokenError::Storage {
                detail: e.to_string(),
            },
            StoreError::Duplicate(serial) => SoftTokenError::DuplicateToken {
                serial: serial.as_str().to_owned(),
            },
        }
    }
}

/// The platform key's failures, by the kind the core carries.
impl From<KeyWrapError> for SoftTokenError {
    fn from(e: KeyWrapError) -> Self {
        match e {
            KeyWrapError::Unavailable { detail } => SoftTokenError::KeyUnavailable { detail },
            KeyWrapError::KeyLost { detail } => SoftTokenError::KeyLost { detail },
        }
    }
}
