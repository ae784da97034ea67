//! A bounded map shared between requests: processed contexts and fetched documents.
//!
//! Both are read on nearly every request and written rarely, and both must not grow without
//! bound since clients choose the URLs and inline contexts. Counting entries is not enough: a
//! client can make one context weigh megabytes, so every entry carries its approximate size in
//! bytes and the cache holds at most `max_entries` entries *and* `max_bytes` bytes. An entry
//! heavier than the whole budget is not kept at all. A `std::sync::Mutex` held only for a
//! lookup or an insert is enough (never across an `.await`); when full, the least recently
//! used entries go, found by a scan that only runs on inserts into a full cache.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use serde_json::Value;

#[derive(Debug)]
pub(crate) struct BoundedCache<K, V> {
    inner: Mutex<Entries<K, V>>,
    max_entries: usize,
    max_bytes: usize,
}

#[derive(Debug)]
struct Entries<K, V> {
    map: HashMap<K, Slot<V>>,
    clock: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Slot<V> {
    value: V,
    bytes: usize,
    last_used: u64,
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedCache<K, V> {
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Entries {
                map: HashMap::new(),
                clock: 0,
                bytes: 0,
            }),
            max_entries: max_entries.max(1),
            max_bytes,
        }
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        let slot = entries.map.get_mut(key)?;
        slot.last_used = now;
        Some(slot.value.clone())
    }

    /// Keeps `value` under `key`, weighing `bytes`, evicting the least recently used entries
    /// until both bounds hold. Returns false (and keeps nothing) when `bytes` alone is over
    /// the byte budget.
    pub(crate) fn insert(&self, key: K, value: V, bytes: usize) -> bool {
        let mut entries = self.lock();
        if let Some(old) = entries.map.remove(&key) {
            entries.bytes -= old.bytes;
        }
        if bytes > self.max_bytes {
            return false;
        }
        while !entries.map.is_empty()
            && (entries.map.len() >= self.max_entries || entries.bytes + bytes > self.max_bytes)
        {
            let oldest = entries
                .map
                .iter()
                .min_by_key(|(_, slot)| slot.last_used)
                .map(|(k, _)| k.clone());
            if let Some(slot) = oldest.and_then(|k| entries.map.remove(&k)) {
                entries.bytes -= slot.bytes;
            }
        }
        entries.clock += 1;
        let last_used = entries.clock;
        entries.bytes += bytes;
        entries.map.insert(
            key,
            Slot {
                value,
                bytes,
                last_used,
            },
        );
        true
    }

    pub(crate) fn remove<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut entries = self.lock();
        if let Some(slot) = entries.map.remove(key) {
            entries.bytes -= slot.bytes;
        }
    }

    pub(crate) fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) {
        let mut entries = self.lock();
        let mut freed = 0;
        entries.map.retain(|k, slot| {
            let kept = keep(k, &slot.value);
            if !kept {
                freed += slot.bytes;
            }
            kept
        });
        entries.bytes -= freed;
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// The sum of the weights of the entries held.
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters for a cache, so a poisoned lock is used as is.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// About how many bytes of memory a parsed JSON value holds: its strings, plus the size of a
/// `Value` and of a map slot per node. An estimate for cache budgets, not an exact count.
pub fn json_bytes(value: &Value) -> usize {
    const NODE: usize = std::mem::size_of::<Value>();
    // A map member: the key String and the slot's share of the map's table.
    const MEMBER: usize = 3 * std::mem::size_of::<usize>() + 16;
    let mut total = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total += NODE;
        match v {
            Value::String(s) => total += s.len(),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                for (k, v) in map {
                    total += MEMBER + k.len();
                    stack.push(v);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_entry() {
        let cache = BoundedCache::new(2, usize::MAX);
        cache.insert("a", 1, 1);
        cache.insert("b", 2, 1);
        assert_eq!(cache.get("a"), Some(1));
        cache.insert("c", 3, 1);
        assert_eq!(cache.get("b"), None);
        assert_eq!(cache.get("a"), Some(1));
        assert_eq!(cache.get("c"), Some(3));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn replacing_a_key_in_a_full_cache_evicts_nothing() {
        let cache = BoundedCache::new(2, usize::MAX);
        cache.insert("a", 1, 1);
        cache.insert("b", 2, 1);
        cache.insert("a", 10, 1);
        assert_eq!(cache.get("a"), Some(10));
        assert_eq!(cache.get("b"), Some(2));
        cache.remove("a");
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), 1);
    }

    #[test]
    fn the_byte_budget_evicts_as_many_entries_as_it_takes() {
        let cache = BoundedCache::new(100, 100);
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            assert!(cache.insert(key, i, 30));
        }
        // 4 x 30 > 100: the oldest went.
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.bytes(), 90);
        // One heavy entry pushes out all but what fits beside it.
        assert!(cache.insert("heavy", 9, 80));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), 80);
        cache.retain(|_, _| false);
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }

    #[test]
    fn an_entry_over_the_whole_budget_is_not_kept_and_replaces_nothing() {
        let cache = BoundedCache::new(10, 100);
        cache.insert("small", 1, 10);
        assert!(!cache.insert("huge", 2, 101));
        assert_eq!(cache.get("huge"), None);
        assert_eq!(cache.get("small"), Some(1));
        // Replacing a key with a value over budget drops the old one too.
        assert!(!cache.insert("small", 3, 500));
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }

    #[test]
    fn json_bytes_grows_with_the_text_it_holds() {
        let small = json_bytes(&serde_json::json!({"a": "x"}));
        let big = json_bytes(&serde_json::json!({"a": "x".repeat(10_000)}));
        // The same shape, a string 9,999 bytes longer.
        assert_eq!(big - small, 9_999, "{small} {big}");
        let many = serde_json::json!((0..1000).map(|i| format!("t{i}")).collect::<Vec<_>>());
        assert!(json_bytes(&many) > 1000 * std::mem::size_of::<Value>());
    }
}
