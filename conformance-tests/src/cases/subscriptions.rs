//! Clause 5.8 (subscription operations) and 5.11 (notification behaviour), with Subscription
//! (5.2.12), NotificationParams (5.2.14), Endpoint (5.2.15) and Notification (5.3.1): every
//! case drives the broker through its HTTP API and receives the notifications with a real
//! receiver on loopback (and a real MQTT broker for the MQTT endpoint).
//!
//! Each case watches its own entity type, so the cases run in parallel against the shared
//! broker without seeing each other's writes. Where a case checks that something is *not*
//! notified, it follows the write with one that is (the same subscription, or a second one
//! in the same dispatch), and awaits that instead of sleeping.

use std::time::Duration;

use crate::{
    enc, entity_path, fixture, link, unique, BrokerProcess, Client, ContextServer, Received,
    Receiver, Reply,
};
use reqwest::Method;
use serde_json::{json, Value};

/// The longest a case waits for a notification that should come.
pub(super) const WAIT: Duration = Duration::from_secs(5);

pub(super) const SUBSCRIPTIONS: &str = "/ngsi-ld/v1/subscriptions";

/// A fresh entity type, so that a case's subscriptions see only its own entities.
pub(super) fn fresh_type() -> String {
    format!("Car{}", unique("t"))
}

pub(super) fn car(ty: &str, speed: i64) -> Value {
    json!({
        "id": format!("urn:ngsi-ld:Car:{}", unique("c")),
        "type": ty,
        "speed": {"type": "Property", "value": speed},
        "brand": {"type": "Property", "value": "Volvo"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]}}
    })
}

pub(super) fn id_of(entity: &Value) -> String {
    entity["id"].as_str().expect("entity id").to_owned()
}

pub(super) fn sub_path(id: &str) -> String {
    format!("{SUBSCRIPTIONS}/{}", enc(id))
}

/// A subscription to every entity of `ty`, notified at `uri`.
pub(super) fn subscription(ty: &str, uri: &str) -> Value {
    json!({
        "type": "Subscription",
        "entities": [{"type": ty}],
        "notification": {"endpoint": {"uri": uri}}
    })
}

/// Creates a subscription, asserts 201 and a Location, and returns the subscription id.
pub(super) async fn subscribe(client: &Client, body: &Value) -> String {
    let reply = client.post(SUBSCRIPTIONS, body).await;
    reply.assert_status(201);
    let location = reply.header("location").expect("Location header");
    location
        .strip_prefix("/ngsi-ld/v1/subscriptions/")
        .unwrap_or_else(|| panic!("Location {location} is not under /ngsi-ld/v1/subscriptions/"))
        .to_owned()
}

#[track_caller]
pub(super) fn assert_204(reply: Reply) {
    reply.assert_status(204);
}

/// Polls the subscription until `done` holds for it (the status members change when a
/// delivery ends, which the receiver cannot see), for at most `WAIT`.
async fn await_subscription(client: &Client, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let reply = client.get(&sub_path(id)).await;
        reply.assert_status(200);
        if done(&reply.json) {
            return reply.json;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscription never reached the expected state: {}",
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[track_caller]
pub(super) fn assert_notification(n: &Received, sub_id: &str, trigger: &str, entity_id: &str) {
    assert_eq!(n.method, "POST");
    assert_eq!(n.body["type"], "Notification", "{}", n.body);
    assert_eq!(n.body["subscriptionId"], sub_id, "{}", n.body);
    assert!(n.body["notifiedAt"].is_string(), "{}", n.body);
    assert!(
        n.body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("urn:")),
        "{}",
        n.body
    );
    assert_eq!(n.body["triggerReason"], trigger, "{}", n.body);
    assert_eq!(n.entity()["id"], entity_id, "{}", n.body);
}

// ---------------------------------------------------------------------------------------------
// Create, retrieve, list, update, delete (5.8.1-5.8.5)

pub(crate) async fn create_is_201_with_location_and_retrieve_renders_the_subscription() {
    let client = Client::shared();
    let ty = fresh_type();
    let id = format!("urn:ngsi-ld:Subscription:{}", unique("s"));
    let mut body = subscription(&ty, "http://127.0.0.1:9/notify");
    body["id"] = json!(id);
    body["description"] = json!("cars");
    body["watchedAttributes"] = json!(["speed"]);
    body["q"] = json!("speed>50");
    let reply = client.post(SUBSCRIPTIONS, &body).await;
    reply.assert_status(201);
    assert_eq!(
        reply.header("location"),
        Some(format!("{SUBSCRIPTIONS}/{id}").as_str())
    );

    let got = client.get(&sub_path(&id)).await;
    got.assert_status(200);
    let s = &got.json;
    assert_eq!(s["id"], id);
    assert_eq!(s["type"], "Subscription");
    assert_eq!(s["description"], "cars");
    assert_eq!(s["entities"], json!([{"type": ty}]));
    assert_eq!(s["watchedAttributes"], json!(["speed"]));
    assert_eq!(s["q"], "speed>50");
    // isActive is true by default and createdAt/modifiedAt are not Subscription members
    // (clause 5.2.12): none of them is rendered unless asked for.
    assert!(s.get("isActive").is_none(), "{s}");
    assert!(s.get("createdAt").is_none(), "{s}");
    assert_eq!(s["status"], "active");
    assert_eq!(
        s["notificationTrigger"],
        json!(["attributeCreated", "attributeUpdated"])
    );
    assert_eq!(s["notification"]["format"], "normalized");
    assert_eq!(
        s["notification"]["endpoint"],
        json!({"uri": "http://127.0.0.1:9/notify", "accept": "application/json"})
    );

    // Without an id, the broker names it.
    let generated = subscribe(&client, &subscription(&ty, "http://127.0.0.1:9/n")).await;
    assert!(
        generated.starts_with("urn:ngsi-ld:Subscription:"),
        "{generated}"
    );
    client.get(&sub_path(&generated)).await.assert_status(200);
}

pub(crate) async fn create_with_an_existing_id_is_409_already_exists() {
    let client = Client::shared();
    let mut body = subscription(&fresh_type(), "http://127.0.0.1:9/n");
    body["id"] = json!(format!("urn:ngsi-ld:Subscription:{}", unique("s")));
    client.post(SUBSCRIPTIONS, &body).await.assert_status(201);
    client
        .post(SUBSCRIPTIONS, &body)
        .await
        .assert_error(409, "AlreadyExists");
}

pub(crate) async fn list_pages_with_limit_offset_and_count() {
    let client = Client::shared().with_tenant(&unique("list"));
    let ty = fresh_type();
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut body = subscription(&ty, "http://127.0.0.1:9/n");
        body["id"] = json!(format!("urn:ngsi-ld:Subscription:list{n}"));
        ids.push(subscribe(&client, &body).await);
    }
    let all = client.get(SUBSCRIPTIONS).await;
    all.assert_status(200);
    let listed: Vec<&str> = all
        .json
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(listed, ids);

    let page = client
        .get(&format!("{SUBSCRIPTIONS}?limit=2&count=true"))
        .await;
    page.assert_status(200);
    assert_eq!(page.json.as_array().map(Vec::len), Some(2));
    assert_eq!(page.header("ngsild-results-count"), Some("3"));

    let rest = client
        .get(&format!("{SUBSCRIPTIONS}?limit=2&offset=2"))
        .await;
    rest.assert_status(200);
    assert_eq!(rest.json[0]["id"], ids[2].as_str());
    assert_eq!(rest.json.as_array().map(Vec::len), Some(1));

    // Clause 6.3.10: Link headers point to the previous and next pages.
    let pages = |reply: &Reply| -> Vec<String> {
        reply
            .headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|l| l.replace(' ', ""))
            .filter(|l| !l.contains("json-ld#context"))
            .collect()
    };
    let middle = client
        .get(&format!("{SUBSCRIPTIONS}?limit=1&offset=1"))
        .await;
    assert_eq!(
        pages(&middle),
        [
            r#"</ngsi-ld/v1/subscriptions?limit=1&offset=0>;rel="prev";type="application/json""#,
            r#"</ngsi-ld/v1/subscriptions?limit=1&offset=2>;rel="next";type="application/json""#
        ]
    );
    assert_eq!(pages(&rest).len(), 1, "{:?}", pages(&rest));
    assert!(pages(&all).is_empty(), "{:?}", pages(&all));

    // Other tenants' subscriptions are not listed.
    let other = Client::shared().with_tenant(&unique("list"));
    subscribe(&other, &subscription(&ty, "http://127.0.0.1:9/n")).await;
    let again = client.get(&format!("{SUBSCRIPTIONS}?count=true")).await;
    assert_eq!(again.header("ngsild-results-count"), Some("3"));
}

