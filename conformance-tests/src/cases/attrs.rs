//! Clause 5.6.2 (update attributes), 5.6.3 (append), 5.6.4 (partial attribute update),
//! 5.6.5 (delete attribute), 5.6.19 (replace attribute): `/entities/{id}/attrs[/{attrId}]`.

use crate::{entity_fixture, entity_path, urn, Client};
use reqwest::Method;
use serde_json::{json, Value};

async fn vehicle(client: &Client) -> String {
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    id
}

fn attrs_path(id: &str) -> String {
    format!("{}/attrs", entity_path(id))
}

fn attr_path(id: &str, attr: &str) -> String {
    format!("{}/attrs/{attr}", entity_path(id))
}

fn not_updated_names(body: &Value) -> Vec<&str> {
    body["notUpdated"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["attributeName"].as_str())
        .collect()
}

pub(crate) async fn append_adds_new_and_overwrites_existing_attributes() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    let body = json!({
        "speed": {"type": "Property", "value": 50},
        "colour": {"type": "Property", "value": "green"}
    });
    client
        .post(&attrs_path(&id), &body)
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json["speed"], json!({"type": "Property", "value": 50}));
    assert_eq!(got.json["colour"]["value"], "green");
    assert_eq!(got.json["brandName"]["value"], "Mercedes");
}

pub(crate) async fn append_with_no_overwrite_is_207_and_keeps_existing_values() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    let body = json!({
        "speed": {"type": "Property", "value": 50},
        "colour": {"type": "Property", "value": "green"}
    });
    let reply = client
        .post(&format!("{}?options=noOverwrite", attrs_path(&id)), &body)
        .await;
    reply.assert_status(207);
    assert_eq!(not_updated_names(&reply.json), ["speed"], "{}", reply.text);
    assert!(reply.json["updated"]
        .as_array()
        .is_some_and(|u| u.contains(&json!("colour"))));
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json["speed"]["value"], 80);
    assert_eq!(got.json["colour"]["value"], "green");
}

pub(crate) async fn append_to_missing_entity_is_404() {
    let client = Client::shared();
    client
        .post(
            &attrs_path(&urn("Vehicle")),
            &json!({"speed": {"type": "Property", "value": 1}}),
        )
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn update_attrs_replaces_existing_attributes() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    client
        .patch(
            &attrs_path(&id),
            &json!({"speed": {"type": "Property", "value": 10}}),
        )
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json["speed"], json!({"type": "Property", "value": 10}));
}

/// GS CIM 009 v1.9.1 5.6.2.4: an attribute the entity lacks is appended; only an NGSI-LD Null
/// for an attribute that does not exist is not updated (207).
pub(crate) async fn update_attrs_appends_a_missing_attribute() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    client
        .patch(
            &attrs_path(&id),
            &json!({
                "speed": {"type": "Property", "value": 10},
                "colour": {"type": "Property", "value": "red"}
            }),
        )
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json["speed"]["value"], 10);
    assert_eq!(got.json["colour"]["value"], "red");
    let reply = client
        .patch(
            &attrs_path(&id),
            &json!({"size": {"type": "Property", "value": "urn:ngsi-ld:null"}}),
        )
        .await;
    reply.assert_status(207);
    assert_eq!(not_updated_names(&reply.json), ["size"], "{}", reply.text);
}

pub(crate) async fn update_attrs_with_ngsi_ld_null_deletes_the_attribute() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    client
        .patch(
            &attrs_path(&id),
            &json!({"brandName": {"type": "Property", "value": "urn:ngsi-ld:null"}}),
        )
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert!(got.json.get("brandName").is_none(), "{}", got.text);
}

pub(crate) async fn patch_attrs_of_missing_entity_is_404() {
    let client = Client::shared();
    client
        .patch(
            &attrs_path(&urn("Vehicle")),
            &json!({"speed": {"type": "Property", "value": 10}}),
        )
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn partial_attribute_update_merges_the_given_members() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    client
        .patch(&attr_path(&id, "speed"), &json!({"value": 60}))
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(
        got.json["speed"],
        json!({"type": "Property", "value": 60, "unitCode": "KMH"})
    );
}

