//! Fetching remote @contexts with reqwest: bounded in time and size, JSON only; contexts this
//! broker hosts are answered from its registry without a network round trip.

use std::sync::Arc;
use std::time::Duration;

use ngsi_types::context::ContextLoader;
use ngsi_types::NgsiError;
use serde_json::Value;

use super::registry::ContextRegistry;

#[derive(Debug, Clone)]
pub struct HttpLoader {
    client: reqwest::Client,
    max_bytes: usize,
    registry: Arc<ContextRegistry>,
}

impl HttpLoader {
    pub fn new(
        timeout: Duration,
        max_bytes: usize,
        registry: Arc<ContextRegistry>,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()?;
        Ok(Self {
            client,
            max_bytes,
            registry,
        })
    }

    /// The body at `url`: unavailable (`Err`) when it cannot be had, `Ok(None)` when it is
    /// not JSON at all.
    async fn fetch(&self, url: &str) -> Result<Option<Value>, String> {
        let response = self
            .client
            .get(url)
            .header("Accept", "application/ld+json, application/json;q=0.9")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|n| n as usize > self.max_bytes)
        {
            return Err(format!("larger than {} bytes", self.max_bytes));
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(format!("larger than {} bytes", self.max_bytes));
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
        let fetched = self
            .fetch(url)
            .await
            .map_err(|reason| NgsiError::ContextNotAvailable {
                url: url.to_owned(),
                reason,
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
