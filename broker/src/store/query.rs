//! What a query asks of the store: index hints the store can use to avoid scanning, and the exact
//! filter that decides every candidate.
//!
//! The filter is data, the typed ASTs of `ngsi-types` (type expressions, idPattern, q, scopeQ,
//! geoQ), so that a backend can translate it into its own query language (the MongoDB backend
//! does) or evaluate it on decoded entities (the embedded store does). Only internal callers
//! whose condition has no NGSI-LD syntax (a periodic subscription's selectors) add a Rust
//! predicate, which every backend evaluates in the broker.

use std::fmt;
use std::sync::Arc;

use ngsi_types::query::geo::GeoQuery;
use ngsi_types::query::q::Query;
use ngsi_types::query::scope::ScopeQuery;
use ngsi_types::query::type_expr::{IdPattern, TypeExpr};
use ngsi_types::Entity;

/// Predicate deciding whether a candidate entity matches.
pub type EntityPredicate = Arc<dyn Fn(&Entity) -> bool + Send + Sync>;

/// One EntitySelector of a Query body (clause 5.2.33): its members must all hold; the
/// selectors of a Query are alternatives.
#[derive(Debug, Clone)]
pub struct EntitySelector {
    pub id: Option<String>,
    pub id_pattern: Option<IdPattern>,
    pub types: Option<TypeExpr>,
}

impl EntitySelector {
    pub fn matches(&self, e: &Entity) -> bool {
        self.id.as_ref().is_none_or(|id| *id == e.id)
            && self.id_pattern.as_ref().is_none_or(|p| p.matches(e))
            && self.types.as_ref().is_none_or(|t| t.matches(e))
    }
}

/// The exact NGSI-LD filter of a query (clause 5.7.2): every present part must hold. Names in
/// it are expanded.
#[derive(Debug, Clone, Default)]
pub struct EntityFilter {
    /// Alternatives (a Query body with several EntitySelectors); empty means no restriction.
    pub selectors: Vec<EntitySelector>,
    pub types: Option<TypeExpr>,
    pub id_pattern: Option<IdPattern>,
    pub q: Option<Query>,
    pub scope_q: Option<ScopeQuery>,
    pub geo_q: Option<GeoQuery>,
}

impl EntityFilter {
    pub fn matches(&self, e: &Entity) -> bool {
        (self.selectors.is_empty() || self.selectors.iter().any(|s| s.matches(e)))
            && self.types.as_ref().is_none_or(|t| t.matches(e))
            && self.id_pattern.as_ref().is_none_or(|p| p.matches(e))
            && self.scope_q.as_ref().is_none_or(|s| s.matches(e))
            && self.q.as_ref().is_none_or(|q| q.matches(e))
            && self.geo_q.as_ref().is_none_or(|g| g.matches_entity(e))
    }

    /// True if the filter restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.selectors.is_empty()
            && self.types.is_none()
            && self.id_pattern.is_none()
            && self.q.is_none()
            && self.scope_q.is_none()
            && self.geo_q.is_none()
    }
}

/// A query over one tenant's entities.
#[derive(Clone, Default)]
pub struct EntityQuery {
    /// Only these ids (`id` parameter).
    pub ids: Option<Vec<String>>,
    /// Only entities having at least one of these expanded types (an index hint: the filter
    /// still decides type expressions with AND).
    pub any_type: Option<Vec<String>>,
    /// Only entities having at least one of these expanded attributes (`attrs`).
    pub any_attribute: Option<Vec<String>>,
    /// Only entities whose `geoproperty` (expanded) intersects this lon/lat rectangle (from
    /// `GeoQuery::search_envelope`).
    pub geo_envelope: Option<(String, geo::Rect<f64>)>,
    /// The exact NGSI-LD filter, applied to every candidate.
    pub filter: Option<Arc<EntityFilter>>,
    /// A further condition with no NGSI-LD syntax, always evaluated in the broker.
    pub predicate: Option<EntityPredicate>,
    /// Skip this many matches (`offset`).
    pub offset: usize,
    /// Return at most this many (`limit`); 0 returns none (useful with `count`).
    pub limit: usize,
    /// Also count all matches.
    pub count: bool,
}

impl EntityQuery {
    /// True if the entity satisfies every part of the query (hints included).
    pub fn matches(&self, entity: &Entity) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&entity.id))
            && self
                .any_type
                .as_ref()
                .is_none_or(|types| types.iter().any(|t| entity.has_type(t)))
            && self
                .any_attribute
                .as_ref()
                .is_none_or(|attrs| attrs.iter().any(|a| entity.attributes.contains_key(a)))
            && self.filter.as_ref().is_none_or(|f| f.matches(entity))
            && self.predicate.as_ref().is_none_or(|f| f(entity))
    }
}

impl fmt::Debug for EntityQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntityQuery")
            .field("ids", &self.ids)
            .field("any_type", &self.any_type)
            .field("any_attribute", &self.any_attribute)
            .field("geo_envelope", &self.geo_envelope)
            .field("filter", &self.filter)
            .field("predicate", &self.predicate.as_ref().map(|_| "<predicate>"))
            .field("offset", &self.offset)
            .field("limit", &self.limit)
            .field("count", &self.count)
            .finish()
    }
}
