//! The entity members that the attribute operations reach beside attributes: the optional
//! selector of Entity types that gates them (clause 4.17, 5.6.2-5.6.6, 5.6.19), the types a
//! fragment adds (5.6.2.4, 5.6.3.4), the entity's `scope` (4.18, 5.6.2.4, 5.6.3.4, 5.6.5.4),
//! and the entity id they need (an empty one is BadRequestData, not an unknown resource).

use crate::{entity_path, urn, Client};
use reqwest::Method;
use serde_json::{json, Value};

async fn building(client: &Client, extra: Value) -> String {
    let id = urn("Building");
    let mut body = json!({"id": id, "type": "Building",
                          "name": {"type": "Property", "value": "x"}});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    client.create(&body).await;
    id
}

async fn name_of(client: &Client, id: &str) -> Value {
    client.get(&entity_path(id)).await.json["name"]["value"].clone()
}

/// 5.6.2.4, 5.6.3.4, 5.6.4.4, 5.6.19.4: with a `type` the entity does not match, the entity
/// is "not found" and nothing is written; with a matching one, the write happens.
pub(crate) async fn type_selector_gates_attribute_writes() {
    let client = Client::shared();
    let id = building(&client, json!({})).await;
    let path = entity_path(&id);
    let fragment = json!({"name": {"type": "Property", "value": "y"}});
    let one = json!({"type": "Property", "value": "y"});
    let writes = [
        (Method::POST, format!("{path}/attrs"), &fragment),
        (Method::PATCH, format!("{path}/attrs"), &fragment),
        (Method::PATCH, format!("{path}/attrs/name"), &one),
        (Method::PUT, format!("{path}/attrs/name"), &one),
    ];
    for (method, target, body) in &writes {
        client
            .json(method.clone(), &format!("{target}?type=Vehicle"), body)
            .await
            .assert_error(404, "ResourceNotFound");
        assert_eq!(name_of(&client, &id).await, "x", "{method} {target}");
    }
    for (method, target, body) in &writes {
        let reply = client
            .json(method.clone(), &format!("{target}?type=Building"), body)
            .await;
        reply.assert_status(204);
    }
    assert_eq!(name_of(&client, &id).await, "y");
}

/// 5.6.5.4 and 5.6.6.4: deletes gated by `type` spare an entity of another type.
pub(crate) async fn type_selector_gates_attribute_and_entity_deletes() {
    let client = Client::shared();
    let id = building(&client, json!({})).await;
    let path = entity_path(&id);
    for target in [format!("{path}/attrs/name"), path.clone()] {
        client
            .delete(&format!("{target}?type=Vehicle"))
            .await
            .assert_error(404, "ResourceNotFound");
    }
    assert_eq!(name_of(&client, &id).await, "x");
    for target in [format!("{path}/attrs/name"), path.clone()] {
        client
            .delete(&format!("{target}?type=Building"))
            .await
            .assert_status(204);
    }
    client
        .get(&path)
        .await
        .assert_error(404, "ResourceNotFound");
}

/// 5.6.2.4: types in an Update Attributes fragment that the entity lacks are added.
pub(crate) async fn update_attrs_adds_the_types_of_the_fragment() {
    let client = Client::shared();
    let id = building(&client, json!({})).await;
    client
        .patch(
            &format!("{}/attrs", entity_path(&id)),
            &json!({"type": ["Building", "Vehicle"]}),
        )
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json["type"], json!(["Building", "Vehicle"]));
}

/// 5.6.3.4: append replaces the scope, or with noOverwrite adds the scopes it lacks.
pub(crate) async fn append_replaces_the_scope_or_adds_to_it_with_no_overwrite() {
    let client = Client::shared();
    let id = building(&client, json!({"scope": "/Madrid"})).await;
    let attrs = format!("{}/attrs", entity_path(&id));
    client
        .post(
            &format!("{attrs}?options=noOverwrite"),
            &json!({"scope": "/Paris"}),
        )
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json["scope"], json!(["/Madrid", "/Paris"]));
    client
        .post(&attrs, &json!({"scope": "/Rome"}))
        .await
        .assert_status(204);
    assert_eq!(client.get(&entity_path(&id)).await.json["scope"], "/Rome");
}

/// 5.6.2.4: update replaces a scope the entity has; an entity without one gets none (207).
pub(crate) async fn update_attrs_replaces_an_existing_scope_only() {
    let client = Client::shared();
    let scoped = building(&client, json!({"scope": "/Madrid"})).await;
    let plain = building(&client, json!({})).await;
    let fragment = json!({"scope": "/Rome"});
    client
        .patch(&format!("{}/attrs", entity_path(&scoped)), &fragment)
        .await
        .assert_status(204);
    assert_eq!(
        client.get(&entity_path(&scoped)).await.json["scope"],
        "/Rome"
    );
    let reply = client
        .patch(&format!("{}/attrs", entity_path(&plain)), &fragment)
        .await;
    reply.assert_status(207);
    assert_eq!(reply.json["notUpdated"][0]["attributeName"], "scope");
    let got = client.get(&entity_path(&plain)).await;
    assert!(got.json.get("scope").is_none(), "{}", got.text);
}

/// 5.6.5.4: Delete Attribute of `scope` removes the entity's scope; then it is not found.
pub(crate) async fn delete_attribute_scope_removes_the_scope() {
    let client = Client::shared();
    let id = building(&client, json!({"scope": ["/Madrid", "/Rome"]})).await;
    let target = format!("{}/attrs/scope", entity_path(&id));
    client.delete(&target).await.assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert!(got.json.get("scope").is_none(), "{}", got.text);
    client
        .delete(&target)
        .await
        .assert_error(404, "ResourceNotFound");
}

/// 5.6.2.4, 5.6.3.4, 5.6.4.4, 5.6.5.4: an absent entity id is BadRequestData.
pub(crate) async fn attribute_operations_without_an_entity_id_are_400() {
    let client = Client::shared();
    let fragment = json!({"name": {"type": "Property", "value": "y"}});
    let one = json!({"type": "Property", "value": "y"});
    let base = "/ngsi-ld/v1/entities/";
    client
        .post(&format!("{base}/attrs"), &fragment)
        .await
        .assert_error(400, "BadRequestData");
    client
        .patch(&format!("{base}/attrs"), &fragment)
        .await
        .assert_error(400, "BadRequestData");
    client
        .patch(&format!("{base}/attrs/name"), &one)
        .await
        .assert_error(400, "BadRequestData");
    client
        .delete(&format!("{base}/attrs/name"))
        .await
        .assert_error(400, "BadRequestData");
}
