//! JSON-LD @context handling: the NGSI-LD core context, user contexts, term expansion and IRI
//! compaction.
//! PLACEHOLDER: the context work replaces this module; the public signatures stay.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::error::{NgsiError, Result};

/// Prefix of the NGSI-LD core vocabulary.
pub const NGSI_LD_PREFIX: &str = "https://uri.etsi.org/ngsi-ld/";
/// `@vocab` of the core context: where unknown terms expand to.
pub const DEFAULT_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

/// The result of processing a list of @contexts: term definitions ready for expansion and
/// compaction, with the core context applied last.
#[derive(Debug, Default)]
pub struct ActiveContext {
    terms: HashMap<String, String>,
    reverse: HashMap<String, String>,
}

impl ActiveContext {
    /// The context of a request that brings no @context of its own: just the core context.
    pub fn core() -> Arc<ActiveContext> {
        static CORE: OnceLock<Arc<ActiveContext>> = OnceLock::new();
        CORE.get_or_init(|| {
            let mut ctx = ActiveContext::default();
            for t in ["location", "observationSpace", "operationSpace"] {
                ctx.add(t, &format!("{NGSI_LD_PREFIX}{t}"));
            }
            Arc::new(ctx)
        })
        .clone()
    }

    /// Builds a context from an inline @context (object or array of objects; no remote URL),
    /// with the core context applied last.
    pub fn from_inline(value: &Value) -> Result<Arc<ActiveContext>> {
        let mut ctx = ActiveContext::default();
        let objects: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for obj in objects {
            let map = obj
                .as_object()
                .ok_or_else(|| NgsiError::InvalidContext("expected an object".into()))?;
            for (term, def) in map {
                if let Some(iri) = def.as_str() {
                    ctx.add(term, iri);
                }
            }
        }
        for t in ["location", "observationSpace", "operationSpace"] {
            ctx.add(t, &format!("{NGSI_LD_PREFIX}{t}"));
        }
        Ok(Arc::new(ctx))
    }

    fn add(&mut self, term: &str, iri: &str) {
        self.terms.insert(term.to_owned(), iri.to_owned());
        self.reverse.insert(iri.to_owned(), term.to_owned());
    }

    /// Expands an entity type, attribute name or vocab value to its IRI.
    pub fn expand_term<'a>(&'a self, term: &'a str) -> Cow<'a, str> {
        if let Some(iri) = self.terms.get(term) {
            Cow::Borrowed(iri)
        } else if term.contains(':') {
            Cow::Borrowed(term)
        } else {
            Cow::Owned(format!("{DEFAULT_VOCAB}{term}"))
        }
    }

    /// Compacts an IRI to the shortest term of this context (or returns it unchanged).
    pub fn compact_iri<'a>(&'a self, iri: &'a str) -> Cow<'a, str> {
        if let Some(term) = self.reverse.get(iri) {
            Cow::Borrowed(term)
        } else if let Some(rest) = iri.strip_prefix(DEFAULT_VOCAB) {
            Cow::Borrowed(rest)
        } else {
            Cow::Borrowed(iri)
        }
    }
}