pub(crate) async fn patch_replaces_the_given_members_and_keeps_the_others() {
    let client = Client::shared();
    let ty = fresh_type();
    let id = subscribe(&client, &subscription(&ty, "http://127.0.0.1:9/n")).await;
    let with_sys_attrs = format!("{}?options=sysAttrs", sub_path(&id));
    let before = client.get(&with_sys_attrs).await.json;
    assert_204(
        client
            .patch(
                &sub_path(&id),
                &json!({
                    "description": "patched",
                    "q": "speed<10",
                    "notification": {"format": "keyValues", "attributes": ["speed"],
                                     "endpoint": {"uri": "http://127.0.0.1:9/n"}}
                }),
            )
            .await,
    );
    let after = client.get(&with_sys_attrs).await;
    after.assert_status(200);
    let s = &after.json;
    assert_eq!(s["description"], "patched");
    assert_eq!(s["q"], "speed<10");
    assert_eq!(s["notification"]["format"], "keyValues");
    assert_eq!(s["notification"]["attributes"], json!(["speed"]));
    assert_eq!(s["notification"]["endpoint"]["uri"], "http://127.0.0.1:9/n");
    assert_eq!(s["entities"], before["entities"]);
    assert!(s["createdAt"].is_string(), "{s}");
    assert_eq!(s["createdAt"], before["createdAt"]);

    for invalid in [
        json!({"q": "speed<<"}),
        json!({"expiresAt": "2001-01-01T00:00:00Z"}),
        json!({"notification": {"endpoint": {"uri": "ftp://127.0.0.1/n"}}}),
        json!({"timeInterval": 10, "throttling": 5}),
        // Clause 5.5.8: notification is replaced as a whole, and has no endpoint here.
        json!({"notification": {"format": "keyValues"}}),
        // Clause 5.2.14.1: showChanges cannot go with the simplified format.
        json!({"notification": {"showChanges": true, "format": "keyValues",
                                "endpoint": {"uri": "http://127.0.0.1:9/n"}}}),
    ] {
        client
            .patch(&sub_path(&id), &invalid)
            .await
            .assert_error(400, "BadRequestData");
    }
    // A rejected update changes nothing.
    assert_eq!(client.get(&sub_path(&id)).await.json["q"], "speed<10");
}

/// Clause 5.2.12 lists no createdAt nor modifiedAt: they are system attributes (4.8), shown
/// with `options=sysAttrs`. Seconds are rendered as written.
pub(crate) async fn retrieve_shows_created_and_modified_at_only_with_sys_attrs() {
    let client = Client::shared();
    let mut body = subscription(&fresh_type(), "http://127.0.0.1:9/n");
    body["timeInterval"] = json!(3600);
    let id = subscribe(&client, &body).await;
    let plain = client.get(&sub_path(&id)).await;
    plain.assert_status(200);
    assert!(plain.json.get("createdAt").is_none(), "{}", plain.text);
    assert!(plain.json.get("modifiedAt").is_none(), "{}", plain.text);
    // Clause 5.2.14.2: the counters are greater than 0 when present; nothing was sent yet.
    let notification = &plain.json["notification"];
    assert!(notification.get("timesSent").is_none(), "{}", plain.text);
    assert!(notification.get("timesFailed").is_none(), "{}", plain.text);
    assert!(
        plain.text.contains("\"timeInterval\":3600"),
        "{}",
        plain.text
    );
    let sys = client
        .get(&format!("{}?options=sysAttrs", sub_path(&id)))
        .await;
    assert!(sys.json["createdAt"].is_string(), "{}", sys.text);
    assert!(sys.json["modifiedAt"].is_string(), "{}", sys.text);
    let listed = client
        .get(&format!("{SUBSCRIPTIONS}?options=sysAttrs&limit=1000"))
        .await;
    let mine = listed
        .json
        .as_array()
        .and_then(|all| all.iter().find(|s| s["id"] == id.as_str()));
    assert!(
        mine.is_some_and(|s| s["createdAt"].is_string()),
        "{}",
        listed.text
    );
}

