//! What the indexes need to know about one entity, extracted once from the entity itself.
//!
//! The writer computes the facts of the new entity (on the caller's side, before queueing) and
//! of the entity it replaces or deletes (decoded inside the write transaction), and the index
//! applies "remove old facts, add new facts". Deriving both from whole entities, never from
//! what the index remembers, keeps the indexes a pure function of the stored data: rebuilding
//! them at open gives exactly what incremental maintenance gives.

use chrono::{DateTime, Utc};
use geo::BoundingRect;
use indexmap::IndexMap;
use ngsi_types::geojson::Geometry;
use ngsi_types::{AttributeKind, AttributeValue, Entity};
use serde::de::IgnoredAny;
use serde::Deserialize;

/// A set of [`AttributeKind`]s (the kinds of one attribute's instances), as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct KindSet(u8);

impl KindSet {
    pub fn insert(&mut self, kind: AttributeKind) {
        self.0 |= 1 << Self::bit(kind);
    }

    pub fn contains(self, kind: AttributeKind) -> bool {
        self.0 & (1 << Self::bit(kind)) != 0
    }

    /// The kinds in the set, with their position in [`AttributeKind::ALL`].
    pub fn iter(self) -> impl Iterator<Item = (usize, AttributeKind)> {
        AttributeKind::ALL
            .into_iter()
            .enumerate()
            .filter(move |(_, kind)| self.contains(*kind))
    }

    fn bit(kind: AttributeKind) -> usize {
        AttributeKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_default()
    }
}

/// The indexed facts of one entity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntityFacts {
    /// Expanded types, without duplicates.
    pub types: Vec<String>,
    /// Expanded attribute names, with the kinds of their instances.
    pub attributes: Vec<(String, KindSet)>,
    /// Bounding rectangle of every GeoProperty instance, by expanded attribute name.
    pub geo: Vec<(String, geo::Rect<f64>)>,
    /// When the entity next has something to expire: its own `expiresAt` or one of its
    /// attribute instances' (clause 4.22).
    pub expires_at: Option<DateTime<Utc>>,
}

impl EntityFacts {
    pub fn of(entity: &Entity) -> Self {
        let mut types: Vec<String> = Vec::with_capacity(entity.types.len());
        for ty in &entity.types {
            if !types.contains(ty) {
                types.push(ty.clone());
            }
        }
        let mut attributes = Vec::with_capacity(entity.attributes.len());
        let mut geo = Vec::new();
        for (name, instances) in &entity.attributes {
            let mut kinds = KindSet::default();
            for instance in instances {
                kinds.insert(instance.kind());
                if let AttributeValue::GeoProperty(geometry) = &instance.value {
                    // An empty GeometryCollection has no extent and cannot match a geo-query.
                    if let Some(rect) = geometry.as_geo().bounding_rect() {
                        geo.push((name.clone(), rect));
                    }
                }
            }
            attributes.push((name.clone(), kinds));
        }
        Self {
            types,
            attributes,
            geo,
            expires_at: entity.next_expiry(),
        }
    }
}

