//! Clause 5.6.1 (create), 5.7.1 (retrieve), 5.6.6 (delete): entities by id.

use conformance_tests::{enc, unique, Client};
use serde_json::json;

fn vehicle(id: &str) -> serde_json::Value {
    json!({
        "id": id,
        "type": "Vehicle",
        "brandName": {"type": "Property", "value": "Mercedes"},
        "speed": {"type": "Property", "value": 80, "unitCode": "KMH"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]}}
    })
}

#[tokio::test]
async fn create_then_retrieve_returns_the_entity_as_sent() {
    let client = Client::shared();
    let id = format!("urn:ngsi-ld:Vehicle:{}", unique("v"));
    let created = client.create(&vehicle(&id)).await;
    assert_eq!(
        created.header("location"),
        Some(format!("/ngsi-ld/v1/entities/{id}").as_str())
    );

    let got = client
        .get(&format!("/ngsi-ld/v1/entities/{}", enc(&id)))
        .await;
    got.assert_status(200);
    assert_eq!(got.json, vehicle(&id));
    assert!(got
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert!(got
        .header("link")
        .is_some_and(|l| l.contains("http://www.w3.org/ns/json-ld#context")));
}

#[tokio::test]
async fn create_existing_entity_is_409_already_exists() {
    let client = Client::shared();
    let id = format!("urn:ngsi-ld:Vehicle:{}", unique("v"));
    client.create(&vehicle(&id)).await;
    client
        .post("/ngsi-ld/v1/entities", &vehicle(&id))
        .await
        .assert_error(409, "AlreadyExists");
}

#[tokio::test]
async fn retrieve_missing_entity_is_404_resource_not_found() {
    let client = Client::shared();
    client
        .get("/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:does-not-exist")
        .await
        .assert_error(404, "ResourceNotFound");
}

#[tokio::test]
async fn delete_removes_the_entity() {
    let client = Client::shared();
    let id = format!("urn:ngsi-ld:Vehicle:{}", unique("v"));
    client.create(&vehicle(&id)).await;
    let path = format!("/ngsi-ld/v1/entities/{}", enc(&id));
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

#[tokio::test]
async fn invalid_payloads_are_400_with_problem_details() {
    let client = Client::shared();
    let cases = [
        (json!({"id": "not a uri", "type": "T"}), "BadRequestData"),
        (json!({"type": "T"}), "BadRequestData"),
        (
            json!({"id": "urn:a:b", "type": "T", "a": {"type": "Relationship", "object": "x y"}}),
            "BadRequestData",
        ),
    ];
    for (body, ty) in cases {
        client
            .post("/ngsi-ld/v1/entities", &body)
            .await
            .assert_error(400, ty);
    }
    let reply = client
        .send(
            reqwest::Method::POST,
            "/ngsi-ld/v1/entities",
            Some(("application/json", b"{not json".to_vec())),
            &[],
        )
        .await;
    reply.assert_error(400, "InvalidRequest");
    let reply = client
        .send(
            reqwest::Method::POST,
            "/ngsi-ld/v1/entities",
            Some(("text/plain", b"{}".to_vec())),
            &[],
        )
        .await;
    reply.assert_error(415, "InvalidRequest");
}
