//! The temporal evolution on MongoDB (GS CIM 009 4.5.6-4.5.9): two collections per tenant
//! database beside `entities`.
//!
//! ```text
//! temporalEntities:  { _id: <entity id>, types: [...], scopes: [...],
//!                      createdAt, modifiedAt, deletedAt: <date>,
//!                      body: <the head, an entity with no attributes, named MessagePack> }
//! temporalInstances: { _id: <instanceId>, entity: <entity id>, attr: <expanded name>,
//!                      datasetId: <URI, or "@none" for the default instance>,
//!                      observedAt, createdAt, modifiedAt, deletedAt: <date>,
//!                      body: <the instance, named MessagePack> }
//! ```
//!
//! As for entities, `body` is what reads return and the other fields are derived from it on
//! every write. The dates are BSON dates, which keep milliseconds while instances keep
//! microseconds, so a time range goes to MongoDB widened to whole milliseconds (`$gte` the
//! start's millisecond, `$lte` the end's) and [`keeps_instance`] decides the
//! exact bounds here. The default instance's datasetId is stored as `@none`, the name the API
//! gives it in `datasetId` selections, so a datasetId selection is one exact `$in`.
//! `_id` is the instanceId, unique over the tenant: the broker names every instance it records
//! with a fresh UUIDv7 (`service::history::new_instance_id`), and recording a taken one fails
//! (the embedded store, keyed by entity and attribute too, would replace it).
//!
//! Indexes ([`super::setup`]): `{entity, attr, observedAt}` serves the default temporal query
//! (attrs and an observedAt range, or one attribute's instances for DeleteAttribute), and a
//! whole entity's instances in entity order, which every read sorts by; `{entity, attr,
//! modifiedAt}` serves `timeproperty=modifiedAt`, what the entity API's history is naturally
//! read by. createdAt gets none: an attribute's instances recorded by entity writes all carry
//! the attribute's creation time, so an index on it selects no better than `{entity, attr}`;
//! createdAt and deletedAt ranges are filtered by MongoDB on that prefix. Heads have `{types,
//! _id}` for the types hint.
//!
//! Atomicity. Where the deployment has multi-document transactions (a replica set or a
//! sharded cluster; secantusdb, the test server, answers as a one-member replica set and runs
//! them with the Rust driver), every write runs in one: a [`TemporalWrite`] alone
//! ([`commit`]), or an entity write with its history ([`super::write`]). Acknowledged then
//! means the entity and its history are both durable, a write whose precondition fails
//! records nothing, and a failure of either undoes both. Concurrent writes to one evolution
//! all rewrite its head, so MongoDB lets one commit and the others are run again
//! ([`super::transaction`]). (secantusdb 0.7.0b3 fsyncs a commit only with its
//! `sync_on_commit` setting: it ignores `j: true` on `commitTransaction`, measured.)
//!
//! On a standalone server, which has no transactions (the store learns which when it opens,
//! and warns), the entity write is the commit point: the history is written right after it,
//! one operation at a time, the instances first (one ordered `insertMany`), then the head. The
//! crash windows, and what each leaves:
//! - after the entity write, before the instances (a crash, or a failed history write, which
//!   is logged and the write still acknowledged as applied): the entity is written, its
//!   evolution lacks the change, head and instances;
//! - during the `insertMany`: a prefix of the change's instances is recorded;
//! - after the instances, before the head: the instances are recorded and the head is stale
//!   (types, scope, modifiedAt, deletedAt); a new evolution has no head yet, so its instances
//!   stay out of reads until a later write creates it;
//! - Delete removes the instances, then the head: a crash in between leaves an evolution with
//!   no instances, which the next delete removes; DeleteAttribute, ModifyInstance and
//!   DeleteInstance change instances, then the head's modifiedAt, which a crash leaves stale.
//!
//! Without transactions, concurrent writers of one evolution may also overwrite each other's
//! head (the last one written wins: types, scope, times), and two creations of a missing
//! evolution may both report `Created`; no instance is lost.
//!
//! Reads ([`query()`]) stream the heads in id order and, for each batch of them, their selected
//! instances in one query, entity by entity: memory holds one batch of heads and one entity's
//! instances besides the page.
//!
//! Files: this one (the documents), [`write`](mod@write) and [`query`](mod@query).
//!
//! [`keeps_instance`]: crate::store::TemporalSelection::keeps_instance
//! [`TemporalWrite`]: crate::store::TemporalWrite

mod query;
mod write;

use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use mongodb::Collection;
use ngsi_types::temporal::TimeProperty;
use ngsi_types::{Attribute, Entity};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::document::date;
use super::names::{TEMPORAL_ENTITIES, TEMPORAL_INSTANCES};
use super::MongoStore;
use crate::store::{StoreError, StoreResult, Tenant};

pub use query::query;
pub use write::{apply, commit};

