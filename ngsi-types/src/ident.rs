//! Lexical rules for identifiers: URIs (entity ids, relationship objects, datasetIds) and names
//! (entity types, attribute names). GS CIM 009 clause 4.6.2 and 4.6.4.

use crate::error::{NgsiError, Result};

/// Members an attribute can never be called, because they are members of the entity itself or
/// of every attribute (clause 4.6.2 and 5.2.4).
pub const RESERVED_ATTRIBUTE_NAMES: &[&str] = &[
    "id",
    "@id",
    "type",
    "@type",
    "scope",
    "@context",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "observedAt",
    "datasetId",
    "unitCode",
    "value",
    "object",
    "objectType",
    "languageMap",
    "vocab",
    "json",
    "valueList",
    "objectList",
    "expiresAt",
    // GS CIM 009 4.5.1: no core term of a non-reified property names an attribute (the
    // previous* members of PREVIOUS_VALUE_MEMBERS too).
    "instanceId",
];

/// The members that carry an attribute's previous value in notifications with `showChanges`
/// (clause 5.8.1): output only, never an attribute's name.
pub const PREVIOUS_VALUE_MEMBERS: &[&str] = &[
    "previousValue",
    "previousObject",
    "previousLanguageMap",
    "previousVocab",
    "previousJson",
    "previousValueList",
    "previousObjectList",
];

/// Characters that break the HTTP binding (query strings, paths) or JSON-LD when used in a name.
const FORBIDDEN_IN_NAMES: &[char] = &[
    '<', '>', '"', '\'', '=', ';', '(', ')', '[', ']', '{', '}', '|', '\\', '^', '`', '&', '?',
    '#', '/', '%', ',', '.',
];

/// True if `s` is an absolute URI per IETF RFC 3986 (IRIs allowed): a scheme, `:`, and a rest
/// without whitespace, control characters or characters RFC 3986 excludes.
pub fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !rest.is_empty()
        && !rest.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
                || !(c.is_ascii() || is_iri_char(c))
        })
}

/// True if a non-ASCII character may appear in an IRI (GS CIM 009 5.2.1: URIs include the IRIs
/// of IETF RFC 3987): the `ucschar` and `iprivate` ranges of its clause 2.2, which leave out
/// the noncharacters and the tag block, less the bidirectional formatting characters its
/// clause 4.1 forbids (an id with an override reads as another id).
fn is_iri_char(c: char) -> bool {
    let bidi_formatting = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}');
    let n = u32::from(c);
    let ucschar = matches!(n, 0xA0..=0xD7FF | 0xF900..=0xFDCF | 0xFDF0..=0xFFEF)
        || (n >= 0x10000 && (n & 0xFFFF) <= 0xFFFD && !(0xE0000..=0xE0FFF).contains(&n));
    let iprivate = matches!(n, 0xE000..=0xF8FF);
    !bidi_formatting && (ucschar || iprivate)
}

/// Checks that `value` is a URI, naming `member` in the error.
pub fn check_uri(member: &str, value: &str) -> Result<()> {
    if is_uri(value) {
        Ok(())
    } else {
        Err(NgsiError::InvalidUri {
            member: member.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// Checks an entity type or attribute name as a client wrote it (a term, a compact IRI or an
/// absolute IRI).
pub fn check_name(member: &str, name: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(NgsiError::InvalidName {
            member: member.to_owned(),
            value: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if name.is_empty() {
        return invalid("empty name");
    }
    if name.contains(':') {
        return if is_uri(name) {
            Ok(())
        } else {
            invalid("not a valid IRI or compact IRI")
        };
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || FORBIDDEN_IN_NAMES.contains(c))
    {
        return invalid(&format!(
            "character '{}' is not allowed",
            c.escape_default()
        ));
    }
    // GS CIM 009 4.6.2: a name starts with a letter (`name = unicodeLetter *nameChar`).
    if !name.chars().next().is_some_and(char::is_alphabetic) {
        return invalid("a name starts with a letter");
    }
    Ok(())
}

/// Checks an attribute name: a valid name that is not one of the reserved members.
pub fn check_attribute_name(name: &str) -> Result<()> {
    if RESERVED_ATTRIBUTE_NAMES.contains(&name) || PREVIOUS_VALUE_MEMBERS.contains(&name) {
        return Err(NgsiError::InvalidName {
            member: "attribute name".to_owned(),
            value: name.to_owned(),
            reason: "reserved name".to_owned(),
        });
    }
    check_name("attribute name", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_recognised() {
        for ok in [
            "urn:ngsi-ld:Vehicle:A4567",
            "https://example.org/a/b?c=d#e",
            "urn:ngsi-ld:Straße:1",
            "a+b.c-d:x",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            "", "Vehicle", ":x", "1urn:x", "urn:", "urn:a b", "urn:<x>", "ur n:x",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }

    #[test]
    fn iris_exclude_bidi_formatting_noncharacters_and_tags() {
        for ok in ['é', '\u{4E2D}', '\u{1F600}', '\u{E000}'] {
            assert!(is_uri(&format!("urn:x:a{ok}b")), "{}", ok.escape_unicode());
        }
        for bad in [
            '\u{202E}',
            '\u{200F}',
            '\u{FDD0}',
            '\u{FFFE}',
            '\u{1FFFF}',
            '\u{E0100}',
        ] {
            assert!(
                !is_uri(&format!("urn:x:a{bad}b")),
                "{}",
                bad.escape_unicode()
            );
        }
    }

    #[test]
    fn names_reject_forbidden_characters() {
        assert!(check_name("type", "Vehicle").is_ok());
        assert!(check_name("type", "schema:Vehicle").is_ok());
        assert!(check_name("type", "https://schema.org/Vehicle").is_ok());
        assert!(check_name("type", "plan_2-b").is_ok());
        for bad in [
            "", "a b", "a;b", "a(b", "a=b", "a\"b", "a.b", "a,b", "a/b", "a\u{7}b",
        ] {
            let err = check_name("type", bad).unwrap_err();
            assert!(matches!(err, NgsiError::InvalidName { .. }), "{bad}");
        }
    }

    #[test]
    fn names_start_with_a_letter() {
        for ok in [
            "speed",
            "Straße",
            "a_1",
            "ex:speed",
            "https://example.org/speed",
        ] {
            assert!(check_name("type", ok).is_ok(), "{ok}");
        }
        for bad in ["1speed", "@invalid", "_x"] {
            assert!(check_name("type", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reserved_attribute_names_are_refused() {
        assert!(check_attribute_name("speed").is_ok());
        assert!(check_attribute_name("location").is_ok());
        for r in ["id", "type", "@context", "createdAt", "observedAt", "value"] {
            let err = check_attribute_name(r).unwrap_err();
            assert!(err.to_string().contains("reserved"), "{r}");
        }
    }
}
