//! Clause 4.5 (normalized, concise, keyValues), 6.3.6 (Accept: JSON, JSON-LD, GeoJSON),
//! 6.3.4 (request media types, merge-patch+json), 4.15 (`lang`).

use crate::{enc, entity_fixture, entity_path, urn, Client, CONTEXT_REL};
use reqwest::Method;
use serde_json::json;

async fn thing(client: &Client) -> String {
    let id = urn("Thing");
    client.create(&entity_fixture("all-kinds.json", &id)).await;
    id
}

pub(crate) async fn key_values_by_options_or_format_is_bare_values() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let expected = json!({
        "id": id,
        "type": "Vehicle",
        "brandName": "Mercedes",
        "speed": 80,
        "isParked": "urn:ngsi-ld:OffStreetParking:Downtown1",
        "location": {"type": "Point", "coordinates": [-3.7, 40.4]}
    });
    for query in [
        "options=keyValues",
        "format=keyValues",
        "options=simplified",
    ] {
        let got = client.get(&format!("{}?{query}", entity_path(&id))).await;
        assert_eq!(got.json, expected, "{query}");
    }
}

pub(crate) async fn concise_drops_types_and_keeps_members() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let got = client
        .get(&format!("{}?format=concise", entity_path(&id)))
        .await;
    assert_eq!(
        got.json,
        json!({
            "id": id,
            "type": "Vehicle",
            "brandName": "Mercedes",
            "speed": {"value": 80, "unitCode": "KMH"},
            "isParked": {"object": "urn:ngsi-ld:OffStreetParking:Downtown1"},
            "location": {"type": "Point", "coordinates": [-3.7, 40.4]}
        })
    );
}

pub(crate) async fn concise_input_is_accepted() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client
        .create(&json!({
            "id": id, "type": "Vehicle",
            "brandName": "Mercedes",
            "speed": {"value": 80, "unitCode": "KMH"},
            "isParked": {"object": "urn:ngsi-ld:OffStreetParking:Downtown1"},
            "location": {"type": "Point", "coordinates": [-3.7, 40.4]}
        }))
        .await;
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json, entity_fixture("vehicle.json", &id));
}

pub(crate) async fn every_kind_renders_in_key_values() {
    let client = Client::shared();
    let id = thing(&client).await;
    let got = client
        .get(&format!("{}?options=keyValues", entity_path(&id)))
        .await;
    assert_eq!(got.json["temperature"], 21.5);
    assert_eq!(got.json["owner"], "urn:ngsi-ld:Person:alice");
    // 4.5.4: LanguageProperty, JsonProperty and VocabProperty keep their value member's name.
    assert_eq!(
        got.json["name"],
        json!({"languageMap": {"en": "Bridge", "fr": "Pont"}})
    );
    assert_eq!(got.json["readings"], json!([1, 2, 3]));
    assert_eq!(
        got.json["neighbours"],
        json!(["urn:ngsi-ld:Thing:a", "urn:ngsi-ld:Thing:b"])
    );
    assert_eq!(got.json["config"]["json"]["mode"], "auto");
}

pub(crate) async fn unknown_format_or_option_is_400() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    // GS CIM 009 6.3.20: a format or option the operation does not support is InvalidRequest;
    // two formats at once is a contradictory value, BadRequestData.
    for query in ["format=pretty", "options=fast", "options=keyValues,fast"] {
        client
            .get(&format!("{}?{query}", entity_path(&id)))
            .await
            .assert_error(400, "InvalidRequest");
    }
    client
        .get(&format!("{}?options=keyValues,concise", entity_path(&id)))
        .await
        .assert_error(400, "BadRequestData");
}

pub(crate) async fn accept_json_ld_puts_the_context_in_the_body_and_no_link() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let got = client
        .get_with(&entity_path(&id), &[("Accept", "application/ld+json")])
        .await;
    got.assert_status(200);
    assert!(got
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/ld+json")));
    assert!(got.header("link").is_none(), "no Link with JSON-LD");
    assert!(
        got.json["@context"]
            .to_string()
            .contains("ngsi-ld-core-context"),
        "{}",
        got.text
    );
    assert_eq!(got.json["speed"]["value"], 80);

    let list = client
        .get_with(
            &format!("/ngsi-ld/v1/entities?type=Vehicle&id={}", enc(&id)),
            &[("Accept", "application/ld+json")],
        )
        .await;
    assert!(list.json[0]["@context"].is_string() || list.json[0]["@context"].is_array());
}

