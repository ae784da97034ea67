//! The engine end to end over HTTP: real notifications to a real receiver on loopback.
//!
//! A test that something is *not* notified awaits a sentinel rather than a quiet period: an
//! event that must notify, sent after the one that must not. The dispatcher handles events in
//! order and a subscription's worker delivers in order, so when the sentinel's notification
//! is the next one that subscription's receiver gets, nothing came for the event before it.
//! Subscription changes (upsert, remove) are served before queued events, so a test that
//! changes a subscription after a non-event first awaits a `witness`: another subscription's
//! notification of that event, which says the dispatcher is past it.

use std::sync::Arc;
use std::time::Duration;

use crate::fixtures::{
    created, ctx, deleted, engine, engine_with, entity, subscription, updated, WAIT,
};
use async_trait::async_trait;
use chrono::Utc;
use conformance_tests::Receiver;
use ngsi_types::Entity;
use serde_json::{json, Value};
use subscriptions::{
    EngineHandle, EntitySource, Subscription, SubscriptionStatus, CORE_CONTEXT_URL,
};

fn sub_for(r: &Receiver, extra: Value) -> Subscription {
    let mut body = json!({
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": r.url("/notify")}}
    });
    merge(&mut body, &extra);
    subscription(body)
}

fn merge(into: &mut Value, from: &Value) {
    for (k, v) in from.as_object().expect("object") {
        match (into.get_mut(k), v) {
            (Some(slot @ Value::Object(_)), Value::Object(_)) => merge(slot, v),
            _ => {
                into[k] = v.clone();
            }
        }
    }
}

fn car(speed: i64) -> Entity {
    entity(
        "urn:ngsi-ld:Vehicle:1",
        "Vehicle",
        &[("speed", json!(speed)), ("brand", json!("Seat"))],
    )
}

async fn subscribe(engine: &EngineHandle, tenant: Option<&str>, sub: &Subscription) {
    engine
        .upsert(tenant, sub.clone(), ctx())
        .await
        .expect("upsert");
}