pub(crate) async fn delete_removes_the_subscription_and_missing_ones_are_404() {
    let client = Client::shared();
    let id = subscribe(
        &client,
        &subscription(&fresh_type(), "http://127.0.0.1:9/n"),
    )
    .await;
    assert_204(client.delete(&sub_path(&id)).await);
    client
        .get(&sub_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .delete(&sub_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .patch(&sub_path(&id), &json!({"description": "x"}))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn a_deleted_subscription_no_longer_notifies() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let doomed = subscribe(&client, &subscription(&ty, &rx.url("/deleted"))).await;
    sentinel(&client, &ty, &rx).await;
    assert_204(client.delete(&sub_path(&doomed)).await);
    client.create(&car(&ty, 1)).await;
    rx.nth(1, WAIT).await;
    assert_eq!(at_path(&rx, "/sentinel").len(), 1);
    assert!(at_path(&rx, "/deleted").is_empty());
}

pub(crate) async fn invalid_subscriptions_are_400_bad_request_data() {
    let client = Client::shared();
    let ty = fresh_type();
    let endpoint = json!({"uri": "http://127.0.0.1:9/n"});
    let cases = [
        (
            "no entities and no watchedAttributes",
            json!({"type": "Subscription", "notification": {"endpoint": endpoint}}),
        ),
        (
            "invalid q",
            json!({"type": "Subscription", "entities": [{"type": ty}], "q": "speed>>1(",
                   "notification": {"endpoint": endpoint}}),
        ),
        (
            "invalid geoQ",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "geoQ": {"georel": "near;maxDistance==10", "geometry": "Point", "coordinates": "nonsense"},
                   "notification": {"endpoint": endpoint}}),
        ),
        (
            "unknown georel",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "geoQ": {"georel": "close", "geometry": "Point", "coordinates": [1, 2]},
                   "notification": {"endpoint": endpoint}}),
        ),
        (
            "throttling with timeInterval",
            json!({"type": "Subscription", "entities": [{"type": ty}], "throttling": 5,
                   "timeInterval": 10, "notification": {"endpoint": endpoint}}),
        ),
        (
            "expiresAt in the past",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "expiresAt": "2001-01-01T00:00:00Z", "notification": {"endpoint": endpoint}}),
        ),
        (
            // Clause 5.2.14.1: showChanges cannot be true with the simplified format.
            "showChanges with keyValues",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "notification": {"endpoint": endpoint, "format": "keyValues", "showChanges": true}}),
        ),
        (
            // Clause 4.21: pick and omit exclude each other.
            "pick with omit",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "notification": {"endpoint": endpoint, "pick": ["id"], "omit": ["speed"]}}),
        ),
        (
            // Clause 5.2.12: csf is a query as per clause 4.9.
            "csf that is no query",
            json!({"type": "Subscription", "entities": [{"type": ty}], "csf": "((",
                   "notification": {"endpoint": endpoint}}),
        ),
        (
            "endpoint uri that is no URI",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "notification": {"endpoint": {"uri": "not a uri"}}}),
        ),
        (
            "unsupported endpoint scheme",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "notification": {"endpoint": {"uri": "ftp://127.0.0.1/n"}}}),
        ),
        (
            "no endpoint",
            json!({"type": "Subscription", "entities": [{"type": ty}], "notification": {}}),
        ),
        (
            "unknown trigger",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "notificationTrigger": ["entityTouched"], "notification": {"endpoint": endpoint}}),
        ),
        (
            "unknown format",
            json!({"type": "Subscription", "entities": [{"type": ty}],
                   "notification": {"format": "pretty", "endpoint": endpoint}}),
        ),
    ];
    for (what, body) in cases {
        let reply = client.post(SUBSCRIPTIONS, &body).await;
        assert_eq!(reply.status.as_u16(), 400, "{what}: {}", reply.text);
        reply.assert_error(400, "BadRequestData");
    }
}

// ---------------------------------------------------------------------------------------------
// Triggers (5.2.12 notificationTrigger), each driven by the entity writes that fire it

/// A receiver and a subscription to `ty` with only the given triggers.
pub(super) async fn watch(client: &Client, ty: &str, triggers: &[&str]) -> (Receiver, String) {
    let receiver = Receiver::start().await;
    let mut body = subscription(ty, &receiver.url("/notify"));
    body["notificationTrigger"] = json!(triggers);
    let id = subscribe(client, &body).await;
    (receiver, id)
}

async fn batch(client: &Client, op: &str, body: &Value) {
    let reply = client
        .post(&format!("/ngsi-ld/v1/entityOperations/{op}"), body)
        .await;
    assert!(
        reply.status.is_success(),
        "batch {op}: {} {}",
        reply.status,
        reply.text
    );
}

pub(crate) async fn entity_created_fires_for_create_batch_create_and_batch_upsert() {
    let client = Client::shared();
    let ty = fresh_type();
    let (rx, sub) = watch(&client, &ty, &["entityCreated"]).await;
    let first = car(&ty, 1);
    client.create(&first).await;
    let n = rx.nth(1, WAIT).await;
    assert_notification(&n, &sub, "entityCreated", &id_of(&first));
    assert_eq!(n.entity()["speed"], json!({"type": "Property", "value": 1}));

    let second = car(&ty, 2);
    batch(&client, "create", &json!([second])).await;
    assert_notification(
        &rx.nth(2, WAIT).await,
        &sub,
        "entityCreated",
        &id_of(&second),
    );

    // An update is no creation: the upsert's new entity is the next notification.
    assert_204(
        client
            .patch(
                &format!("{}/attrs", entity_path(&id_of(&first))),
                &json!({"speed": {"type": "Property", "value": 5}}),
            )
            .await,
    );
    let third = car(&ty, 3);
    batch(&client, "upsert", &json!([third])).await;
    assert_notification(
        &rx.nth(3, WAIT).await,
        &sub,
        "entityCreated",
        &id_of(&third),
    );
}

pub(crate) async fn entity_updated_fires_for_every_kind_of_update() {
    let client = Client::shared();
    let ty = fresh_type();
    let (rx, sub) = watch(&client, &ty, &["entityUpdated"]).await;
    let entity = car(&ty, 1);
    let id = id_of(&entity);
    let path = entity_path(&id);
    client.create(&entity).await;

    let speed = |v: i64| json!({"type": "Property", "value": v});
    let writes: Vec<(&str, Reply)> = vec![
        (
            "PATCH attrs",
            client
                .patch(&format!("{path}/attrs"), &json!({"speed": speed(10)}))
                .await,
        ),
        (
            "PATCH attr",
            client
                .patch(&format!("{path}/attrs/speed"), &json!({"value": 11}))
                .await,
        ),
        (
            "merge",
            client.patch(&path, &json!({"speed": speed(12)})).await,
        ),
        (
            "PUT",
            client
                .put(&path, &json!({"type": ty, "speed": speed(13), "brand": {"type": "Property", "value": "Volvo"}}))
                .await,
        ),
        (
            "POST attrs",
            client
                .post(&format!("{path}/attrs"), &json!({"speed": speed(14)}))
                .await,
        ),
    ];
    for (what, reply) in writes {
        assert!(reply.status.is_success(), "{what}: {}", reply.text);
    }
    batch(
        &client,
        "update",
        &json!([{"id": id, "type": ty, "speed": speed(15)}]),
    )
    .await;
    batch(
        &client,
        "upsert",
        &json!([{"id": id, "type": ty, "speed": speed(16)}]),
    )
    .await;
    // The creation did not notify: the first notification is the first update.
    for (n, value) in (1..=7).zip(10..) {
        let got = rx.nth(n, WAIT).await;
        assert_notification(&got, &sub, "entityUpdated", &id);
        assert_eq!(got.entity()["speed"]["value"], value, "notification {n}");
    }
}

