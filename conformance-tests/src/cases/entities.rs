//! Clause 5.6.1 (create), 5.7.1 (retrieve), 5.6.6 (delete), 5.6.17 (merge), 5.6.18 (replace),
//! 5.6.21 (purge): entities by id, every attribute kind, sub-attributes, datasetIds and the
//! system timestamps.

use crate::{enc, entity_fixture, entity_path, urn, Client};
use reqwest::Method;
use serde_json::json;

/// Timestamps have millisecond resolution: waits until a later write gets a later one.
async fn next_millisecond() {
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
}

pub(crate) async fn create_then_retrieve_returns_the_entity_as_sent() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let vehicle = entity_fixture("vehicle.json", &id);
    let created = client.create(&vehicle).await;
    assert_eq!(
        created.header("location"),
        Some(format!("/ngsi-ld/v1/entities/{id}").as_str())
    );

    let got = client.get(&entity_path(&id)).await;
    got.assert_status(200);
    assert_eq!(got.json, vehicle);
    assert!(got
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert!(got
        .header("link")
        .is_some_and(|l| l.contains("http://www.w3.org/ns/json-ld#context")));
}

pub(crate) async fn every_attribute_kind_round_trips() {
    let client = Client::shared();
    let id = urn("Thing");
    let thing = entity_fixture("all-kinds.json", &id);
    client.create(&thing).await;
    let got = client.get(&entity_path(&id)).await;
    got.assert_status(200);
    assert_eq!(got.json, thing);
}

pub(crate) async fn sub_attributes_round_trip() {
    let client = Client::shared();
    let id = urn("OffStreetParking");
    let parking = entity_fixture("parking-with-sub-attributes.json", &id);
    client.create(&parking).await;
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json, parking);
}

pub(crate) async fn dataset_id_instances_are_returned_as_an_array() {
    let client = Client::shared();
    let id = urn("Sensor");
    let sensor = entity_fixture("sensor-with-datasets.json", &id);
    client.create(&sensor).await;
    let got = client.get(&entity_path(&id)).await;
    let instances = got.json["temperature"].as_array().expect("three instances");
    assert_eq!(instances.len(), 3);
    for expected in sensor["temperature"].as_array().into_iter().flatten() {
        assert!(instances.contains(expected), "{expected} in {instances:?}");
    }
}

pub(crate) async fn create_existing_entity_is_409_already_exists() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    client
        .post("/ngsi-ld/v1/entities", &entity_fixture("vehicle.json", &id))
        .await
        .assert_error(409, "AlreadyExists");
}

pub(crate) async fn retrieve_missing_entity_is_404_resource_not_found() {
    let client = Client::shared();
    client
        .get(&entity_path(&urn("Vehicle")))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn delete_removes_the_entity() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let path = entity_path(&id);
    client.delete(&path).await.assert_status(204);
    client
        .get(&path)
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .delete(&path)
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn invalid_payloads_are_400_bad_request_data() {
    let client = Client::shared();
    let cases = [
        json!({"id": "not a uri", "type": "T"}),
        json!({"type": "T"}),
        json!({"id": "urn:a:b"}),
        json!({"id": "urn:a:b", "type": "T", "a": {"type": "Relationship", "object": "x y"}}),
        json!({"id": "urn:a:b", "type": "T", "a": {"type": "Property"}}),
        json!({"id": "urn:a:b", "type": "T", "a": {"type": "Proprety", "value": 1}}),
        json!({"id": "urn:a:b", "type": "T", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [500, 100]}}}),
        json!({"id": "urn:a:b", "type": "T", "a": {"type": "Property", "value": 1, "observedAt": "yesterday"}}),
    ];
    for body in cases {
        let reply = client.post("/ngsi-ld/v1/entities", &body).await;
        assert_eq!(reply.status.as_u16(), 400, "{body}: {}", reply.text);
        reply.assert_error(400, "BadRequestData");
    }
    // Valid JSON that is no entity at all: 400, whichever of the two types a broker picks.
    for body in [
        json!([{"id": "urn:a:b", "type": "T"}]),
        json!("urn:a:b"),
        json!(null),
    ] {
        let reply = client.post("/ngsi-ld/v1/entities", &body).await;
        assert_eq!(reply.status.as_u16(), 400, "{body}: {}", reply.text);
        assert!(reply.json["type"].is_string(), "{}", reply.text);
    }
}

