//! Translating an [`EntityQuery`] into a MongoDB filter.
//!
//! The translation says whether it is *exact*. Exact filters decide the query in the database,
//! which then also sorts (creation order), skips, limits and counts. What MongoDB cannot express
//! with the same meaning as the NGSI-LD evaluator becomes a necessary condition only (every
//! match satisfies it, some non-matches may too), the translation is inexact, and the broker
//! finishes the query in Rust on the streamed, already narrowed and sorted candidates:
//!
//! - q terms with a dotted path (sub-attributes, `observedAt`...) or a `[member]` path, `~=`
//!   and `!~=` (Rust and PCRE regular expressions differ), order operators on text (they must
//!   not match Relationships), date/time literals or date-time-like strings (compared in time
//!   order, not as text), and VocabProperty values expanded through the @context: narrowed to
//!   entities having the attribute.
//! - geoQ: narrowed with `$geoIntersects` on the query's search envelope (2dsphere index),
//!   because MongoDB computes on the sphere while NGSI-LD distances are geodesic and the
//!   embedded store tests shapes on the plane; the exact relation is decided in Rust, so both
//!   backends return the same entities. `disjoint` and `near;minDistance` narrow by attribute.
//!   `near;maxDistance` narrows with its envelope too, not with `$near`/`$nearSphere`: those
//!   order results by distance (both stores keep creation order, so pages are stable) and
//!   MongoDB refuses them in `countDocuments`.
//! - the `geo_envelope` hint: narrowed like a geoQ's envelope, decided in Rust.
//!
//! Type expressions, ids, idPattern (a MongoDB `$regex`, as in Orion-LD), attrs, scopeQ and
//! q terms on attribute values with `==`, `!=`, ranges, lists and number comparisons are exact.

use geo::Rect;
use mongodb::bson::{doc, Bson, Document};
use ngsi_types::query::geo::GeoQuery;
use ngsi_types::query::q::{Condition, Expr, Operand, Operator, QueryTerm, Value};
use ngsi_types::query::scope::{ScopeExpr, ScopeLevel, ScopePattern};
use ngsi_types::query::type_expr::TypeNode;

use super::names::field;
use crate::store::{EntityFilter, EntityQuery, EntitySelector};

/// A MongoDB filter and whether it decides the query by itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    pub filter: Document,
    pub exact: bool,
}

impl Translation {
    fn exact(filter: Document) -> Self {
        Self {
            filter,
            exact: true,
        }
    }

    fn narrowing(filter: Document) -> Self {
        Self {
            filter,
            exact: false,
        }
    }

    fn all(parts: Vec<Translation>) -> Self {
        let exact = parts.iter().all(|p| p.exact);
        let mut docs: Vec<Document> = parts
            .into_iter()
            .map(|p| p.filter)
            .filter(|d| !d.is_empty())
            .collect();
        let filter = match docs.len() {
            0 => Document::new(),
            1 => docs.remove(0),
            _ => doc! { "$and": docs },
        };
        Self { filter, exact }
    }

    fn any(parts: Vec<Translation>) -> Self {
        let exact = parts.iter().all(|p| p.exact);
        if parts.iter().any(|p| p.filter.is_empty()) {
            // One alternative admits everything.
            return Self {
                filter: Document::new(),
                exact,
            };
        }
        let docs: Vec<Document> = parts.into_iter().map(|p| p.filter).collect();
        Self {
            filter: doc! { "$or": docs },
            exact,
        }
    }
}

/// The whole query: hints and the NGSI-LD filter.
pub fn translate(query: &EntityQuery) -> Translation {
    let mut parts = hints(query);
    if let Some(filter) = &query.filter {
        parts.push(entity_filter(filter));
    }
    Translation::all(parts)
}

/// Only the index hints (ids, types, attributes, geo envelope): what is left when MongoDB rejects the full
/// translation (a regular expression or a geometry it does not accept); the broker decides
/// the rest.
pub fn translate_hints(query: &EntityQuery) -> Translation {
    let mut t = Translation::all(hints(query));
    t.exact = false;
    t
}

fn hints(query: &EntityQuery) -> Vec<Translation> {
    let mut parts = Vec::new();
    if let Some(ids) = &query.ids {
        parts.push(Translation::exact(doc! { "_id": { "$in": ids } }));
    }
    if let Some(types) = &query.any_type {
        parts.push(Translation::exact(doc! { "types": { "$in": types } }));
    }
    if let Some(attrs) = &query.any_attribute {
        parts.push(Translation::exact(doc! { "attrs.n": { "$in": attrs } }));
    }
    if let Some((property, rect)) = &query.geo_envelope {
        // Narrowing only: the broker decides the envelope as the embedded store does
        // (`EntityQuery::matches`), on the plane.
        parts.push(envelope(property, *rect));
    }
    parts
}

