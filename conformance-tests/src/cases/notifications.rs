//! Clause 5.8.6 (notification behaviour): what the entities of a notification carry when a
//! write deleted attributes or the entity itself. The subscription helpers are those of
//! [`super::subscriptions`].

use serde_json::{json, Value};

use super::subscriptions::{
    assert_204, assert_notification, car, fresh_type, id_of, subscribe, subscription, watch, WAIT,
};
use crate::{entity_path, Client, Receiver};

const NULL: &str = "urn:ngsi-ld:null";

/// GS CIM 009 5.8.6: a deleted attribute is notified by name with the NGSI-LD Null as its
/// value (object, languageMap `@none`), in each format.
pub(crate) async fn deleted_attributes_are_notified_as_ngsi_ld_null() {
    let client = Client::shared();
    let ty = fresh_type();
    let (rx, sub) = watch(&client, &ty, &["attributeDeleted"]).await;
    let receiver = Receiver::start().await;
    let mut simplified = subscription(&ty, &receiver.url("/kv"));
    simplified["notificationTrigger"] = json!(["attributeDeleted"]);
    simplified["notification"]["format"] = json!("keyValues");
    let kv_sub = subscribe(&client, &simplified).await;
    let mut entity = car(&ty, 1);
    entity["owner"] = json!({"type": "Relationship", "object": "urn:ngsi-ld:Person:1"});
    entity["street"] = json!({"type": "LanguageProperty", "languageMap": {"fr": "Grand Place"}});
    let id = id_of(&entity);
    let path = entity_path(&id);
    client.create(&entity).await;

    assert_204(client.delete(&format!("{path}/attrs/brand")).await);
    let n = rx.nth(1, WAIT).await;
    assert_notification(&n, &sub, "attributeDeleted", &id);
    assert_eq!(
        n.entity()["brand"],
        json!({"type": "Property", "value": NULL})
    );
    assert_eq!(n.entity()["speed"]["value"], 1, "{}", n.body);
    let n = receiver.nth(1, WAIT).await;
    assert_notification(&n, &kv_sub, "attributeDeleted", &id);
    assert_eq!(n.entity()["brand"], NULL, "{}", n.body);

    let nulls = json!({"owner": NULL, "street": NULL});
    assert_204(client.patch(&path, &nulls).await);
    let n = rx.nth(2, WAIT).await;
    assert_eq!(
        n.entity()["owner"],
        json!({"type": "Relationship", "object": NULL})
    );
    assert_eq!(
        n.entity()["street"],
        json!({"type": "LanguageProperty", "languageMap": {"@none": NULL}})
    );
}

/// GS CIM 009 5.8.6: deleting one datasetId instance notifies that instance as the NGSI-LD
/// Null beside the instances that remain; with `sysAttrs` it carries its deletedAt.
pub(crate) async fn a_deleted_dataset_instance_is_notified_beside_the_others() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["notificationTrigger"] = json!(["attributeDeleted"]);
    body["notification"]["sysAttrs"] = json!(true);
    let sub = subscribe(&client, &body).await;
    let mut entity = car(&ty, 1);
    entity["name"] = json!([
        {"type": "Property", "value": "Eiffel Tower"},
        {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}
    ]);
    let id = id_of(&entity);
    client.create(&entity).await;

    let path = format!(
        "{}/attrs/name?datasetId=urn:ngsi-ld:Dataset:fr",
        entity_path(&id)
    );
    assert_204(client.delete(&path).await);
    let n = rx.nth(1, WAIT).await;
    assert_notification(&n, &sub, "attributeDeleted", &id);
    let names = n.entity()["name"].as_array().cloned().unwrap_or_default();
    assert_eq!(names.len(), 2, "{}", n.body);
    let fr = names
        .iter()
        .find(|i| i["datasetId"] == "urn:ngsi-ld:Dataset:fr")
        .unwrap_or_else(|| panic!("no fr instance: {}", n.body));
    assert_eq!(fr["value"], NULL, "{}", n.body);
    assert!(fr["deletedAt"].is_string(), "{}", n.body);
    let default = names.iter().find(|i| i.get("datasetId").is_none());
    assert_eq!(default.map(|i| &i["value"]), Some(&json!("Eiffel Tower")));
}