pub(crate) async fn replace_entity_replaces_every_attribute_and_keeps_created_at() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let path = entity_path(&id);
    let before = client.get(&format!("{path}?options=sysAttrs")).await;
    let replacement = json!({"type": "Vehicle", "colour": {"type": "Property", "value": "red"}});
    next_millisecond().await;
    client.put(&path, &replacement).await.assert_status(204);

    let after = client.get(&format!("{path}?options=sysAttrs")).await;
    assert!(after.json.get("brandName").is_none(), "{}", after.text);
    assert!(after.json.get("speed").is_none(), "{}", after.text);
    assert_eq!(after.json["colour"]["value"], "red");
    assert_eq!(after.json["createdAt"], before.json["createdAt"]);
    assert!(
        after.json["modifiedAt"].as_str() > before.json["modifiedAt"].as_str(),
        "modifiedAt moves: {} -> {}",
        before.json["modifiedAt"],
        after.json["modifiedAt"]
    );
}

pub(crate) async fn replace_missing_entity_is_404() {
    let client = Client::shared();
    client
        .put(
            &entity_path(&urn("Vehicle")),
            &json!({"type": "Vehicle", "speed": {"type": "Property", "value": 1}}),
        )
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn merge_entity_updates_adds_and_deletes_with_ngsi_ld_null() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let path = entity_path(&id);
    let patch = json!({
        "speed": {"type": "Property", "value": 95},
        "colour": {"type": "Property", "value": "blue"},
        "brandName": "urn:ngsi-ld:null"
    });
    client.patch(&path, &patch).await.assert_status(204);

    let got = client.get(&path).await;
    assert_eq!(got.json["speed"]["value"], 95);
    assert_eq!(
        got.json["speed"]["unitCode"], "KMH",
        "merge keeps members not given"
    );
    assert_eq!(got.json["colour"]["value"], "blue");
    assert!(got.json.get("brandName").is_none(), "{}", got.text);
    assert_eq!(
        got.json["isParked"]["object"],
        "urn:ngsi-ld:OffStreetParking:Downtown1"
    );
}

pub(crate) async fn merge_entity_merges_sub_attributes() {
    let client = Client::shared();
    let id = urn("OffStreetParking");
    client
        .create(&entity_fixture("parking-with-sub-attributes.json", &id))
        .await;
    let path = entity_path(&id);
    let patch = json!({"availableSpotNumber": {"value": 99, "reliability": {"type": "Property", "value": 0.9}, "providedBy": "urn:ngsi-ld:null"}});
    client.patch(&path, &patch).await.assert_status(204);
    let got = client.get(&path).await;
    let attr = &got.json["availableSpotNumber"];
    assert_eq!(attr["value"], 99);
    assert_eq!(attr["reliability"]["value"], 0.9);
    assert!(attr.get("providedBy").is_none(), "{attr}");
    assert_eq!(attr["observedAt"], "2024-03-01T12:05:02Z");
}

pub(crate) async fn merge_of_missing_entity_is_404() {
    let client = Client::shared();
    client
        .patch(
            &entity_path(&urn("Vehicle")),
            &json!({"speed": {"type": "Property", "value": 1}}),
        )
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn merge_with_another_id_in_the_body_is_400() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    client
        .patch(
            &entity_path(&id),
            &json!({"id": urn("Vehicle"), "speed": {"type": "Property", "value": 1}}),
        )
        .await
        .assert_error(400, "BadRequestData");
}

