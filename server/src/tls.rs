//! HTTPS: the certificate and key from PEM files, TLS 1.2 and 1.3 only (rustls with the
//! `ring` provider), and a renewed certificate taken up without a restart.
//!
//! The pair in use sits behind [`ReloadingCert`], which rustls asks for the certificate of
//! every new handshake. [`watch`] re-reads the files every few seconds and on SIGHUP; when
//! their content changed and the new pair loads, new connections get it at once (the open
//! ones keep theirs). A broken new pair (a half-copied file, a key that does not belong to
//! the certificate) keeps the last good one in use and is logged with the file to blame.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

/// The protocol versions served: TLS 1.3 and 1.2, nothing older.
pub const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The certificate chain file and the private key file, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, the server's own certificate first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read the TLS {what} {}: {e}", path.display()))
}

/// What the two files hold now, loaded; with the digest of their bytes.
fn load(files: &TlsFiles) -> Result<(CertifiedKey, [u8; 32]), String> {
    let cert_pem = read(&files.cert, "certificate")?;
    let key_pem = zeroize::Zeroizing::new(read(&files.key, "key")?);
    let digest = fingerprint(&cert_pem, &key_pem);
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            format!(
                "the TLS certificate {} is not PEM: {e}",
                files.cert.display()
            )
        })?;
    if chain.is_empty() {
        return Err(format!(
            "the TLS certificate {} holds no CERTIFICATE block",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        format!(
            "the TLS key {} holds no usable private key: {e}",
            files.key.display()
        )
    })?;
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| {
        format!(
            "the TLS key {} does not fit the certificate {}: {e}",
            files.key.display(),
            files.cert.display()
        )
    })?;
    Ok((certified, digest))
}

fn fingerprint(cert: &[u8], key: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update((cert.len() as u64).to_be_bytes());
    hash.update(cert);
    hash.update(key);
    hash.finalize().into()
}

/// The certificate handed to every new handshake, replaced when the files change.
#[derive(Debug)]
pub struct ReloadingCert {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
    /// The digest of the files' content last seen (loaded or refused), so that a broken
    /// pair is reported once, not at every look.
    seen: Mutex<[u8; 32]>,
}

impl ReloadingCert {
    /// Loads the pair; an error names the file that is missing, unreadable or wrong.
    pub fn load(files: TlsFiles) -> Result<Self, String> {
        let (certified, digest) = load(&files)?;
        Ok(ReloadingCert {
            files,
            current: RwLock::new(Arc::new(certified)),
            seen: Mutex::new(digest),
        })
    }

    /// Re-reads the files: `Ok(true)` if a new pair is in use, `Ok(false)` if nothing
    /// changed, `Err` (the old pair stays) if the changed files do not load.
    pub fn reload(&self) -> Result<bool, String> {
        let cert = read(&self.files.cert, "certificate")?;
        let key = zeroize::Zeroizing::new(read(&self.files.key, "key")?);
        let digest = fingerprint(&cert, &key);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if *seen == digest {
                return Ok(false);
            }
            *seen = digest;
        }
        let (certified, _) = load(&self.files)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(certified);
        Ok(true)
    }

    /// The files it reads.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(|e| e.into_inner()),
        ))
    }
}

/// The server's TLS configuration over `cert`: TLS 1.3 and 1.2, no client certificates,
/// HTTP/1.1 (the only protocol the accept loop speaks).
pub fn server_config(cert: Arc<ReloadingCert>) -> Result<Arc<rustls::ServerConfig>, String> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Loads `files` and starts [`watch`]ing them every `reload_every`: the acceptor of the
/// accept loop. An error names the file at fault.
pub fn acceptor(
    files: TlsFiles,
    reload_every: Duration,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    let cert = Arc::new(ReloadingCert::load(files)?);
    let config = server_config(Arc::clone(&cert))?;
    tokio::spawn(watch(cert, reload_every));
    Ok(tokio_rustls::TlsAcceptor::from(config))
}

/// Looks at the files every `every` and on SIGHUP, for ever; logs each change taken up and
/// each broken pair refused.
pub async fn watch(cert: Arc<ReloadingCert>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        {
            let hup = async {
                match hangup.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tick.tick() => {},
                () = hup => {},
            }
        }
        #[cfg(not(unix))]
        tick.tick().await;
        match cert.reload() {
            Ok(true) => tracing::info!(
                cert = %cert.files().cert.display(),
                "TLS certificate reloaded; new connections use it"
            ),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "keeping the TLS certificate in use"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &Path, name: &str) -> TlsFiles {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let files = TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }

    fn served(cert: &ReloadingCert) -> Vec<u8> {
        cert.current.read().unwrap().cert[0].to_vec()
    }

    #[test]
    fn a_changed_pair_is_taken_up_and_a_broken_one_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = pair(dir.path(), "one.example");
        let cert = ReloadingCert::load(files.clone()).unwrap();
        let first = served(&cert);
        assert!(!cert.reload().unwrap());

        pair(dir.path(), "two.example");
        assert!(cert.reload().unwrap());
        let second = served(&cert);
        assert_ne!(first, second);

        std::fs::write(&files.cert, "-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap();
        let e = cert.reload().unwrap_err();
        assert!(e.contains("cert.pem"), "{e}");
        assert_eq!(served(&cert), second);
        // Reported once; the same broken content is not news.
        assert!(!cert.reload().unwrap());
    }

    #[test]
    fn a_key_of_another_certificate_or_an_empty_file_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let files = pair(dir.path(), "one.example");
        let other = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&files.key, other.serialize_pem()).unwrap();
        let e = ReloadingCert::load(files.clone()).unwrap_err();
        assert!(e.contains("does not fit"), "{e}");
        std::fs::write(&files.cert, "").unwrap();
        let e = ReloadingCert::load(files.clone()).unwrap_err();
        assert!(e.contains("no CERTIFICATE"), "{e}");
        let missing = TlsFiles {
            cert: dir.path().join("missing.pem"),
            key: files.key,
        };
        let e = ReloadingCert::load(missing).unwrap_err();
        assert!(e.contains("missing.pem"), "{e}");
    }
}
