//! Entry points for the fuzz targets (`fuzz/`, run with `cargo fuzz`), and the replay of their
//! committed corpus as a unit test, so CI checks every input that was ever interesting.
//!
//! Each target feeds arbitrary bytes to one parser the HTTP API exposes and checks more than
//! "does not panic" where it can: a query that parses prints back to text that parses to the
//! same query (subscriptions store `q` and `scopeQ` as text), and evaluating it against an
//! entity does not panic either.

use std::sync::{Arc, OnceLock};

use crate::context::ActiveContext;
use crate::query::geo::{GeoQuery, GeoQueryParams};
use crate::query::q::Query;
use crate::query::scope::ScopeQuery;
use crate::query::type_expr::TypeExpr;
use crate::Entity;

/// One fuzz target: arbitrary bytes in, a panic when an invariant breaks.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` have
/// them.
pub const TARGETS: &[(&str, Target)] = &[
    ("q", q),
    ("scope_q", scope_q),
    ("geo_q", geo_q),
    ("type_expr", type_expr),
    ("entity", entity),
];

fn core() -> &'static Arc<ActiveContext> {
    static CORE: OnceLock<Arc<ActiveContext>> = OnceLock::new();
    CORE.get_or_init(ActiveContext::core)
}

/// An entity with an attribute of every kind, for evaluating parsed queries.
fn sample() -> &'static Entity {
    static SAMPLE: OnceLock<Entity> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let body = serde_json::json!({
            "id": "urn:ngsi-ld:Vehicle:fuzz",
            "type": "Vehicle",
            "scope": ["/Madrid/Gran_Via", "/Spain"],
            "speed": {"type": "Property", "value": 42.5, "observedAt": "2024-01-01T00:00:00Z",
                      "accuracy": {"type": "Property", "value": 0.5}},
            "brand": {"type": "Property", "value": "Mercedes"},
            "tags": {"type": "Property", "value": ["a", "b", {"c": [1, 2]}]},
            "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
            "name": {"type": "LanguageProperty", "languageMap": {"en": "car", "fr": "voiture"}},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]}}
        });
        crate::format::parse_entity(body, core()).unwrap_or_else(|e| {
            panic!("the fuzzing sample entity must parse: {e}");
        })
    })
}

/// Parses `data` as UTF-8 text with `parse`; a value that parses must print back to text that
/// parses to the same value. The parsed value, if any.
fn round_trip<T, E>(what: &str, data: &[u8], parse: impl Fn(&str) -> Result<T, E>) -> Option<T>
where
    T: PartialEq + std::fmt::Debug + std::fmt::Display,
    E: std::fmt::Display,
{
    let text = std::str::from_utf8(data).ok()?;
    let value = parse(text).ok()?;
    let printed = value.to_string();
    let again = parse(&printed)
        .unwrap_or_else(|e| panic!("{what} {text:?} printed as {printed:?}, which fails: {e}"));
    assert_eq!(again, value, "{what} {text:?} printed as {printed:?}");
    Some(value)
}

/// `q` (clause 4.9): parse, print, parse again to the same query, evaluate.
pub fn q(data: &[u8]) {
    if let Some(query) = round_trip("q", data, Query::parse) {
        let _ = query.expand(core()).matches(sample());
    }
}

/// `scopeQ` (clause 4.19): parse, print, parse again to the same query, evaluate.
pub fn scope_q(data: &[u8]) {
    if let Some(query) = round_trip("scopeQ", data, ScopeQuery::parse) {
        let _ = query.matches(sample());
    }
}

/// A geo-query (clause 4.10) from its HTTP parameters: the input's lines are `georel`,
/// `geometry`, `coordinates` and `geoproperty`. A parsed one is evaluated.
pub fn geo_q(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(4, '\n');
    let params = GeoQueryParams {
        georel: lines.next(),
        geometry: lines.next(),
        coordinates: lines.next(),
        geoproperty: lines.next(),
    };
    if let Ok(Some(mut query)) = GeoQuery::from_params(params) {
        query.expand(core());
        let _ = query.to_json();
        let filter = crate::query::filter::EntityFilter {
            geo_q: Some(query),
            ..Default::default()
        };
        let _ = filter.matches(sample());
    }
}

/// An entity type selection (clause 4.17): parse, print, parse again, evaluate.
pub fn type_expr(data: &[u8]) {
    if let Some(expr) = round_trip("type", data, TypeExpr::parse) {
        let _ = expr.expand(core()).matches(sample());
    }
}

/// An entity body (clause 5.6.1 with 4.5): JSON, then the NGSI-LD model under the core context;
/// one that parses renders back without panicking.
pub fn entity(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(entity) = crate::format::parse_entity(body, core()) {
        for format in [
            crate::format::Format::Normalized,
            crate::format::Format::Concise,
            crate::format::Format::KeyValues,
        ] {
            let options = crate::format::RenderOptions {
                format,
                sys_attrs: true,
                ..Default::default()
            };
            let _ = crate::format::render_entity(&entity, core(), &options);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every committed corpus input of every target, replayed.
    #[test]
    fn the_fuzz_corpus_replays_cleanly() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        let mut replayed = 0;
        for (name, target) in TARGETS {
            let dir = root.join(name);
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("the corpus of {name} at {}: {e}", dir.display()));
            for entry in entries.flatten() {
                let data = std::fs::read(entry.path()).unwrap_or_default();
                target(&data);
                replayed += 1;
            }
        }
        assert!(
            replayed >= TARGETS.len() * 3,
            "only {replayed} corpus inputs"
        );
    }
}
