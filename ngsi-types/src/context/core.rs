//! The NGSI-LD core @context, shipped inside the crate.
//!
//! GS CIM 009 Annex B defines the core @context and clause 5.5.7 makes every request use it,
//! whatever the client sends, as the *last* context, so that its terms cannot be redefined. A
//! broker that fetched it over the network would depend on uri.etsi.org being up for every
//! request, so the v1.8 document is compiled in with `include_str!`.
//!
//! Provenance of `ngsi-ld-core-context-v1.8.jsonld`: the document ETSI publishes at
//! `https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld`, reproduced byte for byte
//! (CRLF line endings and the original indentation included, 10 960 bytes) as mirrored in
//! FIWARE Orion-LD's `ldcontexts/` folder and in other public repositories. It is data, not
//! code: do not reformat it, clients compare what `/jsonldContexts` serves with ETSI's copy.
//!
//! Requests may name older core context URLs (v1.3 to v1.7, or the unversioned one); they are
//! recognised as "the core context" and never fetched. Oxion always applies v1.8, which is a
//! superset of the terms the older versions define.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::processing::{NoRemoteDocuments, Processor};
use super::term::TermDefinition;

/// The URL of the core context this crate ships (v1.8).
pub const CORE_CONTEXT_URL: &str =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

/// Every URL that names the core context. None of them is ever fetched.
pub const CORE_CONTEXT_URLS: &[&str] = &[
    CORE_CONTEXT_URL,
    // GS CIM 009 v1.9.1 clause 4.4 names this one; it is read as the document shipped here.
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.5.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
];

/// The text of the core context document, exactly as ETSI publishes it.
pub const CORE_CONTEXT_DOCUMENT: &str = include_str!("ngsi-ld-core-context-v1.8.jsonld");

/// Does `url` name the NGSI-LD core context (any version)?
pub fn is_core_context_url(url: &str) -> bool {
    CORE_CONTEXT_URLS.contains(&url)
}

/// The core context document parsed as JSON (`{"@context": {...}}`), parsed once.
pub fn core_context_json() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        serde_json::from_str(CORE_CONTEXT_DOCUMENT)
            .expect("the bundled core context is valid JSON (checked by a unit test)")
    })
}

/// The processed core context: its term definitions and its `@vocab`.
#[derive(Debug)]
pub(crate) struct CoreContext {
    pub(crate) terms: HashMap<String, TermDefinition>,
    pub(crate) vocab: String,
}

/// The core context, processed once per process.
pub(crate) fn core_context() -> &'static CoreContext {
    static CORE: OnceLock<CoreContext> = OnceLock::new();
    CORE.get_or_init(|| {
        let mut processor = Processor::new(None, &NoRemoteDocuments, 1);
        processor
            .apply(&core_context_json()["@context"])
            .expect("the bundled core context is a valid JSON-LD context (checked by a unit test)");
        let (terms, vocab) = processor.into_terms_and_vocab();
        CoreContext {
            terms,
            vocab: vocab.expect("the core context defines @vocab"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::term::{Container, TypeMapping};
    use crate::context::DEFAULT_VOCAB;

    #[test]
    fn bundled_document_is_the_etsi_artifact() {
        assert_eq!(CORE_CONTEXT_DOCUMENT.len(), 10_960);
        assert!(CORE_CONTEXT_DOCUMENT.contains("\r\n"));
        let context = core_context_json()["@context"]
            .as_object()
            .expect("@context member is an object");
        // 184 members: @version, @protected, @vocab and 181 terms.
        assert_eq!(context.len(), 184);
        assert_eq!(context["@protected"], Value::Bool(true));
    }

    #[test]
    fn core_terms_are_processed() {
        let core = core_context();
        assert_eq!(core.vocab, DEFAULT_VOCAB);
        assert_eq!(core.terms.len(), 181);
        assert_eq!(core.terms["id"].iri(), "@id");
        assert_eq!(
            core.terms["location"].iri(),
            "https://uri.etsi.org/ngsi-ld/location"
        );
        assert_eq!(core.terms["object"].type_mapping(), Some(&TypeMapping::Id));
        assert_eq!(
            core.terms["observedAt"].type_mapping(),
            Some(&TypeMapping::Datatype(
                "https://uri.etsi.org/ngsi-ld/DateTime".into()
            ))
        );
        assert!(core.terms["coordinates"].has_container(Container::List));
        assert!(core.terms["languageMap"].has_container(Container::Language));
        assert_eq!(core.terms["json"].type_mapping(), Some(&TypeMapping::Json));
        assert_eq!(
            core.terms["vocab"].type_mapping(),
            Some(&TypeMapping::Vocab)
        );
        // A term whose @id is itself falls back to @vocab (JSON-LD 1.1, create term definition).
        assert_eq!(
            core.terms["attributeCount"].iri(),
            format!("{DEFAULT_VOCAB}attributeCount")
        );
        assert!(core.terms["ngsi-ld"].is_prefix());
        assert!(core.terms.values().all(TermDefinition::is_protected));
    }

    #[test]
    fn older_core_urls_are_the_core_context() {
        assert!(is_core_context_url(
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld"
        ));
        assert!(is_core_context_url(
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
        ));
        assert!(!is_core_context_url("https://example.org/context.jsonld"));
    }
}
