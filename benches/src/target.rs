//! A broker under test: where it listens, what it is called in the results, which tenant the
//! run uses, and the one HTTP client (a connection pool sized to the run) that talks to it.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::scenario::Request;

#[derive(Debug, Clone)]
pub struct Target {
    /// Name in the table, the chart and the entity ids (`oxion`, `orion-ld`).
    pub label: String,
    /// Base URL, without `/ngsi-ld/v1`.
    pub url: String,
    /// Sent as `NGSILD-Tenant` when set.
    pub tenant: Option<String>,
    client: reqwest::Client,
}

impl Target {
    pub fn new(
        label: &str,
        url: &str,
        tenant: Option<String>,
        connections: usize,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Target {
            label: label.to_owned(),
            url: url.trim_end_matches('/').to_owned(),
            tenant,
            client,
        })
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.client.request(method, format!("{}{path}", self.url));
        match &self.tenant {
            Some(t) => req.header("NGSILD-Tenant", t),
            None => req,
        }
    }

    /// Sends one request and reads the whole response; returns the status and the body's size.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, usize)> {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.bytes().await?.len()))
    }

    /// GETs a JSON document; an error status is an error.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let resp = self.request(Method::GET, path).send().await?;
        Ok(resp.error_for_status()?.json().await?)
    }

    /// Sends a scenario's request; `Ok(true)` when the status is one it expects.
    pub async fn perform(&self, r: Request) -> anyhow::Result<bool> {
        let (status, _) = self.send(r.method, &r.path, r.body.as_ref()).await?;
        Ok(r.ok.contains(&status))
    }
}
