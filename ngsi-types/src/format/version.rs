//! Payloads for consumers of an earlier NGSI-LD version (GS CIM 009 4.3.6.8): a request with
//! `Prefer: ngsi-ld=<version>` gets Entity data reformatted by the fallbacks of Tables
//! 4.3.6.8-1 to -3, each member introduced after that version removed or reformatted.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};

/// A version of the specification, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpecVersion {
    pub major: u16,
    pub minor: u16,
}

impl SpecVersion {
    /// The version this implementation conforms to.
    pub const CURRENT: SpecVersion = SpecVersion::new(1, 9);

    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// `1.5` (or `1`, read as `1.0`); a patch part (`1.9.1`) is ignored.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = match parts.next() {
            Some(m) => m.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some_and(|p| p.parse::<u16>().is_err()) {
            return None;
        }
        (major >= 1).then_some(Self { major, minor })
    }

    /// The version a payload for a consumer asking for this one conforms to: this one, or
    /// ours when it asks for a later one.
    pub fn conformant(self) -> Self {
        self.min(Self::CURRENT)
    }

    fn before(self, major: u16, minor: u16) -> bool {
        self.cmp(&Self::new(major, minor)) == Ordering::Less
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Reformats a rendered entity (normalized or concise, or keyValues) for a consumer of
/// `version`; true if anything changed.
pub fn downgrade_entity(entity: &mut Value, version: SpecVersion) -> bool {
    let Some(map) = entity.as_object_mut() else {
        return false;
    };
    let mut changed = false;
    // Table 4.3.6.8-1.
    if version.before(1, 9) {
        changed |= map.remove("expiresAt").is_some();
    }
    if version.before(1, 4) {
        changed |= map.remove("scope").is_some();
    }
    if version.before(1, 3) {
        if let Some(Value::Array(types)) = map.get("type") {
            let first = types.first().cloned().unwrap_or(Value::Null);
            map.insert("type".into(), first);
            changed = true;
        }
    }
    for (name, value) in map.iter_mut() {
        if !matches!(
            name.as_str(),
            "id" | "type" | "@context" | "scope" | "createdAt" | "modifiedAt" | "deletedAt"
        ) {
            changed |= downgrade_attribute(value, version);
        }
    }
    changed
}

/// One attribute's value: an object, or an array of instances (datasetId).
fn downgrade_attribute(value: &mut Value, version: SpecVersion) -> bool {
    match value {
        Value::Array(instances) if instances.iter().all(Value::is_object) => {
            let mut changed = false;
            if version.before(1, 3) && !instances.is_empty() {
                // Note 2 and 3: one instance, preferably the default one.
                let at = instances
                    .iter()
                    .position(|i| i.get("datasetId").is_none())
                    .unwrap_or(0);
                let kept = instances.swap_remove(at);
                *value = kept;
                changed = true;
                return downgrade_attribute(value, version) || changed;
            }
            for instance in instances.iter_mut() {
                changed |= downgrade_attribute(instance, version);
            }
            changed
        }
        Value::Object(attr) => downgrade_member(attr, version),
        _ => false,
    }
}

/// What kind of attribute an object is, by its `type` or, in the concise form, its members.
fn kind_of(attr: &Map<String, Value>) -> Option<&'static str> {
    if let Some(t) = attr.get("type").and_then(Value::as_str) {
        return [
            "Property",
            "Relationship",
            "GeoProperty",
            "LanguageProperty",
            "JsonProperty",
            "VocabProperty",
            "ListProperty",
            "ListRelationship",
        ]
        .into_iter()
        .find(|k| *k == t);
    }
    [
        ("languageMap", "LanguageProperty"),
        ("json", "JsonProperty"),
        ("vocab", "VocabProperty"),
        ("valueList", "ListProperty"),
        ("objectList", "ListRelationship"),
        ("object", "Relationship"),
        ("value", "Property"),
    ]
    .into_iter()
    .find(|(member, _)| attr.contains_key(*member))
    .map(|(_, kind)| kind)
}