pub(crate) async fn accept_json_gives_a_link_header() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let got = client
        .get_with(&entity_path(&id), &[("Accept", "application/json")])
        .await;
    assert!(got.json.get("@context").is_none());
    let link = got.header("link").unwrap_or_default();
    assert!(link.contains(CONTEXT_REL), "{link}");
    assert!(link.contains("ngsi-ld-core-context"), "{link}");
}

pub(crate) async fn accept_geo_json_gives_a_feature_and_a_feature_collection() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let feature = client
        .get_with(&entity_path(&id), &[("Accept", "application/geo+json")])
        .await;
    feature.assert_status(200);
    assert!(feature
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/geo+json")));
    assert_eq!(feature.json["type"], "Feature");
    assert_eq!(feature.json["id"], id);
    assert_eq!(
        feature.json["geometry"],
        json!({"type": "Point", "coordinates": [-3.7, 40.4]})
    );
    assert_eq!(feature.json["properties"]["speed"]["value"], 80);

    let collection = client
        .get_with(
            &format!("/ngsi-ld/v1/entities?type=Vehicle&id={}", enc(&id)),
            &[("Accept", "application/geo+json")],
        )
        .await;
    collection.assert_status(200);
    assert_eq!(collection.json["type"], "FeatureCollection");
    assert_eq!(collection.json["features"][0]["id"], id);
    assert_eq!(collection.json["features"][0]["type"], "Feature");
}

pub(crate) async fn unsupported_accept_is_406() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    for accept in ["text/html", "application/xml", "application/json;q=0"] {
        client
            .get_with(&entity_path(&id), &[("Accept", accept)])
            .await
            .assert_error(406, "InvalidRequest");
    }
    client
        .get_with("/ngsi-ld/v1/types", &[("Accept", "application/geo+json")])
        .await
        .assert_error(406, "InvalidRequest");
    // A wildcard with a lower preference still works.
    client
        .get_with(&entity_path(&id), &[("Accept", "text/html, */*;q=0.1")])
        .await
        .assert_status(200);
}

pub(crate) async fn unsupported_content_type_is_415() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let body = entity_fixture("vehicle.json", &id).to_string().into_bytes();
    for ctype in [
        "text/plain",
        "application/xml",
        "application/merge-patch+json",
    ] {
        client
            .send(
                Method::POST,
                "/ngsi-ld/v1/entities",
                Some((ctype, body.clone())),
                &[],
            )
            .await
            .assert_error(415, "InvalidRequest");
    }
    client
        .get(&entity_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn merge_patch_json_is_accepted_on_patch() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let body = json!({"speed": {"type": "Property", "value": 99}})
        .to_string()
        .into_bytes();
    client
        .send(
            Method::PATCH,
            &entity_path(&id),
            Some(("application/merge-patch+json", body)),
            &[],
        )
        .await
        .assert_status(204);
    assert_eq!(
        client.get(&entity_path(&id)).await.json["speed"]["value"],
        99
    );
}

pub(crate) async fn lang_picks_one_language_of_a_language_property() {
    let client = Client::shared();
    let id = thing(&client).await;
    let got = client.get(&format!("{}?lang=fr", entity_path(&id))).await;
    assert_eq!(
        got.json["name"],
        json!({"type": "Property", "value": "Pont", "lang": "fr"})
    );
    let got = client
        .get(&format!("{}?lang=de,en;q=0.5", entity_path(&id)))
        .await;
    assert_eq!(got.json["name"]["value"], "Bridge");
    // 4.15, example 3: `*` is a string in any supported language, with its `lang`.
    let got = client.get(&format!("{}?lang=*", entity_path(&id))).await;
    assert_eq!(got.json["name"]["type"], "Property", "{}", got.text);
    let lang = got.json["name"]["lang"].as_str().unwrap_or_default();
    let expected = if lang == "fr" { "Pont" } else { "Bridge" };
    assert_eq!(got.json["name"]["value"], expected, "{}", got.text);
    // A range finds a longer tag's shorter form (RFC 4647 lookup): fr-BE is served fr.
    let got = client
        .get(&format!("{}?lang=fr-BE", entity_path(&id)))
        .await;
    assert_eq!(got.json["name"]["value"], "Pont", "{}", got.text);
    let got = client
        .get(&format!("{}?lang=fr&options=keyValues", entity_path(&id)))
        .await;
    assert_eq!(got.json["name"], "Pont");
}

