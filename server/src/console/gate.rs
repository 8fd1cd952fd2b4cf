//! What keeps a flood of sign-ins from exhausting the server (issue 22, finding 2): each
//! password check (Argon2id, 19 MiB and tens of milliseconds of one core) runs on a bounded
//! pool, at most one per core at a time, after a short queue with a deadline; beyond it the
//! sign-in is refused at once with 503 and `Retry-After`. With the per-address sign-in limit
//! (`AppState::sign_in_limit`), memory stays bounded by the pool whatever the flood, and a
//! real operator's check waits behind a few others at most.
//!
//! A flood from ever-new addresses can still fill the pool. Browsers an operator signed in
//! from before (a device cookie, `console::device`) therefore have a lane of their own, one
//! check at a time with a short queue, which no flood of strangers can take.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::Zeroizing;

use super::password;

/// How long a sign-in may wait for its turn before it is refused.
pub const QUEUE_DEADLINE: Duration = Duration::from_millis(1_500);
/// Waiting checks per running one, beyond which a sign-in is refused at once.
pub const QUEUE_PER_PERMIT: usize = 4;
/// Seconds a refused sign-in is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 2;

/// Which places of the pool a check may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Any sign-in.
    Anyone,
    /// A sign-in from a browser the operator signed in from before (a live device cookie
    /// for the name typed).
    KnownDevice,
}

/// Places of one lane: checks running, and checks running or waiting (the queue's bound).
#[derive(Debug)]
struct Places {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
}

impl Places {
    fn new(running: usize, waiting: usize) -> Self {
        Places {
            running: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(Semaphore::new(running.saturating_add(waiting))),
        }
    }
}

/// The pool password checks run on.
#[derive(Debug)]
pub struct PasswordPool {
    /// The places any sign-in may take.
    anyone: Places,
    /// One more place (and a short queue) only known devices may take.
    known: Places,
    deadline: Duration,
    /// Argon2's memory, one buffer per running check, kept between checks: a flood then
    /// costs the pool's buffers once, not an allocation (and the allocator's retention) per
    /// check on whichever thread ran it.
    buffers: Arc<Mutex<Vec<Vec<argon2::Block>>>>,
}

/// The pool was full: refuse with 503 and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Places in the pool held by [`PasswordPool::fill`].
#[derive(Debug)]
pub struct Held {
    _permits: Vec<OwnedSemaphorePermit>,
}

impl PasswordPool {
    /// A pool running `permits` checks at once with `waiting` more queued for at most
    /// `deadline`.
    pub fn new(permits: usize, waiting: usize, deadline: Duration) -> Self {
        let permits = permits.max(1);
        PasswordPool {
            anyone: Places::new(permits, waiting),
            known: Places::new(1, QUEUE_PER_PERMIT),
            deadline,
            buffers: Arc::default(),
        }
    }

    /// One check per core of this machine, [`QUEUE_PER_PERMIT`] waiting per core, for at
    /// most [`QUEUE_DEADLINE`].
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores, cores * QUEUE_PER_PERMIT, QUEUE_DEADLINE)
    }

    /// Whether `password` matches `phc` (`None`: no such operator, checked against a decoy
    /// hash for the same time), on `lane`'s places; `Busy` when its queue is full or the
    /// turn did not come before the deadline.
    pub async fn check(
        &self,
        lane: Lane,
        password: Zeroizing<String>,
        phc: Option<String>,
    ) -> Result<bool, Busy> {
        let places = match lane {
            Lane::Anyone => &self.anyone,
            Lane::KnownDevice => &self.known,
        };
        let admitted = Arc::clone(&places.admitted)
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        let running =
            tokio::time::timeout(self.deadline, Arc::clone(&places.running).acquire_owned())
                .await
                .map_err(|_| Busy)?
                .map_err(|_| Busy)?;
        // The permits move into the blocking task: a client that hangs up does not free
        // its place before its Argon2 run (and its 19 MiB) is over.
        let buffers = Arc::clone(&self.buffers);
        tokio::task::spawn_blocking(move || {
            let _held = (admitted, running);
            // At most one buffer per running permit is ever out, so the pool holds at most
            // that many. A poisoned lock only means a check panicked; the buffers are fine.
            let mut memory = buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let hash = phc.as_deref().unwrap_or_else(|| password::decoy_hash());
            let ok = password::verify_in(&password, hash, &mut memory) && phc.is_some();
            buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(memory);
            ok
        })
        .await
        .map_err(|_| Busy)
    }

    /// Takes every free place any sign-in may take, running and waiting, until the
    /// returned value is dropped: the pool as a flood of strangers leaves it (the known
    /// devices' lane stays free). For drills and tests of a full pool.
    pub fn fill(&self) -> Held {
        let mut permits = Vec::new();
        for semaphore in [&self.anyone.running, &self.anyone.admitted] {
            while let Ok(p) = Arc::clone(semaphore).try_acquire_owned() {
                permits.push(p);
            }
        }
        Held { _permits: permits }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_pool_refuses_and_a_free_one_checks() {
        let phc = password::hash("right password 1").unwrap();
        let pool = PasswordPool::new(2, 3, Duration::from_secs(60));
        let held = pool.fill();
        assert_eq!(pool.anyone.admitted.available_permits(), 0);
        let refused = pool
            .check(
                Lane::Anyone,
                Zeroizing::new("right password 1".into()),
                Some(phc.clone()),
            )
            .await;
        assert_eq!(refused, Err(Busy));
        // A known device's lane is not the strangers' to fill.
        let known = pool
            .check(
                Lane::KnownDevice,
                Zeroizing::new("right password 1".into()),
                Some(phc.clone()),
            )
            .await;
        assert_eq!(known, Ok(true));
        drop(held);
        let ok = pool
            .check(
                Lane::Anyone,
                Zeroizing::new("right password 1".into()),
                Some(phc.clone()),
            )
            .await;
        assert_eq!(ok, Ok(true));
        let wrong = pool
            .check(
                Lane::Anyone,
                Zeroizing::new("wrong password 1".into()),
                Some(phc),
            )
            .await;
        assert_eq!(wrong, Ok(false));
        let unknown = pool
            .check(
                Lane::Anyone,
                Zeroizing::new("right password 1".into()),
                None,
            )
            .await;
        assert_eq!(unknown, Ok(false));
    }

    #[tokio::test]
    async fn a_queued_check_whose_turn_does_not_come_by_the_deadline_is_refused() {
        // One place running, one waiting: the waiter is admitted, then gives up at the
        // deadline (zero here) while the running place stays taken.
        let pool = PasswordPool::new(1, 1, Duration::ZERO);
        let _running = Arc::clone(&pool.anyone.running)
            .try_acquire_owned()
            .unwrap();
        let refused = pool
            .check(Lane::Anyone, Zeroizing::new("any password 12".into()), None)
            .await;
        assert_eq!(refused, Err(Busy));
        // Its queue place was given back.
        assert_eq!(pool.anyone.admitted.available_permits(), 2);
    }
}
