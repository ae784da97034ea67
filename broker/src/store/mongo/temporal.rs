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
//! start's millisecond, `$lte` the end's) and [`TemporalSelection::keeps_instance`] decides the
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
//! all rewrite its head, so MongoDB lets one commit and the driver retries the others
//! (`and_run`, for up to 120 seconds).
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
//! Reads ([`query`]) stream the heads in id order and, for each batch of them, their selected
//! instances in one query, entity by entity: memory holds one batch of heads and one entity's
//! instances besides the page.

use std::collections::BTreeMap;

use futures_util::{FutureExt, TryStreamExt};
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use mongodb::error::Result as DriverResult;
use mongodb::{ClientSession, Collection};
use ngsi_types::temporal::TimeProperty;
use ngsi_types::{Attribute, Entity};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::document::date;
use super::error::{self, carried, store_error, DUPLICATE_KEY};
use super::names::{TEMPORAL_ENTITIES, TEMPORAL_INSTANCES};
use super::{tenants, MongoStore};
use crate::store::temporal::{head_of, Recorded};
use crate::store::{
    RecordMode, StoreError, StoreResult, TemporalOp, TemporalOutcome, TemporalPage,
    TemporalSelection, TemporalWrite, Tenant,
};

/// Heads read per instance query.
const BATCH: usize = 100;

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

/// Applies temporal writes, each in a transaction of its own; outcomes in input order.
pub async fn commit(
    store: &MongoStore,
    tenant: &Tenant,
    writes: Vec<TemporalWrite>,
) -> StoreResult<Vec<TemporalOutcome>> {
    // As for entity writes: only a write that may create an evolution brings a tenant into
    // existence; in a tenant that does not exist, every other write finds nothing.
    if writes.iter().any(creates) {
        tenants::ensure(store, tenant).await?;
    } else if !tenants::exists(store, tenant).await? {
        return Ok(vec![TemporalOutcome::NotFound; writes.len()]);
    }
    let mut ids = std::collections::HashSet::with_capacity(writes.len());
    let in_order = !writes.iter().all(|w| ids.insert(w.id.as_str()));
    let pending = writes.iter().map(|w| write_one(store, tenant, w));
    if in_order {
        let mut outcomes = Vec::new();
        for write in pending {
            outcomes.push(write.await?);
        }
        return Ok(outcomes);
    }
    futures_util::future::try_join_all(pending).await
}

fn creates(w: &TemporalWrite) -> bool {
    matches!(
        w.op,
        TemporalOp::Record {
            mode: RecordMode::Create | RecordMode::Upsert,
            ..
        }
    )
}

/// One temporal write, in a transaction of its own where the deployment has them.
async fn write_one(
    store: &MongoStore,
    tenant: &Tenant,
    write: &TemporalWrite,
) -> StoreResult<TemporalOutcome> {
    let what = "writing a temporal evolution";
    if !store.transactions {
        return apply(store, tenant, &write.id, &write.op, None)
            .await
            .map_err(|e| store_error(what, e));
    }
    let mut session = store
        .client
        .start_session()
        .await
        .map_err(|e| store_error(what, e))?;
    session
        .start_transaction()
        .and_run((store, tenant, write), |session, context| {
            let (store, tenant, write) = *context;
            apply(store, tenant, &write.id, &write.op, Some(session)).boxed()
        })
        .await
        .map_err(|e| store_error(what, e))
}

