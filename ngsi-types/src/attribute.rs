//! Attributes: the eight kinds of NGSI-LD 1.8 (clause 4.5 and 5.2.5-5.2.34) and their common
//! members.
//!
//! Names inside the model are always *expanded* IRIs; compaction happens only when rendering for
//! a client (see `crate::format`). Values of Properties are kept as JSON: NGSI-LD does not expand
//! the inside of a value, and keeping JSON avoids a conversion on every read.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::geojson::Geometry;

/// The NGSI-LD Null (clause 5.2.1): in a merge or partial update it asks for a member's removal.
pub const NGSI_LD_NULL: &str = "urn:ngsi-ld:null";

/// Which of the attribute kinds an attribute is; the `type` member of its normalized form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttributeKind {
    Property,
    Relationship,
    GeoProperty,
    LanguageProperty,
    VocabProperty,
    JsonProperty,
    ListProperty,
    ListRelationship,
}

impl AttributeKind {
    pub const ALL: [AttributeKind; 8] = [
        Self::Property,
        Self::Relationship,
        Self::GeoProperty,
        Self::LanguageProperty,
        Self::VocabProperty,
        Self::JsonProperty,
        Self::ListProperty,
        Self::ListRelationship,
    ];

    /// The `type` member value of this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Property => "Property",
            Self::Relationship => "Relationship",
            Self::GeoProperty => "GeoProperty",
            Self::LanguageProperty => "LanguageProperty",
            // GS CIM 009 v1.9.1 (annex I, 1.8.16) renamed VocabularyProperty to VocabProperty.
            Self::VocabProperty => "VocabProperty",
            Self::JsonProperty => "JsonProperty",
            Self::ListProperty => "ListProperty",
            Self::ListRelationship => "ListRelationship",
        }
    }

    /// Parses a `type` member (short or expanded form).
    pub fn parse(s: &str) -> Option<Self> {
        let short = s.strip_prefix("https://uri.etsi.org/ngsi-ld/").unwrap_or(s);
        // The pre-1.8.16 name is still read, as clients of earlier versions send it.
        if short == "VocabularyProperty" {
            return Some(Self::VocabProperty);
        }
        Self::ALL.into_iter().find(|k| k.as_str() == short)
    }

    /// The member holding the attribute's value in normalized form.
    pub fn value_member(self) -> &'static str {
        match self {
            Self::Property | Self::GeoProperty => "value",
            Self::Relationship => "object",
            Self::LanguageProperty => "languageMap",
            Self::VocabProperty => "vocab",
            Self::JsonProperty => "json",
            Self::ListProperty => "valueList",
            Self::ListRelationship => "objectList",
        }
    }
}

/// A `languageMap`: language tag (or `@none`) to one string or a list of strings.
pub type LanguageMap = IndexMap<String, Value>;

/// The value of an attribute, by kind.
///
/// The serde form of the model (here and on [`Attribute`], `Entity`) is Oxion's *storage*
/// form: expanded names, every member explicit. API payloads go through `crate::format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttributeValue {
    /// `value`: any JSON (string, number, boolean, array, object, or a typed `@value`).
    Property(Value),
    /// `object` (a URI) and the optional `objectType` (expanded type names).
    Relationship {
        object: String,
        object_type: Option<Vec<String>>,
    },
    /// `value`: a validated GeoJSON geometry.
    GeoProperty(#[serde(with = "geometry_as_geojson")] Geometry),
    /// `languageMap`.
    LanguageProperty(LanguageMap),
    /// `vocab`: one or more expanded IRIs; `many` records whether the client sent an array.
    VocabProperty { vocab: Vec<String>, many: bool },
    /// `json`: a JSON value kept verbatim (never expanded).
    JsonProperty(Value),
    /// `valueList`: an ordered list of values.
    ListProperty(Vec<Value>),
    /// `objectList`: an ordered list of URIs, and the optional `objectType`.
    ListRelationship {
        objects: Vec<String>,
        object_type: Option<Vec<String>>,
    },
    /// An NGSI-LD Null of the given kind: remove this attribute (merge, partial update).
    Null(AttributeKind),
}

impl AttributeValue {
    pub fn kind(&self) -> AttributeKind {
        match self {
            Self::Property(_) => AttributeKind::Property,
            Self::Relationship { .. } => AttributeKind::Relationship,
            Self::GeoProperty(_) => AttributeKind::GeoProperty,
            Self::LanguageProperty(_) => AttributeKind::LanguageProperty,
            Self::VocabProperty { .. } => AttributeKind::VocabProperty,
            Self::JsonProperty(_) => AttributeKind::JsonProperty,
            Self::ListProperty(_) => AttributeKind::ListProperty,
            Self::ListRelationship { .. } => AttributeKind::ListRelationship,
            Self::Null(kind) => *kind,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null(_))
    }
}

