//! The `notify` scenario of `oxion-load`: how fast a broker fans writes out to subscribers.
//!
//! The tool runs its own notification receiver (a minimal HTTP/1.1 server on loopback that
//! answers `204`), creates `S` subscriptions pointing at it, then drives PATCH writes for the
//! duration. Every write carries the time it was sent (`sentAt`, microseconds since the Unix
//! epoch) as an attribute value, so the receiver measures write-to-delivery latency from the
//! notification alone.
//!
//! Fan-out is bounded by construction ([`FanOut`]): entities and subscriptions are split into
//! `G` groups by entity type (`BenchSensor<run>G<g>`); subscription `i` watches group
//! `i mod G`, entity `k` belongs to group `k mod G`. With `G = ceil(S / fanout)` each write
//! notifies exactly `S / G` subscriptions (`fanout`, or fewer for the last rounding), however
//! large `S` is. `S = 0` gives the same writes with no subscription, for comparison.
//!
//! [`run`] yields two rows of results: `notify`, the writes, and `notify-delivery`, the
//! notifications received per second and their write-to-delivery latency.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

mod receiver;
mod scenario;

pub use receiver::{Deliveries, Receiver};
pub use scenario::{run, Setup};

/// How subscriptions and entities are grouped so that a write notifies a bounded number of
/// subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOut {
    pub subscriptions: u64,
    /// Groups (entity types); at least 1.
    pub groups: u64,
    /// Entities written to; at least one per group.
    pub entities: u64,
}

impl FanOut {
    /// `S` subscriptions, about `fanout` notified per write, writes spread over at least
    /// `min_entities` entities.
    pub fn new(subscriptions: u64, fanout: u64, min_entities: u64) -> Self {
        let fanout = fanout.max(1);
        let groups = subscriptions.div_ceil(fanout).max(1);
        FanOut {
            subscriptions,
            groups,
            entities: min_entities.max(groups),
        }
    }

    /// Subscriptions notified by a write to entity `k`.
    pub fn notified_by(&self, k: u64) -> u64 {
        let g = k % self.groups;
        // Subscriptions i < S with i mod G == g.
        if g < self.subscriptions % self.groups {
            self.subscriptions / self.groups + 1
        } else {
            self.subscriptions / self.groups
        }
    }

    pub fn entity_type(&self, run: &str, group: u64) -> String {
        format!("BenchSensor{run}G{group}")
    }

    pub fn entity_id(&self, run: &str, k: u64) -> String {
        format!("urn:ngsi-ld:BenchSensor:{run}:{k}")
    }

    /// Entity `k` as created before the run.
    pub fn entity(&self, run: &str, k: u64) -> Value {
        json!({
            "id": self.entity_id(run, k),
            "type": self.entity_type(run, k % self.groups),
            "temperature": {"type": "Property", "value": 20.5, "unitCode": "CEL"},
            "sentAt": {"type": "Property", "value": 0}
        })
    }

    /// Subscription `i`: the entities of its group, attribute updates (the default triggers),
    /// notified to `uri`.
    pub fn subscription(&self, run: &str, i: u64, uri: &str) -> Value {
        json!({
            "id": format!("urn:ngsi-ld:Subscription:bench-{run}-{i}"),
            "type": "Subscription",
            "entities": [{"type": self.entity_type(run, i % self.groups)}],
            "watchedAttributes": ["sentAt"],
            "notification": {"endpoint": {"uri": uri}}
        })
    }
}

/// The body of the PATCH /attrs of a measured write.
pub fn stamped_patch(sent_at_micros: u64) -> Value {
    json!({"sentAt": {"type": "Property", "value": sent_at_micros}})
}

pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_notifies_a_bounded_number_of_subscriptions() {
        for (s, fanout, min_entities) in [(1, 1, 1000), (100, 1, 1000), (10_000, 1, 1000)] {
            let f = FanOut::new(s, fanout, min_entities);
            assert!(f.entities >= min_entities);
            for k in 0..f.entities.min(20_000) {
                assert_eq!(f.notified_by(k), 1, "S={s} k={k}");
            }
        }
        let all = FanOut::new(100, 100, 1000);
        assert_eq!(all.groups, 1);
        assert_eq!(all.notified_by(7), 100);
        let none = FanOut::new(0, 1, 1000);
        assert_eq!(none.notified_by(3), 0);
        // Uneven: 10 subscriptions in groups of about 3.
        let uneven = FanOut::new(10, 3, 8);
        assert_eq!(uneven.groups, 4);
        let total: u64 = (0..uneven.groups).map(|g| uneven.notified_by(g)).sum();
        assert_eq!(total, 10);
    }
}
