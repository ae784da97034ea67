//! The Subscription model: validation (one case per rule of clause 5.2.12), the API form
//! round trip, Update Subscription, and the storage form.

use crate::fixtures::{ctx, iri, subscription};
use chrono::{Duration, Utc};
use ngsi_types::context::ActiveContext;
use ngsi_types::format::Format;
use ngsi_types::{ErrorType, NgsiError};
use serde_json::{json, Value};
use subscriptions::{Accept, Subscription, SubscriptionStatus, Trigger};

fn minimal() -> Value {
    json!({
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}
    })
}

fn with(mut base: Value, path: &[&str], value: Value) -> Value {
    let mut slot = &mut base;
    for key in &path[..path.len() - 1] {
        slot = &mut slot[*key];
    }
    let last = path[path.len() - 1];
    if value.is_null() {
        if let Some(o) = slot.as_object_mut() {
            o.remove(last);
        }
    } else {
        slot[last] = value;
    }
    base
}

fn error_of(body: Value) -> NgsiError {
    Subscription::parse(&body, &ctx(), Utc::now()).expect_err("should be refused")
}

#[test]
fn minimal_subscription_gets_an_id_and_the_defaults() {
    let sub = subscription(minimal());
    assert!(
        sub.id.starts_with("urn:ngsi-ld:Subscription:"),
        "{}",
        sub.id
    );
    assert_eq!(sub.notification_trigger, Trigger::DEFAULT.to_vec());
    assert!(sub.is_active);
    assert_eq!(sub.notification.format, Format::Normalized);
    assert_eq!(sub.notification.endpoint.accept, Accept::Json);
    assert_eq!(
        sub.entities[0]
            .selector
            .types
            .iter()
            .flat_map(|t| t.types())
            .collect::<Vec<_>>(),
        [iri("Vehicle")]
    );
}

