//! GeoJSON geometries (IETF RFC 7946) as GeoProperty values: parsing, validation, rendering.
//! PLACEHOLDER: the geo work replaces this file; the public signatures stay.

use serde_json::Value;

use crate::error::{NgsiError, Result};

/// A validated GeoJSON geometry (Point, MultiPoint, LineString, MultiLineString, Polygon,
/// MultiPolygon), in WGS84 longitude/latitude.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    inner: geo::Geometry<f64>,
}

impl Geometry {
    /// Parses and validates a GeoJSON geometry object; `member` names it in errors.
    pub fn from_geojson(member: &str, value: &Value) -> Result<Self> {
        let coords = value
            .get("coordinates")
            .and_then(Value::as_array)
            .and_then(|c| Some((c.first()?.as_f64()?, c.get(1)?.as_f64()?)));
        match (value.get("type").and_then(Value::as_str), coords) {
            (Some("Point"), Some((x, y))) => Ok(Self {
                inner: geo::Geometry::Point(geo::Point::new(x, y)),
            }),
            _ => Err(NgsiError::InvalidGeometry {
                member: member.to_owned(),
                reason: "unsupported".to_owned(),
            }),
        }
    }

    /// The GeoJSON object of this geometry.
    pub fn to_geojson(&self) -> Value {
        match &self.inner {
            geo::Geometry::Point(p) => {
                serde_json::json!({"type": "Point", "coordinates": [p.x(), p.y()]})
            }
            _ => Value::Null,
        }
    }

    /// The geometry for the `geo` crate's algorithms.
    pub fn as_geo(&self) -> &geo::Geometry<f64> {
        &self.inner
    }

    /// True if `value` looks like a GeoJSON geometry (an object whose `type` is a geometry type);
    /// used to recognise GeoProperties in concise input.
    pub fn is_geojson_like(value: &Value) -> bool {
        matches!(
            value.get("type").and_then(Value::as_str),
            Some(
                "Point"
                    | "MultiPoint"
                    | "LineString"
                    | "MultiLineString"
                    | "Polygon"
                    | "MultiPolygon"
            )
        ) && value.get("coordinates").is_some()
    }
}