pub(crate) async fn entity_deleted_fires_for_delete_and_batch_delete() {
    let client = Client::shared();
    let ty = fresh_type();
    let (rx, sub) = watch(&client, &ty, &["entityDeleted"]).await;
    let (a, b) = (car(&ty, 1), car(&ty, 2));
    client.create(&a).await;
    client.create(&b).await;
    assert_204(client.delete(&entity_path(&id_of(&a))).await);
    let n = rx.nth(1, WAIT).await;
    assert_notification(&n, &sub, "entityDeleted", &id_of(&a));
    assert_eq!(n.entity()["type"], ty.as_str());
    assert!(n.entity()["deletedAt"].is_string(), "{}", n.body);

    batch(&client, "delete", &json!([id_of(&b)])).await;
    assert_notification(&rx.nth(2, WAIT).await, &sub, "entityDeleted", &id_of(&b));
}

pub(crate) async fn attribute_created_fires_for_new_attributes_only() {
    let client = Client::shared();
    let ty = fresh_type();
    let (rx, sub) = watch(&client, &ty, &["attributeCreated"]).await;
    let entity = car(&ty, 1);
    let id = id_of(&entity);
    let path = entity_path(&id);
    client.create(&entity).await;
    assert_notification(&rx.nth(1, WAIT).await, &sub, "attributeCreated", &id);

    let prop = |v: i64| json!({"type": "Property", "value": v});
    assert_204(
        client
            .post(&format!("{path}/attrs"), &json!({"fuel": prop(50)}))
            .await,
    );
    let n = rx.nth(2, WAIT).await;
    assert_notification(&n, &sub, "attributeCreated", &id);
    assert_eq!(n.entity()["fuel"]["value"], 50);

    // Updating an existing attribute creates none; the merge's new attribute is next.
    assert_204(
        client
            .patch(&format!("{path}/attrs"), &json!({"speed": prop(2)}))
            .await,
    );
    assert_204(client.patch(&path, &json!({"oil": prop(7)})).await);
    let n = rx.nth(3, WAIT).await;
    assert_notification(&n, &sub, "attributeCreated", &id);
    assert_eq!(n.entity()["oil"]["value"], 7);
    assert_eq!(n.entity()["speed"]["value"], 2);

    batch(
        &client,
        "upsert",
        &json!([{"id": id, "type": ty, "tyres": prop(4)}]),
    )
    .await;
    let n = rx.nth(4, WAIT).await;
    assert_notification(&n, &sub, "attributeCreated", &id);
    assert_eq!(n.entity()["tyres"]["value"], 4);
}

pub(crate) async fn attribute_updated_fires_for_every_kind_of_attribute_update() {
    let client = Client::shared();
    let ty = fresh_type();
    let (rx, sub) = watch(&client, &ty, &["attributeUpdated"]).await;
    let entity = car(&ty, 1);
    let id = id_of(&entity);
    let path = entity_path(&id);
    client.create(&entity).await;
    let speed = |v: i64| json!({"type": "Property", "value": v});
    let replies = [
        client
            .patch(&format!("{path}/attrs"), &json!({"speed": speed(10)}))
            .await,
        client
            .patch(&format!("{path}/attrs/speed"), &json!({"value": 11}))
            .await,
        client.patch(&path, &json!({"speed": speed(12)})).await,
        client
            .post(&format!("{path}/attrs"), &json!({"speed": speed(13)}))
            .await,
    ];
    for reply in replies {
        assert!(reply.status.is_success(), "{}", reply.text);
    }
    batch(
        &client,
        "update",
        &json!([{"id": id, "type": ty, "speed": speed(14)}]),
    )
    .await;
    batch(
        &client,
        "upsert",
        &json!([{"id": id, "type": ty, "speed": speed(15)}]),
    )
    .await;
    for (n, value) in (1..=6).zip(10..) {
        let got = rx.nth(n, WAIT).await;
        assert_notification(&got, &sub, "attributeUpdated", &id);
        assert_eq!(got.entity()["speed"]["value"], value, "notification {n}");
    }
}

pub(crate) async fn attribute_deleted_fires_for_delete_attr_merge_with_null_and_put() {
    let client = Client::shared();
    let ty = fresh_type();
    let (rx, sub) = watch(&client, &ty, &["attributeDeleted"]).await;
    let entity = car(&ty, 1);
    let id = id_of(&entity);
    let path = entity_path(&id);
    client.create(&entity).await;

    assert_204(client.delete(&format!("{path}/attrs/brand")).await);
    let n = rx.nth(1, WAIT).await;
    assert_notification(&n, &sub, "attributeDeleted", &id);
    // Clause 5.8.6: a deleted attribute is notified as the NGSI-LD Null.
    assert_eq!(
        n.entity()["brand"]["value"],
        "urn:ngsi-ld:null",
        "{}",
        n.body
    );

    assert_204(
        client
            .patch(&path, &json!({"location": "urn:ngsi-ld:null"}))
            .await,
    );
    let n = rx.nth(2, WAIT).await;
    assert_notification(&n, &sub, "attributeDeleted", &id);
    assert_eq!(
        n.entity()["location"]["value"],
        "urn:ngsi-ld:null",
        "{}",
        n.body
    );

    // Replacing the entity without an attribute deletes it.
    assert_204(
        client
            .put(
                &path,
                &json!({"type": ty, "fuel": {"type": "Property", "value": 1}}),
            )
            .await,
    );
    let n = rx.nth(3, WAIT).await;
    assert_notification(&n, &sub, "attributeDeleted", &id);
    assert_eq!(
        n.entity()["speed"]["value"],
        "urn:ngsi-ld:null",
        "{}",
        n.body
    );
    assert_eq!(n.entity()["fuel"]["value"], 1, "{}", n.body);
}

pub(crate) async fn watched_attributes_limit_which_changes_notify() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["watchedAttributes"] = json!(["speed"]);
    let sub = subscribe(&client, &body).await;
    let entity = car(&ty, 1);
    let path = entity_path(&id_of(&entity));
    client.create(&entity).await;
    assert_notification(
        &rx.nth(1, WAIT).await,
        &sub,
        "attributeCreated",
        &id_of(&entity),
    );
    let prop = |v: Value| json!({"type": "Property", "value": v});
    assert_204(
        client
            .patch(
                &format!("{path}/attrs"),
                &json!({"brand": prop(json!("Saab"))}),
            )
            .await,
    );
    assert_204(
        client
            .patch(&format!("{path}/attrs"), &json!({"speed": prop(json!(9))}))
            .await,
    );
    let n = rx.nth(2, WAIT).await;
    assert_notification(&n, &sub, "attributeUpdated", &id_of(&entity));
    assert_eq!(n.entity()["speed"]["value"], 9);
    assert_eq!(n.entity()["brand"]["value"], "Saab");
}

// ---------------------------------------------------------------------------------------------
// What a notification carries (5.2.14, 5.3.1)

