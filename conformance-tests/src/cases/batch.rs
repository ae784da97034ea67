//! Clause 5.6.7-5.6.10 and 5.6.20: batch create, upsert, update, delete and merge, each with a
//! BatchOperationResult (clause 5.2.16) when not every entity succeeds.

use crate::{entity_fixture, entity_path, urn, Client, Reply};
use reqwest::Method;
use serde_json::{json, Value};

const CREATE: &str = "/ngsi-ld/v1/entityOperations/create";
const UPSERT: &str = "/ngsi-ld/v1/entityOperations/upsert";
const UPDATE: &str = "/ngsi-ld/v1/entityOperations/update";
const DELETE: &str = "/ngsi-ld/v1/entityOperations/delete";
const MERGE: &str = "/ngsi-ld/v1/entityOperations/merge";

fn vehicles(n: usize) -> (Vec<String>, Value) {
    let ids: Vec<String> = (0..n).map(|_| urn("Vehicle")).collect();
    let body = Value::Array(
        ids.iter()
            .map(|id| entity_fixture("vehicle.json", id))
            .collect(),
    );
    (ids, body)
}

/// The `success` ids and the `errors` (entityId, error type) of a 207.
fn batch_result(reply: &Reply) -> (Vec<String>, Vec<(String, String)>) {
    reply.assert_status(207);
    let success = reply.json["success"]
        .as_array()
        .unwrap_or_else(|| panic!("success array: {}", reply.text))
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    let errors = reply.json["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors array: {}", reply.text))
        .iter()
        .map(|e| {
            assert!(e["error"]["title"].is_string(), "ProblemDetails: {e}");
            (
                e["entityId"].as_str().unwrap_or_default().to_owned(),
                e["error"]["type"]
                    .as_str()
                    .unwrap_or_default()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    (success, errors)
}

pub(crate) async fn batch_create_of_valid_entities_is_201_with_their_ids() {
    let client = Client::shared();
    let (ids, body) = vehicles(3);
    let reply = client.post(CREATE, &body).await;
    reply.assert_status(201);
    assert_eq!(reply.json, json!(ids));
    for id in &ids {
        client.get(&entity_path(id)).await.assert_status(200);
    }
}

pub(crate) async fn batch_create_with_existing_and_invalid_entities_is_207() {
    let client = Client::shared();
    let existing = urn("Vehicle");
    client
        .create(&entity_fixture("vehicle.json", &existing))
        .await;
    let fresh = urn("Vehicle");
    let invalid = urn("Vehicle");
    let body = json!([
        entity_fixture("vehicle.json", &fresh),
        entity_fixture("vehicle.json", &existing),
        {"id": invalid, "type": "Vehicle", "speed": {"type": "Property"}}
    ]);
    let (success, errors) = batch_result(&client.post(CREATE, &body).await);
    assert_eq!(success, vec![fresh.clone()]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors.contains(&(existing, "AlreadyExists".into())),
        "{errors:?}"
    );
    assert!(
        errors.contains(&(invalid.clone(), "BadRequestData".into())),
        "{errors:?}"
    );
    client.get(&entity_path(&fresh)).await.assert_status(200);
    client
        .get(&entity_path(&invalid))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn batch_create_with_a_duplicated_id_creates_it_once() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let body = json!([
        entity_fixture("vehicle.json", &id),
        entity_fixture("vehicle.json", &id)
    ]);
    let (success, errors) = batch_result(&client.post(CREATE, &body).await);
    assert_eq!(success, vec![id.clone()]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, id);
    client.get(&entity_path(&id)).await.assert_status(200);
}

pub(crate) async fn batch_bodies_that_are_not_arrays_or_empty_are_400() {
    let client = Client::shared();
    for path in [CREATE, UPSERT, UPDATE, DELETE, MERGE] {
        client
            .post(path, &json!({"id": urn("X"), "type": "X"}))
            .await
            .assert_error(400, "BadRequestData");
        client
            .post(path, &json!([]))
            .await
            .assert_error(400, "BadRequestData");
    }
}

pub(crate) async fn batch_upsert_creates_new_entities_with_201() {
    let client = Client::shared();
    let (ids, body) = vehicles(2);
    let reply = client.post(UPSERT, &body).await;
    reply.assert_status(201);
    assert_eq!(reply.json, json!(ids));
}

pub(crate) async fn batch_upsert_replaces_existing_entities_with_204() {
    let client = Client::shared();
    let (ids, body) = vehicles(2);
    client.post(CREATE, &body).await.assert_status(201);
    let replacement: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "type": "Vehicle", "colour": {"type": "Property", "value": "black"}}))
        .collect();
    client
        .post(UPSERT, &json!(replacement))
        .await
        .assert_status(204);
    for id in &ids {
        let got = client.get(&entity_path(id)).await;
        assert_eq!(got.json["colour"]["value"], "black");
        assert!(got.json.get("speed").is_none(), "replaced: {}", got.text);
    }
}

