//! Temporal writes: each [`TemporalWrite`] alone, and the history of an entity write (called
//! from [`crate::store::mongo::write`] inside its transaction).

use futures_util::FutureExt;
use mongodb::bson::{doc, Document};
use mongodb::error::Result as DriverResult;
use mongodb::{ClientSession, Collection};
use ngsi_types::Entity;

use super::{decode, head_document, heads, instance_document, instances};
use crate::store::mongo::error::{self, carried, store_error, DUPLICATE_KEY};
use crate::store::mongo::write::{names_an_entity_twice, per_entity};
use crate::store::mongo::{tenants, transaction, MongoStore};
use crate::store::temporal::{plan_record, Recorded};
use crate::store::{
    RecordMode, StoreError, StoreResult, TemporalOp, TemporalOutcome, TemporalWrite, Tenant,
};

/// Applies temporal writes, each atomically where the deployment has transactions; outcomes in
/// input order.
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
    let in_order = names_an_entity_twice(writes.iter().map(|w| w.id.as_str()));
    // Collected first: a lazy map over borrowed writes inside the bounded stream of
    // `per_entity` defeats the compiler's proof that the future is Send.
    let pending: Vec<_> = writes.iter().map(|w| write_one(store, tenant, w)).collect();
    per_entity(in_order, pending.into_iter()).await
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
    transaction::run(&store.client, (store, tenant, write), |session, context| {
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
            instances: recorded,
            ..
        } => {
            let plan = match plan_record(head, id, op) {
                Ok(plan) => plan,
                Err(outcome) => return Ok(outcome),
            };
            insert(&instances, id, recorded, session.as_deref_mut()).await?;
            (plan.outcome, plan.rewrite.then_some(plan.head))
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
