//! Behaviour of [`ActiveContext`] through the public API: the core context alone, a
//! Smart-Data-Models-style parking context (fixtures under `tests/fixtures/context/`), arrays of
//! contexts, and the round-trip properties compaction promises.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::error::NgsiError;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/context/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect(&path);
    serde_json::from_str(&text).expect(&path)
}

fn parking() -> Arc<ActiveContext> {
    ActiveContext::from_inline(&fixture("parking.jsonld")["@context"]).expect("parking context")
}

fn parking_municipal() -> Arc<ActiveContext> {
    let both = json!([
        fixture("parking.jsonld")["@context"],
        fixture("parking-municipal.jsonld")["@context"]
    ]);
    ActiveContext::from_inline(&both).expect("parking + municipal contexts")
}

#[test]
fn core_terms_expand_and_compact() {
    let core = ActiveContext::core();
    let cases = [
        ("location", "https://uri.etsi.org/ngsi-ld/location"),
        (
            "observationSpace",
            "https://uri.etsi.org/ngsi-ld/observationSpace",
        ),
        ("Property", "https://uri.etsi.org/ngsi-ld/Property"),
        ("value", "https://uri.etsi.org/ngsi-ld/hasValue"),
        ("Point", "https://purl.org/geojson/vocab#Point"),
        ("title", "http://purl.org/dc/terms/title"),
        (
            "speed",
            "https://uri.etsi.org/ngsi-ld/default-context/speed",
        ),
    ];
    for (term, iri) in cases {
        assert_eq!(core.expand_term(term), iri);
        assert_eq!(core.compact_iri(iri), term);
    }
    assert_eq!(
        core.expand_term("ngsi-ld:brandNew"),
        "https://uri.etsi.org/ngsi-ld/brandNew"
    );
    assert_eq!(core.expand_term("id"), "@id");
    assert_eq!(core.expand_term("@type"), "@type");
    assert_eq!(core.compact_iri("@id"), "id");
    assert_eq!(core.vocab(), DEFAULT_VOCAB);
    assert!(core.is_core_only());
    assert_eq!(core.link_url(), Some(CORE_CONTEXT_URL));
}

#[test]
fn absolute_iris_and_urns_are_left_alone() {
    let core = ActiveContext::core();
    for iri in [
        "https://example.org/speed",
        "http://example.org/a:b",
        "urn:ngsi-ld:Vehicle:A4567",
        "_:b0",
    ] {
        assert_eq!(core.expand_term(iri), iri);
        assert_eq!(core.compact_iri(iri), iri);
    }
}

#[test]
fn parking_context_expands_and_compacts_as_the_fixture_says() {
    let expected = fixture("parking-expected.json");
    for (name, context) in [
        ("parking", parking()),
        ("parking+municipal", parking_municipal()),
    ] {
        let cases = &expected[name];
        for (term, iri) in cases["expand"].as_object().expect("expand map") {
            assert_eq!(
                context.expand_term(term),
                iri.as_str().expect("IRI"),
                "{name}: expand {term}"
            );
        }
        for (iri, term) in cases["compact"].as_object().expect("compact map") {
            assert_eq!(
                context.compact_iri(iri),
                term.as_str().expect("term"),
                "{name}: compact {iri}"
            );
            assert_eq!(
                context.expand_term(term.as_str().expect("term")),
                iri.as_str(),
                "{name}: round trip {iri}"
            );
        }
    }
}

#[test]
fn term_definitions_expose_coercion_rules() {
    let context = parking();
    let site = context.term_definition("refParkingSite").expect("defined");
    assert_eq!(site.type_mapping(), Some(&TypeMapping::Id));
    let category = context.term_definition("category").expect("defined");
    assert_eq!(category.type_mapping(), Some(&TypeMapping::Vocab));
    let total = context.term_definition("totalSpotNumber").expect("defined");
    assert_eq!(
        total.type_mapping(),
        Some(&TypeMapping::Datatype(
            "http://www.w3.org/2001/XMLSchema#integer".into()
        ))
    );
    let hours = context.term_definition("openingHours").expect("defined");
    assert!(hours.has_container(Container::Set));
    let by_iri = context
        .definition_of_iri("https://smartdatamodels.org/dataModel.Parking/category")
        .expect("defined");
    assert_eq!(by_iri.type_mapping(), Some(&TypeMapping::Vocab));
    assert!(context.term_definition("chargeType").is_none());
}

#[test]
fn vocab_values_resolve_terms_to_iris() {
    let context = parking();
    let free = "https://smartdatamodels.org/dataModel.Parking/free";
    assert_eq!(context.expand_vocab_value("free"), free);
    assert_eq!(context.compact_vocab_value(free), "free");
    // Not a term: relative to the user's @vocab.
    assert_eq!(
        context.expand_vocab_value("closed"),
        "https://smart-parking.example.org/vocab/closed"
    );
    // @type: @id values only honour prefixes, never terms or @vocab.
    assert_eq!(context.expand_iri_value("free"), "free");
    assert_eq!(
        context.expand_iri_value("parking:site-1"),
        "https://smartdatamodels.org/dataModel.Parking/site-1"
    );
    assert_eq!(
        context.expand_iri_value("urn:ngsi-ld:OffStreetParking:1"),
        "urn:ngsi-ld:OffStreetParking:1"
    );
}

#[test]
fn the_core_context_wins_over_user_terms() {
    let context = ActiveContext::from_inline(&json!({
        "location": "https://example.org/myLocation",
        "type": "https://example.org/type",
        "value": "https://example.org/value",
        "createdAt": "https://example.org/created"
    }))
    .expect("valid context");
    assert_eq!(
        context.expand_term("location"),
        "https://uri.etsi.org/ngsi-ld/location"
    );
    assert_eq!(context.expand_term("type"), "@type");
    assert_eq!(
        context.expand_term("value"),
        "https://uri.etsi.org/ngsi-ld/hasValue"
    );
    assert_eq!(
        context.expand_term("createdAt"),
        "https://uri.etsi.org/ngsi-ld/createdAt"
    );
    assert!(context
        .term_definition("location")
        .is_some_and(TermDefinition::is_protected));
}