/// One instance of an attribute (an attribute with several datasetIds has several instances),
/// or one sub-attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    pub value: AttributeValue,
    /// `datasetId`: a URI; `None` is the default instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_id: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub observed_at: Option<DateTime<Utc>>,
    /// The fraction digits `observedAt` was written with (0, 3, 6: `...:00Z`, `...:00.000Z`),
    /// so that it is rendered as the client wrote it; `None`: as few as its value needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_digits: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<String>,
    /// `valueType`: the JSON-LD @type of the value (Tables 5.2.5-1, 5.2.7-1, 5.2.32-1,
    /// 5.2.35-1, 5.2.36-1, 5.2.38-1), expanded with the @context it was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_type: Option<String>,
    /// `expiresAt` of a transient attribute instance (clause 4.22, Tables 5.2.5-1 and
    /// 5.2.6-1): past it the instance is no longer served and the broker removes it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub modified_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::datetime::micros_opt"
    )]
    pub deleted_at: Option<DateTime<Utc>>,
    /// `instanceId` of an instance in a temporal evolution (clause 4.5.7): set by the broker
    /// when it records the instance, absent from the current state of an entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Sub-attributes by expanded name (clause 4.5.2: properties of properties, ...).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub sub_attributes: IndexMap<String, Attribute>,
}

/// Geometries are stored as their GeoJSON object, validated again when read back.
mod geometry_as_geojson {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    use crate::geojson::Geometry;

    pub fn serialize<S: Serializer>(g: &Geometry, s: S) -> Result<S::Ok, S::Error> {
        g.to_geojson().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Geometry, D::Error> {
        let value = Value::deserialize(d)?;
        Geometry::from_geojson("stored geometry", &value).map_err(serde::de::Error::custom)
    }
}

impl Attribute {
    /// An attribute with just a value and no other member.
    pub fn new(value: AttributeValue) -> Self {
        Self {
            value,
            dataset_id: None,
            observed_at: None,
            observed_digits: None,
            unit_code: None,
            value_type: None,
            expires_at: None,
            created_at: None,
            modified_at: None,
            deleted_at: None,
            instance_id: None,
            sub_attributes: IndexMap::new(),
        }
    }

    /// A Property with the given JSON value.
    pub fn property(value: impl Into<Value>) -> Self {
        Self::new(AttributeValue::Property(value.into()))
    }

    /// A Relationship to the given entity.
    pub fn relationship(object: impl Into<String>) -> Self {
        Self::new(AttributeValue::Relationship {
            object: object.into(),
            object_type: None,
        })
    }

    pub fn kind(&self) -> AttributeKind {
        self.value.kind()
    }

    /// Sets `createdAt`/`modifiedAt` on this attribute and its sub-attributes, keeping an
    /// existing `createdAt` when `created` is `None`.
    pub fn stamp(&mut self, now: DateTime<Utc>, created: Option<DateTime<Utc>>) {
        self.created_at = created.or(self.created_at).or(Some(now));
        self.modified_at = Some(now);
        for sub in self.sub_attributes.values_mut() {
            sub.stamp(now, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_type_member() {
        for kind in AttributeKind::ALL {
            assert_eq!(AttributeKind::parse(kind.as_str()), Some(kind));
            let expanded = format!("https://uri.etsi.org/ngsi-ld/{}", kind.as_str());
            assert_eq!(AttributeKind::parse(&expanded), Some(kind));
        }
        assert_eq!(AttributeKind::parse("Proprety"), None);
    }

    #[test]
    fn stamp_keeps_creation_and_reaches_sub_attributes() {
        let t0 = DateTime::<Utc>::from_timestamp(1_000, 0).unwrap_or_default();
        let t1 = DateTime::<Utc>::from_timestamp(2_000, 0).unwrap_or_default();
        let mut attr = Attribute::property(21.5);
        attr.sub_attributes.insert(
            "https://example.org/accuracy".into(),
            Attribute::property(0.1),
        );
        attr.stamp(t0, None);
        attr.stamp(t1, None);
        assert_eq!(attr.created_at, Some(t0));
        assert_eq!(attr.modified_at, Some(t1));
        let sub = &attr.sub_attributes["https://example.org/accuracy"];
        assert_eq!((sub.created_at, sub.modified_at), (Some(t0), Some(t1)));
    }
}
