//! The platform key that protects the vault, supplied by each app (Android Keystore, iOS
//! Keychain / Secure Enclave) through a foreign trait.

use std::sync::Arc;

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

/// The app's [`KeyWrapper`] as the core's `KeyWrapper`. Each call's error carries its own
/// kind back, so calls from several threads at once cannot mix up their failures.
pub(crate) struct ForeignKeyWrapper(pub(crate) Arc<dyn KeyWrapper>);

impl softtoken_core::KeyWrapper for ForeignKeyWrapper {
    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        // The copy handed over is freed by the bindings, which cannot wipe it; the platform
        // must hold the key in the clear to wrap it anyway.
        Ok(self.0.wrap_key(key.to_vec())?)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        Ok(self.0.unwrap_key(wrapped.to_vec())?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;
    use std::thread;

    use softtoken_core::KeyWrapper as _;
    use softtoken_core::StoreError;

    use super::*;
    use crate::SoftTokenError;

    /// Holds every call until two are inside at once, then fails: wrapping as a locked
    /// device does, unwrapping as a key the platform invalidated.
    struct Racing(Barrier);

    impl KeyWrapper for Racing {
        fn wrap_key(&self, _: Vec<u8>) -> Result<Vec<u8>, KeyWrapperError> {
            self.0.wait();
            Err(KeyWrapperError::Unavailable {
                detail: "device locked".into(),
            })
        }
        fn unwrap_key(&self, _: Vec<u8>) -> Result<Vec<u8>, KeyWrapperError> {
            self.0.wait();
            Err(KeyWrapperError::KeyLost {
                detail: "key invalidated".into(),
            })
        }
    }

    /// What the app sees of a failed call: the conversion every store method uses.
    fn seen(e: KeyWrapError) -> SoftTokenError {
        StoreError::from(e).into()
    }

    #[test]
    fn two_threads_failing_at_once_each_get_their_own_kind() {
        // One adapter, as one store's vault uses it; the core may call it from any thread.
        // A shared "last error" let one thread read the other's failure.
        let wrapper = Arc::new(ForeignKeyWrapper(Arc::new(Racing(Barrier::new(2)))));
        for _ in 0..200 {
            let other = wrapper.clone();
            let wrapping = thread::spawn(move || seen(other.wrap_key(b"data key").unwrap_err()));
            let unwrapping = seen(wrapper.unwrap_key(b"wrapped").unwrap_err());
            assert_eq!(
                unwrapping,
                SoftTokenError::KeyLost {
                    detail: "key invalidated".into()
                }
            );
            assert_eq!(
                wrapping.join().unwrap(),
                SoftTokenError::KeyUnavailable {
                    detail: "device locked".into()
                }
            );
        }
    }

    #[test]
    fn an_undeclared_exception_is_unavailable_not_lost() {
        let e = KeyWrapError::from(KeyWrapperError::Unexpected {
            detail: "keystore exploded".into(),
        });
        match seen(e) {
            SoftTokenError::KeyUnavailable { detail } => {
                assert!(detail.contains("keystore exploded"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }
}
