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
use crate::update::FragmentForm;

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
    /// `expiresAt`: `Some(None)` is the NGSI-LD Null of a merge or update, which makes the
    /// entity permanent again (clause 5.5.4, 4.22).
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// Attributes by expanded name, each with one or more instances.
    pub attributes: IndexMap<String, Vec<Attribute>>,
}

/// Parses a complete entity (creation, upsert, replacement): `id` and `type` are required and
/// NGSI-LD Nulls are refused. Takes the JSON by value: values move into the model uncopied.
pub fn parse_entity(body: Value, ctx: &ActiveContext) -> Result<Entity> {
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
    entity.expires_at = fragment.expires_at.flatten();
    entity.attributes = fragment.attributes;
    Ok(entity)
}

/// Parses a partial entity (update, append, merge). With `nulls`, NGSI-LD Nulls (and JSON
/// `null`) are accepted as "remove this member" (clause 5.5.8, 5.5.12).
pub fn parse_attributes(body: Value, ctx: &ActiveContext, nulls: bool) -> Result<EntityFragment> {
    let Value::Object(map) = body else {
        return Err(NgsiError::InvalidJson(
            "the payload must be a JSON object".into(),
        ));
    };
    let mut fragment = EntityFragment::default();
    for (key, value) in map {
        // GS CIM 009 5.5.4: the NGSI-LD Null as a first-level member value only in the
        // fragments of partial updates and merges.
        if !nulls && value.as_str() == Some(NGSI_LD_NULL) {
            return Err(NgsiError::InvalidParameter {
                param: key,
                reason: "the NGSI-LD Null is a value only in update and merge fragments".into(),
            });
        }
        match key.as_str() {
            "id" | "@id" => fragment.id = Some(parse_id(&value)?),
            "type" | "@type" => fragment.types = parse_types("type", &value, ctx)?,
            // GS CIM 009 5.5.12: in a merge, the NGSI-LD Null removes the scope.
            "scope" if nulls && value.as_str() == Some(NGSI_LD_NULL) => {
                fragment.scope = Some(Vec::new())
            }
            "scope" => fragment.scope = Some(parse_scope(&value)?),
            "expiresAt" if nulls && value.as_str() == Some(NGSI_LD_NULL) => {
                fragment.expires_at = Some(None)
            }
            "expiresAt" => {
                let s = value.as_str().ok_or_else(|| NgsiError::InvalidDateTime {
                    member: "expiresAt".into(),
                    value: value.to_string(),
                })?;
                fragment.expires_at = Some(Some(parse_datetime_member("expiresAt", s)?));
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

/// Parses the fragment of a Partial Attribute Update (clause 5.6.4, 5.5.8). A fragment that
/// names no type and no value member (`{"providedBy": {...}}`, `{"observedAt": ...}`) updates
/// the members of the attribute and keeps its value: it is returned with `true`, its value a
/// placeholder that the update does not apply. Returns the expanded name and the form.
pub fn parse_partial_update(
    name: &str,
    body: Value,
    ctx: &ActiveContext,
) -> Result<(String, Attribute, FragmentForm)> {
    let form = match &body {
        Value::Object(map) if map.contains_key("type") => FragmentForm::Typed,
        Value::Object(map) if kind_of(name, map)?.is_none() => FragmentForm::Members,
        _ => FragmentForm::Concise,
    };
    let keeps_value = form == FragmentForm::Members;
    let body = match body {
        Value::Object(mut map) if keeps_value => {
            map.insert("type".into(), Value::String("Property".into()));
            map.insert("value".into(), Value::Bool(true));
            Value::Object(map)
        }
        other => other,
    };
    let (expanded, mut instances) = parse_attribute(name, body, ctx, true)?;
    if instances.len() != 1 {
        return Err(NgsiError::attribute(
            name,
            "exactly one instance expected here",
        ));
    }
    Ok((expanded, instances.remove(0), form))
}

/// Parses one attribute given by its (compact) name, as a body member or a PUT/PATCH on
/// `/attrs/{attrId}` carries it. Returns the expanded name and the instances.
pub fn parse_attribute(
    name: &str,
    value: Value,
    ctx: &ActiveContext,
    nulls: bool,
) -> Result<(String, Vec<Attribute>)> {
    let (expanded, instances) = parse_instances(name, value, ctx, nulls)?;
    for (i, a) in instances.iter().enumerate() {
        if instances[..i].iter().any(|b| b.dataset_id == a.dataset_id) {
            let which = a.dataset_id.as_deref().unwrap_or("(default)");
            return Err(NgsiError::attribute(
                name,
                format!("datasetId {which} appears more than once"),
            ));
        }
    }
    Ok((expanded, instances))
}

/// Parses one attribute's instances, as [`parse_attribute`] does, but with any number of
/// instances per datasetId: the points of a temporal evolution (clause 4.5.7).
pub fn parse_instances(
    name: &str,
    value: Value,
    ctx: &ActiveContext,
    nulls: bool,
) -> Result<(String, Vec<Attribute>)> {
    check_attribute_name(name)?;
    let expanded = ctx.expand_term(name).into_owned();
    let instances = match value {
        Value::Array(items) if !items.is_empty() && items.iter().all(is_attribute_object) => items
            .into_iter()
            .map(|item| parse_one(name, item, ctx, nulls))
            .collect::<Result<Vec<_>>>()?,
        other => vec![parse_one(name, other, ctx, nulls)?],
    };
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
            .is_some_and(|t| AttributeKind::parse(t).is_some())
            || VALUE_MEMBERS.iter().any(|k| m.contains_key(*k))
    })
}

fn parse_one(name: &str, value: Value, ctx: &ActiveContext, nulls: bool) -> Result<Attribute> {
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
        // GS CIM 5.5.8: a datasetId cannot be deleted by setting it to the NGSI-LD Null, also
        // in a fragment that reads as a concise Property's compound value.
        Value::Object(map)
            if map.get("datasetId").and_then(Value::as_str) == Some(NGSI_LD_NULL) =>
        {
            Err(NgsiError::attribute(
                name,
                "a datasetId cannot be set to the NGSI-LD Null",
            ))
        }
        Value::Object(map) => parse_object(name, map, ctx, nulls),
        // Concise form (clause 4.5.16): a bare value is a Property holding it.
        other => Ok(Attribute::property(check_property_value(name, other)?)),
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

/// Which of [`VALUE_MEMBERS`] a member name is (its bit), if any.
fn value_member_bit(key: &str) -> u8 {
    match key {
        "value" => 1,
        "object" => 1 << 1,
        "languageMap" => 1 << 2,
        "vocab" => 1 << 3,
        "json" => 1 << 4,
        "valueList" => 1 << 5,
        "objectList" => 1 << 6,
        _ => 0,
    }
}

/// The kind of an attribute object: its `type`, or inferred from its members (concise form).
/// `None` means the object is not an attribute object but a concise Property's JSON value.
/// One pass over the members, no lookups: this runs for every attribute of every write.
fn kind_of(name: &str, map: &Map<String, Value>) -> Result<Option<AttributeKind>> {
    let mut type_member = None;
    let mut present = 0u8;
    let mut has_coordinates = false;
    let mut value_is_geojson = false;
    for (key, member) in map {
        match key.as_str() {
            "type" => type_member = Some(member),
            "coordinates" => has_coordinates = true,
            "value" => {
                present |= 1;
                value_is_geojson = Geometry::is_geojson_like(member);
            }
            other => present |= value_member_bit(other),
        }
    }
    match type_member {
        Some(Value::String(t)) => match AttributeKind::parse(t) {
            Some(kind) => Ok(Some(kind)),
            // Concise GeoProperty: the GeoJSON geometry itself.
            None if GEOMETRY_TYPES.contains(&t.as_str()) && has_coordinates => {
                Ok(Some(AttributeKind::GeoProperty))
            }
            None => Err(NgsiError::attribute(
                name,
                format!("unknown attribute type '{t}'"),
            )),
        },
        Some(other) => Err(NgsiError::attribute(
            name,
            format!("'type' must be a string, not {other}"),
        )),
        // The first value member present decides, in the order of VALUE_MEMBERS.
        None => Ok(match present.trailing_zeros() {
            0 if value_is_geojson => Some(AttributeKind::GeoProperty),
            0 => Some(AttributeKind::Property),
            1 => Some(AttributeKind::Relationship),
            2 => Some(AttributeKind::LanguageProperty),
            3 => Some(AttributeKind::VocabProperty),
            4 => Some(AttributeKind::JsonProperty),
            5 => Some(AttributeKind::ListProperty),
            6 => Some(AttributeKind::ListRelationship),
            // A concise Property whose value is a JSON object (a compound value, or a typed
            // JSON-LD literal with @type/@value).
            _ => None,
        }),
    }
}

/// GeoJSON geometry types (RFC 7946 3.1), which mark a concise GeoProperty.
const GEOMETRY_TYPES: [&str; 6] = [
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
];

fn parse_object(
    name: &str,
    map: Map<String, Value>,
    ctx: &ActiveContext,
    nulls: bool,
) -> Result<Attribute> {
    let Some(kind) = kind_of(name, &map)? else {
        return Ok(Attribute::property(Value::Object(map)));
    };
    let value_member = kind.value_member();
    let is_geometry_itself = kind == AttributeKind::GeoProperty
        && map.get("type").and_then(Value::as_str) != Some("GeoProperty")
        && !map.contains_key("value");
    if is_geometry_itself {
        let geometry = Geometry::from_geojson(name, &Value::Object(map))?;
        return Ok(Attribute::new(AttributeValue::GeoProperty(geometry)));
    }

    let mut raw = None;
    let mut raw_object_type = None;
    let mut dataset_id = None;
    let mut observed_at = None;
    let mut observed_digits = None;
    let mut unit_code = None;
    let mut expires_at = None;
    let mut value_type = None;
    let mut sub_attributes = indexmap::IndexMap::new();
    for (key, member) in map {
        match key.as_str() {
            k if k == value_member => raw = Some(member),
            // instanceId is the broker's (clause 4.5.7), as the timestamps are (4.8).
            "type" | "createdAt" | "modifiedAt" | "deletedAt" | "instanceId" => {}
            // GS CIM 009 4.5.1 and 5.5.7: the @context is given at the top level only.
            "@context" => {
                return Err(NgsiError::attribute(
                    name,
                    "an attribute cannot carry an embedded @context",
                ))
            }
            // Clauses 4.5.2-4.5.24: the previous* members exist only in notifications.
            other if crate::ident::PREVIOUS_VALUE_MEMBERS.contains(&other) => {
                return Err(NgsiError::attribute(
                    name,
                    format!("'{other}' is output-only (notifications with showChanges)"),
                ))
            }
            "objectType" => raw_object_type = Some(member),
            // GS CIM 009 4.5.5.1: "@none" names the default instance, like no datasetId.
            "datasetId" if member.as_str() == Some("@none") => dataset_id = None,
            // GS CIM 5.5.8: a datasetId cannot be deleted by setting it to the NGSI-LD Null.
            "datasetId" if member.as_str() == Some(NGSI_LD_NULL) => {
                return Err(NgsiError::attribute(
                    name,
                    "a datasetId cannot be set to the NGSI-LD Null",
                ))
            }
            "datasetId" => {
                let s = member.as_str().unwrap_or_default();
                check_uri(&format!("{name}.datasetId"), s)?;
                dataset_id = Some(s.to_owned());
            }
            // Clauses 4.5.3.2, 4.5.18.2, 4.5.20.2, 4.5.24.2: only Properties have units.
            "unitCode"
                if !matches!(
                    kind,
                    AttributeKind::Property
                        | AttributeKind::GeoProperty
                        | AttributeKind::ListProperty
                ) =>
            {
                return Err(NgsiError::attribute(
                    name,
                    format!("a {} has no unitCode", kind.as_str()),
                ))
            }
            "valueType"
                if matches!(
                    kind,
                    AttributeKind::Relationship | AttributeKind::ListRelationship
                ) =>
            {
                return Err(NgsiError::attribute(
                    name,
                    format!("a {} has no valueType", kind.as_str()),
                ))
            }
            "valueType" => {
                let written = member.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                    NgsiError::attribute(name, "'valueType' must be a non-empty string")
                })?;
                // Table 5.2.32-1: a LanguageProperty's values are language-tagged strings.
                if kind == AttributeKind::LanguageProperty && written != "langString" {
                    return Err(NgsiError::attribute(
                        name,
                        format!(
                            "the valueType of a LanguageProperty is langString, not '{written}'"
                        ),
                    ));
                }
                value_type = Some(ctx.expand_term(written).into_owned());
            }
            // GS CIM 009 4.22: a transient attribute instance.
            "expiresAt" => {
                let member_name = format!("{name}.expiresAt");
                let s = member.as_str().ok_or_else(|| NgsiError::InvalidDateTime {
                    member: member_name.clone(),
                    value: member.to_string(),
                })?;
                expires_at = Some(parse_datetime_member(&member_name, s)?);
            }
            "observedAt" => {
                let member_name = format!("{name}.observedAt");
                let s = member.as_str().ok_or_else(|| NgsiError::InvalidDateTime {
                    member: member_name.clone(),
                    value: member.to_string(),
                })?;
                observed_at = Some(parse_datetime_member(&member_name, s)?);
                observed_digits = Some(crate::datetime::fraction_digits(s));
            }
            "unitCode" => match member {
                Value::String(s) if !s.is_empty() => unit_code = Some(s),
                _ => {
                    return Err(NgsiError::attribute(
                        name,
                        "'unitCode' must be a non-empty string",
                    ))
                }
            },
            other if value_member_bit(other) != 0 => {
                return Err(NgsiError::attribute(
                    name,
                    format!("a {} has no '{other}' member", kind.as_str()),
                ));
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
                sub_attributes.insert(expanded, instances.remove(0));
            }
        }
    }
    let object_type = match raw_object_type {
        Some(v)
            if matches!(
                kind,
                AttributeKind::Relationship | AttributeKind::ListRelationship
            ) =>
        {
            Some(parse_types(&format!("{name}.objectType"), &v, ctx)?)
        }
        Some(_) => {
            return Err(NgsiError::attribute(
                name,
                format!("a {} has no 'objectType' member", kind.as_str()),
            ))
        }
        None => None,
    };
    let raw = raw.ok_or_else(|| {
        NgsiError::attribute(
            name,
            format!("a {} must have a '{value_member}' member", kind.as_str()),
        )
    })?;
    let mut attr = Attribute::new(parse_value(name, kind, raw, object_type, ctx, nulls)?);
    attr.dataset_id = dataset_id;
    attr.observed_at = observed_at;
    attr.observed_digits = observed_digits;
    attr.unit_code = unit_code;
    attr.expires_at = expires_at;
    attr.value_type = value_type;
    attr.sub_attributes = sub_attributes;
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

/// True if a JSON object inside `v` has the NGSI-LD Null as a member value.
fn holds_null_member(v: &Value) -> bool {
    match v {
        Value::Object(map) => map
            .values()
            .any(|m| m.as_str() == Some(NGSI_LD_NULL) || holds_null_member(m)),
        Value::Array(items) => items.iter().any(holds_null_member),
        _ => false,
    }
}

fn parse_value(
    name: &str,
    kind: AttributeKind,
    raw: Value,
    object_type: Option<Vec<String>>,
    ctx: &ActiveContext,
    nulls: bool,
) -> Result<AttributeValue> {
    if is_ngsi_null(kind, &raw) {
        return null_or_error(name, kind, nulls).map(|a| a.value);
    }
    Ok(match kind {
        AttributeKind::Property => {
            // GS CIM 009 5.5.4: the NGSI-LD Null inside a compound value only in merges.
            if !nulls && holds_null_member(&raw) {
                return Err(NgsiError::attribute(
                    name,
                    "the NGSI-LD Null is a member value of a compound value only in merges",
                ));
            }
            AttributeValue::Property(check_property_value(name, raw)?)
        }
        AttributeKind::Relationship => {
            let Value::String(object) = raw else {
                return Err(NgsiError::attribute(name, "'object' must be a URI string"));
            };
            check_uri(&format!("{name}.object"), &object)?;
            AttributeValue::Relationship {
                object,
                object_type,
            }
        }
        AttributeKind::GeoProperty => {
            let geometry = Geometry::from_geojson(name, &raw)?;
            // GS CIM 009 4.7.1: every GeoJSON geometry but a GeometryCollection.
            if geometry.geometry_type() == crate::geojson::GeometryType::GeometryCollection {
                return Err(NgsiError::attribute(
                    name,
                    "a GeoProperty value cannot be a GeometryCollection",
                ));
            }
            AttributeValue::GeoProperty(geometry)
        }
        AttributeKind::LanguageProperty => {
            AttributeValue::LanguageProperty(parse_language_map(name, raw)?)
        }
        AttributeKind::VocabProperty => {
            let (items, many) = match &raw {
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
        // GS CIM 009 4.5.24.2: `json` is a raw JSON object, or an array of objects.
        AttributeKind::JsonProperty => match &raw {
            Value::Object(_) => AttributeValue::JsonProperty(raw),
            Value::Array(items) if items.iter().all(Value::is_object) => {
                AttributeValue::JsonProperty(raw)
            }
            _ => {
                return Err(NgsiError::attribute(
                    name,
                    "'json' must be a JSON object or an array of objects",
                ))
            }
        },
        AttributeKind::ListProperty => {
            let Value::Array(items) = raw else {
                return Err(NgsiError::attribute(name, "'valueList' must be an array"));
            };
            let items = items
                .into_iter()
                .map(|item| check_property_value(name, item))
                .collect::<Result<Vec<_>>>()?;
            AttributeValue::ListProperty(items)
        }
        AttributeKind::ListRelationship => {
            let Value::Array(items) = raw else {
                return Err(NgsiError::attribute(name, "'objectList' must be an array"));
            };
            let mut objects = Vec::with_capacity(items.len());
            for item in items {
                // Normalized items are {"object": uri}; concise ones may be bare URIs.
                let uri = match item {
                    Value::String(s) => Some(s),
                    Value::Object(mut m) => match m.shift_remove("object") {
                        Some(Value::String(s)) => Some(s),
                        _ => None,
                    },
                    _ => None,
                }
                .ok_or_else(|| {
                    NgsiError::attribute(name, "'objectList' items must be {\"object\": URI}")
                })?;
                check_uri(&format!("{name}.objectList"), &uri)?;
                objects.push(uri);
            }
            AttributeValue::ListRelationship {
                objects,
                object_type,
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

fn check_property_value(name: &str, v: Value) -> Result<Value> {
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

fn parse_language_map(name: &str, raw: Value) -> Result<LanguageMap> {
    let map = match raw {
        Value::Object(m) if !m.is_empty() => m,
        _ => {
            return Err(NgsiError::attribute(
                name,
                "'languageMap' must be a non-empty object",
            ))
        }
    };
    let mut out = LanguageMap::with_capacity(map.len());
    for (tag, text) in map {
        if tag != "@none" && !is_language_tag(&tag) {
            return Err(NgsiError::attribute(
                name,
                format!("'{tag}' is not a language tag (BCP 47)"),
            ));
        }
        let ok = match &text {
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
        out.insert(tag, text);
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
pub(crate) fn parse_scope(value: &Value) -> Result<Vec<String>> {
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
