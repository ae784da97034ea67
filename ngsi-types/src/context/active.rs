//! The active context: the result of processing a request's @context, ready to expand the
//! short names of a payload or a query and to compact stored IRIs back for the response.
//!
//! Everything that can be decided once per context is decided at build time: the core terms
//! are merged in (GS CIM 009 5.5.7: the core context comes last, its terms win), and the
//! inverse maps used by compaction (IRI to preferred term, prefix IRI to prefix term) are
//! precomputed. Expanding a defined term or compacting a known IRI is then one hash lookup
//! and no allocation, which matters because every attribute of every entity goes through here.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::core::{core_context, is_core_context_url, CORE_CONTEXT_URL};
use super::iri::{is_gen_delim, split_compact_iri};
use super::processing::{NoRemoteDocuments, Processor, RemoteDocuments};
use super::term::{TermDefinition, TypeMapping};
use super::DEFAULT_MAX_DEPTH;
use crate::error::Result;

/// The result of processing a list of @contexts: term definitions ready for expansion and
/// compaction, with the core context applied last.
#[derive(Debug, Default)]
pub struct ActiveContext {
    terms: HashMap<String, TermDefinition>,
    /// IRI (or keyword) to the term compaction picks for it.
    reverse: HashMap<String, String>,
    /// Prefix IRIs ending with a gen-delim, to the prefix term compaction picks for them.
    prefixes: HashMap<String, String>,
    /// Prefix terms declared with `"@prefix": true` whose IRI ends elsewhere: (IRI, term).
    irregular_prefixes: Vec<(String, String)>,
    vocab: String,
    /// Top-level remote contexts the request named, other than the core context, in order.
    remote_urls: Vec<String>,
    /// Every remote context this one was built from, directly or through other contexts.
    dependencies: Vec<String>,
    /// Did the request carry inline definitions (an object in its @context)?
    inline: bool,
}

impl ActiveContext {
    /// The context of a request that brings no @context of its own: just the core context.
    pub fn core() -> Arc<ActiveContext> {
        static CORE: OnceLock<Arc<ActiveContext>> = OnceLock::new();
        CORE.get_or_init(|| Arc::new(Self::assemble(HashMap::new(), None)))
            .clone()
    }

    /// Builds a context from an inline @context (object or array of objects; no remote URL),
    /// with the core context applied last. Core context URLs are accepted anywhere; any other
    /// URL is an error: remote contexts are resolved by [`super::ContextResolver`].
    pub fn from_inline(value: &Value) -> Result<Arc<ActiveContext>> {
        Self::build(Some(value), &NoRemoteDocuments, DEFAULT_MAX_DEPTH).map(Arc::new)
    }

    /// Processes `context` (none: core only) with remote documents taken from `documents`.
    pub(crate) fn build(
        context: Option<&Value>,
        documents: &dyn RemoteDocuments,
        max_depth: usize,
    ) -> Result<ActiveContext> {
        let Some(context) = context else {
            return Ok(Self::assemble(HashMap::new(), None));
        };
        let mut processor = Processor::new(Some(&core_context().terms), documents, max_depth);
        processor.apply(context)?;
        let dependencies = processor.dependencies().to_vec();
        let (terms, vocab) = processor.into_terms_and_vocab();
        let mut active = Self::assemble(terms, vocab);
        active.dependencies = dependencies;
        let items: &[Value] = match context {
            Value::Array(items) => items,
            single => std::slice::from_ref(single),
        };
        for item in items {
            match item {
                Value::String(url) if is_core_context_url(url) => {}
                Value::String(url) => active.remote_urls.push(url.clone()),
                _ => active.inline = true,
            }
        }
        Ok(active)
    }

