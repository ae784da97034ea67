//! Attribute-level writes on `/entities/{id}/attrs/{attrId}`: partial update (5.6.4),
//! replacement (5.6.19) and deletion (5.6.5).

use chrono::{DateTime, Utc};

use super::entity::{finish, merge_attribute};
use super::{missing, Changes, Outcome};
use crate::attribute::{Attribute, AttributeKind};
use crate::entity::Entity;
use crate::error::{NgsiError, Result};

/// Partial Attribute Update (clause 5.6.4): the instance (by the fragment's datasetId) must
/// exist; the fragment's members are merged into it. An NGSI-LD Null deletes the instance.
/// How a Partial Attribute Update fragment was written (clause 5.6.4, 5.5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentForm {
    /// With its `type`: it may not name another type than the attribute's.
    Typed,
    /// Concise, with a value member, its type inferred.
    Concise,
    /// Neither type nor value member: only members (sub-attributes, observedAt, ...) change.
    Members,
}

pub fn partial_update_attribute(
    entity: &mut Entity,
    name: &str,
    mut fragment: Attribute,
    form: FragmentForm,
    now: DateTime<Utc>,
) -> Result<Changes> {
    let dataset_id = fragment.dataset_id.clone();
    let mut changes = Changes::default();
    if fragment.value.is_null() {
        entity
            .remove_instance(name, dataset_id.as_deref())
            .ok_or_else(|| missing(name, dataset_id.as_deref()))?;
        changes.record(name, Outcome::Deleted);
    } else {
        let old = entity
            .attributes
            .get_mut(name)
            .and_then(|all| all.iter_mut().find(|a| a.dataset_id == dataset_id))
            .ok_or_else(|| missing(name, dataset_id.as_deref()))?;
        if form == FragmentForm::Members {
            // Clause 5.5.8: a fragment of members only; the value (and so the type) stays.
            let has_units = matches!(
                old.kind(),
                AttributeKind::Property | AttributeKind::GeoProperty | AttributeKind::ListProperty
            );
            if fragment.unit_code.is_some() && !has_units {
                return Err(NgsiError::attribute(
                    name,
                    format!("a {} has no unitCode", old.kind().as_str()),
                ));
            }
            fragment.value = old.value.clone();
        } else if form == FragmentForm::Typed && fragment.kind() != old.kind() {
            // Clause 5.6.4.4: a partial update does not change the type of an attribute.
            return Err(NgsiError::attribute(
                name,
                format!(
                    "is a {}; a partial update cannot make it a {}",
                    old.kind().as_str(),
                    fragment.kind().as_str()
                ),
            ));
        }
        merge_attribute(old, fragment, now);
        changes.record(name, Outcome::Updated);
    }
    finish(entity, &changes, now);
    Ok(changes)
}

/// Replace Attribute (clause 5.6.19): the instance (by datasetId) must exist and is replaced
/// whole, keeping its `createdAt`.
pub fn replace_attribute(
    entity: &mut Entity,
    name: &str,
    mut attr: Attribute,
    now: DateTime<Utc>,
) -> Result<Changes> {
    let old = entity
        .instance(name, attr.dataset_id.as_deref())
        .ok_or_else(|| missing(name, attr.dataset_id.as_deref()))?;
    attr.stamp(now, old.created_at);
    entity.put_attribute(name, attr);
    let mut changes = Changes::default();
    changes.record(name, Outcome::Updated);
    finish(entity, &changes, now);
    Ok(changes)
}

/// Delete Attribute (clause 5.6.5): the instance with `dataset_id` (default instance when
/// `None`), or every instance with `delete_all`.
pub fn delete_attribute(
    entity: &mut Entity,
    name: &str,
    dataset_id: Option<&str>,
    delete_all: bool,
    now: DateTime<Utc>,
) -> Result<Changes> {
    if delete_all {
        entity
            .attributes
            .shift_remove(name)
            .ok_or_else(|| missing(name, None))?;
    } else {
        entity
            .remove_instance(name, dataset_id)
            .ok_or_else(|| missing(name, dataset_id))?;
    }
    let mut changes = Changes::default();
    changes.record(name, Outcome::Deleted);
    finish(entity, &changes, now);
    Ok(changes)
}

/// The attribute removal of Purge Entities (clause 5.6.21.4): every attribute for which
/// `drop` says so goes, with all its instances (`drop`: the restrictive list; its negation:
/// the exclusionary `keep` list).
pub fn drop_attributes(
    entity: &mut Entity,
    drop: impl Fn(&str) -> bool,
    now: DateTime<Utc>,
) -> Changes {
    let mut changes = Changes::default();
    entity.attributes.retain(|name, _| {
        let gone = drop(name);
        if gone {
            changes.record(name, Outcome::Deleted);
        }
        !gone
    });
    finish(entity, &changes, now);
    changes
}
