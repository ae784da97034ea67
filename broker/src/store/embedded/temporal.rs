//! The temporal evolution on disk: heads and instances in two tables, keyed so that one
//! entity's instances, and one attribute's, are each one contiguous range (see [`tables`]).
//!
//! Writes run inside the writer's group-commit transaction ([`apply`]), beside the entity
//! writes they belong with. Reads ([`query`]) scan heads in id order and, per selected entity,
//! the ranges of the attributes asked for, decoding only those instances: memory is bounded by
//! the page asked for, not by the size of the history.
//!
//! [`tables`]: super::tables

use ngsi_types::{Attribute, Entity};
use redb::{ReadableTable, Table};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::redb_error::OrBackend;
use super::tables::{tenant_key, TEMPORAL_HEADS, TEMPORAL_INSTANCES};
use super::Shared;
use crate::store::temporal::{
    head_of, RecordMode, Recorded, TemporalOp, TemporalOutcome, TemporalPage, TemporalSelection,
};
use crate::store::{StoreError, StoreResult, Tenant};

pub type HeadTable<'t> = Table<'t, (&'static str, &'static str), &'static [u8]>;
pub type InstanceTable<'t> =
    Table<'t, (&'static str, &'static str, &'static str, &'static str), &'static [u8]>;

fn encode<T: Serialize>(what: &str, value: &T) -> StoreResult<Vec<u8>> {
    rmp_serde::to_vec_named(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode {what}: {e}")))
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> StoreResult<T> {
    rmp_serde::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The end of the key range of the key part `s`: key parts compare whole, and `s` followed by
/// NUL is the next string after `s`.
fn after(s: &str) -> String {
    format!("{s}\0")
}

/// Applies one temporal operation in the writer's transaction.
pub fn apply(
    heads: &mut HeadTable<'_>,
    instances: &mut InstanceTable<'_>,
    tenant: &Tenant,
    id: &str,
    op: &TemporalOp,
) -> StoreResult<TemporalOutcome> {
    let t = tenant_key(tenant);
    let what = "temporal write";
    let head: Option<Entity> = match heads.get((t, id)).or_backend(what)? {
        Some(bytes) => Some(decode("temporal head", bytes.value())?),
        None => None,
    };
    let put_head = |heads: &mut HeadTable<'_>, head: &Entity| -> StoreResult<()> {
        heads
            .insert((t, id), encode("temporal head", head)?.as_slice())
            .or_backend(what)?;
        Ok(())
    };
    let put_instances =
        |instances: &mut InstanceTable<'_>, recorded: &[Recorded]| -> StoreResult<()> {
            for (name, instance) in recorded {
                let instance_id = instance.instance_id.as_deref().ok_or_else(|| {
                    StoreError::Backend(format!("instance of {name} without instanceId"))
                })?;
                instances
                    .insert(
                        (t, id, name.as_str(), instance_id),
                        encode("instance", instance)?.as_slice(),
                    )
                    .or_backend(what)?;
            }
            Ok(())
        };
    match op {
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
            put_head(heads, &head)?;
            put_instances(instances, recorded)?;
            Ok(outcome)
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
            put_head(heads, &head)?;
            put_instances(instances, recorded)?;
            Ok(TemporalOutcome::Updated)
        }
        TemporalOp::Delete => {
            if head.is_none() {
                return Ok(TemporalOutcome::NotFound);
            }
            heads.remove((t, id)).or_backend(what)?;
            let end = after(id);
            instances
                .retain_in((t, id, "", "")..(t, end.as_str(), "", ""), |_, _| false)
                .or_backend(what)?;
            Ok(TemporalOutcome::Updated)
        }
        TemporalOp::DeleteAttribute {
            attribute,
            dataset_id,
            at,
        } => {
            let Some(mut head) = head else {
                return Ok(TemporalOutcome::NotFound);
            };
            let end = after(attribute);
            let range = (t, id, attribute.as_str(), "")..(t, id, end.as_str(), "");
            let mut doomed = Vec::new();
            for row in instances.range(range).or_backend(what)? {
                let (key, value) = row.or_backend(what)?;
                let instance: Attribute = decode("instance", value.value())?;
                if dataset_id
                    .as_ref()
                    .is_none_or(|d| instance.dataset_id.as_deref() == d.as_deref())
                {
                    doomed.push(key.value().3.to_owned());
                }
            }
            if doomed.is_empty() {
                return Ok(TemporalOutcome::NotFound);
            }
            for instance_id in &doomed {
                instances
                    .remove((t, id, attribute.as_str(), instance_id.as_str()))
                    .or_backend(what)?;
            }
            head.modified_at = Some(*at);
            put_head(heads, &head)?;
            Ok(TemporalOutcome::Updated)
        }
        TemporalOp::ModifyInstance {
            attribute,
            instance,
            at,
        } => {
            let Some(mut head) = head else {
                return Ok(TemporalOutcome::NotFound);
            };
            let instance_id = instance.instance_id.as_deref().unwrap_or_default();
            let key = (t, id, attribute.as_str(), instance_id);
            if instances.get(key).or_backend(what)?.is_none() {
                return Ok(TemporalOutcome::NotFound);
            }
            instances
                .insert(key, encode("instance", instance)?.as_slice())
                .or_backend(what)?;
            head.modified_at = Some(*at);
            put_head(heads, &head)?;
            Ok(TemporalOutcome::Updated)
        }
        TemporalOp::DeleteInstance {
            attribute,
            instance_id,
            at,
        } => {
            let Some(mut head) = head else {
                return Ok(TemporalOutcome::NotFound);
            };
            let key = (t, id, attribute.as_str(), instance_id.as_str());
            if instances.remove(key).or_backend(what)?.is_none() {
                return Ok(TemporalOutcome::NotFound);
            }
            head.modified_at = Some(*at);
            put_head(heads, &head)?;
            Ok(TemporalOutcome::Updated)
        }
    }
}

