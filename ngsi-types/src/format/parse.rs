//! Reading client payloads (normalized or concise, clause 4.5) into the model, with every
//! validation rule of clause 5.2 as a typed error naming the offending member.
//!
//! Names are expanded with the request's [`ActiveContext`] here, so everything after parsing
//! works on expanded IRIs only.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::attribute::{Attribute, AttributeKind, AttributeValue, LanguageMap, NGSI_LD_NULL};
use crate::context::ActiveContext;
use crate::datetime::parse_datetime_member;
use crate::entity::{Entity, LOCATION, OBSERVATION_SPACE, OPERATION_SPACE};
use crate::error::{NgsiError, Result};
use crate::geojson::Geometry;
use crate::ident::{check_attribute_name, check_name, check_uri};

/// Members of an attribute object that are not sub-attributes.
const VALUE_MEMBERS: [&str; 7] = [
    "value",
    "object",
    "languageMap",
    "vocab",
    "json",
    "valueList",
    "objectList",
];

/// A partial entity, as update, append and merge payloads carry it: every member optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntityFragment {
    pub id: Option<String>,
    /// Expanded types; empty when the payload has no `type`.
    pub types: Vec<String>,
    pub scope: Option<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Attributes by expanded name, each with one or more instances.
    pub attributes: IndexMap<String, Vec<Attribute>>,
}

/// Parses a complete entity (creation, upsert, replacement): `id` and `type` are required and
/// NGSI-LD Nulls are refused.
pub fn parse_entity(body: &Value, ctx: &ActiveContext) -> Result<Entity> {
    let fragment = parse_attributes(body, ctx, false)?;
    let id = fragment
        .id
        .ok_or_else(|| NgsiError::InvalidEntity("entity has no 'id'".into()))?;
    if fragment.types.is_empty() {
        return Err(NgsiError::InvalidEntity(format!(
            "entity '{id}' has no 'type'"
        )));
    }
    let mut entity = Entity::new(id, fragment.types);
    entity.scope = fragment.scope.unwrap_or_default();
    entity.expires_at = fragment.expires_at;
    entity.attributes = fragment.attributes;
    Ok(entity)
}

/// Parses a partial entity (update, append, merge). With `nulls`, NGSI-LD Nulls (and JSON
/// `null`) are accepted as "remove this member" (clause 5.5.8, 5.5.12).
pub fn parse_attributes(body: &Value, ctx: &ActiveContext, nulls: bool) -> Result<EntityFragment> {
    let map = body
        .as_object()
        .ok_or_else(|| NgsiError::InvalidJson("the payload must be a JSON object".into()))?;
    let mut fragment = EntityFragment::default();
    for (key, value) in map {
        match key.as_str() {
            "id" | "@id" => fragment.id = Some(parse_id(value)?),
            "type" | "@type" => fragment.types = parse_types("type", value, ctx)?,
            "scope" => fragment.scope = Some(parse_scope(value)?),
            "expiresAt" => {
                let s = value.as_str().ok_or_else(|| NgsiError::InvalidDateTime {
                    member: "expiresAt".into(),
                    value: value.to_string(),
                })?;
                fragment.expires_at = Some(parse_datetime_member("expiresAt", s)?);
            }
            // The @context was resolved by the caller; system members are never taken from
            // clients (clause 4.8: they are set by the broker).
            "@context" | "createdAt" | "modifiedAt" | "deletedAt" => {}
            name => {
                let (expanded, instances) = parse_attribute(name, value, ctx, nulls)?;
                if fragment.attributes.insert(expanded, instances).is_some() {
                    return Err(NgsiError::attribute(
                        name,
                        "appears twice (two names expand to the same IRI)",
                    ));
                }
            }
        }
    }
    Ok(fragment)
}

/// Parses one attribute given by its (compact) name, as a body member or a PUT/PATCH on
/// `/attrs/{attrId}` carries it. Returns the expanded name and the instances.
pub fn parse_attribute(
    name: &str,
    value: &Value,
    ctx: &ActiveContext,
    nulls: bool,
) -> Result<(String, Vec<Attribute>)> {
    check_attribute_name(name)?;
    let expanded = ctx.expand_term(name).into_owned();
    let instances = match value {
        Value::Array(items) if !items.is_empty() && items.iter().all(is_attribute_object) => items
            .iter()
            .map(|item| parse_one(name, item, ctx, nulls))
            .collect::<Result<Vec<_>>>()?,
        _ => vec![parse_one(name, value, ctx, nulls)?],
    };
    for (i, a) in instances.iter().enumerate() {
        if instances[..i].iter().any(|b| b.dataset_id == a.dataset_id) {
            let which = a.dataset_id.as_deref().unwrap_or("(default)");
            return Err(NgsiError::attribute(
                name,
                format!("datasetId {which} appears more than once"),
            ));
        }
    }
    let geo_only = [LOCATION, OBSERVATION_SPACE, OPERATION_SPACE];
    if geo_only.contains(&expanded.as_str())
        && instances.iter().any(|a| {
            !matches!(
                a.value,
                AttributeValue::GeoProperty(_) | AttributeValue::Null(_)
            )
        })
    {
        return Err(NgsiError::attribute(name, "must be a GeoProperty"));
    }
    Ok((expanded, instances))
}

