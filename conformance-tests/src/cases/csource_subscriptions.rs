//! Clause 5.11 (Context Source Registration Subscriptions) with the HTTP binding of 6.10 and
//! 6.11 and the CsourceNotification of 5.3.2: the operations, and the notifications a
//! registration created, updated or deleted brings (5.11.7).
//!
//! Each case registers entity types of its own, so that its subscriptions see only its own
//! registrations when the cases run in parallel against one broker.

use reqwest::Method;
use serde_json::{json, Value};

use super::subscriptions::{assert_204, WAIT};
use crate::{enc, unique, Client, Receiver};

const CSUBS: &str = "/ngsi-ld/v1/csourceSubscriptions";
const REGISTRATIONS: &str = "/ngsi-ld/v1/csourceRegistrations";

fn csub_path(id: &str) -> String {
    format!("{CSUBS}/{}", enc(id))
}

fn reg_path(id: &str) -> String {
    format!("{REGISTRATIONS}/{}", enc(id))
}

fn fresh_type() -> String {
    format!("Shelf{}", unique("cs"))
}

/// A subscription to the registrations of entities of type `ty`.
fn csub(ty: &str, uri: &str) -> Value {
    json!({
        "type": "Subscription",
        "entities": [{"type": ty}],
        "notification": {"endpoint": {"uri": uri}}
    })
}

/// A registration of the entities of type `ty` with a `stock`.
fn registration(ty: &str) -> Value {
    json!({
        "id": format!("urn:ngsi-ld:ContextSourceRegistration:{}", unique("r")),
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": ty}], "propertyNames": ["stock"]}],
        "endpoint": "http://source.example.org:1026"
    })
}

/// Creates a csource subscription, asserts 201, returns its id.
async fn subscribe(client: &Client, body: &Value) -> String {
    let reply = client.post(CSUBS, body).await;
    reply.assert_status(201);
    let location = reply.header("location").expect("Location header");
    location
        .strip_prefix(&format!("{CSUBS}/"))
        .unwrap_or_else(|| panic!("Location {location} is not under {CSUBS}/"))
        .to_owned()
}

async fn register(client: &Client, body: &Value) {
    client.post(REGISTRATIONS, body).await.assert_status(201);
}

/// GS CIM 009 5.11.2, 5.11.4, 6.10.3.1: 201 with Location (an id generated when absent), and
/// a retrieval renders the subscription with its temporalQ.
pub(crate) async fn create_is_201_with_location_and_retrieve_renders_it() {
    let client = Client::shared();
    let ty = fresh_type();
    let mut body = csub(&ty, "http://127.0.0.1:9/n");
    body["watchedAttributes"] = json!(["stock"]);
    body["temporalQ"] = json!({"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"});
    let id = subscribe(&client, &body).await;
    assert!(id.starts_with("urn:"), "a generated URI: {id}");
    let reply = client.get(&csub_path(&id)).await;
    reply.assert_status(200);
    assert_eq!(reply.json["id"], id.as_str());
    assert_eq!(reply.json["type"], "Subscription");
    assert_eq!(reply.json["entities"][0]["type"], ty.as_str());
    assert_eq!(reply.json["watchedAttributes"], json!(["stock"]));
    assert_eq!(reply.json["temporalQ"]["timerel"], "after");
    assert!(
        reply.json.get("notificationTrigger").is_none(),
        "entity triggers are no member of a registration subscription: {}",
        reply.text
    );
}

/// GS CIM 009 5.11.2.4 (as 5.8.1.4): an id in use is AlreadyExists.
pub(crate) async fn create_with_an_existing_id_is_409_already_exists() {
    let client = Client::shared();
    let mut body = csub(&fresh_type(), "http://127.0.0.1:9/n");
    body["id"] = json!(format!("urn:ngsi-ld:Subscription:{}", unique("dup")));
    subscribe(&client, &body).await;
    client
        .post(CSUBS, &body)
        .await
        .assert_error(409, "AlreadyExists");
}

