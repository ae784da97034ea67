use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::format::{render_entity, Format, RenderOptions};
use crate::query::projection::LangFilter;
use crate::ErrorType;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/entities/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn render(entity: &Entity, format: Format) -> Value {
    let opts = RenderOptions {
        format,
        ..RenderOptions::default()
    };
    Value::Object(render_entity(entity, &ActiveContext::core(), &opts))
}

#[test]
fn spec_vehicle_parses_into_every_attribute_kind() {
    let ctx = ActiveContext::core();
    let entity =
        parse_entity(fixture("vehicle_normalized.json").clone(), &ctx).expect("valid entity");
    let kind = |name: &str| {
        entity
            .attribute(&ctx.expand_term(name))
            .map(Attribute::kind)
    };
    assert_eq!(kind("brandName"), Some(AttributeKind::Property));
    assert_eq!(kind("street"), Some(AttributeKind::LanguageProperty));
    assert_eq!(kind("isParked"), Some(AttributeKind::Relationship));
    assert_eq!(kind("category"), Some(AttributeKind::VocabProperty));
    assert_eq!(kind("tyreTreadDepths"), Some(AttributeKind::ListProperty));
    assert_eq!(kind("route"), Some(AttributeKind::ListRelationship));
    assert_eq!(kind("config"), Some(AttributeKind::JsonProperty));
    assert_eq!(kind("location"), Some(AttributeKind::GeoProperty));
    let speed = &entity.attributes[ctx.expand_term("speed").as_ref()];
    assert_eq!(speed.len(), 2, "two datasetId instances");
    let is_parked = entity
        .attribute(&ctx.expand_term("isParked"))
        .expect("isParked");
    assert!(is_parked.observed_at.is_some());
    assert_eq!(is_parked.sub_attributes.len(), 1, "providedBy");
}

#[test]
fn normalized_renders_back_identically() {
    let ctx = ActiveContext::core();
    let input = fixture("vehicle_normalized.json");
    let entity = parse_entity(input.clone(), &ctx).expect("valid entity");
    assert_eq!(render(&entity, Format::Normalized), input);
}

#[test]
fn concise_and_normalized_are_the_same_entity() {
    let ctx = ActiveContext::core();
    let from_normalized =
        parse_entity(fixture("vehicle_normalized.json").clone(), &ctx).expect("normalized");
    let concise = fixture("vehicle_concise.json");
    let from_concise = parse_entity(concise.clone(), &ctx).expect("concise");
    assert_eq!(from_concise, from_normalized);
    assert_eq!(render(&from_normalized, Format::Concise), concise);
}

#[test]
fn key_values_keep_only_values() {
    let ctx = ActiveContext::core();
    let entity =
        parse_entity(fixture("vehicle_normalized.json").clone(), &ctx).expect("valid entity");
    assert_eq!(
        render(&entity, Format::KeyValues),
        fixture("vehicle_keyvalues.json")
    );
}

#[test]
fn lang_turns_a_language_property_into_a_property() {
    let ctx = ActiveContext::core();
    let entity =
        parse_entity(fixture("vehicle_normalized.json").clone(), &ctx).expect("valid entity");
    let lang = LangFilter::parse("nl").expect("lang");
    let normalized = RenderOptions {
        lang: Some(&lang),
        ..RenderOptions::default()
    };
    let out = render_entity(&entity, &ctx, &normalized);
    assert_eq!(
        out["street"],
        json!({"type": "Property", "value": "Grote Markt", "lang": "nl"})
    );
    let kv = RenderOptions {
        format: Format::KeyValues,
        lang: Some(&lang),
        ..RenderOptions::default()
    };
    assert_eq!(
        render_entity(&entity, &ctx, &kv)["street"],
        json!("Grote Markt")
    );
}

