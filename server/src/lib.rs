//! `softtoken-server`: activates softtoken tokens and verifies their codes for a bank.
//!
//! The HTTP layer, on top of two crates it alone depends on: `softtoken-service` (the
//! business steps) and `softtoken-store` (storage). Nothing of theirs is re-exported here:
//! the server, its tests and the bench name them as `softtoken_service::…` and
//! `softtoken_store::…`, so each path says which layer it reaches into.
//!
//! [`app`] builds the whole HTTP API over an [`AppState`]; `main.rs` only parses the
//! command line ([`config`]) and runs it ([`commands`]).

pub mod access_log;
pub mod auth;
pub mod client_addr;
pub mod commands;
pub mod config;
pub mod config_file;
pub mod console;
pub mod error;
pub mod logs;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod routes;
pub mod serve;
pub mod tls;

use std::sync::Arc;

use axum::Router;

use softtoken_service::Context;
use softtoken_service::clock::Clock;
use softtoken_service::crypto::Keyring;
use softtoken_service::service_cache::{SERVICE_CACHE_TTL, ServiceCache};
use softtoken_store::Store;

use crate::client_addr::TrustedProxies;
use crate::rate_limit::RateLimiter;
use crate::routes::provisioning::ProvisionedCounts;

/// Console sign-ins per client address per minute (issue 22): enough for a help desk
/// behind one NAT address signing in at the start of a shift, far too few to guess.
pub const SIGN_IN_RATE_LIMIT: u32 = 30;

/// Activation starts per service + user per minute, on top of the per-IP limit.
pub const USER_RATE_LIMIT: u32 = 10;

/// Everything a request handler needs; cheap to clone: one reference count, since axum
/// clones the state for every extractor of every request, and a dozen counts touched from
/// both cores cost the no-database ceiling a tenth of its rate. It reads as the parts it
/// holds ([`AppParts`]) and as the service [`Context`] (`state.store`, `state.now()`),
/// which handlers pass to the service.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// What an [`AppState`] shares between requests.
#[derive(Clone)]
pub struct AppParts {
    /// What the service layer needs: store, keyring, clock, public URL, caches, mailer.
    pub ctx: Context,
    /// App API requests per client IP.
    pub ip_limit: Arc<RateLimiter>,
    /// Activation starts per service + user.
    pub user_limit: Arc<RateLimiter>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Tokens provisioned since the last summary event.
    pub provisioned: Arc<ProvisionedCounts>,
    /// Console sign-ins per client address (issue 22).
    pub sign_in_limit: Arc<RateLimiter>,
    /// The bounded pool console password checks run on (issue 22).
    pub sign_in_pool: Arc<crate::console::gate::PasswordPool>,
}

impl std::ops::Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl std::ops::Deref for AppParts {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.ctx
    }
}

impl AppState {
    /// A state over `store`, with `app_rate_limit` app-API requests per IP per minute.
    pub fn new(
        store: Arc<dyn Store>,
        key: impl Into<Keyring>,
        clock: Arc<dyn Clock>,
        public_url: &str,
        app_rate_limit: u32,
    ) -> Self {
        AppState(Arc::new(AppParts {
            ctx: Context {
                store,
                key: Arc::new(key.into()),
                clock,
                public_url: public_url.trim_end_matches('/').into(),
                services: Arc::new(ServiceCache::new(SERVICE_CACHE_TTL)),
                mailer: None,
            },
            ip_limit: Arc::new(RateLimiter::new(app_rate_limit)),
            user_limit: Arc::new(RateLimiter::new(USER_RATE_LIMIT)),
            trusted_proxies: TrustedProxies::default(),
            provisioned: Arc::default(),
            sign_in_limit: Arc::new(RateLimiter::new(SIGN_IN_RATE_LIMIT)),
            sign_in_pool: Arc::new(crate::console::gate::PasswordPool::for_this_machine()),
        }))
    }

    /// The parts to change while the state is being built (copied first if another
    /// handle shares them, so a handle taken earlier keeps what it had).
    fn parts(&mut self) -> &mut AppParts {
        Arc::make_mut(&mut self.0)
    }

    /// The same state, allowing `per_minute` console sign-ins per client address (0:
    /// unlimited).
    pub fn with_sign_in_limit(mut self, per_minute: u32) -> Self {
        self.parts().sign_in_limit = Arc::new(RateLimiter::new(per_minute));
        self
    }

    /// The same state, checking console passwords on `pool`.
    pub fn with_sign_in_pool(mut self, pool: crate::console::gate::PasswordPool) -> Self {
        self.parts().sign_in_pool = Arc::new(pool);
        self
    }

    /// The same state, believing the forwarding headers of `proxies`.
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.parts().trusted_proxies = proxies;
        self
    }

    /// The same state, sending activation e-mail through `mailer`.
    pub fn with_mailer(mut self, mailer: Option<Arc<softtoken_service::mail::Mailer>>) -> Self {
        self.parts().ctx.mailer = mailer;
        self
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// The whole HTTP API.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}
