//! The @context of each request: resolved from the Link header or the body's `@context` into an
//! `ActiveContext` (cached), and echoed back in responses.
//! PROVISIONAL: remote contexts arrive with the context engine's resolver and a reqwest loader.

use std::sync::Arc;

use ngsi_types::context::ActiveContext;
use serde_json::Value;

use crate::error::{BrokerError, BrokerResult};
use crate::http::body::ContextSource;

/// URL of the NGSI-LD core context this broker implements (v1.8).
pub const CORE_CONTEXT_URL: &str =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

/// A request's resolved @context and where it came from.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub active: Arc<ActiveContext>,
    pub source: ContextSource,
}

impl RequestContext {
    /// The core context alone.
    pub fn core() -> Self {
        Self {
            active: ActiveContext::core(),
            source: ContextSource::Core,
        }
    }

    /// The `@context` member of an application/ld+json response.
    pub fn response_context(&self) -> Value {
        match &self.source {
            ContextSource::Core => Value::String(CORE_CONTEXT_URL.into()),
            ContextSource::Link(url) => Value::String(url.clone()),
            ContextSource::Inline(v) => v.clone(),
        }
    }

    /// The URL of an application/json response's Link header.
    pub fn link_url(&self) -> String {
        match &self.source {
            ContextSource::Link(url) => url.clone(),
            ContextSource::Core | ContextSource::Inline(_) => CORE_CONTEXT_URL.into(),
        }
    }
}

/// Resolves request contexts.
#[derive(Debug, Default)]
pub struct ContextService {}

impl ContextService {
    pub fn new() -> Self {
        Self {}
    }

    pub async fn resolve(&self, source: ContextSource) -> BrokerResult<RequestContext> {
        let active = match &source {
            ContextSource::Core => ActiveContext::core(),
            ContextSource::Inline(v) => ActiveContext::from_inline(v)?,
            ContextSource::Link(url) if url.starts_with("https://uri.etsi.org/ngsi-ld/") => {
                ActiveContext::core()
            }
            ContextSource::Link(url) => {
                return Err(BrokerError::Ngsi(
                    ngsi_types::NgsiError::ContextNotAvailable {
                        url: url.clone(),
                        reason: "remote contexts are not resolved yet".into(),
                    },
                ))
            }
        };
        Ok(RequestContext { active, source })
    }
}