#[test]
fn sys_attrs_are_rendered_when_asked() {
    let ctx = ActiveContext::core();
    let mut entity =
        parse_entity(json!({"id": "urn:a", "type": "T", "p": 1}).clone(), &ctx).expect("valid");
    let now = crate::datetime::parse_datetime("2024-05-01T10:00:00Z").expect("date");
    entity.created_at = Some(now);
    entity.modified_at = Some(now);
    for instances in entity.attributes.values_mut() {
        for a in instances {
            a.stamp(now, None);
        }
    }
    let opts = RenderOptions {
        sys_attrs: true,
        ..RenderOptions::default()
    };
    let out = Value::Object(render_entity(&entity, &ctx, &opts));
    let t = "2024-05-01T10:00:00Z";
    assert_eq!(
        out,
        json!({"id": "urn:a", "type": "T", "createdAt": t, "modifiedAt": t,
               "p": {"type": "Property", "value": 1, "createdAt": t, "modifiedAt": t}})
    );
    // Clients cannot set system attributes: they are ignored on input.
    let again = parse_entity(out.clone(), &ctx).expect("valid");
    assert_eq!(again.created_at, None);
    assert_eq!(
        again
            .attribute(&ctx.expand_term("p"))
            .and_then(|a| a.created_at),
        None
    );
}

#[test]
fn every_invalid_entity_is_bad_request_data_with_a_precise_detail() {
    let ctx = ActiveContext::core();
    let cases = fixture("invalid_entities.json");
    for case in cases.as_array().expect("array") {
        let why = case["why"].as_str().unwrap_or_default();
        let err = parse_entity(case["entity"].clone(), &ctx).expect_err(why);
        assert_eq!(
            err.to_string(),
            case["detail"].as_str().unwrap_or_default(),
            "{why}"
        );
        let expected = if why == "not an object" {
            ErrorType::InvalidRequest
        } else {
            ErrorType::BadRequestData
        };
        assert_eq!(err.error_type(), expected, "{why}");
    }
}

#[test]
fn ngsi_ld_null_is_accepted_in_fragments_only() {
    let ctx = ActiveContext::core();
    let body = json!({
        "a": "urn:ngsi-ld:null",
        "b": {"type": "Relationship", "object": "urn:ngsi-ld:null"},
        "c": {"type": "LanguageProperty", "languageMap": {"@none": "urn:ngsi-ld:null"}},
        "d": null
    });
    let fragment = parse_attributes(body.clone(), &ctx, true).expect("merge payload");
    let kinds: Vec<_> = fragment
        .attributes
        .values()
        .map(|i| (i[0].value.is_null(), i[0].kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            (true, AttributeKind::Property),
            (true, AttributeKind::Relationship),
            (true, AttributeKind::LanguageProperty),
            (true, AttributeKind::Property)
        ]
    );
    assert!(parse_attributes(body.clone(), &ctx, false).is_err());
}

#[test]
fn fragments_need_no_id_or_type() {
    let ctx = ActiveContext::core();
    let fragment = parse_attributes(json!({"speed": 3, "@context": "x"}).clone(), &ctx, false)
        .expect("fragment");
    assert_eq!(fragment.id, None);
    assert!(fragment.types.is_empty());
    assert_eq!(fragment.attributes.len(), 1);
}

