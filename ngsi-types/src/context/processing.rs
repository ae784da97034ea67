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
use super::iri::{has_keyword_form, is_absolute_iri, is_gen_delim, is_keyword, split_compact_iri};
use super::term::{Container, TermDefinition, TypeMapping};
use super::DEFAULT_VOCAB;
use crate::error::{NgsiError, Result};

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

    /// JSON-LD 1.1 Create Term Definition (section 4.2), for one term of the object `local`.
    fn define(&mut self, defs: &mut Definitions<'_>, term: &str) -> Result<()> {
        match defs.state.get(term) {
            Some(true) => return Ok(()),
            Some(false) => {
                return Err(NgsiError::InvalidContext(format!(
                    "cyclic IRI mapping: the definition of '{term}' depends on itself"
                )))
            }
            None => {}
        }
        defs.state.insert(term.to_owned(), false);
        static UNDEFINED: Value = Value::Null;
        let local = defs.local;
        let value = local.get(term).unwrap_or(&UNDEFINED);
        let result = self.define_value(defs, term, value);
        defs.state.insert(term.to_owned(), true);
        result
    }

    fn define_value(
        &mut self,
        defs: &mut Definitions<'_>,
        term: &str,
        value: &Value,
    ) -> Result<()> {
        let empty = Map::new();
        let (id, spec) = match value {
            Value::Null => {
                self.terms.remove(term);
                return Ok(());
            }
            Value::String(id) => (Some(id.as_str()), &empty),
            Value::Object(spec) => {
                let id = match spec.get("@reverse").or_else(|| spec.get("@id")) {
                    None => None,
                    Some(Value::Null) => {
                        self.terms.remove(term);
                        return Ok(());
                    }
                    Some(Value::String(id)) => Some(id.as_str()),
                    Some(other) => {
                        return Err(NgsiError::InvalidContext(format!(
                            "term '{term}': @id must be a string, not {other}"
                        )))
                    }
                };
                (id, spec)
            }
            other => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': a definition must be a string, an object or null, not {other}"
                )))
            }
        };

        let iri = match id {
            // Step 14: an @id equal to the term itself is ignored, the term is vocab-relative.
            Some(id) if id != term => {
                if has_keyword_form(id) && !is_keyword(id) {
                    // Reserved keyword form: JSON-LD ignores such a definition.
                    return Ok(());
                }
                if id == "@context" {
                    return Err(NgsiError::InvalidContext(format!(
                        "term '{term}' cannot alias @context"
                    )));
                }
                self.expand_iri(defs, id, true)?
            }
            _ if term.contains(':') => self.expand_iri(defs, term, true)?,
            _ => format!("{}{term}", self.vocab()),
        };
        if !is_keyword(&iri) && !is_absolute_iri(&iri) {
            return Err(NgsiError::InvalidContext(format!(
                "term '{term}': '{iri}' is not an IRI"
            )));
        }

        let type_mapping = match spec.get("@type") {
            None => None,
            Some(Value::String(t)) => Some(match t.as_str() {
                "@id" => TypeMapping::Id,
                "@vocab" => TypeMapping::Vocab,
                "@json" => TypeMapping::Json,
                "@none" => TypeMapping::None,
                other => {
                    let datatype = self.expand_iri(defs, other, true)?;
                    if !is_absolute_iri(&datatype) {
                        return Err(NgsiError::InvalidContext(format!(
                            "term '{term}': @type '{other}' is not an IRI"
                        )));
                    }
                    TypeMapping::Datatype(datatype)
                }
            }),
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': @type must be a string, not {other}"
                )))
            }
        };

        let containers = match spec.get("@container") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(c)) => vec![container(term, c)?],
            Some(Value::Array(cs)) => cs
                .iter()
                .map(|c| match c {
                    Value::String(c) => container(term, c),
                    other => Err(NgsiError::InvalidContext(format!(
                        "term '{term}': invalid @container {other}"
                    ))),
                })
                .collect::<Result<_>>()?,
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': invalid @container {other}"
                )))
            }
        };

        let scoped_context = match spec.get("@context") {
            None => false,
            Some(Value::Null | Value::Object(_) | Value::String(_) | Value::Array(_)) => true,
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': invalid scoped @context {other}"
                )))
            }
        };

        // JSON-LD 1.1 makes a term a prefix when its IRI ends with a gen-delim; Oxion applies
        // that to expanded definitions too, unless they say "@prefix": false.
        let may_be_prefix = !term.contains(':') && !term.contains('/') && !is_keyword(&iri);
        let prefix = match spec.get("@prefix") {
            Some(Value::Bool(explicit)) => *explicit && may_be_prefix,
            Some(other) => {
                return Err(NgsiError::InvalidContext(format!(
                    "term '{term}': @prefix must be true or false, not {other}"
                )))
            }
            None => may_be_prefix && iri.ends_with(is_gen_delim),
        };
        let protected = match spec.get("@protected") {
            Some(Value::Bool(p)) => *p,
            _ => defs.protected,
        };

        self.terms.insert(
            term.to_owned(),
            TermDefinition {
                iri,
                type_mapping,
                containers,
                prefix,
                protected,
                reverse: spec.contains_key("@reverse"),
                scoped_context,
            },
        );
        Ok(())
    }

    /// JSON-LD 1.1 IRI Expansion (section 5.2.2) while processing: terms of the object being
    /// processed are defined on demand, which is where cycles show up.
    fn expand_iri(
        &mut self,
        defs: &mut Definitions<'_>,
        value: &str,
        vocab: bool,
    ) -> Result<String> {
        if is_keyword(value) {
            return Ok(value.to_owned());
        }
        if let Some((prefix, suffix)) = split_compact_iri(value) {
            if defs.local.contains_key(prefix) {
                self.define(defs, prefix)?;
            }
            return Ok(match self.lookup(prefix) {
                Some(def) if !def.is_keyword_alias() => format!("{}{suffix}", def.iri),
                _ => value.to_owned(),
            });
        }
        if value.contains(':') || !vocab {
            return Ok(value.to_owned());
        }
        if defs.local.contains_key(value) {
            self.define(defs, value)?;
        }
        Ok(match self.lookup(value) {
            Some(def) => def.iri.clone(),
            None => format!("{}{value}", self.vocab()),
        })
    }
}

