use chrono::Utc;
use ngsi_types::context::ActiveContext;
use ngsi_types::registration::CSourceRegistration;
use serde_json::json;

use super::{CsourceSubscription, CsourceTrigger};

fn registration(body: serde_json::Value) -> CSourceRegistration {
    let ctx = ActiveContext::core();
    CSourceRegistration::parse(&body, &ctx, "urn:r:1".into(), Utc::now()).unwrap()
}

fn subscription(body: serde_json::Value) -> CsourceSubscription {
    CsourceSubscription::parse(&body, &ActiveContext::core(), Utc::now()).unwrap()
}

fn vehicle_registration(attr: &str) -> CSourceRegistration {
    registration(json!({
        "id": "urn:r:1",
        "type": "ContextSourceRegistration",
        "information": [{
            "entities": [{"type": "https://example.org/Vehicle"}],
            "propertyNames": [attr]
        }],
        "endpoint": "http://127.0.0.1:9/source"
    }))
}

#[test]
fn csource_subscription_matches_registrations_of_its_entity_type() {
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "https://example.org/Vehicle"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}
    }));
    let ctx = ActiveContext::core();
    assert!(sub.matches(&vehicle_registration("https://example.org/speed"), &ctx));
    let other = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "https://example.org/Building"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}
    }));
    assert!(!other.matches(&vehicle_registration("https://example.org/speed"), &ctx));
}

#[test]
fn csource_subscription_watched_attributes_select_registered_attributes() {
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "https://example.org/Vehicle"}],
        "watchedAttributes": ["https://example.org/speed"],
        "notification": {
            "attributes": ["https://example.org/speed"],
            "endpoint": {"uri": "http://127.0.0.1:9/notify"}
        }
    }));
    let ctx = ActiveContext::core();
    assert!(sub.matches(&vehicle_registration("https://example.org/speed"), &ctx));
    assert!(!sub.matches(&vehicle_registration("https://example.org/fuel"), &ctx));
}

#[test]
fn csource_temporal_q_is_kept_and_checked() {
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "https://example.org/Vehicle"}],
        "temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"},
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}
    }));
    let rendered = sub.render(&ActiveContext::core(), None, Utc::now(), false);
    assert_eq!(rendered["temporalQ"]["timerel"], "after");
    // A temporal query selects only registrations with intervals (5.11.2.4).
    assert!(!sub.matches(
        &vehicle_registration("https://example.org/speed"),
        &ActiveContext::core()
    ));
    let bad = CsourceSubscription::parse(
        &json!({
            "type": "Subscription",
            "entities": [{"type": "V"}],
            "temporalQ": {"timerel": "sometime"},
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}
        }),
        &ActiveContext::core(),
        Utc::now(),
    );
    assert!(bad.is_err());
}

#[test]
fn csource_trigger_reasons_follow_the_change() {
    assert_eq!(
        CsourceTrigger::of_change(false, true),
        Some(CsourceTrigger::NewlyMatching)
    );
    assert_eq!(
        CsourceTrigger::of_change(true, true),
        Some(CsourceTrigger::Updated)
    );
    assert_eq!(
        CsourceTrigger::of_change(true, false),
        Some(CsourceTrigger::NoLongerMatching)
    );
    assert_eq!(CsourceTrigger::of_change(false, false), None);
}

#[test]
fn csource_notification_carries_the_registrations() {
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "https://example.org/Vehicle"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}
    }));
    let reg = vehicle_registration("https://example.org/speed");
    let n = sub.notification(
        &[&reg],
        CsourceTrigger::NewlyMatching,
        &ActiveContext::core(),
        Utc::now(),
    );
    assert_eq!(n["type"], "ContextSourceNotification");
    assert_eq!(n["subscriptionId"], sub.id());
    assert_eq!(n["triggerReason"], "newlyMatching");
    assert_eq!(n["data"][0]["id"], "urn:r:1");
}

#[test]
fn csource_notification_keeps_only_the_matching_registration_info() {
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "https://example.org/Vehicle"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}
    }));
    let reg = registration(json!({
        "id": "urn:r:1",
        "type": "ContextSourceRegistration",
        "information": [
            {"entities": [{"type": "https://example.org/Building"}]},
            {"entities": [{"type": "https://example.org/Vehicle"}]}
        ],
        "endpoint": "http://127.0.0.1:9/source"
    }));
    let ctx = ActiveContext::core();
    let n = sub.notification(&[&reg], CsourceTrigger::Updated, &ctx, Utc::now());
    let info = n["data"][0]["information"].as_array().unwrap();
    assert_eq!(info.len(), 1);
    assert_eq!(
        info[0]["entities"][0]["type"],
        "https://example.org/Vehicle"
    );
}

#[test]
fn csource_watched_attributes_alone_select_registered_attributes() {
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "https://example.org/Vehicle"}],
        "watchedAttributes": ["https://example.org/speed"],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}
    }));
    let ctx = ActiveContext::core();
    assert!(sub.matches(&vehicle_registration("https://example.org/speed"), &ctx));
    assert!(!sub.matches(&vehicle_registration("https://example.org/fuel"), &ctx));
}
