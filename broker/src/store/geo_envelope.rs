//! The `geo_envelope` of an [`EntityQuery`] as the restriction it promises, decided the same
//! way by every backend whichever index chose the candidates: an entity is returned only if
//! the bounding rectangle of one of its geoproperty's instances meets the envelope (the
//! filter's geoQ, if any, then decides the exact relation).

use geo::{BoundingRect, Intersects};
use ngsi_types::{AttributeValue, Entity};

use super::EntityQuery;

pub fn within_envelope(query: &EntityQuery, entity: &Entity) -> bool {
    let Some((property, envelope)) = &query.geo_envelope else {
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
