use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::*;
use crate::context::ActiveContext;
use crate::format::{
    parse_attribute, parse_attributes, parse_entity, render_entity, RenderOptions,
};
use crate::Entity;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("valid timestamp")
}

fn entity(body: Value) -> Entity {
    let mut e = parse_entity(body.clone(), &ActiveContext::core()).expect("valid entity");
    e.created_at = Some(at(0));
    e.modified_at = Some(at(0));
    for instances in e.attributes.values_mut() {
        for a in instances {
            a.stamp(at(0), Some(at(0)));
        }
    }
    e
}

fn attrs(body: Value, nulls: bool) -> Attributes {
    parse_attributes(body.clone(), &ActiveContext::core(), nulls)
        .expect("valid")
        .attributes
}

fn rendered(e: &Entity) -> Value {
    Value::Object(render_entity(
        e,
        &ActiveContext::core(),
        &RenderOptions::default(),
    ))
}

fn name(term: &str) -> String {
    ActiveContext::core().expand_term(term).into_owned()
}

#[test]
fn append_adds_and_overwrites_unless_no_overwrite() {
    let mut e = entity(json!({"id": "urn:a", "type": "T", "a": 1}));
    let changes = append_attributes(&mut e, attrs(json!({"a": 2, "b": 3}), false), false, at(10));
    assert_eq!(changes.created, [name("b")]);
    assert_eq!(changes.updated, [name("a")]);
    let a = e.attribute(&name("a")).expect("a");
    assert_eq!(
        (a.created_at, a.modified_at),
        (Some(at(0)), Some(at(10))),
        "createdAt kept"
    );
    assert_eq!(e.modified_at, Some(at(10)));

    let changes = append_attributes(&mut e, attrs(json!({"a": 9, "c": 4}), false), true, at(20));
    assert_eq!(changes.created, [name("c")]);
    assert_eq!(changes.not_updated.len(), 1);
    assert_eq!(changes.not_updated[0].attribute, name("a"));
    assert_eq!(rendered(&e)["a"], json!({"type": "Property", "value": 2}));
}

#[test]
fn update_replaces_or_appends_instances_and_null_deletes() {
    let mut e = entity(json!({"id": "urn:a", "type": "T", "a": 1, "b": 2,
        "s": [{"type": "Property", "value": 1, "datasetId": "urn:d1"}]}));
    let changes = update_attributes(
        &mut e,
        attrs(
            json!({"a": 5, "zz": 1, "b": "urn:ngsi-ld:null",
                   "s": {"type": "Property", "value": 7, "datasetId": "urn:d2"}}),
            true,
        ),
        at(10),
    );
    assert_eq!(changes.updated, [name("a")]);
    assert_eq!(changes.deleted, [name("b")]);
    assert_eq!(
        changes.created,
        [name("zz"), name("s")],
        "missing instances are appended"
    );
    assert!(changes.not_updated.is_empty());
    assert_eq!(
        rendered(&e),
        json!({"id": "urn:a", "type": "T", "a": {"type": "Property", "value": 5},
               "s": [{"type": "Property", "value": 1, "datasetId": "urn:d1"},
                     {"type": "Property", "value": 7, "datasetId": "urn:d2"}],
               "zz": {"type": "Property", "value": 1}})
    );
    let changes = update_attributes(
        &mut e,
        attrs(json!({"gone": "urn:ngsi-ld:null"}), true),
        at(20),
    );
    assert_eq!(
        changes.not_updated.len(),
        1,
        "a Null for nothing is not updated"
    );
}

#[test]
fn merge_merges_members_recursively() {
    let mut e = entity(json!({"id": "urn:a", "type": "T",
        "temp": {"type": "Property", "value": 20, "unitCode": "CEL",
                 "accuracy": {"type": "Property", "value": 0.5},
                 "sensor": {"type": "Relationship", "object": "urn:s1"}},
        "gone": 1}));
    let fragment = parse_attributes(
        json!({"type": "U", "scope": "/Madrid",
                "temp": {"value": 21, "accuracy": 0.1, "sensor": "urn:ngsi-ld:null", "new": true},
                "gone": "urn:ngsi-ld:null", "added": "x"})
        .clone(),
        &ActiveContext::core(),
        true,
    )
    .expect("merge payload");
    let changes = merge_entity(&mut e, fragment, at(10));
    assert!(changes.entity_changed);
    assert_eq!(changes.created, [name("added")]);
    assert_eq!(changes.updated, [name("temp")]);
    assert_eq!(changes.deleted, [name("gone")]);
    assert_eq!(
        rendered(&e),
        json!({"id": "urn:a", "type": ["T", "U"], "scope": "/Madrid",
               "temp": {"type": "Property", "value": 21, "unitCode": "CEL",
                        "accuracy": {"type": "Property", "value": 0.1},
                        "new": {"type": "Property", "value": true}},
               "added": {"type": "Property", "value": "x"}})
    );
    let temp = e.attribute(&name("temp")).expect("temp");
    assert_eq!(temp.created_at, Some(at(0)));
    assert_eq!(temp.modified_at, Some(at(10)));
}

