//! The write operations of the entity API (GS CIM 009 clause 5.6), as values: a route or a
//! batch hands the service an operation, and the service plans it against the entity as
//! stored now, under a version precondition, as often as a concurrent writer makes it re-plan.
//!
//! Planning is pure: what an operation means to the entity comes from `ngsi_types::update`,
//! and the time every timestamp takes is given, so a plan run again after a conflict gives the
//! same result on the same entity.

use chrono::{DateTime, Utc};
use ngsi_types::format::EntityFragment;
use ngsi_types::query::type_expr::TypeExpr;
use ngsi_types::update::{
    append_attributes, append_scope, delete_attribute, delete_scope, drop_attributes,
    expire_attributes, merge_entity, partial_update_attribute, replace_attribute, replace_entity,
    update_attributes, update_scope, Changes, FragmentForm,
};
use ngsi_types::{Attribute, Entity};

use crate::error::{BrokerError, BrokerResult};

/// Batch upsert (clause 5.6.8): what happens to an entity that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertMode {
    /// `options=replace` (the default): the new entity replaces the old one.
    Replace,
    /// `options=update`: its attributes are appended to the old one.
    Update,
}

/// One write of the entity API, on one entity.
#[derive(Debug, Clone)]
pub enum EntityOperation {
    /// Batch create (5.6.7): AlreadyExists when the id is taken.
    Create(Entity),
    /// Batch upsert (5.6.8): create, or replace/update an existing entity.
    Upsert { entity: Entity, mode: UpsertMode },
    /// Append Entity Attributes (5.6.3), batch update (5.6.9): new types are added too.
    Append {
        fragment: EntityFragment,
        no_overwrite: bool,
    },
    /// Update Entity Attributes (5.6.2): only attributes that exist are updated.
    Update { fragment: EntityFragment },
    /// Merge Entity (5.6.17), batch merge (5.6.20): NGSI-LD Nulls delete.
    Merge { fragment: EntityFragment },
    /// Replace Entity (5.6.18): the fragment's content replaces the entity's; without a
    /// type, the entity keeps its types.
    Replace { fragment: EntityFragment },
    /// Partial Attribute Update (5.6.4) of one instance.
    UpdateAttribute {
        name: String,
        instance: Attribute,
        form: FragmentForm,
    },
    /// Replace Attribute (5.6.19) with one instance.
    ReplaceAttribute { name: String, instance: Attribute },
    /// Delete Attribute (5.6.5): one `datasetId`, the default instance, or all of them.
    DeleteAttribute {
        name: String,
        dataset_id: Option<String>,
        delete_all: bool,
    },
    /// Delete Attribute (5.6.5) of `scope`: the entity loses its scope.
    DeleteScope,
    /// Delete Entity (5.6.6), batch delete (5.6.10), purge (5.6.21).
    Delete,
    /// Purge Entities with `drop` (5.6.21.4): these attributes (expanded names) go; with
    /// `keep`, all but these go.
    DropAttributes { names: Vec<String>, keep: bool },
    /// The expiry of a transient entity: deleted if its `expiresAt` is still at or before
    /// this instant (it may have been moved since it was listed).
    Expire { at: DateTime<Utc> },
    /// The operation, on an entity matching this selector of Entity types (clause 4.17): the
    /// optional `type` of 5.6.2-5.6.6 and 5.6.19. Any other entity is ResourceNotFound.
    OfType {
        types: TypeExpr,
        operation: Box<EntityOperation>,
    },
}

/// What a plan decided to do with one entity.
#[derive(Debug)]
pub enum Planned {
    /// Store this entity; `changes` says what changed.
    Put(Box<Entity>, Changes),
    /// Delete the entity.
    Delete,
}

impl EntityOperation {
    /// True if the operation may create the entity (and so the tenant it is written to).
    pub fn creates(&self) -> bool {
        matches!(self, Self::Create(_) | Self::Upsert { .. })
    }

    /// This operation, gated by a selector of Entity types if one is given.
    pub fn of_type(self, types: Option<TypeExpr>) -> Self {
        match types {
            Some(types) => Self::OfType {
                types,
                operation: Box::new(self),
            },
            None => self,
        }
    }

