//! Clause 5.7.5-5.7.10: available entity types and attributes, with details, in a tenant of
//! their own so the lists are exactly what the case created.

use std::collections::BTreeSet;

use crate::{entity_fixture, unique, urn, Client};
use serde_json::{json, Value};

/// A tenant with two vehicles and one parking.
async fn city(client: &Client) -> Client {
    let client = client.with_tenant(&unique("types"));
    client
        .create(&entity_fixture("vehicle.json", &urn("Vehicle")))
        .await;
    client
        .create(&entity_fixture("vehicle.json", &urn("Vehicle")))
        .await;
    client
        .create(&entity_fixture(
            "parking-with-sub-attributes.json",
            &urn("OffStreetParking"),
        ))
        .await;
    client
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn names(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

pub(crate) async fn types_lists_the_entity_types() {
    let client = city(&Client::shared()).await;
    let reply = client.get("/ngsi-ld/v1/types").await;
    reply.assert_status(200);
    assert_eq!(reply.json["type"], "EntityTypeList");
    assert!(reply.json["id"].is_string());
    assert_eq!(
        strings(&reply.json["typeList"]),
        names(&["Vehicle", "OffStreetParking"])
    );
}

pub(crate) async fn types_with_details_lists_attribute_names() {
    let client = city(&Client::shared()).await;
    let reply = client.get("/ngsi-ld/v1/types?details=true").await;
    reply.assert_status(200);
    let list = reply.json.as_array().expect("array");
    assert_eq!(list.len(), 2, "{}", reply.text);
    let vehicle = list
        .iter()
        .find(|t| t["typeName"] == "Vehicle")
        .expect("Vehicle");
    assert_eq!(vehicle["type"], "EntityType");
    assert_eq!(
        strings(&vehicle["attributeNames"]),
        names(&["brandName", "speed", "isParked", "location"])
    );
}

pub(crate) async fn type_information_counts_entities_and_describes_attributes() {
    let client = city(&Client::shared()).await;
    let reply = client.get("/ngsi-ld/v1/types/Vehicle").await;
    reply.assert_status(200);
    assert_eq!(reply.json["type"], "EntityTypeInfo");
    assert_eq!(reply.json["typeName"], "Vehicle");
    assert_eq!(reply.json["entityCount"], 2);
    let details = reply.json["attributeDetails"].as_array().expect("details");
    let parked = details
        .iter()
        .find(|d| d["attributeName"] == "isParked")
        .expect("isParked");
    assert_eq!(parked["attributeTypes"], json!(["Relationship"]));
    assert_eq!(details.len(), 4);
}

pub(crate) async fn attributes_lists_the_attribute_names() {
    let client = city(&Client::shared()).await;
    let reply = client.get("/ngsi-ld/v1/attributes").await;
    reply.assert_status(200);
    assert_eq!(reply.json["type"], "AttributeList");
    assert_eq!(
        strings(&reply.json["attributeList"]),
        names(&[
            "brandName",
            "speed",
            "isParked",
            "location",
            "availableSpotNumber",
            "totalSpotNumber",
            "address"
        ])
    );
}

pub(crate) async fn attributes_with_details_and_one_attribute() {
    let client = city(&Client::shared()).await;
    let reply = client.get("/ngsi-ld/v1/attributes?details=true").await;
    reply.assert_status(200);
    let list = reply.json.as_array().expect("array");
    let location = list
        .iter()
        .find(|a| a["attributeName"] == "location")
        .expect("location");
    assert_eq!(location["type"], "Attribute");
    assert_eq!(location["attributeCount"], 3);
    assert_eq!(location["attributeTypes"], json!(["GeoProperty"]));
    assert_eq!(
        strings(&location["typeNames"]),
        names(&["Vehicle", "OffStreetParking"])
    );

    let speed = client.get("/ngsi-ld/v1/attributes/speed").await;
    speed.assert_status(200);
    assert_eq!(speed.json["attributeName"], "speed");
    assert_eq!(speed.json["attributeCount"], 2);
    assert_eq!(strings(&speed.json["typeNames"]), names(&["Vehicle"]));
}

pub(crate) async fn unknown_type_or_attribute_is_404() {
    let client = city(&Client::shared()).await;
    client
        .get("/ngsi-ld/v1/types/Bicycle")
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .get("/ngsi-ld/v1/attributes/colour")
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn deleted_entities_leave_the_lists() {
    let client = Client::shared().with_tenant(&unique("types"));
    let id = urn("Tram");
    client
        .create(&json!({"id": id, "type": "Tram", "line": {"type": "Property", "value": 3}}))
        .await;
    client
        .delete(&crate::entity_path(&id))
        .await
        .assert_status(204);
    let types = client.get("/ngsi-ld/v1/types").await;
    assert_eq!(types.json["typeList"], json!([]));
    client
        .get("/ngsi-ld/v1/types/Tram")
        .await
        .assert_error(404, "ResourceNotFound");
}