/// The evolutions a selection asks for, one page of them, in id order.
pub fn query(
    shared: &Shared,
    tenant: &Tenant,
    selection: &TemporalSelection,
) -> StoreResult<TemporalPage> {
    let what = "temporal query";
    let t = tenant_key(tenant);
    let txn = shared.db.begin_read().or_backend(what)?;
    let heads = txn.open_table(TEMPORAL_HEADS).or_backend(what)?;
    let instances = txn.open_table(TEMPORAL_INSTANCES).or_backend(what)?;
    let mut page = TemporalPage::default();
    let mut matched = 0usize;
    let mut consider = |head: Entity| -> StoreResult<bool> {
        if !selection.keeps_head(&head) {
            return Ok(true);
        }
        let Some(entity) = with_instances(&instances, t, head, selection)? else {
            return Ok(true);
        };
        matched += 1;
        if matched > selection.offset && page.entities.len() < selection.limit {
            page.entities.push(entity);
        }
        // Past the page, go on only to count.
        Ok(selection.count || page.entities.len() < selection.limit)
    };
    match &selection.ids {
        Some(ids) => {
            let mut ids: Vec<&String> = ids.iter().collect();
            ids.sort();
            ids.dedup();
            if selection.descending {
                ids.reverse();
            }
            for id in ids {
                if let Some(bytes) = heads.get((t, id.as_str())).or_backend(what)? {
                    if !consider(decode("temporal head", bytes.value())?)? {
                        break;
                    }
                }
            }
        }
        None => {
            let end = after(t);
            let rows = heads.range((t, "")..(end.as_str(), "")).or_backend(what)?;
            let rows: Box<dyn Iterator<Item = _>> = if selection.descending {
                Box::new(rows.rev())
            } else {
                Box::new(rows)
            };
            for row in rows {
                let (_, bytes) = row.or_backend(what)?;
                if !consider(decode("temporal head", bytes.value())?)? {
                    break;
                }
            }
        }
    }
    if selection.count {
        page.total = Some(matched as u64);
    }
    Ok(page)
}

/// The head with its selected instances, if the entity is part of the answer.
fn with_instances(
    instances: &impl ReadableTable<
        (&'static str, &'static str, &'static str, &'static str),
        &'static [u8],
    >,
    t: &str,
    mut entity: Entity,
    selection: &TemporalSelection,
) -> StoreResult<Option<Entity>> {
    let what = "temporal query";
    let id = entity.id.clone();
    let mut take = |name: &str, bytes: &[u8]| -> StoreResult<()> {
        let instance: Attribute = decode("instance", bytes)?;
        if selection.keeps_instance(name, &instance) {
            entity
                .attributes
                .entry(name.to_owned())
                .or_default()
                .push(instance);
        }
        Ok(())
    };
    match &selection.attrs {
        Some(attrs) => {
            for name in attrs {
                let end = after(name);
                let range = (t, id.as_str(), name.as_str(), "")..(t, id.as_str(), end.as_str(), "");
                for row in instances.range(range).or_backend(what)? {
                    let (_, bytes) = row.or_backend(what)?;
                    take(name, bytes.value())?;
                }
            }
        }
        None => {
            let end = after(&id);
            let range = (t, id.as_str(), "", "")..(t, end.as_str(), "", "");
            for row in instances.range(range).or_backend(what)? {
                let (key, bytes) = row.or_backend(what)?;
                let name = key.value().2.to_owned();
                take(&name, bytes.value())?;
            }
        }
    }
    Ok(selection.finish(entity))
}
