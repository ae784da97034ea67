use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::discovery::DiscoveryParams;
use super::*;
use crate::context::ActiveContext;
use crate::query::geo::GeoQueryParams;

const EX: &str = "https://example.org/";

fn ctx() -> std::sync::Arc<ActiveContext> {
    ActiveContext::from_inline(&json!({ "@vocab": EX })).expect("context")
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

fn parse(body: Value) -> crate::error::Result<CSourceRegistration> {
    CSourceRegistration::parse(
        &body,
        &ctx(),
        "urn:ngsi-ld:ContextSourceRegistration:gen".into(),
        now(),
    )
}

fn valid() -> Value {
    json!({
        "id": "urn:ngsi-ld:ContextSourceRegistration:1",
        "type": "ContextSourceRegistration",
        "information": [{
            "entities": [{ "id": "urn:ngsi-ld:Car:1", "type": "Car" }],
            "propertyNames": ["speed"],
            "relationshipNames": ["parkedAt"]
        }, {
            "entities": [{ "idPattern": ".*:Lot:.*", "type": ["Parking", "Lot"] }]
        }],
        "endpoint": "http://source.example.org:1026",
        "vendor": "acme"
    })
}

fn reg(body: Value) -> CSourceRegistration {
    parse(body).expect("valid registration")
}

#[test]
fn a_registration_reads_expanded_and_renders_compacted() {
    let r = reg(valid());
    assert_eq!(r.information[0].entities[0].types, vec![format!("{EX}Car")]);
    assert_eq!(r.information[0].property_names, vec![format!("{EX}speed")]);
    assert_eq!(
        r.properties.get(&format!("{EX}vendor")),
        Some(&json!("acme"))
    );
    let out = r.render(&ctx(), false);
    assert_eq!(out["information"][0]["entities"][0]["type"], json!("Car"));
    assert_eq!(
        out["information"][1]["entities"][0]["type"],
        json!(["Parking", "Lot"])
    );
    assert_eq!(out["vendor"], json!("acme"));
    // GS CIM 009 5.2.9: inclusive and federationOps when not given.
    assert_eq!(out["mode"], json!("inclusive"));
    assert_eq!(out["operations"], json!(["federationOps"]));
    assert!(out.get("createdAt").is_none());
    assert!(r.render(&ctx(), true).get("createdAt").is_some());
}

#[test]
fn the_storage_form_round_trips() {
    let mut body = valid();
    body["observationInterval"] = json!({ "startAt": "2020-01-01T00:00:00Z" });
    body["management"] = json!({ "timeout": 500, "localOnly": true });
    body["scope"] = json!("/Madrid");
    let r = reg(body);
    let doc = serde_json::to_value(&r).unwrap();
    let back: CSourceRegistration = serde_json::from_value(doc).unwrap();
    assert_eq!(back, r);
}

#[test]
fn an_id_is_generated_when_absent() {
    let mut body = valid();
    body.as_object_mut().unwrap().remove("id");
    assert_eq!(reg(body).id, "urn:ngsi-ld:ContextSourceRegistration:gen");
}

#[test]
fn invalid_members_are_bad_request_data() {
    let cases: Vec<(&str, Value)> = vec![
        ("information", json!(null)),
        ("information", json!([])),
        ("information", json!([{}])),
        (
            "information",
            json!([{ "entities": [{ "id": "urn:x:1" }] }]),
        ),
        ("information", json!([{ "propertyNames": [] }])),
        ("endpoint", json!("not a uri")),
        ("endpoint", json!("urn:ngsi-ld:nowhere")),
        ("type", json!("Subscription")),
        ("mode", json!("shared")),
        ("operations", json!(["fly"])),
        ("operations", json!([])),
        ("expiresAt", json!("2020-01-01T00:00:00Z")),
        ("expiresAt", json!("tomorrow")),
        ("refreshRate", json!("soon")),
        ("management", json!("fast")),
        ("management", json!({ "cooldown": 0 })),
        ("management", json!({ "timeout": -1 })),
        ("management", json!({ "localOnly": "yes" })),
        ("management", json!({ "cacheDuration": "x" })),
        ("contextSourceInfo", json!([{ "key": "k", "value": 1 }])),
        ("contextSourceInfo", json!([{ "key": "k" }])),
        ("contextSourceInfo", json!([{ "key": 1, "value": "v" }])),
        (
            "contextSourceInfo",
            json!([{ "key": "accept", "value": "text/plain" }]),
        ),
        (
            "observationInterval",
            json!({ "endAt": "2020-01-01T00:00:00Z" }),
        ),
        ("location", json!({ "type": "Point" })),
        ("scope", json!("Madrid")),
        ("registrationName", json!("")),
    ];
    for (member, value) in cases {
        let mut body = valid();
        body[member] = value.clone();
        let err = parse(body).expect_err(&format!("{member}: {value}"));
        assert_eq!(
            err.error_type(),
            crate::ErrorType::BadRequestData,
            "{member}: {value}: {err}"
        );
    }
    let mut missing = valid();
    missing.as_object_mut().unwrap().remove("endpoint");
    assert!(parse(missing).is_err());
}

#[test]
fn exclusive_registrations_name_entity_ids_and_attributes() {
    let exclusive = |info: Value| {
        let mut body = valid();
        body["mode"] = json!("exclusive");
        body["information"] = info;
        parse(body)
    };
    let car = json!({ "id": "urn:ngsi-ld:Car:1", "type": "Car" });
    assert!(exclusive(json!([{ "entities": [car], "propertyNames": ["speed"] }])).is_ok());
    assert!(exclusive(json!([{ "entities": [car] }])).is_err());
    assert!(
        exclusive(json!([{ "entities": [{ "type": "Car" }], "propertyNames": ["speed"] }]))
            .is_err()
    );
    assert!(exclusive(
        json!([{ "entities": [{ "idPattern": ".*", "type": "Car" }], "propertyNames": ["speed"] }])
    )
    .is_err());
    assert!(exclusive(json!([{ "propertyNames": ["speed"] }])).is_err());
}

#[test]
fn auxiliary_registrations_only_retrieve() {
    let auxiliary = |ops: Option<Value>| {
        let mut body = valid();
        body["mode"] = json!("auxiliary");
        if let Some(ops) = ops {
            body["operations"] = ops;
        }
        parse(body)
    };
    assert!(auxiliary(Some(json!(["retrieveOps"]))).is_ok());
    assert!(auxiliary(Some(json!(["retrieveOps", "updateOps"]))).is_err());
    assert!(auxiliary(None).is_err());
}

#[test]
fn a_patch_merges_and_null_removes() {
    let mut body = valid();
    body["expiresAt"] = json!("2031-01-01T00:00:00Z");
    let r = reg(body);
    let later = now() + chrono::TimeDelta::seconds(5);
    let p = r
        .patch(
            &json!({ "expiresAt": null, "description": "d", "vendor": null }),
            &ctx(),
            later,
        )
        .unwrap();
    assert_eq!(p.expires_at, None);
    assert_eq!(p.description.as_deref(), Some("d"));
    assert!(p.properties.is_empty());
    assert_eq!(p.information, r.information);
    assert_eq!(p.modified_at, Some(later));
    assert_eq!(p.created_at, r.created_at);
    assert!(r
        .patch(&json!({ "endpoint": null }), &ctx(), later)
        .is_err());
    assert!(r
        .patch(&json!({ "id": "urn:other" }), &ctx(), later)
        .is_err());
    assert!(r
        .patch(&json!({ "type": "Building" }), &ctx(), later)
        .is_err());
}

fn discover(params: DiscoveryParams<'_>) -> RegistrationQuery {
    RegistrationQuery::from_params(params, &ctx()).expect("valid query")
}

#[test]
fn discovery_needs_a_type_attrs_q_or_geoquery() {
    let err = RegistrationQuery::from_params(
        DiscoveryParams {
            id: Some("urn:ngsi-ld:Car:1"),
            ..Default::default()
        },
        &ctx(),
    )
    .unwrap_err();
    assert_eq!(err.error_type(), crate::ErrorType::BadRequestData);
    for bad in [
        DiscoveryParams {
            r#type: Some("Car"),
            id: Some("nope"),
            ..Default::default()
        },
        DiscoveryParams {
            q: Some("(speed"),
            ..Default::default()
        },
        DiscoveryParams {
            geo: GeoQueryParams {
                georel: Some("within"),
                ..Default::default()
            },
            ..Default::default()
        },
        DiscoveryParams {
            r#type: Some("Car"),
            timerel: Some("before"),
            ..Default::default()
        },
    ] {
        assert!(
            RegistrationQuery::from_params(bad, &ctx()).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn discovery_matches_entity_info_and_attributes_as_clause_5_12_says() {
    let r = reg(valid());
    let c = ctx();
    let yes = |p: DiscoveryParams<'_>| assert!(discover(p).matches(&r, &c), "{p:?}");
    let no = |p: DiscoveryParams<'_>| assert!(!discover(p).matches(&r, &c), "{p:?}");
    yes(DiscoveryParams {
        r#type: Some("Car"),
        ..Default::default()
    });
    no(DiscoveryParams {
        r#type: Some("Bus"),
        ..Default::default()
    });
    yes(DiscoveryParams {
        r#type: Some("Car"),
        id: Some("urn:ngsi-ld:Car:1"),
        ..Default::default()
    });
    no(DiscoveryParams {
        r#type: Some("Car"),
        id: Some("urn:ngsi-ld:Car:2"),
        ..Default::default()
    });
    yes(DiscoveryParams {
        r#type: Some("Lot"),
        id: Some("urn:ngsi-ld:Lot:9"),
        ..Default::default()
    });
    yes(DiscoveryParams {
        r#type: Some("Lot"),
        id_pattern: Some(".*"),
        ..Default::default()
    });
    yes(DiscoveryParams {
        attrs: Some("speed"),
        ..Default::default()
    });
    // The second RegistrationInfo names no attribute: every attribute may be provided.
    yes(DiscoveryParams {
        attrs: Some("colour"),
        ..Default::default()
    });
    no(DiscoveryParams {
        r#type: Some("Car"),
        attrs: Some("colour"),
        ..Default::default()
    });
    yes(DiscoveryParams {
        r#type: Some("Car"),
        q: Some("speed>10"),
        ..Default::default()
    });
    no(DiscoveryParams {
        r#type: Some("Car"),
        q: Some("colour==\"red\""),
        ..Default::default()
    });
}

#[test]
fn discovery_filters_on_csf_scope_geometry_and_time() {
    let mut body = valid();
    body["scope"] = json!("/Madrid/Centro");
    body["location"] = json!({ "type": "Point", "coordinates": [8.68, 49.41] });
    let r = reg(body);
    let c = ctx();
    // The Lot RegistrationInfo names no attribute, so the geoquery's `location` matches it
    // (5.10.2.4: a geoquery's GeoProperty is matched like attrs).
    let car = Some("Lot");
    let check = |p: DiscoveryParams<'_>, expected: bool| {
        assert_eq!(discover(p).matches(&r, &c), expected, "{p:?}");
    };
    check(
        DiscoveryParams {
            r#type: car,
            csf: Some("vendor==\"acme\""),
            ..Default::default()
        },
        true,
    );
    check(
        DiscoveryParams {
            r#type: car,
            csf: Some("vendor==\"other\""),
            ..Default::default()
        },
        false,
    );
    check(
        DiscoveryParams {
            r#type: car,
            csf: Some("endpoint==\"http://source.example.org:1026\""),
            ..Default::default()
        },
        true,
    );
    check(
        DiscoveryParams {
            r#type: car,
            scope_q: Some("/Madrid/#"),
            ..Default::default()
        },
        true,
    );
    check(
        DiscoveryParams {
            r#type: car,
            scope_q: Some("/Berlin"),
            ..Default::default()
        },
        false,
    );
    let near = |coordinates| GeoQueryParams {
        georel: Some("near;maxDistance==2000"),
        geometry: Some("Point"),
        coordinates: Some(coordinates),
        geoproperty: None,
    };
    check(
        DiscoveryParams {
            r#type: car,
            geo: near("[8.68,49.41]"),
            ..Default::default()
        },
        true,
    );
    check(
        DiscoveryParams {
            r#type: car,
            geo: near("[0,0]"),
            ..Default::default()
        },
        false,
    );
    // No temporal query: registrations with intervals are for temporal queries only.
    let mut temporal = valid();
    temporal["observationInterval"] =
        json!({ "startAt": "2020-08-01T00:00:00Z", "endAt": "2021-08-01T00:00:00Z" });
    let t = reg(temporal);
    assert!(!discover(DiscoveryParams {
        r#type: car,
        ..Default::default()
    })
    .matches(&t, &c));
    let when = |rel, at, prop| DiscoveryParams {
        r#type: car,
        timerel: Some(rel),
        time_at: Some(at),
        timeproperty: prop,
        ..Default::default()
    };
    assert!(discover(when("after", "2021-01-01T00:00:00Z", None)).matches(&t, &c));
    assert!(!discover(when("after", "2022-01-01T00:00:00Z", None)).matches(&t, &c));
    assert!(discover(when("before", "2021-01-01T00:00:00Z", Some("observedAt"))).matches(&t, &c));
    assert!(!discover(when("before", "2021-01-01T00:00:00Z", Some("createdAt"))).matches(&t, &c));
    assert!(!discover(when("before", "2021-01-01T00:00:00Z", None)).matches(&r, &c));
}

fn proxied(id: &str, mode: &str, entity: Value, attrs: Value) -> CSourceRegistration {
    let mut info = json!({ "entities": [entity] });
    if !attrs.is_null() {
        info["propertyNames"] = attrs;
    }
    reg(json!({
        "id": id,
        "type": "ContextSourceRegistration",
        "information": [info],
        "endpoint": "http://source.example.org",
        "mode": mode
    }))
}

#[test]
fn exclusive_registrations_do_not_overlap_proxied_ones() {
    let car = json!({ "id": "urn:ngsi-ld:Car:1", "type": "Car" });
    let ex = proxied("urn:r:1", "exclusive", car.clone(), json!(["speed"]));
    let ex2 = proxied(
        "urn:r:2",
        "exclusive",
        car.clone(),
        json!(["speed", "fuel"]),
    );
    let other_attr = proxied("urn:r:3", "exclusive", car.clone(), json!(["fuel"]));
    let redirect = proxied("urn:r:4", "redirect", car.clone(), Value::Null);
    let redirect_by_type = proxied(
        "urn:r:5",
        "redirect",
        json!({ "type": "Car" }),
        json!(["speed"]),
    );
    let inclusive = proxied("urn:r:6", "inclusive", car.clone(), json!(["speed"]));
    assert!(proxied::conflicts(&ex2, &ex));
    assert!(!proxied::conflicts(&other_attr, &ex));
    assert!(proxied::conflicts(&ex, &redirect));
    assert!(proxied::conflicts(&redirect, &ex));
    assert!(proxied::conflicts(&redirect_by_type, &ex));
    assert!(!proxied::conflicts(&redirect, &redirect_by_type));
    assert!(!proxied::conflicts(&inclusive, &ex));
    assert!(!proxied::conflicts(&ex, &inclusive));
    assert!(
        !proxied::conflicts(&ex, &ex),
        "a registration never conflicts with itself"
    );
}

#[test]
fn proxied_registrations_conflict_with_data_the_broker_holds() {
    let mut entity = crate::Entity::new("urn:ngsi-ld:Car:1", vec![format!("{EX}Car")]);
    entity.put_attribute(format!("{EX}speed"), crate::Attribute::property(json!(3)));
    let car = json!({ "id": "urn:ngsi-ld:Car:1", "type": "Car" });
    let speed = proxied("urn:r:1", "exclusive", car.clone(), json!(["speed"]));
    let fuel = proxied("urn:r:2", "exclusive", car.clone(), json!(["fuel"]));
    let redirect = proxied("urn:r:3", "redirect", json!({ "type": "Car" }), Value::Null);
    let bus = proxied("urn:r:4", "redirect", json!({ "type": "Bus" }), Value::Null);
    let inclusive = proxied("urn:r:5", "inclusive", car, json!(["speed"]));
    assert!(proxied::holds_registered_data(&speed, &entity));
    assert!(!proxied::holds_registered_data(&fuel, &entity));
    assert!(proxied::holds_registered_data(&redirect, &entity));
    assert!(!proxied::holds_registered_data(&bus, &entity));
    assert!(!proxied::holds_registered_data(&inclusive, &entity));
    assert_eq!(proxied::candidate_filters(&speed).len(), 1);
    assert!(proxied::candidate_filters(&inclusive).is_empty());
}

#[test]
fn a_geoquery_tests_the_geometry_its_geoproperty_names_and_areas_that_may_match() {
    let mut body = valid();
    body["observationSpace"] = json!({
        "type": "Polygon",
        "coordinates": [[[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [0.0, 0.0]]]
    });
    let r = reg(body);
    let c = ctx();
    let within = |geoproperty| DiscoveryParams {
        r#type: Some("Lot"),
        geo: GeoQueryParams {
            georel: Some("within"),
            geometry: Some("Polygon"),
            coordinates: Some("[[[1,1],[3,1],[3,3],[1,3],[1,1]]]"),
            geoproperty,
        },
        ..Default::default()
    };
    // Not within, but the space overlaps the query's polygon: it may hold locations within.
    assert!(discover(within(Some("observationSpace"))).matches(&r, &c));
    assert!(!discover(within(Some("operationSpace"))).matches(&r, &c));
    assert!(!discover(within(None)).matches(&r, &c), "no location");
}