pub(crate) async fn content_type_parameters_are_accepted() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client
        .send(
            Method::POST,
            "/ngsi-ld/v1/entities",
            Some((
                "application/json; charset=utf-8",
                entity_fixture("vehicle.json", &id).to_string().into_bytes(),
            )),
            &[],
        )
        .await
        .assert_status(201);
    let got = client
        .get_with(
            &entity_path(&id),
            &[("Accept", "application/ld+json;q=0.5, application/json")],
        )
        .await;
    assert!(got
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
}

pub(crate) async fn concise_output_is_accepted_back_as_the_same_entity() {
    let client = Client::shared();
    for name in [
        "all-kinds.json",
        "vehicle.json",
        "parking-with-sub-attributes.json",
    ] {
        let id = urn("Thing");
        client.create(&entity_fixture(name, &id)).await;
        let concise = client
            .get(&format!("{}?format=concise", entity_path(&id)))
            .await;
        concise.assert_status(200);
        let copy = urn("Thing");
        let mut body = concise.json.clone();
        body["id"] = json!(copy);
        client.create(&body).await;
        let got = client.get(&entity_path(&copy)).await;
        assert_eq!(got.json, entity_fixture(name, &copy), "{name}");
    }
}

pub(crate) async fn relationship_object_types_round_trip() {
    let client = Client::shared();
    let id = urn("Thing");
    let entity = json!({
        "id": id, "type": "Thing",
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1", "objectType": "Person"},
        "friends": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Person:2"}], "objectType": "Person"},
        "tags": {"type": "VocabProperty", "vocab": ["https://example.org/a", "https://example.org/b"]}
    });
    client.create(&entity).await;
    assert_eq!(client.get(&entity_path(&id)).await.json, entity);
}

pub(crate) async fn geometry_property_chooses_the_feature_geometry() {
    let client = Client::shared();
    let id = urn("Delivery");
    client
        .create(&json!({
            "id": id, "type": "Delivery",
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
            "destination": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [3, 4]}}
        }))
        .await;
    let geo = [("Accept", "application/geo+json")];
    let feature = client
        .get_with(
            &format!("{}?geometryProperty=destination", entity_path(&id)),
            &geo,
        )
        .await;
    assert_eq!(feature.json["geometry"]["coordinates"], json!([3, 4]));
    let collection = client
        .get_with(
            &format!(
                "/ngsi-ld/v1/entities?type=Delivery&id={}&geometryProperty=destination&options=keyValues",
                enc(&id)
            ),
            &geo,
        )
        .await;
    let first = &collection.json["features"][0];
    assert_eq!(first["geometry"]["coordinates"], json!([3, 4]));
    assert_eq!(
        first["properties"]["location"],
        json!({"type": "Point", "coordinates": [1, 2]})
    );
    // An entity without the geometry property is a Feature with a null geometry.
    let none = client
        .get_with(
            &format!("{}?geometryProperty=elsewhere", entity_path(&id)),
            &geo,
        )
        .await;
    none.assert_status(200);
    assert!(none.json["geometry"].is_null(), "{}", none.text);
}

pub(crate) async fn lang_applies_to_query_results_too() {
    let client = Client::shared();
    let id = thing(&client).await;
    let reply = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type=Thing&id={}&lang=fr",
            enc(&id)
        ))
        .await;
    assert_eq!(
        reply.json[0]["name"],
        json!({"type": "Property", "value": "Pont", "lang": "fr"})
    );
}

/// GS CIM 009 6.3.4 with RFC 9110 12.5.1: a representation takes the weight of the most
/// specific Accept range that names it; a weight that is not a number is ignored.
pub(crate) async fn accept_weights_follow_the_most_specific_range() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    for (accept, expected) in [
        ("application/json;q=0, */*", "application/ld+json"),
        (
            "application/json;q=0, application/ld+json",
            "application/ld+json",
        ),
        ("*/*;q=0.9, application/ld+json;q=0.8", "application/json"),
        ("application/ld+json;q=notanumber", "application/ld+json"),
        (
            "application/*;q=0.5, application/json;q=0.1",
            "application/ld+json",
        ),
    ] {
        let reply = client
            .get_with(&entity_path(&id), &[("Accept", accept)])
            .await;
        reply.assert_status(200);
        assert_eq!(
            reply.header("content-type"),
            Some(expected),
            "Accept: {accept}"
        );
    }
}

