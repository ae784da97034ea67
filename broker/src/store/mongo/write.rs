//! The write path: each [`Write`] becomes one single-document MongoDB operation, so it is
//! atomic by MongoDB's own guarantee, and its precondition is part of the operation's filter
//! (`_id`, and `v` for a version): a write that lost a race matches nothing and is reported as
//! a conflict with the version found, never half-applied.
//!
//! A write with history ([`Write::history`]) runs that operation and the history's in one
//! MongoDB transaction ([`super::temporal`]): acknowledged means both are durable, and a write
//! whose precondition fails records nothing. On a deployment without transactions (a
//! standalone server) the history follows the applied entity write, which is the commit point.
//!
//! Creations also get a creation sequence number ([`CreationClock`]), the sort key of every
//! query, and geometries MongoDB refuses to index are stored without their `geo` field rather
//! than refused: the entity is kept whole, only geo-queries cannot find it by that property.

use chrono::Utc;
use futures_util::FutureExt;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Collection};
use ngsi_types::Entity;

use super::error::{self, store_error, DUPLICATE_KEY};
use super::{document, temporal, tenants, transaction, MongoStore};
use crate::store::{
    Precondition, StoreError, StoreResult, TemporalOp, Tenant, Write, WriteAction, WriteOutcome,
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
    let in_order = names_an_entity_twice(writes.iter().map(|w| w.id.as_str()));
    let pending = writes.into_iter().map(|w| {
        let seq = creates(&w).then(|| store.clock.next());
        apply(store, tenant, w, seq)
    });
    per_entity(in_order, pending).await
}

/// True if two of the ids are the same entity.
pub(super) fn names_an_entity_twice<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    !ids.into_iter().all(|id| seen.insert(id))
}

/// Writes of one batch in flight at once. Fewer than the driver's connection pool holds (10
/// by default), so a big batch neither queues every other request's operations behind its
/// thousands (a `/health` ping waits for at most this many) nor holds every connection.
const BATCH_CONCURRENCY: usize = 4;

