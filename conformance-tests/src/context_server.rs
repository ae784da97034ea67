//! JSON-LD @context documents served to the broker under test from the callback endpoint, so
//! cases can use user contexts without the network. Stopped (the address stops answering) when
//! dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::endpoint::{endpoint, Document, Route};

/// Serves one document at every path under its address; counts the requests it answered.
#[derive(Debug)]
pub struct ContextServer {
    number: u64,
    document: Arc<Document>,
}

impl ContextServer {
    /// Starts serving `document` as `application/ld+json`.
    pub fn serve(document: Value) -> Self {
        Self::serve_text(document.to_string())
    }

    /// Starts serving `body`, which need not be JSON, as `application/ld+json`.
    pub fn serve_text(body: String) -> Self {
        let document = Arc::new(Document {
            body,
            hits: AtomicUsize::new(0),
        });
        let number = endpoint().reserve();
        endpoint().open(number, Route::Document(document.clone()));
        Self { number, document }
    }

    /// The URL of the document (any path serves it; `name` keeps URLs of tests apart).
    pub fn url(&self, name: &str) -> String {
        endpoint().url(self.number, &format!("/{name}"))
    }

    /// How many requests were answered.
    pub fn hits(&self) -> usize {
        self.document.hits.load(Ordering::SeqCst)
    }
}

impl Drop for ContextServer {
    fn drop(&mut self) {
        endpoint().close(self.number);
    }
}
