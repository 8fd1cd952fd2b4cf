//! Secrets at rest: AES-256-GCM under the server's master keys.
//!
//! Every sealed value carries the id of the key that sealed it and is bound, through the
//! associated data, to where it belongs ([`Bound`]: a seed to its service and serial, `w`
//! to its enrollment, a session key to its session), so a database writer cannot move one
//! row's secret into another. The keys form a [`Keyring`]: the newest seals, every one
//! opens, so a key can be rotated while the server runs (`softtoken-server key rotate`
//! adds one and re-seals every row under it; `key retire` removes an old one once no row
//! needs it). The keyring lives in a file readable by its owner only (0600, generated on
//! first start; the server refuses a file others can read) or in `SOFTTOKEN_MASTER_KEY`,
//! never in the database: a dump alone holds no usable secret.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// The name of the key file in the data directory.
pub const KEY_FILE: &str = "master.key";
/// Seeds bound to their serial only (before keyrings): still opened, re-sealed at start.
const FORMAT_V1: u8 = 1;
/// Seeds bound to their service and serial.
const FORMAT_V2: u8 = 2;
const NONCE_LEN: usize = 12;
const LINE_TAG: &str = "softtoken-master-key-v1";

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
    /// The key file may be read by others than its owner.
    #[error(
        "master key file {path} is readable by others than its owner (mode {mode:o}): \
         run `chmod 600 {path}` and start again"
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A line is not `softtoken-master-key-v1 <id> <base64url 32 bytes>`.
    #[error("malformed master key{line}: expected 'softtoken-master-key-v1 <id> <base64url key>'")]
    Malformed {
        /// " on line N", or empty.
        line: String,
    },
    /// Two keys of the keyring share an id.
    #[error("the master keyring holds key '{0}' twice")]
    DuplicateKey(String),
    /// The keyring has no key.
    #[error("the master keyring holds no key")]
    Empty,
    /// A key rotation or retirement needs the key file (the keys come from the
    /// environment).
    #[error("{0}")]
    NotAFile(&'static str),
    /// Retiring a key still in use, or the only one.
    #[error("{0}")]
    InUse(String),
    /// A sealed value names a key this server does not have.
    #[error("sealed with master key '{0}', which this server does not have")]
    UnknownKey(String),
    /// A sealed value is damaged, or was moved to a row it does not belong to.
    #[error("a sealed value failed authentication")]
    Tampered,
}

/// One AES-256 master key and its id. `Debug` shows the id only.
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

    /// Parses one line `softtoken-master-key-v1 <id> <base64url key>`.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        Self::parse_line(text, "")
    }

    fn parse_line(text: &str, line: &str) -> Result<Self, CryptoError> {
        let malformed = || CryptoError::Malformed {
            line: line.to_owned(),
        };
        let mut parts = text.split_whitespace();
        let (Some(LINE_TAG), Some(id), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(malformed());
        }
        let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(key).map_err(|_| malformed())?);
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| malformed())?;
        Ok(MasterKey {
            id: id.to_string(),
            key: Zeroizing::new(key),
        })
    }

    /// The key as one line of a key file (or `SOFTTOKEN_MASTER_KEY`).
    pub fn to_line(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{LINE_TAG} {} {}\n",
            self.id,
            URL_SAFE_NO_PAD.encode(*self.key)
        ))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.key).into())
    }
}

/// Where a sealed value belongs; its associated data, so it opens nowhere else.
#[derive(Debug, Clone, Copy)]
pub enum Bound<'a> {
    /// A token's seed: its service and serial.
    Seed {
        /// The service.
        service: &'a str,
        /// The serial.
        serial: &'a str,
    },
    /// An enrollment's SPAKE2 password `w`.
    W {
        /// The enrollment's id.
        enrollment: &'a str,
    },
    /// An activation session's SPAKE2 key.
    Session {
        /// The session's id.
        session: &'a str,
    },
    /// A console device cookie: the browser an operator signed in from (its expiry is
    /// the sealed value).
    ConsoleDevice {
        /// The operator's sign-in name.
        operator: &'a str,
    },
}

impl Bound<'_> {
    fn aad(&self, format: u8) -> Vec<u8> {
        use softtoken_protocol::wire::concat;
        match *self {
            Bound::Seed { serial, .. } if format == FORMAT_V1 => {
                concat(&[b"softtoken/at-rest/seed", serial.as_bytes()])
            }
            Bound::Seed { service, serial } => concat(&[
                b"softtoken/at-rest/seed/v2",
                service.as_bytes(),
                serial.as_bytes(),
            ]),
            Bound::W { enrollment } => concat(&[b"softtoken/at-rest/w", enrollment.as_bytes()]),
            Bound::Session { session } => {
                concat(&[b"softtoken/at-rest/session", session.as_bytes()])
            }
            Bound::ConsoleDevice { operator } => {
                concat(&[b"softtoken/console/device", operator.as_bytes()])
            }
        }
    }
}

