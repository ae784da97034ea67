//! The temporal evolution of entities (GS CIM 009 4.5.6-4.5.9, 4.5.19, 4.11): the temporal
//! query, the temporal representations, and aggregation over periods.
//!
//! A temporal evolution is held in the same model as the current state: an [`Entity`] whose
//! attributes list *every* recorded instance (each with its `instanceId` and timestamps)
//! instead of one per datasetId. So `q`, `geoQ` and `scopeQ` evaluate against a temporal
//! evolution with the rules they have for multi-attributes (an entity matches when one of its
//! instances does), which is what clause 5.7.4.4 asks: the filters are checked against the
//! instances that the temporal query selected.
//!
//! [`Entity`]: crate::Entity

pub mod aggregate;
pub mod duration;
mod options;
mod page;
mod query;
mod render;
#[cfg(test)]
mod tests;

pub use options::{TemporalFormat, TemporalOptions};
pub use page::{paginate, ContentRange};
pub use query::{TemporalQuery, TimeProperty, TimeRel};
pub use render::{render_temporal_entity, TemporalRender};

use crate::attribute::{Attribute, AttributeValue};
use crate::context::ActiveContext;
use crate::entity::Entity;
use crate::error::{NgsiError, Result};
use crate::format::parse_instances;

/// Parses a temporal representation (clause 4.5.7, 4.5.8) as POST /temporal/entities and
/// POST /temporal/entities/{id}/attrs carry it: each attribute is one instance or an array of
/// instances, any number of them per datasetId. `id` and `type` are required when
/// `whole` (a whole entity), optional otherwise (attributes only).
pub fn parse_temporal_entity(
    body: serde_json::Value,
    ctx: &ActiveContext,
    whole: bool,
) -> Result<Entity> {
    let serde_json::Value::Object(map) = body else {
        return Err(NgsiError::InvalidJson(
            "a temporal representation must be a JSON object".into(),
        ));
    };
    let mut entity = Entity::new(String::new(), Vec::new());
    for (key, value) in map {
        match key.as_str() {
            "id" | "@id" => {
                let id = value.as_str().ok_or_else(|| {
                    NgsiError::InvalidEntity("the entity 'id' must be a string".into())
                })?;
                crate::ident::check_uri("id", id)?;
                entity.id = id.to_owned();
            }
            "type" | "@type" => {
                entity.types = crate::format::parse::parse_types("type", &value, ctx)?
            }
            "scope" => {
                // The temporal evolution of the scope (clause 4.5.6) is kept as its latest
                // value only: scopeQ then reads the current scope.
                let fragment = crate::format::parse_attributes(
                    serde_json::json!({ "scope": value }),
                    ctx,
                    false,
                )?;
                entity.scope = fragment.scope.unwrap_or_default();
            }
            "@context" | "createdAt" | "modifiedAt" | "deletedAt" => {}
            name => {
                let (expanded, instances) = parse_instances(name, value, ctx, true)?;
                entity
                    .attributes
                    .entry(expanded)
                    .or_default()
                    .extend(instances);
            }
        }
    }
    if whole && entity.id.is_empty() {
        return Err(NgsiError::InvalidEntity(
            "the temporal entity has no 'id'".into(),
        ));
    }
    if whole && entity.types.is_empty() {
        return Err(NgsiError::InvalidEntity(format!(
            "the temporal entity '{}' has no 'type'",
            entity.id
        )));
    }
    Ok(entity)
}

/// The instance recorded when an attribute (or one datasetId of it) is deleted: its value is
/// the NGSI-LD Null and its deletedAt is `at` (clauses 4.5.7, 4.5.8).
pub fn deleted_instance(
    previous: &Attribute,
    at: chrono::DateTime<chrono::Utc>,
    instance_id: String,
) -> Attribute {
    let mut deleted = Attribute::new(AttributeValue::Null(previous.kind()));
    deleted.dataset_id = previous.dataset_id.clone();
    deleted.created_at = Some(at);
    deleted.modified_at = Some(at);
    deleted.deleted_at = Some(at);
    deleted.instance_id = Some(instance_id);
    deleted
}

/// True if the instance records a deletion.
pub fn is_deletion(attr: &Attribute) -> bool {
    attr.deleted_at.is_some()
}

/// The instances of a change worth recording: every instance of `after` that is new or whose
/// `modifiedAt` moved (a write through the entity API stamps what it touched), and a deletion
/// for every instance of `before` that is gone. `instance_id` names each new instance.
pub fn changed_instances(
    before: Option<&Entity>,
    after: Option<&Entity>,
    at: chrono::DateTime<chrono::Utc>,
    mut instance_id: impl FnMut() -> String,
) -> Vec<(String, Attribute)> {
    let mut out = Vec::new();
    if let Some(after) = after {
        for (name, instances) in &after.attributes {
            for instance in instances {
                let old = before.and_then(|b| b.instance(name, instance.dataset_id.as_deref()));
                let changed = match old {
                    None => true,
                    Some(old) => old.modified_at != instance.modified_at || old != instance,
                };
                if changed {
                    let mut recorded = instance.clone();
                    recorded.instance_id = Some(instance_id());
                    out.push((name.clone(), recorded));
                }
            }
        }
    }
    if let Some(before) = before {
        for (name, instances) in &before.attributes {
            for instance in instances {
                let kept = after
                    .and_then(|a| a.instance(name, instance.dataset_id.as_deref()))
                    .is_some();
                if !kept {
                    out.push((name.clone(), deleted_instance(instance, at, instance_id())));
                }
            }
        }
    }
    out
}
