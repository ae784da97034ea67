//! The GeoJSON representation (clause 4.5.17, `Accept: application/geo+json`): each entity a
//! Feature whose geometry is one GeoProperty and whose properties are the rest of the entity.

use serde_json::{Map, Value};

use super::render::{render_entity, RenderOptions};
use crate::attribute::AttributeValue;
use crate::context::ActiveContext;
use crate::entity::Entity;

/// Renders an entity as a GeoJSON Feature. `geometry_property` is the expanded name of the
/// GeoProperty to use as geometry (`location` by default, clause 6.3.15); a missing one gives
/// `"geometry": null`, as RFC 7946 allows.
pub fn render_feature(
    entity: &Entity,
    ctx: &ActiveContext,
    opts: &RenderOptions<'_>,
    geometry_property: &str,
) -> Value {
    feature_of(entity, render_entity(entity, ctx, opts), geometry_property)
}

/// The Feature of `entity` whose properties are `properties`, the entity already rendered.
pub(crate) fn feature_of(
    entity: &Entity,
    mut properties: Map<String, Value>,
    geometry_property: &str,
) -> Value {
    let geometry = entity
        .attribute(geometry_property)
        .and_then(|a| match &a.value {
            AttributeValue::GeoProperty(g) => Some(g.to_geojson()),
            _ => None,
        })
        .unwrap_or(Value::Null);
    let id = properties
        .shift_remove("id")
        .unwrap_or_else(|| Value::String(entity.id.clone()));
    let mut feature = Map::with_capacity(4);
    feature.insert("id".into(), id);
    feature.insert("type".into(), Value::String("Feature".into()));
    feature.insert("geometry".into(), geometry);
    feature.insert("properties".into(), Value::Object(properties));
    Value::Object(feature)
}

/// Renders a list of entities as a GeoJSON FeatureCollection.
pub fn render_feature_collection<'e>(
    entities: impl IntoIterator<Item = &'e Entity>,
    ctx: &ActiveContext,
    opts: &RenderOptions<'_>,
    geometry_property: &str,
) -> Value {
    let features: Vec<Value> = entities
        .into_iter()
        .map(|e| render_feature(e, ctx, opts, geometry_property))
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features })
}
