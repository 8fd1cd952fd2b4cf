//! The token vault as an app holds it: one [`TokenStore`] object per app, shared by every
//! thread, over the core's `TokenStore` behind a mutex.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use softtoken_core::protocol::Serial;
use softtoken_core::{Enroller, StoreOptions, vault};
use zeroize::Zeroizing;

use crate::key_wrapper::ForeignKeyWrapper;
use crate::otp::{OtpSettings, TokenCode};
use crate::serial::SerialNumber;
use crate::{KeyWrapper, SoftTokenError};

/// Where a token is in its life, as far as the app knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TokenState {
    /// Activated or provisioned; the bank has not yet confirmed or registered its first code.
    Pending,
    /// In use.
    Active,
    /// Revoked by the bank: kept only so the customer sees what happened.
    Revoked,
    /// The bank stopped OTP for the customer: kept only so the customer sees what happened.
    Stopped,
    /// Another token took its place (a device change or a newer activation).
    Replaced,
}

impl From<softtoken_core::TokenState> for TokenState {
    fn from(s: softtoken_core::TokenState) -> Self {
        match s {
            softtoken_core::TokenState::Pending => TokenState::Pending,
            softtoken_core::TokenState::Active => TokenState::Active,
            softtoken_core::TokenState::Revoked => TokenState::Revoked,
            softtoken_core::TokenState::Stopped => TokenState::Stopped,
            softtoken_core::TokenState::Replaced => TokenState::Replaced,
        }
    }
}

/// A token as the token list shows it: everything but the seed, which never leaves the core.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TokenInfo {
    /// The serial number, compact and grouped.
    pub serial: SerialNumber,
    /// The bank's display name, shown above the code.
    pub issuer: String,
    /// The service (bank or product) on its server.
    pub service_id: String,
    /// The customer's own label (the user ID at activation); may be empty.
    pub user_label: String,
    /// How the token computes its codes.
    pub otp: OtpSettings,
    /// Where the token is in its life.
    pub state: TokenState,
    /// When the token was added, in Unix seconds.
    pub created_at_unix: u64,
    /// The server that issued it, for time sync.
    pub server_url: String,
    /// Server clock minus device clock in milliseconds, applied to every code.
    pub clock_offset_ms: i64,
}

impl From<vault::TokenInfo> for TokenInfo {
    fn from(t: vault::TokenInfo) -> Self {
        TokenInfo {
            serial: t.serial.into(),
            issuer: t.issuer,
            service_id: t.service_id.as_str().to_owned(),
            user_label: t.user_label,
            otp: t.params.into(),
            state: t.state.into(),
            created_at_unix: t.created_at,
            server_url: t.server_url,
            clock_offset_ms: t.clock_offset_ms,
        }
    }
}

/// The app's encrypted token vault: one file holding every token, its key protected by the
/// app's [`KeyWrapper`] and, with the app lock on, by the PIN as well.
///
/// Open one per app and share it: every method may be called from any thread, and calls
/// are serialised inside. PIN checks run a deliberately slow key derivation (about a second
/// on a phone): call `unlock`, `set_pin`, `change_pin` and `remove_pin` off the main thread.
#[derive(uniffi::Object)]
pub struct TokenStore {
    inner: Mutex<vault::TokenStore>,
    /// The HTTPS client, made on the first network call: most app starts never need it.
    pub(crate) enroller: OnceLock<Enroller>,
}

#[uniffi::export]
impl TokenStore {
    /// Opens the vault file at `path`, creating an empty one when there is none. A file that
    /// cannot be read as a vault fails with [`SoftTokenError::CorruptVault`] and is left as
    /// it is; [`TokenStore::reset`] is the way out.
    #[uniffi::constructor]
    pub fn open(
        path: String,
        key_wrapper: Arc<dyn KeyWrapper>,
    ) -> Result<Arc<Self>, SoftTokenError> {
        let wrapper = Arc::new(ForeignKeyWrapper(key_wrapper));
        let store =
            vault::TokenStore::open_with(Path::new(&path), wrapper, StoreOptions::default())?;
        Ok(Self::over(store))
    }

    /// Replaces whatever is at `path` with an empty vault without a PIN, deleting every
    /// token: for a forgotten PIN, a damaged file or a lost platform key, after the customer
    /// agreed (each bank must then issue new tokens).
    #[uniffi::constructor]
    pub fn reset(
        path: String,
        key_wrapper: Arc<dyn KeyWrapper>,
    ) -> Result<Arc<Self>, SoftTokenError> {
        let wrapper = Arc::new(ForeignKeyWrapper(key_wrapper));
        let store = vault::TokenStore::reset(Path::new(&path), wrapper, StoreOptions::default())?;
        Ok(Self::over(store))
    }

    /// Whether the app lock (PIN) is on.
    pub fn has_pin(&self) -> Result<bool, SoftTokenError> {
        Ok(self.store()?.has_pin())
    }

