//! MQTT notifications (clause 5.2.15 `notifierInfo`; the message shape follows Orion-LD):
//! the endpoint `mqtt[s]://[user:pass@]host[:port]/topic` gets one message
//! `{"metadata": {headers...}, "body": notification}` at the QoS of `MQTT-QoS` (default 0).
//!
//! A worker keeps one [`MqttSession`] (MQTT 3.1.1) open to its endpoint's broker between
//! notifications: a task polls the session, which keeps it alive and reports when a publish
//! is complete for its QoS (sent for 0, PUBACK for 1, PUBCOMP for 2). A session that fails is
//! dropped and opened again for the next attempt. `MQTT-Version: mqtt5.0` is accepted but
//! sent as 3.1.1, which MQTT 5 brokers also serve.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS, Transport};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Envelope;
use crate::egress::EgressPolicy;

/// Progress of the session's publishes, as its polling task sees it.
#[derive(Debug)]
enum Progress {
    Sent,
    Acknowledged,
    Completed,
    Failed(String),
}

/// An open MQTT session to one broker.
#[derive(Debug)]
pub struct MqttSession {
    /// scheme, credentials, host and port: a session serves one broker as one client.
    broker: String,
    client: AsyncClient,
    progress: mpsc::Receiver<Progress>,
    task: JoinHandle<()>,
}

impl Drop for MqttSession {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MqttSession {
    /// A session to the broker of `url`, at `address` (resolved under the egress policy).
    /// Plain MQTT connects to that checked address itself; MQTT over TLS connects by name,
    /// which the server's certificate is checked against (the name was resolved under the
    /// policy just before).
    fn open(url: &url::Url, address: std::net::SocketAddr) -> Result<Self, String> {
        let tls = url.scheme() == "mqtts";
        let host = match tls {
            true => url.host_str().ok_or("no host")?.to_owned(),
            false => address.ip().to_string(),
        };
        let client_id = format!("oxion-{}", uuid::Uuid::new_v4().simple());
        let mut opts = MqttOptions::new(client_id, host, address.port());
        opts.set_keep_alive(Duration::from_secs(30));
        if !url.username().is_empty() {
            opts.set_credentials(url.username(), url.password().unwrap_or_default());
        }
        if tls {
            opts.set_transport(Transport::tls_with_default_config());
        }
        let (client, mut events) = AsyncClient::new(opts, 8);
        let (tx, progress) = mpsc::channel(16);
        let task = tokio::spawn(async move {
            loop {
                let p = match events.poll().await {
                    Ok(Event::Outgoing(Outgoing::Publish(_))) => Progress::Sent,
                    Ok(Event::Incoming(Packet::PubAck(_))) => Progress::Acknowledged,
                    Ok(Event::Incoming(Packet::PubComp(_))) => Progress::Completed,
                    Ok(_) => continue,
                    Err(e) => {
                        let _ = tx.send(Progress::Failed(e.to_string())).await;
                        return;
                    }
                };
                if tx.send(p).await.is_err() {
                    return;
                }
            }
        });
        Ok(MqttSession {
            broker: broker_key(url),
            client,
            progress,
            task,
        })
    }

    async fn publish(&mut self, topic: String, qos: QoS, payload: Vec<u8>) -> Result<(), String> {
        // Forget what an earlier, timed-out publish left behind.
        while self.progress.try_recv().is_ok() {}
        self.client
            .publish(topic, qos, false, payload)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            match (self.progress.recv().await, qos) {
                (None, _) => return Err("MQTT session closed".to_owned()),
                (Some(Progress::Failed(e)), _) => return Err(e),
                (Some(Progress::Sent), QoS::AtMostOnce)
                | (Some(Progress::Acknowledged), QoS::AtLeastOnce)
                | (Some(Progress::Completed), QoS::ExactlyOnce) => return Ok(()),
                _ => {}
            }
        }
    }
}

fn broker_key(url: &url::Url) -> String {
    format!(
        "{}://{}:{}@{}:{:?}",
        url.scheme(),
        url.username(),
        url.password().unwrap_or_default(),
        url.host_str().unwrap_or_default(),
        url.port()
    )
}

/// One publish over `session`, opened (or opened again) as needed.
pub(super) async fn publish(
    env: &Envelope<'_>,
    url: &url::Url,
    session: &mut Option<MqttSession>,
    timeout: Duration,
    egress: &EgressPolicy,
) -> Result<(), String> {
    let topic = url.path().trim_start_matches('/').to_owned();
    let metadata: Map<String, Value> = env
        .headers()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let payload = serde_json::to_vec(&json!({ "metadata": metadata, "body": env.body }))
        .map_err(|e| e.to_string())?;
    let qos = match env.endpoint.mqtt_qos() {
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        _ => QoS::AtMostOnce,
    };

    let reusable = session
        .as_ref()
        .is_some_and(|s| s.broker == broker_key(url) && !s.task.is_finished());
    if !reusable {
        let tls = url.scheme() == "mqtts";
        let port = url.port().unwrap_or(if tls { 8883 } else { 1883 });
        let host = url.host_str().ok_or("no host")?;
        let addresses = tokio::time::timeout(timeout, egress.resolve(host, port))
            .await
            .map_err(|_| format!("'{host}' not resolved within {timeout:?}"))?
            .map_err(|e| e.to_string())?;
        let address = addresses.first().ok_or("no address")?;
        *session = Some(MqttSession::open(url, *address)?);
    }
    let Some(open) = session.as_mut() else {
        return Err("no MQTT session".to_owned());
    };
    let result = match tokio::time::timeout(timeout, open.publish(topic, qos, payload)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no MQTT acknowledgement within {timeout:?}")),
    };
    if result.is_err() {
        // Start the next attempt on a fresh session.
        *session = None;
    }
    result
}
