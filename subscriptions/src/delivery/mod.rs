//! Sending one notification to one endpoint: HTTP(S) POST (clause 6.3.4 / binding of 5.11)
//! or an MQTT publish. One attempt per call; retries and accounting are the worker's.

mod http;
mod mqtt;

pub use mqtt::MqttSession;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::egress::EgressPolicy;
use crate::model::{Accept, Endpoint};

/// What a notification carries besides its body.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub endpoint: &'a Endpoint,
    /// The default tenant is `None`; another one travels in `NGSILD-Tenant`.
    pub tenant: Option<&'a str>,
    /// The @context reference (a URL, or inline JSON for `application/ld+json`).
    pub context: &'a Value,
    pub body: &'a Value,
}

impl Envelope<'_> {
    /// The headers of the notification (HTTP headers, or MQTT `metadata`), receiverInfo
    /// included.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out = vec![(
            "Content-Type".to_owned(),
            self.endpoint.accept.as_str().to_owned(),
        )];
        if self.endpoint.accept == Accept::Json {
            // The Link header can only point at a document: an inline @context has no URL,
            // so the first URL of the reference is linked (clause 6.3.5).
            if let Some(url) = first_url(self.context) {
                out.push((
                    "Link".to_owned(),
                    format!(
                        "<{url}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\""
                    ),
                ));
            }
        }
        if let Some(t) = self.tenant {
            out.push(("NGSILD-Tenant".to_owned(), t.to_owned()));
        }
        for kv in &self.endpoint.receiver_info {
            out.push((kv.key.clone(), kv.value.clone()));
        }
        out
    }
}

fn first_url(context: &Value) -> Option<&str> {
    match context {
        Value::String(s) => Some(s),
        Value::Array(items) => items.iter().find_map(Value::as_str),
        _ => None,
    }
}

/// The transports, shared by every worker: one HTTP client (a connection pool), and the
/// egress policy every connection obeys.
#[derive(Debug, Clone)]
pub struct Transports {
    http: reqwest::Client,
    timeout: Duration,
    egress: Arc<EgressPolicy>,
}

impl Transports {
    pub fn new(timeout: Duration, egress: Arc<EgressPolicy>) -> Self {
        // Header names are case-insensitive, but receivers that keep them in a plain map look
        // up `Link` and the receiverInfo keys as clause 6.3.8 spells them.
        let builder = egress.http_client(reqwest::Client::builder().http1_title_case_headers());
        Transports {
            // Building fails only when the TLS backend cannot start, and then so does
            // `Client::new()` (it panics, as before the policy existed): no client without the
            // policy is ever used.
            http: builder.build().unwrap_or_else(|e| {
                tracing::error!(error = %e, "the notification HTTP client could not be built");
                reqwest::Client::new()
            }),
            timeout,
            egress,
        }
    }

    /// One attempt; `Err` holds a reason for the logs. `mqtt` is the caller's session to
    /// its MQTT broker, kept between notifications.
    pub async fn send(
        &self,
        env: &Envelope<'_>,
        mqtt: &mut Option<MqttSession>,
    ) -> Result<(), String> {
        let timeout = env
            .endpoint
            .timeout
            .map_or(self.timeout, Duration::from_millis);
        let url = self
            .egress
            .check(&env.endpoint.uri)
            .map_err(|e| e.to_string())?;
        if env.endpoint.is_mqtt() {
            mqtt::publish(env, &url, mqtt, timeout, &self.egress).await
        } else {
            http::post(&self.http, env, url, timeout).await
        }
    }
}