#[test]
fn user_definitions_may_use_core_prefixes() {
    let context = ActiveContext::from_inline(&json!({
        "temperature": "ngsi-ld:temperature",
        "shape": "geojson:Polygon"
    }))
    .expect("valid context");
    assert_eq!(
        context.expand_term("temperature"),
        "https://uri.etsi.org/ngsi-ld/temperature"
    );
    // Two terms for one IRI: the shortest wins compaction (JSON-LD term selection).
    assert_eq!(
        context.compact_iri("https://purl.org/geojson/vocab#Polygon"),
        "shape"
    );
}

#[test]
fn null_undefines_a_term_and_resets_a_context() {
    let undefined = ActiveContext::from_inline(&json!([
        {"speed": "https://example.org/speed"},
        {"speed": null}
    ]))
    .expect("valid context");
    assert_eq!(
        undefined.expand_term("speed"),
        format!("{DEFAULT_VOCAB}speed")
    );
    let reset = ActiveContext::from_inline(&json!([
        {"@vocab": "https://example.org/", "speed": "https://example.org/speed"},
        null
    ]))
    .expect("valid context");
    assert_eq!(reset.expand_term("speed"), format!("{DEFAULT_VOCAB}speed"));
    assert_eq!(
        reset.expand_term("location"),
        "https://uri.etsi.org/ngsi-ld/location"
    );
}

#[test]
fn remote_urls_are_refused_inline_but_core_urls_are_fine() {
    let err = ActiveContext::from_inline(&json!(["https://example.org/ctx.jsonld"]))
        .expect_err("remote URL");
    assert!(
        matches!(&err, NgsiError::InvalidContext(m) if m.contains("ContextResolver")),
        "{err}"
    );
    let core = ActiveContext::from_inline(&json!(
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld"
    ))
    .expect("core URL");
    assert!(core.is_core_only());
    assert_eq!(core.link_url(), Some(CORE_CONTEXT_URL));
    let inline = ActiveContext::from_inline(&json!([
        {"speed": "https://example.org/speed"},
        CORE_CONTEXT_URL
    ]))
    .expect("valid context");
    assert_eq!(inline.link_url(), None);
    assert!(!inline.is_core_only());
}

#[test]
fn cyclic_user_definitions_are_invalid_context() {
    let err = ActiveContext::from_inline(&json!({"a": "b:x", "b": "a:y"})).expect_err("cycle");
    assert!(matches!(err, NgsiError::InvalidContext(_)));
    // GS CIM 009 5.5.4: JSON that is not a valid @context is BadRequestData.
    assert_eq!(err.error_type(), crate::ErrorType::BadRequestData);
}

/// A user context with distinct generated terms, each under its own IRI.
fn generated_context(terms: &[String]) -> Arc<ActiveContext> {
    let mut definitions = serde_json::Map::new();
    definitions.insert("ex".into(), json!("https://example.org/ns/"));
    for (i, term) in terms.iter().enumerate() {
        let definition = if i % 2 == 0 {
            json!(format!("ex:{term}"))
        } else {
            json!({"@id": format!("https://example.org/other/{term}"), "@type": "@vocab"})
        };
        definitions.insert(term.clone(), definition);
    }
    ActiveContext::from_inline(&Value::Object(definitions)).expect("generated context")
}

fn user_terms() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::btree_set("[a-z][a-zA-Z0-9_]{0,10}", 1..12).prop_map(|set| {
        set.into_iter()
            .filter(|term| ActiveContext::core().term_definition(term).is_none() && term != "ex")
            .collect()
    })
}

fn iris() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_]{1,12}".prop_map(|s| format!("{DEFAULT_VOCAB}{s}")),
        "[a-zA-Z0-9_/#-]{0,16}".prop_map(|s| format!("https://example.org/ns/{s}")),
        "[a-zA-Z0-9_]{1,12}".prop_map(|s| format!("https://example.org/other/{s}")),
        "[a-zA-Z0-9_/:#.-]{0,24}".prop_map(|s| format!("https://uri.etsi.org/ngsi-ld/{s}")),
        "[a-zA-Z0-9_:.-]{1,24}".prop_map(|s| format!("urn:ngsi-ld:{s}")),
        "[a-z]{1,8}\\.[a-z]{2,3}/[a-zA-Z0-9_/#?=:@.-]{0,24}".prop_map(|s| format!("http://{s}")),
    ]
}

proptest! {
    #[test]
    fn compacting_an_expanded_defined_term_gives_the_term(terms in user_terms()) {
        let context = generated_context(&terms);
        for term in &terms {
            let iri = context.expand_term(term).into_owned();
            prop_assert_eq!(context.compact_iri(&iri), term.as_str());
        }
    }

    #[test]
    fn expanding_a_compacted_iri_gives_the_iri(terms in user_terms(), iri in iris()) {
        for context in [ActiveContext::core(), generated_context(&terms), parking()] {
            let compact = context.compact_iri(&iri).into_owned();
            prop_assert_eq!(context.expand_term(&compact), iri.as_str(), "compacted to {}", compact);
        }
    }

    #[test]
    fn undefined_terms_round_trip_through_vocab(term in "[a-zA-Z][a-zA-Z0-9_]{0,16}") {
        let core = ActiveContext::core();
        let iri = core.expand_term(&term).into_owned();
        prop_assert_eq!(core.compact_iri(&iri), term.as_str());
    }
}
