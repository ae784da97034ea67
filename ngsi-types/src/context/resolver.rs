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
use super::cache::{json_bytes, BoundedCache};
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
    /// Bytes the processed contexts kept may hold in all (see
    /// [`ActiveContext::approximate_bytes`]).
    pub max_context_bytes: usize,
    /// Fetched documents kept (one per URL).
    pub max_documents: usize,
    /// Bytes the fetched documents kept may hold in all.
    pub max_document_bytes: usize,
    /// How many remote contexts may be nested inside one another.
    pub max_depth: usize,
}

impl Default for ResolverLimits {
    fn default() -> Self {
        Self {
            max_contexts: 1024,
            max_context_bytes: 32 * 1024 * 1024,
            max_documents: 256,
            max_document_bytes: 16 * 1024 * 1024,
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
            contexts: BoundedCache::new(limits.max_contexts, limits.max_context_bytes),
            documents: BoundedCache::new(limits.max_documents, limits.max_document_bytes),
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
        if let Some(context) = &context {
            check_shape(context)?;
        }
        let documents = self.fetch_reachable(context.as_ref()).await?;
        let active = Arc::new(ActiveContext::build(
            context.as_ref(),
            &documents,
            self.limits.max_depth,
        )?);
        // The key (an inline context's whole text) is held too.
        let bytes = key.len() + active.approximate_bytes();
        self.contexts.insert(key, active.clone(), bytes);
        Ok(active)
    }

    /// The document at `url`, from the cache or the loader. The broker can use it to serve
    /// cached contexts from `/jsonldContexts`.
    pub async fn document(&self, url: &str) -> Result<Arc<Value>> {
        if let Some(cached) = self.documents.get(url) {
            return Ok(cached);
        }
        let document = self.loader.load(url).await?;
        self.documents.insert(
            url.to_owned(),
            document.clone(),
            document_bytes(url, &document),
        );
        Ok(document)
    }

    /// Puts `document` in place of the one cached for `url` (a reload), after checking that it
    /// is a valid @context with everything it references; on error nothing changes.
    pub async fn replace_document(&self, url: &str, document: Arc<Value>) -> Result<()> {
        let context = context_of(&document);
        check_shape(context)?;
        let documents = self.fetch_reachable(Some(context)).await?;
        ActiveContext::build(Some(context), &documents, self.limits.max_depth)?;
        self.invalidate(url);
        let bytes = document_bytes(url, &document);
        self.documents.insert(url.to_owned(), document, bytes);
        Ok(())
    }

    /// How much the caches hold: (processed contexts, their bytes, documents, their bytes).
    pub fn cached(&self) -> CacheUse {
        CacheUse {
            contexts: self.contexts.len(),
            context_bytes: self.contexts.bytes(),
            documents: self.documents.len(),
            document_bytes: self.documents.bytes(),
        }
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

/// What a resolver's caches hold, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUse {
    pub contexts: usize,
    pub context_bytes: usize,
    pub documents: usize,
    pub document_bytes: usize,
}

/// The weight of a cached document: its URL (the key) and its parsed JSON.
fn document_bytes(url: &str, document: &Value) -> usize {
    url.len() + json_bytes(document)
}

/// JSON-LD 1.1 context processing (4.1.2, step 5): each item of a context is null, a string
/// (an IRI) or an object, anything else makes it an invalid local context. Checked before any
/// URL it names is fetched, so such a request fails at once with BadRequestData rather than
/// after waiting on, or failing to reach, those URLs.
fn check_shape(context: &Value) -> Result<()> {
    let items = match context {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    match items
        .iter()
        .find(|item| !matches!(item, Value::Null | Value::String(_) | Value::Object(_)))
    {
        Some(item) => Err(NgsiError::InvalidContext(format!(
            "{item} is not a context: expected an IRI, an object or null"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::future::{ready, Future};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::executor::block_on;
    use serde_json::json;

    use super::*;
    use crate::context::CORE_CONTEXT_URL;

    /// Serves documents from a map and counts the calls it gets.
    #[derive(Debug, Default)]
    struct MapLoader {
        documents: HashMap<String, Value>,
        calls: AtomicUsize,
    }

    impl MapLoader {
        fn with(documents: &[(&str, Value)]) -> Self {
            Self {
                documents: documents
                    .iter()
                    .map(|(url, doc)| ((*url).to_owned(), doc.clone()))
                    .collect(),
                calls: AtomicUsize::new(0),
            }
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl ContextLoader for MapLoader {
        fn load(&self, url: &str) -> impl Future<Output = Result<Arc<Value>>> + Send {
            self.calls.fetch_add(1, Ordering::SeqCst);
            ready(
                self.documents
                    .get(url)
                    .cloned()
                    .map(Arc::new)
                    .ok_or_else(|| NgsiError::ContextNotAvailable {
                        url: url.to_owned(),
                        reason: "404 Not Found".into(),
                    }),
            )
        }
    }

    const VEHICLE: &str = "https://example.org/vehicle.jsonld";
    const COMMON: &str = "https://example.org/common.jsonld";

    fn vehicle_loader() -> MapLoader {
        MapLoader::with(&[
            (
                VEHICLE,
                json!({"@context": [COMMON, {"speed": "ex:speed", "Vehicle": "ex:Vehicle"}]}),
            ),
            // A document without a @context member is the context itself.
            (COMMON, json!({"ex": "https://example.org/ns/"})),
        ])
    }

    #[test]
    fn link_contexts_are_fetched_recursively_and_cached() {
        let resolver = ContextResolver::new(vehicle_loader());
        let source = ContextSource::Link(VEHICLE.into());
        let context = block_on(resolver.resolve(&source)).expect("resolves");
        assert_eq!(context.expand_term("speed"), "https://example.org/ns/speed");
        assert_eq!(
            context.compact_iri("https://example.org/ns/Vehicle"),
            "Vehicle"
        );
        assert_eq!(context.link_url(), Some(VEHICLE));
        assert!(context.depends_on(COMMON));
        assert_eq!(resolver.loader().calls(), 2);

        let again = block_on(resolver.resolve(&source)).expect("resolves");
        assert!(Arc::ptr_eq(&context, &again));
        assert_eq!(resolver.loader().calls(), 2, "a cache hit calls no loader");

        // Another source reusing the same documents: processed anew, fetched from cache.
        let inline = ContextSource::Inline(json!([VEHICLE, {"brand": "ex:brand"}]));
        let mixed = block_on(resolver.resolve(&inline)).expect("resolves");
        assert_eq!(mixed.expand_term("brand"), "https://example.org/ns/brand");
        assert_eq!(mixed.link_url(), None);
        assert_eq!(resolver.loader().calls(), 2);
    }

    #[test]
    fn invalidating_a_url_drops_its_document_and_contexts() {
        let resolver = ContextResolver::new(vehicle_loader());
        let source = ContextSource::Link(VEHICLE.into());
        block_on(resolver.resolve(&source)).expect("resolves");
        resolver.invalidate(COMMON);
        block_on(resolver.resolve(&source)).expect("resolves");
        assert_eq!(
            resolver.loader().calls(),
            3,
            "only the invalidated URL is fetched again"
        );
    }

    #[test]
    fn core_sources_never_reach_the_loader() {
        let resolver = ContextResolver::new(MapLoader::default());
        for source in [
            ContextSource::Core,
            ContextSource::Link(CORE_CONTEXT_URL.into()),
            ContextSource::Inline(json!(
                "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
            )),
        ] {
            let context = block_on(resolver.resolve(&source)).expect("core");
            assert!(context.is_core_only());
        }
        assert_eq!(resolver.loader().calls(), 0);
    }

    #[test]
    fn a_failing_loader_is_context_not_available() {
        let resolver = ContextResolver::new(MapLoader::default());
        let err = block_on(resolver.resolve(&ContextSource::Link(VEHICLE.into())))
            .expect_err("nothing to load");
        assert!(
            matches!(&err, NgsiError::ContextNotAvailable { url, .. } if url == VEHICLE),
            "{err}"
        );
        assert_eq!(err.error_type().status(), 504);
    }

    #[test]
    fn inclusion_cycles_are_invalid_context() {
        let a = "https://example.org/a.jsonld";
        let b = "https://example.org/b.jsonld";
        let resolver = ContextResolver::new(MapLoader::with(&[
            (a, json!({"@context": [b, {"x": "https://example.org/x"}]})),
            (b, json!({"@context": [a]})),
        ]));
        let err = block_on(resolver.resolve(&ContextSource::Link(a.into()))).expect_err("cycle");
        assert!(
            matches!(&err, NgsiError::InvalidContext(m) if m.contains("recursive")),
            "{err}"
        );
        assert_eq!(
            resolver.loader().calls(),
            2,
            "each document is fetched once"
        );
    }

    #[test]
    fn nesting_beyond_the_depth_limit_is_invalid_context() {
        let urls: Vec<String> = (0..6)
            .map(|i| format!("https://example.org/level{i}.jsonld"))
            .collect();
        let documents: Vec<(&str, Value)> = urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let next = urls.get(i + 1).map_or(json!({}), |next| json!(next));
                (url.as_str(), json!({"@context": next}))
            })
            .collect();
        let limits = ResolverLimits {
            max_depth: 3,
            ..ResolverLimits::default()
        };
        let deep = ContextResolver::with_limits(MapLoader::with(&documents), limits);
        let err =
            block_on(deep.resolve(&ContextSource::Link(urls[0].clone()))).expect_err("too deep");
        assert!(
            matches!(&err, NgsiError::InvalidContext(m) if m.contains("deeper")),
            "{err}"
        );
        assert_eq!(deep.loader().calls(), 3, "stops fetching at the limit");

        let shallow = ContextResolver::new(MapLoader::with(&documents));
        block_on(shallow.resolve(&ContextSource::Link(urls[0].clone()))).expect("within limit");
    }

    #[test]
    fn the_context_cache_is_bounded() {
        let limits = ResolverLimits {
            max_contexts: 2,
            ..ResolverLimits::default()
        };
        let resolver = ContextResolver::with_limits(MapLoader::default(), limits);
        for i in 0..5 {
            let source = ContextSource::Inline(json!({"t": format!("https://example.org/{i}")}));
            block_on(resolver.resolve(&source)).expect("inline");
        }
        assert_eq!(resolver.contexts.len(), 2);
    }

    #[test]
    fn big_contexts_and_documents_are_bounded_by_bytes() {
        // Documents of ~100 KB each (1,000 terms), under budgets of 1 MB.
        let urls: Vec<String> = (0..20)
            .map(|i| format!("https://example.org/big{i}.jsonld"))
            .collect();
        let documents: Vec<(&str, Value)> = urls
            .iter()
            .map(|url| {
                let terms: serde_json::Map<String, Value> = (0..1000)
                    .map(|t| (format!("term{t}"), json!(format!("{url}#term{t}"))))
                    .collect();
                (url.as_str(), json!({"@context": terms}))
            })
            .collect();
        let limits = ResolverLimits {
            max_context_bytes: 1 << 20,
            max_document_bytes: 1 << 20,
            ..ResolverLimits::default()
        };
        let resolver = ContextResolver::with_limits(MapLoader::with(&documents), limits);
        for url in &urls {
            let context =
                block_on(resolver.resolve(&ContextSource::Link(url.clone()))).expect("resolves");
            assert!(context.approximate_bytes() > 100_000);
        }
        let used = resolver.cached();
        assert!(used.context_bytes <= 1 << 20, "{used:?}");
        assert!(used.document_bytes <= 1 << 20, "{used:?}");
        assert!(used.contexts < 20 && used.documents < 20, "{used:?}");
        assert!(used.contexts >= 1 && used.documents >= 1, "{used:?}");
        // The most recent one is still served from the cache.
        let calls = resolver.loader().calls();
        block_on(resolver.resolve(&ContextSource::Link(urls[19].clone()))).expect("cached");
        assert_eq!(resolver.loader().calls(), calls);
    }
}