#[test]
fn every_invalid_member_is_bad_request_data_naming_the_member() {
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "neither entities nor watchedAttributes",
            with(minimal(), &["entities"], Value::Null),
            "entities",
        ),
        (
            "empty entities",
            with(minimal(), &["entities"], json!([])),
            "entities",
        ),
        (
            "empty watchedAttributes",
            with(minimal(), &["watchedAttributes"], json!([])),
            "watchedAttributes",
        ),
        (
            "selector without type",
            with(minimal(), &["entities"], json!([{"id": "urn:a:b"}])),
            "entities[].type",
        ),
        (
            "selector id not a URI",
            with(
                minimal(),
                &["entities"],
                json!([{"id": "not a uri", "type": "T"}]),
            ),
            "entities[].id",
        ),
        (
            "bad idPattern",
            with(
                minimal(),
                &["entities"],
                json!([{"idPattern": "(", "type": "T"}]),
            ),
            "idPattern",
        ),
        (
            "bad type expression",
            with(minimal(), &["entities"], json!([{"type": "A;;B"}])),
            "type",
        ),
        ("invalid q", with(minimal(), &["q"], json!("speed>>")), "q"),
        (
            "invalid geoQ",
            with(
                minimal(),
                &["geoQ"],
                json!({"georel": "near", "geometry": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}),
            ),
            "geo",
        ),
        (
            "invalid scopeQ",
            with(minimal(), &["scopeQ"], json!("/a/(")),
            "scopeQ",
        ),
        (
            "invalid lang",
            with(minimal(), &["lang"], json!("e n")),
            "lang",
        ),
        (
            "throttling with timeInterval",
            with(
                with(minimal(), &["throttling"], json!(5)),
                &["timeInterval"],
                json!(10),
            ),
            "throttling",
        ),
        (
            "negative throttling",
            with(minimal(), &["throttling"], json!(-1)),
            "throttling",
        ),
        (
            "negative timeInterval",
            with(minimal(), &["timeInterval"], json!(-3)),
            "timeInterval",
        ),
        (
            "expiresAt in the past",
            with(minimal(), &["expiresAt"], json!(past)),
            "expiresAt",
        ),
        (
            "expiresAt not a date",
            with(minimal(), &["expiresAt"], json!("tomorrow")),
            "expiresAt",
        ),
        (
            "unknown trigger",
            with(
                minimal(),
                &["notificationTrigger"],
                json!(["entityTouched"]),
            ),
            "notificationTrigger",
        ),
        (
            "empty triggers",
            with(minimal(), &["notificationTrigger"], json!([])),
            "notificationTrigger",
        ),
        (
            "showChanges with keyValues",
            with(
                with(minimal(), &["notification", "showChanges"], json!(true)),
                &["notification", "format"],
                json!("simplified"),
            ),
            "notification.showChanges",
        ),
        (
            "pick with omit",
            with(
                with(minimal(), &["notification", "pick"], json!(["id"])),
                &["notification", "omit"],
                json!(["speed"]),
            ),
            "notification.omit",
        ),
        (
            "pick with attributes",
            with(
                with(minimal(), &["notification", "attributes"], json!(["speed"])),
                &["notification", "pick"],
                json!(["id"]),
            ),
            "notification.pick",
        ),
        (
            "empty omit",
            with(minimal(), &["notification", "omit"], json!([])),
            "notification.omit",
        ),
        (
            "csf not a query",
            with(minimal(), &["csf"], json!("((")),
            "csf",
        ),
        (
            "isActive not a boolean",
            with(minimal(), &["isActive"], json!("yes")),
            "isActive",
        ),
        (
            "no notification",
            with(minimal(), &["notification"], Value::Null),
            "notification",
        ),
        (
            "no endpoint",
            with(minimal(), &["notification", "endpoint"], Value::Null),
            "notification.endpoint",
        ),
        (
            "endpoint URI not a URL",
            with(
                minimal(),
                &["notification", "endpoint", "uri"],
                json!("not a url"),
            ),
            "notification.endpoint.uri",
        ),
        (
            "unsupported scheme",
            with(
                minimal(),
                &["notification", "endpoint", "uri"],
                json!("ftp://host/x"),
            ),
            "notification.endpoint.uri",
        ),
        (
            "mqtt without topic",
            with(
                minimal(),
                &["notification", "endpoint", "uri"],
                json!("mqtt://host:1883"),
            ),
            "notification.endpoint.uri",
        ),
        (
            "unknown accept",
            with(
                minimal(),
                &["notification", "endpoint", "accept"],
                json!("text/plain"),
            ),
            "notification.endpoint.accept",
        ),
        (
            "bad MQTT QoS",
            with(
                minimal(),
                &["notification", "endpoint", "notifierInfo"],
                json!([{"key": "MQTT-QoS", "value": "3"}]),
            ),
            "notification.endpoint.notifierInfo",
        ),
        (
            "receiverInfo not pairs",
            with(
                minimal(),
                &["notification", "endpoint", "receiverInfo"],
                json!([{"key": "x"}]),
            ),
            "notification.endpoint.receiverInfo",
        ),
        (
            "negative endpoint timeout",
            with(
                minimal(),
                &["notification", "endpoint", "timeout"],
                json!(-5),
            ),
            "notification.endpoint.timeout",
        ),
        (
            "unknown format",
            with(minimal(), &["notification", "format"], json!("pretty")),
            "notification.format",
        ),
        (
            "empty notification attributes",
            with(minimal(), &["notification", "attributes"], json!([])),
            "notification.attributes",
        ),
        (
            "type not Subscription",
            with(minimal(), &["type"], json!("Entity")),
            "type",
        ),
        (
            "id not a URI",
            with(minimal(), &["id"], json!("sub 1")),
            "id",
        ),
    ];
    for (case, body, member) in cases {
        let err = error_of(body);
        assert_eq!(err.error_type(), ErrorType::BadRequestData, "{case}: {err}");
        assert!(
            err.to_string().contains(member),
            "{case}: '{err}' should name {member}"
        );
    }
    // Not an object at all is an InvalidRequest.
    assert_eq!(error_of(json!([1])).error_type(), ErrorType::InvalidRequest);
}

