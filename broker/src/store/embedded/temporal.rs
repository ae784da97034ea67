//! The temporal evolution on disk: heads and instances in two tables (see [`tables`]).
//!
//! An instance's key is (tenant, entity, attribute, instant, instanceId), the instant being its
//! `observedAt`, or its `createdAt` when it has none, in microseconds: an attribute's
//! instances are one contiguous range in the order the default temporal query (observedAt)
//! reads them, so a `timerel` on observedAt is a key range, `lastN` a reverse scan that stops
//! after n, and a partial answer a forward scan that stops at the budget. Other time
//! properties scan the attribute's range, keeping only the best `n` at any time. Memory per
//! read is bounded by the page and the budget, never by the size of the history.
//!
//! The head (the entity with no instances) lists its attribute names (as empty instance
//! lists), so a read knows which ranges to scan without scanning the entity's whole history.
//! Writes run inside the writer's group-commit transaction ([`apply`]), beside the entity
//! writes they belong with.
//!
//! [`tables`]: super::tables

use std::cmp::Reverse;

use chrono::{DateTime, Utc};
use ngsi_types::temporal::{TimeProperty, SCOPE_IRI};
use ngsi_types::{Attribute, Entity};
use redb::{ReadableTable, Table};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::redb_error::OrBackend;
use super::tables::{tenant_key, TEMPORAL_HEADS, TEMPORAL_INSTANCES};
use super::Shared;
use crate::store::temporal::{
    list_attributes, plan_record, Recorded, TemporalOp, TemporalOutcome, TemporalPage,
    TemporalSelection,
};
use crate::store::{StoreError, StoreResult, Tenant};

pub type HeadTable<'t> = Table<'t, (&'static str, &'static str), &'static [u8]>;
/// (tenant, entity, attribute, instant in µs, instanceId).
pub type InstanceKey<'a> = (&'a str, &'a str, &'a str, i64, &'a str);
pub type InstanceTable<'t> = Table<'t, InstanceKey<'static>, &'static [u8]>;

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

fn micros(t: Option<DateTime<Utc>>) -> i64 {
    t.map_or(i64::MIN, |t| t.timestamp_micros())
}

/// The instant an instance is keyed by.
fn instant(instance: &Attribute) -> i64 {
    micros(instance.observed_at.or(instance.created_at))
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
                        (t, id, name.as_str(), instant(instance), instance_id),
                        encode("instance", instance)?.as_slice(),
                    )
                    .or_backend(what)?;
            }
            Ok(())
        };
    match op {
        TemporalOp::Record {
            instances: recorded,
            ..
        } => {
            let plan = match plan_record(head, id, op) {
                Ok(plan) => plan,
                Err(outcome) => return Ok(outcome),
            };
            put_instances(instances, recorded)?;
            if plan.rewrite {
                put_head(heads, &plan.head)?;
            }
            Ok(plan.outcome)
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
            list_attributes(&mut head, recorded);
            put_instances(instances, recorded)?;
            put_head(heads, &head)?;
            Ok(TemporalOutcome::Updated)
        }
        TemporalOp::Delete => {
            if head.is_none() {
                return Ok(TemporalOutcome::NotFound);
            }
            heads.remove((t, id)).or_backend(what)?;
            let end = after(id);
            instances
                .retain_in(
                    (t, id, "", i64::MIN, "")..(t, end.as_str(), "", i64::MIN, ""),
                    |_, _| false,
                )
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
            let range =
                (t, id, attribute.as_str(), i64::MIN, "")..(t, id, end.as_str(), i64::MIN, "");
            let mut doomed = Vec::new();
            let mut kept = false;
            for row in instances.range(range).or_backend(what)? {
                let (key, value) = row.or_backend(what)?;
                let instance: Attribute = decode("instance", value.value())?;
                let (_, _, _, when, instance_id) = key.value();
                if dataset_id
                    .as_ref()
                    .is_none_or(|d| instance.dataset_id.as_deref() == d.as_deref())
                {
                    doomed.push((when, instance_id.to_owned()));
                } else {
                    kept = true;
                }
            }
            if doomed.is_empty() {
                return Ok(TemporalOutcome::NotFound);
            }
            for (when, instance_id) in &doomed {
                instances
                    .remove((t, id, attribute.as_str(), *when, instance_id.as_str()))
                    .or_backend(what)?;
            }
            if !kept {
                head.attributes.shift_remove(attribute);
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
            let Some(when) = find_instance(instances, t, id, attribute, instance_id)? else {
                return Ok(TemporalOutcome::NotFound);
            };
            instances
                .remove((t, id, attribute.as_str(), when, instance_id))
                .or_backend(what)?;
            instances
                .insert(
                    (t, id, attribute.as_str(), instant(instance), instance_id),
                    encode("instance", instance.as_ref())?.as_slice(),
                )
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
            let Some(when) = find_instance(instances, t, id, attribute, instance_id)? else {
                return Ok(TemporalOutcome::NotFound);
            };
            instances
                .remove((t, id, attribute.as_str(), when, instance_id.as_str()))
                .or_backend(what)?;
            head.modified_at = Some(*at);
            put_head(heads, &head)?;
            Ok(TemporalOutcome::Updated)
        }
    }
}

