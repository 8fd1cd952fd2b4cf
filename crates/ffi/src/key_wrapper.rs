//! The platform key that protects the vault, supplied by each app (Android Keystore, iOS
//! Keychain / Secure Enclave) through a foreign trait.

use std::sync::{Arc, Mutex};

use softtoken_core::KeyWrapError;

/// Wraps and unwraps the vault's data key with a key the platform keeps (Android Keystore,
/// iOS Keychain or Secure Enclave), so a copy of the vault file is useless off the device.
///
/// Implemented by the app. Called from whichever thread calls the token store, possibly
/// several at once. Throwing [`KeyWrapperError`] reports a known failure; any other
/// exception is caught and reported as [`KeyWrapperError::Unexpected`], never a crash.
#[uniffi::export(with_foreign)]
pub trait KeyWrapper: Send + Sync {
    /// Encrypts `key` (32 bytes) and returns the wrapped form, which the core stores in
    /// the vault header and hands back to [`KeyWrapper::unwrap_key`].
    fn wrap_key(&self, key: Vec<u8>) -> Result<Vec<u8>, KeyWrapperError>;

    /// Decrypts what [`KeyWrapper::wrap_key`] returned and returns the original key.
    fn unwrap_key(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyWrapperError>;
}

/// Why the platform could not wrap or unwrap the vault key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum KeyWrapperError {
    /// The key cannot be used right now (device locked, user authentication required):
    /// the same call may work later.
    #[error("platform key unavailable: {detail}")]
    Unavailable {
        /// What the platform said.
        detail: String,
    },
    /// The key is gone for good (device passcode removed, app data restored onto another
    /// device): the vault cannot be opened again and must be reset.
    #[error("platform key lost: {detail}")]
    KeyLost {
        /// What the platform said.
        detail: String,
    },
    /// The app's implementation threw something it did not declare.
    #[error("key wrapper failed unexpectedly: {detail}")]
    Unexpected {
        /// The exception's text.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyWrapperError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyWrapperError::Unexpected { detail: e.reason }
    }
}

/// The foreign error as the core's, kind for kind. An undeclared exception is a bug in the
/// app's wrapper, not a verdict on the key: retrying (or an app update) may work, and a reset
/// would delete every token for nothing.
impl From<KeyWrapperError> for KeyWrapError {
    fn from(e: KeyWrapperError) -> Self {
        match e {
            KeyWrapperError::Unavailable { detail } => KeyWrapError::Unavailable { detail },
            KeyWrapperError::KeyLost { detail } => KeyWrapError::KeyLost { detail },
            e @ KeyWrapperError::Unexpected { .. } => KeyWrapError::unavailable(e.to_string()),
        }
    }
}

/// The app's [`KeyWrapper`] as the core's `KeyWrapper`. The core only carries a message, so
/// the adapter remembers the last foreign error: the store's error conversion then tells a
/// key that is gone for good from one that is only unavailable right now.
pub(crate) struct ForeignKeyWrapper {
    foreign: Arc<dyn KeyWrapper>,
    last_error: Mutex<Option<KeyWrapperError>>,
}

impl ForeignKeyWrapper {
    pub(crate) fn new(foreign: Arc<dyn KeyWrapper>) -> Self {
        ForeignKeyWrapper {
            foreign,
            last_error: Mutex::new(None),
        }
    }

    /// The error of the last failed call, if it has not been taken yet.
    pub(crate) fn take_last_error(&self) -> Option<KeyWrapperError> {
        self.last_error
            .lock()
            .map(|mut last| last.take())
            .unwrap_or(None)
    }

    fn remember(&self, e: KeyWrapperError) -> KeyWrapError {
        let core = KeyWrapError::from(e.clone());
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(e);
        }
        core
    }
}

impl softtoken_core::KeyWrapper for ForeignKeyWrapper {
    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        // The copy handed over is freed by the bindings, which cannot wipe it; the platform
        // must hold the key in the clear to wrap it anyway.
        self.foreign
            .wrap_key(key.to_vec())
            .map_err(|e| self.remember(e))
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        self.foreign
            .unwrap_key(wrapped.to_vec())
            .map_err(|e| self.remember(e))
    }
}
