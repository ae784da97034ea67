//! MQTT notifications against a real broker (mosquitto).
//!
//! Runs when `OXION_TEST_MQTT_URL` is set (`scripts/services.sh start mqtt` then
//! `eval "$(scripts/services.sh env)"`). Without it the tests pass vacuously, unless
//! `OXION_REQUIRE_MQTT=1`, which makes a missing broker a failure.

use std::time::Duration;

use crate::fixtures::{created, ctx, engine, entity, subscription, WAIT};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};

fn broker_url() -> Option<url::Url> {
    match std::env::var("OXION_TEST_MQTT_URL") {
        Ok(u) => Some(url::Url::parse(&u).expect("OXION_TEST_MQTT_URL is a URL")),
        Err(_) if std::env::var("OXION_REQUIRE_MQTT").as_deref() == Ok("1") => {
            panic!("OXION_REQUIRE_MQTT=1 but OXION_TEST_MQTT_URL is not set: run scripts/services.sh start mqtt")
        }
        Err(_) => {
            eprintln!("OXION_TEST_MQTT_URL not set: MQTT test skipped");
            None
        }
    }
}

/// A subscriber on `topic`, ready (SUBACK received) when this returns.
async fn listen(broker: &url::Url, topic: &str) -> (AsyncClient, rumqttc::EventLoop) {
    let mut opts = MqttOptions::new(
        format!("oxion-test-{}", uuid::Uuid::new_v4().simple()),
        broker.host_str().expect("host"),
        broker.port().unwrap_or(1883),
    );
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut events) = AsyncClient::new(opts, 10);
    client
        .subscribe(topic, QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    tokio::time::timeout(WAIT, async {
        loop {
            if let Event::Incoming(Packet::SubAck(_)) =
                events.poll().await.expect("mqtt connection")
            {
                break;
            }
        }
    })
    .await
    .expect("SUBACK in time");
    (client, events)
}

async fn next_message(events: &mut rumqttc::EventLoop) -> Value {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) =
                events.poll().await.expect("mqtt connection")
            {
                return serde_json::from_slice(&p.payload).expect("JSON payload");
            }
        }
    })
    .await
    .expect("a notification in time")
}

#[tokio::test]
async fn notifications_are_published_with_metadata_and_body_at_each_qos() {
    let Some(broker) = broker_url() else { return };
    let engine = engine();
    for qos in ["0", "1", "2"] {
        let topic = format!("oxion/test/{}", uuid::Uuid::new_v4().simple());
        let (_client, mut events) = listen(&broker, &topic).await;
        let sub = subscription(json!({
            "type": "Subscription",
            "entities": [{"type": "Vehicle"}],
            "notification": {
                "format": "keyValues",
                "endpoint": {
                    "uri": format!("mqtt://{}:{}/{topic}", broker.host_str().expect("host"), broker.port().unwrap_or(1883)),
                    "receiverInfo": [{"key": "X-Origin", "value": "oxion"}],
                    "notifierInfo": [{"key": "MQTT-QoS", "value": qos}]
                }
            }
        }));
        engine
            .upsert(Some("acme"), sub.clone(), ctx())
            .await
            .expect("upsert");
        // Two notifications through the same session.
        for speed in [7, 8] {
            let car = entity(
                "urn:ngsi-ld:Vehicle:1",
                "Vehicle",
                &[("speed", json!(speed))],
            );
            engine.notify(created(Some("acme"), car)).expect("queued");
            let msg = next_message(&mut events).await;
            let metadata = &msg["metadata"];
            assert_eq!(metadata["Content-Type"], "application/json", "QoS {qos}");
            assert!(metadata["Link"].as_str().expect("Link").contains("jsonld"));
            assert_eq!(metadata["X-Origin"], "oxion");
            assert_eq!(metadata["NGSILD-Tenant"], "acme");
            let body = &msg["body"];
            assert_eq!(body["type"], "Notification");
            assert_eq!(body["subscriptionId"], json!(sub.id));
            assert_eq!(
                body["data"],
                json!([{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": speed}])
            );
        }
        let status = engine.status(Some("acme"), &sub.id).await.expect("known");
        assert_eq!(status.times_failed, 0, "QoS {qos}");
        engine.remove(Some("acme"), &sub.id).await.expect("removed");
    }
    engine.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_mqtt_broker_is_a_failure() {
    let Some(_) = broker_url() else { return };
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let engine = engine();
    let sub = subscription(json!({
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": format!("mqtt://{addr}/nobody"), "timeout": 500}}
    }));
    engine
        .upsert(None, sub.clone(), ctx())
        .await
        .expect("upsert");
    engine
        .notify(created(
            None,
            entity("urn:ngsi-ld:Vehicle:1", "Vehicle", &[("speed", json!(1))]),
        ))
        .expect("queued");
    let deadline = tokio::time::Instant::now() + WAIT;
    let status = loop {
        let s = engine.status(None, &sub.id).await.expect("known");
        if s.ok.is_some() || tokio::time::Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((status.times_failed, status.ok), (1, Some(false)));
    engine.shutdown().await;
}