/// GS CIM 009 5.6.4.4, 5.5.8: a fragment with only members (a sub-attribute, observedAt)
/// updates them and keeps the attribute's value and type; a fragment of another type is
/// BadRequestData, since a partial update does not change an attribute's type.
pub(crate) async fn partial_update_keeps_the_type_and_may_update_members_only() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client
        .create(&json!({"id": id, "type": "Vehicle",
            "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:Parking:1"}}))
        .await;
    let members = json!({
        "observedAt": "2026-01-01T10:00:00Z",
        "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}
    });
    client
        .patch(&attr_path(&id, "isParked"), &members)
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(
        got.json["isParked"],
        json!({"type": "Relationship", "object": "urn:ngsi-ld:Parking:1",
               "observedAt": "2026-01-01T10:00:00Z",
               "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}}),
        "{}",
        got.text
    );
    client
        .patch(
            &attr_path(&id, "isParked"),
            &json!({"type": "Property", "value": 3}),
        )
        .await
        .assert_error(400, "BadRequestData");
    client
        .patch(&attr_path(&id, "isParked"), &json!({"unitCode": "MTR"}))
        .await
        .assert_error(400, "BadRequestData");
    let after = client.get(&entity_path(&id)).await;
    assert_eq!(after.json, got.json, "refused updates change nothing");
}

pub(crate) async fn partial_update_of_a_missing_attribute_is_404() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    client
        .patch(&attr_path(&id, "colour"), &json!({"value": "red"}))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn replace_attribute_replaces_it_whole() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    client
        .put(
            &attr_path(&id, "speed"),
            &json!({"type": "Property", "value": 70}),
        )
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json["speed"], json!({"type": "Property", "value": 70}));
}

pub(crate) async fn replace_of_a_missing_attribute_is_404() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    client
        .put(
            &attr_path(&id, "colour"),
            &json!({"type": "Property", "value": "red"}),
        )
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn delete_attribute_removes_it_then_404() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    let path = attr_path(&id, "brandName");
    client.delete(&path).await.assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert!(got.json.get("brandName").is_none());
    assert_eq!(got.json["speed"]["value"], 80);
    client
        .delete(&path)
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn delete_attribute_with_dataset_id_removes_only_that_instance() {
    let client = Client::shared();
    let id = urn("Sensor");
    client
        .create(&entity_fixture("sensor-with-datasets.json", &id))
        .await;
    client
        .delete(&format!(
            "{}?datasetId=urn:ngsi-ld:Dataset:probe-a",
            attr_path(&id, "temperature")
        ))
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    let remaining = got.json["temperature"].as_array().expect("two left");
    assert_eq!(remaining.len(), 2, "{}", got.text);
    assert!(remaining
        .iter()
        .all(|i| i["datasetId"] != "urn:ngsi-ld:Dataset:probe-a"));

    // Without datasetId, only the default instance goes.
    client
        .delete(&attr_path(&id, "temperature"))
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(
        got.json["temperature"]["datasetId"],
        "urn:ngsi-ld:Dataset:probe-b"
    );

    client
        .delete(&format!(
            "{}?datasetId=urn:ngsi-ld:Dataset:nope",
            attr_path(&id, "temperature")
        ))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn delete_attribute_with_delete_all_removes_every_instance() {
    let client = Client::shared();
    let id = urn("Sensor");
    client
        .create(&entity_fixture("sensor-with-datasets.json", &id))
        .await;
    client
        .delete(&format!("{}?deleteAll=true", attr_path(&id, "temperature")))
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert!(got.json.get("temperature").is_none(), "{}", got.text);
}

pub(crate) async fn append_with_a_dataset_id_adds_an_instance() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    client
        .post(
            &attrs_path(&id),
            &json!({"speed": {"type": "Property", "value": 33, "datasetId": "urn:ngsi-ld:Dataset:gps"}}),
        )
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    let speeds = got.json["speed"].as_array().expect("two instances");
    assert_eq!(speeds.len(), 2);
    assert!(speeds.iter().any(|s| s["value"] == 80));
    assert!(speeds.iter().any(|s| s["value"] == 33));
}

pub(crate) async fn attribute_bodies_are_validated() {
    let client = Client::shared();
    let id = vehicle(&client).await;
    for body in [
        json!({"speed": {"type": "Property"}}),
        json!({"speed": {"type": "Relationship", "object": 3}}),
        json!({"speed": {"type": "Bogus", "value": 1}}),
    ] {
        client
            .post(&attrs_path(&id), &body)
            .await
            .assert_error(400, "BadRequestData");
    }
    client
        .send(Method::DELETE, &attr_path(&id, "bad%20name"), None, &[])
        .await
        .assert_error(400, "BadRequestData");
}