/// GS CIM 009 5.11.2.4, 5.2.12: malformed subscriptions are BadRequestData.
pub(crate) async fn invalid_csource_subscriptions_are_400_bad_request_data() {
    let client = Client::shared();
    let endpoint = json!({"uri": "http://127.0.0.1:9/n"});
    for (what, body) in [
        (
            "no notification",
            json!({"type": "Subscription", "entities": [{"type": "T"}]}),
        ),
        (
            "bad temporalQ",
            json!({"type": "Subscription", "entities": [{"type": "T"}],
                   "temporalQ": {"timerel": "whenever", "timeAt": "2020-01-01T00:00:00Z"},
                   "notification": {"endpoint": endpoint}}),
        ),
        (
            "bad csf",
            json!({"type": "Subscription", "entities": [{"type": "T"}], "csf": "a>>(",
                   "notification": {"endpoint": endpoint}}),
        ),
        (
            "wrong type",
            json!({"type": "Registration", "entities": [{"type": "T"}],
                   "notification": {"endpoint": endpoint}}),
        ),
    ] {
        let reply = client.post(CSUBS, &body).await;
        assert_eq!(reply.status.as_u16(), 400, "{what}: {}", reply.text);
    }
}

/// GS CIM 009 5.11.5, 6.3.10, 6.3.13: pages with limit and offset, counted on request.
pub(crate) async fn list_pages_with_limit_offset_and_count() {
    let client = Client::shared().with_tenant(&unique("csubs"));
    for _ in 0..3 {
        subscribe(&client, &csub(&fresh_type(), "http://127.0.0.1:9/n")).await;
    }
    let reply = client.get(&format!("{CSUBS}?limit=2&count=true")).await;
    reply.assert_status(200);
    assert_eq!(reply.json.as_array().map(Vec::len), Some(2));
    assert_eq!(reply.header("ngsild-results-count"), Some("3"));
    let next: Vec<&str> = reply
        .headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.contains("rel=\"next\""))
        .collect();
    assert_eq!(next.len(), 1, "{:?}", reply.headers);
    assert!(next[0].contains("offset=2"), "{}", next[0]);
    let rest = client.get(&format!("{CSUBS}?limit=2&offset=2")).await;
    assert_eq!(rest.json.as_array().map(Vec::len), Some(1));
}

/// GS CIM 009 5.11.3 (merge as 5.5.8), 5.11.6: a PATCH keeps the other members; a DELETE
/// removes the subscription; both are 404 on a missing one, 400 on an id that is no URI.
pub(crate) async fn patch_merges_and_delete_removes_the_subscription() {
    let client = Client::shared();
    let ty = fresh_type();
    let id = subscribe(&client, &csub(&ty, "http://127.0.0.1:9/n")).await;
    assert_204(
        client
            .patch(&csub_path(&id), &json!({"description": "shelves"}))
            .await,
    );
    let got = client.get(&csub_path(&id)).await;
    assert_eq!(got.json["description"], "shelves");
    assert_eq!(got.json["entities"][0]["type"], ty.as_str());
    assert_204(client.delete(&csub_path(&id)).await);
    for reply in [
        client.get(&csub_path(&id)).await,
        client.delete(&csub_path(&id)).await,
        client
            .patch(&csub_path(&id), &json!({"description": "x"}))
            .await,
    ] {
        reply.assert_error(404, "ResourceNotFound");
    }
    client
        .get(&format!("{CSUBS}/not%20a%20uri"))
        .await
        .assert_error(400, "BadRequestData");
}

/// GS CIM 009 5.11.7, 5.3.2: a registration created that matches is notified as
/// newlyMatching, its update as updated, its deletion as noLongerMatching; registrations of
/// other entity types are not notified.
pub(crate) async fn registration_changes_notify_with_their_trigger_reason() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let sub = subscribe(&client, &csub(&ty, &rx.url("/csub"))).await;
    register(&client, &registration(&fresh_type())).await;
    let reg = registration(&ty);
    let reg_id = reg["id"].as_str().expect("id").to_owned();
    register(&client, &reg).await;
    let first = rx.nth(1, WAIT).await;
    assert_eq!(first.body["type"], "ContextSourceNotification");
    assert_eq!(first.body["subscriptionId"], sub.as_str());
    assert_eq!(first.body["triggerReason"], "newlyMatching");
    assert!(first.body["notifiedAt"].is_string());
    assert_eq!(first.body["data"][0]["id"], reg_id.as_str());
    assert_eq!(
        first.body["data"][0]["information"][0]["entities"][0]["type"],
        ty.as_str()
    );
    assert_204(
        client
            .patch(&reg_path(&reg_id), &json!({"description": "moved"}))
            .await,
    );
    let second = rx.nth(2, WAIT).await;
    assert_eq!(second.body["triggerReason"], "updated");
    assert_eq!(second.body["data"][0]["description"], "moved");
    assert_204(client.delete(&reg_path(&reg_id)).await);
    let third = rx.nth(3, WAIT).await;
    assert_eq!(third.body["triggerReason"], "noLongerMatching");
    assert_eq!(third.body["data"][0]["id"], reg_id.as_str());
    assert_eq!(
        rx.count(),
        3,
        "the other type's registration is not notified"
    );
}