/// Applies one temporal operation, in `session`'s transaction when given. Driver errors are
/// returned as they are, so that a transaction is retried on the transient ones.
///
/// Instances are written before the head, so that without a transaction a crash in between
/// leaves them recorded under a head not yet touched (see the module documentation).
pub async fn apply(
    store: &MongoStore,
    tenant: &Tenant,
    id: &str,
    op: &TemporalOp,
    mut session: Option<&mut ClientSession>,
) -> DriverResult<TemporalOutcome> {
    let heads = heads(store, tenant);
    let instances = instances(store, tenant);
    let found = in_session!(
        heads
            .find_one(doc! { "_id": id })
            .projection(doc! { "body": 1 }),
        session
    )?;
    let head: Option<Entity> = found
        .map(|d| decode(&format!("temporal head of {id}"), &d))
        .transpose()
        .map_err(carried)?;
    let outcome = match op {
        TemporalOp::Record {
            types,
            scope,
            at,
            instances: recorded,
            mode,
        } => {
            let outcome = match (&head, mode) {
                (Some(_), RecordMode::Create) => return Ok(TemporalOutcome::Conflict),
                (None, RecordMode::Existing) => return Ok(TemporalOutcome::NotFound),
                (Some(_), _) => TemporalOutcome::Updated,
                (None, _) => TemporalOutcome::Created,
            };
            let mut head = head.unwrap_or_else(|| {
                let mut new = head_of(id, &[], &[]);
                new.created_at = Some(*at);
                new
            });
            for ty in types {
                if !head.types.contains(ty) {
                    head.types.push(ty.clone());
                }
            }
            if let Some(scope) = scope {
                head.scope = scope.clone();
            }
            head.modified_at = Some(*at);
            head.deleted_at = None;
            insert(&instances, id, recorded, session.as_deref_mut()).await?;
            (outcome, Some(head))
        }
        TemporalOp::MarkDeleted {
            at,
            instances: recorded,
        } => {
            let Some(mut head) = head else {
                return Ok(TemporalOutcome::NotFound);
            };
            head.modified_at = Some(*at);
            head.deleted_at = Some(*at);
            insert(&instances, id, recorded, session.as_deref_mut()).await?;
            (TemporalOutcome::Updated, Some(head))
        }
        TemporalOp::Delete => {
            if head.is_none() {
                return Ok(TemporalOutcome::NotFound);
            }
            in_session!(instances.delete_many(doc! { "entity": id }), session)?;
            in_session!(heads.delete_one(doc! { "_id": id }), session)?;
            (TemporalOutcome::Updated, None)
        }
        TemporalOp::DeleteAttribute {
            attribute,
            dataset_id,
            at,
        } => {
            let Some(mut head) = head else {
                return Ok(TemporalOutcome::NotFound);
            };
            let mut filter = doc! { "entity": id, "attr": attribute };
            if let Some(dataset_id) = dataset_id {
                filter.insert("datasetId", dataset_id.as_deref().unwrap_or("@none"));
            }
            let deleted = in_session!(instances.delete_many(filter), session)?;
            if deleted.deleted_count == 0 {
                return Ok(TemporalOutcome::NotFound);
            }
            head.modified_at = Some(*at);
            (TemporalOutcome::Updated, Some(head))
        }
        TemporalOp::ModifyInstance {
            attribute,
            instance,
            at,
        } => {
            let Some(mut head) = head else {
                return Ok(TemporalOutcome::NotFound);
            };
            let Some(instance_id) = instance.instance_id.as_deref() else {
                return Ok(TemporalOutcome::NotFound);
            };
            let d = instance_document(id, attribute, instance).map_err(carried)?;
            let filter = doc! { "_id": instance_id, "entity": id, "attr": attribute };
            let replaced = in_session!(instances.replace_one(filter, d), session)?;
            if replaced.matched_count == 0 {
                return Ok(TemporalOutcome::NotFound);
            }
            head.modified_at = Some(*at);
            (TemporalOutcome::Updated, Some(head))
        }
        TemporalOp::DeleteInstance {
            attribute,
            instance_id,
            at,
        } => {
            let Some(mut head) = head else {
                return Ok(TemporalOutcome::NotFound);
            };
            let filter = doc! { "_id": instance_id, "entity": id, "attr": attribute };
            let deleted = in_session!(instances.delete_one(filter), session)?;
            if deleted.deleted_count == 0 {
                return Ok(TemporalOutcome::NotFound);
            }
            head.modified_at = Some(*at);
            (TemporalOutcome::Updated, Some(head))
        }
    };
    let (outcome, head) = outcome;
    if let Some(head) = head {
        let d = head_document(&head).map_err(carried)?;
        let put = heads.replace_one(doc! { "_id": &head.id }, d).upsert(true);
        in_session!(put, session)?;
    }
    Ok(outcome)
}

/// Inserts recorded instances. A taken instanceId is a backend failure (see the module
/// documentation), not a conflict the entity write could be blamed for.
async fn insert(
    instances: &Collection<Document>,
    id: &str,
    recorded: &[Recorded],
    mut session: Option<&mut ClientSession>,
) -> DriverResult<()> {
    if recorded.is_empty() {
        return Ok(());
    }
    let docs = recorded
        .iter()
        .map(|(name, instance)| instance_document(id, name, instance))
        .collect::<StoreResult<Vec<_>>>()
        .map_err(carried)?;
    match in_session!(instances.insert_many(docs), session) {
        Err(e) if error::code(&e) == Some(DUPLICATE_KEY) => Err(carried(StoreError::Backend(
            format!("an instanceId recorded for {id} is taken: {e}"),
        ))),
        other => other.map(drop),
    }
}