/// Awaits one write per entity: writes to different entities go to MongoDB concurrently, a
/// few at a time ([`BATCH_CONCURRENCY`]); a batch that writes one entity twice (`in_order`) is
/// applied in order, as the embedded store does, so the last one wins. Outcomes in input order.
pub(super) async fn per_entity<T, F>(
    in_order: bool,
    pending: impl Iterator<Item = F>,
) -> StoreResult<Vec<T>>
where
    F: std::future::Future<Output = StoreResult<T>>,
{
    if in_order {
        let mut outcomes = Vec::new();
        for write in pending {
            outcomes.push(write.await?);
        }
        return Ok(outcomes);
    }
    use futures_util::{StreamExt, TryStreamExt};
    futures_util::stream::iter(pending)
        .buffered(BATCH_CONCURRENCY)
        .try_collect()
        .await
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

/// What one try at a write found.
#[derive(Debug, Clone, Copy)]
enum Attempt {
    Done(WriteOutcome),
    /// The precondition did not hold; the stored version is read to report the conflict.
    Missed,
}

/// Applies one write, with its history in one transaction when it has one. A geometry MongoDB
/// refuses to index makes the write start over without the `geo` index fields (inside a
/// transaction the failed operation has aborted it: it is retried whole).
async fn apply(
    store: &MongoStore,
    tenant: &Tenant,
    write: Write,
    seq: Option<i64>,
) -> StoreResult<WriteOutcome> {
    let mut geo = true;
    let attempt = loop {
        let tried = match &write.history {
            Some(op) if store.transactions => {
                with_history(store, tenant, &write, op, seq, geo).await
            }
            _ => attempt(&store.entities(tenant), &write, seq, geo, None).await,
        };
        match tried {
            Err(e) if geo && error::is_geo_key_error(&e) => {
                tracing::warn!(
                    entity = write.id,
                    "a geometry cannot be indexed by MongoDB; stored without geo index fields"
                );
                geo = false;
            }
            // An insert found the id taken: a conflict, with the version that took it.
            Err(e)
                if error::code(&e) == Some(DUPLICATE_KEY)
                    && write.precondition == Precondition::Absent =>
            {
                break Attempt::Missed
            }
            Err(e) => return Err(store_error(what(&write), e)),
            Ok(attempt) => break attempt,
        }
    };
    match attempt {
        Attempt::Done(outcome) => {
            if let (false, Some(op), WriteOutcome::Applied { .. }) =
                (store.transactions, &write.history, outcome)
            {
                after_the_fact(store, tenant, &write.id, op).await;
            }
            Ok(outcome)
        }
        Attempt::Missed => Ok(WriteOutcome::Conflict {
            current: version_of(store, tenant, &write.id).await?,
        }),
    }
}

/// Without transactions, the history is written once the entity write, the commit point, is
/// done. The write is acknowledged as applied whatever happens here: a failure leaves the
/// evolution without this change, and says so in the log (see [`super::temporal`]).
async fn after_the_fact(store: &MongoStore, tenant: &Tenant, id: &str, op: &TemporalOp) {
    if let Err(e) = temporal::apply(store, tenant, id, op, None).await {
        let e = store_error("writing the history of an entity write", e);
        tracing::error!(%tenant, entity = id, error = %e, "history lost for an applied write");
    }
}

/// The entity write and, if it applied, its history, in one MongoDB transaction (retried on
/// a write conflict with another one, see [`transaction`]).
async fn with_history(
    store: &MongoStore,
    tenant: &Tenant,
    write: &Write,
    op: &TemporalOp,
    seq: Option<i64>,
    geo: bool,
) -> mongodb::error::Result<Attempt> {
    transaction::run(
        &store.client,
        (store, tenant, write, op),
        |session, context| {
            let (store, tenant, write, op) = *context;
            async move {
                let entities = store.entities(tenant);
                let attempt = attempt(&entities, write, seq, geo, Some(&mut *session)).await?;
                if let Attempt::Done(WriteOutcome::Applied { .. }) = attempt {
                    temporal::apply(store, tenant, &write.id, op, Some(session)).await?;
                }
                Ok(attempt)
            }
            .boxed()
        },
    )
    .await
}

/// One try at a write: a single MongoDB operation, in `session` when given. Errors are
/// returned as they are: inside a transaction, a failed operation has aborted it, so
/// recovering is the caller's business.
async fn attempt(
    entities: &Collection<Document>,
    write: &Write,
    seq: Option<i64>,
    geo: bool,
    mut session: Option<&mut ClientSession>,
) -> mongodb::error::Result<Attempt> {
    let id = write.id.as_str();
    let fields = |entity: &Entity| {
        let mut set = document::fields(entity).map_err(error::carried)?;
        if !geo {
            set.insert("geo", Document::new());
        }
        Ok::<_, mongodb::error::Error>(set)
    };
    let done = |outcome| Ok(Attempt::Done(outcome));
    match (&write.action, write.precondition) {
        (WriteAction::Put(entity), Precondition::Absent) => {
            let mut d = doc! { "_id": id, "v": 1_i64, "seq": seq.unwrap_or_default() };
            d.extend(fields(entity)?);
            in_session!(entities.insert_one(&d), session)?;
            done(WriteOutcome::Applied { version: 1 })
        }
        (WriteAction::Put(entity), Precondition::Version(v)) => {
            // The new version is known: a plain update (cheaper than find-and-modify)
            // that matches only the version read.
            let filter = doc! { "_id": id, "v": v as i64 };
            let update = update_of(&fields(entity)?, entity);
            let updated = in_session!(entities.update_one(filter, update), session)?;
            if updated.matched_count == 1 {
                done(WriteOutcome::Applied { version: v + 1 })
            } else {
                Ok(Attempt::Missed)
            }
        }
        (WriteAction::Put(entity), Precondition::Any) => {
            // An upsert: the resulting version comes back from the database.
            let mut update = update_of(&fields(entity)?, entity);
            update.insert("$setOnInsert", doc! { "seq": seq.unwrap_or_default() });
            let upsert = entities
                .find_one_and_update(doc! { "_id": id }, update)
                .upsert(true)
                .projection(doc! { "v": 1 })
                .return_document(ReturnDocument::After);
            let updated = in_session!(upsert, session)?;
            match updated.as_ref().and_then(document::version_of) {
                Some(version) => done(WriteOutcome::Applied { version }),
                None => Err(error::carried(StoreError::Backend(format!(
                    "upsert of entity {id} returned no version"
                )))),
            }
        }
        (WriteAction::Delete, Precondition::Absent) => Ok(Attempt::Missed),
        (WriteAction::Delete, precondition) => {
            let filter = match precondition {
                Precondition::Version(v) => doc! { "_id": id, "v": v as i64 },
                _ => doc! { "_id": id },
            };
            let delete = entities
                .find_one_and_delete(filter)
                .projection(doc! { "v": 1 });
            let deleted = in_session!(delete, session)?;
            match deleted.as_ref().and_then(document::version_of) {
                Some(version) => done(WriteOutcome::Applied { version }),
                None if precondition == Precondition::Any => {
                    done(WriteOutcome::Conflict { current: None })
                }
                None => Ok(Attempt::Missed),
            }
        }
    }
}

/// What a failed write was doing, for its error message.
fn what(write: &Write) -> &'static str {
    match (&write.action, write.precondition, &write.history) {
        (_, _, Some(_)) => "writing an entity and its history",
        (WriteAction::Put(_), Precondition::Absent, _) => "inserting an entity",
        (WriteAction::Put(_), Precondition::Version(_), _) => "updating an entity",
        (WriteAction::Put(_), Precondition::Any, _) => "upserting an entity",
        (WriteAction::Delete, _, _) => "deleting an entity",
    }
}

/// `$set` of the derived fields, `$inc` of the version, `$unset` of the expiry fields the
/// entity no longer has.
fn update_of(set: &Document, entity: &Entity) -> Document {
    let mut update = doc! { "$set": set.clone(), "$inc": { "v": 1_i64 } };
    let mut unset = Document::new();
    if entity.expires_at.is_none() {
        unset.insert("expiresAt", "");
    }
    if entity.attributes_expire_at().is_none() {
        unset.insert(document::ATTRIBUTES_EXPIRE_AT, "");
    }
    if !unset.is_empty() {
        update.insert("$unset", unset);
    }
    update
}
