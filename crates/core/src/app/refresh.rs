//! Asking the servers what became of the tokens (DESIGN.md §12), off the event thread.
//!
//! The refresh runs on a thread of its own with a fresh enroller whose requests together
//! take at most the configured budget (the CLI's 3 s), and reaches the vault through its
//! lock only between requests: the tick keeps reading codes meanwhile. When it ends, the
//! model redraws with the answers (or one quiet notice that a server could not be asked).

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

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

/// Starts a refresh of `vault`; `done(reached)` runs on the model when it ends (`reached`:
/// every server answered). `generation` tells the model whether the answer is still wanted.
pub(crate) fn start(
    vault: Arc<Mutex<TokenStore>>,
    clock: Arc<dyn Clock>,
    budget: Duration,
    app: Weak<Shared>,
    generation: u64,
) {
    std::thread::spawn(move || {
        let reached = ask(&vault, clock, budget);
        if let Some(shared) = app.upgrade() {
            lock(&shared.model).refresh_done(generation, reached);
        }
    });
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
