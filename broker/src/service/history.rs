//! What writes through the entity API record in the temporal evolution (GS CIM 009 4.5.6,
//! 5.6.11): every attribute instance they create or change, and for every instance they
//! remove a deletion instance (NGSI-LD Null, `deletedAt`).
//!
//! The instances are decided here, as a pure function of the entity before and after the
//! write, and committed with it (`Write::history`): the store makes both durable together.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ngsi_types::temporal::changed_instances;
use ngsi_types::Entity;

use crate::store::{RecordMode, TemporalOp};

/// Whether, and how, the entity API keeps the temporal evolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Nothing is recorded (`--temporal off`).
    Off,
    /// Recorded; deleting an entity marks its evolution deleted and keeps it.
    KeepOnDelete,
    /// Recorded; deleting an entity drops its evolution.
    DropOnDelete,
}

/// Counters of the temporal evolution, shown by `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct TemporalStats {
    recorded: Arc<AtomicU64>,
    expired: Arc<AtomicU64>,
}

impl TemporalStats {
    pub fn recorded(&self, n: usize) {
        self.recorded.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn expired(&self, n: u64) {
        self.expired.fetch_add(n, Ordering::Relaxed);
    }

    /// (instances recorded, instances dropped by retention) since start.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.recorded.load(Ordering::Relaxed),
            self.expired.load(Ordering::Relaxed),
        )
    }
}

/// The number of instances a temporal operation adds.
pub fn recorded_count(op: Option<&TemporalOp>) -> usize {
    match op {
        Some(TemporalOp::Record { instances, .. } | TemporalOp::MarkDeleted { instances, .. }) => {
            instances.len()
        }
        _ => 0,
    }
}

/// A new instanceId: a UUIDv7 URN, so that instance keys sort in recording order.
pub fn new_instance_id() -> String {
    format!("urn:ngsi-ld:{}", uuid::Uuid::now_v7())
}

impl History {
    /// What a write from `before` to `after` (`None`: absent) adds to the evolution.
    pub fn of_write(
        self,
        before: Option<&Entity>,
        after: Option<&Entity>,
        now: DateTime<Utc>,
    ) -> Option<TemporalOp> {
        if self == Self::Off {
            return None;
        }
        let instances = changed_instances(before, after, now, new_instance_id);
        match after {
            Some(entity) => Some(TemporalOp::Record {
                types: entity.types.clone(),
                scope: Some(entity.scope.clone()),
                at: now,
                instances,
                mode: RecordMode::Upsert,
                touch: false,
            }),
            None if self == Self::DropOnDelete => Some(TemporalOp::Delete),
            None => Some(TemporalOp::MarkDeleted { at: now, instances }),
        }
    }
}

#[cfg(test)]
mod tests {
    use ngsi_types::Attribute;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        ngsi_types::datetime::parse_datetime(s).expect("date")
    }

    fn entity(speed: f64, modified: DateTime<Utc>) -> Entity {
        let mut e = Entity::new("urn:ngsi-ld:V:1", vec!["https://example.org/V".into()]);
        let mut a = Attribute::property(speed);
        a.stamp(modified, Some(at("2024-01-01T00:00:00Z")));
        e.put_attribute("https://example.org/speed", a);
        e
    }

    fn recorded(op: Option<TemporalOp>) -> Vec<(String, Attribute)> {
        match op {
            Some(
                TemporalOp::Record { instances, .. } | TemporalOp::MarkDeleted { instances, .. },
            ) => instances,
            other => panic!("not a recording: {other:?}"),
        }
    }

    #[test]
    fn an_update_records_the_changed_instance_and_a_deletion_records_null() {
        let (t0, t1, t2) = (
            at("2024-01-01T00:00:00Z"),
            at("2024-01-01T00:01:00Z"),
            at("2024-01-01T00:02:00Z"),
        );
        let (v1, v2) = (entity(10.0, t0), entity(20.0, t1));
        let created = recorded(History::KeepOnDelete.of_write(None, Some(&v1), t0));
        assert_eq!(created.len(), 1);
        let updated = recorded(History::KeepOnDelete.of_write(Some(&v1), Some(&v2), t1));
        assert_eq!(updated.len(), 1);
        assert_eq!(
            updated[0].1.value,
            v2.attributes["https://example.org/speed"][0].value
        );
        assert!(updated[0]
            .1
            .instance_id
            .as_deref()
            .is_some_and(|i| i.starts_with("urn:ngsi-ld:")));
        assert!(recorded(History::KeepOnDelete.of_write(Some(&v2), Some(&v2), t2)).is_empty());
        let deleted = recorded(History::KeepOnDelete.of_write(Some(&v2), None, t2));
        assert!(deleted[0].1.value.is_null());
        assert_eq!(deleted[0].1.deleted_at, Some(t2));
        assert_eq!(
            History::DropOnDelete.of_write(Some(&v2), None, t2),
            Some(TemporalOp::Delete)
        );
        assert_eq!(History::Off.of_write(None, Some(&v1), t0), None);
    }
}