/// True if an array item is an attribute object (so the array lists datasetId instances rather
/// than being a concise Property's array value).
fn is_attribute_object(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| parse_kind(t).is_some())
            || VALUE_MEMBERS.iter().any(|k| m.contains_key(*k))
    })
}

fn parse_kind(t: &str) -> Option<AttributeKind> {
    AttributeKind::parse(t)
}

fn parse_one(name: &str, value: &Value, ctx: &ActiveContext, nulls: bool) -> Result<Attribute> {
    match value {
        Value::Null if nulls => Ok(Attribute::new(AttributeValue::Null(
            AttributeKind::Property,
        ))),
        Value::Null => Err(NgsiError::attribute(
            name,
            "null is not a valid attribute value",
        )),
        Value::String(s) if s == NGSI_LD_NULL => {
            null_or_error(name, AttributeKind::Property, nulls)
        }
        Value::Object(map) => parse_object(name, map, ctx, nulls),
        // Concise form (clause 4.5.16): a bare value is a Property holding it.
        other => Ok(Attribute::property(
            check_property_value(name, other)?.clone(),
        )),
    }
}

fn null_or_error(name: &str, kind: AttributeKind, nulls: bool) -> Result<Attribute> {
    if nulls {
        Ok(Attribute::new(AttributeValue::Null(kind)))
    } else {
        // GS CIM 009 5.2.1: an NGSI-LD Null outside merge/partial update is BadRequestData.
        Err(NgsiError::attribute(
            name,
            "the NGSI-LD Null is only allowed in merge and partial update operations",
        ))
    }
}

fn parse_object(
    name: &str,
    map: &Map<String, Value>,
    ctx: &ActiveContext,
    nulls: bool,
) -> Result<Attribute> {
    let kind = match map.get("type") {
        Some(Value::String(t)) => match parse_kind(t) {
            Some(kind) => kind,
            // Concise GeoProperty: the GeoJSON geometry itself.
            None if Geometry::is_geojson_like(&Value::Object(map.clone())) => {
                let geometry = Geometry::from_geojson(name, &Value::Object(map.clone()))?;
                return Ok(Attribute::new(AttributeValue::GeoProperty(geometry)));
            }
            None => {
                return Err(NgsiError::attribute(
                    name,
                    format!("unknown attribute type '{t}'"),
                ))
            }
        },
        Some(other) => {
            return Err(NgsiError::attribute(
                name,
                format!("'type' must be a string, not {other}"),
            ))
        }
        None => match VALUE_MEMBERS.iter().find(|k| map.contains_key(**k)) {
            Some(&"object") => AttributeKind::Relationship,
            Some(&"languageMap") => AttributeKind::LanguageProperty,
            Some(&"vocab") => AttributeKind::VocabProperty,
            Some(&"json") => AttributeKind::JsonProperty,
            Some(&"valueList") => AttributeKind::ListProperty,
            Some(&"objectList") => AttributeKind::ListRelationship,
            // Concise GeoProperty with members: its value is recognisably GeoJSON.
            Some(_) if map.get("value").is_some_and(Geometry::is_geojson_like) => {
                AttributeKind::GeoProperty
            }
            Some(_) => AttributeKind::Property,
            // A concise Property whose value is a JSON object (a compound value, or a typed
            // JSON-LD literal with @type/@value).
            None => {
                let value = Value::Object(map.clone());
                return Ok(Attribute::property(value));
            }
        },
    };

    let value_member = kind.value_member();
    for other in VALUE_MEMBERS {
        if other != value_member && map.contains_key(other) {
            return Err(NgsiError::attribute(
                name,
                format!("a {} has no '{other}' member", kind.as_str()),
            ));
        }
    }
    let raw = map.get(value_member).ok_or_else(|| {
        NgsiError::attribute(
            name,
            format!("a {} must have a '{value_member}' member", kind.as_str()),
        )
    })?;
    let mut attr = Attribute::new(parse_value(name, kind, raw, map, ctx, nulls)?);

    for (key, member) in map {
        match key.as_str() {
            "type" | "objectType" | "createdAt" | "modifiedAt" | "deletedAt" | "@context" => {}
            k if VALUE_MEMBERS.contains(&k) => {}
            "datasetId" => {
                let s = member.as_str().unwrap_or_default();
                check_uri(&format!("{name}.datasetId"), s)?;
                attr.dataset_id = Some(s.to_owned());
            }
            "observedAt" => {
                let member_name = format!("{name}.observedAt");
                let s = member.as_str().ok_or_else(|| NgsiError::InvalidDateTime {
                    member: member_name.clone(),
                    value: member.to_string(),
                })?;
                attr.observed_at = Some(parse_datetime_member(&member_name, s)?);
            }
            "unitCode" => {
                let s = member.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                    NgsiError::attribute(name, "'unitCode' must be a non-empty string")
                })?;
                attr.unit_code = Some(s.to_owned());
            }
            sub => {
                let (expanded, mut instances) =
                    parse_attribute(sub, member, ctx, nulls).map_err(|e| nest_error(name, e))?;
                if instances.len() != 1 {
                    return Err(NgsiError::attribute(
                        format!("{name}.{sub}"),
                        "a sub-attribute has exactly one instance",
                    ));
                }
                attr.sub_attributes.insert(expanded, instances.remove(0));
            }
        }
    }
    Ok(attr)
}

