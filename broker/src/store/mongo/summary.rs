//! What `/types` and `/attributes` report (clauses 5.7.5-5.7.10), computed by MongoDB
//! aggregations over the derived `types` and `attrs` fields of the entity documents, so no
//! entity body is decoded and nothing is kept in memory between requests: every instance
//! sharing the database reports the same counts.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::Collection;
use ngsi_types::AttributeKind;

use super::error::store_error;
use super::MongoStore;
use crate::store::{AttributeKindName, AttributeSummary, StoreResult, Tenant, TypeSummary};

/// Per-type summaries: entity counts, and the attributes with their kinds.
pub async fn types(store: &MongoStore, tenant: &Tenant) -> StoreResult<Vec<TypeSummary>> {
    let entities = store.entities(tenant);
    let mut by_type: BTreeMap<String, TypeSummary> = BTreeMap::new();
    let counts = aggregate(
        &entities,
        vec![
            doc! { "$unwind": "$types" },
            doc! { "$group": { "_id": "$types", "n": { "$sum": 1 } } },
        ],
    )
    .await?;
    for d in counts {
        let name = d.get_str("_id").unwrap_or_default().to_owned();
        let entry = by_type.entry(name.clone()).or_default();
        entry.name = name;
        entry.entity_count = count_of(&d, "n");
    }
    let attrs = aggregate(
        &entities,
        vec![
            doc! { "$unwind": "$types" },
            doc! { "$unwind": "$attrs" },
            doc! { "$group": { "_id": { "t": "$types", "n": "$attrs.n", "k": "$attrs.k" } } },
        ],
    )
    .await?;
    for d in attrs {
        let Ok(key) = d.get_document("_id") else {
            continue;
        };
        let (Ok(t), Ok(n), Ok(k)) = (key.get_str("t"), key.get_str("n"), key.get_str("k")) else {
            continue;
        };
        if let (Some(entry), Some(kind)) = (by_type.get_mut(t), kind_name(k)) {
            entry
                .attributes
                .entry(n.to_owned())
                .or_default()
                .insert(kind);
        }
    }
    Ok(by_type.into_values().collect())
}

/// Per-attribute summaries: how many entities have it, its kinds and their types.
pub async fn attributes(store: &MongoStore, tenant: &Tenant) -> StoreResult<Vec<AttributeSummary>> {
    let rows = aggregate(
        &store.entities(tenant),
        vec![
            doc! { "$unwind": "$attrs" },
            doc! { "$group": {
                "_id": { "n": "$attrs.n", "e": "$_id" },
                "kinds": { "$addToSet": "$attrs.k" },
                "types": { "$first": "$types" },
            } },
            doc! { "$group": {
                "_id": "$_id.n",
                "count": { "$sum": 1 },
                "kinds": { "$push": "$kinds" },
                "types": { "$push": "$types" },
            } },
        ],
    )
    .await?;
    let mut out = Vec::new();
    for d in rows {
        let strings = |key: &str| -> Vec<String> {
            d.get_array(key)
                .map(|outer| {
                    outer
                        .iter()
                        .filter_map(Bson::as_array)
                        .flatten()
                        .filter_map(|b| b.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        out.push(AttributeSummary {
            name: d.get_str("_id").unwrap_or_default().to_owned(),
            attribute_count: count_of(&d, "count"),
            kinds: strings("kinds")
                .iter()
                .filter_map(|k| kind_name(k))
                .collect(),
            types: strings("types").into_iter().collect::<BTreeSet<_>>(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn aggregate(
    coll: &Collection<Document>,
    pipeline: Vec<Document>,
) -> StoreResult<Vec<Document>> {
    let cursor = coll
        .aggregate(pipeline)
        .await
        .map_err(|e| store_error("aggregating", e))?;
    cursor
        .try_collect()
        .await
        .map_err(|e| store_error("aggregating", e))
}

fn count_of(d: &Document, key: &str) -> u64 {
    match d.get(key) {
        Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Double(n)) => *n as u64,
        _ => 0,
    }
}

fn kind_name(k: &str) -> Option<AttributeKindName> {
    AttributeKind::parse(k).map(AttributeKindName::from)
}
