//! Clause 4.14 and 6.3.14: tenants selected by `NGSILD-Tenant`.

use crate::{entity_fixture, entity_path, unique, urn, Client};
use serde_json::json;

pub(crate) async fn the_same_id_lives_separately_in_two_tenants() {
    let base = Client::shared();
    let (one, two) = (
        base.with_tenant(&unique("tone")),
        base.with_tenant(&unique("ttwo")),
    );
    let id = urn("Vehicle");
    let mut vehicle = entity_fixture("vehicle.json", &id);
    one.create(&vehicle).await;
    vehicle["speed"]["value"] = json!(5);
    two.create(&vehicle).await;

    assert_eq!(one.get(&entity_path(&id)).await.json["speed"]["value"], 80);
    assert_eq!(two.get(&entity_path(&id)).await.json["speed"]["value"], 5);
    base.get(&entity_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");

    one.delete(&entity_path(&id)).await.assert_status(204);
    two.get(&entity_path(&id)).await.assert_status(200);
    let listed = two.get("/ngsi-ld/v1/entities?type=Vehicle").await;
    assert_eq!(
        listed.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.text
    );
}

pub(crate) async fn reading_an_unknown_tenant_is_404_nonexistent_tenant() {
    let client = Client::shared().with_tenant(&unique("never"));
    client
        .get(&entity_path(&urn("Vehicle")))
        .await
        .assert_error(404, "NonexistentTenant");
    client
        .get("/ngsi-ld/v1/entities?type=Vehicle")
        .await
        .assert_error(404, "NonexistentTenant");
    client
        .get("/ngsi-ld/v1/types")
        .await
        .assert_error(404, "NonexistentTenant");
    client
        .patch(
            &entity_path(&urn("Vehicle")),
            &json!({"speed": {"type": "Property", "value": 1}}),
        )
        .await
        .assert_error(404, "NonexistentTenant");
}

pub(crate) async fn creating_in_a_new_tenant_creates_the_tenant() {
    let client = Client::shared().with_tenant(&unique("fresh"));
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let reply = client.get("/ngsi-ld/v1/entities?type=Vehicle").await;
    reply.assert_status(200);
    assert_eq!(reply.json[0]["id"], id);
}

pub(crate) async fn invalid_tenant_names_are_400() {
    let base = Client::shared();
    for name in ["a b", "a/b", "x;y", &"t".repeat(51)] {
        base.with_tenant(name)
            .get("/ngsi-ld/v1/entities?type=Vehicle")
            .await
            .assert_error(400, "BadRequestData");
    }
}

pub(crate) async fn hosted_contexts_belong_to_their_tenant() {
    let base = Client::shared();
    let (one, two) = (
        base.with_tenant(&unique("cone")),
        base.with_tenant(&unique("ctwo")),
    );
    // Make both tenants exist.
    one.create(&entity_fixture("vehicle.json", &urn("Vehicle")))
        .await;
    two.create(&entity_fixture("vehicle.json", &urn("Vehicle")))
        .await;
    let created = one
        .post(
            "/ngsi-ld/v1/jsonldContexts",
            &crate::fixture("user-context.json"),
        )
        .await;
    created.assert_status(201);
    let url = created.header("location").unwrap_or_default().to_owned();
    let local_id = url.rsplit('/').next().unwrap_or_default().to_owned();
    let path = format!("/ngsi-ld/v1/jsonldContexts/{local_id}");
    one.get(&path).await.assert_status(200);
    two.get(&path).await.assert_error(404, "ResourceNotFound");
    let listed = two.get("/ngsi-ld/v1/jsonldContexts?kind=Hosted").await;
    assert!(
        !listed.text.contains(&local_id),
        "another tenant's hosted context is not listed: {}",
        listed.text
    );
    two.delete(&path)
        .await
        .assert_error(404, "ResourceNotFound");
    one.get(&path).await.assert_status(200);
}

pub(crate) async fn local_true_lists_every_entity_of_the_tenant() {
    let client = Client::shared().with_tenant(&unique("local"));
    let (a, b) = (urn("Vehicle"), urn("Building"));
    client.create(&entity_fixture("vehicle.json", &a)).await;
    client.create(&json!({"id": b, "type": "Building"})).await;
    let reply = client.get("/ngsi-ld/v1/entities?local=true").await;
    reply.assert_status(200);
    let ids: Vec<&str> = reply
        .json
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [a.as_str(), b.as_str()],
        "creation order: {}",
        reply.text
    );
}

/// GS CIM 009 6.3.14: an `NGSILD-Tenant` request header is also present in the response,
/// whether the request succeeded or failed.
pub(crate) async fn the_tenant_header_is_echoed_on_responses() {
    let tenant = unique("echo");
    let client = Client::shared().with_tenant(&tenant);
    let missing = client.get(&entity_path(&urn("Vehicle"))).await;
    missing.assert_error(404, "NonexistentTenant");
    assert_eq!(missing.header("ngsild-tenant"), Some(tenant.as_str()));
    let id = urn("Vehicle");
    let created = client.create(&entity_fixture("vehicle.json", &id)).await;
    assert_eq!(created.header("ngsild-tenant"), Some(tenant.as_str()));
    let read = client.get(&entity_path(&id)).await;
    read.assert_status(200);
    assert_eq!(read.header("ngsild-tenant"), Some(tenant.as_str()));
    let untenanted = Client::shared().get("/ngsi-ld/v1/types").await;
    assert_eq!(untenanted.header("ngsild-tenant"), None);
}
