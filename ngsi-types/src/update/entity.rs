//! Entity-level writes: append (5.6.3), update (5.6.2), merge (5.6.17), replace (5.6.18).

use chrono::{DateTime, Utc};
use indexmap::IndexMap;

use super::{Changes, NotUpdated, Outcome};
use crate::attribute::{Attribute, AttributeValue};
use crate::entity::Entity;
use crate::format::EntityFragment;

/// Attributes by expanded name, each with its instances, as parsed from a request.
pub type Attributes = IndexMap<String, Vec<Attribute>>;

/// Append Attributes (clause 5.6.3): new attributes are added; existing instances are
/// overwritten unless `no_overwrite`, in which case they are reported as not updated.
pub fn append_attributes(
    entity: &mut Entity,
    attrs: Attributes,
    no_overwrite: bool,
    now: DateTime<Utc>,
) -> Changes {
    let mut changes = Changes::default();
    for (name, instances) in attrs {
        for mut attr in instances {
            match entity.instance(&name, attr.dataset_id.as_deref()) {
                Some(_) if no_overwrite => changes.not_updated.push(NotUpdated {
                    attribute: name.clone(),
                    reason: "attribute already exists and options=noOverwrite was given".into(),
                }),
                Some(old) => {
                    attr.stamp(now, old.created_at);
                    entity.put_attribute(name.clone(), attr);
                    changes.record(&name, Outcome::Updated);
                }
                None => {
                    attr.stamp(now, Some(now));
                    entity.put_attribute(name.clone(), attr);
                    changes.record(&name, Outcome::Created);
                }
            }
        }
    }
    finish(entity, &changes, now);
    changes
}

/// Update Attributes (clause 5.6.2.4 of v1.9.1): an existing instance (by datasetId) is
/// replaced, keeping its createdAt; a missing one is appended. An NGSI-LD Null deletes the
/// instance; a Null for an instance that does not exist is reported as not updated.
pub fn update_attributes(entity: &mut Entity, attrs: Attributes, now: DateTime<Utc>) -> Changes {
    let mut changes = Changes::default();
    for (name, instances) in attrs {
        for mut attr in instances {
            let dataset_id = attr.dataset_id.clone();
            let Some(old) = entity.instance(&name, dataset_id.as_deref()) else {
                if attr.value.is_null() {
                    changes.not_updated.push(NotUpdated {
                        attribute: name.clone(),
                        reason: super::missing(&name, dataset_id.as_deref()).to_string(),
                    });
                } else {
                    attr.stamp(now, Some(now));
                    entity.put_attribute(name.clone(), attr);
                    changes.record(&name, Outcome::Created);
                }
                continue;
            };
            if attr.value.is_null() {
                entity.remove_instance(&name, dataset_id.as_deref());
                changes.record(&name, Outcome::Deleted);
            } else {
                attr.stamp(now, old.created_at);
                entity.put_attribute(name.clone(), attr);
                changes.record(&name, Outcome::Updated);
            }
        }
    }
    finish(entity, &changes, now);
    changes
}

/// Merge Entity (clause 5.6.17): types are added, scope replaced, attributes merged member by
/// member (sub-attributes recursively), new attributes added, NGSI-LD Nulls delete.
pub fn merge_entity(entity: &mut Entity, fragment: EntityFragment, now: DateTime<Utc>) -> Changes {
    let mut changes = Changes::default();
    for ty in fragment.types {
        if !entity.has_type(&ty) {
            entity.types.push(ty);
            changes.entity_changed = true;
        }
    }
    if let Some(scope) = fragment.scope {
        if scope != entity.scope {
            entity.scope = scope;
            changes.entity_changed = true;
        }
    }
    if let Some(expires) = fragment.expires_at {
        if entity.expires_at != expires {
            entity.expires_at = expires;
            changes.entity_changed = true;
        }
    }
    for (name, instances) in fragment.attributes {
        for attr in instances {
            let dataset_id = attr.dataset_id.clone();
            let existing = entity
                .attributes
                .get_mut(&name)
                .and_then(|all| all.iter_mut().find(|a| a.dataset_id == dataset_id));
            match (existing, attr.value.is_null()) {
                (Some(_), true) => {
                    entity.remove_instance(&name, dataset_id.as_deref());
                    changes.record(&name, Outcome::Deleted);
                }
                (None, true) => {}
                (Some(old), false) => {
                    merge_attribute(old, attr, now);
                    changes.record(&name, Outcome::Updated);
                }
                (None, false) => {
                    let mut attr = attr;
                    attr.stamp(now, Some(now));
                    entity.put_attribute(name.clone(), attr);
                    changes.record(&name, Outcome::Created);
                }
            }
        }
    }
    finish(entity, &changes, now);
    changes
}

/// Merges `new` into `old`: the value and every member given replace the old ones,
/// sub-attributes merge recursively (NGSI-LD Null removes one), the rest stays.
pub(super) fn merge_attribute(old: &mut Attribute, new: Attribute, now: DateTime<Utc>) {
    old.value = new.value;
    if new.observed_at.is_some() {
        old.observed_at = new.observed_at;
        old.observed_digits = new.observed_digits;
    }
    if new.unit_code.is_some() {
        old.unit_code = new.unit_code;
    }
    if new.expires_at.is_some() {
        old.expires_at = new.expires_at;
    }
    if new.value_type.is_some() {
        old.value_type = new.value_type;
    }
    for (name, sub) in new.sub_attributes {
        match (old.sub_attributes.get_mut(&name), &sub.value) {
            (Some(_), AttributeValue::Null(_)) => {
                old.sub_attributes.shift_remove(&name);
            }
            (None, AttributeValue::Null(_)) => {}
            (Some(existing), _) => merge_attribute(existing, sub, now),
            (None, _) => {
                let mut sub = sub;
                sub.stamp(now, Some(now));
                old.sub_attributes.insert(name, sub);
            }
        }
    }
    old.modified_at = Some(now);
}

/// Replace Entity (clause 5.6.18): the new content replaces everything but the id and the
/// entity's `createdAt`.
pub fn replace_entity(old: &Entity, mut new: Entity, now: DateTime<Utc>) -> (Entity, Changes) {
    let mut changes = Changes {
        entity_changed: old.types != new.types || old.scope != new.scope,
        ..Changes::default()
    };
    for (name, instances) in &mut new.attributes {
        let existed = old.attributes.contains_key(name);
        for attr in instances.iter_mut() {
            attr.stamp(now, Some(now));
        }
        changes.record(
            name,
            if existed {
                Outcome::Updated
            } else {
                Outcome::Created
            },
        );
    }
    for name in old.attributes.keys() {
        if !new.attributes.contains_key(name) {
            changes.record(name, Outcome::Deleted);
        }
    }
    new.id = old.id.clone();
    new.created_at = old.created_at;
    new.modified_at = Some(now);
    (new, changes)
}

/// Stamps the entity's `modifiedAt` when anything changed.
/// The expiry of transient attribute instances (clause 4.22): those whose `expiresAt` is at
/// or before `now` are deleted, as a deletion of attributes.
pub fn expire_attributes(entity: &mut Entity, now: DateTime<Utc>) -> Changes {
    let mut changes = Changes::default();
    for name in entity.drop_expired_attributes(now) {
        changes.record(&name, Outcome::Deleted);
    }
    finish(entity, &changes, now);
    changes
}

pub(super) fn finish(entity: &mut Entity, changes: &Changes, now: DateTime<Utc>) {
    if changes.is_modified() {
        entity.modified_at = Some(now);
    }
}
