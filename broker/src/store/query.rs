//! What a query asks of the store: index hints the store can use to avoid scanning, and the exact
//! filter that decides every candidate.
//!
//! The filter is data, the typed model of `ngsi-types` (`EntityFilter`: selectors, type
//! expressions, idPattern, q, scopeQ, geoQ), so that a backend can translate it into its own
//! query language (the MongoDB backend does) or evaluate it on decoded entities (the embedded
//! store does). HTTP queries and periodic subscriptions build it alike.

use std::sync::Arc;

use geo::{BoundingRect, Intersects};
pub use ngsi_types::query::filter::{EntityFilter, EntitySelector};
use ngsi_types::{AttributeValue, Entity};

/// A query over one tenant's entities.
#[derive(Debug, Clone, Default)]
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
            && self.within_envelope(entity)
            && self.filter.as_ref().is_none_or(|f| f.matches(entity))
    }

    /// The `geo_envelope` restriction, decided the same way by every backend whichever index
    /// chose the candidates: the bounding rectangle of one of the geoproperty's instances
    /// meets the envelope (the filter's geoQ, if any, then decides the exact relation).
    fn within_envelope(&self, entity: &Entity) -> bool {
        let Some((property, envelope)) = &self.geo_envelope else {
            return true;
        };
        entity
            .attributes
            .get(property)
            .into_iter()
            .flatten()
            .any(|instance| match &instance.value {
                AttributeValue::GeoProperty(g) => g
                    .as_geo()
                    .bounding_rect()
                    .is_some_and(|rect| rect.intersects(envelope)),
                _ => false,
            })
    }

    /// The entities a filter matches, with the index hints it implies (ids, types, the
    /// geo-query's search envelope); every page from the start, uncounted.
    pub fn filtered(filter: EntityFilter) -> Self {
        Self {
            ids: filter.only_ids(),
            any_type: filter.any_of_types(),
            geo_envelope: filter
                .geo_q
                .as_ref()
                .and_then(|g| Some((g.geoproperty.clone(), g.search_envelope()?))),
            filter: (!filter.is_empty()).then(|| Arc::new(filter)),
            ..Self::default()
        }
    }
}