/// GS CIM 009 6.3.6: a GeoJSON body carries its @context as a member unless the request says
/// `Prefer: body=json`; then the context is in a Link header and not in the body.
pub(crate) async fn geo_json_embeds_the_context_unless_prefer_body_json() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let query = format!("/ngsi-ld/v1/entities?type=Vehicle&id={}", enc(&id));
    for path in [entity_path(&id), query.clone()] {
        let embedded = client
            .get_with(&path, &[("Accept", "application/geo+json")])
            .await;
        embedded.assert_status(200);
        assert!(embedded.json.get("@context").is_some(), "{}", embedded.text);
        assert_eq!(embedded.header("link"), None);
        let linked = client
            .get_with(
                &path,
                &[("Accept", "application/geo+json"), ("Prefer", "body=json")],
            )
            .await;
        linked.assert_status(200);
        assert!(linked.json.get("@context").is_none(), "{}", linked.text);
        assert!(linked
            .header("link")
            .is_some_and(|l| l.contains("json-ld#context")));
    }
}

/// GS CIM 009 6.3.6 with 4.3.6.8: `Prefer: ngsi-ld=<version>` gets Entity data reformatted for
/// that version (members introduced later reformatted or removed, 203 when anything changed),
/// and `Preference-Applied` names the version the payload conforms to; data without fallbacks
/// (a subscription) comes unaltered, with the header.
pub(crate) async fn an_earlier_version_preference_reformats_entity_data() {
    let client = Client::shared();
    let ty = format!("Building{}", crate::unique("v"));
    let id = crate::urn("Building");
    let entity = json!({
        "id": id, "type": ty, "scope": "/city/centre",
        "category": {"type": "VocabProperty", "vocab": "commercial"},
        "owners": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:P:1"}]},
        "height": {"type": "Property", "value": 30, "unitCode": "MTR",
                   "observedAt": "2024-01-01T00:00:00Z"}
    });
    client.create(&entity).await;
    let path = crate::entity_path(&id);
    let v15 = client.get_with(&path, &[("Prefer", "ngsi-ld=1.5")]).await;
    v15.assert_status(203);
    assert_eq!(v15.header("preference-applied"), Some("ngsi-ld=1.5"));
    assert_eq!(
        v15.json["category"],
        json!({"type": "Property", "value": "commercial"})
    );
    assert_eq!(
        v15.json["owners"],
        json!({"type": "Relationship", "object": ["urn:ngsi-ld:P:1"]})
    );
    assert_eq!(v15.json["height"]["unitCode"], "MTR", "1.3 has unitCode");

    let v12 = client
        .get_with(
            &format!("/ngsi-ld/v1/entities?type={ty}"),
            &[("Prefer", "respond-async, NGSI-LD=\"1.2\"")],
        )
        .await;
    v12.assert_status(203);
    assert_eq!(v12.header("preference-applied"), Some("ngsi-ld=1.2"));
    let first = &v12.json[0];
    assert!(first.get("scope").is_none(), "{first}");
    assert!(first["height"].get("unitCode").is_none(), "{first}");

    let native = client.get_with(&path, &[("Prefer", "ngsi-ld=1.9")]).await;
    native.assert_status(200);
    assert_eq!(native.header("preference-applied"), Some("ngsi-ld=1.9"));
    assert_eq!(native.json["category"]["type"], "VocabProperty");
    let plain = client.get(&path).await;
    assert!(plain.header("preference-applied").is_none());

    let sub = client
        .post(
            "/ngsi-ld/v1/subscriptions",
            &json!({"type": "Subscription", "entities": [{"type": ty}],
                "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}}),
        )
        .await;
    sub.assert_status(201);
    let location = sub.header("location").unwrap_or_default().to_owned();
    let got = client
        .get_with(&location, &[("Prefer", "ngsi-ld=1.0")])
        .await;
    got.assert_status(200);
    assert_eq!(got.header("preference-applied"), Some("ngsi-ld=1.0"));
    assert!(got.json["entities"].is_array(), "{}", got.text);
    client.delete(&location).await.assert_status(204);
}
