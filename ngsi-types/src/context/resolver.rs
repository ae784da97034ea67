//! Resolving a request's @context, remote parts included, into a cached [`ActiveContext`].
//!
//! The resolver owns the two caches that make contexts cheap: processed contexts per
//! [`ContextSource::cache_key`], and fetched documents per URL. On a miss it first fetches
//! every remote document reachable from the source (through the broker's [`ContextLoader`],
//! with a depth limit so a server cannot lead it down an endless chain of URLs), then
//! processes the whole thing synchronously, which is where inclusion cycles are caught.
//! Two requests missing the same key at once may both fetch; the second insert wins, and both
//! get equivalent contexts.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::active::ActiveContext;
use super::cache::BoundedCache;
use super::loader::ContextLoader;
use super::processing::{context_of, remote_references};
use super::source::ContextSource;
use super::DEFAULT_MAX_DEPTH;
use crate::error::{NgsiError, Result};

/// Sizes of the resolver's caches and how deep remote contexts may nest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolverLimits {
    /// Processed contexts kept (one per distinct Link URL or inline @context text).
    pub max_contexts: usize,
    /// Fetched documents kept (one per URL).
    pub max_documents: usize,
    /// How many remote contexts may be nested inside one another.
    pub max_depth: usize,
}

impl Default for ResolverLimits {
    fn default() -> Self {
        Self {
            max_contexts: 1024,
            max_documents: 256,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// Turns [`ContextSource`]s into [`ActiveContext`]s, fetching and caching on the way.
pub struct ContextResolver<L> {
    loader: L,
    contexts: BoundedCache<String, Arc<ActiveContext>>,
    documents: BoundedCache<String, Arc<Value>>,
    limits: ResolverLimits,
}

impl<L> fmt::Debug for ContextResolver<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextResolver")
            .field("contexts", &self.contexts.len())
            .field("documents", &self.documents.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<L: ContextLoader> ContextResolver<L> {
    pub fn new(loader: L) -> Self {
        Self::with_limits(loader, ResolverLimits::default())
    }

    pub fn with_limits(loader: L, limits: ResolverLimits) -> Self {
        Self {
            loader,
            contexts: BoundedCache::new(limits.max_contexts),
            documents: BoundedCache::new(limits.max_documents),
            limits,
        }
    }

    pub fn loader(&self) -> &L {
        &self.loader
    }

    /// The active context for `source`: from the cache, or built (fetching what it needs).
    pub async fn resolve(&self, source: &ContextSource) -> Result<Arc<ActiveContext>> {
        let key = source.cache_key();
        if key.is_empty() {
            return Ok(ActiveContext::core());
        }
        if let Some(cached) = self.contexts.get(&key) {
            return Ok(cached);
        }
        let context = source.context_value();
        let documents = self.fetch_reachable(context.as_ref()).await?;
        let active = Arc::new(ActiveContext::build(
            context.as_ref(),
            &documents,
            self.limits.max_depth,
        )?);
        self.contexts.insert(key, active.clone());
        Ok(active)
    }

    /// The document at `url`, from the cache or the loader. The broker can use it to serve
    /// cached contexts from `/jsonldContexts`.
    pub async fn document(&self, url: &str) -> Result<Arc<Value>> {
        if let Some(cached) = self.documents.get(url) {
            return Ok(cached);
        }
        let document = self.loader.load(url).await?;
        self.documents.insert(url.to_owned(), document.clone());
        Ok(document)
    }

    /// Forgets the document at `url` and every context built from it (DELETE
    /// `/jsonldContexts/{id}`, or a reload).
    pub fn invalidate(&self, url: &str) {
        self.documents.remove(url);
        self.contexts
            .retain(|key, context| key != url && !context.depends_on(url));
    }

    /// Fetches every remote document reachable from `context`, breadth by depth, each once.
    async fn fetch_reachable(
        &self,
        context: Option<&Value>,
    ) -> Result<HashMap<String, Arc<Value>>> {
        let mut fetched = HashMap::new();
        let Some(context) = context else {
            return Ok(fetched);
        };
        let mut pending: Vec<(String, usize)> = remote_references(context)
            .into_iter()
            .rev()
            .map(|url| (url.to_owned(), 1))
            .collect();
        while let Some((url, depth)) = pending.pop() {
            if fetched.contains_key(&url) {
                continue;
            }
            if depth > self.limits.max_depth {
                return Err(NgsiError::InvalidContext(format!(
                    "@context '{url}' nests remote contexts deeper than {} levels",
                    self.limits.max_depth
                )));
            }
            let document = self.document(&url).await?;
            for nested in remote_references(context_of(&document)).into_iter().rev() {
                if !fetched.contains_key(nested) {
                    pending.push((nested.to_owned(), depth + 1));
                }
            }
            fetched.insert(url, document);
        }
        Ok(fetched)
    }
}
