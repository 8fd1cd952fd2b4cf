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
pub mod console_sessions;
pub mod crypto;
pub mod error;
pub mod import;
pub mod mail;
pub mod metrics;
pub mod otp_check;
pub mod provisioning;
pub mod qr;
pub mod queries;
pub mod rekey;
pub mod service_cache;
pub mod token_status;
pub mod transfers;
pub mod verification;
pub mod views;

use std::sync::Arc;

use softtoken_protocol::ServiceId;

// The store's modules, under the names the service has always used for them.
use softtoken_store as store;
use softtoken_store::{audit, policy, serial};

pub use error::ServiceError;

use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::mail::Mailer;
use crate::service_cache::ServiceCache;
use crate::store::{Service, Store, StoreResult};
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
    /// A context for one command of the command line: `store` and `key` as it opened them,
    /// the system clock, no public URL and no mail.
    pub fn for_command(store: Arc<dyn Store>, key: Keyring) -> Self {
        Context {
            store,
            key: Arc::new(key),
            clock: Arc::new(crate::clock::SystemClock),
            public_url: "".into(),
            services: Arc::new(ServiceCache::new(service_cache::SERVICE_CACHE_TTL)),
            mailer: None,
        }
    }

    /// Now, in Unix milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The service `id`, as read in the last few seconds (see [`ServiceCache`]).
    pub async fn service(&self, id: &ServiceId) -> StoreResult<Option<Service>> {
        self.services.service(&*self.store, id).await
    }

    /// The service whose API key hashes to `key_hash`, as read in the last few seconds.
    pub async fn service_for_key(&self, key_hash: &[u8; 32]) -> StoreResult<Option<ServiceId>> {
        self.services.service_for_key(&*self.store, key_hash).await
    }

    /// A token's status for the app that asks, answered now.
    pub async fn token_status(
        &self,
        request: &softtoken_protocol::status::StatusRequest,
    ) -> Result<softtoken_protocol::status::StatusResponse, ServiceError> {
        crate::token_status::answer(&*self.store, &self.key, request, self.now()).await
    }

    /// Commits what storage was sent and closes it, for every handle: the last step of a
    /// shutdown.
    pub async fn close(&self) {
        self.store.close().await;
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
