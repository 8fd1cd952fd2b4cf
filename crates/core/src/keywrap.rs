//! The platform half of the vault's key protection: a [`KeyWrapper`] wraps and unwraps
//! the vault's data key with a key the platform keeps out of the vault file.
//!
//! The phone shells implement [`KeyWrapper`] with the Android Keystore or the iOS
//! Keychain / Secure Enclave, whose keys cannot be exported: a copy of the vault file
//! taken off the phone is then useless, and the PIN (wrapped *inside* this layer) cannot
//! be guessed offline. The desktop has no such hardware, so [`FileKeyWrapper`] keeps a
//! random key in a `0600` file beside the vault. That protects a vault file that travels
//! alone (a backup, a synced folder, a file attached to an e-mail) and keeps other local
//! users out, but not against malware running as the same user, which can read both files.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// Why a [`KeyWrapper`] could not wrap or unwrap a key, by what the caller can do about it.
///
/// The kind travels with the error, so the vault and the apps above it tell "try again later"
/// from "reset the vault" without a side channel. `detail` is for the log and support, in
/// English; it never holds key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyWrapError {
    /// The platform key cannot be used right now (device locked, user authentication needed,
    /// a key file that cannot be read or written at the moment): the same call may work later.
    #[error("the key protecting the vault is unavailable: {detail}")]
    Unavailable {
        /// What failed.
        detail: String,
    },
    /// The vault's data key can never be unwrapped again: the platform key is gone (device
    /// passcode removed, app data restored onto another device, key file deleted or
    /// damaged), or it is not the key that wrapped this one. Only a reset helps, and it
    /// deletes every token.
    #[error("the key protecting the vault is lost: {detail}")]
    KeyLost {
        /// What failed.
        detail: String,
    },
}

impl KeyWrapError {
    /// A [`KeyWrapError::Unavailable`] saying `detail`.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        KeyWrapError::Unavailable {
            detail: detail.into(),
        }
    }

    /// A [`KeyWrapError::KeyLost`] saying `detail`.
    pub fn key_lost(detail: impl Into<String>) -> Self {
        KeyWrapError::KeyLost {
            detail: detail.into(),
        }
    }

    /// What failed, without the kind.
    pub fn detail(&self) -> &str {
        match self {
            KeyWrapError::Unavailable { detail } | KeyWrapError::KeyLost { detail } => detail,
        }
    }
}

/// Wraps and unwraps the vault's data key with a key held by the platform.
///
/// Implementations must be authenticated (a tampered or foreign blob is an error, not a
/// different key) and must never log the bytes they are given. A blob the key will never
/// open is [`KeyWrapError::KeyLost`]; a key that may come back is
/// [`KeyWrapError::Unavailable`].
pub trait KeyWrapper: Send + Sync {
    /// Encrypts `key` (the data key, possibly already wrapped by the PIN key).
    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError>;
    /// Decrypts what [`KeyWrapper::wrap_key`] produced.
    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyWrapError>;
}

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
/// Binds a wrapped blob to its purpose, so it cannot be replayed as some other ciphertext.
const WRAP_AAD: &[u8] = b"softtoken/file-key-wrapper/v1";

