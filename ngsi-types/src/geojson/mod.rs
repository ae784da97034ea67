//! GeoJSON geometries (IETF RFC 7946) as GeoProperty values: parsing, validation, rendering.
//!
//! GS CIM 009 clause 4.7 makes the value of every GeoProperty (`location`, `observationSpace`,
//! `operationSpace` and user-defined ones) a GeoJSON geometry in WGS84 longitude/latitude. A
//! [`Geometry`] is such a value once validated. It keeps two views of the same data:
//!
//! - the JSON object exactly as the client sent it (numbers, altitudes and foreign members such
//!   as `bbox` included), which is what [`Geometry::to_geojson`] renders back, so that a client
//!   reads what it wrote;
//! - a 2D [`geo::Geometry`] (altitude dropped) for the algorithms of the geo-query language
//!   ([`crate::query::geo`]), together with its bounding rectangle for spatial indexes.
//!
//! Accepted types: Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon and
//! GeometryCollection (RFC 7946 3.1.8; its members are validated like top-level geometries).
//! Empty geometries (a Multi* or collection with no member) are refused: NGSI-LD has no use for
//! a location that is nowhere, and every geometry then has a bounding rectangle.
//!
//! What is checked (RFC 7946 3.1): the `type`, that `coordinates` is an array of the right depth,
//! that every position holds 2 or 3 finite numbers with longitude in [-180, 180] and latitude in
//! [-90, 90], that a LineString has at least 2 positions, and that every Polygon ring has at
//! least 4 positions and is closed. What is not checked: ring winding order (RFC 7946 3.1.6 says
//! parsers SHOULD NOT reject on it) and self-intersections (costly, and harmless to the
//! predicates, which then just answer for the geometry as drawn).

mod parse;

use geo::{BoundingRect, Rect};
use serde_json::Value;

use crate::error::{NgsiError, Result};

/// The GeoJSON geometry types NGSI-LD accepts as GeoProperty values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeometryType {
    Point,
    MultiPoint,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
    GeometryCollection,
}

impl GeometryType {
    pub const ALL: [GeometryType; 7] = [
        Self::Point,
        Self::MultiPoint,
        Self::LineString,
        Self::MultiLineString,
        Self::Polygon,
        Self::MultiPolygon,
        Self::GeometryCollection,
    ];

    /// The `type` member value of this geometry type (case-sensitive, RFC 7946 1.4).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Point => "Point",
            Self::MultiPoint => "MultiPoint",
            Self::LineString => "LineString",
            Self::MultiLineString => "MultiLineString",
            Self::Polygon => "Polygon",
            Self::MultiPolygon => "MultiPolygon",
            Self::GeometryCollection => "GeometryCollection",
        }
    }

    /// Parses a `type` member value; exact spelling, as RFC 7946 requires.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for GeometryType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated GeoJSON geometry, in WGS84 longitude/latitude.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// The geometry object as received; rendered back unchanged.
    json: Value,
    kind: GeometryType,
    /// The same geometry in 2D for the `geo` algorithms.
    inner: geo::Geometry<f64>,
    bbox: Rect<f64>,
}

impl Geometry {
    /// Parses and validates a GeoJSON geometry; `member` names it in errors (`location`,
    /// `geoQ.coordinates`, ...).
    ///
    /// The value is normally a JSON object. A JSON string holding a GeoJSON object is accepted
    /// too: early NGSI-LD payloads (and some clients still) send GeoProperty values that way to
    /// keep them away from JSON-LD processing. Such a value is stored, and rendered, as the
    /// object it holds.
    pub fn from_geojson(member: &str, value: &Value) -> Result<Self> {
        let invalid = |reason: String| NgsiError::InvalidGeometry {
            member: member.to_owned(),
            reason,
        };
        let owned;
        let value = match value {
            Value::String(text) => {
                owned = serde_json::from_str::<Value>(text).map_err(|e| {
                    invalid(format!("the string does not hold a GeoJSON object: {e}"))
                })?;
                &owned
            }
            other => other,
        };
        let (kind, inner) = parse::geometry(value).map_err(invalid)?;
        let bbox = inner
            .bounding_rect()
            .ok_or_else(|| invalid("the geometry is empty".to_owned()))?;
        Ok(Self {
            json: value.clone(),
            kind,
            inner,
            bbox,
        })
    }

    /// The GeoJSON object of this geometry, exactly as it was given.
    pub fn to_geojson(&self) -> Value {
        self.json.clone()
    }

    /// The GeoJSON type of this geometry.
    pub fn geometry_type(&self) -> GeometryType {
        self.kind
    }

    /// The geometry for the `geo` crate's algorithms (2D: altitudes are dropped).
    pub fn as_geo(&self) -> &geo::Geometry<f64> {
        &self.inner
    }

    /// The longitude/latitude bounding rectangle, for spatial indexes (an rstar R-tree).
    pub fn bounding_rect(&self) -> Rect<f64> {
        self.bbox
    }

    /// True if `value` looks like a GeoJSON geometry (an object whose `type` is a geometry type,
    /// with `coordinates`, or `geometries` for a collection); used to recognise GeoProperties in
    /// concise input. It does not validate: [`Geometry::from_geojson`] does.
    pub fn is_geojson_like(value: &Value) -> bool {
        match value
            .get("type")
            .and_then(Value::as_str)
            .map(GeometryType::parse)
        {
            Some(Some(GeometryType::GeometryCollection)) => value.get("geometries").is_some(),
            Some(Some(_)) => value.get("coordinates").is_some(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