/// Tables 4.3.6.8-2 and -3 on one attribute, and its sub-attributes.
fn downgrade_member(attr: &mut Map<String, Value>, version: SpecVersion) -> bool {
    let Some(kind) = kind_of(attr) else {
        return false;
    };
    let mut changed = false;
    let typed = attr.contains_key("type");
    let reformat = |attr: &mut Map<String, Value>, from: &str, to_member: &str, to_type: &str| {
        if let Some(content) = attr.remove(from) {
            let content = if from == "objectList" {
                // A Relationship's object is a URI or a list of them.
                let objects: Vec<Value> = content
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| o.get("object").cloned().unwrap_or_else(|| o.clone()))
                    .collect();
                Value::Array(objects)
            } else {
                content
            };
            attr.insert(to_member.into(), content);
        }
        if typed {
            attr.insert("type".into(), Value::String(to_type.into()));
        }
        true
    };
    match kind {
        "LanguageProperty" if version.before(1, 4) => {
            changed |= reformat(attr, "languageMap", "value", "Property");
        }
        "JsonProperty" if version.before(1, 8) => {
            changed |= reformat(attr, "json", "value", "Property");
        }
        "VocabProperty" if version.before(1, 8) => {
            changed |= reformat(attr, "vocab", "value", "Property");
        }
        "ListProperty" if version.before(1, 8) => {
            changed |= reformat(attr, "valueList", "value", "Property");
        }
        "ListRelationship" if version.before(1, 8) => {
            changed |= reformat(attr, "objectList", "object", "Relationship");
        }
        _ => {}
    }
    let relationship = matches!(kind, "Relationship" | "ListRelationship");
    let mut removed = Vec::new();
    if version.before(1, 9) {
        removed.extend(["expiresAt", "valueType"]);
    }
    if version.before(1, 8) && relationship {
        removed.push("objectType");
    }
    if version.before(1, 3) {
        removed.extend(["datasetId", "observedAt", "unitCode"]);
    }
    for member in removed {
        changed |= attr.remove(member).is_some();
    }
    let core = [
        "type",
        "value",
        "object",
        "languageMap",
        "json",
        "vocab",
        "valueList",
        "objectList",
        "datasetId",
        "observedAt",
        "unitCode",
        "createdAt",
        "modifiedAt",
        "deletedAt",
        "instanceId",
        "objectType",
        "valueType",
        "expiresAt",
        "previousValue",
        "previousObject",
        "previousLanguageMap",
        "lang",
    ];
    for (name, sub) in attr.iter_mut() {
        if !core.contains(&name.as_str()) {
            changed |= downgrade_attribute(sub, version);
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(SpecVersion::parse("1.5"), Some(SpecVersion::new(1, 5)));
        assert_eq!(SpecVersion::parse("1"), Some(SpecVersion::new(1, 0)));
        assert_eq!(SpecVersion::parse("1.9.1"), Some(SpecVersion::new(1, 9)));
        assert_eq!(
            SpecVersion::parse("2.3").map(SpecVersion::conformant),
            Some(SpecVersion::CURRENT)
        );
        for bad in ["", "x", "0.9", "1.x", "1.2.x"] {
            assert_eq!(SpecVersion::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn members_after_the_version_are_reformatted_or_removed() {
        let mut entity = json!({
            "id": "urn:ngsi-ld:B:1", "type": ["Building", "Place"], "scope": "/a",
            "expiresAt": "2030-01-01T00:00:00Z",
            "category": {"type": "VocabProperty", "vocab": "commercial"},
            "name": {"type": "LanguageProperty", "languageMap": {"en": "b"}},
            "owners": {"type": "ListRelationship", "objectList": [{"object": "urn:a"}, {"object": "urn:b"}]},
            "temperature": [
                {"type": "Property", "value": 20, "datasetId": "urn:d:1", "unitCode": "CEL"},
                {"type": "Property", "value": 21, "observedAt": "2024-01-01T00:00:00Z",
                 "accuracy": {"type": "Property", "value": 0.5, "valueType": "xsd:float"}}
            ],
            "owner": {"type": "Relationship", "object": "urn:o", "objectType": "Person"}
        });
        let mut v15 = entity.clone();
        assert!(downgrade_entity(&mut v15, SpecVersion::new(1, 5)));
        assert_eq!(
            v15["category"],
            json!({"type": "Property", "value": "commercial"})
        );
        assert_eq!(v15["name"]["type"], "LanguageProperty", "1.4 has it");
        assert_eq!(
            v15["owners"],
            json!({"type": "Relationship", "object": ["urn:a", "urn:b"]})
        );
        assert_eq!(
            v15["owner"],
            json!({"type": "Relationship", "object": "urn:o"})
        );
        assert!(v15.get("expiresAt").is_none());
        assert_eq!(v15["scope"], "/a");
        assert!(v15["temperature"][1]["accuracy"].get("valueType").is_none());

        assert!(downgrade_entity(&mut entity, SpecVersion::new(1, 0)));
        assert_eq!(entity["type"], "Building");
        assert!(entity.get("scope").is_none());
        assert_eq!(
            entity["name"],
            json!({"type": "Property", "value": {"en": "b"}})
        );
        assert_eq!(
            entity["temperature"]["value"], 21,
            "the default instance is kept"
        );
        assert!(entity["temperature"].get("observedAt").is_none());

        let mut current = json!({"id": "urn:x", "type": "T",
            "category": {"type": "VocabProperty", "vocab": "x"}});
        assert!(!downgrade_entity(&mut current, SpecVersion::CURRENT));
    }
}
