//! Context processing on inline contexts: prefixes, cycles, shapes.

use super::*;
use serde_json::json;

fn process(context: Value) -> Result<HashMap<String, TermDefinition>> {
    let mut p = Processor::new(None, &NoRemoteDocuments, 8);
    p.apply(&context)?;
    Ok(p.into_terms_and_vocab().0)
}

#[test]
fn definitions_may_use_prefixes_defined_later_in_the_same_object() {
    let terms = process(json!({
        "name": "schema:name",
        "schema": "https://schema.org/"
    }))
    .expect("valid context");
    assert_eq!(terms["name"].iri(), "https://schema.org/name");
}

#[test]
fn cyclic_definitions_are_rejected() {
    for context in [
        json!({"a": "b", "b": "a"}),
        json!({"a": "b:x", "b": "a:y"}),
        json!({"a": {"@id": "c"}, "c": {"@id": "a"}}),
    ] {
        let err = process(context).expect_err("cycle");
        assert!(
            matches!(&err, NgsiError::InvalidContext(m) if m.contains("cyclic")),
            "{err}"
        );
    }
}

#[test]
fn bad_shapes_are_invalid_context() {
    for context in [
        json!(42),
        json!({"a": 42}),
        json!({"a": {"@id": 1}}),
        json!({"a": {"@id": "https://x.org/a", "@container": "@bag"}}),
        json!({"@version": 1.0}),
        json!({"@vocab": 3}),
        json!([[{"a": "https://x.org/a"}]]),
    ] {
        assert!(
            matches!(process(context.clone()), Err(NgsiError::InvalidContext(_))),
            "{context}"
        );
    }
}

#[test]
fn scoped_contexts_and_extra_keywords_are_accepted() {
    let terms = process(json!({
        "@version": 1.1,
        "@protected": true,
        "@base": "https://example.org/",
        "@language": "en",
        "address": {"@id": "https://schema.org/address", "@context": {"street": "https://schema.org/streetAddress"}},
        "@future": "ignored"
    }))
    .expect("valid context");
    assert!(terms["address"].has_scoped_context());
    assert!(terms["address"].is_protected());
    assert!(!terms.contains_key("street"));
}

#[test]
fn remote_references_skip_the_core_context() {
    let context = json!([
        "https://example.org/a.jsonld",
        {"@import": "https://example.org/b.jsonld"},
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    ]);
    assert_eq!(
        remote_references(&context),
        [
            "https://example.org/a.jsonld",
            "https://example.org/b.jsonld"
        ]
    );
}
