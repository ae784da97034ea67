//! Claims ([`Store::claim`](crate::store::Store::claim)) of the embedded store. One process
//! owns the store's file (redb locks it), so no other instance can claim anything and the
//! claims live in memory: a key is claimed by its first caller, and every later claim of it in
//! the tenant fails, so a periodic notification whose tick comes twice in one slot is still
//! sent once. Claims are forgotten after a day (as the MongoDB store's expire), which bounds
//! the memory they hold; they are not kept across a restart, which a periodic slot does not
//! outlive by more than its interval.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::store::Tenant;

/// How long a claim is remembered.
const RETENTION: Duration = Duration::from_secs(86_400);

#[derive(Debug)]
pub struct Claims {
    retention: Duration,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    keys: HashSet<(Tenant, String)>,
    /// The keys in the order they were claimed, to forget the oldest first.
    by_age: VecDeque<(Instant, (Tenant, String))>,
}

impl Default for Claims {
    fn default() -> Self {
        Self::with_retention(RETENTION)
    }
}

impl Claims {
    fn with_retention(retention: Duration) -> Self {
        Self {
            retention,
            held: Mutex::default(),
        }
    }

    /// True for the first caller claiming `key` in `tenant`, false for every later one.
    pub fn claim(&self, tenant: &Tenant, key: &str) -> bool {
        let now = Instant::now();
        // A panic while holding the lock leaves at worst a claim not yet forgotten.
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((at, _)) = held.by_age.front() {
            if now.duration_since(*at) < self.retention {
                break;
            }
            if let Some((_, old)) = held.by_age.pop_front() {
                held.keys.remove(&old);
            }
        }
        let key = (tenant.clone(), key.to_owned());
        if !held.keys.insert(key.clone()) {
            return false;
        }
        held.by_age.push_back((now, key));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_forgotten_after_the_retention() {
        let claims = Claims::with_retention(Duration::ZERO);
        let t = Tenant::default_tenant();
        assert!(claims.claim(&t, "k"));
        // Retained for no time at all: the next claim finds the first one expired.
        assert!(claims.claim(&t, "k"));
        let held = claims.held.lock().expect("lock");
        assert_eq!((held.keys.len(), held.by_age.len()), (1, 1));
    }
}
