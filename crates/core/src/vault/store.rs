//! [`TokenStore`]: the vault as the app uses it: open, lock and unlock, read codes,
//! add and remove tokens. Every change is saved atomically before it is visible.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use softtoken_protocol::status::StatusKey;
use softtoken_protocol::wire::B64;
use softtoken_protocol::{OtpParams, Serial, ServiceId};
use zeroize::Zeroizing;

use super::crypto::{DataKey, PinKey, fresh_salt};
use super::durable::{self, FileSystem, OsFileSystem};
use super::error::StoreError;
use super::format::{
    self, Header, KDF_PBKDF2_SHA256, MAX_PIN_ITERATIONS, ParseError, PinKdf, VaultFile,
};
use super::pin::{DEFAULT_PIN_ITERATIONS, LockState, check_pin};
use crate::keywrap::KeyWrapper;
use crate::otp::TokenCode;
use crate::token::{Token, TokenState};

/// Where the store reads the time for the wrong-PIN back-off.
pub trait Clock: Send + Sync {
    /// Now, in Unix milliseconds.
    fn now_unix_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// How a store is opened. `Default` is what production uses.
#[derive(Clone)]
pub struct StoreOptions {
    /// PBKDF2 iterations for a PIN set from now on (a vault records its own in its header).
    pub pin_iterations: u32,
    /// The clock for the wrong-PIN back-off.
    pub clock: Arc<dyn Clock>,
    /// The filesystem (tests inject crashes here).
    pub fs: Arc<dyn FileSystem>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            pin_iterations: DEFAULT_PIN_ITERATIONS,
            clock: Arc::new(SystemClock),
            fs: Arc::new(OsFileSystem),
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("pin_iterations", &self.pin_iterations)
            .finish_non_exhaustive()
    }
}

/// A token as lists show it: everything but the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The serial number.
    pub serial: Serial,
    /// The bank's display name.
    pub issuer: String,
    /// The service on its server.
    pub service_id: ServiceId,
    /// The customer's label.
    pub user_label: String,
    /// OTP parameters.
    pub params: OtpParams,
    /// Life-cycle state.
    pub state: TokenState,
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// The issuing server.
    pub server_url: String,
    /// Server clock minus device clock, in milliseconds.
    pub clock_offset_ms: i64,
}

impl From<&Token> for TokenInfo {
    fn from(t: &Token) -> Self {
        TokenInfo {
            serial: t.serial.clone(),
            issuer: t.issuer.clone(),
            service_id: t.service_id.clone(),
            user_label: t.user_label.clone(),
            params: t.params,
            state: t.state,
            created_at: t.created_at,
            server_url: t.server_url.clone(),
            clock_offset_ms: t.clock_offset_ms,
        }
    }
}

/// The keys and tokens while the vault is unlocked. Both are wiped on drop.
struct Unlocked {
    key: DataKey,
    tokens: Vec<Token>,
}

/// The encrypted token vault: one file, its data key wrapped by the platform and, with
/// the app lock on, by the PIN inside that.
///
/// Not safe for two processes at once (the FFI keeps one store per app behind a mutex).
pub struct TokenStore {
    path: PathBuf,
    wrapper: Arc<dyn KeyWrapper>,
    options: StoreOptions,
    /// The file as it is on disk now.
    file: VaultFile,
    /// With a PIN: the PIN-wrapped data key, as the platform unwrapped it at open.
    pin_wrapped: Option<Zeroizing<Vec<u8>>>,
    unlocked: Option<Unlocked>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("path", &self.path)
            .field("has_pin", &self.has_pin())
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

impl TokenStore {
    /// Opens the vault at `path`, or creates an empty one when there is no file.
    /// A file that is not a readable vault is reported and never overwritten.
    pub fn open(path: &Path, wrapper: Arc<dyn KeyWrapper>) -> Result<Self, StoreError> {
        Self::open_with(path, wrapper, StoreOptions::default())
    }