/// GS CIM 009 5.8.6: a deleted entity is notified as id, type and deletedAt, with createdAt
/// and modifiedAt when `sysAttrs` is set.
pub(crate) async fn a_deleted_entity_with_sys_attrs_carries_created_and_modified_at() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["notificationTrigger"] = json!(["entityDeleted"]);
    body["notification"]["sysAttrs"] = json!(true);
    let sub = subscribe(&client, &body).await;
    let entity = car(&ty, 1);
    let id = id_of(&entity);
    client.create(&entity).await;

    assert_204(client.delete(&entity_path(&id)).await);
    let n = rx.nth(1, WAIT).await;
    assert_notification(&n, &sub, "entityDeleted", &id);
    let members: Vec<&str> = n
        .entity()
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut members = members;
    members.sort_unstable();
    assert_eq!(
        members,
        ["createdAt", "deletedAt", "id", "modifiedAt", "type"],
        "{}",
        n.body
    );
}

/// GS CIM 009 5.2.12 and 5.8.6: deleting an entity deletes its attributes, so it fires
/// `attributeDeleted` for a watched one, which is notified as the NGSI-LD Null (the others
/// are not).
pub(crate) async fn deleting_an_entity_fires_attribute_deleted_for_watched_attributes() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["notificationTrigger"] = json!(["attributeDeleted"]);
    body["watchedAttributes"] = json!(["brand"]);
    let sub = subscribe(&client, &body).await;
    let entity = car(&ty, 1);
    let id = id_of(&entity);
    client.create(&entity).await;

    assert_204(client.delete(&entity_path(&id)).await);
    let n = rx.nth(1, WAIT).await;
    assert_notification(&n, &sub, "attributeDeleted", &id);
    assert_eq!(
        n.entity()["brand"],
        json!({"type": "Property", "value": NULL})
    );
    assert!(n.entity()["deletedAt"].is_string(), "{}", n.body);
    assert!(n.entity().get("speed").is_none(), "{}", n.body);
}

/// GS CIM 009 5.8.6: with `showChanges`, a deleted entity carries every attribute as the
/// NGSI-LD Null with its previous value.
pub(crate) async fn a_deleted_entity_with_show_changes_carries_previous_values() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["notificationTrigger"] = json!(["entityDeleted"]);
    body["notification"]["showChanges"] = json!(true);
    subscribe(&client, &body).await;
    let mut entity = car(&ty, 7);
    entity["owner"] = json!({"type": "Relationship", "object": "urn:ngsi-ld:Person:1"});
    let id = id_of(&entity);
    client.create(&entity).await;

    assert_204(client.delete(&entity_path(&id)).await);
    let n = rx.nth(1, WAIT).await;
    let e: &Value = n.entity();
    assert_eq!(
        e["speed"],
        json!({"type": "Property", "value": NULL, "previousValue": 7}),
        "{}",
        n.body
    );
    assert_eq!(e["owner"]["object"], NULL, "{}", n.body);
    assert_eq!(e["owner"]["previousObject"], "urn:ngsi-ld:Person:1");
    assert!(e["deletedAt"].is_string(), "{}", n.body);
}