/// The header of a sealed value: format and the id of the key that sealed it.
fn header(blob: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&format, rest) = blob.split_first()?;
    let (&id_len, rest) = rest.split_first()?;
    if !(FORMAT_V1..=FORMAT_V2).contains(&format) || rest.len() < usize::from(id_len) + NONCE_LEN {
        return None;
    }
    let (id, rest) = rest.split_at(usize::from(id_len));
    Some((format, id, rest))
}

/// The master keys: the last one seals, all of them open. Reloaded from its file when it
/// changes (a rotation by another process), so running servers learn a new key before any
/// row needs it. `Debug` shows the ids only.
pub struct Keyring {
    keys: RwLock<Arc<Vec<MasterKey>>>,
    file: Option<PathBuf>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("ids", &self.ids())
            .field("file", &self.file)
            .finish()
    }
}

impl From<MasterKey> for Keyring {
    fn from(key: MasterKey) -> Self {
        Keyring {
            keys: RwLock::new(Arc::new(vec![key])),
            file: None,
        }
    }
}

fn parse_keys(text: &str) -> Result<Vec<MasterKey>, CryptoError> {
    let mut keys: Vec<MasterKey> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = MasterKey::parse_line(line, &format!(" on line {}", n + 1))?;
        if keys.iter().any(|k| k.id == key.id) {
            return Err(CryptoError::DuplicateKey(key.id));
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(CryptoError::Empty);
    }
    Ok(keys)
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> CryptoError + '_ {
    move |source| CryptoError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the key file, refusing one that others than its owner may read.
fn read_private(path: &Path) -> Result<Zeroizing<String>, CryptoError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io_error(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(CryptoError::Exposed {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
    }
    Ok(Zeroizing::new(
        std::fs::read_to_string(path).map_err(io_error(path))?,
    ))
}

/// Writes the key file whole or not at all: a temporary file (0600) beside it, synced, then
/// renamed over it, and the directory synced, so a crash leaves the old keyring or the new.
fn write_private(path: &Path, keys: &[MasterKey]) -> Result<(), CryptoError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(".{KEY_FILE}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp).map_err(io_error(&temp))?;
    for key in keys {
        file.write_all(key.to_line().as_bytes())
            .map_err(io_error(&temp))?;
    }
    file.sync_all().map_err(io_error(&temp))?;
    std::fs::rename(&temp, path).map_err(io_error(path))?;
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

impl Keyring {
    /// The keyring of `SOFTTOKEN_MASTER_KEY`: one key line, or several (oldest first).
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        Ok(Keyring {
            keys: RwLock::new(Arc::new(parse_keys(text)?)),
            file: None,
        })
    }

    /// Loads `dir/master.key`, or creates it (mode 0600, in a directory created 0700) with a
    /// fresh key on first start. A file others may read is refused.
    pub fn load_or_create(dir: &Path) -> Result<Self, CryptoError> {
        let path = dir.join(KEY_FILE);
        match std::fs::symlink_metadata(&path) {
            Ok(_) => {
                let keys = parse_keys(&read_private(&path)?)?;
                return Ok(Keyring {
                    keys: RwLock::new(Arc::new(keys)),
                    file: Some(path),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path)(e)),
        }
        create_private_dir(dir).map_err(io_error(dir))?;
        let key = MasterKey::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io_error(&path))?;
        file.write_all(key.to_line().as_bytes())
            .map_err(io_error(&path))?;
        file.sync_all().map_err(io_error(&path))?;
        tracing::info!(key_id = %key.id, path = %path.display(), "generated a new master key");
        Ok(Keyring {
            keys: RwLock::new(Arc::new(vec![key])),
            file: Some(path),
        })
    }

    fn current(&self) -> Arc<Vec<MasterKey>> {
        Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The ids of the keys, oldest first.
    pub fn ids(&self) -> Vec<String> {
        self.current().iter().map(|k| k.id.clone()).collect()
    }

    /// The id of the key that seals.
    pub fn newest_id(&self) -> String {
        self.current()
            .last()
            .map(|k| k.id.clone())
            .unwrap_or_default()
    }

    /// The first bytes of every value sealed now (format and newest key id): a value that
    /// does not start with them is due for re-sealing.
    pub fn current_header(&self) -> Vec<u8> {
        let id = self.newest_id();
        let mut out = vec![FORMAT_V2, u8::try_from(id.len()).unwrap_or(0)];
        out.extend_from_slice(id.as_bytes());
        out
    }

    /// Encrypts `plaintext` under the newest key, bound to where it belongs:
    /// `format || id length || id || nonce || sealed`.
    pub fn seal(&self, plaintext: &[u8], bound: Bound<'_>) -> Vec<u8> {
        let keys = self.current();
        let Some(key) = keys.last() else {
            unreachable!("a keyring is never empty: parse and load refuse that")
        };
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        // Encryption fails only for inputs beyond 64 GiB; ours are at most a few hundred bytes.
        let sealed = key
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &bound.aad(FORMAT_V2),
                },
            )
            .unwrap_or_else(|_| unreachable!("AES-GCM input far below its size limit"));
        let mut out = Vec::with_capacity(2 + key.id.len() + NONCE_LEN + sealed.len());
        out.push(FORMAT_V2);
        // The id is at most 32 bytes (checked in `parse`, 8 from `generate`).
        out.push(key.id.len() as u8);
        out.extend_from_slice(key.id.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a value from [`Keyring::seal`] (of this or an older format) sealed for
    /// `bound`. A key the keyring lacks sends it to its file once, in case another process
    /// rotated meanwhile.
    pub fn open(&self, blob: &[u8], bound: Bound<'_>) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (format, id, rest) = header(blob).ok_or(CryptoError::Tampered)?;
        let mut keys = self.current();
        if !keys.iter().any(|k| k.id.as_bytes() == id) && self.reload().unwrap_or(false) {
            keys = self.current();
        }
        let key = keys
            .iter()
            .find(|k| k.id.as_bytes() == id)
            .ok_or_else(|| CryptoError::UnknownKey(String::from_utf8_lossy(id).into_owned()))?;
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        key.cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &bound.aad(format),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Tampered)
    }

    /// Re-reads the key file; whether the keys changed. Without a file, nothing to do.
    pub fn reload(&self) -> Result<bool, CryptoError> {
        let Some(path) = &self.file else {
            return Ok(false);
        };
        let keys = parse_keys(&read_private(path)?)?;
        let changed = {
            let current = self.current();
            current.len() != keys.len() || current.iter().zip(&keys).any(|(a, b)| a.id != b.id)
        };
        if changed {
            tracing::info!(keys = ?keys.iter().map(|k| &k.id).collect::<Vec<_>>(), "master keyring reloaded");
            *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        }
        Ok(changed)
    }

    fn file(&self, what: &'static str) -> Result<&Path, CryptoError> {
        self.file.as_deref().ok_or(CryptoError::NotAFile(what))
    }

    /// Adds a fresh key to the key file, which then seals; the old ones still open. Returns
    /// the new key's id.
    pub fn add_key(&self) -> Result<String, CryptoError> {
        let path = self.file(
            "the master keys come from SOFTTOKEN_MASTER_KEY: add a line made by \
             `softtoken-server key generate` to it, restart, then run `key reseal`",
        )?;
        let mut keys = parse_keys(&read_private(path)?)?;
        let key = MasterKey::generate();
        let id = key.id.clone();
        keys.push(key);
        write_private(path, &keys)?;
        self.reload()?;
        Ok(id)
    }

    /// Removes key `id` from the key file. Only the caller knows that no row needs it any
    /// more (`key retire` checks); the newest key cannot be retired.
    pub fn remove_key(&self, id: &str) -> Result<(), CryptoError> {
        let path = self.file("the master keys come from SOFTTOKEN_MASTER_KEY: edit it instead")?;
        let mut keys = parse_keys(&read_private(path)?)?;
        let Some(position) = keys.iter().position(|k| k.id == id) else {
            return Err(CryptoError::InUse(format!("the keyring has no key '{id}'")));
        };
        if position == keys.len() - 1 {
            return Err(CryptoError::InUse(format!(
                "'{id}' is the newest key, which seals: rotate first"
            )));
        }
        keys.remove(position);
        write_private(path, &keys)?;
        self.reload()?;
        Ok(())
    }
}

/// A seed sealed the way servers before keyrings did (bound to its serial only), for the
/// tests of the migration that re-seals such rows.
#[cfg(test)]
pub(crate) fn seal_v1(ring: &Keyring, plaintext: &[u8], serial: &str) -> Vec<u8> {
    let keys = ring.current();
    let key = &keys[keys.len() - 1];
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let aad = Bound::Seed {
        service: "",
        serial,
    }
    .aad(FORMAT_V1);
    let sealed = key
        .cipher()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .unwrap_or_default();
    let mut blob = vec![FORMAT_V1, key.id.len() as u8];
    blob.extend_from_slice(key.id.as_bytes());
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    blob
}

/// The id of the key a sealed value names, if it has a sealed value's form.
pub fn sealed_by(blob: &[u8]) -> Option<String> {
    header(blob).map(|(_, id, _)| String::from_utf8_lossy(id).into_owned())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

pub use softtoken_store::random_id;

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: Bound<'static> = Bound::Seed {
        service: "bank",
        serial: "SKTS00000000",
    };

    #[test]
    fn seal_open_round_trip_and_binding() {
        let ring = Keyring::from(MasterKey::generate());
        let blob = ring.seal(b"seed bytes", SEED);
        assert_eq!(&*ring.open(&blob, SEED).unwrap(), b"seed bytes");
        let moved = [
            Bound::Seed {
                service: "other",
                serial: "SKTS00000000",
            },
            Bound::Seed {
                service: "bank",
                serial: "SKTS00000019",
            },
            Bound::W {
                enrollment: "SKTS00000000",
            },
        ];
        for bound in moved {
            assert!(matches!(
                ring.open(&blob, bound),
                Err(CryptoError::Tampered)
            ));
        }
        let mut flipped = blob.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            ring.open(&flipped, SEED),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            Keyring::from(MasterKey::generate()).open(&blob, SEED),
            Err(CryptoError::UnknownKey(_))
        ));
        assert!(ring.open(&[], SEED).is_err());
        assert!(ring.open(&[1, 200], SEED).is_err());
        assert!(blob.starts_with(&ring.current_header()));
    }

    #[test]
    fn seeds_sealed_before_keyrings_still_open() {
        let ring = Keyring::from(MasterKey::generate());
        let blob = seal_v1(&ring, b"old", "SKTS00000000");
        assert_eq!(&*ring.open(&blob, SEED).unwrap(), b"old");
        assert!(!blob.starts_with(&ring.current_header()));
    }

    #[test]
    fn the_newest_key_seals_and_every_key_opens() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::load_or_create(dir.path()).unwrap();
        let first = ring.newest_id();
        let old = ring.seal(b"x", SEED);
        let second = ring.add_key().unwrap();
        assert_eq!(ring.ids(), [first.clone(), second.clone()]);
        let new = ring.seal(b"y", SEED);
        assert_eq!(sealed_by(&old).unwrap(), first);
        assert_eq!(sealed_by(&new).unwrap(), second);
        assert_eq!(&*ring.open(&old, SEED).unwrap(), b"x");
        // Another process holding the old keyring learns the new key from the file.
        let other = Keyring {
            keys: RwLock::new(Arc::new(parse_keys(&ring.current()[0].to_line()).unwrap())),
            file: Some(dir.path().join(KEY_FILE)),
        };
        assert_eq!(&*other.open(&new, SEED).unwrap(), b"y");
        assert!(matches!(
            ring.remove_key(&second),
            Err(CryptoError::InUse(_))
        ));
        ring.remove_key(&first).unwrap();
        assert_eq!(ring.ids(), [second]);
        assert!(matches!(
            ring.open(&old, SEED),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn key_file_is_created_private_and_refused_when_exposed() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = Keyring::load_or_create(&data).unwrap();
        let again = Keyring::load_or_create(&data).unwrap();
        assert_eq!(first.ids(), again.ids());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = data.join(KEY_FILE);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let refused = Keyring::load_or_create(&data).unwrap_err();
            assert!(matches!(refused, CryptoError::Exposed { mode: 0o644, .. }));
            assert!(refused.to_string().contains("chmod 600"), "{refused}");
        }
        let key = &first.current()[0];
        assert!(!format!("{first:?}").contains(&URL_SAFE_NO_PAD.encode(*key.key)));
    }

    #[test]
    fn malformed_keyrings_are_rejected() {
        assert!(matches!(Keyring::parse(""), Err(CryptoError::Empty)));
        assert!(MasterKey::parse("softtoken-master-key-v1 id").is_err());
        assert!(MasterKey::parse("softtoken-master-key-v1 id AAAA").is_err());
        assert!(MasterKey::parse("other id AAAA").is_err());
        let key = MasterKey::generate();
        assert_eq!(MasterKey::parse(&key.to_line()).unwrap().id(), key.id());
        let twice = format!("{}{}", &*key.to_line(), &*key.to_line());
        assert!(matches!(
            Keyring::parse(&twice),
            Err(CryptoError::DuplicateKey(_))
        ));
        let bad = format!("# keys\n{}garbage\n", &*key.to_line());
        let e = Keyring::parse(&bad).unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
    }
}