    /// [`TokenStore::open`] with explicit options.
    pub fn open_with(
        path: &Path,
        wrapper: Arc<dyn KeyWrapper>,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        let bytes = match options.fs.read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Self::reset(path, wrapper, options);
            }
            Err(e) => return Err(StoreError::io(path, e)),
        };
        let file = VaultFile::parse(&bytes).map_err(|e| match e {
            ParseError::Corrupt(reason) => StoreError::corrupt(path, reason),
            ParseError::Version(version) => StoreError::UnsupportedVersion {
                path: path.into(),
                version,
            },
        })?;
        let inner = Zeroizing::new(wrapper.unwrap_key(&file.header.wrapped_key.0)?);
        let mut store = TokenStore {
            path: path.into(),
            wrapper,
            options,
            file,
            pin_wrapped: None,
            unlocked: None,
        };
        if store.file.header.pin.is_some() {
            store.pin_wrapped = Some(inner);
        } else {
            let key = DataKey::from_slice(&inner)
                .ok_or_else(|| StoreError::corrupt(path, "the data key has the wrong length"))?;
            store.unlocked = Some(store.decrypt(key)?);
        }
        Ok(store)
    }

    /// Replaces whatever is at `path` (a damaged file too) with an empty vault under a new
    /// data key and no PIN: the way out of a forgotten PIN or a lost platform key.
    pub fn reset(
        path: &Path,
        wrapper: Arc<dyn KeyWrapper>,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        let key = DataKey::generate();
        let header = Header {
            wrapped_key: B64(wrapper.wrap_key(key.expose())?),
            pin: None,
        };
        let file = VaultFile::new(header, LockState::default(), Vec::new());
        let mut store = TokenStore {
            path: path.into(),
            wrapper,
            options,
            file,
            pin_wrapped: None,
            unlocked: None,
        };
        let empty = Unlocked {
            key,
            tokens: Vec::new(),
        };
        store.save(store.file.header.clone(), LockState::default(), &empty)?;
        store.unlocked = Some(empty);
        Ok(store)
    }

    /// The vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the app lock (PIN) is on.
    pub fn has_pin(&self) -> bool {
        self.file.header.pin.is_some()
    }

    /// Whether the PIN must be entered before tokens can be read.
    pub fn is_locked(&self) -> bool {
        self.unlocked.is_none()
    }

    /// Wrong PINs entered since the last right one.
    pub fn failed_attempts(&self) -> u32 {
        self.file.lock.failures
    }

    /// Seconds before the next PIN is checked (0: now): the wrong-PIN back-off, as
    /// [`StoreError::TooSoon`] would report it. It is kept in the vault file, so a lock screen
    /// can count it down from the moment the app starts.
    pub fn pin_retry_after_seconds(&self) -> u64 {
        self.file.lock.retry_after(self.options.clock.now_unix_ms())
    }

    /// Unlocks with `pin`. Every well-formed PIN counts: a wrong one reports how many tries
    /// remain; after five, each try waits longer ([`StoreError::TooSoon`]).
    pub fn unlock(&mut self, pin: &str) -> Result<(), StoreError> {
        check_pin(pin)?;
        if !self.has_pin() {
            return Err(StoreError::NoPin);
        }
        let unlocked = self.verify_pin(pin)?;
        self.unlocked = Some(unlocked);
        Ok(())
    }

    /// Forgets the data key and the tokens. Without a PIN there is nothing to lock with,
    /// so this does nothing.
    pub fn lock(&mut self) {
        if self.has_pin() {
            self.unlocked = None;
        }
    }

    /// Turns the app lock on with `pin`. The vault must be unlocked (it is, without a PIN).
    pub fn set_pin(&mut self, pin: &str) -> Result<(), StoreError> {
        check_pin(pin)?;
        if self.has_pin() {
            return Err(StoreError::PinAlreadySet);
        }
        let tokens = self.unlocked()?.tokens.clone();
        self.rekey(Some(pin), tokens)
    }

    /// Changes the PIN; `old` is checked (and counted) like [`TokenStore::unlock`].
    pub fn change_pin(&mut self, old: &str, new: &str) -> Result<(), StoreError> {
        check_pin(old)?;
        check_pin(new)?;
        if !self.has_pin() {
            return Err(StoreError::NoPin);
        }
        let current = self.verify_pin(old)?;
        self.rekey(Some(new), current.tokens)
    }

    /// Turns the app lock off; `pin` is checked (and counted) like [`TokenStore::unlock`].
    pub fn remove_pin(&mut self, pin: &str) -> Result<(), StoreError> {
        check_pin(pin)?;
        if !self.has_pin() {
            return Err(StoreError::NoPin);
        }
        let current = self.verify_pin(pin)?;
        self.rekey(None, current.tokens)
    }

    /// Deletes every token, the PIN and the data key: the only way out of a forgotten PIN.
    /// Works while locked.
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        let fresh = Self::reset(&self.path, self.wrapper.clone(), self.options.clone())?;
        *self = fresh;
        Ok(())
    }

    /// Every token, without seeds, in the order they were added.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        Ok(self
            .unlocked()?
            .tokens
            .iter()
            .map(TokenInfo::from)
            .collect())
    }

    /// Token `serial`, without its seed.
    pub fn token(&self, serial: &Serial) -> Result<TokenInfo, StoreError> {
        self.find(serial).map(TokenInfo::from)
    }

    /// The code of token `serial` at device time `device_unix_ms` (its clock offset applied).
    pub fn code(&self, serial: &Serial, device_unix_ms: i64) -> Result<TokenCode, StoreError> {
        Ok(self.find(serial)?.code_at(device_unix_ms))
    }

    /// The status key of token `serial` (derived from its seed, which stays inside), to ask
    /// its server what became of it.
    pub fn status_key(&self, serial: &Serial) -> Result<StatusKey, StoreError> {
        Ok(StatusKey::derive(self.find(serial)?.secret.expose()))
    }

    /// Token `serial`'s 取引確認 code for a scanned challenge (DESIGN.md §11).
    pub fn challenge_code(
        &self,
        serial: &Serial,
        challenge: &softtoken_protocol::transaction::Challenge,
    ) -> Result<String, crate::sign::SignError> {
        crate::sign::challenge_code(self.find(serial)?, challenge)
    }

    /// Token `serial`'s 取引確認 code for digits typed in manual mode.
    pub fn typed_code(
        &self,
        serial: &Serial,
        digits: &softtoken_protocol::transaction::ManualDigits,
    ) -> Result<String, crate::sign::SignError> {
        crate::sign::typed_code(self.find(serial)?, digits)
    }

    fn find(&self, serial: &Serial) -> Result<&Token, StoreError> {
        self.unlocked()?
            .tokens
            .iter()
            .find(|t| &t.serial == serial)
            .ok_or_else(|| StoreError::NotFound(serial.clone()))
    }

    /// Adds a token (activation and provisioning call this; nothing imports raw seeds).
    pub fn add(&mut self, token: Token) -> Result<(), StoreError> {
        self.update(|tokens| {
            if tokens.iter().any(|t| t.serial == token.serial) {
                return Err(StoreError::Duplicate(token.serial.clone()));
            }
            tokens.push(token);
            Ok(())
        })
    }

    /// Deletes token `serial` and its seed.
    pub fn delete(&mut self, serial: &Serial) -> Result<(), StoreError> {
        self.update(|tokens| {
            let before = tokens.len();
            tokens.retain(|t| &t.serial != serial);
            if tokens.len() == before {
                return Err(StoreError::NotFound(serial.clone()));
            }
            Ok(())
        })
    }

    /// Records the clock offset learned from `server_url` on every token of that server.
    pub fn set_clock_offset(&mut self, server_url: &str, offset_ms: i64) -> Result<(), StoreError> {
        let unchanged = self
            .unlocked()?
            .tokens
            .iter()
            .all(|t| t.server_url != server_url || t.clock_offset_ms == offset_ms);
        if unchanged {
            return Ok(());
        }
        self.update(|tokens| {
            for t in tokens.iter_mut().filter(|t| t.server_url == server_url) {
                t.clock_offset_ms = offset_ms;
            }
            Ok(())
        })
    }

    /// Sets the life-cycle state of token `serial`.
    pub fn set_state(&mut self, serial: &Serial, state: TokenState) -> Result<(), StoreError> {
        self.update(|tokens| {
            let token = tokens
                .iter_mut()
                .find(|t| &t.serial == serial)
                .ok_or_else(|| StoreError::NotFound(serial.clone()))?;
            token.state = state;
            Ok(())
        })
    }

    fn unlocked(&self) -> Result<&Unlocked, StoreError> {
        self.unlocked.as_ref().ok_or(StoreError::Locked)
    }

    /// Applies `change` to a copy of the tokens, saves it, and only then makes it current,
    /// so a failed save leaves memory and disk as they were.
    fn update(
        &mut self,
        change: impl FnOnce(&mut Vec<Token>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let current = self.unlocked()?;
        let mut next = Unlocked {
            key: current.key.clone(),
            tokens: current.tokens.clone(),
        };
        change(&mut next.tokens)?;
        self.save(self.file.header.clone(), self.file.lock, &next)?;
        self.unlocked = Some(next);
        Ok(())
    }

    /// Re-encrypts `tokens` under a new data key, wrapped by `pin` (if any) and the platform.
    fn rekey(&mut self, pin: Option<&str>, tokens: Vec<Token>) -> Result<(), StoreError> {
        let key = DataKey::generate();
        let (inner, kdf) = match pin {
            Some(pin) => {
                let salt = fresh_salt();
                // Within what a reader accepts, so the vault written is always readable.
                let iterations = self.options.pin_iterations.clamp(1, MAX_PIN_ITERATIONS);
                let wrapped = PinKey::derive(pin, &salt, iterations).wrap(&key);
                let kdf = PinKdf {
                    kdf: KDF_PBKDF2_SHA256.into(),
                    iterations,
                    salt: B64(salt),
                };
                (Zeroizing::new(wrapped), Some(kdf))
            }
            None => (Zeroizing::new(key.expose().to_vec()), None),
        };
        let header = Header {
            wrapped_key: B64(self.wrapper.wrap_key(&inner)?),
            pin: kdf,
        };
        let next = Unlocked { key, tokens };
        self.save(header, LockState::default(), &next)?;
        self.pin_wrapped = pin.map(|_| inner);
        self.unlocked = Some(next);
        Ok(())
    }

    /// Checks `pin` against the vault, counting the try before the check so that killing
    /// the app mid-check cannot hide a wrong guess.
    fn verify_pin(&mut self, pin: &str) -> Result<Unlocked, StoreError> {
        let kdf = self.file.header.pin.clone().ok_or(StoreError::NoPin)?;
        let now = self.options.clock.now_unix_ms();
        let mut lock = self.file.lock;
        if lock.last_failure_unix_ms > now {
            // The clock went back: wait from now rather than from a time in the future,
            // and remember that, or the user would wait until the clock catches up.
            lock.last_failure_unix_ms = now;
            self.write_lock(lock)?;
        }
        let retry_after_seconds = lock.retry_after(now);
        if retry_after_seconds > 0 {
            return Err(StoreError::TooSoon {
                retry_after_seconds,
            });
        }
        let counted = LockState {
            failures: lock.failures.saturating_add(1),
            last_failure_unix_ms: now,
        };
        self.write_lock(counted)?;

        let wrapped = self.pin_wrapped.as_ref().ok_or(StoreError::NoPin)?;
        let pin_key = PinKey::derive(pin, &kdf.salt.0, kdf.iterations);
        let Ok(key) = pin_key.unwrap(wrapped) else {
            return Err(StoreError::WrongPin {
                attempts_left: counted.attempts_left(),
                retry_after_seconds: counted.wait_seconds(),
            });
        };
        let unlocked = self.decrypt(key)?;
        self.write_lock(LockState::default())?;
        Ok(unlocked)
    }

    fn decrypt(&self, key: DataKey) -> Result<Unlocked, StoreError> {
        let plaintext = key
            .open(&self.file.body, &self.file.aad())
            .map_err(|_| StoreError::corrupt(&self.path, "the token list does not decrypt"))?;
        let tokens =
            format::decode_tokens(&plaintext).map_err(|e| StoreError::corrupt(&self.path, e))?;
        Ok(Unlocked { key, tokens })
    }

    /// Rewrites only the lock state: possible while locked, since it is outside the
    /// associated data (FORMAT.md explains why that is acceptable).
    fn write_lock(&mut self, lock: LockState) -> Result<(), StoreError> {
        if lock == self.file.lock {
            return Ok(());
        }
        let mut next = self.file.clone();
        next.lock = lock;
        self.write(&next)?;
        self.file = next;
        Ok(())
    }

    /// Encrypts `unlocked` under a fresh nonce with `header` as associated data and
    /// replaces the file.
    fn save(
        &mut self,
        header: Header,
        lock: LockState,
        unlocked: &Unlocked,
    ) -> Result<(), StoreError> {
        let mut next = VaultFile::new(header, lock, Vec::new());
        let plaintext = format::encode_tokens(&unlocked.tokens);
        next.body = unlocked.key.seal(&plaintext, &next.aad());
        self.write(&next)?;
        self.file = next;
        Ok(())
    }

    fn write(&self, file: &VaultFile) -> Result<(), StoreError> {
        durable::replace(&*self.options.fs, &self.path, &file.to_bytes())
            .map_err(|(path, e)| StoreError::io(path, e))
    }
}