    /// Merges the core terms over the user terms and precomputes the inverse maps.
    fn assemble(mut terms: HashMap<String, TermDefinition>, user_vocab: Option<String>) -> Self {
        let core = core_context();
        for (term, definition) in &core.terms {
            terms.insert(term.clone(), definition.clone());
        }
        // A user @vocab governs the user's undefined terms; the core @vocab is the default.
        let vocab = user_vocab.unwrap_or_else(|| core.vocab.clone());

        let mut reverse: HashMap<String, String> = HashMap::new();
        let mut prefixes: HashMap<String, String> = HashMap::new();
        let mut irregular: HashMap<String, String> = HashMap::new();
        for (term, definition) in &terms {
            if !definition.reverse {
                prefer(&mut reverse, &definition.iri, term);
            }
            if definition.prefix {
                if definition.iri.ends_with(is_gen_delim) {
                    prefer(&mut prefixes, &definition.iri, term);
                } else {
                    prefer(&mut irregular, &definition.iri, term);
                }
            }
        }
        Self {
            terms,
            reverse,
            prefixes,
            irregular_prefixes: irregular.into_iter().collect(),
            vocab,
            ..Self::default()
        }
    }

    /// Expands an entity type, attribute name or vocab value to its IRI.
    ///
    /// A defined term gives its IRI (or the keyword it aliases); `prefix:suffix` with a
    /// defined prefix gives the prefix IRI followed by the suffix; absolute IRIs, keywords and
    /// blank nodes are returned unchanged; anything else is appended to `@vocab`.
    pub fn expand_term<'a>(&'a self, term: &'a str) -> Cow<'a, str> {
        if let Some(definition) = self.terms.get(term) {
            return Cow::Borrowed(&definition.iri);
        }
        if term.starts_with('@') {
            return Cow::Borrowed(term);
        }
        if let Some((prefix, suffix)) = split_compact_iri(term) {
            return match self.terms.get(prefix) {
                Some(definition) if !definition.is_keyword_alias() => {
                    Cow::Owned(format!("{}{suffix}", definition.iri))
                }
                _ => Cow::Borrowed(term),
            };
        }
        if term.contains(':') {
            return Cow::Borrowed(term);
        }
        Cow::Owned(format!("{}{term}", self.vocab))
    }

    /// Compacts an IRI for a response, in the order of JSON-LD 1.1 IRI Compaction: the
    /// preferred term (shortest, then lexicographically least), else the IRI relative to
    /// `@vocab` (`https://uri.etsi.org/ngsi-ld/default-context/speed` is `speed`), else the
    /// shortest compact IRI `prefix:suffix` if shorter than the IRI, else the IRI unchanged.
    /// Whatever it returns, [`Self::expand_term`] maps back to `iri`.
    pub fn compact_iri<'a>(&'a self, iri: &'a str) -> Cow<'a, str> {
        if let Some(term) = self.reverse.get(iri) {
            return Cow::Borrowed(term);
        }
        if let Some(relative) = iri.strip_prefix(self.vocab.as_str()) {
            // Expands back to `iri` exactly when nothing else claims it: not empty, not a
            // term, not a compact or absolute IRI, not a keyword.
            if !relative.is_empty()
                && !relative.contains(':')
                && !relative.starts_with('@')
                && !self.terms.contains_key(relative)
            {
                return Cow::Borrowed(relative);
            }
        }
        if let Some(compact) = self.compact_with_prefix(iri) {
            return Cow::Owned(compact);
        }
        Cow::Borrowed(iri)
    }