/// Polls the status until `done` holds, for at most WAIT (status changes have no event).
async fn status_when(
    engine: &EngineHandle,
    id: &str,
    done: impl Fn(&SubscriptionStatus) -> bool,
) -> SubscriptionStatus {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = engine.status(None, id).await.expect("subscription known");
        if done(&s) || tokio::time::Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn created_entity_is_notified_in_normalized_form_with_link_header() {
    let r = Receiver::start().await;
    let engine = engine();
    let sub = sub_for(&r, json!({}));
    subscribe(&engine, None, &sub).await;
    engine.notify(created(None, car(80))).expect("queued");

    let req = r.next(WAIT).await;
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/notify");
    assert_eq!(req.headers["content-type"], "application/json");
    assert!(
        req.headers["link"].contains(CORE_CONTEXT_URL),
        "{:?}",
        req.headers
    );
    assert!(!req.headers.contains_key("ngsild-tenant"));
    let n = &req.body;
    assert!(n["id"]
        .as_str()
        .expect("id")
        .starts_with("urn:ngsi-ld:Notification:"));
    assert_eq!(n["type"], "Notification");
    assert_eq!(n["subscriptionId"], json!(sub.id));
    assert!(n["notifiedAt"].is_string());
    assert!(n.get("@context").is_none());
    assert_eq!(n["triggerReason"], "attributeCreated");
    assert_eq!(
        n["data"],
        json!([{
            "id": "urn:ngsi-ld:Vehicle:1",
            "type": "Vehicle",
            "speed": {"type": "Property", "value": 80},
            "brand": {"type": "Property", "value": "Seat"}
        }])
    );
    let status = status_when(&engine, &sub.id, |s| s.ok.is_some()).await;
    assert_eq!(
        (status.times_sent, status.times_failed, status.ok),
        (1, 0, Some(true))
    );
    assert!(status.last_success.is_some() && status.last_notification.is_some());
    engine.shutdown().await;
}

#[tokio::test]
async fn every_format_and_the_attribute_projection() {
    let r = Receiver::start().await;
    let engine = engine();
    let cases = [
        (
            "normalized",
            json!({"speed": {"type": "Property", "value": 80}}),
        ),
        ("concise", json!({"speed": 80})),
        ("keyValues", json!({"speed": 80})),
    ];
    for (format, want) in cases {
        let sub = sub_for(
            &r,
            json!({"notification": {"format": format, "attributes": ["speed"]}}),
        );
        subscribe(&engine, None, &sub).await;
        engine.notify(created(None, car(80))).expect("queued");
        let data = &r.next(WAIT).await.body["data"][0];
        let mut expected = json!({"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle"});
        merge(&mut expected, &want);
        assert_eq!(data, &expected, "{format}");
        engine.remove(None, &sub.id).await.expect("removed");
    }
    // sysAttrs adds the system times.
    let sub = sub_for(&r, json!({"notification": {"sysAttrs": true}}));
    subscribe(&engine, None, &sub).await;
    let mut e = car(1);
    e.created_at = Some(Utc::now());
    e.modified_at = e.created_at;
    engine.notify(created(None, e)).expect("queued");
    assert!(r.next(WAIT).await.body["data"][0]["createdAt"].is_string());
    engine.shutdown().await;
}

#[tokio::test]
async fn ld_json_endpoint_gets_the_context_in_the_body_and_receiver_info_headers() {
    let r = Receiver::start().await;
    let engine = engine();
    let sub = sub_for(
        &r,
        json!({"notification": {"endpoint": {
            "accept": "application/ld+json",
            "receiverInfo": [{"key": "X-Auth-Token", "value": "s3cret"}]
        }}}),
    );
    subscribe(&engine, Some("acme"), &sub).await;
    engine
        .notify(created(Some("acme"), car(1)))
        .expect("queued");
    let req = r.next(WAIT).await;
    assert_eq!(req.headers["content-type"], "application/ld+json");
    assert!(!req.headers.contains_key("link"));
    assert_eq!(req.headers["x-auth-token"], "s3cret");
    assert_eq!(req.headers["ngsild-tenant"], "acme");
    assert_eq!(req.body["@context"], json!(CORE_CONTEXT_URL));
    engine.shutdown().await;
}

#[tokio::test]
async fn notifications_link_the_jsonld_context_or_the_creating_requests_context() {
    let r = Receiver::start().await;
    let engine = engine();
    let own = sub_for(
        &r,
        json!({"jsonldContext": "https://example.org/notify.jsonld"}),
    );
    subscribe(&engine, None, &own).await;
    engine.notify(created(None, car(1))).expect("queued");
    let link = r.next(WAIT).await.headers["link"].clone();
    assert!(
        link.starts_with("<https://example.org/notify.jsonld>;"),
        "{link}"
    );
    engine.remove(None, &own.id).await.expect("removed");

    let mut from_request = sub_for(
        &r,
        json!({"notification": {"endpoint": {"accept": "application/ld+json"}}}),
    );
    let request_context =
        json!(["https://example.org/a.jsonld", {"speed": "https://example.org/speed"}]);
    from_request.set_request_context(request_context.clone());
    subscribe(&engine, None, &from_request).await;
    engine.notify(created(None, car(2))).expect("queued");
    assert_eq!(r.next(WAIT).await.body["@context"], request_context);
    engine.shutdown().await;
}

#[tokio::test]
async fn show_changes_adds_previous_values_and_deletions_notify_id_type_deleted_at() {
    let r = Receiver::start().await;
    let engine = engine();
    let sub = sub_for(
        &r,
        json!({
            "notificationTrigger": ["attributeUpdated", "attributeDeleted", "entityDeleted"],
            "notification": {"showChanges": true}
        }),
    );
    subscribe(&engine, None, &sub).await;

    engine
        .notify(updated(None, car(10), car(20)))
        .expect("queued");
    let n = r.next(WAIT).await.body;
    assert_eq!(n["triggerReason"], "attributeUpdated");
    assert_eq!(
        n["data"][0]["speed"],
        json!({"type": "Property", "value": 20, "previousValue": 10})
    );
    assert_eq!(
        n["data"][0]["brand"],
        json!({"type": "Property", "value": "Seat"})
    );

    let mut without_brand = car(20);
    without_brand
        .attributes
        .shift_remove(&crate::fixtures::iri("brand"));
    engine
        .notify(updated(None, car(20), without_brand))
        .expect("queued");
    let n = r.next(WAIT).await.body;
    assert_eq!(n["triggerReason"], "attributeDeleted");
    assert_eq!(
        n["data"][0]["brand"],
        json!({"type": "Property", "value": "urn:ngsi-ld:null", "previousValue": "Seat"})
    );

    engine.notify(deleted(None, car(20))).expect("queued");
    let n = r.next(WAIT).await.body;
    assert_eq!(n["triggerReason"], "entityDeleted");
    let data = &n["data"][0];
    assert_eq!(data["id"], "urn:ngsi-ld:Vehicle:1");
    assert_eq!(data["type"], "Vehicle");
    assert!(data["deletedAt"].is_string());
    // Clause 5.8.6: with showChanges, the deleted entity's attributes carry their previous
    // values.
    assert_eq!(
        data["speed"],
        json!({"type": "Property", "value": "urn:ngsi-ld:null", "previousValue": 20})
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn a_subscription_on_one_type_never_sees_another() {
    let r = Receiver::start().await;
    let engine = engine();
    subscribe(&engine, None, &sub_for(&r, json!({}))).await;
    let bus = entity("urn:ngsi-ld:Bus:1", "Bus", &[("speed", json!(1))]);
    engine.notify(created(None, bus)).expect("queued");
    engine.notify(created(None, car(1))).expect("queued");
    engine.notify(created(None, car(2))).expect("queued");
    // Had the Bus matched, it would come first; a second notification of car 1, second.
    let first = r.next(WAIT).await;
    assert_eq!(first.entity()["type"], "Vehicle");
    assert_eq!(first.entity()["speed"]["value"], 1);
    assert_eq!(r.next(WAIT).await.entity()["speed"]["value"], 2);
    engine.shutdown().await;
}

#[tokio::test]
async fn tenants_are_isolated() {
    let default = Receiver::start().await;
    let acme = Receiver::start().await;
    let engine = engine();
    subscribe(&engine, None, &sub_for(&default, json!({}))).await;
    subscribe(&engine, Some("acme"), &sub_for(&acme, json!({}))).await;
    engine
        .notify(created(Some("acme"), car(1)))
        .expect("queued");
    let req = acme.next(WAIT).await;
    assert_eq!(req.headers["ngsild-tenant"], "acme");
    // The empty tenant name is the default tenant. Its event is the default subscription's
    // sentinel: had the acme event reached that subscription, it would come first.
    engine.notify(created(Some(""), car(2))).expect("queued");
    let req = default.next(WAIT).await;
    assert!(!req.headers.contains_key("ngsild-tenant"));
    assert_eq!(req.entity()["speed"]["value"], 2);
    // And the next acme event is acme's sentinel for the default tenant's event.
    engine
        .notify(created(Some("acme"), car(3)))
        .expect("queued");
    assert_eq!(acme.next(WAIT).await.entity()["speed"]["value"], 3);
    engine.shutdown().await;
}

#[tokio::test]
async fn throttling_skips_notifications_within_the_period() {
    let r = Receiver::start().await;
    let engine = engine();
    let period = Duration::from_millis(500);
    let sub = sub_for(&r, json!({"throttling": period.as_secs_f64()}));
    subscribe(&engine, None, &sub).await;
    for speed in 1..=3 {
        engine
            .notify(updated(None, car(speed), car(speed + 10)))
            .expect("queued");
    }
    let first = r.next(WAIT).await;
    assert_eq!(first.entity()["speed"]["value"], 11);
    // Once the period has passed since the first went out, the next change goes out, and it
    // is the next notification: a throttled one that had been sent would come before it.
    tokio::time::sleep_until(first.at + period + Duration::from_millis(100)).await;
    engine
        .notify(updated(None, car(4), car(40)))
        .expect("queued");
    assert_eq!(r.next(WAIT).await.entity()["speed"]["value"], 40);
    assert_eq!(
        engine.stats().notifications_throttled,
        2,
        "throttled notifications are skipped"
    );
    engine.shutdown().await;
}

/// A receiver with a subscription to every Vehicle: its notification of an event says the
/// dispatcher has handled that event for every subscription.
async fn witness(engine: &EngineHandle) -> Receiver {
    let r = Receiver::start().await;
    subscribe(engine, None, &sub_for(&r, json!({}))).await;
    r
}

#[tokio::test]
async fn paused_subscriptions_do_not_notify_until_resumed_and_expired_ones_never() {
    let r = Receiver::start().await;
    let engine = engine();
    let mut sub = sub_for(&r, json!({"isActive": false}));
    subscribe(&engine, None, &sub).await;
    let witness = witness(&engine).await;
    engine.notify(created(None, car(1))).expect("queued");
    witness.nth(1, WAIT).await;

    sub.is_active = true;
    subscribe(&engine, None, &sub).await;
    engine.notify(created(None, car(2))).expect("queued");
    // Its first notification: one of car 1 (sent while paused) would come before it.
    assert_eq!(r.next(WAIT).await.entity()["speed"]["value"], 2);

    sub.expires_at = Some(Utc::now() - chrono::Duration::seconds(1));
    subscribe(&engine, None, &sub).await;
    assert_eq!(
        sub.render(&ctx(), None, Utc::now(), false)["status"],
        "expired"
    );
    engine.notify(created(None, car(3))).expect("queued");
    assert_eq!(
        witness.nth(3, WAIT).await.entity()["speed"]["value"],
        3,
        "the witness saw cars 1, 2, 3"
    );
    // Given a future expiresAt it notifies again, car 4 next: car 3 (expired) would be first.
    sub.expires_at = Some(Utc::now() + chrono::Duration::hours(1));
    subscribe(&engine, None, &sub).await;
    engine.notify(created(None, car(4))).expect("queued");
    assert_eq!(r.next(WAIT).await.entity()["speed"]["value"], 4);
    // The worker kept its counters across the updates: cars 2 and 4.
    let status = status_when(&engine, &sub.id, |s| s.times_sent >= 2).await;
    assert_eq!(status.times_sent, 2);
    engine.shutdown().await;
}

#[tokio::test]
async fn removed_subscriptions_stop_notifying() {
    let r = Receiver::start().await;
    let engine = engine();
    let sub = sub_for(&r, json!({}));
    subscribe(&engine, None, &sub).await;
    let witness = witness(&engine).await;
    assert!(engine.remove(None, &sub.id).await.expect("running"));
    assert!(!engine.remove(None, &sub.id).await.expect("running"));
    assert!(engine.status(None, &sub.id).await.is_none());
    engine.notify(created(None, car(1))).expect("queued");
    witness.nth(1, WAIT).await;
    // Filed again under its id, it notifies car 2 first. Had the removal left it filed, the
    // upsert would have kept its worker, which would deliver car 1 before car 2.
    subscribe(&engine, None, &sub).await;
    engine.notify(created(None, car(2))).expect("queued");
    assert_eq!(r.next(WAIT).await.entity()["speed"]["value"], 2);
    engine.shutdown().await;
}

#[tokio::test]
async fn failed_attempts_are_retried_until_the_receiver_answers() {
    let r = Receiver::start().await;
    r.answer_with(503);
    let engine = engine();
    let sub = sub_for(&r, json!({}));
    subscribe(&engine, None, &sub).await;
    engine.notify(created(None, car(1))).expect("queued");
    let first = r.first_refused(WAIT).await.expect("a first attempt");
    r.answer_with(204);
    let retry = r.next(WAIT).await;
    assert_eq!(
        retry.body["id"], first.body["id"],
        "the same notification is retried"
    );
    // The notification is counted once as sent, and once as failed: its first attempt met an
    // unsuccessful answer (GS CIM 009 5.2.14.2, timesFailed), although a retry then succeeded.
    let status = status_when(&engine, &sub.id, |s| s.ok == Some(true)).await;
    assert_eq!(
        (status.times_sent, status.times_failed, status.ok),
        (1, 1, Some(true))
    );
    assert!(status.last_success > status.last_failure);
    engine.shutdown().await;
}

#[tokio::test]
async fn a_receiver_that_is_down_fails_then_comes_up_and_succeeds() {
    // An address nothing answers at yet; no retries, so car 1's one attempt is its last.
    let reserved = Receiver::reserve();
    let engine = subscriptions::Engine::start(
        subscriptions::EngineConfig {
            max_retries: 0,
            http_timeout: Duration::from_secs(2),
            ..Default::default()
        },
        Arc::new(subscriptions::NoEntities),
    );
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": reserved.url("/notify")}}
    }));
    subscribe(&engine, None, &sub).await;
    engine.notify(created(None, car(1))).expect("queued");
    let status = status_when(&engine, &sub.id, |s| s.ok.is_some()).await;
    assert_eq!(
        (status.times_sent, status.times_failed, status.ok),
        (1, 1, Some(false))
    );
    assert!(status.last_failure.is_some());
    let rendered = sub.render(&ctx(), Some(&status), Utc::now(), false);
    assert_eq!(rendered["notification"]["status"], "failed");

    let r = Receiver::bind(reserved).await;
    engine.notify(created(None, car(2))).expect("queued");
    assert_eq!(r.next(WAIT).await.body["data"][0]["speed"]["value"], 2);
    let status = status_when(&engine, &sub.id, |s| s.ok == Some(true)).await;
    assert_eq!((status.times_sent, status.times_failed), (2, 1));
    assert!(status.last_success > status.last_failure);
    assert_eq!(engine.stats().notifications_failed, 1);
    assert_eq!(engine.stats().notifications_sent, 1);
    engine.shutdown().await;
}

