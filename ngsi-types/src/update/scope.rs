//! The entity's `scope` (clause 4.18) under the attribute operations, which treat it like an
//! attribute: append (5.6.3.4), update (5.6.2.4) and Delete Attribute (5.6.5.4).

use chrono::{DateTime, Utc};

use super::entity::finish;
use super::{Changes, NotUpdated};
use crate::entity::Entity;
use crate::error::{NgsiError, Result};

/// The name the scope goes by in an UpdateResult and in a Delete Attribute path.
pub const SCOPE: &str = "scope";

/// Append: with overwrite the fragment's scopes become the entity's; without, those the entity
/// lacks are added to its own.
pub fn append_scope(
    entity: &mut Entity,
    scope: &[String],
    overwrite: bool,
    changes: &mut Changes,
    now: DateTime<Utc>,
) {
    let before = entity.scope.clone();
    if overwrite {
        entity.scope = scope.to_vec();
    } else {
        for s in scope {
            if !entity.scope.contains(s) {
                entity.scope.push(s.clone());
            }
        }
    }
    changes.entity_changed |= entity.scope != before;
    finish(entity, changes, now);
}

/// Update: the fragment's scopes replace the entity's, if it has any; an entity without a
/// scope gets none, which is reported as not updated.
pub fn update_scope(
    entity: &mut Entity,
    scope: &[String],
    changes: &mut Changes,
    now: DateTime<Utc>,
) {
    if entity.scope.is_empty() {
        changes.not_updated.push(NotUpdated {
            attribute: SCOPE.into(),
            reason: "the entity has no scope to update".into(),
        });
        return;
    }
    changes.entity_changed |= entity.scope != scope;
    entity.scope = scope.to_vec();
    finish(entity, changes, now);
}

/// Delete Attribute of `scope`: the entity loses its scope; ResourceNotFound if it has none.
pub fn delete_scope(entity: &mut Entity, now: DateTime<Utc>) -> Result<Changes> {
    if entity.scope.is_empty() {
        return Err(NgsiError::NotFound("the entity has no scope".into()));
    }
    entity.scope.clear();
    let changes = Changes {
        entity_changed: true,
        ..Changes::default()
    };
    finish(entity, &changes, now);
    Ok(changes)
}