#[test]
fn watched_attributes_alone_are_enough_and_all_expands_to_every_trigger() {
    let body = json!({
        "type": "Subscription",
        "watchedAttributes": ["speed"],
        "notificationTrigger": ["all"],
        "notification": {"endpoint": {"uri": "mqtts://broker.example.org/cars"}}
    });
    let sub = subscription(body);
    assert_eq!(sub.watched_attributes, [iri("speed")]);
    assert_eq!(sub.notification_trigger, Trigger::ALL.to_vec());
}

fn full() -> Value {
    let future = (Utc::now() + Duration::days(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    json!({
        "id": "urn:ngsi-ld:Subscription:full",
        "type": "Subscription",
        "subscriptionName": "full",
        "description": "every member",
        "entities": [
            {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle"},
            {"idPattern": "urn:ngsi-ld:Car:.*", "type": "Car,Truck"}
        ],
        "watchedAttributes": ["speed", "brand"],
        "notificationTrigger": ["entityCreated", "attributeUpdated"],
        "q": "speed>50;brand==\"Mercedes\"",
        "geoQ": {"geometry": "Point", "coordinates": [-3.7, 40.4], "georel": "near;maxDistance==2000"},
        "scopeQ": "/Madrid/#",
        "csf": "brand==Mercedes",
        "lang": "es,en;q=0.5",
        "isActive": false,
        "expiresAt": future,
        "throttling": 5,
        "jsonldContext": "https://example.org/ctx.jsonld",
        "notification": {
            "attributes": ["speed"],
            "format": "concise",
            "sysAttrs": true,
            "showChanges": true,
            "endpoint": {
                "uri": "http://127.0.0.1:9/notify",
                "accept": "application/ld+json",
                "timeout": 1500,
                "receiverInfo": [{"key": "X-Auth", "value": "secret"}],
                "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}]
            }
        }
    })
}

#[test]
fn api_form_round_trips_through_parse_and_render() {
    let ctx = ActiveContext::from_inline(&json!({"speed": "https://example.org/speed"}))
        .expect("context");
    let now = Utc::now();
    let sub = Subscription::parse(&full(), &ctx, now).expect("valid");
    assert_eq!(sub.watched_attributes[0], "https://example.org/speed");
    let rendered = sub.render(&ctx, None, now, false);
    assert_eq!(rendered["watchedAttributes"], json!(["speed", "brand"]));
    assert_eq!(rendered["status"], json!("paused"));
    let again = Subscription::parse(&rendered, &ctx, now).expect("rendered form parses");
    assert_eq!(again, sub);
}

#[test]
fn storage_form_round_trips_through_json() {
    let ctx = ActiveContext::from_inline(
        &json!({"speed": "https://example.org/speed", "Car": "https://example.org/Car"}),
    )
    .expect("context");
    let sub = Subscription::parse(&full(), &ctx, Utc::now()).expect("valid");
    let doc = serde_json::to_string(&sub).expect("serialize");
    let back: Subscription = serde_json::from_str(&doc).expect("deserialize");
    assert_eq!(back, sub);
    // The compiled filters still see the names as the creating @context expanded them.
    let q_terms: Vec<_> = back
        .q
        .as_ref()
        .expect("q")
        .query
        .terms()
        .map(|t| t.attribute.names[0].clone())
        .collect();
    assert_eq!(q_terms[0], "https://example.org/speed");
    assert!(back.entities[1]
        .selector
        .types
        .iter()
        .flat_map(|t| t.types())
        .any(|t| t == "https://example.org/Car"));
}

#[test]
fn status_members_render_under_notification() {
    let sub = subscription(minimal());
    let t = Utc::now();
    let status = SubscriptionStatus {
        times_sent: 3,
        times_failed: 1,
        last_notification: Some(t),
        last_success: Some(t),
        last_failure: None,
        ok: Some(true),
    };
    let out = sub.render(&ctx(), Some(&status), t, false);
    assert_eq!(out["notification"]["timesSent"], json!(3));
    assert_eq!(out["notification"]["timesFailed"], json!(1));
    assert_eq!(out["notification"]["status"], json!("ok"));
    assert!(out["notification"].get("lastFailure").is_none());
    assert_eq!(out["status"], json!("active"));
}

#[test]
fn status_is_expired_past_expires_at() {
    let mut sub = subscription(minimal());
    sub.expires_at = Some(Utc::now() - Duration::seconds(1));
    assert_eq!(
        sub.render(&ctx(), None, Utc::now(), false)["status"],
        json!("expired")
    );
}

#[test]
fn patch_merges_members_and_validates_again() {
    let now = Utc::now();
    let sub = subscription(minimal());
    let patched = sub
        .patch(
            &json!({"q": "speed>10", "isActive": false,
                    "notification": {"format": "keyValues", "endpoint": minimal()["notification"]["endpoint"]}}),
            &ctx(),
            now,
        )
        .expect("valid patch");
    // Clause 5.5.8: the notification member is replaced as a whole, so it needs its endpoint.
    assert!(sub
        .patch(
            &json!({"notification": {"format": "keyValues"}}),
            &ctx(),
            now
        )
        .is_err());
    assert_eq!(patched.id, sub.id);
    assert_eq!(patched.notification.format, Format::KeyValues);
    assert_eq!(patched.notification.endpoint, sub.notification.endpoint);
    assert!(!patched.is_active);
    assert_eq!(
        patched.q.as_ref().map(|q| q.text.as_str()),
        Some("speed>10")
    );

    let removed = patched
        .patch(&json!({"q": null}), &ctx(), now)
        .expect("null removes");
    assert!(removed.q.is_none());

    let err = sub
        .patch(&json!({"timeInterval": 5, "throttling": 2}), &ctx(), now)
        .expect_err("rules between members still hold");
    assert!(err.to_string().contains("throttling"), "{err}");
    let err = sub
        .patch(&json!({"entities": null}), &ctx(), now)
        .expect_err("needs a selector");
    assert!(err.to_string().contains("entities"), "{err}");
    let err = sub
        .patch(&json!({"id": "urn:x:y"}), &ctx(), now)
        .expect_err("id is fixed");
    assert!(err.to_string().contains("id"), "{err}");
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-zA-Z:/.#*;,()=<>\"\\[\\] -]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "type",
                        "entities",
                        "id",
                        "idPattern",
                        "watchedAttributes",
                        "q",
                        "geoQ",
                        "scopeQ",
                        "notification",
                        "endpoint",
                        "uri",
                        "format",
                        "attributes",
                        "throttling",
                        "timeInterval",
                        "expiresAt",
                        "lang",
                        "notificationTrigger",
                        "receiverInfo",
                        "key",
                        "value",
                        "accept",
                    ]),
                    inner,
                    0..6,
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn parse_and_patch_never_panic(body in any_json(), fragment in any_json()) {
            let now = Utc::now();
            let _ = Subscription::parse(&body, &ctx(), now);
            let _ = subscription(minimal()).patch(&fragment, &ctx(), now);
        }
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-z][a-zA-Z0-9]{0,8}"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn parse_render_and_store_round_trip(
            types in prop::collection::vec(name(), 1..3),
            watched in prop::collection::vec(name(), 0..3),
            attrs in prop::collection::vec(name(), 0..3),
            throttling in prop::option::of(1u32..1000),
            format in prop::sample::select(vec!["normalized", "concise", "keyValues"]),
            active in any::<bool>(),
            q_value in 0i32..1000,
        ) {
            let mut body = json!({
                "type": "Subscription",
                "entities": types.iter().map(|t| json!({"type": t})).collect::<Vec<_>>(),
                "isActive": active,
                "q": format!("{}>{q_value}", types[0]),
                "notification": {"format": format, "endpoint": {"uri": "https://example.org/n"}}
            });
            if !watched.is_empty() { body["watchedAttributes"] = json!(watched); }
            if !attrs.is_empty() { body["notification"]["attributes"] = json!(attrs); }
            if let Some(t) = throttling { body["throttling"] = json!(t); }
            let now = Utc::now();
            let sub = Subscription::parse(&body, &ctx(), now).expect("valid");
            let again = Subscription::parse(&sub.render(&ctx(), None, now, false), &ctx(), now).expect("rendered parses");
            prop_assert_eq!(&again, &sub);
            let stored: Subscription = serde_json::from_value(serde_json::to_value(&sub).expect("to json")).expect("from json");
            prop_assert_eq!(&stored, &sub);
        }
    }
}