    /// What to write, given the entity as stored now (`None`: there is none) and the time of
    /// the write. ResourceNotFound for operations on an entity that does not exist.
    pub fn plan(
        &self,
        id: &str,
        current: Option<&Entity>,
        now: DateTime<Utc>,
    ) -> BrokerResult<Planned> {
        match (self, current) {
            (Self::OfType { types, operation }, Some(e)) if types.matches(e) => {
                operation.plan(id, current, now)
            }
            (Self::OfType { .. }, _) => Err(not_found(id)),
            (Self::Create(entity), None) | (Self::Upsert { entity, .. }, None) => {
                Ok(Planned::Put(Box::new(entity.clone()), Changes::default()))
            }
            (Self::Create(_), Some(_)) => Err(BrokerError::AlreadyExists(format!(
                "entity '{id}' already exists"
            ))),
            (Self::Upsert { entity, mode }, Some(old)) => Ok(match mode {
                UpsertMode::Replace => {
                    let (entity, changes) = replace_entity(old, entity.clone(), now);
                    Planned::Put(Box::new(entity), changes)
                }
                UpsertMode::Update => modified(old, |e| {
                    let mut changes = append_attributes(e, entity.attributes.clone(), false, now);
                    add_types(e, &entity.types, &mut changes, now);
                    Ok(changes)
                })?,
            }),
            (Self::Delete, Some(_)) => Ok(Planned::Delete),
            (Self::Expire { at }, Some(e)) if e.expires_at.is_some_and(|t| t <= *at) => {
                Ok(Planned::Delete)
            }
            // GS CIM 009 4.22: the expired instances of transient attributes go, the entity
            // stays.
            (Self::Expire { at }, Some(e))
                if e.attributes_expire_at().is_some_and(|t| t <= *at) =>
            {
                modified(e, |e| Ok(expire_attributes(e, *at)))
            }
            (Self::Expire { .. }, _) => Err(BrokerError::NotFound(format!(
                "entity '{id}' is no longer expired"
            ))),
            (_, None) => Err(not_found(id)),
            (Self::Replace { fragment }, Some(old)) => {
                let mut new = Entity::new(id.to_owned(), fragment.types.clone());
                if new.types.is_empty() {
                    new.types = old.types.clone();
                }
                new.scope = fragment.scope.clone().unwrap_or_default();
                new.expires_at = fragment.expires_at.flatten();
                new.attributes = fragment.attributes.clone();
                let (entity, changes) = replace_entity(old, new, now);
                Ok(Planned::Put(Box::new(entity), changes))
            }
            (
                Self::Append {
                    fragment,
                    no_overwrite,
                },
                Some(old),
            ) => modified(old, |e| {
                let mut changes =
                    append_attributes(e, fragment.attributes.clone(), *no_overwrite, now);
                add_types(e, &fragment.types, &mut changes, now);
                if let Some(scope) = &fragment.scope {
                    append_scope(e, scope, !*no_overwrite, &mut changes, now);
                }
                Ok(changes)
            }),
            // GS CIM 009 5.6.2.4: types of the fragment the entity lacks are added, as in append.
            (Self::Update { fragment }, Some(old)) => modified(old, |e| {
                let mut changes = update_attributes(e, fragment.attributes.clone(), now);
                add_types(e, &fragment.types, &mut changes, now);
                if let Some(scope) = &fragment.scope {
                    update_scope(e, scope, &mut changes, now);
                }
                Ok(changes)
            }),
            (Self::DeleteScope, Some(old)) => modified(old, |e| Ok(delete_scope(e, now)?)),
            (Self::DropAttributes { names, keep }, Some(old)) => modified(old, |e| {
                Ok(drop_attributes(
                    e,
                    |name| names.iter().any(|n| n == name) != *keep,
                    now,
                ))
            }),
            (Self::Merge { fragment }, Some(old)) => {
                modified(old, |e| Ok(merge_entity(e, fragment.clone(), now)))
            }
            (
                Self::UpdateAttribute {
                    name,
                    instance,
                    form,
                },
                Some(old),
            ) => modified(old, |e| {
                Ok(partial_update_attribute(
                    e,
                    name,
                    instance.clone(),
                    *form,
                    now,
                )?)
            }),
            (Self::ReplaceAttribute { name, instance }, Some(old)) => modified(old, |e| {
                Ok(replace_attribute(e, name, instance.clone(), now)?)
            }),
            (
                Self::DeleteAttribute {
                    name,
                    dataset_id,
                    delete_all,
                },
                Some(old),
            ) => modified(old, |e| {
                Ok(delete_attribute(
                    e,
                    name,
                    dataset_id.as_deref(),
                    *delete_all,
                    now,
                )?)
            }),
        }
    }
}