pub(crate) async fn formats_normalized_concise_and_key_values() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    for format in ["normalized", "concise", "keyValues"] {
        let mut body = subscription(&ty, &rx.url(&format!("/{format}")));
        body["notification"]["format"] = json!(format);
        subscribe(&client, &body).await;
    }
    let entity = car(&ty, 42);
    client.create(&entity).await;
    rx.nth(3, WAIT).await;
    let by_path = |p: &str| {
        rx.all()
            .into_iter()
            .find(|r| r.path == p)
            .unwrap_or_else(|| panic!("no notification at {p}"))
    };
    let normalized = by_path("/normalized");
    assert_eq!(
        normalized.entity()["speed"],
        json!({"type": "Property", "value": 42})
    );
    assert_eq!(
        normalized.entity()["location"]["type"],
        "GeoProperty",
        "{}",
        normalized.body
    );
    let concise = by_path("/concise");
    assert_eq!(concise.entity()["speed"], json!(42), "{}", concise.body);
    assert_eq!(concise.entity()["brand"], json!("Volvo"));
    let kv = by_path("/keyValues");
    assert_eq!(kv.entity()["speed"], json!(42), "{}", kv.body);
    assert_eq!(
        kv.entity()["location"],
        json!({"type": "Point", "coordinates": [-3.7, 40.4]})
    );
    for n in [&normalized, &concise, &kv] {
        assert_eq!(n.entity()["type"], ty.as_str());
        assert_eq!(n.entity()["id"], id_of(&entity).as_str());
    }
}

pub(crate) async fn notification_attributes_and_sys_attrs_shape_the_entity() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["notification"]["attributes"] = json!(["speed"]);
    body["notification"]["sysAttrs"] = json!(true);
    subscribe(&client, &body).await;
    client.create(&car(&ty, 3)).await;
    let n = rx.nth(1, WAIT).await;
    let e = n.entity();
    assert_eq!(e["speed"]["value"], 3, "{}", n.body);
    assert!(e.get("brand").is_none(), "{}", n.body);
    assert!(e.get("location").is_none(), "{}", n.body);
    assert!(e["createdAt"].is_string(), "{}", n.body);
    assert!(e["modifiedAt"].is_string(), "{}", n.body);
    assert!(e["speed"]["createdAt"].is_string(), "{}", n.body);

    // Without sysAttrs, no system attributes.
    let rx2 = Receiver::start().await;
    subscribe(&client, &subscription(&ty, &rx2.url("/n"))).await;
    client.create(&car(&ty, 4)).await;
    let n = rx2.nth(1, WAIT).await;
    assert!(n.entity().get("createdAt").is_none(), "{}", n.body);
    assert!(n.entity()["speed"].get("createdAt").is_none(), "{}", n.body);
}

pub(crate) async fn show_changes_adds_the_previous_value() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["notification"]["showChanges"] = json!(true);
    body["notificationTrigger"] = json!(["attributeUpdated"]);
    subscribe(&client, &body).await;
    let entity = car(&ty, 30);
    client.create(&entity).await;
    assert_204(
        client
            .patch(
                &format!("{}/attrs", entity_path(&id_of(&entity))),
                &json!({"speed": {"type": "Property", "value": 31}}),
            )
            .await,
    );
    let n = rx.nth(1, WAIT).await;
    assert_eq!(n.entity()["speed"]["value"], 31, "{}", n.body);
    assert_eq!(n.entity()["speed"]["previousValue"], 30, "{}", n.body);
    assert!(
        n.entity()["brand"].get("previousValue").is_none(),
        "{}",
        n.body
    );
}

pub(crate) async fn accept_ld_json_puts_the_context_in_the_body_and_json_in_a_link_header() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    subscribe(&client, &subscription(&ty, &rx.url("/json"))).await;
    let mut body = subscription(&ty, &rx.url("/ld"));
    body["notification"]["endpoint"]["accept"] = json!("application/ld+json");
    subscribe(&client, &body).await;
    client.create(&car(&ty, 1)).await;
    rx.nth(2, WAIT).await;
    for n in rx.all() {
        let ctype = n.header("content-type").unwrap_or_default();
        if n.path == "/ld" {
            assert!(ctype.starts_with("application/ld+json"), "{ctype}");
            assert!(n.body.get("@context").is_some(), "{}", n.body);
            // Each entity of data is an Entity with its @context (5.3.1, 4.5.1).
            assert_eq!(n.entity()["@context"], n.body["@context"], "{}", n.body);
            assert!(n.header("link").is_none());
        } else {
            assert!(ctype.starts_with("application/json"), "{ctype}");
            assert!(n.body.get("@context").is_none(), "{}", n.body);
            assert!(n.entity().get("@context").is_none(), "{}", n.body);
            let link = n.header("link").expect("a Link header");
            assert!(
                link.contains(crate::CONTEXT_REL) && link.contains("ngsi-ld-core-context"),
                "{link}"
            );
        }
    }
}

pub(crate) async fn notifications_use_the_context_of_the_creating_request() {
    let client = Client::shared();
    let server = ContextServer::serve(fixture("user-context.json"));
    let ctx = server.url("subscriptions.jsonld");
    let link = link(&ctx);
    let rx = Receiver::start().await;
    let id = format!("urn:ngsi-ld:Car:{}", unique("c"));
    for (path, accept) in [
        ("/json", "application/json"),
        ("/ld", "application/ld+json"),
    ] {
        let body = json!({
            "type": "Subscription",
            "entities": [{"id": id, "type": "Car"}],
            "notificationTrigger": ["entityCreated"],
            "notification": {"endpoint": {"uri": rx.url(path), "accept": accept}}
        });
        let reply = client
            .json_with(Method::POST, SUBSCRIPTIONS, &body, &[("Link", &link)])
            .await;
        reply.assert_status(201);
    }
    let entity = json!({"id": id, "type": "Car", "topSpeed": {"type": "Property", "value": 200}});
    client
        .json_with(
            Method::POST,
            "/ngsi-ld/v1/entities",
            &entity,
            &[("Link", &link)],
        )
        .await
        .assert_status(201);
    rx.nth(2, WAIT).await;
    for n in rx.all() {
        // Terms of the user @context come back short, not as full IRIs.
        assert_eq!(n.entity()["type"], "Car", "{}", n.body);
        assert_eq!(n.entity()["topSpeed"]["value"], 200, "{}", n.body);
        if n.path == "/json" {
            let header = n.header("link").expect("a Link header");
            assert!(header.contains(&ctx), "{header}");
        } else {
            let inline = &n.body["@context"];
            let names_it = inline == ctx.as_str()
                || inline
                    .as_array()
                    .is_some_and(|items| items.iter().any(|c| c == ctx.as_str()));
            assert!(names_it, "{}", n.body);
        }
    }
}

pub(crate) async fn receiver_info_arrives_as_headers() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["notification"]["endpoint"]["receiverInfo"] = json!([
        {"key": "X-Auth-Token", "value": "secret-1"},
        {"key": "Fiware-Service", "value": "parking"}
    ]);
    subscribe(&client, &body).await;
    client.create(&car(&ty, 1)).await;
    let n = rx.nth(1, WAIT).await;
    assert_eq!(n.header("x-auth-token"), Some("secret-1"));
    assert_eq!(n.header("fiware-service"), Some("parking"));
}

