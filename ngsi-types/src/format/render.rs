//! Rendering the model for a client: normalized, concise and keyValues (clause 4.5), with names
//! compacted by the request's @context and the projection and language filter applied on the
//! way, so no filtered copy of the entity is ever built.

use serde_json::{json, Map, Value};

use super::Format;
use crate::attribute::{Attribute, AttributeKind, AttributeValue, NGSI_LD_NULL};
use crate::context::ActiveContext;
use crate::datetime::format_datetime;
use crate::entity::Entity;
use crate::query::projection::{LangFilter, Projection};

/// How to render: the format, system attributes, the language filter and the projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions<'a> {
    pub format: Format,
    /// `options=sysAttrs`: include createdAt/modifiedAt (clause 4.8).
    pub sys_attrs: bool,
    pub lang: Option<&'a LangFilter>,
    pub projection: Option<&'a Projection>,
}

/// Renders an entity as a JSON object.
pub fn render_entity(
    entity: &Entity,
    ctx: &ActiveContext,
    opts: &RenderOptions<'_>,
) -> Map<String, Value> {
    let keeps = |member: &str| opts.projection.is_none_or(|p| p.keeps_member(member));
    let mut out = Map::with_capacity(entity.attributes.len() + 4);
    if keeps("id") {
        out.insert("id".into(), Value::String(entity.id.clone()));
    }
    if keeps("type") {
        out.insert("type".into(), compact_names(&entity.types, ctx));
    }
    if !entity.scope.is_empty() && keeps("scope") {
        let scope = match entity.scope.as_slice() {
            [one] => Value::String(one.clone()),
            many => json!(many),
        };
        out.insert("scope".into(), scope);
    }
    // GS CIM 009 6.3.11: expiresAt, a system temporal attribute, shows with sysAttrs.
    if opts.sys_attrs {
        insert_time(&mut out, "expiresAt", entity.expires_at.as_ref());
    }
    if opts.sys_attrs && opts.format != Format::KeyValues {
        insert_time(&mut out, "createdAt", entity.created_at.as_ref());
        insert_time(&mut out, "modifiedAt", entity.modified_at.as_ref());
        insert_time(&mut out, "deletedAt", entity.deleted_at.as_ref());
    }
    for (name, instances) in &entity.attributes {
        if opts.projection.is_some_and(|p| !p.keeps_attribute(name)) {
            continue;
        }
        let rendered = match (opts.format, instances.as_slice()) {
            (_, []) => continue,
            // 4.5.4: in keyValues, the instances of a multi-attribute are a "dataset" map of
            // datasetId (`@none` for the default instance) to simplified value.
            (Format::KeyValues, many) if many.len() > 1 || many[0].dataset_id.is_some() => {
                let dataset: Map<String, Value> = many
                    .iter()
                    .map(|a| {
                        let id = a.dataset_id.clone().unwrap_or_else(|| "@none".to_owned());
                        (id, render_attribute(a, ctx, opts))
                    })
                    .collect();
                json!({ "dataset": dataset })
            }
            (_, [one]) => render_attribute(one, ctx, opts),
            // Several instances are an array of attribute objects; in concise form each must
            // stay an object, or the array would read back as one Property's array value.
            (_, many) => Value::Array(
                many.iter()
                    .map(|a| render_instance(a, ctx, opts, true))
                    .collect(),
            ),
        };
        out.insert(ctx.compact_iri(name).into_owned(), rendered);
    }
    out
}

/// Renders one attribute instance (also used for sub-attributes and notifications).
pub fn render_attribute(attr: &Attribute, ctx: &ActiveContext, opts: &RenderOptions<'_>) -> Value {
    render_instance(attr, ctx, opts, false)
}