#[test]
fn replace_keeps_only_the_new_content_and_creation_time() {
    let old = entity(json!({"id": "urn:a", "type": "T", "a": 1, "b": 2}));
    let new = parse_entity(
        json!({"id": "urn:a", "type": "U", "b": 3, "c": 4}).clone(),
        &ActiveContext::core(),
    )
    .expect("valid");
    let (e, changes) = replace_entity(&old, new, at(10));
    assert_eq!(changes.created, [name("c")]);
    assert_eq!(changes.updated, [name("b")]);
    assert_eq!(changes.deleted, [name("a")]);
    assert_eq!((e.created_at, e.modified_at), (Some(at(0)), Some(at(10))));
    assert_eq!(
        rendered(&e),
        json!({"id": "urn:a", "type": "U", "b": {"type": "Property", "value": 3},
               "c": {"type": "Property", "value": 4}})
    );
}

#[test]
fn attribute_level_operations_need_an_existing_instance() {
    let ctx = ActiveContext::core();
    let mut e = entity(json!({"id": "urn:a", "type": "T",
        "a": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2, "datasetId": "urn:d"}]}));
    let (_, mut frag) = parse_attribute(
        "a",
        json!({"value": 5, "datasetId": "urn:d"}).clone(),
        &ctx,
        true,
    )
    .expect("valid");
    let changes = partial_update_attribute(
        &mut e,
        &name("a"),
        frag.remove(0),
        FragmentForm::Typed,
        at(10),
    )
    .expect("exists");
    assert_eq!(changes.updated, [name("a")]);
    assert_eq!(
        e.instance(&name("a"), Some("urn:d"))
            .map(|a| a.value.clone()),
        Some(crate::AttributeValue::Property(json!(5)))
    );

    let (_, mut frag) = parse_attribute(
        "a",
        json!({"value": 5, "datasetId": "urn:nope"}).clone(),
        &ctx,
        true,
    )
    .expect("valid");
    let err = partial_update_attribute(
        &mut e,
        &name("a"),
        frag.remove(0),
        FragmentForm::Typed,
        at(10),
    )
    .expect_err("no such instance");
    assert_eq!(err.error_type(), crate::ErrorType::ResourceNotFound);

    let (_, mut rep) = parse_attribute(
        "a",
        json!({"type": "Relationship", "object": "urn:x"}).clone(),
        &ctx,
        false,
    )
    .expect("valid");
    replace_attribute(&mut e, &name("a"), rep.remove(0), at(20)).expect("default instance exists");
    assert_eq!(
        e.attribute(&name("a")).map(|a| a.kind()),
        Some(crate::AttributeKind::Relationship)
    );
    assert_eq!(
        e.attribute(&name("a")).and_then(|a| a.created_at),
        Some(at(0))
    );

    delete_attribute(&mut e, &name("a"), Some("urn:d"), false, at(30)).expect("instance exists");
    assert_eq!(e.attributes[&name("a")].len(), 1);
    assert!(delete_attribute(&mut e, &name("a"), Some("urn:d"), false, at(30)).is_err());
    delete_attribute(&mut e, &name("a"), None, true, at(40)).expect("deleteAll");
    assert!(e.attributes.is_empty());
    assert_eq!(e.modified_at, Some(at(40)));
    assert!(delete_attribute(&mut e, &name("a"), None, true, at(50)).is_err());
}

#[test]
fn drop_attributes_removes_every_instance_of_the_chosen_ones() {
    let mut e = entity(json!({"id": "urn:a", "type": "T", "a": 1, "b": 2,
        "s": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2, "datasetId": "urn:d1"}]}));
    let keep = [name("a")];
    let changes = drop_attributes(&mut e, |n| !keep.iter().any(|k| k == n), at(10));
    assert_eq!(changes.deleted, [name("b"), name("s")]);
    assert_eq!(e.modified_at, Some(at(10)));
    assert_eq!(
        rendered(&e),
        json!({"id": "urn:a", "type": "T", "a": {"type": "Property", "value": 1}})
    );
    let changes = drop_attributes(&mut e, |n| n == name("zz"), at(20));
    assert!(!changes.is_modified());
    assert_eq!(
        e.modified_at,
        Some(at(10)),
        "nothing dropped, nothing modified"
    );
}