pub(crate) async fn batch_upsert_with_update_option_keeps_other_attributes() {
    let client = Client::shared();
    let (ids, body) = vehicles(1);
    client.post(CREATE, &body).await.assert_status(201);
    let new = urn("Vehicle");
    let items = json!([
        {"id": ids[0], "type": "Vehicle", "speed": {"type": "Property", "value": 5}},
        {"id": new, "type": "Vehicle", "speed": {"type": "Property", "value": 6}}
    ]);
    let reply = client
        .post(&format!("{UPSERT}?options=update"), &items)
        .await;
    reply.assert_status(201);
    assert_eq!(reply.json, json!([new]), "only the created ids");
    let got = client.get(&entity_path(&ids[0])).await;
    assert_eq!(got.json["speed"]["value"], 5);
    assert_eq!(got.json["brandName"]["value"], "Mercedes");
}

pub(crate) async fn batch_upsert_with_an_invalid_entity_is_207() {
    let client = Client::shared();
    let good = urn("Vehicle");
    let body = json!([
        entity_fixture("vehicle.json", &good),
        {"id": "not a uri", "type": "Vehicle"}
    ]);
    let (success, errors) = batch_result(&client.post(UPSERT, &body).await);
    assert_eq!(success, [good]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].1, "BadRequestData");
}

pub(crate) async fn batch_update_appends_attributes_and_reports_missing_entities() {
    let client = Client::shared();
    let (ids, body) = vehicles(1);
    client.post(CREATE, &body).await.assert_status(201);
    let missing = urn("Vehicle");
    let items = json!([
        {"id": ids[0], "type": "Vehicle", "colour": {"type": "Property", "value": "white"}},
        {"id": missing, "type": "Vehicle", "colour": {"type": "Property", "value": "white"}}
    ]);
    let (success, errors) = batch_result(&client.post(UPDATE, &items).await);
    assert_eq!(success, [ids[0].clone()]);
    assert_eq!(errors, [(missing.clone(), "ResourceNotFound".to_owned())]);
    let got = client.get(&entity_path(&ids[0])).await;
    assert_eq!(got.json["colour"]["value"], "white");
    assert_eq!(got.json["speed"]["value"], 80);
    client
        .get(&entity_path(&missing))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn batch_update_of_existing_entities_is_204() {
    let client = Client::shared();
    let (ids, body) = vehicles(2);
    client.post(CREATE, &body).await.assert_status(201);
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "type": "Vehicle", "speed": {"type": "Property", "value": 1}}))
        .collect();
    client.post(UPDATE, &json!(items)).await.assert_status(204);
    for id in &ids {
        assert_eq!(client.get(&entity_path(id)).await.json["speed"]["value"], 1);
    }
}

pub(crate) async fn batch_delete_removes_entities_and_reports_missing_ones() {
    let client = Client::shared();
    let (ids, body) = vehicles(2);
    client.post(CREATE, &body).await.assert_status(201);
    client
        .post(DELETE, &json!([ids[0]]))
        .await
        .assert_status(204);
    let missing = urn("Vehicle");
    let (success, errors) = batch_result(&client.post(DELETE, &json!([ids[1], missing])).await);
    assert_eq!(success, [ids[1].clone()]);
    assert_eq!(errors, [(missing, "ResourceNotFound".to_owned())]);
    for id in &ids {
        client
            .get(&entity_path(id))
            .await
            .assert_error(404, "ResourceNotFound");
    }
}

