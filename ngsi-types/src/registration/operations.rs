//! The names of the operations a Context Source may support, and of their groups (GS CIM 009
//! clause 4.20, Tables 4.20-1 and 4.20-2).

/// Every operation name of Table 4.20-1.
pub const OPERATIONS: &[&str] = &[
    // Context Information Provision
    "createEntity",
    "updateEntity",
    "appendAttrs",
    "updateAttrs",
    "deleteAttrs",
    "deleteEntity",
    "createBatch",
    "upsertBatch",
    "updateBatch",
    "deleteBatch",
    "upsertTemporal",
    "appendAttrsTemporal",
    "deleteAttrsTemporal",
    "updateAttrInstanceTemporal",
    "deleteAttrInstanceTemporal",
    "deleteTemporal",
    "mergeEntity",
    "replaceEntity",
    "replaceAttrs",
    "mergeBatch",
    "purgeEntity",
    // Context Information Consumption
    "retrieveEntity",
    "queryEntity",
    "queryBatch",
    "retrieveTemporal",
    "queryTemporal",
    "retrieveEntityTypes",
    "retrieveEntityTypeDetails",
    "retrieveEntityTypeInfo",
    "retrieveAttrTypes",
    "retrieveAttrTypeDetails",
    "retrieveAttrTypeInfo",
    // Context Information Subscription
    "createSubscription",
    "updateSubscription",
    "retrieveSubscription",
    "querySubscription",
    "deleteSubscription",
    // Support operations for distributed operations
    "retrieveEntityMap",
    "updateEntityMap",
    "deleteEntityMap",
    "createEntityMapQueryEntity",
    "createEntityMapQueryTemporal",
    "retrieveContextSourceIdentity",
];

const RETRIEVAL_AND_SUBSCRIPTION: &[&str] = &[
    "retrieveEntity",
    "queryEntity",
    "queryBatch",
    "retrieveEntityTypes",
    "retrieveEntityTypeDetails",
    "retrieveEntityTypeInfo",
    "retrieveAttrTypes",
    "retrieveAttrTypeDetails",
    "retrieveAttrTypeInfo",
    "createSubscription",
    "updateSubscription",
    "retrieveSubscription",
    "querySubscription",
    "deleteSubscription",
];

const ENTITY_MAPS: &[&str] = &[
    "retrieveEntityMap",
    "updateEntityMap",
    "deleteEntityMap",
    "createEntityMapQueryEntity",
];

/// The default set of operations of a registration that names none (clause 4.20).
pub const DEFAULT_GROUP: &str = "federationOps";

/// The operation groups of Table 4.20-2 and what each stands for.
pub fn group(name: &str) -> Option<Vec<&'static str>> {
    let ops: Vec<&'static str> = match name {
        "federationOps" => RETRIEVAL_AND_SUBSCRIPTION
            .iter()
            .chain(ENTITY_MAPS)
            .chain(&["retrieveContextSourceIdentity"])
            .copied()
            .collect(),
        "associationOps" => RETRIEVAL_AND_SUBSCRIPTION
            .iter()
            .chain(&["retrieveContextSourceIdentity"])
            .copied()
            .collect(),
        "updateOps" => vec![
            "updateEntity",
            "updateAttrs",
            "replaceEntity",
            "replaceAttrs",
        ],
        "retrieveOps" => vec!["retrieveEntity", "queryEntity"],
        "redirectionOps" => [
            "createEntity",
            "updateEntity",
            "appendAttrs",
            "updateAttrs",
            "deleteAttrs",
            "deleteEntity",
            "mergeEntity",
            "replaceEntity",
            "replaceAttrs",
            "retrieveEntity",
            "queryEntity",
            "purgeEntity",
            "retrieveEntityTypes",
            "retrieveEntityTypeDetails",
            "retrieveEntityTypeInfo",
            "retrieveAttrTypes",
            "retrieveAttrTypeDetails",
            "retrieveAttrTypeInfo",
        ]
        .iter()
        .chain(ENTITY_MAPS)
        .chain(&["retrieveContextSourceIdentity"])
        .copied()
        .collect(),
        _ => return None,
    };
    Some(ops)
}

/// The operation name itself, as a `'static` name, if Table 4.20-1 has it.
fn operation(name: &str) -> Option<&'static str> {
    OPERATIONS.iter().copied().find(|op| *op == name)
}

/// True if `name` is an operation or an operation group.
pub fn is_known(name: &str) -> bool {
    operation(name).is_some() || group(name).is_some()
}

/// The operations that `names` (operations and groups) stand for, each once, in table order;
/// no names stands for the default group.
pub fn resolve(names: &[String]) -> Vec<&'static str> {
    let mut ops: Vec<&'static str> = Vec::new();
    let default = [DEFAULT_GROUP.to_owned()];
    let names = if names.is_empty() {
        &default[..]
    } else {
        names
    };
    for name in names {
        let add = match (operation(name), group(name)) {
            (Some(op), _) => vec![op],
            (None, Some(g)) => g,
            (None, None) => Vec::new(),
        };
        for op in add {
            if !ops.contains(&op) {
                ops.push(op);
            }
        }
    }
    ops.sort_by_key(|op| OPERATIONS.iter().position(|o| o == op));
    ops
}

/// GS CIM 009 5.9.2.4, 5.9.3.4: an auxiliary registration only serves retrieval, so its
/// `operations` must be given and be made of `retrieveOps`, `retrieveEntity` and
/// `queryEntity`.
pub fn fits_auxiliary(names: &[String]) -> bool {
    !names.is_empty()
        && names
            .iter()
            .all(|n| matches!(n.as_str(), "retrieveOps" | "retrieveEntity" | "queryEntity"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn groups_and_operations_are_known_and_others_not() {
        for name in [
            "federationOps",
            "retrieveOps",
            "queryEntity",
            "queryTemporal",
        ] {
            assert!(is_known(name), "{name}");
        }
        for name in ["", "query", "FederationOps", "allOps"] {
            assert!(!is_known(name), "{name}");
        }
    }

    #[test]
    fn no_operations_means_federation_ops() {
        let ops = resolve(&[]);
        assert!(ops.contains(&"retrieveEntity"));
        assert!(ops.contains(&"retrieveContextSourceIdentity"));
        assert!(!ops.contains(&"createEntity"));
        assert_eq!(ops, resolve(&names(&["federationOps"])));
    }

    #[test]
    fn groups_expand_and_overlaps_count_once() {
        let ops = resolve(&names(&["retrieveOps", "queryEntity", "updateOps"]));
        assert_eq!(
            ops,
            vec![
                "updateEntity",
                "updateAttrs",
                "replaceEntity",
                "replaceAttrs",
                "retrieveEntity",
                "queryEntity"
            ]
        );
    }

    #[test]
    fn auxiliary_takes_retrieval_operations_only() {
        assert!(fits_auxiliary(&names(&["retrieveOps"])));
        assert!(fits_auxiliary(&names(&["retrieveEntity", "queryEntity"])));
        assert!(!fits_auxiliary(&[]));
        assert!(!fits_auxiliary(&names(&["retrieveOps", "updateOps"])));
        assert!(!fits_auxiliary(&names(&["federationOps"])));
    }
}
