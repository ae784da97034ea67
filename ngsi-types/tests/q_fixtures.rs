//! Fixture-driven tests of `q` evaluation: every file under `tests/fixtures/q/` holds groups of
//! an entity (normalized form, short names), an optional @context, and queries with the
//! expected outcome.
//!
//! The fixtures are read by a small reader of their own, so that these tests depend on the
//! query module and the model only.

use std::path::Path;

use indexmap::IndexMap;
use ngsi_types::context::ActiveContext;
use ngsi_types::datetime::parse_datetime;
use ngsi_types::query::q::Query;
use ngsi_types::{Attribute, AttributeValue, Entity};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Deserialize)]
struct Group {
    name: String,
    #[serde(default)]
    context: Option<Value>,
    entity: Map<String, Value>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    q: String,
    #[serde(rename = "match")]
    expected: bool,
}

const ENTITY_MEMBERS: &[&str] = &["id", "type", "scope"];
const ATTRIBUTE_MEMBERS: &[&str] = &[
    "type",
    "value",
    "object",
    "languageMap",
    "vocab",
    "json",
    "valueList",
    "objectList",
    "datasetId",
    "observedAt",
    "unitCode",
];

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn attribute(obj: &Map<String, Value>, ctx: &ActiveContext) -> Attribute {
    let member = |m: &str| obj.get(m).cloned().unwrap_or(Value::Null);
    let value = match obj.get("type").and_then(Value::as_str) {
        Some("Property") => AttributeValue::Property(member("value")),
        Some("Relationship") => AttributeValue::Relationship {
            object: member("object").as_str().unwrap_or_default().to_owned(),
            object_type: None,
        },
        Some("LanguageProperty") => AttributeValue::LanguageProperty(
            member("languageMap")
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_else(IndexMap::new),
        ),
        Some("VocabProperty") => AttributeValue::VocabProperty {
            vocab: strings(obj.get("vocab"))
                .iter()
                .map(|v| ctx.expand_term(v).into_owned())
                .collect(),
            many: obj.get("vocab").is_some_and(Value::is_array),
        },
        Some("JsonProperty") => AttributeValue::JsonProperty(member("json")),
        Some("ListProperty") => AttributeValue::ListProperty(
            member("valueList").as_array().cloned().unwrap_or_default(),
        ),
        Some("ListRelationship") => AttributeValue::ListRelationship {
            objects: strings(obj.get("objectList")),
            object_type: None,
        },
        other => panic!("unsupported attribute type {other:?}"),
    };
    let mut attr = Attribute::new(value);
    attr.dataset_id = obj
        .get("datasetId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    attr.unit_code = obj
        .get("unitCode")
        .and_then(Value::as_str)
        .map(str::to_owned);
    attr.observed_at = obj
        .get("observedAt")
        .and_then(Value::as_str)
        .and_then(parse_datetime);
    for (name, sub) in obj {
        if ATTRIBUTE_MEMBERS.contains(&name.as_str()) {
            continue;
        }
        let sub = sub
            .as_object()
            .unwrap_or_else(|| panic!("{name}: not an object"));
        attr.sub_attributes
            .insert(ctx.expand_term(name).into_owned(), attribute(sub, ctx));
    }
    attr
}

fn entity(obj: &Map<String, Value>, ctx: &ActiveContext) -> Entity {
    let id = obj.get("id").and_then(Value::as_str).unwrap_or_default();
    let types = strings(obj.get("type"))
        .iter()
        .map(|t| ctx.expand_term(t).into_owned())
        .collect();
    let mut e = Entity::new(id, types);
    e.scope = strings(obj.get("scope"));
    for (name, value) in obj {
        if ENTITY_MEMBERS.contains(&name.as_str()) {
            continue;
        }
        let instances = match value {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        };
        for instance in instances {
            let instance = instance
                .as_object()
                .unwrap_or_else(|| panic!("{name}: not an object"));
            e.put_attribute(ctx.expand_term(name).into_owned(), attribute(instance, ctx));
        }
    }
    e
}

#[test]
fn fixtures_match_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/q");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|f| f.ok().map(|f| f.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());

    let mut failures = Vec::new();
    let mut count = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
        let groups: Vec<Group> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for group in groups {
            let ctx = ActiveContext::from_inline(group.context.as_ref().unwrap_or(&json!({})))
                .unwrap_or_else(|e| panic!("{}: {e}", group.name));
            let e = entity(&group.entity, &ctx);
            for case in &group.cases {
                count += 1;
                let got = Query::parse(&case.q)
                    .map(|q| q.expand(&ctx).matches(&e))
                    .unwrap_or_else(|err| panic!("{}: {}: {err}", group.name, case.q));
                if got != case.expected {
                    failures.push(format!(
                        "{}: {} gave {got}, expected {}",
                        group.name, case.q, case.expected
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(count > 50, "only {count} fixture cases");
}