/// Prefixes an attribute error with the enclosing attribute's name, so the message points at
/// `speed.accuracy` rather than `accuracy`.
fn nest_error(parent: &str, err: NgsiError) -> NgsiError {
    match err {
        NgsiError::InvalidAttribute { attribute, reason } => {
            NgsiError::attribute(format!("{parent}.{attribute}"), reason)
        }
        other => other,
    }
}

fn parse_value(
    name: &str,
    kind: AttributeKind,
    raw: &Value,
    map: &Map<String, Value>,
    ctx: &ActiveContext,
    nulls: bool,
) -> Result<AttributeValue> {
    if is_ngsi_null(kind, raw) {
        return null_or_error(name, kind, nulls).map(|a| a.value);
    }
    let object_type = || parse_object_type(name, map, ctx);
    Ok(match kind {
        AttributeKind::Property => {
            AttributeValue::Property(check_property_value(name, raw)?.clone())
        }
        AttributeKind::Relationship => {
            let object = raw
                .as_str()
                .ok_or_else(|| NgsiError::attribute(name, "'object' must be a URI string"))?;
            check_uri(&format!("{name}.object"), object)?;
            AttributeValue::Relationship {
                object: object.to_owned(),
                object_type: object_type()?,
            }
        }
        AttributeKind::GeoProperty => {
            AttributeValue::GeoProperty(Geometry::from_geojson(name, raw)?)
        }
        AttributeKind::LanguageProperty => {
            AttributeValue::LanguageProperty(parse_language_map(name, raw)?)
        }
        AttributeKind::VocabProperty => {
            let (items, many) = match raw {
                Value::String(s) => (vec![s.as_str()], false),
                Value::Array(items) if !items.is_empty() => (
                    items
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            NgsiError::attribute(name, "'vocab' items must be strings")
                        })?,
                    true,
                ),
                _ => {
                    return Err(NgsiError::attribute(
                        name,
                        "'vocab' must be a string or a non-empty array of strings",
                    ))
                }
            };
            let mut vocab = Vec::with_capacity(items.len());
            for item in items {
                check_name(&format!("{name}.vocab"), item)?;
                vocab.push(ctx.expand_term(item).into_owned());
            }
            AttributeValue::VocabProperty { vocab, many }
        }
        AttributeKind::JsonProperty => AttributeValue::JsonProperty(raw.clone()),
        AttributeKind::ListProperty => {
            let items = raw
                .as_array()
                .ok_or_else(|| NgsiError::attribute(name, "'valueList' must be an array"))?;
            for item in items {
                check_property_value(name, item)?;
            }
            AttributeValue::ListProperty(items.clone())
        }
        AttributeKind::ListRelationship => {
            let items = raw
                .as_array()
                .ok_or_else(|| NgsiError::attribute(name, "'objectList' must be an array"))?;
            let mut objects = Vec::with_capacity(items.len());
            for item in items {
                // Normalized items are {"object": uri}; concise ones may be bare URIs.
                let uri = match item {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(m) => m.get("object").and_then(Value::as_str),
                    _ => None,
                }
                .ok_or_else(|| {
                    NgsiError::attribute(name, "'objectList' items must be {\"object\": URI}")
                })?;
                check_uri(&format!("{name}.objectList"), uri)?;
                objects.push(uri.to_owned());
            }
            AttributeValue::ListRelationship {
                objects,
                object_type: object_type()?,
            }
        }
    })
}