fn entity_filter(f: &EntityFilter) -> Translation {
    let mut parts = Vec::new();
    if !f.selectors.is_empty() {
        parts.push(Translation::any(f.selectors.iter().map(selector).collect()));
    }
    if let Some(ids) = &f.ids {
        parts.push(Translation::exact(doc! { "_id": { "$in": ids } }));
    }
    if let Some(types) = &f.types {
        parts.push(type_node(types.node()));
    }
    if let Some(p) = &f.id_pattern {
        parts.push(Translation::exact(doc! { "_id": { "$regex": p.as_str() } }));
    }
    if let Some(scope) = &f.scope_q {
        parts.push(scope_expr(scope.expr()));
    }
    if let Some(q) = &f.q {
        parts.push(q_expr(q.expr()));
    }
    if let Some(g) = &f.geo_q {
        parts.push(geo(g));
    }
    Translation::all(parts)
}

fn selector(s: &EntitySelector) -> Translation {
    let mut parts = Vec::new();
    // GS CIM 009 5.2.33: id takes precedence over idPattern.
    if let Some(id) = &s.id {
        parts.push(Translation::exact(doc! { "_id": id }));
    } else if let Some(p) = &s.id_pattern {
        parts.push(Translation::exact(doc! { "_id": { "$regex": p.as_str() } }));
    }
    if let Some(t) = &s.types {
        parts.push(type_node(t.node()));
    }
    Translation::all(parts)
}

fn type_node(node: &TypeNode) -> Translation {
    match node {
        TypeNode::Any => Translation::exact(Document::new()),
        TypeNode::Type(t) => Translation::exact(doc! { "types": t }),
        TypeNode::And(v) => Translation::all(v.iter().map(type_node).collect()),
        TypeNode::Or(v) => Translation::any(v.iter().map(type_node).collect()),
    }
}

fn scope_expr(e: &ScopeExpr) -> Translation {
    match e {
        ScopeExpr::Term(p) => Translation::exact(doc! { "scopes": { "$regex": scope_regex(p) } }),
        ScopeExpr::And(v) => Translation::all(v.iter().map(scope_expr).collect()),
        ScopeExpr::Or(v) => Translation::any(v.iter().map(scope_expr).collect()),
    }
}

/// The scopes a pattern matches, as a regular expression (same rules as
/// `ScopePattern::matches`: a leading `/` is optional, `+` is one non-empty level, a trailing
/// `#` this level and every level below).
fn scope_regex(p: &ScopePattern) -> String {
    let mut re = String::from("^/?");
    for (i, level) in p.levels.iter().enumerate() {
        let sep = if i == 0 { "" } else { "/" };
        match level {
            ScopeLevel::Name(n) => {
                re.push_str(sep);
                re.push_str(&regex::escape(n));
            }
            ScopeLevel::AnyOne => {
                re.push_str(sep);
                re.push_str("[^/]+");
            }
            ScopeLevel::Descendants => {
                re.push_str(if i == 0 { ".*" } else { "(/.*)?" });
                break;
            }
        }
    }
    re.push('$');
    re
}

fn q_expr(e: &Expr) -> Translation {
    match e {
        Expr::Term(t) => q_term(t),
        Expr::And(v) => Translation::all(v.iter().map(q_expr).collect()),
        Expr::Or(v) => Translation::any(v.iter().map(q_expr).collect()),
    }
}