/// Entities held in memory, filtered with the subscription's own matcher.
struct Fixed(Vec<Entity>);

#[async_trait]
impl EntitySource for Fixed {
    async fn matching(&self, _tenant: Option<&str>, sub: &Subscription) -> Vec<Entity> {
        self.0
            .iter()
            .filter(|e| sub.matches_entity(e))
            .cloned()
            .collect()
    }

    async fn by_ids(&self, _tenant: Option<&str>, ids: Vec<String>) -> Vec<Entity> {
        self.0
            .iter()
            .filter(|e| ids.contains(&e.id))
            .cloned()
            .collect()
    }
}

#[tokio::test]
async fn time_interval_notifies_the_matching_entities_periodically() {
    let r = Receiver::start().await;
    let bus = entity("urn:ngsi-ld:Bus:1", "Bus", &[]);
    let engine = engine_with(Arc::new(Fixed(vec![car(5), bus])));
    let sub = sub_for(&r, json!({"timeInterval": 1}));
    subscribe(&engine, None, &sub).await;
    // Change events do not trigger periodic subscriptions.
    engine.notify(created(None, car(6))).expect("queued");
    for _ in 0..2 {
        let n = r.next(Duration::from_secs(3)).await.body;
        assert_eq!(
            n["data"],
            json!([{
                "id": "urn:ngsi-ld:Vehicle:1",
                "type": "Vehicle",
                "speed": {"type": "Property", "value": 5},
                "brand": {"type": "Property", "value": "Seat"}
            }])
        );
        assert!(n.get("triggerReason").is_none());
    }
    engine.shutdown().await;
}