/// The index facts read straight from a stored entity (see [`EntityFacts::of`] for their
/// meaning; `stored_facts_equal_the_facts_of_the_entity` keeps both in step).
#[derive(Debug, Deserialize)]
pub struct StoredFacts {
    types: Vec<String>,
    attributes: IndexMap<String, Vec<StoredInstance>>,
    #[serde(default, with = "ngsi_types::datetime::micros_opt")]
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct StoredInstance {
    value: StoredValue,
    #[serde(default, with = "ngsi_types::datetime::micros_opt")]
    expires_at: Option<DateTime<Utc>>,
}

/// Mirrors [`AttributeValue`]'s variants; only geometries are decoded.
#[derive(Debug, Deserialize)]
enum StoredValue {
    Property(IgnoredAny),
    Relationship(IgnoredAny),
    GeoProperty(serde_json::Value),
    LanguageProperty(IgnoredAny),
    VocabProperty(IgnoredAny),
    JsonProperty(IgnoredAny),
    ListProperty(IgnoredAny),
    ListRelationship(IgnoredAny),
    Null(AttributeKind),
}

impl StoredValue {
    fn kind(&self) -> AttributeKind {
        match self {
            Self::Property(_) => AttributeKind::Property,
            Self::Relationship(_) => AttributeKind::Relationship,
            Self::GeoProperty(_) => AttributeKind::GeoProperty,
            Self::LanguageProperty(_) => AttributeKind::LanguageProperty,
            Self::VocabProperty(_) => AttributeKind::VocabProperty,
            Self::JsonProperty(_) => AttributeKind::JsonProperty,
            Self::ListProperty(_) => AttributeKind::ListProperty,
            Self::ListRelationship(_) => AttributeKind::ListRelationship,
            Self::Null(kind) => *kind,
        }
    }
}

impl StoredFacts {
    /// The facts; fails (with the member) if a stored geometry is not valid GeoJSON.
    pub fn into_facts(self) -> Result<EntityFacts, String> {
        let mut types: Vec<String> = Vec::with_capacity(self.types.len());
        for ty in self.types {
            if !types.contains(&ty) {
                types.push(ty);
            }
        }
        let mut attributes = Vec::with_capacity(self.attributes.len());
        let mut geo = Vec::new();
        let mut expires_at = self.expires_at;
        for (name, instances) in self.attributes {
            let mut kinds = KindSet::default();
            for instance in instances {
                kinds.insert(instance.value.kind());
                if let Some(at) = instance.expires_at {
                    expires_at = Some(expires_at.map_or(at, |e| e.min(at)));
                }
                if let StoredValue::GeoProperty(geojson) = &instance.value {
                    let geometry =
                        Geometry::from_geojson(&name, geojson).map_err(|e| e.to_string())?;
                    if let Some(rect) = geometry.as_geo().bounding_rect() {
                        geo.push((name.clone(), rect));
                    }
                }
            }
            attributes.push((name, kinds));
        }
        Ok(EntityFacts {
            types,
            attributes,
            geo,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use ngsi_types::entity::LOCATION;
    use ngsi_types::geojson::Geometry;
    use ngsi_types::Attribute;
    use serde_json::json;

    use super::*;

    #[test]
    fn facts_list_types_once_kinds_and_geo_extents() {
        let mut e = Entity::new("urn:x", vec!["T".into(), "U".into(), "T".into()]);
        let point = json!({"type": "Point", "coordinates": [2.0, 41.0]});
        let geometry = Geometry::from_geojson("location", &point).expect("valid");
        e.put_attribute(
            LOCATION,
            Attribute::new(AttributeValue::GeoProperty(geometry)),
        );
        let mut rel = Attribute::relationship("urn:y");
        rel.dataset_id = Some("urn:d".into());
        e.put_attribute("p", Attribute::property(1));
        e.put_attribute("p", rel);

        let facts = EntityFacts::of(&e);
        assert_eq!(facts.types, ["T", "U"]);
        let (name, kinds) = &facts.attributes[1];
        assert_eq!(name, "p");
        let kinds: Vec<_> = kinds.iter().map(|(_, k)| k).collect();
        assert_eq!(
            kinds,
            [AttributeKind::Property, AttributeKind::Relationship]
        );
        assert_eq!(facts.geo.len(), 1);
        assert_eq!(facts.geo[0].1.min(), geo::coord! { x: 2.0, y: 41.0 });
    }

    #[test]
    fn stored_facts_equal_the_facts_of_the_entity() {
        use chrono::TimeZone;
        use ngsi_types::attribute::LanguageMap;

        let mut e = Entity::new("urn:x", vec!["T".into(), "U".into(), "T".into()]);
        e.expires_at = Utc.timestamp_opt(1_000, 0).single();
        let area = json!({"type": "Point", "coordinates": [-3.7, 40.4]});
        let values = [
            AttributeValue::Property(json!({"nested": [1, "two", null]})),
            AttributeValue::Relationship {
                object: "urn:y".into(),
                object_type: Some(vec!["T".into()]),
            },
            AttributeValue::GeoProperty(Geometry::from_geojson("area", &area).expect("valid")),
            AttributeValue::LanguageProperty(LanguageMap::from([("en".into(), json!("hi"))])),
            AttributeValue::VocabProperty {
                vocab: vec!["urn:v".into()],
                many: false,
            },
            AttributeValue::JsonProperty(json!({"k": 1})),
            AttributeValue::ListProperty(vec![json!(1), json!("a")]),
            AttributeValue::ListRelationship {
                objects: vec!["urn:a".into()],
                object_type: None,
            },
            AttributeValue::Null(AttributeKind::Property),
        ];
        for (i, value) in values.into_iter().enumerate() {
            let mut attr = Attribute::new(value);
            attr.sub_attributes
                .insert("sub".into(), Attribute::property(i as i64));
            e.put_attribute(format!("a{}", i % 4), attr.clone());
            attr.dataset_id = Some(format!("urn:d{i}"));
            e.put_attribute(format!("a{}", i % 4), attr);
        }
        let body = crate::store::embedded::record::encode_body(&e).expect("encodes");
        let record = crate::store::embedded::record::encode(
            crate::store::embedded::record::Header { seq: 1, version: 1 },
            &body,
        );
        let (_, stored): (_, StoredFacts) =
            crate::store::embedded::record::decode_as(&record).expect("decodes");
        assert_eq!(stored.into_facts().expect("valid"), EntityFacts::of(&e));
    }
}
