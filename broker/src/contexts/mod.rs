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

use ngsi_types::context::{
    ActiveContext, CacheUse, ContextResolver, ContextSource, ResolverLimits,
};
use serde_json::Value;

pub use loader::HttpLoader;
pub use registry::{
    ContextEntry, ContextKind, ContextRegistry, ContextUse, Forgotten, HOSTED_PATH,
};

use crate::error::{BrokerError, BrokerResult};
use crate::store::Tenant;

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

/// How much memory the @context caches may take, and the largest inline @context accepted.
#[derive(Debug, Clone, Copy)]
pub struct ContextBudget {
    /// Bytes for every cache together: half for processed contexts, a quarter for fetched
    /// documents, a quarter for the registry's Cached and ImplicitlyCreated entries.
    pub cache_bytes: usize,
    /// Largest inline @context accepted, in bytes of its JSON text (413 beyond).
    pub max_inline_bytes: usize,
}

impl Default for ContextBudget {
    fn default() -> Self {
        Self {
            cache_bytes: 64 * 1024 * 1024,
            max_inline_bytes: 1024 * 1024,
        }
    }
}

impl ContextBudget {
    /// The registry's share of the budget.
    pub fn registry_bytes(&self) -> usize {
        self.cache_bytes / 4
    }

    fn resolver_limits(&self) -> ResolverLimits {
        ResolverLimits {
            max_context_bytes: self.cache_bytes / 2,
            max_document_bytes: self.cache_bytes / 4,
            ..ResolverLimits::default()
        }
    }
}

/// What the @context caches hold, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct ContextCacheUse {
    pub resolver: CacheUse,
    pub registry_entries: usize,
    pub registry_bytes: usize,
}

/// Resolves request contexts and keeps the `/jsonldContexts` registry.
#[derive(Debug)]
pub struct ContextService {
    resolver: ContextResolver<HttpLoader>,
    registry: Arc<ContextRegistry>,
    max_inline_bytes: usize,
}

impl ContextService {
    pub fn new(loader: HttpLoader, registry: Arc<ContextRegistry>, budget: ContextBudget) -> Self {
        Self {
            resolver: ContextResolver::with_limits(loader, budget.resolver_limits()),
            registry,
            max_inline_bytes: budget.max_inline_bytes,
        }
    }

    pub fn registry(&self) -> &Arc<ContextRegistry> {
        &self.registry
    }

    /// The egress policy of every outgoing connection (@contexts and notifications).
    pub fn egress(&self) -> &Arc<subscriptions::egress::EgressPolicy> {
        self.resolver.loader().egress()
    }

    /// Resolves a request's @context. `base_url` (scheme://host of the request) is where this
    /// broker hosts an implicitly created context for an inline one. What the context used
    /// comes back too, to be [`record`](Self::record)ed once the request has succeeded.
    pub async fn resolve(
        &self,
        source: ContextSource,
        base_url: &str,
    ) -> BrokerResult<(RequestContext, ContextUse)> {
        let inline_text = match &source {
            ContextSource::Inline(value) => Some(self.inline_text(value)?),
            _ => None,
        };
        let active = self.resolver.resolve(&source).await?;
        let mut used = ContextUse {
            implicit: None,
            remote: active.remote_urls().to_vec(),
        };
        let link = match (active.link_url(), &source, inline_text) {
            (Some(url), _, _) => url.to_owned(),
            (None, ContextSource::Inline(value), Some(text)) => {
                // The id is the hash of the inline text: the same inline @context is the same
                // ImplicitlyCreated one, whoever sends it.
                let id = registry::local_id(&text);
                let url = format!("{}{HOSTED_PATH}{id}", base_url.trim_end_matches('/'));
                used.implicit = Some(registry::Implicit {
                    id,
                    url: url.clone(),
                    document: Arc::new(serde_json::json!({ "@context": value })),
                });
                url
            }
            _ => CORE_CONTEXT_URL.into(),
        };
        let ctx = RequestContext {
            active,
            source,
            link,
        };
        Ok((ctx, used))
    }

    /// The JSON text of an inline @context, if it is within the size accepted.
    fn inline_text(&self, value: &Value) -> BrokerResult<String> {
        let text = value.to_string();
        if text.len() > self.max_inline_bytes {
            return Err(BrokerError::PayloadTooLarge(format!(
                "the inline @context is {} bytes, more than the {} accepted \
                 (--max-inline-context-bytes); host it and link to it instead",
                text.len(),
                self.max_inline_bytes
            )));
        }
        Ok(text)
    }

    /// Files what a request of `tenant` used in the registry, counting a hit.
    pub fn record(&self, tenant: &Tenant, used: ContextUse) {
        self.registry.record(tenant, used);
    }

    /// Files what `tenant` needs in the registry without counting a hit.
    pub fn register(&self, tenant: &Tenant, used: ContextUse) {
        self.registry.register(tenant, used);
    }

    /// Validates a context document by processing it (fetching what it references); what it
    /// used is returned, to be recorded if the request succeeds.
    pub async fn validate(&self, context: &Value) -> BrokerResult<ContextUse> {
        // Under the same size cap as an inline @context; hosted as it is, not implicitly
        // created, so only the remote contexts it reaches are used.
        self.inline_text(context)?;
        let active = self
            .resolver
            .resolve(&ContextSource::Inline(context.clone()))
            .await?;
        Ok(ContextUse {
            implicit: None,
            remote: active.remote_urls().to_vec(),
        })
    }

    /// Reload of a Cached @context (5.13.5.4): fetched again and checked, then put in place of
    /// the stored one; when either fails the stored one stays and the error is reported.
    pub async fn reload(&self, url: &str) -> BrokerResult<()> {
        let fresh = self.resolver.loader().fetch_context(url).await?;
        self.resolver.replace_document(url, fresh).await?;
        Ok(())
    }

    /// Forgets a remote document and every context built from it.
    pub fn invalidate(&self, url: &str) {
        self.resolver.invalidate(url);
    }

    /// What the caches hold now.
    pub fn cache_use(&self) -> ContextCacheUse {
        let (registry_entries, registry_bytes) = self.registry.usage();
        ContextCacheUse {
            resolver: self.resolver.cached(),
            registry_entries,
            registry_bytes,
        }
    }
}
