//! The MongoDB document of an entity: the entity itself, exactly as the broker stores it, plus
//! the fields MongoDB indexes and filters on.
//!
//! ```text
//! { _id: <entity id>, v: <version>, seq: <creation sequence>,
//!   types: [<expanded type>...], scopes: [...],
//!   attrs: [{ n: <expanded name>, k: <attribute kind> }...],
//!   vals: { <name as field>: [{ s: [<scalar>...] } per non-null instance] },
//!   geo: { <name as field>: <GeoJSON of the first GeoProperty instance> },
//!   createdAt, modifiedAt, expiresAt: <date>,
//!   body: <the entity, named MessagePack> }
//! ```
//!
//! `body` is what reads return: MessagePack keeps every JSON value exactly (integers beyond
//! 64-bit signed, member order, keys with `.` or `$`), which BSON cannot. The other fields are
//! derived from it on every write, so they never disagree with it. `vals` holds, per attribute
//! instance, the scalars that a q term without a path compares (GS CIM 009 clause 4.9: array
//! elements, JSON-LD `@value`s, Relationship objects, VocabProperty IRIs, LanguageProperty
//! strings); one sub-document per instance keeps "some instance has no equal value" (`!=`)
//! expressible.

use chrono::{DateTime, Utc};
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use ngsi_types::{AttributeValue, Entity};
use serde_json::Value as Json;

use super::names::field;
use crate::store::{StoreError, StoreResult, Versioned};

/// The fields of an entity document that a write sets (everything but `_id`, `v` and `seq`).
pub fn fields(entity: &Entity) -> StoreResult<Document> {
    let body = rmp_serde::to_vec_named(entity)
        .map_err(|e| StoreError::Backend(format!("cannot encode entity {}: {e}", entity.id)))?;
    let mut attrs = Vec::new();
    let mut vals = Document::new();
    let mut geo = Document::new();
    for (name, instances) in &entity.attributes {
        let mut kinds: Vec<&str> = Vec::new();
        let mut per_instance = Vec::new();
        for instance in instances {
            let kind = instance.kind().as_str();
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
            if instance.value.is_null() {
                continue;
            }
            let mut scalars = Vec::new();
            scalars_of(&instance.value, &mut scalars);
            per_instance.push(Bson::Document(doc! { "s": scalars }));
            if let AttributeValue::GeoProperty(g) = &instance.value {
                let key = field(name);
                if !geo.contains_key(&key) {
                    if let Ok(Bson::Document(d)) = mongodb::bson::to_bson(&g.to_geojson()) {
                        geo.insert(key, d);
                    }
                }
            }
        }
        for k in kinds {
            attrs.push(Bson::Document(doc! { "n": name.as_str(), "k": k }));
        }
        if !per_instance.is_empty() {
            vals.insert(field(name), per_instance);
        }
    }
    let mut d = doc! {
        "types": &entity.types,
        "scopes": &entity.scope,
        "attrs": attrs,
        "vals": vals,
        "geo": geo,
        "body": Binary { subtype: BinarySubtype::Generic, bytes: body },
    };
    if let Some(t) = entity.created_at {
        d.insert("createdAt", date(t));
    }
    if let Some(t) = entity.modified_at {
        d.insert("modifiedAt", date(t));
    }
    if let Some(t) = entity.expires_at {
        d.insert("expiresAt", date(t));
    }
    if let Some(t) = entity.attributes_expire_at() {
        d.insert(ATTRIBUTES_EXPIRE_AT, date(t));
    }
    Ok(d)
}

/// The field of the earliest `expiresAt` of an entity's attribute instances (clause 4.22),
/// indexed like the entity's own `expiresAt`.
pub const ATTRIBUTES_EXPIRE_AT: &str = "attrsExpireAt";

pub fn date(t: DateTime<Utc>) -> mongodb::bson::DateTime {
    mongodb::bson::DateTime::from_millis(t.timestamp_millis())
}

