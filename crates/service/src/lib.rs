//! `softtoken-service`: the business steps of softtoken, between the HTTP server above and
//! the store below. Codes are judged here ([`verification`]), every write is a step of
//! [`actions`] with its actor and audit event, and the domain around them lives here too:
//! sealing secrets at rest ([`crypto`]), token status answers, PSKC import, key rotation,
//! and the activation mail's outbox.
//!
//! Nothing here serves HTTP or runs SQL: the answers are plain types ([`views`]) and
//! refusals a [`ServiceError`], which the server renders; storage goes through
//! [`softtoken_store::Store`].

pub mod actions;
pub mod activation;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod import;
pub mod mail;
pub mod metrics;
pub mod otp_check;
pub mod provisioning;
pub mod qr;
pub mod rekey;
pub mod service_cache;
pub mod token_status;
pub mod transfers;
pub mod verification;
pub mod views;

use std::sync::Arc;

// The store's modules, under the names the service has always used for them.
use softtoken_store as store;
use softtoken_store::{audit, policy, serial};

pub use error::ServiceError;

use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::mail::Mailer;
use crate::service_cache::ServiceCache;
use crate::store::Store;
use crate::verification::Verification;

/// What every business step needs: storage, the keyring, the clock and the server's own
/// settings. Cheap to clone; the server keeps one in its state.
#[derive(Clone)]
pub struct Context {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Seals and opens secrets at rest.
    pub key: Arc<Keyring>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The URL apps reach this server at, put into activation URIs.
    pub public_url: Arc<str>,
    /// Services and API-key owners read in the last few seconds.
    pub services: Arc<ServiceCache>,
    /// The activation e-mail's SMTP side; `None`: this server sends no mail.
    pub mailer: Option<Arc<Mailer>>,
}

impl Context {
    /// Now, in Unix milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The verification service, for a request handled now.
    pub fn verification(&self) -> Verification<'_> {
        Verification::new(&*self.store, Arc::clone(&self.key), self.now())
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}
