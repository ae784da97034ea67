//! The @context of each request, and the `/jsonldContexts` registry (clause 5.13).
//!
//! A request's @context (Link header, inline, or none) is resolved by the `ngsi-types`
//! resolver, which caches processed contexts; remote documents come through [`HttpLoader`]
//! (timeout, size cap), except those this broker hosts itself, which are read from the
//! [`ContextRegistry`]. Responses echo the context back: the Link URL the client gave, the core
//! context, or the URL of a context this broker hosts for an inline one.

mod loader;
mod registry;

use std::sync::Arc;

use ngsi_types::context::{ActiveContext, ContextResolver, ContextSource, ResolverLimits};
use serde_json::Value;

pub use loader::HttpLoader;
pub use registry::{ContextEntry, ContextKind, ContextRegistry, HOSTED_PATH};

use crate::error::BrokerResult;

/// URL of the NGSI-LD core context this broker implements (v1.8).
pub use ngsi_types::context::CORE_CONTEXT_URL;

/// A request's resolved @context and how to echo it back.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub active: Arc<ActiveContext>,
    pub source: ContextSource,
    /// The URL a response's Link header names.
    link: String,
}

impl RequestContext {
    /// The core context alone.
    pub fn core() -> Self {
        Self {
            active: ActiveContext::core(),
            source: ContextSource::Core,
            link: CORE_CONTEXT_URL.into(),
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
        self.link.clone()
    }
}

/// Resolves request contexts and keeps the `/jsonldContexts` registry.
#[derive(Debug)]
pub struct ContextService {
    resolver: ContextResolver<HttpLoader>,
    registry: Arc<ContextRegistry>,
}

impl ContextService {
    pub fn new(loader: HttpLoader, registry: Arc<ContextRegistry>) -> Self {
        Self {
            resolver: ContextResolver::with_limits(loader, ResolverLimits::default()),
            registry,
        }
    }

    pub fn registry(&self) -> &Arc<ContextRegistry> {
        &self.registry
    }

    /// Resolves a request's @context. `base_url` (scheme://host of the request) is where this
    /// broker hosts an implicitly created context for an inline one.
    pub async fn resolve(
        &self,
        source: ContextSource,
        base_url: &str,
    ) -> BrokerResult<RequestContext> {
        let active = self.resolver.resolve(&source).await?;
        let link = match active.link_url() {
            Some(url) => url.to_owned(),
            None => {
                let ContextSource::Inline(value) = &source else {
                    return Ok(RequestContext {
                        link: CORE_CONTEXT_URL.into(),
                        active,
                        source,
                    });
                };
                self.registry.implicit(value, base_url)
            }
        };
        for url in active.remote_urls() {
            self.registry.record_use(url);
        }
        Ok(RequestContext {
            active,
            source,
            link,
        })
    }

    /// Validates a context document by processing it (fetching what it references).
    pub async fn validate(&self, context: &Value) -> BrokerResult<()> {
        self.resolver
            .resolve(&ContextSource::Inline(context.clone()))
            .await?;
        Ok(())
    }

    /// Reload of a Cached @context (5.13.5.4): fetched again and checked, then put in place of
    /// the stored one; when either fails the stored one stays and the error is reported.
    pub async fn reload(&self, url: &str) -> BrokerResult<()> {
        let fresh = self.resolver.loader().fetch_context(url).await?;
        self.resolver.replace_document(url, fresh.clone()).await?;
        self.registry.store_cached(url, fresh);
        Ok(())
    }

    /// Forgets a remote document and every context built from it.
    pub fn invalidate(&self, url: &str) {
        self.resolver.invalidate(url);
    }
}