/// GS CIM 009 5.2.14.1 and 5.8.6: `notification.pick` reduces every notified entity to the
/// members it names, `notification.omit` removes them.
pub(crate) async fn notification_pick_and_omit_project_the_entity() {
    let client = Client::shared();
    let ty = fresh_type();
    let picked = Receiver::start().await;
    let mut body = subscription(&ty, &picked.url("/pick"));
    body["notification"]["pick"] = json!(["id", "speed"]);
    subscribe(&client, &body).await;
    let omitted = Receiver::start().await;
    let mut body = subscription(&ty, &omitted.url("/omit"));
    body["notification"]["omit"] = json!(["type", "brand"]);
    let sub = subscribe(&client, &body).await;
    let entity = car(&ty, 3);
    let id = id_of(&entity);
    client.create(&entity).await;

    let n = picked.nth(1, WAIT).await;
    let mut members: Vec<&String> = n
        .entity()
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    members.sort();
    assert_eq!(members, ["id", "speed"], "{}", n.body);
    let n = omitted.nth(1, WAIT).await;
    assert_eq!(n.entity()["id"], id, "{}", n.body);
    assert!(n.entity().get("type").is_none(), "{}", n.body);
    assert!(n.entity().get("brand").is_none(), "{}", n.body);
    assert_eq!(n.entity()["speed"]["value"], 3, "{}", n.body);
    // Retrieved as written.
    let got = client.get(&super::subscriptions::sub_path(&sub)).await;
    assert_eq!(got.json["notification"]["omit"], json!(["type", "brand"]));
}

/// GS CIM 009 5.2.12 and 5.8.6: a subscription's `datasetId` selects the attribute instances
/// notified (`@none` is the default instance); it is kept and rendered as given.
pub(crate) async fn dataset_id_selects_the_notified_instances() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["datasetId"] = json!(["urn:ngsi-ld:Dataset:fr", "@none"]);
    let sub = subscribe(&client, &body).await;
    let mut entity = car(&ty, 1);
    entity["name"] = json!([
        {"type": "Property", "value": "Eiffel Tower"},
        {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"},
        {"type": "Property", "value": "Eiffelturm", "datasetId": "urn:ngsi-ld:Dataset:de"}
    ]);
    entity["colour"] =
        json!({"type": "Property", "value": "red", "datasetId": "urn:ngsi-ld:Dataset:de"});
    client.create(&entity).await;

    let n = rx.nth(1, WAIT).await;
    let names = n.entity()["name"].as_array().cloned().unwrap_or_default();
    let mut values: Vec<&str> = names.iter().filter_map(|i| i["value"].as_str()).collect();
    values.sort_unstable();
    assert_eq!(values, ["Eiffel Tower", "Tour Eiffel"], "{}", n.body);
    assert!(n.entity().get("colour").is_none(), "{}", n.body);
    assert_eq!(n.entity()["speed"]["value"], 1, "{}", n.body);
    let got = client.get(&super::subscriptions::sub_path(&sub)).await;
    assert_eq!(
        got.json["datasetId"],
        json!(["urn:ngsi-ld:Dataset:fr", "@none"])
    );
}

/// GS CIM 009 5.2.14.1: with `sysAttrs`, the notified entity carries createdAt and
/// modifiedAt in the simplified format too.
pub(crate) async fn sys_attrs_apply_to_simplified_notifications() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["notification"]["format"] = json!("keyValues");
    body["notification"]["sysAttrs"] = json!(true);
    subscribe(&client, &body).await;
    client.create(&car(&ty, 4)).await;
    let n = rx.nth(1, WAIT).await;
    assert!(n.entity()["createdAt"].is_string(), "{}", n.body);
    assert!(n.entity()["modifiedAt"].is_string(), "{}", n.body);
    assert_eq!(n.entity()["speed"], 4, "{}", n.body);
}

/// GS CIM 009 5.8.6: deleting every instance of an attribute at once notifies the attribute
/// as one NGSI-LD Null.
pub(crate) async fn deleting_all_instances_notifies_one_null() {
    let client = Client::shared();
    let ty = fresh_type();
    let (rx, _) = watch(&client, &ty, &["attributeDeleted"]).await;
    let mut entity = car(&ty, 1);
    entity["name"] = json!([
        {"type": "Property", "value": "Eiffel Tower"},
        {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}
    ]);
    let id = id_of(&entity);
    client.create(&entity).await;
    let path = format!("{}/attrs/name?deleteAll=true", entity_path(&id));
    assert_204(client.delete(&path).await);
    let n = rx.nth(1, WAIT).await;
    assert_eq!(
        n.entity()["name"],
        json!({"type": "Property", "value": NULL}),
        "{}",
        n.body
    );
}