pub(crate) async fn batch_delete_with_an_invalid_id_is_207() {
    let client = Client::shared();
    let (ids, body) = vehicles(1);
    client.post(CREATE, &body).await.assert_status(201);
    let (success, errors) = batch_result(&client.post(DELETE, &json!([ids[0], "not a uri"])).await);
    assert_eq!(success, [ids[0].clone()]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].1, "BadRequestData");
}

pub(crate) async fn batch_merge_merges_each_entity() {
    let client = Client::shared();
    let (ids, body) = vehicles(2);
    client.post(CREATE, &body).await.assert_status(201);
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "speed": {"value": 7}, "brandName": "urn:ngsi-ld:null"}))
        .collect();
    client.post(MERGE, &json!(items)).await.assert_status(204);
    for id in &ids {
        let got = client.get(&entity_path(id)).await;
        assert_eq!(
            got.json["speed"],
            json!({"type": "Property", "value": 7, "unitCode": "KMH"})
        );
        assert!(got.json.get("brandName").is_none(), "{}", got.text);
    }
    let missing = urn("Vehicle");
    let (success, errors) = batch_result(
        &client
            .post(MERGE, &json!([{"id": ids[0], "speed": {"value": 8}}, {"id": missing, "speed": {"value": 8}}]))
            .await,
    );
    assert_eq!(success, [ids[0].clone()]);
    assert_eq!(errors, [(missing, "ResourceNotFound".to_owned())]);
}

pub(crate) async fn json_ld_batch_items_are_each_read_with_their_own_context() {
    let client = Client::shared();
    let (a, b, c) = (urn("Bus"), urn("Bus"), urn("Bus"));
    let body = json!([
        {"@context": {"Bus": "https://example.org/a/Bus"}, "id": a, "type": "Bus"},
        {"@context": {"Bus": "https://example.org/b/Bus"}, "id": b, "type": "Bus"},
        {"id": c, "type": "Bus"}
    ]);
    let (success, errors) = batch_result(&client.json_ld(Method::POST, CREATE, &body).await);
    assert_eq!(success, vec![a.clone(), b.clone()]);
    assert_eq!(errors, [(c.clone(), "BadRequestData".to_owned())]);
    assert_eq!(
        client.get(&entity_path(&a)).await.json["type"],
        "https://example.org/a/Bus"
    );
    assert_eq!(
        client.get(&entity_path(&b)).await.json["type"],
        "https://example.org/b/Bus"
    );
    client
        .get(&entity_path(&c))
        .await
        .assert_error(404, "ResourceNotFound");

    // Upsert reads each item with its context too.
    let body = json!([
        {"@context": {"seats": "https://example.org/a/seats"}, "id": a, "type": "https://example.org/a/Bus", "seats": {"type": "Property", "value": 40}},
        {"@context": {"seats": "https://example.org/b/seats"}, "id": b, "type": "https://example.org/b/Bus", "seats": {"type": "Property", "value": 50}}
    ]);
    client
        .json_ld(Method::POST, UPSERT, &body)
        .await
        .assert_status(204);
    assert_eq!(
        client.get(&entity_path(&a)).await.json["https://example.org/a/seats"]["value"],
        40
    );
    assert_eq!(
        client.get(&entity_path(&b)).await.json["https://example.org/b/seats"]["value"],
        50
    );
}

pub(crate) async fn batch_upsert_with_a_duplicated_id_keeps_the_last_item() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let body = json!([
        {"id": id, "type": "Vehicle", "a": {"type": "Property", "value": 1}},
        {"id": id, "type": "Vehicle", "b": {"type": "Property", "value": 2}}
    ]);
    let reply = client.post(UPSERT, &body).await;
    reply.assert_status(201);
    assert_eq!(reply.json, json!([id]));
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(
        got.json,
        json!({"id": id, "type": "Vehicle", "b": {"type": "Property", "value": 2}})
    );
}