fn q_term(t: &QueryTerm) -> Translation {
    let name = &t.attribute.names[0];
    // Every term needs its attribute (clause 4.9: no target element, no match).
    let has_attribute = Translation::narrowing(doc! { "attrs.n": name });
    if t.attribute.names.len() > 1
        || !t.attribute.members.is_empty()
        || t.attribute.linked.is_some()
    {
        return has_attribute;
    }
    let path = format!("vals.{}", field(name));
    let (op, operand) = match &t.condition {
        Condition::Exists => return Translation::exact(doc! { path: { "$exists": true } }),
        Condition::Pattern { .. } => return has_attribute,
        Condition::Compare { op, operand } => (*op, operand),
    };
    if !t.vocab_values.is_empty() {
        return has_attribute;
    }
    let values: Vec<&Value> = match operand {
        Operand::Single(v) => vec![v],
        Operand::List(vs) => vs.iter().collect(),
        Operand::Range(lo, hi) => vec![lo, hi],
    };
    let Some(literals) = values
        .iter()
        .map(|v| literal(v, op.is_equality()))
        .collect::<Option<Vec<Bson>>>()
    else {
        return has_attribute;
    };
    let scalars = format!("{path}.s");
    let filter = match (op, operand) {
        (Operator::Equal, Operand::Single(_)) => doc! { scalars: literals[0].clone() },
        (Operator::Equal, Operand::List(_)) => doc! { scalars: { "$in": literals } },
        (Operator::Equal, Operand::Range(..)) => doc! {
            path: { "$elemMatch": { "s": { "$elemMatch": in_range(&literals) } } }
        },
        // Clause 4.9: `!=` holds when some instance exists and has no equal value.
        (Operator::Unequal, Operand::Single(_)) => doc! {
            path: { "$elemMatch": { "s": { "$ne": literals[0].clone() } } }
        },
        (Operator::Unequal, Operand::List(_)) => doc! {
            path: { "$elemMatch": { "s": { "$nin": literals } } }
        },
        (Operator::Unequal, Operand::Range(..)) => doc! {
            path: { "$elemMatch": { "s": { "$not": { "$elemMatch": in_range(&literals) } } } }
        },
        (op, Operand::Single(_)) => {
            let mongo_op = match op {
                Operator::Greater => "$gt",
                Operator::GreaterEq => "$gte",
                Operator::Less => "$lt",
                _ => "$lte",
            };
            doc! { scalars: { mongo_op: literals[0].clone() } }
        }
        // The parser admits lists and ranges with equality operators only.
        _ => return has_attribute,
    };
    Translation::exact(filter)
}

fn in_range(bounds: &[Bson]) -> Document {
    doc! { "$gte": bounds[0].clone(), "$lte": bounds[1].clone() }
}

/// A q literal as the BSON value it equals, when MongoDB compares it the way clause 4.9 does.
/// Text ordered with `<`/`>` is not (it would also match Relationship objects, which only
/// `==` and `!=` may), nor are date/time literals and date-time-like strings (compared in time
/// order).
fn literal(v: &Value, equality: bool) -> Option<Bson> {
    match v {
        Value::Number(n) => Some(Bson::Double(*n)),
        Value::Bool(b) => Some(Bson::Boolean(*b)),
        Value::Text(s) | Value::Uri(s) if equality && !looks_like_datetime(s) => {
            Some(Bson::String(s.clone()))
        }
        _ => None,
    }
}

fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 16 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T'
}

/// Widest search envelope (degrees) narrowed by the 2dsphere index: the edges of a wider box
/// are great circles too far from the parallels the envelope means.
const MAX_ENVELOPE_DEGREES: f64 = 20.0;

fn geo(g: &GeoQuery) -> Translation {
    match g.search_envelope() {
        Some(rect) => envelope(&g.geoproperty, rect),
        None => Translation::narrowing(doc! { "attrs.n": &g.geoproperty }),
    }
}

/// Entities whose `property` may meet the lon/lat rectangle (`$geoIntersects` on a slightly
/// larger box; a box too wide for that narrows to entities having the property).
fn envelope(property: &str, rect: Rect<f64>) -> Translation {
    let has_attribute = doc! { "attrs.n": property };
    let (w, h) = (rect.width(), rect.height());
    if w > MAX_ENVELOPE_DEGREES || h > MAX_ENVELOPE_DEGREES {
        return Translation::narrowing(has_attribute);
    }
    // A margin covers rounding and the bulge of great-circle edges between the corners.
    let margin = 0.02 * w.max(h) + 1e-6;
    let (min, max) = (rect.min(), rect.max());
    let west = (min.x - margin).max(-180.0);
    let east = (max.x + margin).min(180.0);
    let south = (min.y - margin).max(-89.9);
    let north = (max.y + margin).min(89.9);
    let ring = vec![
        vec![west, south],
        vec![east, south],
        vec![east, north],
        vec![west, north],
        vec![west, south],
    ];
    let path = format!("geo.{}", field(property));
    Translation::narrowing(doc! {
        path: { "$geoIntersects": { "$geometry": { "type": "Polygon", "coordinates": [ring] } } }
    })
}

#[cfg(test)]
mod tests;
