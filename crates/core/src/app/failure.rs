//! Why a core call failed, in the terms the app acts on, and the one place each becomes a
//! customer message.

use super::messages::{Message, MessageKey};
use super::view::InputField;
use crate::enroll::EnrollError;
use crate::keywrap::KeyWrapError;
use crate::sign::SignError;
use crate::vault::StoreError;

/// A failed core call, as the flows tell failures apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    InvalidPin,
    WrongPin {
        attempts_left: u32,
        retry_after_seconds: u64,
    },
    TooSoon {
        retry_after_seconds: u64,
    },
    Locked,
    WrongStartPassword {
        attempts_left: u32,
    },
    EnrollmentLocked,
    EnrollmentExpired,
    EnrollmentNotFound,
    /// Something typed or scanned is malformed; `field` names it when the customer can fix it.
    InvalidInput {
        field: Option<InputField>,
    },
    /// 取引確認 for a dead token (revoked, stopped, replaced).
    Revoked,
    /// A malformed challenge or typed digits, or another bank's challenge.
    Malformed,
    Network,
    Rejected,
    KeyUnavailable,
    CorruptVault,
    KeyLost,
    VaultTooNew,
    Storage,
    TokenNotFound,
    Internal,
}

impl Failure {
    /// The message for this failure.
    pub(crate) fn message(&self) -> Message {
        let key = match *self {
            Failure::InvalidPin => MessageKey::InvalidPin,
            Failure::WrongPin {
                attempts_left,
                retry_after_seconds,
            } => {
                return if retry_after_seconds > 0 {
                    Message::with(
                        MessageKey::WrongPinWait,
                        vec![i64::from(attempts_left), seconds(retry_after_seconds)],
                    )
                } else {
                    Message::with(MessageKey::WrongPin, vec![i64::from(attempts_left)])
                };
            }
            Failure::TooSoon {
                retry_after_seconds,
            } => return Message::with(MessageKey::PinWait, vec![seconds(retry_after_seconds)]),
            Failure::Locked => MessageKey::Locked,
            Failure::WrongStartPassword { attempts_left } => {
                return Message::with(
                    MessageKey::WrongStartPassword,
                    vec![i64::from(attempts_left)],
                );
            }
            Failure::EnrollmentLocked => MessageKey::EnrollmentLocked,
            Failure::EnrollmentExpired => MessageKey::EnrollmentExpired,
            Failure::EnrollmentNotFound => MessageKey::EnrollmentNotFound,
            Failure::InvalidInput { field } => match field {
                Some(InputField::ServiceId) => MessageKey::InvalidServiceId,
                Some(InputField::UserId) => MessageKey::InvalidUserId,
                Some(InputField::StartPassword) => MessageKey::InvalidStartPassword,
                Some(InputField::ActivationUri) => MessageKey::InvalidActivationUri,
                None => MessageKey::InvalidInput,
            },
            Failure::Revoked => MessageKey::SignRevoked,
            Failure::Malformed => MessageKey::SignMalformed,
            Failure::Network => MessageKey::Network,
            Failure::Rejected => MessageKey::Rejected,
            Failure::KeyUnavailable => MessageKey::KeyUnavailable,
            Failure::CorruptVault => MessageKey::CorruptVault,
            Failure::KeyLost => MessageKey::KeyLost,
            Failure::VaultTooNew => MessageKey::VaultTooNew,
            Failure::Storage => MessageKey::Storage,
            Failure::TokenNotFound => MessageKey::TokenNotFound,
            Failure::Internal => MessageKey::Internal,
        };
        Message::new(key)
    }

    /// The field a form marks for this failure.
    pub(crate) fn field(&self) -> Option<InputField> {
        match self {
            Failure::WrongStartPassword { .. } => Some(InputField::StartPassword),
            Failure::InvalidInput { field } => *field,
            _ => None,
        }
    }

    /// A failure that ends what is on screen: the vault locked or cannot be read.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(
            self,
            Failure::Locked | Failure::CorruptVault | Failure::KeyLost | Failure::KeyUnavailable
        )
    }
}

fn seconds(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidPin => Failure::InvalidPin,
            StoreError::WrongPin {
                attempts_left,
                retry_after_seconds,
            } => Failure::WrongPin {
                attempts_left,
                retry_after_seconds,
            },
            StoreError::TooSoon {
                retry_after_seconds,
            } => Failure::TooSoon {
                retry_after_seconds,
            },
            StoreError::Locked => Failure::Locked,
            StoreError::NotFound(_) => Failure::TokenNotFound,
            StoreError::Corrupt { .. } => Failure::CorruptVault,
            StoreError::UnsupportedVersion { .. } => Failure::VaultTooNew,
            StoreError::KeyWrapper(KeyWrapError::Unavailable { .. }) => Failure::KeyUnavailable,
            StoreError::KeyWrapper(KeyWrapError::KeyLost { .. }) => Failure::KeyLost,
            StoreError::Io { .. } => Failure::Storage,
            // The flows never meet these (they check first): a bug if they come.
            StoreError::NoPin | StoreError::PinAlreadySet | StoreError::Duplicate(_) => {
                Failure::Internal
            }
        }
    }
}

impl From<EnrollError> for Failure {
    fn from(e: EnrollError) -> Self {
        match e {
            // A server URL comes from the app build or inside an activation URI: only the
            // URI is a field the customer can fix.
            EnrollError::BadServerUrl { .. } => Failure::InvalidInput { field: None },
            EnrollError::BadUri(_) => Failure::InvalidInput {
                field: Some(InputField::ActivationUri),
            },
            EnrollError::InvalidStartPassword => Failure::InvalidInput {
                field: Some(InputField::StartPassword),
            },
            EnrollError::WrongStartPassword { attempts_left } => {
                Failure::WrongStartPassword { attempts_left }
            }
            EnrollError::EnrollmentNotFound => Failure::EnrollmentNotFound,
            EnrollError::EnrollmentExpired => Failure::EnrollmentExpired,
            EnrollError::EnrollmentLocked => Failure::EnrollmentLocked,
            // Only a typed service ID can name a service the server does not know.
            EnrollError::UnknownService => Failure::InvalidInput {
                field: Some(InputField::ServiceId),
            },
            EnrollError::RateLimited { .. } | EnrollError::Refused { .. } => Failure::Rejected,
            EnrollError::Network { .. }
            | EnrollError::BadCaFile { .. }
            | EnrollError::Certificate { .. }
            | EnrollError::BadResponse { .. }
            | EnrollError::Protocol(_) => Failure::Network,
            EnrollError::Store(e) => e.into(),
        }
    }
}

impl From<SignError> for Failure {
    fn from(e: SignError) -> Self {
        match e {
            SignError::Store(e) => e.into(),
            SignError::Revoked => Failure::Revoked,
            SignError::Malformed(_) | SignError::OtherService { .. } => Failure::Malformed,
        }
    }
}

impl From<softtoken_protocol::SerialError> for Failure {
    fn from(_: softtoken_protocol::SerialError) -> Self {
        Failure::TokenNotFound
    }
}
