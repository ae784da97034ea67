//! Context processing: turning @context values (objects, URLs, arrays of both) into term
//! definitions, following the JSON-LD 1.1 Context Processing and Create Term Definition
//! algorithms to the extent NGSI-LD uses them.
//!
//! Processing is synchronous and does no I/O: remote documents are fetched beforehand by the
//! resolver and handed in through [`RemoteDocuments`]. That split keeps the algorithm testable
//! without a runtime and lets cycle detection follow the real inclusion chain.
//!
//! Deliberate simplifications, each harmless for NGSI-LD payloads:
//! - scoped contexts (`@context` inside a term definition) are accepted and recorded, not applied;
//! - `@base`, `@language`, `@direction` and `@propagate` are accepted and ignored;
//! - a `null` term definition removes the term (it falls back to `@vocab`), it does not make it
//!   expand to nothing, since dropping attributes silently is never what a client means;
//! - while user contexts are processed, names they do not define themselves are looked up in the
//!   core context, so `"temperature": "ngsi-ld:temperature"` works without redefining `ngsi-ld`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::core::is_core_context_url;
use super::iri::is_absolute_iri;
use super::term::TermDefinition;
use super::DEFAULT_VOCAB;
use definition::Definitions;

use crate::error::{NgsiError, Result};

mod definition;

/// Remote context documents, already fetched.
pub(crate) trait RemoteDocuments {
    fn document(&self, url: &str) -> Result<Arc<Value>>;
}

/// For inline contexts: any remote URL other than the core context is an error.
#[derive(Debug)]
pub(crate) struct NoRemoteDocuments;

impl RemoteDocuments for NoRemoteDocuments {
    fn document(&self, url: &str) -> Result<Arc<Value>> {
        Err(NgsiError::InvalidContext(format!(
            "'{url}' is a remote @context: resolve it with ContextResolver, not from_inline"
        )))
    }
}

impl RemoteDocuments for HashMap<String, Arc<Value>> {
    fn document(&self, url: &str) -> Result<Arc<Value>> {
        self.get(url)
            .cloned()
            .ok_or_else(|| NgsiError::ContextNotAvailable {
                url: url.to_owned(),
                reason: "not fetched".into(),
            })
    }
}

/// The context inside a fetched document: its `@context` member, or the document itself.
pub(crate) fn context_of(document: &Value) -> &Value {
    document.get("@context").unwrap_or(document)
}

/// The remote URLs a context value refers to directly (array items and `@import`), in order.
pub(crate) fn remote_references(context: &Value) -> Vec<&str> {
    let mut urls = Vec::new();
    let items: &[Value] = match context {
        Value::Array(items) => items,
        single => std::slice::from_ref(single),
    };
    for item in items {
        match item {
            Value::String(url) => urls.push(url.as_str()),
            Value::Object(map) => {
                if let Some(Value::String(url)) = map.get("@import") {
                    urls.push(url.as_str());
                }
            }
            _ => {}
        }
    }
    urls.retain(|url| !is_core_context_url(url));
    urls
}

/// The state of one run of context processing.
pub(crate) struct Processor<'d> {
    terms: HashMap<String, TermDefinition>,
    vocab: Option<String>,
    /// Fallback definitions while processing user contexts (the core context's).
    fallback: Option<&'static HashMap<String, TermDefinition>>,
    documents: &'d dyn RemoteDocuments,
    /// The remote contexts being processed, outermost first: a URL found here again is a cycle.
    chain: Vec<String>,
    max_depth: usize,
    /// Every remote URL used, for cache invalidation.
    dependencies: Vec<String>,
}

impl<'d> Processor<'d> {
    pub(crate) fn new(
        fallback: Option<&'static HashMap<String, TermDefinition>>,
        documents: &'d dyn RemoteDocuments,
        max_depth: usize,
    ) -> Self {
        Self {
            terms: HashMap::new(),
            vocab: None,
            fallback,
            documents,
            chain: Vec::new(),
            max_depth,
            dependencies: Vec::new(),
        }
    }

    pub(crate) fn into_terms_and_vocab(self) -> (HashMap<String, TermDefinition>, Option<String>) {
        (self.terms, self.vocab)
    }

