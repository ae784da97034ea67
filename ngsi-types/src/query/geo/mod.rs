//! The NGSI-LD geo-query language (GS CIM 009 clause 4.10) and the GeoQuery data type (clause
//! 5.2.13): a typed [`GeoQuery`], parsed from the HTTP query parameters or from the `geoQ`
//! member of a Query or Subscription, and evaluated against entities with the `geo` crate.
//!
//! A geo-query has four parts:
//!
//! - `georel`, the relation: `near;maxDistance==<m>`, `near;minDistance==<m>`, `within`,
//!   `contains`, `intersects`, `disjoint`, `equals` or `overlaps` ([`GeoRel`]);
//! - `geometry` and `coordinates`, the reference geometry, which together form a GeoJSON
//!   geometry and are validated as one ([`Geometry`]);
//! - `geoproperty`, the GeoProperty of the entity that is tested, `location` by default
//!   (clause 4.7); [`GeoQuery::expand`] turns it into the IRI the model is keyed by.
//!
//! The relation always reads "the entity's geometry *georel* the reference geometry":
//! `within` keeps entities inside the reference polygon, `contains` keeps entities whose
//! geometry contains the reference geometry. Evaluation lives in the `eval` submodule (see
//! [`GeoQuery::matches`]); this module is about what a geo-query is and how it is written.
//!
//! Leniencies, all harmless to a conforming client:
//! - keywords and geometry names are matched case-insensitively (`Near`, `point`), as the ABNF
//!   literals of clause 4.10 are (IETF RFC 5234 2.3);
//! - `coordinates` given in a URL without the outer brackets (`coordinates=-3.7,40.4`) is read
//!   as if they were there; semicolon-separated NGSIv2 coordinates (latitude first) are not
//!   accepted, since silently swapping axes would be worse than an error.

mod eval;
mod parse;

use std::fmt;

use serde_json::{json, Value};

use crate::context::ActiveContext;
use crate::error::{NgsiError, Result};
use crate::geojson::{Geometry, GeometryType};

pub use eval::geodesic_distance;

/// The default `geoproperty` (clause 4.10): the `location` GeoProperty.
pub const DEFAULT_GEOPROPERTY: &str = "location";

/// The distance bound of `near`, in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NearDistance {
    /// `maxDistance`: entities at most this far from the reference point.
    Max(f64),
    /// `minDistance`: entities at least this far from the reference point.
    Min(f64),
}

/// The geo-relationship of a geo-query (clause 4.10, `georel`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeoRel {
    Near(NearDistance),
    Within,
    Contains,
    Intersects,
    Disjoint,
    Equals,
    Overlaps,
}

impl GeoRel {
    /// The name of the relation, as written in `georel`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Near(_) => "near",
            Self::Within => "within",
            Self::Contains => "contains",
            Self::Intersects => "intersects",
            Self::Disjoint => "disjoint",
            Self::Equals => "equals",
            Self::Overlaps => "overlaps",
        }
    }

    /// Parses a `georel` value (`near;maxDistance==1000`, `within`, ...). `param` names the
    /// parameter in errors (`georel`, `geoQ.georel`).
    pub fn parse(param: &'static str, text: &str) -> Result<Self> {
        parse::georel(param, text)
    }
}

impl fmt::Display for GeoRel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Near(NearDistance::Max(d)) => write!(f, "near;maxDistance=={d}"),
            Self::Near(NearDistance::Min(d)) => write!(f, "near;minDistance=={d}"),
            other => f.write_str(other.name()),
        }
    }
}

/// The geo-query parameters of an HTTP request (clause 6.4.3.2: `georel`, `geometry`,
/// `coordinates`, `geoproperty`), URL-decoded, `None` when absent.
#[derive(Debug, Default, Clone, Copy)]
pub struct GeoQueryParams<'a> {
    pub georel: Option<&'a str>,
    pub geometry: Option<&'a str>,
    pub coordinates: Option<&'a str>,
    pub geoproperty: Option<&'a str>,
}

/// A parsed, validated geo-query.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoQuery {
    pub georel: GeoRel,
    /// The reference geometry (`geometry` and `coordinates`).
    pub geometry: Geometry,
    /// The GeoProperty tested: as given (`location` by default) until [`GeoQuery::expand`]
    /// makes it the expanded IRI that [`GeoQuery::matches_entity`] looks up.
    pub geoproperty: String,
}

impl GeoQuery {
    /// Builds a geo-query, checking that the relation fits the reference geometry.
    ///
    /// A GeometryCollection has no `coordinates` and cannot be written as a reference geometry.
    /// `near` measures from any reference geometry (clause 4.10: the buffer of the reference
    /// geometry).
    pub fn new(georel: GeoRel, geometry: Geometry, geoproperty: impl Into<String>) -> Result<Self> {
        Self::checked(georel, geometry, geoproperty.into(), parse::Source::Params)
    }

    fn checked(
        georel: GeoRel,
        geometry: Geometry,
        geoproperty: String,
        source: parse::Source,
    ) -> Result<Self> {
        let kind = geometry.geometry_type();
        if kind == GeometryType::GeometryCollection {
            return Err(NgsiError::InvalidParameter {
                param: source.name(parse::Member::Geometry).to_owned(),
                reason: "a GeometryCollection cannot be a reference geometry".to_owned(),
            });
        }
        if geoproperty.is_empty() {
            return Err(NgsiError::InvalidParameter {
                param: source.name(parse::Member::Geoproperty).to_owned(),
                reason: "must not be empty".to_owned(),
            });
        }
        Ok(Self {
            georel,
            geometry,
            geoproperty,
        })
    }

    /// Reads the geo-query of an HTTP request. `Ok(None)` when none of its parameters is
    /// present; an error when some are but `georel`, `geometry` or `coordinates` is missing.
    pub fn from_params(params: GeoQueryParams<'_>) -> Result<Option<Self>> {
        parse::from_params(params)
    }

    /// Reads a GeoQuery object (clause 5.2.13): the `geoQ` member of a Query or Subscription,
    /// where `coordinates` is a JSON array or a string holding one.
    pub fn from_json(value: &Value) -> Result<Self> {
        parse::from_json(value)
    }

    /// The GeoQuery object (clause 5.2.13), `coordinates` as an array.
    pub fn to_json(&self) -> Value {
        let geojson = self.geometry.to_geojson();
        json!({
            "geometry": self.geometry.geometry_type().as_str(),
            "coordinates": geojson.get("coordinates").cloned().unwrap_or(Value::Null),
            "georel": self.georel.to_string(),
            "geoproperty": self.geoproperty,
        })
    }

    /// Expands `geoproperty` with the request's @context, so that it names the attribute as
    /// the model keys it. Idempotent: an IRI expands to itself.
    pub fn expand(&mut self, ctx: &ActiveContext) {
        let expanded = ctx.expand_term(&self.geoproperty).into_owned();
        self.geoproperty = expanded;
    }
}

#[cfg(test)]
mod tests;
