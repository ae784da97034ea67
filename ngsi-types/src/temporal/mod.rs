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

/// The name under which the scope's own temporal evolution is kept (clause 4.18): its
/// instances are Properties whose value is the scope (a string or an array of them), each
/// valid from its observedAt (else createdAt) until the next one.
pub const SCOPE_IRI: &str = "https://uri.etsi.org/ngsi-ld/scope";
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
                // Clause 4.18: the scope has a temporal evolution of its own, instances whose
                // value is a scope; the latest is the entity's scope.
                let instances = scope_instances(value)?;
                if let Some(latest) = instances
                    .iter()
                    .max_by_key(|a| a.observed_at.or(a.created_at))
                {
                    entity.scope = scope_of(latest);
                }
                entity
                    .attributes
                    .entry(SCOPE_IRI.to_owned())
                    .or_default()
                    .extend(instances);
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

/// The scope member of a temporal representation: a scope (a string or an array of them), or
/// Property instances whose values are scopes.
fn scope_instances(value: serde_json::Value) -> Result<Vec<Attribute>> {
    let items = match value {
        serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_object) => items,
        other => vec![serde_json::json!({"type": "Property", "value": other})],
    };
    items
        .into_iter()
        .map(|item| {
            let instance = crate::format::parse_instances(
                "scope_instance",
                item,
                &ActiveContext::core(),
                true,
            )?
            .1
            .remove(0);
            match &instance.value {
                AttributeValue::Null(_) => {}
                AttributeValue::Property(v) => {
                    crate::format::parse_attributes(
                        serde_json::json!({ "scope": v }),
                        &ActiveContext::core(),
                        false,
                    )?;
                }
                _ => {
                    return Err(NgsiError::attribute(
                        "scope",
                        "a scope instance is a Property whose value is a scope",
                    ))
                }
            }
            Ok(instance)
        })
        .collect()
}

/// The scopes a scope instance holds.
pub fn scope_of(instance: &Attribute) -> Vec<String> {
    match &instance.value {
        AttributeValue::Property(serde_json::Value::String(s)) => vec![s.clone()],
        AttributeValue::Property(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
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
    // Clause 4.18: a change of the scope is an instance of the scope's evolution.
    let scope = |e: Option<&Entity>| e.map(|e| e.scope.clone()).unwrap_or_default();
    if scope(before) != scope(after) && (after.is_some() || !scope(before).is_empty()) {
        // As the entity shows it: one scope as a string, several (or none) as an array.
        let value = match scope(after).as_slice() {
            [one] => serde_json::json!(one),
            many => serde_json::json!(many),
        };
        let mut recorded = Attribute::property(value);
        let stamp = after.and_then(|a| a.modified_at).unwrap_or(at);
        recorded.stamp(stamp, Some(stamp));
        // Clause 4.5.6: a scope change from the entity API is observed when it is made.
        recorded.observed_at = Some(stamp);
        if after.is_none() {
            recorded.deleted_at = Some(at);
        }
        recorded.instance_id = Some(instance_id());
        out.push((SCOPE_IRI.to_owned(), recorded));
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
