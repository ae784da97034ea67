//! HTTP notifications: a POST of the Notification to the endpoint; any 2xx is a success.

use std::time::Duration;

use super::Envelope;

/// `url` is the endpoint's, already parsed and checked against the egress policy.
pub(super) async fn post(
    client: &reqwest::Client,
    env: &Envelope<'_>,
    url: url::Url,
    timeout: Duration,
) -> Result<(), String> {
    let body = serde_json::to_vec(env.body).map_err(|e| e.to_string())?;
    let mut req = client.post(url).timeout(timeout).body(body);
    for (k, v) in env.headers() {
        req = req.header(k, v);
    }
    let resp = req.send().await.map_err(|e| {
        if crate::egress::is_denied(&e) {
            format!(
                "'{}' is not allowed by this broker's egress policy",
                env.endpoint.uri
            )
        } else {
            e.to_string()
        }
    })?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("endpoint answered {}", resp.status()))
    }
}
