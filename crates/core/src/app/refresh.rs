//! Asking the servers what became of the tokens (DESIGN.md §12), off the event thread.
//!
//! The refresh runs on a thread of its own with a fresh enroller whose requests together
//! take at most the configured budget (the CLI's 3 s), and reaches the vault through its
//! lock only between requests: the tick keeps reading codes meanwhile. When it ends, the
//! model redraws with the answers (or one quiet notice that a server could not be asked).

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use softtoken_protocol::Serial;

use super::{Shared, lock};
use crate::enroll::{EnrollError, Enroller, HttpTransport, VaultAccess};
use crate::vault::{Clock, StoreError, TokenStore};

/// An enroller over HTTPS reading the app's clock (the codes' clock: a server's offset is
/// measured against it); `budget`: its requests together take at most that long.
pub(crate) fn enroller(
    clock: Arc<dyn Clock>,
    budget: Option<Duration>,
) -> Result<Enroller, EnrollError> {
    let transport = HttpTransport::new().map_err(|reason| EnrollError::Network {
        url: String::new(),
        reason,
    })?;
    let transport = match budget {
        Some(budget) => transport.within(budget),
        None => transport,
    };
    Ok(Enroller::with(Arc::new(transport), clock))
}

/// The vault as the refresh thread reaches it: its lock, taken per step.
pub(crate) struct Locked<'a>(pub(crate) &'a Mutex<TokenStore>);

impl VaultAccess for Locked<'_> {
    type Error = EnrollError;

    fn with_vault<T>(
        &mut self,
        f: impl FnOnce(&mut TokenStore) -> Result<T, StoreError>,
    ) -> Result<T, EnrollError> {
        Ok(f(&mut lock(self.0))?)
    }
}

/// What a background job asks the servers.
pub(crate) enum Job {
    /// What became of every token (on open, unlock and pull).
    States,
    /// One token's clock offset, on the customer's request.
    Time(Serial),
}

/// How a [`Job`] ended.
pub(crate) enum Answer {
    /// `reached`: every server answered.
    States {
        /// Every server answered.
        reached: bool,
    },
    /// The offset was stored, or why not.
    Time(Result<(), EnrollError>),
}

/// Starts `job` over `vault`; the model's `refresh_done` gets the answer when it ends.
/// `generation` tells the model whether the answer is still wanted.
pub(crate) fn start(
    vault: Arc<Mutex<TokenStore>>,
    clock: Arc<dyn Clock>,
    budget: Duration,
    app: Weak<Shared>,
    generation: u64,
    job: Job,
) {
    std::thread::spawn(move || {
        let answer = match job {
            Job::States => Answer::States {
                reached: ask(&vault, clock, budget),
            },
            Job::Time(serial) => Answer::Time(sync(&vault, clock, budget, &serial)),
        };
        if let Some(shared) = app.upgrade() {
            lock(&shared.model).refresh_done(generation, answer);
        }
    });
}

/// Measures `serial`'s server clock within `budget` and stores the offset.
fn sync(
    vault: &Mutex<TokenStore>,
    clock: Arc<dyn Clock>,
    budget: Duration,
    serial: &Serial,
) -> Result<(), EnrollError> {
    enroller(clock, Some(budget))?.sync_token_time(Locked(vault), serial)?;
    Ok(())
}

/// Refreshes within `budget`; true when every server answered.
fn ask(vault: &Mutex<TokenStore>, clock: Arc<dyn Clock>, budget: Duration) -> bool {
    let Ok(enroller) = enroller(clock, Some(budget)) else {
        return false;
    };
    match enroller.refresh(Locked(vault)) {
        Ok(refresh) => {
            refresh.time.iter().all(|t| t.result.is_ok())
                && refresh.status.iter().all(|s| s.result.is_ok())
        }
        Err(_) => false,
    }
}