/// Retention: drops at most `max` instances, over every tenant, whose instant (observedAt,
/// else createdAt) is before `before` (µs): per attribute of every head, the start of its
/// range. Heads stay, so an evolution whose instances all expired is still known.
pub fn expire(
    heads: &HeadTable<'_>,
    instances: &mut InstanceTable<'_>,
    before: i64,
    max: usize,
) -> StoreResult<u64> {
    let what = "temporal retention";
    let mut removed = 0u64;
    let mut targets: Vec<(String, String, Vec<String>)> = Vec::new();
    for row in heads.iter().or_backend(what)? {
        let (key, bytes) = row.or_backend(what)?;
        let (t, id) = key.value();
        let head: Entity = decode("temporal head", bytes.value())?;
        targets.push((
            t.to_owned(),
            id.to_owned(),
            head.attributes.keys().cloned().collect(),
        ));
    }
    for (t, id, names) in targets {
        for name in names {
            let range = (t.as_str(), id.as_str(), name.as_str(), i64::MIN, "")
                ..(t.as_str(), id.as_str(), name.as_str(), before, "");
            let budget = max.saturating_sub(removed as usize);
            if budget == 0 {
                return Ok(removed);
            }
            let mut doomed: Vec<(i64, String)> = Vec::new();
            for row in instances.range(range).or_backend(what)?.take(budget) {
                let (key, _) = row.or_backend(what)?;
                let (_, _, _, when, instance_id) = key.value();
                doomed.push((when, instance_id.to_owned()));
            }
            for (when, instance_id) in &doomed {
                instances
                    .remove((
                        t.as_str(),
                        id.as_str(),
                        name.as_str(),
                        *when,
                        instance_id.as_str(),
                    ))
                    .or_backend(what)?;
            }
            removed += doomed.len() as u64;
        }
    }
    Ok(removed)
}