/// Renders one instance; `as_object` forbids the concise bare-value form.
fn render_instance(
    attr: &Attribute,
    ctx: &ActiveContext,
    opts: &RenderOptions<'_>,
    as_object: bool,
) -> Value {
    // A LanguageProperty seen through a language filter becomes a Property with `lang`
    // (clause 4.15).
    let language = match (&attr.value, opts.lang) {
        (AttributeValue::LanguageProperty(map), Some(filter)) => filter.select(map),
        _ => None,
    };
    let (kind, member, value) = match language {
        Some((_, text)) => (AttributeKind::Property, "value", text.clone()),
        None => (
            attr.kind(),
            attr.kind().value_member(),
            value_json(&attr.value, ctx, opts.format),
        ),
    };

    if opts.format == Format::KeyValues {
        // 4.5.4: the subtypes whose value could be mistaken for a Property's keep their value
        // member's name.
        return match (&attr.value, language) {
            (AttributeValue::ListRelationship { objects, .. }, None) => json!(objects),
            (AttributeValue::LanguageProperty(_), None) => json!({ "languageMap": value }),
            (AttributeValue::JsonProperty(_), None) => json!({ "json": value }),
            (AttributeValue::VocabProperty { .. }, None) => json!({ "vocab": value }),
            _ => value,
        };
    }

    let has_members = attr.dataset_id.is_some()
        || attr.instance_id.is_some()
        || attr.observed_at.is_some()
        || attr.unit_code.is_some()
        || attr.value_type.is_some()
        || !attr.sub_attributes.is_empty()
        || language.is_some()
        || opts.sys_attrs
        || matches!(
            attr.value,
            AttributeValue::Relationship {
                object_type: Some(_),
                ..
            } | AttributeValue::ListRelationship {
                object_type: Some(_),
                ..
            }
        );
    if opts.format == Format::Concise && !has_members && !as_object {
        // Concise (clause 4.5.16): a bare value where it cannot be mistaken for anything else.
        match kind {
            AttributeKind::Property if !value.is_object() && !is_array_of_objects(&value) => {
                return value
            }
            AttributeKind::GeoProperty if !attr.value.is_null() => return value,
            _ => {}
        }
    }

    let mut out = Map::new();
    if opts.format == Format::Normalized {
        out.insert("type".into(), Value::String(kind.as_str().to_owned()));
    }
    out.insert(member.into(), value);
    if let Some((tag, _)) = language {
        out.insert("lang".into(), Value::String(tag.to_owned()));
    }
    match &attr.value {
        AttributeValue::Relationship {
            object_type: Some(types),
            ..
        }
        | AttributeValue::ListRelationship {
            object_type: Some(types),
            ..
        } => {
            out.insert("objectType".into(), compact_names(types, ctx));
        }
        _ => {}
    }
    if let Some(dataset) = &attr.dataset_id {
        out.insert("datasetId".into(), Value::String(dataset.clone()));
    }
    if let Some(t) = &attr.observed_at {
        let written = match attr.observed_digits {
            Some(digits) => crate::datetime::format_datetime_digits(t, digits),
            None => format_datetime(t),
        };
        out.insert("observedAt".into(), Value::String(written));
    }
    if let Some(unit) = &attr.unit_code {
        out.insert("unitCode".into(), Value::String(unit.clone()));
    }
    if let Some(value_type) = &attr.value_type {
        out.insert(
            "valueType".into(),
            Value::String(ctx.compact_iri(value_type).into_owned()),
        );
    }
    if opts.sys_attrs {
        insert_time(&mut out, "expiresAt", attr.expires_at.as_ref());
        insert_time(&mut out, "createdAt", attr.created_at.as_ref());
        insert_time(&mut out, "modifiedAt", attr.modified_at.as_ref());
    }
    // GS CIM 009 4.5.7: a deleted instance of a temporal evolution carries its deletedAt.
    if opts.sys_attrs || attr.instance_id.is_some() {
        insert_time(&mut out, "deletedAt", attr.deleted_at.as_ref());
    }
    if let Some(instance) = &attr.instance_id {
        out.insert("instanceId".into(), Value::String(instance.clone()));
    }
    for (name, sub) in &attr.sub_attributes {
        out.insert(
            ctx.compact_iri(name).into_owned(),
            render_attribute(sub, ctx, opts),
        );
    }
    Value::Object(out)
}

/// The JSON of an attribute's value member.
fn value_json(value: &AttributeValue, ctx: &ActiveContext, format: Format) -> Value {
    match value {
        AttributeValue::Property(v) | AttributeValue::JsonProperty(v) => v.clone(),
        AttributeValue::Relationship { object, .. } => Value::String(object.clone()),
        AttributeValue::GeoProperty(g) => g.to_geojson(),
        AttributeValue::LanguageProperty(map) => json!(map),
        AttributeValue::VocabProperty { vocab, many } => {
            let compacted: Vec<Value> = vocab
                .iter()
                .map(|iri| Value::String(ctx.compact_iri(iri).into_owned()))
                .collect();
            match (many, compacted.as_slice()) {
                (false, [one]) => one.clone(),
                _ => Value::Array(compacted),
            }
        }
        AttributeValue::ListProperty(items) => Value::Array(items.clone()),
        AttributeValue::ListRelationship { objects, .. } => match format {
            Format::KeyValues => json!(objects),
            _ => Value::Array(objects.iter().map(|o| json!({ "object": o })).collect()),
        },
        AttributeValue::Null(AttributeKind::LanguageProperty) => json!({ "@none": NGSI_LD_NULL }),
        AttributeValue::Null(AttributeKind::ListProperty | AttributeKind::ListRelationship) => {
            json!([NGSI_LD_NULL])
        }
        AttributeValue::Null(_) => Value::String(NGSI_LD_NULL.to_owned()),
    }
}

fn is_array_of_objects(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|items| items.iter().any(Value::is_object))
}

/// One name as a string, several as an array, each compacted.
fn compact_names(names: &[String], ctx: &ActiveContext) -> Value {
    match names {
        [one] => Value::String(ctx.compact_iri(one).into_owned()),
        many => Value::Array(
            many.iter()
                .map(|n| Value::String(ctx.compact_iri(n).into_owned()))
                .collect(),
        ),
    }
}

fn insert_time(
    out: &mut Map<String, Value>,
    member: &str,
    t: Option<&chrono::DateTime<chrono::Utc>>,
) {
    if let Some(t) = t {
        out.insert(member.into(), Value::String(format_datetime(t)));
    }
}