    pub(crate) fn dependencies(&self) -> &[String] {
        &self.dependencies
    }

    /// Applies one @context value on top of what was processed so far.
    pub(crate) fn apply(&mut self, context: &Value) -> Result<()> {
        match context {
            // JSON-LD 1.1 context processing 5.1.2: null resets the (user) active context.
            Value::Null => {
                self.terms.clear();
                self.vocab = None;
                Ok(())
            }
            Value::String(url) => self.apply_remote(url),
            Value::Object(map) => self.apply_object(map),
            Value::Array(items) => items.iter().try_for_each(|item| match item {
                Value::Array(_) => Err(NgsiError::InvalidContext(
                    "an array inside a @context array is not allowed".into(),
                )),
                other => self.apply(other),
            }),
            other => Err(NgsiError::InvalidContext(format!(
                "a @context must be an object, a URL or an array of them, not {other}"
            ))),
        }
    }

    fn apply_remote(&mut self, url: &str) -> Result<()> {
        // GS CIM 009 5.5.7: the core context is applied last in any case.
        if is_core_context_url(url) {
            return Ok(());
        }
        if self.chain.iter().any(|seen| seen == url) {
            return Err(NgsiError::InvalidContext(format!(
                "recursive @context inclusion: {} -> {url}",
                self.chain.join(" -> ")
            )));
        }
        if self.chain.len() >= self.max_depth {
            return Err(NgsiError::InvalidContext(format!(
                "@context '{url}' nests remote contexts deeper than {} levels",
                self.max_depth
            )));
        }
        let document = self.documents.document(url)?;
        if !document.is_object() {
            return Err(NgsiError::InvalidContext(format!(
                "remote @context '{url}' is not a JSON object"
            )));
        }
        if !self.dependencies.iter().any(|seen| seen == url) {
            self.dependencies.push(url.to_owned());
        }
        self.chain.push(url.to_owned());
        let result = self.apply(context_of(&document));
        self.chain.pop();
        result
    }

    fn apply_object(&mut self, local: &Map<String, Value>) -> Result<()> {
        if let Some(version) = local.get("@version") {
            if version.as_f64() != Some(1.1) {
                return Err(NgsiError::InvalidContext(format!(
                    "@version must be 1.1, not {version}"
                )));
            }
        }
        if let Some(import) = local.get("@import") {
            let url = import.as_str().ok_or_else(|| {
                NgsiError::InvalidContext(format!("@import must be a URL, not {import}"))
            })?;
            self.apply_remote(url)?;
        }
        let protected = match local.get("@protected") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "@protected must be true or false, not {other}"
                )))
            }
        };
        // JSON-LD 1.1 context processing 5.1.2 step 5.8: @vocab is set before the terms and
        // expanded against the context as it was before this object.
        match local.get("@vocab") {
            None => {}
            Some(Value::Null) => self.vocab = None,
            Some(Value::String(vocab)) => {
                let nothing_local = Map::new();
                let mut no_local = Definitions::new(&nothing_local, protected);
                let iri = self.expand_iri(&mut no_local, vocab, true)?;
                if !is_absolute_iri(&iri) {
                    return Err(NgsiError::InvalidContext(format!(
                        "@vocab '{vocab}' is not an IRI"
                    )));
                }
                self.vocab = Some(iri);
            }
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "@vocab must be an IRI or null, not {other}"
                )))
            }
        }
        let mut definitions = Definitions::new(local, protected);
        for term in local.keys() {
            // Keywords were handled above; other @-names are reserved and ignored (JSON-LD 1.1).
            if !term.starts_with('@') {
                self.define(&mut definitions, term)?;
            }
        }
        Ok(())
    }

    fn lookup(&self, term: &str) -> Option<&TermDefinition> {
        self.terms
            .get(term)
            .or_else(|| self.fallback.and_then(|core| core.get(term)))
    }

    fn vocab(&self) -> &str {
        self.vocab.as_deref().unwrap_or(DEFAULT_VOCAB)
    }
}

#[cfg(test)]
mod tests;
