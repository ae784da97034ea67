//! How remote @contexts reach this crate: through a loader the broker implements.
//!
//! `ngsi-types` does no I/O (see the crate docs), yet a request may name its @context by URL
//! (GS CIM 009 6.3.5, the `Link` header) or embed URLs in an inline @context. The broker
//! implements [`ContextLoader`] with its HTTP client and its own stored contexts
//! (`/jsonldContexts`); the resolver calls it only on cache misses.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::error::NgsiError;

/// Fetches the JSON-LD document at a URL.
///
/// The returned document is the whole JSON body: the context is its `@context` member, or the
/// object itself when it has none. A document that cannot be retrieved is reported as
/// [`NgsiError::ContextNotAvailable`] (LdContextNotAvailable, 504), naming the URL.
/// Core context URLs are never passed to a loader.
pub trait ContextLoader: Send + Sync {
    fn load(&self, url: &str) -> impl Future<Output = Result<Arc<Value>, NgsiError>> + Send;
}

impl<L: ContextLoader> ContextLoader for Arc<L> {
    fn load(&self, url: &str) -> impl Future<Output = Result<Arc<Value>, NgsiError>> + Send {
        (**self).load(url)
    }
}