#[tokio::test]
async fn a_full_event_channel_refuses_without_waiting() {
    let engine = subscriptions::Engine::start(
        subscriptions::EngineConfig {
            event_capacity: 1,
            ..Default::default()
        },
        Arc::new(subscriptions::NoEntities),
    );
    // The dispatcher may take the first at once; with capacity 1, a burst must overflow.
    let results: Vec<_> = (0..100)
        .map(|i| engine.notify(created(None, car(i))))
        .collect();
    assert!(results
        .iter()
        .any(|r| matches!(r, Err(subscriptions::Error::Overloaded))));
    let stats = engine.stats();
    assert_eq!(stats.events_received + stats.events_dropped, 100);
    engine.shutdown().await;
    assert!(matches!(
        engine.notify(created(None, car(1))),
        Err(subscriptions::Error::Stopped)
    ));
}

#[tokio::test]
async fn a_stuck_endpoint_drops_its_oldest_notifications_and_shutdown_does_not_wait_for_it() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let engine = subscriptions::Engine::start(
        subscriptions::EngineConfig {
            queue_capacity: 2,
            max_retries: 1000,
            retry_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(1),
            ..Default::default()
        },
        Arc::new(subscriptions::NoEntities),
    );
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": format!("http://{addr}/notify")}}
    }));
    subscribe(&engine, None, &sub).await;
    for speed in 0..6 {
        engine.notify(created(None, car(speed))).expect("queued");
    }
    // One notification is in its retries; of the five others, two wait and the rest were
    // dropped (four if the worker had not taken the first one yet). The drops are the engine's
    // statistics, not failures of the subscription: a dropped notification was never sent.
    let deadline = tokio::time::Instant::now() + WAIT;
    while engine.stats().notifications_dropped < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!((3..=4).contains(&engine.stats().notifications_dropped));
    let status = status_when(&engine, &sub.id, |s| s.times_failed >= 1).await;
    assert_eq!(
        (status.times_sent, status.times_failed),
        (1, 1),
        "{status:?}"
    );
    assert_eq!(status.ok, Some(false));

    let stopped = tokio::time::timeout(Duration::from_secs(3), engine.shutdown()).await;
    assert!(stopped.is_ok(), "shutdown interrupts the retries");
}