    fn compact_with_prefix(&self, iri: &str) -> Option<String> {
        let cuts = iri
            .char_indices()
            .filter(|(_, c)| is_gen_delim(*c))
            .map(|(i, c)| i + c.len_utf8())
            .filter_map(|end| Some((self.prefixes.get(&iri[..end])?, end)));
        let irregular = self
            .irregular_prefixes
            .iter()
            .filter(|(prefix_iri, _)| iri.starts_with(prefix_iri.as_str()))
            .map(|(prefix_iri, term)| (term, prefix_iri.len()));
        cuts.chain(irregular)
            .filter(|(_, end)| *end < iri.len())
            .map(|(term, end)| format!("{term}:{}", &iri[end..]))
            .filter(|candidate| candidate.len() < iri.len() && self.expand_term(candidate) == iri)
            .min_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)))
    }

    /// Expands the value of a VocabProperty, or of any member whose term has `@type: @vocab`:
    /// such a value is a term, resolved exactly like an attribute name.
    pub fn expand_vocab_value<'a>(&'a self, value: &'a str) -> Cow<'a, str> {
        self.expand_term(value)
    }

    /// The inverse of [`Self::expand_vocab_value`], for rendering VocabProperty values.
    pub fn compact_vocab_value<'a>(&'a self, iri: &'a str) -> Cow<'a, str> {
        self.compact_iri(iri)
    }

    /// Expands a value coerced with `@type: @id` (a Relationship object, a `datasetId`): only
    /// compact IRIs with a defined prefix change; terms and `@vocab` do not apply to IRIs.
    pub fn expand_iri_value<'a>(&'a self, value: &'a str) -> Cow<'a, str> {
        match split_compact_iri(value) {
            Some((prefix, suffix)) => match self.terms.get(prefix) {
                Some(definition) if definition.prefix => {
                    Cow::Owned(format!("{}{suffix}", definition.iri))
                }
                _ => Cow::Borrowed(value),
            },
            None => Cow::Borrowed(value),
        }
    }

    /// The definition of `term`, if the context defines it (core terms included).
    pub fn term_definition(&self, term: &str) -> Option<&TermDefinition> {
        self.terms.get(term)
    }

    /// The definition of the term an expanded IRI compacts to, to find the coercion rules of
    /// a stored attribute (`@type: @vocab`, `@container: @list`, ...).
    pub fn definition_of_iri(&self, iri: &str) -> Option<&TermDefinition> {
        self.terms.get(self.reverse.get(iri)?)
    }

    /// The `@vocab` that undefined terms expand against.
    pub fn vocab(&self) -> &str {
        &self.vocab
    }

    /// Does this context hold nothing but the core context?
    pub fn is_core_only(&self) -> bool {
        !self.inline && self.remote_urls.is_empty()
    }

    /// About how many bytes this context holds in memory: every term with its definition and
    /// the reverse maps compaction uses. An estimate for the resolver's cache budget.
    pub fn approximate_bytes(&self) -> usize {
        // A HashMap slot with its String key, beyond the key's text; a definition beyond its
        // IRI's text.
        const SLOT: usize = 48;
        let definition = std::mem::size_of::<TermDefinition>();
        let terms: usize = self
            .terms
            .iter()
            .map(|(term, d)| {
                let datatype = match &d.type_mapping {
                    Some(TypeMapping::Datatype(iri)) => iri.len(),
                    _ => 0,
                };
                SLOT + term.len() + definition + d.iri.len() + datatype
            })
            .sum();
        let pairs = |map: &HashMap<String, String>| -> usize {
            map.iter().map(|(k, v)| 2 * SLOT + k.len() + v.len()).sum()
        };
        let lists: usize = self
            .remote_urls
            .iter()
            .chain(&self.dependencies)
            .chain(self.irregular_prefixes.iter().flat_map(|(a, b)| [a, b]))
            .map(|s| SLOT + s.len())
            .sum();
        std::mem::size_of::<Self>()
            + terms
            + pairs(&self.reverse)
            + pairs(&self.prefixes)
            + lists
            + self.vocab.len()
    }

    /// The top-level remote contexts the request named (core context URLs excluded).
    pub fn remote_urls(&self) -> &[String] {
        &self.remote_urls
    }

    /// Was this context built, directly or indirectly, from the remote context at `url`?
    pub fn depends_on(&self, url: &str) -> bool {
        self.dependencies.iter().any(|dependency| dependency == url)
    }

    /// The URL to put in a response's `Link` header (GS CIM 009 6.3.5), when one URL says it
    /// all: the core context URL for a core-only context, or the single remote context the
    /// request named. `None` when the context has inline parts or several URLs; the broker
    /// then serves it from `/jsonldContexts` and links to that.
    pub fn link_url(&self) -> Option<&str> {
        if self.inline {
            return None;
        }
        match self.remote_urls.as_slice() {
            [] => Some(CORE_CONTEXT_URL),
            [single] => Some(single),
            _ => None,
        }
    }
}

/// Records `term` for `iri` unless a better term is already there: JSON-LD term selection
/// prefers the shortest term, then the lexicographically least.
fn prefer(map: &mut HashMap<String, String>, iri: &str, term: &str) {
    match map.get_mut(iri) {
        Some(current) => {
            if (term.len(), term) < (current.len(), current.as_str()) {
                *current = term.to_owned();
            }
        }
        None => {
            map.insert(iri.to_owned(), term.to_owned());
        }
    }
}