pub(crate) async fn q_filters_the_notified_entities() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["q"] = json!("speed>50;brand==\"Volvo\"");
    subscribe(&client, &body).await;
    let (slow, fast) = (car(&ty, 10), car(&ty, 90));
    client.create(&slow).await;
    client.create(&fast).await;
    let n = rx.nth(1, WAIT).await;
    assert_eq!(n.entity()["id"], id_of(&fast).as_str(), "{}", n.body);
}

pub(crate) async fn geo_q_filters_the_notified_entities() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["geoQ"] = json!({
        "georel": "near;maxDistance==2000",
        "geometry": "Point",
        "coordinates": [2.35, 48.85]
    });
    subscribe(&client, &body).await;
    let far = car(&ty, 1); // Madrid
    let mut near = car(&ty, 2);
    near["location"]["value"]["coordinates"] = json!([2.351, 48.851]); // Paris
    client.create(&far).await;
    client.create(&near).await;
    let n = rx.nth(1, WAIT).await;
    assert_eq!(n.entity()["id"], id_of(&near).as_str(), "{}", n.body);
}

// ---------------------------------------------------------------------------------------------
// When notifications are sent: throttling, timeInterval, expiresAt, isActive

pub(crate) async fn throttling_skips_notifications_within_the_period() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["throttling"] = json!(1);
    subscribe(&client, &body).await;
    let (a, b, c) = (car(&ty, 1), car(&ty, 2), car(&ty, 3));
    client.create(&a).await;
    let first = rx.nth(1, WAIT).await;
    assert_eq!(first.entity()["id"], id_of(&a).as_str());
    client.create(&b).await; // within the period: skipped
                             // Time itself is what throttling is about: wait the period out, then write again.
    tokio::time::sleep_until(first.at + Duration::from_millis(1100)).await;
    client.create(&c).await;
    let second = rx.nth(2, WAIT).await;
    assert_eq!(second.entity()["id"], id_of(&c).as_str(), "{}", second.body);
    assert!(second.at.duration_since(first.at) >= Duration::from_secs(1));
}

pub(crate) async fn time_interval_notifies_the_matching_entities_periodically() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let entity = car(&ty, 5);
    client.create(&entity).await;
    let mut body = subscription(&ty, &rx.url("/n"));
    body["timeInterval"] = json!(1);
    let sub = subscribe(&client, &body).await;
    let wait = Duration::from_secs(3);
    let first = rx.nth(1, wait).await;
    let second = rx.nth(2, wait).await;
    for n in [&first, &second] {
        assert_eq!(n.body["subscriptionId"], sub.as_str());
        assert_eq!(n.entity()["id"], id_of(&entity).as_str(), "{}", n.body);
        assert_eq!(n.entity()["speed"]["value"], 5);
        assert!(n.body.get("triggerReason").is_none(), "{}", n.body);
    }
    // Ticks are a second apart; a delivery may lag its tick (a slow first query on a loaded
    // MongoDB), so the gap between arrivals is checked with room for that lag.
    let gap = second.at.duration_since(first.at);
    assert!(gap >= Duration::from_millis(500), "interval {gap:?}");
    // Changes do not trigger a periodic subscription; the next tick carries them.
    assert_204(
        client
            .patch(
                &format!("{}/attrs", entity_path(&id_of(&entity))),
                &json!({"speed": {"type": "Property", "value": 6}}),
            )
            .await,
    );
    let third = rx.nth(3, wait).await;
    assert!(third.body.get("triggerReason").is_none(), "{}", third.body);
    assert_204(client.delete(&sub_path(&sub)).await);
}

/// A second subscription to `ty` at `/sentinel`: when its notification for a write arrives,
/// the broker has dispatched that write to every subscription.
async fn sentinel(client: &Client, ty: &str, rx: &Receiver) {
    subscribe(client, &subscription(ty, &rx.url("/sentinel"))).await;
}

fn at_path(rx: &Receiver, path: &str) -> Vec<Received> {
    rx.all().into_iter().filter(|r| r.path == path).collect()
}

pub(crate) async fn expired_subscription_stops_notifying() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let expires = std::time::SystemTime::now() + Duration::from_millis(1500);
    let expires_at = format_utc(expires);
    let mut body = subscription(&ty, &rx.url("/expiring"));
    body["expiresAt"] = json!(expires_at);
    let sub = subscribe(&client, &body).await;
    client.create(&car(&ty, 1)).await;
    rx.nth(1, WAIT).await;
    assert_eq!(client.get(&sub_path(&sub)).await.json["status"], "active");

    sentinel(&client, &ty, &rx).await;
    // Expiry is a point in time: wait until it has passed.
    let left = expires
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(100)).await;
    let got = client.get(&sub_path(&sub)).await;
    assert_eq!(got.json["status"], "expired", "{}", got.text);
    client.create(&car(&ty, 2)).await;
    rx.nth(2, WAIT).await;
    assert_eq!(at_path(&rx, "/sentinel").len(), 1);
    assert_eq!(at_path(&rx, "/expiring").len(), 1);
}

