//! What a query asks of the store: index hints the store can use to avoid scanning, and the full
//! filter that decides every candidate.
//! PROVISIONAL: the filter becomes the typed ASTs of `ngsi-types` (q, scopeQ, geoQ, type
//! expressions, idPattern) once they land, so the MongoDB backend can translate them.

use std::fmt;
use std::sync::Arc;

use ngsi_types::Entity;

/// Predicate deciding whether a candidate entity matches.
pub type EntityPredicate = Arc<dyn Fn(&Entity) -> bool + Send + Sync>;

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
    /// The exact filter, applied to every candidate.
    pub filter: Option<EntityPredicate>,
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
            && self.filter.as_ref().is_none_or(|f| f(entity))
    }
}

impl fmt::Debug for EntityQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntityQuery")
            .field("ids", &self.ids)
            .field("any_type", &self.any_type)
            .field("any_attribute", &self.any_attribute)
            .field("geo_envelope", &self.geo_envelope)
            .field("filter", &self.filter.as_ref().map(|_| "<predicate>"))
            .field("offset", &self.offset)
            .field("limit", &self.limit)
            .field("count", &self.count)
            .finish()
    }
}