fn is_ngsi_null(kind: AttributeKind, raw: &Value) -> bool {
    match (kind, raw) {
        (_, Value::String(s)) => s == NGSI_LD_NULL,
        (AttributeKind::LanguageProperty, Value::Object(m)) => {
            m.len() == 1 && m.get("@none").and_then(Value::as_str) == Some(NGSI_LD_NULL)
        }
        _ => false,
    }
}

fn check_property_value<'v>(name: &str, v: &'v Value) -> Result<&'v Value> {
    match v {
        Value::Null => Err(NgsiError::attribute(
            name,
            "null is not a valid Property value",
        )),
        Value::String(s) if s == NGSI_LD_NULL => Err(NgsiError::attribute(
            name,
            "the NGSI-LD Null is only allowed in merge and partial update operations",
        )),
        other => Ok(other),
    }
}

fn parse_object_type(
    name: &str,
    map: &Map<String, Value>,
    ctx: &ActiveContext,
) -> Result<Option<Vec<String>>> {
    match map.get("objectType") {
        None => Ok(None),
        Some(v) => parse_types(&format!("{name}.objectType"), v, ctx).map(Some),
    }
}

fn parse_language_map(name: &str, raw: &Value) -> Result<LanguageMap> {
    let map = raw
        .as_object()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| NgsiError::attribute(name, "'languageMap' must be a non-empty object"))?;
    let mut out = LanguageMap::with_capacity(map.len());
    for (tag, text) in map {
        if tag != "@none" && !is_language_tag(tag) {
            return Err(NgsiError::attribute(
                name,
                format!("'{tag}' is not a language tag (BCP 47)"),
            ));
        }
        let ok = match text {
            Value::String(_) => true,
            Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_string),
            _ => false,
        };
        if !ok {
            return Err(NgsiError::attribute(
                name,
                format!("languageMap['{tag}'] must be a string or an array of strings"),
            ));
        }
        out.insert(tag.clone(), text.clone());
    }
    Ok(out)
}

/// A BCP 47 language tag, checked for shape: alphanumeric subtags of 1 to 8 characters joined
/// by hyphens, the first alphabetic.
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let first_ok = subtags
        .next()
        .is_some_and(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphabetic()));
    first_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn parse_id(value: &Value) -> Result<String> {
    let id = value.as_str().ok_or_else(|| NgsiError::InvalidUri {
        member: "id".into(),
        value: value.to_string(),
    })?;
    check_uri("id", id)?;
    Ok(id.to_owned())
}

/// Parses `type` (a name or a non-empty array of names) and expands each name.
pub(crate) fn parse_types(member: &str, value: &Value, ctx: &ActiveContext) -> Result<Vec<String>> {
    let names: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| NgsiError::InvalidEntity(format!("'{member}' items must be strings")))?,
        _ => {
            return Err(NgsiError::InvalidEntity(format!(
                "'{member}' must be a name or a non-empty array of names"
            )))
        }
    };
    let mut types: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        check_name(member, name)?;
        let expanded = ctx.expand_term(name).into_owned();
        if !types.contains(&expanded) {
            types.push(expanded);
        }
    }
    Ok(types)
}

/// Parses `scope` (clause 4.18): one or more paths like `/Madrid/Gardens`.
fn parse_scope(value: &Value) -> Result<Vec<String>> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut scopes = Vec::with_capacity(items.len());
    for item in items {
        let s = item.as_str().unwrap_or_default();
        let valid = s.starts_with('/')
            && s.len() > 1
            && s[1..].split('/').all(|level| {
                !level.is_empty()
                    && !level.chars().any(|c| {
                        c.is_whitespace()
                            || c.is_control()
                            || matches!(c, '#' | '+' | ';' | '|' | '(' | ')' | ',')
                    })
            });
        if !valid {
            return Err(NgsiError::InvalidEntity(format!(
                "scope: {item} is not a scope path like \"/Madrid/Gardens\""
            )));
        }
        scopes.push(s.to_owned());
    }
    Ok(scopes)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
