//! One term definition of an active context: the IRI a short name stands for, plus the
//! coercion rules (`@type`, `@container`) that the payload readers and renderers need.
//!
//! NGSI-LD leans on these rules in a few places: `@type: @vocab` makes the values of
//! VocabProperties and of members such as `watchedAttributes` terms to expand (GS CIM 009
//! 4.5.20), `@type: @json` keeps JsonProperty values opaque, `@container: @list` marks the
//! ListProperty members and `@container: @language` the LanguageProperty map.

use super::iri::is_keyword;

/// How the values of a term are coerced (the `@type` of an expanded term definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeMapping {
    /// `@id`: string values are IRIs (Relationship objects, `datasetId`).
    Id,
    /// `@vocab`: string values are terms, expanded like attribute names.
    Vocab,
    /// `@json`: the value is a JSON literal, never expanded.
    Json,
    /// `@none`.
    None,
    /// A datatype IRI, already expanded (`DateTime` becomes `https://uri.etsi.org/ngsi-ld/DateTime`).
    Datatype(String),
}

/// One `@container` mapping of a term. A term may have several (`["@set", "@index"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    List,
    Set,
    Index,
    Language,
    Graph,
    Id,
    Type,
}

impl Container {
    pub(crate) fn from_keyword(keyword: &str) -> Option<Self> {
        Some(match keyword {
            "@list" => Self::List,
            "@set" => Self::Set,
            "@index" => Self::Index,
            "@language" => Self::Language,
            "@graph" => Self::Graph,
            "@id" => Self::Id,
            "@type" => Self::Type,
            _ => return None,
        })
    }
}

/// What a term means in an active context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermDefinition {
    pub(crate) iri: String,
    pub(crate) type_mapping: Option<TypeMapping>,
    pub(crate) containers: Vec<Container>,
    pub(crate) prefix: bool,
    pub(crate) protected: bool,
    pub(crate) reverse: bool,
    pub(crate) scoped_context: bool,
}

impl TermDefinition {
    /// The expanded IRI, or the keyword this term aliases (`id` is `@id` in the core context).
    pub fn iri(&self) -> &str {
        &self.iri
    }

    /// The `@type` coercion, if any.
    pub fn type_mapping(&self) -> Option<&TypeMapping> {
        self.type_mapping.as_ref()
    }

    /// The `@container` mappings (empty when the definition has none).
    pub fn containers(&self) -> &[Container] {
        &self.containers
    }

    pub fn has_container(&self, container: Container) -> bool {
        self.containers.contains(&container)
    }

    /// May this term be used as the prefix of a compact IRI (`schema:name`)?
    pub fn is_prefix(&self) -> bool {
        self.prefix
    }

    /// Was the term defined under `@protected: true` (every core context term is)?
    pub fn is_protected(&self) -> bool {
        self.protected
    }

    /// Is this a `@reverse` property? Such terms are never chosen when compacting.
    pub fn is_reverse(&self) -> bool {
        self.reverse
    }

    /// Did the definition carry a scoped `@context`? Oxion accepts but does not apply them.
    pub fn has_scoped_context(&self) -> bool {
        self.scoped_context
    }

    /// Does the term stand for a keyword rather than an IRI (`"id": "@id"`)?
    pub fn is_keyword_alias(&self) -> bool {
        is_keyword(&self.iri)
    }
}
