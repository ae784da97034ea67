//! Fetching remote @contexts with reqwest: bounded in time and size, JSON only, under the
//! egress policy (`subscriptions::egress`: every name resolved through it, every redirect
//! checked); contexts this broker hosts are answered from its registry without a network round
//! trip.

use std::sync::Arc;
use std::time::Duration;

use ngsi_types::context::ContextLoader;
use ngsi_types::NgsiError;
use serde_json::Value;
use subscriptions::egress::{self, EgressPolicy};

use super::registry::ContextRegistry;

#[derive(Debug, Clone)]
pub struct HttpLoader {
    client: reqwest::Client,
    max_bytes: usize,
    registry: Arc<ContextRegistry>,
    egress: Arc<EgressPolicy>,
}

/// Why a fetch gave nothing. The detail stays in the broker's log: a client learns only that
/// the @context could not be had (or that the egress policy refused it), never whether a port
/// was closed, silent or answered an error, which would let it map the broker's network.
enum Unavailable {
    Denied(String),
    Failed(String),
}

impl HttpLoader {
    pub fn new(
        timeout: Duration,
        max_bytes: usize,
        registry: Arc<ContextRegistry>,
        egress: Arc<EgressPolicy>,
    ) -> Result<Self, reqwest::Error> {
        let client = egress
            .http_client(reqwest::Client::builder())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            max_bytes,
            registry,
            egress,
        })
    }

    /// The egress policy of every @context fetch (also that of notifications).
    pub fn egress(&self) -> &Arc<EgressPolicy> {
        &self.egress
    }

    /// The body at `url`: unavailable (`Err`) when it cannot be had, `Ok(None)` when it is
    /// not JSON at all.
    async fn fetch(&self, url: &str) -> Result<Option<Value>, Unavailable> {
        let checked = self.egress.check(url).map_err(|e| match e {
            egress::Denied::Policy(_) => Unavailable::Denied(e.to_string()),
            other => Unavailable::Failed(other.to_string()),
        })?;
        let failed = |e: reqwest::Error| match egress::is_denied(&e) {
            true => Unavailable::Denied(format!("'{url}' led where the egress policy denies")),
            false => Unavailable::Failed(e.to_string()),
        };
        let response = self
            .client
            .get(checked)
            .header("Accept", "application/ld+json, application/json;q=0.9")
            .send()
            .await
            .map_err(failed)?;
        if !response.status().is_success() {
            return Err(Unavailable::Failed(format!("HTTP {}", response.status())));
        }
        let too_big = || Unavailable::Failed(format!("larger than {} bytes", self.max_bytes));
        if response
            .content_length()
            .is_some_and(|n| n as usize > self.max_bytes)
        {
            return Err(too_big());
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(serde_json::from_slice(&body).ok())
    }
}

impl HttpLoader {
    /// The @context document at `url`, fetched now: unavailable (LdContextNotAvailable) when
    /// it cannot be had, invalid (BadRequestData) when what came is not a context document.
    pub async fn fetch_context(&self, url: &str) -> Result<Arc<Value>, NgsiError> {
        let fetched = self.fetch(url).await.map_err(|why| {
            let reason = match why {
                Unavailable::Denied(reason) => reason,
                Unavailable::Failed(cause) => {
                    tracing::info!(%url, %cause, "a remote @context could not be fetched");
                    format!(
                        "no 2xx answer within the fetch timeout and {} bytes",
                        self.max_bytes
                    )
                }
            };
            NgsiError::ContextNotAvailable {
                url: url.to_owned(),
                reason,
            }
        })?;
        // GS CIM 009 5.5.6: a remote @context that was retrieved but is invalid is
        // BadRequestData, not LdContextNotAvailable. JSON-LD 1.1 (3.1, remote context
        // documents): a context document is JSON, an object with an @context member.
        let Some(doc) = fetched else {
            return Err(NgsiError::InvalidContext(format!(
                "the document at '{url}' is not JSON"
            )));
        };
        if doc.get("@context").is_none() {
            return Err(NgsiError::InvalidContext(format!(
                "the document at '{url}' has no @context member"
            )));
        }
        Ok(Arc::new(doc))
    }
}

impl ContextLoader for HttpLoader {
    async fn load(&self, url: &str) -> Result<Arc<Value>, NgsiError> {
        if let Some(hosted) = self.registry.hosted_document(url) {
            return Ok(hosted);
        }
        self.fetch_context(url).await
    }
}