/// The desktop [`KeyWrapper`]: AES-256-GCM under a random key kept in a `0600` file.
pub struct FileKeyWrapper {
    path: PathBuf,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for FileKeyWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKeyWrapper")
            .field("path", &self.path)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

impl FileKeyWrapper {
    /// Loads the key in `path`, or creates it (32 random bytes, mode `0600`) when the file
    /// does not exist. Two processes creating it at once end up with the same key.
    pub fn open(path: &Path) -> Result<Self, KeyWrapError> {
        match read_key(path) {
            Ok(key) => {
                return Ok(FileKeyWrapper {
                    path: path.into(),
                    key,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(key_file_error(path, &e)),
        }
        create_key(path).map_err(|e| key_file_error(path, &e))?;
        let key = read_key(path).map_err(|e| key_file_error(path, &e))?;
        Ok(FileKeyWrapper {
            path: path.into(),
            key,
        })
    }

    /// The key file for the vault at `vault`: the same name with the extension `key`.
    pub fn path_beside(vault: &Path) -> PathBuf {
        vault.with_extension("key")
    }

    /// Where the key lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.key).into())
    }
}

impl KeyWrapper for FileKeyWrapper {
    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key,
                    aad: WRAP_AAD,
                },
            )
            // AES-GCM refuses only inputs of gigabytes; a data key never is one. Should it
            // happen, nothing is lost yet: the vault still holds its previous wrap.
            .map_err(|_| KeyWrapError::unavailable("could not wrap the data key"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyWrapError> {
        if wrapped.len() < NONCE_LEN {
            // No key wrapped this: it cannot open, now or later.
            return Err(KeyWrapError::key_lost("the wrapped data key is truncated"));
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: WRAP_AAD,
                },
            )
            .map_err(|_| {
                KeyWrapError::key_lost(format!(
                    "the key in {} does not open this vault (a different or damaged key file)",
                    self.path.display()
                ))
            })
    }
}

/// A key file of the wrong length is damaged: its key is gone. Any other I/O failure
/// (permissions, a full disk, an unmounted home) may clear up, and the key with it.
fn key_file_error(path: &Path, e: &io::Error) -> KeyWrapError {
    let detail = format!("key file {}: {e}", path.display());
    if e.kind() == io::ErrorKind::InvalidData {
        KeyWrapError::key_lost(detail)
    } else {
        KeyWrapError::unavailable(detail)
    }
}

fn read_key(path: &Path) -> io::Result<Zeroizing<[u8; KEY_LEN]>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_LEN + 1));
    File::open(path)?
        .take(KEY_LEN as u64 + 1)
        .read_to_end(&mut bytes)?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    if bytes.len() != KEY_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected {KEY_LEN} bytes, found {}", bytes.len()),
        ));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

/// Writes a fresh key to a temporary file, then links it into place: the key file appears
/// complete or not at all, and an existing key (another process won the race) is kept.
fn create_key(path: &Path) -> io::Result<()> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    OsRng.fill_bytes(&mut *key);
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let mut file = private_file(&tmp)?;
    let written = file.write_all(&*key).and_then(|()| file.sync_all());
    let linked = written.and_then(|()| match fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = fs::remove_file(&tmp);
    linked?;
    crate::vault::durable::sync_parent(path)
}

/// Creates `path` fresh, readable and writable by its owner only.
pub(crate) fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_round_trip_and_reject_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        let w = FileKeyWrapper::open(&path).unwrap();
        let wrapped = w.wrap_key(b"data key").unwrap();
        assert_ne!(wrapped, w.wrap_key(b"data key").unwrap(), "fresh nonce");
        assert_eq!(w.unwrap_key(&wrapped).unwrap(), b"data key");
        // Reopening reads the same key.
        let again = FileKeyWrapper::open(&path).unwrap();
        assert_eq!(again.unwrap_key(&wrapped).unwrap(), b"data key");
        let mut bad = wrapped.clone();
        bad[20] ^= 1;
        assert!(matches!(
            w.unwrap_key(&bad),
            Err(KeyWrapError::KeyLost { .. })
        ));
        assert!(matches!(
            w.unwrap_key(&wrapped[..5]),
            Err(KeyWrapError::KeyLost { .. })
        ));
        assert!(format!("{w:?}").contains("[REDACTED]"));
    }

    #[test]
    fn another_key_file_cannot_unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileKeyWrapper::open(&dir.path().join("a.key")).unwrap();
        let b = FileKeyWrapper::open(&dir.path().join("b.key")).unwrap();
        let err = b.unwrap_key(&a.wrap_key(b"k").unwrap()).unwrap_err();
        assert!(matches!(err, KeyWrapError::KeyLost { .. }), "{err:?}");
        assert!(err.detail().contains("b.key"), "{err}");
    }

    #[test]
    fn damaged_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.key");
        fs::write(&path, b"too short").unwrap();
        let err = FileKeyWrapper::open(&path).unwrap_err();
        assert!(matches!(err, KeyWrapError::KeyLost { .. }), "{err:?}");
        assert!(err.detail().contains("short.key"), "{err}");
    }

    #[test]
    fn an_unreadable_key_file_may_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        // A directory where the key file should be: an I/O error, not a damaged key, and one
        // that fails for root too (a file mode would not stop root).
        fs::create_dir(&path).unwrap();
        let err = FileKeyWrapper::open(&path).unwrap_err();
        assert!(matches!(err, KeyWrapError::Unavailable { .. }), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        FileKeyWrapper::open(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