/// An RFC 3339 UTC timestamp with milliseconds.
fn format_utc(t: std::time::SystemTime) -> String {
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil date from days since the epoch (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

pub(crate) async fn is_active_pauses_and_resumes() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let sub = subscribe(&client, &subscription(&ty, &rx.url("/paused"))).await;
    sentinel(&client, &ty, &rx).await;
    assert_204(
        client
            .patch(&sub_path(&sub), &json!({"isActive": false}))
            .await,
    );
    let got = client.get(&sub_path(&sub)).await.json;
    assert_eq!(got["isActive"], false);
    assert_eq!(got["status"], "paused");

    client.create(&car(&ty, 1)).await;
    rx.nth(1, WAIT).await;
    assert_eq!(at_path(&rx, "/sentinel").len(), 1);
    assert!(at_path(&rx, "/paused").is_empty());

    assert_204(
        client
            .patch(&sub_path(&sub), &json!({"isActive": true}))
            .await,
    );
    assert_eq!(client.get(&sub_path(&sub)).await.json["status"], "active");
    let resumed = car(&ty, 2);
    client.create(&resumed).await;
    rx.nth(3, WAIT).await;
    let paused = at_path(&rx, "/paused");
    assert_eq!(paused.len(), 1);
    assert_eq!(paused[0].entity()["id"], id_of(&resumed).as_str());
}

// ---------------------------------------------------------------------------------------------
// Delivery status (5.2.14 status members)

pub(crate) async fn a_receiver_down_then_up_shows_failed_then_ok() {
    let client = Client::shared();
    let ty = fresh_type();
    let down = Receiver::reserve();
    let sub = subscribe(&client, &subscription(&ty, &down.url("/n"))).await;
    let fresh = client.get(&sub_path(&sub)).await.json;
    assert!(fresh["notification"].get("status").is_none(), "{fresh}");
    assert!(
        fresh["notification"].get("lastNotification").is_none(),
        "{fresh}"
    );

    client.create(&car(&ty, 1)).await;
    let failed =
        await_subscription(&client, &sub, |s| s["notification"]["status"] == "failed").await;
    let n = &failed["notification"];
    assert_eq!(n["timesSent"], 1, "{failed}");
    assert_eq!(n["timesFailed"], 1, "{failed}");
    assert!(n["lastFailure"].is_string(), "{failed}");
    assert!(n["lastNotification"].is_string(), "{failed}");
    assert!(n.get("lastSuccess").is_none(), "{failed}");

    // Once up, the receiver gets car 2; a broker that still retries car 1 may deliver that
    // first, which is fine.
    let rx = Receiver::bind(down).await;
    let second = car(&ty, 2);
    client.create(&second).await;
    let second_id = id_of(&second);
    assert!(
        rx.first_matching(|r| r.entity()["id"] == second_id.as_str(), WAIT)
            .await
            .is_some(),
        "car 2 never arrived: {:?}",
        rx.all().iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let ok = await_subscription(&client, &sub, |s| {
        s["notification"]["status"] == "ok" && s["notification"]["timesSent"] == 2
    })
    .await;
    let n = &ok["notification"];
    assert_eq!(n["timesFailed"], 1, "{ok}");
    assert!(n["lastSuccess"].is_string(), "{ok}");
    assert!(n["lastFailure"].is_string(), "{ok}");
}

pub(crate) async fn an_endpoint_answering_errors_counts_as_failed() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    rx.answer_with(500);
    let sub = subscribe(&client, &subscription(&ty, &rx.url("/n"))).await;
    client.create(&car(&ty, 1)).await;
    let failed =
        await_subscription(&client, &sub, |s| s["notification"]["status"] == "failed").await;
    assert_eq!(failed["notification"]["timesFailed"], 1, "{failed}");
}

/// An endpoint that accepts connections and never answers: each request hangs until the
/// broker's notification timeout. Holds at most 64 connections, for the case's lifetime.
async fn hanging_endpoint() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/n", listener.local_addr().expect("address"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while held.len() < 64 {
            match listener.accept().await {
                Ok((stream, _)) => held.push(stream),
                Err(_) => break,
            }
        }
        std::future::pending::<()>().await;
    });
    (url, task)
}

/// 5.2.14: `status` is that of the last attempt. An endpoint that never answers shows as
/// failed once the first attempt times out (`--notification-timeout-ms`), not after every
/// retry has timed out too.
pub(crate) async fn a_hanging_endpoint_shows_failed_after_one_timeout() {
    let mut broker =
        BrokerProcess::start(&["--notification-timeout-ms", "1000"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let (url, endpoint) = hanging_endpoint().await;
    let ty = fresh_type();
    let sub = subscribe(&client, &subscription(&ty, &url)).await;
    client.create(&car(&ty, 1)).await;
    let started = tokio::time::Instant::now();
    // 4 attempts of 1 s and their backoffs take about 5.75 s: the status must show before.
    let failed =
        await_subscription(&client, &sub, |s| s["notification"]["status"] == "failed").await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "failed status after {:?}",
        started.elapsed()
    );
    let n = &failed["notification"];
    assert_eq!(n["timesSent"], 1, "{failed}");
    assert_eq!(n["timesFailed"], 1, "{failed}");
    assert!(n["lastFailure"].is_string(), "{failed}");
    endpoint.abort();
    broker.kill_hard();
}

/// 5.2.14: `timesFailed` counts notifications that met an unsuccessful answer or a timeout.
/// Those dropped from a subscription's full queue behind a slow endpoint were never sent, so
/// they count in neither `timesSent` nor `timesFailed`.
pub(crate) async fn dropped_notifications_are_not_counted_as_failed() {
    let mut broker = BrokerProcess::start(&["--notification-timeout-ms", "300"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let (url, endpoint) = hanging_endpoint().await;
    let ty = fresh_type();
    let sub = subscribe(&client, &subscription(&ty, &url)).await;
    // 200 changes at once: far more than a subscription's queue (64) holds while its one
    // delivery at a time hangs.
    let cars: Vec<Value> = (0..200).map(|i| car(&ty, i)).collect();
    client
        .post("/ngsi-ld/v1/entityOperations/create", &Value::Array(cars))
        .await
        .assert_status(201);
    let failed =
        await_subscription(&client, &sub, |s| s["notification"]["status"] == "failed").await;
    let n = &failed["notification"];
    let sent = n["timesSent"].as_u64().unwrap_or(0);
    let failures = n["timesFailed"].as_u64().unwrap_or(0);
    assert!((1..200).contains(&sent), "{failed}");
    assert!(failures <= sent, "more failures than sends: {failed}");
    endpoint.abort();
    broker.kill_hard();
}

// ---------------------------------------------------------------------------------------------
// Tenants and durability

pub(crate) async fn a_subscription_never_fires_for_another_tenant() {
    let (ta, tb) = (unique("ta"), unique("tb"));
    let a = Client::shared().with_tenant(&ta);
    let b = Client::shared().with_tenant(&tb);
    let ty = fresh_type();
    let rx = Receiver::start().await;
    // The same type and id in both tenants: only the tenant tells them apart.
    let sub = subscribe(&a, &subscription(&ty, &rx.url("/n"))).await;
    let mut entity = car(&ty, 1);
    b.create(&entity).await;
    entity["speed"]["value"] = json!(2);
    a.create(&entity).await;
    let n = rx.nth(1, WAIT).await;
    assert_eq!(n.body["subscriptionId"], sub.as_str());
    assert_eq!(n.entity()["speed"]["value"], 2, "{}", n.body);
    assert_eq!(n.header("ngsild-tenant"), Some(ta.as_str()));
    // The subscription is not visible in the other tenant either.
    b.get(&sub_path(&sub))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn subscriptions_survive_a_restart() {
    let mut broker = BrokerProcess::start(&[]).expect("starting a dedicated oxion");
    let client = Client::new(&broker.base_url);
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url("/n"));
    // The members of v1.8/v1.9 are kept too.
    body["datasetId"] = json!(["@none"]);
    body["notification"]["pick"] = json!(["id", "speed"]);
    let sub = subscribe(&client, &body).await;
    broker.restart().expect("restarting oxion");
    // A fresh client: the old one's pooled connections died with the old process.
    let client = Client::new(&broker.base_url);
    let got = client.get(&sub_path(&sub)).await;
    got.assert_status(200);
    assert_eq!(got.json["datasetId"], json!(["@none"]), "{}", got.text);
    assert_eq!(
        got.json["notification"]["pick"],
        json!(["id", "speed"]),
        "{}",
        got.text
    );
    let entity = car(&ty, 7);
    client.create(&entity).await;
    let n = rx.nth(1, WAIT).await;
    assert_notification(&n, &sub, "attributeCreated", &id_of(&entity));
    assert!(n.entity().get("brand").is_none(), "{}", n.body);
}

// ---------------------------------------------------------------------------------------------
// MQTT endpoint (5.2.15)

pub(crate) async fn mqtt_endpoint_gets_the_notification() {
    // Registered as needing MQTT: runners skip it when they have no MQTT broker, unless
    // told to require one, and then this is the failure.
    let url = crate::settings().mqtt_url.clone().unwrap_or_else(|| {
        panic!(
            "OXION_TEST_MQTT_URL is not set \
             (scripts/services.sh start mqtt; eval \"$(scripts/services.sh env)\")"
        )
    });
    let (host, port) = url
        .trim_start_matches("mqtt://")
        .trim_end_matches('/')
        .rsplit_once(':')
        .map(|(h, p)| (h.to_owned(), p.parse::<u16>().expect("MQTT port")))
        .unwrap_or_else(|| panic!("OXION_TEST_MQTT_URL {url} is not mqtt://host:port"));
    let topic = format!("oxion/test/{}", unique("topic"));

    let mut opts = rumqttc::MqttOptions::new(unique("listener"), host, port);
    opts.set_keep_alive(Duration::from_secs(10));
    let (mqtt, mut events) = rumqttc::AsyncClient::new(opts, 16);
    mqtt.subscribe(&topic, rumqttc::QoS::AtLeastOnce)
        .await
        .expect("MQTT subscribe");
    tokio::time::timeout(WAIT, mqtt_next(&mut events, true))
        .await
        .expect("MQTT SUBACK within the wait");

    let client = Client::shared();
    let ty = fresh_type();
    let mut body = subscription(&ty, &format!("{}/{topic}", url.trim_end_matches('/')));
    body["notification"]["endpoint"]["receiverInfo"] =
        json!([{"key": "X-Origin", "value": "oxion"}]);
    let sub = subscribe(&client, &body).await;
    let entity = car(&ty, 8);
    client.create(&entity).await;
    let publish = tokio::time::timeout(WAIT, mqtt_next(&mut events, false))
        .await
        .expect("an MQTT notification within the wait")
        .expect("a publish");
    assert_eq!(publish.topic, topic);
    let message: Value = serde_json::from_slice(&publish.payload).expect("a JSON message");
    let notification = &message["body"];
    assert_eq!(notification["type"], "Notification", "{message}");
    assert_eq!(notification["subscriptionId"], sub.as_str());
    assert_eq!(notification["data"][0]["id"], id_of(&entity).as_str());
    assert_eq!(notification["data"][0]["speed"]["value"], 8);
    assert_eq!(message["metadata"]["X-Origin"], "oxion", "{message}");
    let _ = mqtt.disconnect().await;
}

/// The next SUBACK (`None`) or PUBLISH (`Some`) the MQTT client receives.
async fn mqtt_next(events: &mut rumqttc::EventLoop, suback: bool) -> Option<rumqttc::Publish> {
    loop {
        match events.poll().await.expect("MQTT connection") {
            rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)) if suback => return None,
            rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) if !suback => return Some(p),
            _ => {}
        }
    }
}

