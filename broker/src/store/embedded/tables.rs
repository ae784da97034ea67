//! The redb tables and their keys: the whole on-disk layout in one place.
//!
//! One database file holds every tenant. Keys start with the tenant key (the tenant name, or the
//! empty string for the default tenant, which no named tenant can have), so a tenant's data is a
//! contiguous, separately scannable key range, and dropping the notion of "table per tenant"
//! keeps the number of tables fixed.

use redb::TableDefinition;

use crate::store::{DocumentKind, Tenant};

/// (tenant key, entity id) -> entity record (see [`super::record`]).
pub const ENTITIES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("entities");

/// (tenant key, document kind code, document id) -> the document as JSON text.
pub const DOCUMENTS: TableDefinition<(&str, u8, &str), &[u8]> = TableDefinition::new("documents");

/// (tenant key, entity id) -> the head of the entity's temporal evolution: the entity with no
/// attributes, as MessagePack (see [`super::temporal`]).
pub const TEMPORAL_HEADS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("temporal_heads");

/// (tenant key, entity id, attribute name, instant in µs, instanceId) -> one recorded
/// attribute instance, as MessagePack. The instant is its observedAt, else its createdAt, so
/// an attribute's instances sort in the order the default temporal query reads them
/// (instanceIds are UUIDv7 URNs: at one instant, in recording order).
pub const TEMPORAL_INSTANCES: TableDefinition<(&str, &str, &str, i64, &str), &[u8]> =
    TableDefinition::new("temporal_instances");

/// Named tenants that exist (something was once written to them). The default tenant always
/// exists and is not listed.
pub const TENANTS: TableDefinition<&str, ()> = TableDefinition::new("tenants");

/// The key under which a tenant's data is stored.
pub fn tenant_key(tenant: &Tenant) -> &str {
    tenant.name().unwrap_or("")
}

/// The tenant a stored key belongs to (`None` if the stored name is not a valid tenant name).
pub fn tenant_of_key(key: &str) -> Option<Tenant> {
    if key.is_empty() {
        Some(Tenant::default_tenant())
    } else {
        Tenant::named(key)
    }
}

/// Stable on-disk code of a document kind. Never renumber: existing files depend on it.
pub fn kind_code(kind: DocumentKind) -> u8 {
    match kind {
        DocumentKind::Subscription => 1,
        DocumentKind::JsonLdContext => 2,
        DocumentKind::Registration => 3,
        DocumentKind::DeliveryStatus => 4,
        DocumentKind::SourceIdentity => 5,
        DocumentKind::CsourceSubscription => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_keys_round_trip() {
        for tenant in [
            Tenant::default_tenant(),
            Tenant::named("city").expect("valid"),
        ] {
            assert_eq!(tenant_of_key(tenant_key(&tenant)), Some(tenant));
        }
    }
}
