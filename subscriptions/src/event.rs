//! The change events of the write path: what the broker tells the engine after each write.

use chrono::{DateTime, Utc};
use ngsi_types::update::Changes;
use ngsi_types::Entity;

/// One entity changed by one write. `before` is `None` for a creation, `after` is `None` for
/// a deletion; `changes` lists the expanded attribute names the write created, updated and
/// deleted.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    /// `None` (or `Some("")`) is the default tenant.
    pub tenant: Option<String>,
    pub entity_id: String,
    pub before: Option<Entity>,
    pub after: Option<Entity>,
    pub changes: Changes,
    pub at: DateTime<Utc>,
}

impl ChangeEvent {
    /// The entity that filters are evaluated on: the new state, or the old one for a
    /// deletion.
    pub fn entity(&self) -> Option<&Entity> {
        self.after.as_ref().or(self.before.as_ref())
    }

    pub fn is_creation(&self) -> bool {
        self.before.is_none() && self.after.is_some()
    }

    pub fn is_deletion(&self) -> bool {
        self.after.is_none()
    }
}

/// The tenant key: the default tenant is `None`, whether given as `None` or `""`.
pub(crate) fn tenant_key(tenant: Option<&str>) -> Option<String> {
    tenant.filter(|t| !t.is_empty()).map(str::to_owned)
}