/// Clause 5.5.7: the entity type of a selector is compacted with the reader's @context, so a
/// reader without the creator's @context sees its full IRI.
pub(crate) async fn selector_types_are_compacted_with_the_readers_context() {
    let client = Client::shared();
    let server = ContextServer::serve(fixture("user-context.json"));
    let link = link(&server.url("types.jsonld"));
    let body = subscription("Car", "http://127.0.0.1:9/n");
    let reply = client
        .json_with(Method::POST, SUBSCRIPTIONS, &body, &[("Link", &link)])
        .await;
    reply.assert_status(201);
    let location = reply.header("location").expect("Location").to_owned();
    let plain = client.get(&location).await;
    assert_eq!(
        plain.json["entities"][0]["type"],
        "https://example.org/vocab/Car"
    );
    let with_link = client.get_with(&location, &[("Link", &link)]).await;
    assert_eq!(
        with_link.json["entities"][0]["type"], "Car",
        "{}",
        with_link.text
    );
    client.delete(&location).await;
}

/// GS CIM 009 5.8.1.4 with 5.13.1: a subscription created without `jsonldContext` gets the
/// creating request's @context there: the Link header's URL, or for an array (or an inline
/// object) the URL of an ImplicitlyCreated @context the broker serves. Notifications carry that
/// URL (5.8.6), and it is served again after a restart.
pub(crate) async fn jsonld_context_is_initialized_from_the_creating_request() {
    let mut broker = BrokerProcess::start(&[]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let server = ContextServer::serve(fixture("user-context.json"));
    let linked = server.url(&unique("sub"));
    let ty = fresh_type();
    let rx = Receiver::start().await;

    let reply = client
        .json_with(
            Method::POST,
            SUBSCRIPTIONS,
            &subscription(&ty, &rx.url("/link")),
            &[("Link", &link(&linked))],
        )
        .await;
    reply.assert_status(201);
    let by_link = reply.header("location").expect("Location").to_owned();
    assert_eq!(
        client.get(&by_link).await.json["jsonldContext"],
        linked.as_str()
    );

    let mut body = subscription(&ty, &rx.url("/array"));
    body["notification"]["endpoint"]["accept"] = json!("application/ld+json");
    let array = json!([linked, {"extra": "https://example.org/extra"}]);
    body["@context"] = array.clone();
    let id = subscribe_ld(&client, &body).await;
    let implicit = client.get(&sub_path(&id)).await.json["jsonldContext"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        implicit.contains("/ngsi-ld/v1/jsonldContexts/"),
        "{implicit} is a context this broker hosts"
    );
    let path = &implicit[implicit.find("/ngsi-ld/").unwrap_or(0)..];
    let details = client.get(&format!("{path}?details=true")).await.json;
    assert_eq!(details["kind"], "ImplicitlyCreated", "{details}");
    assert_eq!(client.get(path).await.json["@context"], array);

    client.create(&car(&ty, 1)).await;
    rx.nth(2, WAIT).await;
    let array_notification = rx
        .all()
        .into_iter()
        .find(|n| n.path == "/array")
        .expect("the array subscription's notification");
    assert_eq!(array_notification.body["@context"], implicit.as_str());

    broker.restart().expect("restarts");
    let client = Client::new(&broker.base_url);
    assert_eq!(
        client.get(path).await.json["@context"],
        array,
        "served after a restart"
    );
    client.create(&car(&ty, 2)).await;
    rx.nth(4, WAIT).await;
    broker.kill_hard();
}

/// Creates a subscription whose body carries its @context (application/ld+json).
async fn subscribe_ld(client: &Client, body: &Value) -> String {
    let reply = client.json_ld(Method::POST, SUBSCRIPTIONS, body).await;
    reply.assert_status(201);
    let location = reply.header("location").expect("Location header");
    location
        .strip_prefix("/ngsi-ld/v1/subscriptions/")
        .unwrap_or(location)
        .to_owned()
}