/// A copy of `old` changed by `apply`.
fn modified(
    old: &Entity,
    apply: impl FnOnce(&mut Entity) -> BrokerResult<Changes>,
) -> BrokerResult<Planned> {
    let mut entity = old.clone();
    let changes = apply(&mut entity)?;
    Ok(Planned::Put(Box::new(entity), changes))
}

/// Adds the types the entity does not have yet (append, update and upsert-update add, never
/// remove), which modifies the entity.
fn add_types(entity: &mut Entity, types: &[String], changes: &mut Changes, now: DateTime<Utc>) {
    for ty in types {
        if !entity.has_type(ty) {
            entity.types.push(ty.clone());
            changes.entity_changed = true;
            entity.modified_at = Some(now);
        }
    }
}

pub fn not_found(id: &str) -> BrokerError {
    BrokerError::NotFound(format!("entity '{id}' not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(id: &str, ty: &str) -> Entity {
        Entity::new(id.to_owned(), vec![ty.to_owned()])
    }

    #[test]
    fn operations_on_a_missing_entity_are_not_found_except_creations() {
        let now = Utc::now();
        let create = EntityOperation::Create(entity("urn:x:1", "T"));
        assert!(matches!(
            create.plan("urn:x:1", None, now),
            Ok(Planned::Put(..))
        ));
        assert!(matches!(
            create.plan("urn:x:1", Some(&entity("urn:x:1", "T")), now),
            Err(BrokerError::AlreadyExists(_))
        ));
        for op in [
            EntityOperation::Delete,
            EntityOperation::Update {
                fragment: EntityFragment::default(),
            },
            EntityOperation::Expire { at: now },
        ] {
            assert!(
                matches!(op.plan("urn:x:1", None, now), Err(BrokerError::NotFound(_))),
                "{op:?}"
            );
        }
    }

    #[test]
    fn append_adds_types_and_replace_without_type_keeps_them() {
        let now = Utc::now();
        let old = entity("urn:x:1", "A");
        let append = EntityOperation::Append {
            fragment: EntityFragment {
                types: vec!["A".into(), "B".into()],
                ..EntityFragment::default()
            },
            no_overwrite: false,
        };
        let Ok(Planned::Put(new, _)) = append.plan("urn:x:1", Some(&old), now) else {
            panic!("append must put the entity");
        };
        assert_eq!(new.types, ["A", "B"]);
        let replace = EntityOperation::Replace {
            fragment: EntityFragment::default(),
        };
        let Ok(Planned::Put(new, _)) = replace.plan("urn:x:1", Some(&old), now) else {
            panic!("replace must put the entity");
        };
        assert_eq!(new.types, ["A"]);
    }

    #[test]
    fn expiry_spares_an_entity_whose_expires_at_moved_later() {
        let now = Utc::now();
        let mut e = entity("urn:x:1", "T");
        e.expires_at = Some(now + chrono::Duration::seconds(60));
        let op = EntityOperation::Expire { at: now };
        assert!(matches!(
            op.plan("urn:x:1", Some(&e), now),
            Err(BrokerError::NotFound(_))
        ));
        e.expires_at = Some(now);
        assert!(matches!(
            op.plan("urn:x:1", Some(&e), now),
            Ok(Planned::Delete)
        ));
    }
}
