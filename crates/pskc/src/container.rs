//! The container-wide protection of a PSKC document: `EncryptionKey` (a
//! pre-shared key or a PBKDF2 `DerivedKey`) and `MACMethod` (the HMAC and its
//! encrypted `MACKey`), and the reading of each protected value.
//!
//! Keys are unlocked on the first encrypted value, so a plain document needs no
//! key. Every encrypted value must carry a `ValueMAC`; the MAC is checked before
//! the value is decrypted.

use roxmltree::Node;
use zeroize::Zeroizing;

use crate::PskcError;
use crate::crypto::{self, Cipher, DecryptError, KeySource, MacAlgorithm, Prf};
use crate::xml::{self, DS, PSKC, XENC, XENC11};

/// More PBKDF2 iterations than any sane file uses; bounds the work a file can demand.
pub const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;

/// How the container says its encryption key is obtained.
enum Scheme {
    /// No `EncryptionKey` element: a key agreed out of band, if anything is encrypted.
    Unspecified,
    /// `EncryptionKey/ds:KeyName`: a pre-shared key.
    PreShared,
    /// `EncryptionKey/xenc11:DerivedKey` with PBKDF2.
    Derived(Pbkdf2Params),
}

/// `pkcs5:PBKDF2-params`.
struct Pbkdf2Params {
    salt: Vec<u8>,
    iterations: u32,
    key_len: Option<usize>,
    prf: Prf,
}

/// An `xenc:EncryptionMethod` with its `CipherValue` (IV then ciphertext).
pub struct Encrypted {
    cipher: Cipher,
    value: Vec<u8>,
}

impl Encrypted {
    /// Reads an element holding `xenc:EncryptionMethod` and `xenc:CipherData`.
    pub fn read(node: Node<'_, '_>, at: &dyn Fn() -> String) -> Result<Encrypted, PskcError> {
        let method =
            xml::child(node, XENC, "EncryptionMethod").ok_or_else(|| PskcError::Missing {
                at: at(),
                what: "xenc:EncryptionMethod",
            })?;
        let uri = method
            .attribute("Algorithm")
            .ok_or_else(|| PskcError::Missing {
                at: at(),
                what: "EncryptionMethod@Algorithm",
            })?;
        let cipher = Cipher::from_uri(uri).ok_or_else(|| PskcError::Unsupported {
            at: at(),
            what: "encryption algorithm",
            uri: xml::clip(uri),
        })?;
        let value = xml::child(node, XENC, "CipherData")
            .and_then(|d| xml::child(d, XENC, "CipherValue"))
            .ok_or_else(|| PskcError::Missing {
                at: at(),
                what: "xenc:CipherData/xenc:CipherValue",
            })?;
        let value = xml::base64(&xml::text(value), at, "CipherValue")?;
        Ok(Encrypted {
            cipher,
            value: value.to_vec(),
        })
    }
}

/// The container's keys, unlocked on first use.
pub struct Container<'k> {
    source: &'k KeySource,
    scheme: Scheme,
    mac_method: Option<(MacAlgorithm, Option<Encrypted>)>,
    enc_key: Option<Zeroizing<Vec<u8>>>,
    mac_key: Option<Zeroizing<Vec<u8>>>,
}