/// The evolutions a selection asks for, one page of them, in id order.
pub async fn query(
    store: &MongoStore,
    tenant: &Tenant,
    selection: &TemporalSelection,
) -> StoreResult<TemporalPage> {
    let what = "querying temporal evolutions";
    let mut page = TemporalPage::default();
    if selection.limit == 0 && !selection.count {
        return Ok(page);
    }
    let heads = heads(store, tenant);
    let instances = instances(store, tenant);
    let filter = head_filter(selection);
    let mut found = heads
        .find(filter.clone())
        .sort(doc! { "_id": 1 })
        .projection(doc! { "body": 1 });
    if !selection.may_leave_out() {
        // Every head MongoDB selects is part of the answer: MongoDB pages and counts.
        if selection.count {
            let total = heads
                .count_documents(filter)
                .await
                .map_err(|e| store_error(what, e))?;
            page.total = Some(total);
        }
        if selection.limit == 0 {
            return Ok(page);
        }
        found = found
            .skip(selection.offset as u64)
            .limit(i64::try_from(selection.limit).unwrap_or(i64::MAX));
    }
    let mut cursor = found.await.map_err(|e| store_error(what, e))?;
    let mut pager = Pager {
        selection,
        page,
        matched: 0,
    };
    loop {
        // Without a count, ask for no more heads than the page may still need.
        let wanted = match selection.count || !selection.may_leave_out() {
            true => BATCH,
            false => (selection.offset + selection.limit)
                .saturating_sub(pager.matched)
                .clamp(1, BATCH),
        };
        let mut batch = Vec::with_capacity(wanted);
        while batch.len() < wanted {
            match cursor.try_next().await.map_err(|e| store_error(what, e))? {
                Some(d) => batch.push(decode::<Entity>("temporal head", &d)?),
                None => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        let exhausted = batch.len() < wanted;
        let more = with_instances(&instances, batch, selection, &mut |e| pager.take(e)).await?;
        if !more || exhausted {
            break;
        }
    }
    let mut page = pager.page;
    if selection.count && selection.may_leave_out() {
        page.total = Some(pager.matched as u64);
    }
    Ok(page)
}

/// Where the entities of the answer go, in order.
struct Pager<'s> {
    selection: &'s TemporalSelection,
    page: TemporalPage,
    /// Entities of the answer so far, on this page and before it.
    matched: usize,
}

impl Pager<'_> {
    /// Takes the next entity of the answer; false once no more are needed.
    fn take(&mut self, entity: Entity) -> bool {
        let selection = self.selection;
        if !selection.may_leave_out() {
            // MongoDB skipped and limited the heads already.
            self.page.entities.push(entity);
            return true;
        }
        self.matched += 1;
        if self.matched > selection.offset && self.page.entities.len() < selection.limit {
            self.page.entities.push(entity);
        }
        // Past the page, go on only to count.
        selection.count || self.page.entities.len() < selection.limit
    }
}

/// The ids and types hints as a filter of heads (exactly [`TemporalSelection::keeps_head`]).
fn head_filter(selection: &TemporalSelection) -> Document {
    let mut filter = Document::new();
    if let Some(ids) = &selection.ids {
        filter.insert("_id", doc! { "$in": ids });
    }
    if let Some(types) = &selection.any_type {
        filter.insert("types", doc! { "$in": types });
    }
    filter
}

/// The filter of the instances of `ids` that attrs, datasetIds and the time range select (the
/// range widened to whole milliseconds, see the module documentation).
fn instance_filter(ids: Vec<&str>, selection: &TemporalSelection) -> Document {
    let mut filter = doc! { "entity": { "$in": ids } };
    if let Some(attrs) = &selection.attrs {
        filter.insert("attr", doc! { "$in": attrs });
    }
    if let Some(dataset_ids) = &selection.dataset_ids {
        filter.insert("datasetId", doc! { "$in": dataset_ids });
    }
    let time = &selection.time;
    if time.timerel.is_some() {
        // An instance without the property is not in any interval (clause 4.11).
        let mut range = doc! { "$exists": true };
        if let Some(from) = time.from {
            range.insert("$gte", date(from));
        }
        if let Some(to) = time.to {
            range.insert("$lte", date(to));
        }
        filter.insert(time.property.as_str(), range);
    }
    filter
}

