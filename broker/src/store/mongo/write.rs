//! The write path: each [`Write`] becomes one single-document MongoDB operation, so it is
//! atomic by MongoDB's own guarantee, and its precondition is part of the operation's filter
//! (`_id`, and `v` for a version): a write that lost a race matches nothing and is reported as
//! a conflict with the version found, never half-applied.
//!
//! Creations also get a creation sequence number ([`CreationClock`]), the sort key of every
//! query, and geometries MongoDB refuses to index are stored without their `geo` field rather
//! than refused: the entity is kept whole, only geo-queries cannot find it by that property.

use chrono::Utc;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;

use super::error::{self, store_error, DUPLICATE_KEY};
use super::{document, tenants, MongoStore};
use crate::store::{
    Precondition, StoreError, StoreResult, Tenant, Write, WriteAction, WriteOutcome,
};

/// Creation sequence numbers: microseconds since the epoch, made strictly increasing within
/// this process. Instances sharing a database need no coordination (no counter document every
/// creation would contend on); entities created by two instances in the same microsecond are
/// ordered by id.
#[derive(Debug, Default)]
pub struct CreationClock(std::sync::atomic::AtomicI64);

impl CreationClock {
    pub fn next(&self) -> i64 {
        let now = Utc::now().timestamp_micros();
        let mut prev = self.0.load(std::sync::atomic::Ordering::Relaxed);
        loop {
            let next = now.max(prev + 1);
            match self.0.compare_exchange_weak(
                prev,
                next,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(actual) => prev = actual,
            }
        }
    }
}

/// Applies a commit's writes; outcomes in input order.
pub async fn commit(
    store: &MongoStore,
    tenant: &Tenant,
    writes: Vec<Write>,
) -> StoreResult<Vec<WriteOutcome>> {
    // Only a creation brings the tenant's database into existence, so only a commit that may
    // create prepares it. Replacements and deletes in a tenant that does not exist cannot
    // match anything: they conflict without asking MongoDB, which keeps the tenant absent (an
    // update matching nothing still creates the database on some MongoDB-wire servers).
    if writes.iter().any(creates) {
        tenants::ensure(store, tenant).await?;
    } else if !tenants::exists(store, tenant).await? {
        let absent = WriteOutcome::Conflict { current: None };
        return Ok(vec![absent; writes.len()]);
    }
    // Writes to different entities go to MongoDB concurrently; a batch that writes one
    // entity twice is applied in order, as the embedded store does, so the last one wins.
    let mut ids = std::collections::HashSet::with_capacity(writes.len());
    let in_order = !writes.iter().all(|w| ids.insert(w.id.as_str()));
    let pending = writes.into_iter().map(|w| {
        let seq = creates(&w).then(|| store.clock.next());
        apply(store, tenant, w, seq)
    });
    if in_order {
        let mut outcomes = Vec::new();
        for write in pending {
            outcomes.push(write.await?);
        }
        return Ok(outcomes);
    }
    futures_util::future::try_join_all(pending).await
}

/// True for the writes that create the entity when it is absent.
fn creates(w: &Write) -> bool {
    matches!(
        (&w.action, w.precondition),
        (
            WriteAction::Put(_),
            Precondition::Absent | Precondition::Any
        )
    )
}

async fn version_of(store: &MongoStore, tenant: &Tenant, id: &str) -> StoreResult<Option<u64>> {
    let found = store
        .entities(tenant)
        .find_one(doc! { "_id": id })
        .projection(doc! { "v": 1 })
        .await
        .map_err(|e| store_error("reading a version", e))?;
    Ok(found.as_ref().and_then(document::version_of))
}