pub(crate) async fn sys_attrs_created_at_is_kept_and_modified_at_moves() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let path = entity_path(&id);
    let sys = format!("{path}?options=sysAttrs");
    let before = client.get(&sys).await;
    for member in ["createdAt", "modifiedAt"] {
        assert!(before.json[member].is_string(), "{member}: {}", before.text);
        assert!(
            before.json["speed"][member].is_string(),
            "{member}: {}",
            before.text
        );
    }
    assert_eq!(before.json["createdAt"], before.json["modifiedAt"]);
    next_millisecond().await;
    client
        .patch(&path, &json!({"speed": {"type": "Property", "value": 81}}))
        .await
        .assert_status(204);
    let after = client.get(&sys).await;
    assert_eq!(after.json["createdAt"], before.json["createdAt"]);
    assert_eq!(
        after.json["speed"]["createdAt"],
        before.json["speed"]["createdAt"]
    );
    assert!(after.json["modifiedAt"].as_str() > before.json["modifiedAt"].as_str());
    assert!(
        after.json["speed"]["modifiedAt"].as_str() > before.json["speed"]["modifiedAt"].as_str()
    );
    assert_eq!(
        after.json["brandName"]["modifiedAt"], before.json["brandName"]["modifiedAt"],
        "an untouched attribute keeps its modifiedAt"
    );

    let plain = client.get(&path).await;
    assert!(plain.json.get("createdAt").is_none(), "only with sysAttrs");
}

pub(crate) async fn system_members_in_a_payload_are_ignored_or_refused() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let mut vehicle = entity_fixture("vehicle.json", &id);
    vehicle["createdAt"] = json!("2000-01-01T00:00:00Z");
    let reply = client.post("/ngsi-ld/v1/entities", &vehicle).await;
    assert!(
        matches!(reply.status.as_u16(), 201 | 400),
        "{}: {}",
        reply.status,
        reply.text
    );
    if reply.status.as_u16() == 201 {
        let got = client
            .get(&format!("{}?options=sysAttrs", entity_path(&id)))
            .await;
        assert_ne!(got.json["createdAt"], "2000-01-01T00:00:00Z");
    }
}

pub(crate) async fn the_location_header_names_the_created_entity_whatever_its_id() {
    let client = Client::shared();
    let base = crate::unique("v");
    for suffix in ["plain", "a/b", "q?x=1", "frag#1", "caf\u{e9}", "sp%20ace"] {
        let id = format!("urn:ngsi-ld:Vehicle:{base}:{suffix}");
        let created = client.create(&entity_fixture("vehicle.json", &id)).await;
        let location = created.header("location").expect("Location").to_owned();
        assert!(location.starts_with("/ngsi-ld/v1/entities/"), "{location}");
        let got = client.get(&location).await;
        assert_eq!(got.status.as_u16(), 200, "{id} at {location}: {}", got.text);
        assert_eq!(got.json["id"], id, "{location}");
        // The id percent-encoded by the client addresses it too.
        let by_path = client
            .get(&format!("/ngsi-ld/v1/entities/{}", enc(&id)))
            .await;
        assert_eq!(by_path.json["id"], id);
    }
}

pub(crate) async fn concurrent_appends_to_one_entity_lose_no_attribute() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let path = format!("{}/attrs", entity_path(&id));
    let writes = (0..24).map(|i| {
        let (client, path) = (client.clone(), path.clone());
        tokio::spawn(async move {
            client
                .post(
                    &path,
                    &json!({format!("a{i}"): {"type": "Property", "value": i}}),
                )
                .await
                .status
                .as_u16()
        })
    });
    for write in writes.collect::<Vec<_>>() {
        assert_eq!(write.await.ok(), Some(204));
    }
    let got = client
        .get(&format!("{}?options=keyValues", entity_path(&id)))
        .await;
    for i in 0..24 {
        assert_eq!(got.json[format!("a{i}")], i, "a{i} in {}", got.text);
    }
    assert_eq!(got.json["speed"], 80);
}