/// Gives `take` each head of `batch` that is part of the answer, with its selected
/// instances, in order; false once `take` wants no more.
async fn with_instances(
    instances: &Collection<Document>,
    batch: Vec<Entity>,
    selection: &TemporalSelection,
    take: &mut impl FnMut(Entity) -> bool,
) -> StoreResult<bool> {
    let what = "querying temporal instances";
    let filter = instance_filter(batch.iter().map(|h| h.id.as_str()).collect(), selection);
    let mut cursor = instances
        .find(filter)
        .sort(doc! { "entity": 1 })
        .projection(doc! { "entity": 1, "attr": 1, "body": 1 })
        .await
        .map_err(|e| store_error(what, e))?;
    // Both streams are in MongoDB's order of the entity ids, and every instance belongs to a
    // head of the batch: the heads before an instance's entity are complete.
    let mut heads = batch.into_iter();
    let mut current: Option<(Entity, BTreeMap<String, Vec<Attribute>>)> = None;
    while let Some(d) = cursor.try_next().await.map_err(|e| store_error(what, e))? {
        let entity = d.get_str("entity").unwrap_or_default();
        while current.as_ref().is_none_or(|(head, _)| head.id != entity) {
            if let Some((head, found)) = current.take() {
                if !finish(head, found, selection, take) {
                    return Ok(false);
                }
            }
            let Some(head) = heads.next() else {
                return Err(StoreError::Backend(format!(
                    "instances of {entity} came out of the entities' order"
                )));
            };
            current = Some((head, BTreeMap::new()));
        }
        let name = d.get_str("attr").unwrap_or_default().to_owned();
        let instance: Attribute = decode(&format!("instance of {name} of {entity}"), &d)?;
        if selection.keeps_instance(&name, &instance) {
            if let Some((_, found)) = current.as_mut() {
                found.entry(name).or_default().push(instance);
            }
        }
    }
    for (head, found) in current
        .into_iter()
        .chain(heads.map(|h| (h, BTreeMap::new())))
    {
        if !finish(head, found, selection, take) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The head with its instances as the embedded store gives them (attributes in the order of
/// `attrs`, else by name; each one's instances in instanceId, that is recording, order), then
/// [`TemporalSelection::finish`]; the result goes to `take`.
fn finish(
    mut head: Entity,
    mut found: BTreeMap<String, Vec<Attribute>>,
    selection: &TemporalSelection,
    take: &mut impl FnMut(Entity) -> bool,
) -> bool {
    for instances in found.values_mut() {
        instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    }
    match &selection.attrs {
        Some(attrs) => {
            for name in attrs {
                if let Some(instances) = found.remove(name) {
                    head.attributes.insert(name.clone(), instances);
                }
            }
        }
        None => head.attributes.extend(found),
    }
    match selection.finish(head) {
        Some(entity) => take(entity),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use ngsi_types::temporal::{TemporalQuery, TimeRel};

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

    #[test]
    fn time_ranges_widen_to_whole_milliseconds() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .expect("valid");
        let selection = TemporalSelection {
            time: TemporalQuery {
                timerel: Some(TimeRel::Between),
                property: TimeProperty::ModifiedAt,
                from: Some(t + Duration::microseconds(900)),
                to: Some(t + Duration::microseconds(2100)),
            },
            dataset_ids: Some(vec!["@none".into()]),
            ..TemporalSelection::default()
        };
        let filter = instance_filter(vec!["urn:e:1"], &selection);
        let ms = |n| date(t + Duration::milliseconds(n));
        assert_eq!(
            filter,
            doc! {
                "entity": { "$in": ["urn:e:1"] },
                "datasetId": { "$in": ["@none"] },
                "modifiedAt": { "$exists": true, "$gte": ms(0), "$lte": ms(2) },
            }
        );
        let unbounded = instance_filter(vec!["urn:e:1"], &TemporalSelection::default());
        assert_eq!(unbounded, doc! { "entity": { "$in": ["urn:e:1"] } });
    }
}
