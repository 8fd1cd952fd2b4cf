//! Secrets at rest: AES-256-GCM under the server's master key.
//!
//! Every sealed value carries the id of the key that sealed it, so keys can be
//! rotated later without guessing, and is bound to where it belongs through the
//! associated data (a seed to its serial, `w` to its enrollment), so a database
//! writer cannot swap one row's secret into another. The master key lives in a
//! file (0600, generated on first start) or in `SOFTTOKEN_MASTER_KEY`, never in
//! the database: a dump alone holds no usable secret.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// The name of the key file in the data directory.
pub const KEY_FILE: &str = "master.key";
const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const FILE_TAG: &str = "softtoken-master-key-v1";

/// Why a master key could not be loaded or a value not opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file or variable could not be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The key text is not `softtoken-master-key-v1 <id> <base64url 32 bytes>`.
    #[error("malformed master key: expected 'softtoken-master-key-v1 <id> <base64url key>'")]
    Malformed,
    /// A sealed value names a key this server does not have.
    #[error("sealed with master key '{0}', which this server does not have")]
    UnknownKey(String),
    /// A sealed value is damaged, or was moved to a row it does not belong to.
    #[error("a sealed value failed authentication")]
    Tampered,
}

/// The AES-256 master key and its id. `Debug` shows the id only.
pub struct MasterKey {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({}, [REDACTED])", self.id)
    }
}

impl MasterKey {
    /// A fresh random key with a random 8-hex-digit id.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut *key);
        let mut id = [0u8; 4];
        OsRng.fill_bytes(&mut id);
        MasterKey {
            id: hex::encode(id),
            key,
        }
    }

    /// The key's id, recorded in every value it seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Parses `softtoken-master-key-v1 <id> <base64url key>` (the key file's content, or
    /// `SOFTTOKEN_MASTER_KEY`).
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let mut parts = text.split_whitespace();
        let (Some(FILE_TAG), Some(id), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Malformed);
        };
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CryptoError::Malformed);
        }
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(key)
                .map_err(|_| CryptoError::Malformed)?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        Ok(MasterKey {
            id: id.to_string(),
            key: Zeroizing::new(key),
        })
    }

    fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{FILE_TAG} {} {}\n",
            self.id,
            URL_SAFE_NO_PAD.encode(*self.key)
        ))
    }

    /// Loads `dir/master.key`, or creates it (mode 0600, in a directory created 0700) with a
    /// fresh key on first start.
    pub fn load_or_create(dir: &Path) -> Result<Self, CryptoError> {
        let path = dir.join(KEY_FILE);
        let io = |source| CryptoError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => return MasterKey::parse(&Zeroizing::new(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        create_private_dir(dir).map_err(io)?;
        let key = MasterKey::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io)?;
        file.write_all(key.to_text().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        tracing::info!(key_id = %key.id, path = %path.display(), "generated a new master key");
        Ok(key)
    }

    /// Encrypts `plaintext`, bound to `aad`: `version || id length || id || nonce || sealed`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let cipher = Aes256Gcm::new((&*self.key).into());
        // Encryption fails only for inputs beyond 64 GiB; ours are at most a few hundred bytes.
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_else(|_| unreachable!("AES-GCM input far below its size limit"));
        let mut out = Vec::with_capacity(2 + self.id.len() + NONCE_LEN + sealed.len());
        out.push(FORMAT_VERSION);
        // The id is at most 32 bytes (checked in `parse`, 8 from `generate`).
        out.push(self.id.len() as u8);
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a value from [`MasterKey::seal`] sealed with the same `aad`.
    pub fn open(&self, blob: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (&version, rest) = blob.split_first().ok_or(CryptoError::Tampered)?;
        let (&id_len, rest) = rest.split_first().ok_or(CryptoError::Tampered)?;
        if version != FORMAT_VERSION || rest.len() < usize::from(id_len) + NONCE_LEN {
            return Err(CryptoError::Tampered);
        }
        let (id, rest) = rest.split_at(usize::from(id_len));
        if id != self.id.as_bytes() {
            return Err(CryptoError::UnknownKey(
                String::from_utf8_lossy(id).into_owned(),
            ));
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new((&*self.key).into());
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Tampered)
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Associated data for a token seed: binds it to its serial.
pub fn seed_aad(serial: &str) -> Vec<u8> {
    softtoken_protocol::wire::concat(&[b"softtoken/at-rest/seed", serial.as_bytes()])
}

/// Associated data for an enrollment's `w`: binds it to the enrollment.
pub fn w_aad(enrollment_id: &str) -> Vec<u8> {
    softtoken_protocol::wire::concat(&[b"softtoken/at-rest/w", enrollment_id.as_bytes()])
}

/// Associated data for an activation session key: binds it to the session.
pub fn session_aad(session_id: &str) -> Vec<u8> {
    softtoken_protocol::wire::concat(&[b"softtoken/at-rest/session", session_id.as_bytes()])
}

/// A random identifier: 16 bytes from the OS CSPRNG as 32 hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let key = MasterKey::generate();
        let blob = key.seal(b"seed bytes", b"serial-1");
        assert_eq!(&*key.open(&blob, b"serial-1").unwrap(), b"seed bytes");
        assert!(matches!(
            key.open(&blob, b"serial-2"),
            Err(CryptoError::Tampered)
        ));
        let mut flipped = blob.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            key.open(&flipped, b"serial-1"),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            MasterKey::generate().open(&blob, b"serial-1"),
            Err(CryptoError::UnknownKey(_))
        ));
        assert!(key.open(&[], b"").is_err());
        assert!(key.open(&[1, 200], b"").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = MasterKey::load_or_create(&data).unwrap();
        let again = MasterKey::load_or_create(&data).unwrap();
        assert_eq!(first.id(), again.id());
        let blob = first.seal(b"x", b"");
        assert_eq!(&*again.open(&blob, b"").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{first:?}").contains(&URL_SAFE_NO_PAD.encode(*first.key)));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        assert!(MasterKey::parse("").is_err());
        assert!(MasterKey::parse("softtoken-master-key-v1 id").is_err());
        assert!(MasterKey::parse("softtoken-master-key-v1 id AAAA").is_err());
        assert!(MasterKey::parse("other id AAAA").is_err());
        let key = MasterKey::generate();
        assert_eq!(MasterKey::parse(&key.to_text()).unwrap().id(), key.id());
    }
}