pub(crate) async fn concurrent_creates_of_one_id_succeed_exactly_once() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let attempts = (0..12).map(|_| {
        let (client, body) = (client.clone(), entity_fixture("vehicle.json", &id));
        tokio::spawn(async move {
            client
                .post("/ngsi-ld/v1/entities", &body)
                .await
                .status
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap_or(0));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        11,
        "{statuses:?}"
    );
}

pub(crate) async fn purge_entities_by_type_deletes_only_that_type() {
    let client = Client::shared();
    let ty = crate::unique("Purged");
    let keep = crate::unique("Kept");
    let a = urn("P");
    let b = urn("P");
    let c = urn("P");
    for (id, t) in [(&a, &ty), (&b, &ty), (&c, &keep)] {
        client.create(&json!({"id": id, "type": t})).await;
    }
    client
        .send(
            Method::DELETE,
            &format!("/ngsi-ld/v1/entities?type={ty}"),
            None,
            &[],
        )
        .await
        .assert_status(204);
    for id in [&a, &b] {
        client
            .get(&entity_path(id))
            .await
            .assert_error(404, "ResourceNotFound");
    }
    client.get(&entity_path(&c)).await.assert_status(200);
}

pub(crate) async fn replace_with_another_id_in_the_body_is_400() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    client
        .put(
            &entity_path(&id),
            &entity_fixture("vehicle.json", &urn("Vehicle")),
        )
        .await
        .assert_error(400, "BadRequestData");
    assert_eq!(
        client.get(&entity_path(&id)).await.json,
        entity_fixture("vehicle.json", &id)
    );
}

/// GS CIM 009 5.7.1.4, 6.5.3.1: an entity with none of the `attrs` asked for is
/// ResourceNotFound; `attrs` is a synonym of `pick`, so a `pick` or an `omit` that leaves
/// nothing of the entity is too.
pub(crate) async fn retrieve_projecting_nothing_is_404() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    for query in [
        "attrs=colour",
        "pick=colour",
        "omit=id,type,brandName,speed,isParked,location",
    ] {
        client
            .get(&format!("{}?{query}", entity_path(&id)))
            .await
            .assert_error(404, "ResourceNotFound");
    }
    let got = client
        .get(&format!("{}?attrs=colour,speed", entity_path(&id)))
        .await;
    got.assert_status(200);
    assert_eq!(got.json["speed"]["value"], 80, "{}", got.text);
    assert!(got.json.get("brandName").is_none(), "{}", got.text);
}

/// Table 6.2-1 names the resources with a trailing slash (`/entities/`); both forms answer.
pub(crate) async fn resources_answer_with_a_trailing_slash() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client
        .post(
            "/ngsi-ld/v1/entities/",
            &entity_fixture("vehicle.json", &id),
        )
        .await
        .assert_status(201);
    let listed = client
        .get(&format!(
            "/ngsi-ld/v1/entities/?type=Vehicle&id={}",
            enc(&id)
        ))
        .await;
    assert_eq!(listed.json[0]["id"], id, "{}", listed.text);
    client
        .get(&format!("{}/", entity_path(&id)))
        .await
        .assert_status(200);
    client
        .post(
            &format!("{}/attrs/", entity_path(&id)),
            &json!({"colour": {"type": "Property", "value": "red"}}),
        )
        .await
        .assert_status(204);
    let batch = urn("Vehicle");
    client
        .post(
            "/ngsi-ld/v1/entityOperations/create/",
            &json!([entity_fixture("vehicle.json", &batch)]),
        )
        .await
        .assert_status(201);
    for path in [
        "/ngsi-ld/v1/types/",
        "/ngsi-ld/v1/attributes/",
        "/ngsi-ld/v1/jsonldContexts/",
    ] {
        client.get(path).await.assert_status(200);
    }
}

