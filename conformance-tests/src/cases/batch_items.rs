//! The items of a batch (clause 5.6.7-5.6.10, 6.3.5): which faults fail the whole batch and
//! which fail one entity, the media types a batch delete accepts, and what a batch update
//! appends (5.6.9.4 with 5.6.3.4).

use crate::{entity_path, urn, Client, Reply};
use reqwest::Method;
use serde_json::{json, Value};

const CREATE: &str = "/ngsi-ld/v1/entityOperations/create";
const UPDATE: &str = "/ngsi-ld/v1/entityOperations/update";
const DELETE: &str = "/ngsi-ld/v1/entityOperations/delete";

fn error_ids(reply: &Reply) -> Vec<&str> {
    reply.assert_status(207);
    reply.json["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["entityId"].as_str())
        .collect()
}

/// 5.6.7.4-5.6.10.4: a null item fails the whole batch, before any entity is written.
pub(crate) async fn a_null_item_fails_the_whole_batch() {
    let client = Client::shared();
    let id = urn("Batched");
    client
        .post(CREATE, &json!([{"id": id, "type": "Batched"}, null]))
        .await
        .assert_error(400, "BadRequestData");
    client
        .get(&entity_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .post(DELETE, &json!([id, null]))
        .await
        .assert_error(400, "BadRequestData");
}

/// 5.6.10: the ids of a batch delete need no @context, so the JSON-LD media type is accepted
/// without one; a missing id fails alone.
pub(crate) async fn batch_delete_accepts_json_ld_without_a_context() {
    let client = Client::shared();
    let (a, missing) = (urn("Batched"), urn("Batched"));
    client.create(&json!({"id": a, "type": "Batched"})).await;
    let reply = client
        .json_ld(Method::POST, DELETE, &json!([a, missing]))
        .await;
    assert_eq!(error_ids(&reply), [missing.as_str()]);
    client
        .get(&entity_path(&a))
        .await
        .assert_error(404, "ResourceNotFound");
}

/// 6.3.5: an item that breaks its media type's rule (an @context with application/json,
/// none with application/ld+json) fails alone; its siblings are created.
pub(crate) async fn batch_items_breaking_their_media_type_rule_fail_alone() {
    let client = Client::shared();
    let core = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld";
    let (ok, bad) = (urn("Batched"), urn("Batched"));
    let reply = client
        .post(
            CREATE,
            &json!([{"id": ok, "type": "Batched"},
                    {"id": bad, "type": "Batched", "@context": core}]),
        )
        .await;
    assert_eq!(error_ids(&reply), [bad.as_str()]);
    let (ok2, bad2) = (urn("Batched"), urn("Batched"));
    let reply = client
        .json_ld(
            Method::POST,
            CREATE,
            &json!([{"id": ok2, "type": "Batched", "@context": core},
                    {"id": bad2, "type": "Batched"}]),
        )
        .await;
    assert_eq!(error_ids(&reply), [bad2.as_str()]);
    for id in [&ok, &ok2] {
        client.get(&entity_path(id)).await.assert_status(200);
    }
}

fn building(id: &str) -> Value {
    json!({"id": id, "type": "Building", "name": {"type": "Property", "value": "x"}})
}

/// 5.6.9.4: with noOverwrite an entity whose attributes all exist is not updated (207, it is
/// listed in errors); one that gains an attribute succeeds. Types of the items are added.
pub(crate) async fn batch_update_reports_entities_left_unchanged_by_no_overwrite() {
    let client = Client::shared();
    let (same, grown) = (urn("Building"), urn("Building"));
    client.create(&building(&same)).await;
    client.create(&building(&grown)).await;
    let more = json!({"id": grown, "type": ["Building", "Vehicle"],
                      "height": {"type": "Property", "value": 3}});
    let reply = client
        .post(
            &format!("{UPDATE}?options=noOverwrite"),
            &json!([building(&same), more]),
        )
        .await;
    assert_eq!(error_ids(&reply), [same.as_str()]);
    let got = client.get(&entity_path(&grown)).await;
    assert_eq!(got.json["type"], json!(["Building", "Vehicle"]));
    assert_eq!(got.json["height"]["value"], 3);
    assert_eq!(got.json["name"]["value"], "x");
}
