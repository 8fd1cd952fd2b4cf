//! Re-sealing every secret at rest under the keyring's newest key (and format): what
//! `softtoken-server key rotate` and `key reseal` do, and what a starting server does for
//! values sealed before seeds were bound to their service.
//!
//! Safe to interrupt and to resume: each batch is one commit, every key of the keyring
//! still opens what it sealed, and each value is replaced only if its row still holds the
//! value that was read (so a concurrent writer is never overwritten). What is left is
//! simply what still does not start with the newest key's header; running again finishes.

use crate::crypto::{Bound, CryptoError, Keyring};
use crate::store::{Resealed, SealedKind, SealedValue, Store, StoreError};

/// Values one batch (one commit) re-seals.
pub const DEFAULT_BATCH: u32 = 500;

/// What a re-sealing pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Token seeds re-sealed.
    pub seeds: u64,
    /// Enrollment verifiers `w` re-sealed.
    pub enrollments: u64,
    /// Activation session keys re-sealed.
    pub sessions: u64,
}

impl Report {
    /// Values re-sealed in all.
    pub fn total(&self) -> u64 {
        self.seeds + self.enrollments + self.sessions
    }

    fn add(&mut self, kind: SealedKind, n: u64) {
        match kind {
            SealedKind::Seed => self.seeds += n,
            SealedKind::W => self.enrollments += n,
            SealedKind::SessionKey => self.sessions += n,
        }
    }
}

/// Why a pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value did not open: a key missing from the keyring, or a damaged row.
    #[error("{what} {id} does not open: {source}")]
    Open {
        /// Which kind of value.
        what: &'static str,
        /// Its row.
        id: String,
        /// Why.
        source: CryptoError,
    },
}

fn bound(kind: SealedKind, value: &SealedValue) -> Bound<'_> {
    match kind {
        SealedKind::Seed => Bound::Seed {
            service: &value.service_id,
            serial: &value.id,
        },
        SealedKind::W => Bound::W {
            enrollment: &value.id,
        },
        SealedKind::SessionKey => Bound::Session { session: &value.id },
    }
}

fn name(kind: SealedKind) -> &'static str {
    match kind {
        SealedKind::Seed => "the seed of token",
        SealedKind::W => "the start-password verifier of enrollment",
        SealedKind::SessionKey => "the key of activation session",
    }
}

/// Re-seals every value not sealed by the keyring's newest key, `batch` per commit, and
/// calls `progress` after each commit with the running totals.
pub async fn reseal(
    store: &dyn Store,
    keys: &Keyring,
    batch: u32,
    mut progress: impl FnMut(&Report),
) -> Result<Report, RekeyError> {
    let header = keys.current_header();
    let mut report = Report::default();
    for kind in SealedKind::ALL {
        let mut after = String::new();
        loop {
            let stale = store
                .stale_sealed(kind, &header, &after, batch.max(1))
                .await?;
            let Some(last) = stale.last() else { break };
            after = last.id.clone();
            let mut resealed = Vec::with_capacity(stale.len());
            for value in &stale {
                let plain = keys
                    .open(&value.blob, bound(kind, value))
                    .map_err(|source| RekeyError::Open {
                        what: name(kind),
                        id: value.id.clone(),
                        source,
                    })?;
                resealed.push(Resealed {
                    id: value.id.clone(),
                    old: value.blob.clone(),
                    new: keys.seal(&plain, bound(kind, value)),
                });
            }
            let n = store.replace_sealed(kind, &resealed).await?;
            report.add(kind, n);
            progress(&report);
        }
    }
    Ok(report)
}

/// Opens every sealed value with `keys` and counts them: what a restore proves before it
/// hands a database to a server. Fails on the first value no key opens.
pub async fn open_all(store: &dyn Store, keys: &Keyring) -> Result<Report, RekeyError> {
    // No sealed value starts with this header (its format byte is none of ours), so every
    // value is listed.
    const NO_HEADER: &[u8] = &[0xff, 0xff];
    let mut report = Report::default();
    for kind in SealedKind::ALL {
        let mut after = String::new();
        loop {
            let values = store.stale_sealed(kind, NO_HEADER, &after, 500).await?;
            let Some(last) = values.last() else { break };
            after = last.id.clone();
            for value in &values {
                keys.open(&value.blob, bound(kind, value))
                    .map_err(|source| RekeyError::Open {
                        what: name(kind),
                        id: value.id.clone(),
                        source,
                    })?;
            }
            report.add(kind, values.len() as u64);
        }
    }
    Ok(report)
}

/// Whether every value is sealed by the newest key (so older keys may be retired).
pub async fn all_current(store: &dyn Store, keys: &Keyring) -> Result<bool, StoreError> {
    let header = keys.current_header();
    for kind in SealedKind::ALL {
        if !store.stale_sealed(kind, &header, "", 1).await?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditKind;
    use crate::crypto::{MasterKey, seal_v1, sealed_by};
    use crate::store::{NewAuditEvent, Token, TokenState};
    use softtoken_protocol::{OtpParams, Serial, ServiceId};

    /// Seeds sealed before they were bound to their service are re-sealed, bound, when a
    /// server starts; what is current already is left alone.
    #[tokio::test]
    async fn old_format_seeds_are_resealed_bound_to_their_service() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("db").display());
        let store = crate::store::connect(&url).await.unwrap();
        let keys = Keyring::from(MasterKey::generate());
        let sid = ServiceId::new("bank").unwrap();
        let token = |serial: &str, seed: Vec<u8>| {
            Token::new(
                sid.clone(),
                crate::serial::TokenSerial::parse(serial).unwrap(),
                TokenState::Unassigned,
                OtpParams::REGISTRATION,
                seed,
                0,
            )
        };
        let (old, current) = (Serial::generate(), Serial::generate());
        let (old, current) = (old.as_str(), current.as_str());
        let bound = |serial| Bound::Seed {
            service: "bank",
            serial,
        };
        let tokens = [
            token(old, seal_v1(&keys, b"old seed", old)),
            token(current, keys.seal(b"new seed", bound(current))),
        ];
        store
            .add_service(
                &crate::store::Service {
                    id: sid.clone(),
                    name: "Bank".into(),
                    policy: crate::policy::Policy::default(),
                    created_at: 0,
                },
                &[1; 32],
            )
            .await
            .unwrap();
        let event = NewAuditEvent::new(&sid, AuditKind::TokensImported, "");
        store.import_tokens(&tokens, &event, 0).await.unwrap();
        assert!(!all_current(&*store, &keys).await.unwrap());

        let report = reseal(&*store, &keys, 10, |_| {}).await.unwrap();
        assert_eq!(
            report,
            Report {
                seeds: 1,
                ..Report::default()
            }
        );
        assert!(all_current(&*store, &keys).await.unwrap());
        for (serial, seed) in [(old, &b"old seed"[..]), (current, &b"new seed"[..])] {
            let stored = store
                .token(&sid, &crate::serial::TokenSerial::parse(serial).unwrap())
                .await
                .unwrap()
                .unwrap();
            assert!(stored.seed.starts_with(&keys.current_header()));
            assert_eq!(&*keys.open(&stored.seed, bound(serial)).unwrap(), seed);
            assert_eq!(sealed_by(&stored.seed).unwrap(), keys.newest_id());
            // Bound to its service now: it opens for no other.
            let elsewhere = Bound::Seed {
                service: "other",
                serial,
            };
            assert!(keys.open(&stored.seed, elsewhere).is_err());
        }
        assert_eq!(reseal(&*store, &keys, 10, |_| {}).await.unwrap().total(), 0);
    }
}
