//! The in-memory indexes of every tenant, rebuilt from the database at open and changed only by
//! the writer, after each commit, from the list of [`IndexChange`]s that commit made.
//!
//! They live behind one `RwLock`. The writer takes the write lock once per transaction, after
//! the fsync, for as long as it takes to apply that transaction's changes; readers take the read
//! lock for short, bounded steps (a plan, a chunk of candidates, a summary), so neither side
//! ever waits for the disk while holding the lock.

mod facts;
mod geo;
mod interner;
mod plan;
mod summary;
mod tenant;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use facts::{EntityFacts, StoredFacts};
pub use plan::Plan;
pub use tenant::TenantIndex;

use crate::store::{AttributeSummary, Tenant, TypeSummary};

/// One change a committed transaction made, as the indexes need to see it.
#[derive(Debug, Clone)]
pub enum IndexChange {
    /// A named tenant came into existence.
    Tenant(Tenant),
    /// An entity was created, replaced or deleted. `old` is what the index holds for it (if it
    /// existed), `new` what it must hold afterwards (unless it was deleted).
    Entity {
        tenant: Tenant,
        id: String,
        old: Option<(u64, Arc<EntityFacts>)>,
        new: Option<(u64, Arc<EntityFacts>)>,
    },
}

/// Extents gathered by the scan at open, per tenant, for one bulk load per R-tree.
pub type PendingExtents = HashMap<Tenant, Vec<geo::Extent>>;

/// Indexes of all tenants. The default tenant is always present.
#[derive(Debug)]
pub struct Indexes {
    tenants: HashMap<Tenant, TenantIndex>,
}

impl Default for Indexes {
    fn default() -> Self {
        Self {
            tenants: HashMap::from([(Tenant::default_tenant(), TenantIndex::default())]),
        }
    }
}

impl Indexes {
    pub fn apply(&mut self, change: &IndexChange) {
        match change {
            IndexChange::Tenant(tenant) => {
                self.tenants.entry(tenant.clone()).or_default();
            }
            IndexChange::Entity {
                tenant,
                id,
                old,
                new,
            } => {
                let index = self.tenants.entry(tenant.clone()).or_default();
                if let Some((seq, facts)) = old {
                    index.remove(*seq, id, facts);
                }
                if let Some((seq, facts)) = new {
                    index.add(*seq, id, facts);
                }
            }
        }
    }

    /// Indexes one stored entity during the scan at open; its extents wait in `extents` for
    /// [`Self::load_extents`].
    pub fn load(
        &mut self,
        tenant: Tenant,
        seq: u64,
        id: &str,
        facts: &EntityFacts,
        extents: &mut PendingExtents,
    ) {
        let pending = extents.entry(tenant.clone()).or_default();
        self.tenants
            .entry(tenant)
            .or_default()
            .add_deferring_geo(seq, id, facts, pending);
    }

    /// Bulk-loads the extents gathered by [`Self::load`].
    pub fn load_extents(&mut self, extents: PendingExtents) {
        for (tenant, extents) in extents {
            self.tenants
                .entry(tenant)
                .or_default()
                .geo
                .bulk_load(extents);
        }
    }

    pub fn tenant(&self, tenant: &Tenant) -> Option<&TenantIndex> {
        self.tenants.get(tenant)
    }

    /// Every existing tenant, the default one first, then by name.
    pub fn tenants(&self) -> Vec<Tenant> {
        let mut tenants: Vec<Tenant> = self.tenants.keys().cloned().collect();
        tenants.sort();
        tenants
    }

    pub fn expired(&self, now: DateTime<Utc>) -> Vec<(Tenant, String)> {
        let mut out = Vec::new();
        for tenant in self.tenants() {
            if let Some(index) = self.tenants.get(&tenant) {
                out.extend(
                    index
                        .expired(now)
                        .into_iter()
                        .map(|id| (tenant.clone(), id)),
                );
            }
        }
        out
    }

    pub fn types(&self, tenant: &Tenant) -> Vec<TypeSummary> {
        self.tenants
            .get(tenant)
            .map(|index| index.summaries.types(&index.names))
            .unwrap_or_default()
    }

    pub fn attributes(&self, tenant: &Tenant) -> Vec<AttributeSummary> {
        self.tenants
            .get(tenant)
            .map(|index| index.summaries.attributes(&index.names))
            .unwrap_or_default()
    }
}
