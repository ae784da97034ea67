//! Names in MongoDB: one database per tenant, the collections of entities and of their
//! temporal evolution in it, and attribute names made safe as field names.
//!
//! Databases follow Orion-LD's convention: the default tenant lives in `<prefix>` and tenant
//! `t` in `<prefix>-t` (prefix `orion` by default), so operators find them where they expect.
//!
//! Attribute names are expanded IRIs (`https://smartdatamodels.org/dataModel.Parking/...`):
//! MongoDB reads a `.` in a field path as a step into a sub-document and forbids a leading `$`,
//! so names used as field names are escaped, reversibly: `%` becomes `%25`, `.` becomes `%2E`
//! and `$` becomes `%24`.

use crate::store::Tenant;

/// The current state of the entities, one document each ([`super::document`]).
pub const ENTITIES: &str = "entities";
/// The heads of the temporal evolutions, one document per entity ([`super::temporal`]).
pub const TEMPORAL_ENTITIES: &str = "temporalEntities";
/// The recorded attribute instances, one document each ([`super::temporal`]).
pub const TEMPORAL_INSTANCES: &str = "temporalInstances";

/// The database holding a tenant's data.
pub fn database(prefix: &str, tenant: &Tenant) -> String {
    match tenant.name() {
        None => prefix.to_owned(),
        Some(name) => format!("{prefix}-{name}"),
    }
}

/// The tenant whose database this is, if it is one of ours.
pub fn tenant_of(prefix: &str, database: &str) -> Option<Tenant> {
    if database == prefix {
        return Some(Tenant::default_tenant());
    }
    database
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(Tenant::named)
}

/// An attribute name as a MongoDB field name (no `.`, no `$`).
pub fn field(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '%' => out.push_str("%25"),
            '.' => out.push_str("%2E"),
            '$' => out.push_str("%24"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_map_to_orion_style_databases_and_back() {
        let city = Tenant::named("city-1").expect("tenant");
        assert_eq!(database("orion", &Tenant::default_tenant()), "orion");
        assert_eq!(database("orion", &city), "orion-city-1");
        assert_eq!(tenant_of("orion", "orion"), Some(Tenant::default_tenant()));
        assert_eq!(tenant_of("orion", "orion-city-1"), Some(city));
        assert_eq!(tenant_of("orion", "orionx"), None);
        assert_eq!(tenant_of("orion", "admin"), None);
    }

    #[test]
    fn field_names_have_no_dots_or_dollars_and_stay_distinct() {
        let names = [
            "https://example.org/a.b",
            "https://example.org/a%2Eb",
            "$weird",
            "plain",
        ];
        let fields: Vec<String> = names.iter().map(|n| field(n)).collect();
        for f in &fields {
            assert!(!f.contains('.') && !f.contains('$'), "{f}");
        }
        assert_eq!(fields[0], "https://example%2Eorg/a%2Eb");
        assert_eq!(fields[3], "plain");
        let distinct: std::collections::HashSet<_> = fields.iter().collect();
        assert_eq!(distinct.len(), names.len());
    }
}