/// The stored entity and its version, from a document read with `v` and `body`.
pub fn versioned(d: &Document) -> StoreResult<Versioned> {
    let id = d.get_str("_id").unwrap_or("?");
    let version =
        version_of(d).ok_or_else(|| StoreError::Corrupt(format!("entity {id} has no version")))?;
    let body = d
        .get_binary_generic("body")
        .map_err(|_| StoreError::Corrupt(format!("entity {id} has no body")))?;
    let entity = rmp_serde::from_slice(body)
        .map_err(|e| StoreError::Corrupt(format!("entity {id} does not decode: {e}")))?;
    Ok(Versioned { version, entity })
}

/// The `v` field of a document (an integer, whichever width it was stored with).
pub fn version_of(d: &Document) -> Option<u64> {
    match d.get("v")? {
        Bson::Int64(v) => u64::try_from(*v).ok(),
        Bson::Int32(v) => u64::try_from(*v).ok(),
        _ => None,
    }
}

/// The target values of a q term without a path, as in `ngsi_types::query::q` (clause 4.9).
fn scalars_of(value: &AttributeValue, out: &mut Vec<Bson>) {
    match value {
        AttributeValue::Property(v) | AttributeValue::JsonProperty(v) => json_scalars(v, out),
        AttributeValue::ListProperty(items) => items.iter().for_each(|v| json_scalars(v, out)),
        AttributeValue::LanguageProperty(map) => map.values().for_each(|v| json_scalars(v, out)),
        AttributeValue::Relationship { object, .. } => out.push(Bson::String(object.clone())),
        AttributeValue::ListRelationship { objects, .. } => {
            out.extend(objects.iter().map(|o| Bson::String(o.clone())))
        }
        AttributeValue::VocabProperty { vocab, .. } => {
            out.extend(vocab.iter().map(|v| Bson::String(v.clone())))
        }
        AttributeValue::GeoProperty(_) | AttributeValue::Null(_) => {}
    }
}

/// Numbers, strings and booleans of a JSON value; arrays are sets of their elements and a
/// JSON-LD value object stands for its `@value`. Objects and nulls never compare equal or
/// ordered to a q literal, so they are left out.
fn json_scalars(v: &Json, out: &mut Vec<Bson>) {
    match v {
        Json::Array(items) => items.iter().for_each(|i| json_scalars(i, out)),
        Json::String(s) => out.push(Bson::String(s.clone())),
        Json::Bool(b) => out.push(Bson::Boolean(*b)),
        Json::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.push(Bson::Double(f));
            }
        }
        Json::Object(obj) => {
            if let Some(inner) = obj.get("@value") {
                json_scalars(inner, out);
            }
        }
        Json::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ngsi_types::Attribute;
    use serde_json::json;

    #[test]
    fn documents_carry_query_fields_and_decode_back_to_the_entity() {
        let mut e = Entity::new("urn:ngsi-ld:Car:1", vec!["https://ex.org/Car".into()]);
        e.put_attribute(
            "https://ex.org/speed.kmh",
            Attribute::property(json!([50, {"@value": 70}, {"x": 1}, null])),
        );
        e.put_attribute("https://ex.org/owner", Attribute::relationship("urn:p:1"));
        let mut d = fields(&e).expect("fields");
        assert_eq!(
            d.get_document("vals").expect("vals"),
            &doc! {
                "https://ex%2Eorg/speed%2Ekmh": [{"s": [50.0, 70.0]}],
                "https://ex%2Eorg/owner": [{"s": ["urn:p:1"]}],
            }
        );
        assert_eq!(
            d.get_array("attrs").expect("attrs")[1],
            Bson::Document(doc! {"n": "https://ex.org/owner", "k": "Relationship"})
        );
        d.insert("v", 3_i64);
        let back = versioned(&d).expect("decodes");
        assert_eq!(back.version, 3);
        assert_eq!(back.entity, e);
    }
}