impl<'k> Container<'k> {
    /// Reads `EncryptionKey` and `MACMethod` from the `KeyContainer` element.
    pub fn read(root: Node<'_, '_>, source: &'k KeySource) -> Result<Container<'k>, PskcError> {
        let scheme = match xml::child(root, PSKC, "EncryptionKey") {
            None => Scheme::Unspecified,
            Some(ek) => read_encryption_key(ek)?,
        };
        let mac_method = match xml::child(root, PSKC, "MACMethod") {
            None => None,
            Some(m) => {
                let at = || "MACMethod".to_string();
                let uri = m.attribute("Algorithm").ok_or_else(|| PskcError::Missing {
                    at: at(),
                    what: "MACMethod@Algorithm",
                })?;
                let alg = MacAlgorithm::from_uri(uri).ok_or_else(|| PskcError::Unsupported {
                    at: at(),
                    what: "MAC algorithm",
                    uri: xml::clip(uri),
                })?;
                let key = match xml::child(m, PSKC, "MACKey") {
                    Some(k) => Some(Encrypted::read(k, &|| "MACMethod/MACKey".to_string())?),
                    None => None,
                };
                Some((alg, key))
            }
        };
        Ok(Container {
            source,
            scheme,
            mac_method,
            enc_key: None,
            mac_key: None,
        })
    }

    /// The encryption key, for a value encrypted with `cipher`.
    fn enc_key(&mut self, cipher: Cipher) -> Result<Zeroizing<Vec<u8>>, PskcError> {
        if self.enc_key.is_none() {
            let key = match (&self.scheme, self.source) {
                (_, KeySource::None) => {
                    return Err(PskcError::KeyNeeded(
                        "give the pre-shared key or the password to read it",
                    ));
                }
                (Scheme::Derived(p), KeySource::Password(pw)) => p.prf.derive(
                    pw.as_bytes(),
                    &p.salt,
                    p.iterations,
                    p.key_len.unwrap_or(cipher.key_len()),
                ),
                (Scheme::Derived(_), KeySource::PreSharedKey(_)) => {
                    return Err(PskcError::WrongKeyKind(
                        "the document's key is derived from a password (DerivedKey): \
                         give the password, not a pre-shared key",
                    ));
                }
                (Scheme::PreShared | Scheme::Unspecified, KeySource::Password(_)) => {
                    return Err(PskcError::WrongKeyKind(
                        "the document is encrypted under a pre-shared key: \
                         give the key, not a password",
                    ));
                }
                (Scheme::PreShared | Scheme::Unspecified, KeySource::PreSharedKey(k)) => k.clone(),
            };
            self.enc_key = Some(key);
        }
        match &self.enc_key {
            Some(key) if key.len() == cipher.key_len() => Ok(key.clone()),
            Some(key) => Err(PskcError::KeyLength {
                got: key.len(),
                needed: cipher.key_len(),
                algorithm: cipher.name(),
            }),
            None => Err(PskcError::KeyNeeded("no key")),
        }
    }

    /// The MAC algorithm and key; the key is decrypted on first use. Without a
    /// `MACKey` the encryption key itself is the MAC key (pre-RFC drafts, and
    /// what python-pskc reads).
    fn mac(&mut self, cipher: Cipher) -> Result<(MacAlgorithm, Zeroizing<Vec<u8>>), PskcError> {
        let alg = match &self.mac_method {
            Some((alg, _)) => *alg,
            None => {
                return Err(PskcError::Missing {
                    at: "KeyContainer".into(),
                    what: "MACMethod (needed to check the encrypted values)",
                });
            }
        };
        if self.mac_key.is_none() {
            let wrapped = self
                .mac_method
                .as_ref()
                .and_then(|(_, k)| k.as_ref())
                .map(|e| (e.cipher, e.value.clone()));
            let key = match wrapped {
                Some((mac_cipher, value)) => {
                    let enc = self.enc_key(mac_cipher)?;
                    crypto::decrypt(mac_cipher, &enc, &value).map_err(|e| match e {
                        // The MAC key is random bytes, so the padding is the
                        // only check a wrong key fails here.
                        DecryptError::Padding => PskcError::WrongKey,
                        DecryptError::Length(n) => PskcError::Invalid {
                            at: "MACMethod/MACKey".into(),
                            what: "CipherValue",
                            why: format!("{n} bytes is not an IV and whole AES blocks"),
                        },
                    })?
                }
                None => self.enc_key(cipher)?,
            };
            if key.is_empty() {
                return Err(PskcError::Invalid {
                    at: "MACMethod/MACKey".into(),
                    what: "MAC key",
                    why: "empty".into(),
                });
            }
            self.mac_key = Some(key);
        }
        match &self.mac_key {
            Some(key) => Ok((alg, key.clone())),
            None => Err(PskcError::KeyNeeded("no MAC key")),
        }
    }

    /// Checks `mac` over an encrypted value, then decrypts it.
    pub fn open(
        &mut self,
        value: &Encrypted,
        mac: Option<&[u8]>,
        at: &dyn Fn() -> String,
    ) -> Result<Zeroizing<Vec<u8>>, PskcError> {
        let Some(tag) = mac else {
            return Err(PskcError::MacMissing { at: at() });
        };
        let (alg, mac_key) = self.mac(value.cipher)?;
        if !alg.verify(&mac_key, &value.value, tag) {
            return Err(PskcError::MacMismatch { at: at() });
        }
        let key = self.enc_key(value.cipher)?;
        crypto::decrypt(value.cipher, &key, &value.value).map_err(|e| match e {
            DecryptError::Padding => PskcError::Decrypt { at: at() },
            DecryptError::Length(n) => PskcError::Invalid {
                at: at(),
                what: "CipherValue",
                why: format!("{n} bytes is not an IV and whole AES blocks"),
            },
        })
    }
}

/// Reads `EncryptionKey`: a key name (pre-shared), a PBKDF2 `DerivedKey`, or
/// something this reader refuses (certificates: asymmetric key transport).
fn read_encryption_key(ek: Node<'_, '_>) -> Result<Scheme, PskcError> {
    let at = || "EncryptionKey".to_string();
    if let Some(dk) = xml::child(ek, XENC11, "DerivedKey") {
        let method =
            xml::child(dk, XENC11, "KeyDerivationMethod").ok_or_else(|| PskcError::Missing {
                at: at(),
                what: "xenc11:KeyDerivationMethod",
            })?;
        let uri = method.attribute("Algorithm").unwrap_or_default();
        if !uri.trim().ends_with("#pbkdf2") {
            return Err(PskcError::Unsupported {
                at: at(),
                what: "key derivation",
                uri: xml::clip(uri),
            });
        }
        let params =
            xml::child_any_ns(method, "PBKDF2-params").ok_or_else(|| PskcError::Missing {
                at: at(),
                what: "PBKDF2-params",
            })?;
        let salt = xml::child_any_ns(params, "Salt")
            .and_then(|s| xml::child_any_ns(s, "Specified"))
            .ok_or_else(|| PskcError::Missing {
                at: at(),
                what: "PBKDF2-params/Salt/Specified",
            })?;
        let salt = xml::base64(&xml::text(salt), at, "PBKDF2 salt")?.to_vec();
        let iterations =
            xml::child_any_ns(params, "IterationCount").ok_or_else(|| PskcError::Missing {
                at: at(),
                what: "PBKDF2-params/IterationCount",
            })?;
        let iterations = xml::text(iterations);
        let iterations = match iterations.parse::<u32>() {
            Ok(n) if (1..=MAX_PBKDF2_ITERATIONS).contains(&n) => n,
            _ => {
                return Err(PskcError::Invalid {
                    at: at(),
                    what: "PBKDF2 IterationCount",
                    why: format!(
                        "{:?} is not 1 to {MAX_PBKDF2_ITERATIONS}",
                        xml::clip(&iterations)
                    ),
                });
            }
        };
        let key_len = match xml::child_any_ns(params, "KeyLength") {
            None => None,
            Some(k) => {
                let text = xml::text(k);
                match text.parse::<usize>() {
                    Ok(n @ (16 | 24 | 32)) => Some(n),
                    _ => {
                        return Err(PskcError::Invalid {
                            at: at(),
                            what: "PBKDF2 KeyLength",
                            why: format!("{:?} is not 16, 24 or 32", xml::clip(&text)),
                        });
                    }
                }
            }
        };
        // RFC 6030 writes an empty `<PRF/>` (the HMAC-SHA1 default); others put
        // the URI in an `Algorithm` attribute, python-pskc in the element text.
        let prf_uri = xml::child_any_ns(params, "PRF").and_then(|p| {
            p.attribute("Algorithm")
                .map(str::to_string)
                .or_else(|| Some(xml::text(p)).filter(|t| !t.is_empty()))
        });
        let prf = match prf_uri {
            None => Prf::Sha1,
            Some(uri) => Prf::from_uri(&uri).ok_or_else(|| PskcError::Unsupported {
                at: at(),
                what: "PBKDF2 PRF",
                uri: xml::clip(&uri),
            })?,
        };
        return Ok(Scheme::Derived(Pbkdf2Params {
            salt,
            iterations,
            key_len,
            prf,
        }));
    }
    if xml::child(ek, DS, "X509Data").is_some() {
        return Err(PskcError::Unsupported {
            at: at(),
            what: "key transport",
            uri: "X509Data (asymmetric encryption)".into(),
        });
    }
    Ok(Scheme::PreShared)
}