/// Retention: drops at most `max` instances, over every tenant, observed (else created)
/// before `before`; their `_id`s are found first so that one round never deletes more.
pub async fn expire(
    store: &MongoStore,
    before: chrono::DateTime<chrono::Utc>,
    max: usize,
) -> StoreResult<u64> {
    use futures_util::TryStreamExt;
    let what = "temporal retention";
    let old = doc! { "$or": [
        { "observedAt": { "$lt": date(before) } },
        { "observedAt": { "$exists": false }, "createdAt": { "$lt": date(before) } },
    ] };
    let mut removed = 0u64;
    for tenant in super::tenants::list(store).await? {
        let budget = max.saturating_sub(removed as usize);
        if budget == 0 {
            break;
        }
        let instances = instances(store, &tenant);
        let ids: Vec<Bson> = instances
            .find(old.clone())
            .projection(doc! { "_id": 1 })
            .limit(i64::try_from(budget).unwrap_or(i64::MAX))
            .await
            .map_err(|e| super::error::store_error(what, e))?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(|e| super::error::store_error(what, e))?
            .into_iter()
            .filter_map(|d| d.get("_id").cloned())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let deleted = instances
            .delete_many(doc! { "_id": { "$in": ids } })
            .await
            .map_err(|e| super::error::store_error(what, e))?;
        removed += deleted.deleted_count;
    }
    Ok(removed)
}

fn heads(store: &MongoStore, tenant: &Tenant) -> Collection<Document> {
    store.database(tenant).collection(TEMPORAL_ENTITIES)
}

fn instances(store: &MongoStore, tenant: &Tenant) -> Collection<Document> {
    store.database(tenant).collection(TEMPORAL_INSTANCES)
}

fn encode<T: Serialize>(what: &str, value: &T) -> StoreResult<Bson> {
    let bytes = rmp_serde::to_vec_named(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode {what}: {e}")))?;
    Ok(Bson::Binary(Binary {
        subtype: BinarySubtype::Generic,
        bytes,
    }))
}

fn decode<T: DeserializeOwned>(what: &str, d: &Document) -> StoreResult<T> {
    let body = d
        .get_binary_generic("body")
        .map_err(|_| StoreError::Corrupt(format!("{what} has no body")))?;
    rmp_serde::from_slice(body).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn head_document(head: &Entity) -> StoreResult<Document> {
    let mut d = doc! {
        "_id": &head.id,
        "types": &head.types,
        "scopes": &head.scope,
        "body": encode("temporal head", head)?,
    };
    let times = [
        ("createdAt", head.created_at),
        ("modifiedAt", head.modified_at),
        ("deletedAt", head.deleted_at),
    ];
    for (name, t) in times {
        if let Some(t) = t {
            d.insert(name, date(t));
        }
    }
    Ok(d)
}

const TIME_PROPERTIES: [TimeProperty; 4] = [
    TimeProperty::ObservedAt,
    TimeProperty::CreatedAt,
    TimeProperty::ModifiedAt,
    TimeProperty::DeletedAt,
];

fn instance_document(entity: &str, name: &str, instance: &Attribute) -> StoreResult<Document> {
    let instance_id = instance
        .instance_id
        .as_deref()
        .ok_or_else(|| StoreError::Backend(format!("instance of {name} without instanceId")))?;
    let mut d = doc! {
        "_id": instance_id,
        "entity": entity,
        "attr": name,
        "datasetId": instance.dataset_id.as_deref().unwrap_or("@none"),
        "body": encode("instance", instance)?,
    };
    for property in TIME_PROPERTIES {
        if let Some(t) = property.of(instance) {
            d.insert(property.as_str(), date(t));
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    #[test]
    fn instances_carry_their_query_fields_and_decode_back() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("valid");
        let mut a = Attribute::property(3);
        a.instance_id = Some("urn:i:1".into());
        a.observed_at = Some(t + Duration::microseconds(1500));
        a.modified_at = Some(t);
        let d = instance_document("urn:e:1", "https://ex.org/speed.kmh", &a).expect("encodes");
        assert_eq!(d.get_str("_id"), Ok("urn:i:1"));
        assert_eq!(d.get_str("entity"), Ok("urn:e:1"));
        assert_eq!(d.get_str("attr"), Ok("https://ex.org/speed.kmh"));
        assert_eq!(d.get_str("datasetId"), Ok("@none"));
        let observed = d.get_datetime("observedAt").expect("a date");
        assert_eq!(
            observed.timestamp_millis(),
            (t + Duration::milliseconds(1)).timestamp_millis()
        );
        assert!(!d.contains_key("createdAt") && !d.contains_key("deletedAt"));
        let back: Attribute = decode("instance", &d).expect("decodes");
        assert_eq!(back, a, "the body keeps the microseconds");
        let unnamed = Attribute::property(3);
        assert!(instance_document("urn:e:1", "n", &unnamed).is_err());
    }
}
