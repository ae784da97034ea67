//! MQTT notifications (clause 5.2.15 `notifierInfo`; the message shape follows Orion-LD):
//! the endpoint `mqtt[s]://host[:port]/topic` gets one message
//! `{"metadata": {headers...}, "body": notification}` at the QoS of `MQTT-QoS` (default 0).
//!
//! Each notification opens its own MQTT 3.1.1 session and closes it once the publish is
//! complete for its QoS (sent for 0, PUBACK for 1, PUBCOMP for 2). `MQTT-Version: mqtt5.0`
//! is accepted but sent as 3.1.1, which every MQTT 5 broker also serves.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS, Transport};
use serde_json::{json, Map, Value};

use super::Envelope;

pub(super) async fn publish(env: &Envelope<'_>, timeout: Duration) -> Result<(), String> {
    let url = url::Url::parse(&env.endpoint.uri).map_err(|e| e.to_string())?;
    let tls = url.scheme() == "mqtts";
    let host = url.host_str().ok_or("no host")?.to_owned();
    let port = url.port().unwrap_or(if tls { 8883 } else { 1883 });
    let topic = url.path().trim_start_matches('/').to_owned();

    let metadata: Map<String, Value> = env
        .headers()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let payload = serde_json::to_vec(&json!({ "metadata": metadata, "body": env.body }))
        .map_err(|e| e.to_string())?;

    let client_id = format!("oxion-{}", uuid::Uuid::new_v4().simple());
    let mut opts = MqttOptions::new(client_id, host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    if !url.username().is_empty() {
        let user = url.username();
        opts.set_credentials(user, url.password().unwrap_or_default());
    }
    if tls {
        opts.set_transport(Transport::tls_with_default_config());
    }
    let qos = match env.endpoint.mqtt_qos() {
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        _ => QoS::AtMostOnce,
    };
    let (client, mut events) = AsyncClient::new(opts, 4);
    client
        .publish(topic, qos, false, payload)
        .await
        .map_err(|e| e.to_string())?;

    let delivered = async {
        loop {
            match events.poll().await.map_err(|e| e.to_string())? {
                Event::Outgoing(Outgoing::Publish(_)) if qos == QoS::AtMostOnce => return Ok(()),
                Event::Incoming(Packet::PubAck(_)) if qos == QoS::AtLeastOnce => return Ok(()),
                Event::Incoming(Packet::PubComp(_)) if qos == QoS::ExactlyOnce => return Ok(()),
                _ => {}
            }
        }
    };
    let result = match tokio::time::timeout(timeout, delivered).await {
        Ok(r) => r,
        Err(_) => Err(format!("no MQTT acknowledgement within {timeout:?}")),
    };
    if result.is_ok() {
        // Close the session cleanly; the message is already with the broker.
        let _ = client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Ok(ev) = events.poll().await {
                if matches!(ev, Event::Outgoing(Outgoing::Disconnect)) {
                    break;
                }
            }
        })
        .await;
    }
    result
}
