//! Services and API-key owners, remembered for a few seconds.
//!
//! Every bank call looks up who owns its API key and the service's policy: two of the five
//! storage round trips of a `verify`, for data that changes only when an operator runs
//! `softtoken-server service add` or `service rotate-key`. Each instance keeps what it
//! read for [`SERVICE_CACHE_TTL`], so a rotated key stops working on every instance within
//! that time. Only keys that were found are kept: a flood of made-up keys cannot fill the
//! cache, and a key added a moment ago works at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use softtoken_protocol::ServiceId;

use crate::store::{Service, Store, StoreResult};

/// How long a looked-up service or key owner is trusted without asking storage again.
pub const SERVICE_CACHE_TTL: Duration = Duration::from_secs(5);

/// The cache; one per server instance (in `Context`).
pub struct ServiceCache {
    ttl: Duration,
    owners: Expiring<[u8; 32], ServiceId>,
    services: Expiring<ServiceId, Service>,
}

impl ServiceCache {
    /// An empty cache whose entries live for `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        ServiceCache {
            ttl,
            owners: Expiring::default(),
            services: Expiring::default(),
        }
    }

    /// The service whose API key hashes to `key_hash`.
    pub async fn service_for_key(
        &self,
        store: &dyn Store,
        key_hash: &[u8; 32],
    ) -> StoreResult<Option<ServiceId>> {
        if let Some(owner) = self.owners.get(key_hash) {
            return Ok(Some(owner));
        }
        let owner = store.service_for_key(key_hash).await?;
        if let Some(owner) = &owner {
            self.owners.put(*key_hash, owner.clone(), self.ttl);
        }
        Ok(owner)
    }

    /// The service `id`.
    pub async fn service(&self, store: &dyn Store, id: &ServiceId) -> StoreResult<Option<Service>> {
        if let Some(service) = self.services.get(id) {
            return Ok(Some(service));
        }
        let service = store.service(id).await?;
        if let Some(service) = &service {
            self.services.put(id.clone(), service.clone(), self.ttl);
        }
        Ok(service)
    }
}

impl ServiceCache {
    /// Drops what this instance remembers of service `id` (its policy changed here); other
    /// instances see the change within [`SERVICE_CACHE_TTL`].
    pub fn forget(&self, id: &ServiceId) {
        self.services.remove(id);
    }
}

impl std::fmt::Debug for ServiceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// A map whose entries expire.
struct Expiring<K, V>(Mutex<HashMap<K, (V, Instant)>>);

impl<K, V> Default for Expiring<K, V> {
    fn default() -> Self {
        Expiring(Mutex::new(HashMap::new()))
    }
}

/// More entries than any server has services means something is off; start afresh rather
/// than grow without bound.
const MAX_ENTRIES: usize = 4096;

impl<K: Eq + Hash, V: Clone> Expiring<K, V> {
    fn get(&self, key: &K) -> Option<V> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(value, _)| value.clone())
    }

    fn remove(&self, key: &K) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }

    fn put(&self, key: K, value: V, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (value, Instant::now() + ttl));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_zero_ttl_keeps_nothing() {
        let map: Expiring<u8, &str> = Expiring::default();
        map.put(1, "one", Duration::from_secs(60));
        assert_eq!(map.get(&1), Some("one"));
        assert_eq!(map.get(&2), None);
        map.put(2, "two", Duration::ZERO);
        assert_eq!(map.get(&2), None);
        // An entry already past its time is not returned.
        map.0
            .lock()
            .unwrap()
            .insert(3, ("three", Instant::now() - Duration::from_millis(1)));
        assert_eq!(map.get(&3), None);
    }

    #[test]
    fn the_map_is_bounded() {
        let map: Expiring<usize, usize> = Expiring::default();
        for i in 0..=MAX_ENTRIES {
            map.put(i, i, Duration::from_secs(60));
        }
        assert!(map.0.lock().unwrap().len() <= MAX_ENTRIES);
        assert_eq!(map.get(&MAX_ENTRIES), Some(MAX_ENTRIES));
    }
}
