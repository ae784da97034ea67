//! The suite's fixtures: JSON files under `fixtures/` (entities in NGSI-LD normalized form with
//! short names, queries with the ids they must return), read into the model with the core
//! @context, and the generated fleet of cars that the evaluator agreement and the summaries
//! run on.

use std::sync::Arc;

use geo::{coord, Rect};
use ngsi_types::context::ActiveContext;
use ngsi_types::format::parse_entity;
use ngsi_types::query::geo::GeoQuery;
use ngsi_types::query::q::Query;
use ngsi_types::query::scope::ScopeQuery;
use ngsi_types::query::type_expr::{IdPattern, TypeExpr};
use ngsi_types::Entity;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::{EntityFilter, EntityQuery, EntitySelector};

/// An entity in normalized form, with short names of the core @context.
pub fn entity(value: Value) -> Entity {
    parse_entity(value, &ActiveContext::core()).expect("valid entity")
}

/// `fixtures/queries.json`: entities, and queries over them with their expected pages.
#[derive(Debug, Deserialize)]
pub struct QueryFixture {
    pub entities: Vec<Value>,
    pub cases: Vec<QueryCase>,
}

#[derive(Debug, Deserialize)]
pub struct QueryCase {
    pub name: String,
    pub query: QuerySpec,
    pub expect: Vec<String>,
    /// Expected count, for queries with `count`.
    #[serde(default)]
    pub total: Option<u64>,
}

/// An [`EntityQuery`] in short names (see the fixture's comment for the members).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QuerySpec {
    ids: Option<Vec<String>>,
    any_type: Option<Vec<String>>,
    any_attribute: Option<Vec<String>>,
    geo_envelope: Option<EnvelopeSpec>,
    #[serde(rename = "type")]
    types: Option<String>,
    id_pattern: Option<String>,
    q: Option<String>,
    scope_q: Option<String>,
    geo_q: Option<Value>,
    #[serde(default)]
    entities: Vec<SelectorSpec>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
    #[serde(default)]
    count: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeSpec {
    geoproperty: String,
    #[serde(rename = "box")]
    corners: [[f64; 2]; 2],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SelectorSpec {
    id: Option<String>,
    id_pattern: Option<String>,
    #[serde(rename = "type")]
    types: Option<String>,
}

pub fn queries() -> QueryFixture {
    serde_json::from_str(include_str!("fixtures/queries.json")).expect("queries.json")
}

fn type_expr(text: &str, ctx: &ActiveContext) -> TypeExpr {
    TypeExpr::parse(text).expect("valid type").expand(ctx)
}

fn id_pattern(text: &str) -> IdPattern {
    IdPattern::new(text).expect("valid idPattern")
}

impl QuerySpec {
    pub fn to_query(&self) -> EntityQuery {
        let ctx = ActiveContext::core();
        let expand = |names: &Vec<String>| -> Vec<String> {
            names
                .iter()
                .map(|n| ctx.expand_term(n).into_owned())
                .collect()
        };
        let filter = EntityFilter {
            selectors: self
                .entities
                .iter()
                .map(|s| EntitySelector {
                    id: s.id.clone(),
                    id_pattern: s.id_pattern.as_deref().map(id_pattern),
                    types: s.types.as_deref().map(|t| type_expr(t, &ctx)),
                })
                .collect(),
            // `ids` is given as the query's hint, which the stores also decide exactly.
            ids: None,
            types: self.types.as_deref().map(|t| type_expr(t, &ctx)),
            id_pattern: self.id_pattern.as_deref().map(id_pattern),
            q: self.q.as_deref().map(|q| q_filter(q, &ctx)),
            scope_q: self.scope_q.as_deref().map(scope_filter),
            geo_q: self.geo_q.as_ref().map(|g| geo_filter(g, &ctx)),
        };
        EntityQuery {
            ids: self.ids.clone(),
            any_type: self.any_type.as_ref().map(expand),
            any_attribute: self.any_attribute.as_ref().map(expand),
            geo_envelope: self.geo_envelope.as_ref().map(|e| {
                let [[west, south], [east, north]] = e.corners;
                let rect = Rect::new(coord! { x: west, y: south }, coord! { x: east, y: north });
                (ctx.expand_term(&e.geoproperty).into_owned(), rect)
            }),
            filter: (!filter.is_empty()).then(|| Arc::new(filter)),
            offset: self.offset,
            limit: self.limit.unwrap_or(usize::MAX),
            count: self.count,
        }
    }
}

pub fn q_filter(text: &str, ctx: &ActiveContext) -> Query {
    Query::parse(text).expect("valid q").expand(ctx)
}

pub fn scope_filter(text: &str) -> ScopeQuery {
    ScopeQuery::parse(text).expect("valid scopeQ")
}

pub fn geo_filter(value: &Value, ctx: &ActiveContext) -> GeoQuery {
    let mut g = GeoQuery::from_json(value).expect("valid geoQ");
    g.expand(ctx);
    g
}

/// `fixtures/evaluator.json`: q, scopeQ and geoQ expressions whose results the store must take
/// from the NGSI-LD evaluator, on [`cars`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluatorFixture {
    pub q: Vec<String>,
    pub scope_q: Vec<String>,
    pub geo_q: Vec<Value>,
}

pub fn evaluator() -> EvaluatorFixture {
    serde_json::from_str(include_str!("fixtures/evaluator.json")).expect("evaluator.json")
}

const BRANDS: [&str; 4] = ["BMW", "Audi", "Seat", "Fiat"];
const CITIES: [&str; 2] = ["Berlin", "Paris"];

/// 24 cars covering every kind of target value q compares: numbers, text, Relationships,
/// arrays, date-times as text, LanguageProperties, JSON objects, multiple instances with a
/// datasetId, sub-attributes, scopes, locations; a third are also Vehicles.
pub fn cars() -> Vec<Entity> {
    let mut out = Vec::new();
    for i in 0..24_i64 {
        let mut e = json!({
            "id": format!("urn:ngsi-ld:Car:{i:02}"),
            "type": if i % 3 == 0 { json!(["Car", "Vehicle"]) } else { json!("Car") },
            "speed": {"type": "Property", "value": i * 5},
            "brand": {"type": "Property", "value": BRANDS[(i % 4) as usize]},
            "owner": {"type": "Relationship", "object": format!("urn:ngsi-ld:Person:{}", i % 5)},
            "tags": {"type": "Property", "value": [format!("t{}", i % 3), "all"]},
            "seen": {"type": "Property", "value": format!("2024-01-{:02}T10:00:00Z", i + 1)},
            "name": {"type": "LanguageProperty", "languageMap": {"en": format!("car {i}"), "de": format!("Auto {i}")}},
            "address": {"type": "Property", "value": {"city": CITIES[(i % 2) as usize], "zip": i}},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.0 + 0.01 * i as f64, 48.0 + 0.005 * i as f64]}},
        });
        if i % 4 == 1 {
            e["speed"] = json!([
                {"type": "Property", "value": i * 5},
                {"type": "Property", "value": 999, "datasetId": "urn:ngsi-ld:Dataset:radar"}
            ]);
        }
        if i % 5 == 2 {
            if e["speed"].is_object() {
                e["speed"]["observedAt"] = json!("2024-06-01T12:00:00Z");
            }
            e["scope"] = json!(["/city/north", "/city/north/park"]);
        }
        if i % 7 == 3 {
            e.as_object_mut().expect("object").remove("brand");
            e["scope"] = json!("/farm");
        }
        out.push(entity(e));
    }
    out
}