/// The object being processed and which of its terms are defined (true) or being defined
/// (false): the `defined` map of the JSON-LD algorithm.
struct Definitions<'l> {
    local: &'l Map<String, Value>,
    state: HashMap<String, bool>,
    protected: bool,
}

impl<'l> Definitions<'l> {
    fn new(local: &'l Map<String, Value>, protected: bool) -> Self {
        Self {
            local,
            state: HashMap::new(),
            protected,
        }
    }
}

fn container(term: &str, keyword: &str) -> Result<Container> {
    Container::from_keyword(keyword).ok_or_else(|| {
        NgsiError::InvalidContext(format!("term '{term}': invalid @container '{keyword}'"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn process(context: Value) -> Result<HashMap<String, TermDefinition>> {
        let mut p = Processor::new(None, &NoRemoteDocuments, 8);
        p.apply(&context)?;
        Ok(p.into_terms_and_vocab().0)
    }

    #[test]
    fn definitions_may_use_prefixes_defined_later_in_the_same_object() {
        let terms = process(json!({
            "name": "schema:name",
            "schema": "https://schema.org/"
        }))
        .expect("valid context");
        assert_eq!(terms["name"].iri(), "https://schema.org/name");
    }

    #[test]
    fn cyclic_definitions_are_rejected() {
        for context in [
            json!({"a": "b", "b": "a"}),
            json!({"a": "b:x", "b": "a:y"}),
            json!({"a": {"@id": "c"}, "c": {"@id": "a"}}),
        ] {
            let err = process(context).expect_err("cycle");
            assert!(
                matches!(&err, NgsiError::InvalidContext(m) if m.contains("cyclic")),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_shapes_are_invalid_context() {
        for context in [
            json!(42),
            json!({"a": 42}),
            json!({"a": {"@id": 1}}),
            json!({"a": {"@id": "https://x.org/a", "@container": "@bag"}}),
            json!({"@version": 1.0}),
            json!({"@vocab": 3}),
            json!([[{"a": "https://x.org/a"}]]),
        ] {
            assert!(
                matches!(process(context.clone()), Err(NgsiError::InvalidContext(_))),
                "{context}"
            );
        }
    }

    #[test]
    fn scoped_contexts_and_extra_keywords_are_accepted() {
        let terms = process(json!({
            "@version": 1.1,
            "@protected": true,
            "@base": "https://example.org/",
            "@language": "en",
            "address": {"@id": "https://schema.org/address", "@context": {"street": "https://schema.org/streetAddress"}},
            "@future": "ignored"
        }))
        .expect("valid context");
        assert!(terms["address"].has_scoped_context());
        assert!(terms["address"].is_protected());
        assert!(!terms.contains_key("street"));
    }

    #[test]
    fn remote_references_skip_the_core_context() {
        let context = json!([
            "https://example.org/a.jsonld",
            {"@import": "https://example.org/b.jsonld"},
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
        ]);
        assert_eq!(
            remote_references(&context),
            [
                "https://example.org/a.jsonld",
                "https://example.org/b.jsonld"
            ]
        );
    }
}
