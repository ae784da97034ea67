//! Where the @context of a request comes from, and the key its processed form is cached under.
//!
//! GS CIM 009 6.3.5: a request with `Content-Type: application/json` (or a GET) names its
//! @context in a `Link` header; one with `application/ld+json` embeds it as the `@context`
//! member of the payload; one with neither uses the core context alone.

use serde_json::Value;

use super::core::is_core_context_url;

/// The @context a request brings.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextSource {
    /// No @context: the core context alone.
    Core,
    /// The URL of a `Link` header with rel `http://www.w3.org/ns/json-ld#context`.
    Link(String),
    /// The `@context` member of the payload: an object, a URL, or an array mixing both.
    Inline(Value),
}

impl ContextSource {
    /// The key the resolved context is cached under: the URL for a `Link` header, the compact
    /// JSON text for an inline @context (two payloads with the same @context text share one
    /// processed context). Every core-only source has the empty key.
    pub fn cache_key(&self) -> String {
        match self {
            Self::Core => String::new(),
            Self::Link(url) if is_core_context_url(url) => String::new(),
            Self::Link(url) => url.clone(),
            Self::Inline(Value::String(url)) if is_core_context_url(url) => String::new(),
            Self::Inline(Value::String(url)) => url.clone(),
            Self::Inline(value) => value.to_string(),
        }
    }

    /// The @context value to process, `None` for the core context alone.
    pub(crate) fn context_value(&self) -> Option<Value> {
        match self {
            Self::Core => None,
            Self::Link(url) => Some(Value::String(url.clone())),
            Self::Inline(value) => Some(value.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_link_and_an_inline_url_share_a_key_and_core_sources_share_the_empty_key() {
        let url = "https://example.org/ctx.jsonld";
        assert_eq!(
            ContextSource::Link(url.into()).cache_key(),
            ContextSource::Inline(json!(url)).cache_key()
        );
        assert_eq!(ContextSource::Core.cache_key(), "");
        assert_eq!(
            ContextSource::Link(
                "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld".into()
            )
            .cache_key(),
            ""
        );
        assert_eq!(
            ContextSource::Inline(json!({"a": "https://x.org/a"})).cache_key(),
            r#"{"a":"https://x.org/a"}"#
        );
    }
}