/// The instant under which an instance is stored: a scan of the attribute's keys (values are
/// not decoded). Modifying or deleting one instance is rare next to reading and recording,
/// so the instanceId has no index of its own that every recording would pay for.
fn find_instance(
    instances: &InstanceTable<'_>,
    t: &str,
    id: &str,
    attribute: &str,
    instance_id: &str,
) -> StoreResult<Option<i64>> {
    let end = after(attribute);
    let range = (t, id, attribute, i64::MIN, "")..(t, id, end.as_str(), i64::MIN, "");
    for row in instances.range(range).or_backend("find instance")? {
        let (key, _) = row.or_backend("find instance")?;
        let (_, _, _, when, found) = key.value();
        if found == instance_id {
            return Ok(Some(when));
        }
    }
    Ok(None)
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
    instances: &impl ReadableTable<InstanceKey<'static>, &'static [u8]>,
    t: &str,
    mut entity: Entity,
    selection: &TemporalSelection,
) -> StoreResult<Option<Entity>> {
    let mut names: Vec<String> = match &selection.attrs {
        Some(attrs) => attrs
            .iter()
            .filter(|a| entity.attributes.contains_key(*a))
            .cloned()
            .collect(),
        None => entity.attributes.keys().cloned().collect(),
    };
    // The scope's evolution is read whole: its validity, not its instants, decides (see
    // `TemporalSelection::finish`).
    let has_scope = entity.attributes.contains_key(SCOPE_IRI);
    names.retain(|n| n != SCOPE_IRI);
    entity.attributes.clear();
    let id = entity.id.clone();
    if has_scope {
        let whole = TemporalSelection::default();
        let read = read_attribute(instances, t, &id, SCOPE_IRI, &whole)?;
        if !read.is_empty() {
            entity.attributes.insert(SCOPE_IRI.to_owned(), read);
        }
    }
    for name in names {
        let read = read_attribute(instances, t, &id, &name, selection)?;
        if !read.is_empty() {
            entity.attributes.insert(name, read);
        }
    }
    Ok(selection.finish(entity))
}

/// The selected instances of one attribute, oldest first, at most as many as the selection
/// reads per attribute (the latest ones with lastN, else the earliest).
fn read_attribute(
    instances: &impl ReadableTable<InstanceKey<'static>, &'static [u8]>,
    t: &str,
    id: &str,
    name: &str,
    selection: &TemporalSelection,
) -> StoreResult<Vec<Attribute>> {
    let what = "temporal query";
    let latest = selection.last_n.is_some();
    let cap = match (selection.last_n, selection.per_attribute) {
        (Some(n), Some(m)) => Some(n.min(m)),
        (n, m) => n.or(m),
    };
    let end = after(name);
    let keyed_by_time = selection.time.property == TimeProperty::ObservedAt;
    // Instants are keyed observedAt-or-createdAt, so observedAt bounds are key bounds (the
    // filter still drops instances keyed by their createdAt).
    let (lo, hi) = if keyed_by_time {
        (
            selection
                .time
                .from
                .map_or(i64::MIN, |f| f.timestamp_micros()),
            selection.time.to.map_or(i64::MAX, |t| t.timestamp_micros()),
        )
    } else {
        (i64::MIN, i64::MAX)
    };
    // `to` is exclusive: the bound (name, hi, "") sorts before every instance at `hi`.
    let upper = if hi == i64::MAX {
        (t, id, end.as_str(), i64::MIN, "")
    } else {
        (t, id, name, hi, "")
    };
    let rows = instances
        .range((t, id, name, lo, "")..upper)
        .or_backend(what)?;
    let rows: Box<dyn Iterator<Item = _>> = if latest {
        Box::new(rows.rev())
    } else {
        Box::new(rows)
    };
    let mut out: Vec<Attribute> = Vec::new();
    for row in rows {
        let (_, bytes) = row.or_backend(what)?;
        let instance: Attribute = decode("instance", bytes.value())?;
        if !selection.keeps_instance(name, &instance) {
            continue;
        }
        out.push(instance);
        if let Some(cap) = cap {
            if keyed_by_time {
                // In key order: the first `cap` kept are the ones wanted.
                if out.len() >= cap {
                    break;
                }
            } else if out.len() >= 2 * cap.max(1) {
                keep_best(&mut out, cap, latest, selection);
            }
        }
    }
    if let Some(cap) = cap {
        keep_best(&mut out, cap, latest, selection);
    }
    if latest {
        out.reverse();
    }
    // Stable: instances at the same instant stay in recording order.
    out.sort_by_key(|a| selection.time.instant(a));
    Ok(out)
}

/// Keeps the `cap` instances latest (or earliest) by the selection's time property.
fn keep_best(out: &mut Vec<Attribute>, cap: usize, latest: bool, selection: &TemporalSelection) {
    if out.len() <= cap {
        return;
    }
    if latest {
        out.sort_by_key(|a| Reverse(selection.time.instant(a)));
    } else {
        out.sort_by_key(|a| selection.time.instant(a));
    }
    out.truncate(cap);
}