async fn apply(
    store: &MongoStore,
    tenant: &Tenant,
    write: Write,
    seq: Option<i64>,
) -> StoreResult<WriteOutcome> {
    let entities = store.entities(tenant);
    let id = write.id.as_str();
    let conflict = |current| Ok(WriteOutcome::Conflict { current });
    match (write.action, write.precondition) {
        (WriteAction::Put(entity), Precondition::Absent) => {
            let mut d = doc! { "_id": id, "v": 1_i64, "seq": seq.unwrap_or_default() };
            d.extend(document::fields(&entity)?);
            let inserted = match entities.insert_one(&d).await {
                Err(e) if error::is_geo_key_error(&e) => {
                    without_geo(&mut d, id);
                    entities.insert_one(&d).await
                }
                other => other,
            };
            match inserted {
                Ok(_) => Ok(WriteOutcome::Applied { version: 1 }),
                Err(e) if error::code(&e) == Some(DUPLICATE_KEY) => {
                    conflict(version_of(store, tenant, id).await?)
                }
                Err(e) => Err(store_error("inserting an entity", e)),
            }
        }
        (WriteAction::Put(entity), Precondition::Version(v)) => {
            // The new version is known: a plain update (cheaper than find-and-modify)
            // that matches only the version read.
            let filter = doc! { "_id": id, "v": v as i64 };
            let mut set = document::fields(&entity)?;
            let update = update_of(&set, entity.expires_at.is_none());
            let updated = match entities.update_one(filter.clone(), update).await {
                Err(e) if error::is_geo_key_error(&e) => {
                    without_geo(&mut set, id);
                    let update = update_of(&set, entity.expires_at.is_none());
                    entities.update_one(filter, update).await
                }
                other => other,
            }
            .map_err(|e| store_error("updating an entity", e))?;
            if updated.matched_count == 1 {
                Ok(WriteOutcome::Applied { version: v + 1 })
            } else {
                conflict(version_of(store, tenant, id).await?)
            }
        }
        (WriteAction::Put(entity), Precondition::Any) => {
            // An upsert: the resulting version comes back from the database.
            let filter = doc! { "_id": id };
            let mut set = document::fields(&entity)?;
            let run = |set: &Document| {
                let mut update = update_of(set, entity.expires_at.is_none());
                update.insert("$setOnInsert", doc! { "seq": seq.unwrap_or_default() });
                entities
                    .find_one_and_update(filter.clone(), update)
                    .upsert(true)
                    .projection(doc! { "v": 1 })
                    .return_document(ReturnDocument::After)
            };
            let updated = match run(&set).await {
                Err(e) if error::is_geo_key_error(&e) => {
                    without_geo(&mut set, id);
                    run(&set).await
                }
                other => other,
            }
            .map_err(|e| store_error("upserting an entity", e))?;
            match updated.as_ref().and_then(document::version_of) {
                Some(version) => Ok(WriteOutcome::Applied { version }),
                None => Err(StoreError::Backend(format!(
                    "upsert of entity {id} returned no version"
                ))),
            }
        }
        (WriteAction::Delete, Precondition::Absent) => {
            conflict(version_of(store, tenant, id).await?)
        }
        (WriteAction::Delete, precondition) => {
            let filter = match precondition {
                Precondition::Version(v) => doc! { "_id": id, "v": v as i64 },
                _ => doc! { "_id": id },
            };
            let deleted = entities
                .find_one_and_delete(filter)
                .projection(doc! { "v": 1 })
                .await
                .map_err(|e| store_error("deleting an entity", e))?;
            match deleted.as_ref().and_then(document::version_of) {
                Some(version) => Ok(WriteOutcome::Applied { version }),
                None if precondition == Precondition::Any => conflict(None),
                None => conflict(version_of(store, tenant, id).await?),
            }
        }
    }
}

/// Drops the `geo` index fields after MongoDB refused one of the geometries: the entity is
/// stored whole, and geo-queries will not find it by that GeoProperty.
fn without_geo(d: &mut Document, id: &str) {
    tracing::warn!(
        entity = id,
        "a geometry cannot be indexed by MongoDB; stored without geo index fields"
    );
    d.insert("geo", Document::new());
}

/// `$set` of the derived fields, `$inc` of the version, `$unset` of a dropped `expiresAt`.
fn update_of(set: &Document, unset_expiry: bool) -> Document {
    let mut update = doc! { "$set": set.clone(), "$inc": { "v": 1_i64 } };
    if unset_expiry {
        update.insert("$unset", doc! { "expiresAt": "" });
    }
    update
}