    /// Whether the PIN must be entered before tokens can be listed or read.
    pub fn is_locked(&self) -> Result<bool, SoftTokenError> {
        Ok(self.store()?.is_locked())
    }

    /// Seconds before the next PIN will be checked (0: now): the wrong-PIN back-off, for the
    /// lock screen to disable its pad and count down. It is kept in the vault file, so it
    /// holds across app restarts, and it runs on the device clock.
    pub fn pin_retry_after_seconds(&self) -> Result<u64, SoftTokenError> {
        Ok(self.store()?.pin_retry_after_seconds())
    }

    /// Unlocks with `pin`. A wrong PIN fails with [`SoftTokenError::WrongPin`] saying how
    /// many tries are left; after that each try must wait ([`SoftTokenError::TooSoon`]).
    pub fn unlock(&self, pin: String) -> Result<(), SoftTokenError> {
        let pin = Zeroizing::new(pin);
        self.with(|s| s.unlock(&pin))
    }

    /// Locks again (for instance when the app goes to the background): the tokens and their
    /// key are wiped from memory. Without a PIN there is nothing to lock with: no effect.
    pub fn lock(&self) -> Result<(), SoftTokenError> {
        self.store()?.lock();
        Ok(())
    }

    /// Turns the app lock on with `pin` (1 to 32 digits). Fails with
    /// [`SoftTokenError::PinAlreadySet`] when a PIN is set: use `change_pin`.
    pub fn set_pin(&self, pin: String) -> Result<(), SoftTokenError> {
        let pin = Zeroizing::new(pin);
        self.with(|s| s.set_pin(&pin))
    }

    /// Changes the PIN; `old_pin` is checked and counted like [`TokenStore::unlock`].
    pub fn change_pin(&self, old_pin: String, new_pin: String) -> Result<(), SoftTokenError> {
        let (old_pin, new_pin) = (Zeroizing::new(old_pin), Zeroizing::new(new_pin));
        self.with(|s| s.change_pin(&old_pin, &new_pin))
    }

    /// Turns the app lock off; `pin` is checked and counted like [`TokenStore::unlock`].
    pub fn remove_pin(&self, pin: String) -> Result<(), SoftTokenError> {
        let pin = Zeroizing::new(pin);
        self.with(|s| s.remove_pin(&pin))
    }

    /// Deletes every token, the PIN and the vault key, leaving an empty unlocked vault: the
    /// only way out of a forgotten PIN. Works while locked.
    pub fn wipe(&self) -> Result<(), SoftTokenError> {
        self.with(|s| s.wipe())
    }

    /// Every token, in the order they were added. Fails with [`SoftTokenError::Locked`]
    /// while locked.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, SoftTokenError> {
        Ok(self
            .with(|s| s.tokens())?
            .into_iter()
            .map(TokenInfo::from)
            .collect())
    }

    /// The code of token `serial` at device time `device_unix_ms` (milliseconds since
    /// 1970, UTC), with the token's clock offset applied.
    pub fn code_at(
        &self,
        serial: String,
        device_unix_ms: i64,
    ) -> Result<TokenCode, SoftTokenError> {
        let serial = Serial::parse(&serial)?;
        Ok(self.with(|s| s.code(&serial, device_unix_ms))?.into())
    }

    /// The code of token `serial` now, by the device clock and the token's clock offset.
    pub fn code(&self, serial: String) -> Result<TokenCode, SoftTokenError> {
        self.code_at(serial, now_unix_ms())
    }

    /// Deletes token `serial` and its seed. The bank still considers it registered until
    /// it is revoked there.
    pub fn delete(&self, serial: String) -> Result<(), SoftTokenError> {
        let serial = Serial::parse(&serial)?;
        self.with(|s| s.delete(&serial))
    }
}

impl TokenStore {
    fn over(store: vault::TokenStore) -> Arc<Self> {
        Arc::new(TokenStore {
            inner: Mutex::new(store),
            enroller: OnceLock::new(),
        })
    }

    /// The core store, or [`SoftTokenError::Internal`] if a panic left it poisoned.
    pub(crate) fn store(&self) -> Result<MutexGuard<'_, vault::TokenStore>, SoftTokenError> {
        // A panic while holding the lock is a bug; refusing further use (the app can open the
        // store again) is safer than trusting whatever state it left.
        self.inner.lock().map_err(|_| SoftTokenError::Internal {
            detail: "the token store failed earlier; open it again".into(),
        })
    }

    /// Runs `f` on the core store.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut vault::TokenStore) -> Result<T, vault::StoreError>,
    ) -> Result<T, SoftTokenError> {
        let mut store = self.store()?;
        Ok(f(&mut store)?)
    }
}

/// The device clock in Unix milliseconds (0 if it reads before 1970).
pub(crate) fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