/// GS CIM 009 5.11.2.4: on creation, a subscription is notified of the registrations that
/// match it already; a registration updated out of its watched attributes no longer matches.
pub(crate) async fn a_new_subscription_is_notified_of_the_matching_registrations() {
    let client = Client::shared();
    let ty = fresh_type();
    let reg = registration(&ty);
    let reg_id = reg["id"].as_str().expect("id").to_owned();
    register(&client, &reg).await;
    let rx = Receiver::start().await;
    let mut body = csub(&ty, &rx.url("/initial"));
    body["watchedAttributes"] = json!(["stock"]);
    body["notification"]["attributes"] = json!(["stock"]);
    subscribe(&client, &body).await;
    let first = rx.nth(1, WAIT).await;
    assert_eq!(first.body["triggerReason"], "newlyMatching");
    assert_eq!(first.body["data"][0]["id"], reg_id.as_str());
    let unwatched =
        json!({"information": [{"entities": [{"type": ty}], "propertyNames": ["price"]}]});
    assert_204(client.patch(&reg_path(&reg_id), &unwatched).await);
    let second = rx.nth(2, WAIT).await;
    assert_eq!(second.body["triggerReason"], "noLongerMatching");
}

/// GS CIM 009 6.10, 6.11: other methods are 405 with Allow.
pub(crate) async fn other_methods_are_405_with_allow() {
    let client = Client::shared();
    for (method, path, allow) in [
        (Method::PUT, CSUBS.to_owned(), "GET, POST"),
        (
            Method::POST,
            csub_path("urn:ngsi-ld:Subscription:x"),
            "GET, PATCH, DELETE",
        ),
    ] {
        let reply = client.send(method, &path, None, &[]).await;
        reply.assert_error(405, "InvalidRequest");
        assert_eq!(reply.header("allow"), Some(allow));
    }
}

/// GS CIM 009 5.11.2.4, 5.11.7: with a timeInterval, the matching registrations are notified
/// initially and again each interval, without any change.
pub(crate) async fn a_periodic_subscription_is_notified_each_interval() {
    let client = Client::shared();
    let ty = fresh_type();
    register(&client, &registration(&ty)).await;
    let rx = Receiver::start().await;
    let mut body = csub(&ty, &rx.url("/periodic"));
    body["timeInterval"] = json!(1);
    let id = subscribe(&client, &body).await;
    let first = rx.nth(1, WAIT).await;
    let second = rx.nth(2, WAIT).await;
    assert_eq!(
        second.body["data"][0]["information"],
        first.body["data"][0]["information"]
    );
    assert_204(client.delete(&csub_path(&id)).await);
}

/// GS CIM 009 5.11.7: each csource notification counts in timesSent, and its outcome sets
/// lastSuccess or lastFailure and the notification status.
pub(crate) async fn delivery_outcomes_show_in_the_notification_status() {
    let client = Client::shared();
    for (status, wanted, time) in [(204, "ok", "lastSuccess"), (500, "failed", "lastFailure")] {
        let ty = fresh_type();
        let rx = Receiver::start().await;
        rx.answer_with(status);
        let id = subscribe(&client, &csub(&ty, &rx.url("/status"))).await;
        register(&client, &registration(&ty)).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        let got = loop {
            let got = client.get(&csub_path(&id)).await.json;
            if got["notification"]["status"] == wanted || tokio::time::Instant::now() > deadline {
                break got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(got["notification"]["status"], wanted, "{got}");
        assert_eq!(got["notification"]["timesSent"], 1, "{got}");
        assert!(got["notification"][time].is_string(), "{got}");
        assert!(got["notification"]["lastNotification"].is_string(), "{got}");
    }
}