/// Names are Unicode letters and digits (clause 4.6.2), not just ASCII.
pub(crate) async fn unicode_names_round_trip_and_are_queryable() {
    let client = Client::shared();
    let ty = format!("Véhicule{}", crate::unique(""));
    let id = urn("Vehicle");
    let entity = json!({
        "id": id, "type": ty,
        "température": {"type": "Property", "value": 5},
        "名前": {"type": "Property", "value": "車"}
    });
    client.create(&entity).await;
    assert_eq!(client.get(&entity_path(&id)).await.json, entity);
    let found = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={}&q={}",
            enc(&ty),
            enc("température>1")
        ))
        .await;
    assert_eq!(found.json, json!([entity]));
    client
        .delete(&format!("{}/attrs/{}", entity_path(&id), enc("名前")))
        .await
        .assert_status(204);
}

pub(crate) async fn merge_with_ngsi_ld_null_removes_the_scope() {
    let client = Client::shared();
    let id = urn("Garden");
    client
        .create(&json!({"id": id, "type": "Garden", "scope": "/Madrid/Retiro", "area": 118}))
        .await;
    let path = entity_path(&id);
    assert_eq!(client.get(&path).await.json["scope"], "/Madrid/Retiro");
    client
        .patch(&path, &json!({"scope": "urn:ngsi-ld:null"}))
        .await
        .assert_status(204);
    let got = client.get(&path).await;
    assert!(got.json.get("scope").is_none(), "{}", got.text);
    assert_eq!(got.json["area"]["value"], 118);
}

pub(crate) async fn concise_output_of_several_instances_reads_back_as_the_same_instances() {
    let client = Client::shared();
    let id = urn("Sensor");
    let normalized = json!({"id": id, "type": "Sensor", "temperature": [
        {"type": "Property", "value": 20},
        {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:a"}
    ]});
    client.create(&normalized).await;
    let concise = client
        .get(&format!("{}?format=concise", entity_path(&id)))
        .await;
    concise.assert_status(200);
    let copy_id = urn("Sensor");
    let mut copy = concise.json.clone();
    copy["id"] = json!(copy_id);
    client.create(&copy).await;
    let mut expected = normalized.clone();
    expected["id"] = json!(copy_id);
    assert_eq!(client.get(&entity_path(&copy_id)).await.json, expected);
}

/// GS CIM 009 4.5.5, 5.7.1.4, 5.7.2.4: `datasetId` keeps only the attribute instances it
/// lists, `@none` naming the default instance; an attribute with none of them is left out.
pub(crate) async fn dataset_id_parameter_keeps_only_those_instances() {
    let client = Client::shared();
    let id = urn("Building");
    let (fr, de) = ("urn:ngsi-ld:Dataset:fr", "urn:ngsi-ld:Dataset:de");
    client
        .create(&json!({
            "id": id, "type": "Building",
            "name": [
                {"type": "Property", "value": "Eiffel Tower"},
                {"type": "Property", "value": "Tour Eiffel", "datasetId": fr},
                {"type": "Property", "value": "Eiffelturm", "datasetId": de}
            ],
            "height": {"type": "Property", "value": 330}
        }))
        .await;
    let got = client
        .get(&format!("{}?datasetId={fr}", entity_path(&id)))
        .await;
    got.assert_status(200);
    assert_eq!(got.json["name"]["value"], "Tour Eiffel", "{}", got.text);
    assert!(got.json.get("height").is_none(), "{}", got.text);
    let got = client
        .get(&format!("{}?datasetId=@none", entity_path(&id)))
        .await;
    assert_eq!(got.json["name"]["value"], "Eiffel Tower", "{}", got.text);
    assert_eq!(got.json["height"]["value"], 330, "{}", got.text);
    let listed = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type=Building&id={}&datasetId={fr},{de}",
            enc(&id)
        ))
        .await;
    listed.assert_status(200);
    let names = listed.json[0]["name"]
        .as_array()
        .map(|a| a.iter().map(|n| n["value"].clone()).collect::<Vec<_>>());
    assert_eq!(
        names,
        Some(vec![json!("Tour Eiffel"), json!("Eiffelturm")]),
        "{}",
        listed.text
    );
    client
        .get(&format!("{}?datasetId=notauri", entity_path(&id)))
        .await
        .assert_error(400, "BadRequestData");
}
