//! Which events concern which subscription, and with which triggerReason: every trigger,
//! watchedAttributes, selectors and filters, state.

use crate::fixtures::{created, deleted, entity, subscription, updated};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use subscriptions::matching::trigger_reason;
use subscriptions::{ChangeEvent, Subscription, Trigger};

fn sub(extra: Value) -> Subscription {
    let mut body = json!({
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}
    });
    for (k, v) in extra.as_object().expect("object") {
        if v.is_null() {
            body.as_object_mut().expect("object").remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    subscription(body)
}

fn reason(s: &Subscription, e: &ChangeEvent) -> Option<Trigger> {
    trigger_reason(s, e, Utc::now())
}

fn car(speed: i64) -> ngsi_types::Entity {
    entity(
        "urn:ngsi-ld:Vehicle:1",
        "Vehicle",
        &[("speed", json!(speed)), ("brand", json!("Seat"))],
    )
}

#[test]
fn default_triggers_notify_creations_and_updates_but_not_deletions() {
    let s = sub(json!({}));
    assert_eq!(
        reason(&s, &created(None, car(1))),
        Some(Trigger::AttributeCreated)
    );
    assert_eq!(
        reason(&s, &updated(None, car(1), car(2))),
        Some(Trigger::AttributeUpdated)
    );
    assert_eq!(reason(&s, &deleted(None, car(1))), None);
    // A write that changed nothing triggers nothing.
    assert_eq!(reason(&s, &updated(None, car(1), car(1))), None);
}

#[test]
fn each_trigger_fires_only_for_its_change() {
    let mut with_color = car(1);
    with_color.put_attribute(
        crate::fixtures::iri("color"),
        ngsi_types::Attribute::property("red"),
    );
    let create = created(None, car(1));
    let update = updated(None, car(1), car(2));
    let add_attr = updated(None, car(1), with_color.clone());
    let del_attr = updated(None, with_color, car(1));
    let delete = deleted(None, car(1));
    let events = [&create, &update, &add_attr, &del_attr, &delete];
    let expect: [(&str, [Option<Trigger>; 5]); 6] = [
        (
            "entityCreated",
            [Some(Trigger::EntityCreated), None, None, None, None],
        ),
        (
            "entityUpdated",
            [
                None,
                Some(Trigger::EntityUpdated),
                Some(Trigger::EntityUpdated),
                Some(Trigger::EntityUpdated),
                None,
            ],
        ),
        (
            "entityDeleted",
            [None, None, None, None, Some(Trigger::EntityDeleted)],
        ),
        (
            "attributeCreated",
            [
                Some(Trigger::AttributeCreated),
                None,
                Some(Trigger::AttributeCreated),
                None,
                None,
            ],
        ),
        (
            "attributeUpdated",
            [None, Some(Trigger::AttributeUpdated), None, None, None],
        ),
        (
            "attributeDeleted",
            // Deleting the entity deletes its attributes too (clause 5.8.6).
            [
                None,
                None,
                None,
                Some(Trigger::AttributeDeleted),
                Some(Trigger::AttributeDeleted),
            ],
        ),
    ];
    for (trigger, outcomes) in expect {
        let s = sub(json!({"notificationTrigger": [trigger]}));
        for (event, want) in events.iter().zip(outcomes) {
            assert_eq!(reason(&s, event), want, "{trigger} on {:?}", event.changes);
        }
    }
}

#[test]
fn watched_attributes_restrict_the_changes_that_count() {
    let s = sub(json!({"watchedAttributes": ["speed"]}));
    let mut other = car(1);
    other.put_attribute(
        crate::fixtures::iri("brand"),
        ngsi_types::Attribute::property("Audi"),
    );
    assert_eq!(reason(&s, &updated(None, car(1), other)), None);
    assert_eq!(
        reason(&s, &updated(None, car(1), car(5))),
        Some(Trigger::AttributeUpdated)
    );
    // No selector: any entity type with a watched attribute.
    let any = sub(json!({"entities": null, "watchedAttributes": ["speed"]}));
    let bus = entity("urn:ngsi-ld:Bus:1", "Bus", &[("speed", json!(3))]);
    assert_eq!(
        reason(&any, &created(None, bus)),
        Some(Trigger::AttributeCreated)
    );
}

#[test]
fn selectors_decide_on_id_id_pattern_and_type() {
    let by_id = sub(json!({"entities": [{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle"}]}));
    let by_pattern =
        sub(json!({"entities": [{"idPattern": "urn:ngsi-ld:Vehicle:[0-4]", "type": "Vehicle"}]}));
    let by_types = sub(json!({"entities": [{"type": "Bus,Vehicle"}]}));
    let other = entity("urn:ngsi-ld:Vehicle:7", "Vehicle", &[("speed", json!(1))]);
    let bus = entity("urn:ngsi-ld:Bus:1", "Bus", &[("speed", json!(1))]);
    let truck = entity("urn:ngsi-ld:Truck:1", "Truck", &[("speed", json!(1))]);
    assert!(reason(&by_id, &created(None, car(1))).is_some());
    assert!(reason(&by_id, &created(None, other.clone())).is_none());
    assert!(reason(&by_pattern, &created(None, car(1))).is_some());
    assert!(reason(&by_pattern, &created(None, other)).is_none());
    assert!(reason(&by_types, &created(None, bus)).is_some());
    assert!(reason(&by_types, &created(None, truck)).is_none());
}

#[test]
fn q_scope_and_geo_filters_apply_to_the_new_state_or_the_deleted_one() {
    let s =
        sub(json!({"q": "speed>50", "notificationTrigger": ["attributeUpdated", "entityDeleted"]}));
    assert!(reason(&s, &updated(None, car(10), car(60))).is_some());
    assert!(reason(&s, &updated(None, car(60), car(10))).is_none());
    assert!(reason(&s, &deleted(None, car(60))).is_some());
    assert!(reason(&s, &deleted(None, car(10))).is_none());

    let scoped = sub(json!({"scopeQ": "/Madrid/#"}));
    let mut madrid = car(1);
    madrid.scope = vec!["/Madrid/Centro".into()];
    assert!(reason(&scoped, &created(None, madrid)).is_some());
    assert!(reason(&scoped, &created(None, car(1))).is_none());

    let geo = sub(
        json!({"geoQ": {"geometry": "Point", "coordinates": [-3.7, 40.4], "georel": "near;maxDistance==1000"}}),
    );
    let at = |lon: f64, lat: f64| {
        let mut e = car(1);
        let point = ngsi_types::geojson::Geometry::from_geojson(
            "location",
            &json!({"type": "Point", "coordinates": [lon, lat]}),
        )
        .expect("point");
        e.put_attribute(
            ngsi_types::entity::LOCATION,
            ngsi_types::Attribute::new(ngsi_types::AttributeValue::GeoProperty(point)),
        );
        e
    };
    assert!(reason(&geo, &created(None, at(-3.7001, 40.4001))).is_some());
    assert!(reason(&geo, &created(None, at(2.17, 41.38))).is_none());
}

#[test]
fn paused_expired_and_periodic_subscriptions_match_nothing() {
    let event = created(None, car(1));
    assert!(reason(&sub(json!({"isActive": false})), &event).is_none());
    let mut expired = sub(json!({}));
    expired.expires_at = Some(Utc::now() - Duration::seconds(1));
    assert!(reason(&expired, &event).is_none());
    assert!(reason(&sub(json!({"timeInterval": 5})), &event).is_none());
}
