//! The lexical rules of JSON-LD 1.1 that decide what a string *is* before any context is
//! consulted: a keyword, something shaped like a keyword, a compact IRI or an absolute IRI.
//!
//! Kept apart from context processing because both directions (expansion and compaction) and
//! the processing algorithm ask the same questions and must get the same answers, or the
//! round trip `compact(expand(x)) == x` breaks.

/// The JSON-LD 1.1 keywords (JSON-LD 1.1 syntax, section 1.7).
const KEYWORDS: &[&str] = &[
    "@base",
    "@container",
    "@context",
    "@direction",
    "@graph",
    "@id",
    "@import",
    "@included",
    "@index",
    "@json",
    "@language",
    "@list",
    "@nest",
    "@none",
    "@prefix",
    "@propagate",
    "@protected",
    "@reverse",
    "@set",
    "@type",
    "@value",
    "@version",
    "@vocab",
];

/// Is `s` one of the JSON-LD keywords?
pub(crate) fn is_keyword(s: &str) -> bool {
    s.starts_with('@') && KEYWORDS.contains(&s)
}

/// Does `s` have the form of a keyword (`@` followed by ASCII letters)? JSON-LD 1.1 reserves
/// these for future keywords: terms of that form are ignored rather than defined.
pub(crate) fn has_keyword_form(s: &str) -> bool {
    s.len() > 1 && s.starts_with('@') && s[1..].bytes().all(|b| b.is_ascii_alphabetic())
}

/// A character after which an IRI can be cut to form a prefix (RFC 3987 gen-delims).
/// JSON-LD 1.1 only makes a simple term a prefix when its IRI ends with one of them.
pub(crate) fn is_gen_delim(c: char) -> bool {
    matches!(c, ':' | '/' | '?' | '#' | '[' | ']' | '@')
}

/// Splits `prefix:suffix` when `s` can be read as a compact IRI. Returns `None` for strings
/// without a colon, for blank node identifiers (`_:b0`) and for `scheme://...`, which JSON-LD
/// always reads as an absolute IRI whatever the context says.
pub(crate) fn split_compact_iri(s: &str) -> Option<(&str, &str)> {
    let (prefix, suffix) = s.split_once(':')?;
    if prefix.is_empty() || prefix == "_" || suffix.starts_with("//") {
        return None;
    }
    Some((prefix, suffix))
}

/// Is `s` an absolute IRI (RFC 3987: a scheme, a colon, anything)? Scheme: a letter followed
/// by letters, digits, `+`, `-` or `.`.
pub(crate) fn is_absolute_iri(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_keyword_forms() {
        assert!(is_keyword("@id"));
        assert!(!is_keyword("@foo"));
        assert!(has_keyword_form("@foo"));
        assert!(!has_keyword_form("@"));
        assert!(!has_keyword_form("@foo-bar"));
    }

    #[test]
    fn scheme_with_double_slash_is_never_a_compact_iri() {
        assert_eq!(split_compact_iri("schema:name"), Some(("schema", "name")));
        assert_eq!(split_compact_iri("https://schema.org/name"), None);
        assert_eq!(split_compact_iri("_:b0"), None);
        assert_eq!(split_compact_iri("speed"), None);
        assert_eq!(
            split_compact_iri("urn:ngsi-ld:Vehicle:1"),
            Some(("urn", "ngsi-ld:Vehicle:1"))
        );
    }

    #[test]
    fn absolute_iris_need_a_scheme() {
        assert!(is_absolute_iri("urn:ngsi-ld:Vehicle:1"));
        assert!(is_absolute_iri("https://example.org/a"));
        assert!(!is_absolute_iri("1abc:x"));
        assert!(!is_absolute_iri("speed"));
    }
}