#[test]
fn concise_arrays_are_values_not_instances() {
    let ctx = ActiveContext::core();
    let entity = parse_entity(
        json!({"id": "urn:a", "type": "T", "tags": ["x", {"k": 1}]}).clone(),
        &ctx,
    )
    .expect("valid");
    let tags = &entity.attributes[ctx.expand_term("tags").as_ref()];
    assert_eq!(tags.len(), 1);
    assert_eq!(
        tags[0].value,
        AttributeValue::Property(json!(["x", {"k": 1}]))
    );
    // And it renders back in a form that parses to the same thing.
    let concise = render(&entity, Format::Concise);
    assert_eq!(
        parse_entity(concise.clone(), &ctx).expect("re-parse"),
        entity
    );
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-zA-Z0-9 ]{0,12}".prop_map(Value::from),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_attribute() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_value().prop_map(|v| json!({"type": "Property", "value": v})),
        (arb_value(), "[A-Z]{3}").prop_map(|(v, u)| json!({"type": "Property", "value": v, "unitCode": u})),
        "[a-z0-9]{1,8}".prop_map(|o| json!({"type": "Relationship", "object": format!("urn:ngsi-ld:X:{o}")})),
        prop::collection::btree_map("(en|fr|nl|de-CH)", "[a-z ]{0,8}", 1..3)
            .prop_map(|m| json!({"type": "LanguageProperty", "languageMap": m})),
        prop::collection::vec(arb_leaf(), 0..4).prop_map(|l| json!({"type": "ListProperty", "valueList": l})),
        arb_value().prop_map(|v| json!({"type": "JsonProperty", "json": {"data": v}})),
        (-180.0f64..180.0, -90.0f64..90.0)
            .prop_map(|(x, y)| json!({"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}})),
        (arb_value(), arb_value())
            .prop_map(|(v, s)| json!({"type": "Property", "value": v, "sub": {"type": "Property", "value": s}})),
    ]
}

fn arb_entity() -> impl Strategy<Value = Value> {
    (
        "[a-z0-9]{1,10}",
        "[A-Z][a-z]{0,8}",
        prop::collection::btree_map("[a-z][a-zA-Z]{0,8}", arb_attribute(), 0..6),
    )
        .prop_filter_map("reserved names", |(id, ty, attrs)| {
            let mut entity = serde_json::Map::new();
            entity.insert("id".into(), json!(format!("urn:ngsi-ld:T:{id}")));
            entity.insert("type".into(), json!(ty));
            for (name, attr) in attrs {
                if crate::ident::check_attribute_name(&name).is_err() || name == "location" {
                    return None;
                }
                entity.insert(name, attr);
            }
            Some(Value::Object(entity))
        })
}

proptest! {
    #[test]
    fn render_of_parse_is_stable_in_every_lossless_format(input in arb_entity()) {
        let ctx = ActiveContext::core();
        let entity = parse_entity(input.clone(), &ctx).expect("generated entities are valid");
        for format in [Format::Normalized, Format::Concise] {
            let rendered = render(&entity, format);
            let again = parse_entity(rendered.clone(), &ctx).expect("rendered entities are valid");
            prop_assert_eq!(&again, &entity);
            prop_assert_eq!(render(&again, format), rendered);
        }
    }

    #[test]
    fn parsing_never_panics(input in arb_value()) {
        let ctx = ActiveContext::core();
        let _ = parse_entity(input.clone(), &ctx);
        let _ = parse_attributes(input.clone(), &ctx, true);
    }
}

#[test]
fn concise_keeps_several_instances_as_objects() {
    let ctx = ActiveContext::core();
    let input = json!({"id": "urn:a", "type": "T", "temperature": [
        {"type": "Property", "value": 20},
        {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:a"}
    ]});
    let entity = parse_entity(input, &ctx).expect("valid");
    let concise = render(&entity, Format::Concise);
    assert_eq!(
        concise["temperature"],
        json!([{"value": 20}, {"value": 21, "datasetId": "urn:ngsi-ld:Dataset:a"}])
    );
    assert_eq!(parse_entity(concise, &ctx).expect("re-parse"), entity);
}

#[test]
fn merge_with_ngsi_ld_null_removes_the_scope() {
    let ctx = ActiveContext::core();
    let fragment =
        parse_attributes(json!({"scope": "urn:ngsi-ld:null"}), &ctx, true).expect("merge");
    assert_eq!(fragment.scope, Some(Vec::new()));
    assert!(parse_attributes(json!({"scope": "urn:ngsi-ld:null"}), &ctx, false).is_err());
}
