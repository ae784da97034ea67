//! Reading geo-queries: the `georel` grammar of clause 4.10, the HTTP parameters and the
//! GeoQuery JSON object of clause 5.2.13.

use serde_json::{json, Value};

use super::{GeoQuery, GeoQueryParams, GeoRel, NearDistance, DEFAULT_GEOPROPERTY};
use crate::error::{NgsiError, Result};
use crate::geojson::{Geometry, GeometryType};

/// Where a geo-query came from; decides the parameter names errors report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// HTTP query parameters.
    Params,
    /// A `geoQ` JSON object.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Member {
    Georel,
    Geometry,
    Coordinates,
    Geoproperty,
}

impl Source {
    pub(super) fn name(self, member: Member) -> &'static str {
        match (self, member) {
            (Self::Params, Member::Georel) => "georel",
            (Self::Params, Member::Geometry) => "geometry",
            (Self::Params, Member::Coordinates) => "coordinates",
            (Self::Params, Member::Geoproperty) => "geoproperty",
            (Self::Json, Member::Georel) => "geoQ.georel",
            (Self::Json, Member::Geometry) => "geoQ.geometry",
            (Self::Json, Member::Coordinates) => "geoQ.coordinates",
            (Self::Json, Member::Geoproperty) => "geoQ.geoproperty",
        }
    }
}

const RELATIONS: [&str; 7] = [
    "near",
    "within",
    "contains",
    "intersects",
    "disjoint",
    "equals",
    "overlaps",
];

/// georel = nearRel / withinRel / containsRel / intersectsRel / disjointRel / equalsRel /
/// overlapsRel; nearRel = "near" ";" ("maxDistance" / "minDistance") "==" PositiveNumber.
pub(super) fn georel(param: &'static str, text: &str) -> Result<GeoRel> {
    let (name, modifier) = match text.find(';') {
        Some(i) => (&text[..i], Some((i, &text[i + 1..]))),
        None => (text, None),
    };
    let relation = match name.to_ascii_lowercase().as_str() {
        "near" => None,
        "within" => Some(GeoRel::Within),
        "contains" => Some(GeoRel::Contains),
        "intersects" => Some(GeoRel::Intersects),
        "disjoint" => Some(GeoRel::Disjoint),
        "equals" => Some(GeoRel::Equals),
        "overlaps" => Some(GeoRel::Overlaps),
        _ => {
            return Err(NgsiError::query_syntax(
                param,
                0,
                format!(
                    "unknown georel '{name}' (expected one of {})",
                    RELATIONS.join(", ")
                ),
            ))
        }
    };
    match (relation, modifier) {
        (Some(rel), None) => Ok(rel),
        (Some(rel), Some((at, _))) => Err(NgsiError::query_syntax(
            param,
            at,
            format!("georel '{}' takes no modifier", rel.name()),
        )),
        (None, None) => Err(NgsiError::query_syntax(
            param,
            text.len(),
            "georel 'near' needs a distance: near;maxDistance==<metres> or \
             near;minDistance==<metres>",
        )),
        (None, Some((at, rest))) => near_distance(param, at + 1, rest).map(GeoRel::Near),
    }
}

fn near_distance(param: &'static str, offset: usize, text: &str) -> Result<NearDistance> {
    // Clause 4.10 gives `near` one distance; a ring (`minDistance==a;maxDistance==b`) is an
    // extension of some brokers that NGSI-LD does not define.
    if let Some(extra) = text.find(';') {
        return Err(NgsiError::query_syntax(
            param,
            offset + extra,
            "georel 'near' takes one distance: maxDistance or minDistance, not both",
        ));
    }
    let Some(eq) = text.find("==") else {
        return Err(NgsiError::query_syntax(
            param,
            offset,
            format!("expected maxDistance==<metres> or minDistance==<metres>, found '{text}'"),
        ));
    };
    let (name, number) = (&text[..eq], &text[eq + 2..]);
    let number_at = offset + eq + 2;
    let distance: f64 = number
        .parse()
        .ok()
        .filter(|d: &f64| d.is_finite())
        .ok_or_else(|| {
            NgsiError::query_syntax(
                param,
                number_at,
                format!("'{number}' is not a distance in metres"),
            )
        })?;
    // Clause 4.10: a PositiveNumber, "non-zero positive".
    if distance <= 0.0 {
        return Err(NgsiError::query_syntax(
            param,
            number_at,
            format!("distance {number} is not a positive number"),
        ));
    }
    match name.to_ascii_lowercase().as_str() {
        "maxdistance" => Ok(NearDistance::Max(distance)),
        "mindistance" => Ok(NearDistance::Min(distance)),
        _ => Err(NgsiError::query_syntax(
            param,
            offset,
            format!("unknown near modifier '{name}' (expected maxDistance or minDistance)"),
        )),
    }
}

/// The reference geometry type named by `geometry`: the six GeoJSON types that have
/// `coordinates`.
fn geometry_type(source: Source, name: &str) -> Result<GeometryType> {
    GeometryType::ALL
        .into_iter()
        .filter(|t| *t != GeometryType::GeometryCollection)
        .find(|t| t.as_str().eq_ignore_ascii_case(name))
        .ok_or_else(|| NgsiError::InvalidParameter {
            param: source.name(Member::Geometry).to_owned(),
            reason: format!(
                "unknown geometry '{name}' (expected Point, MultiPoint, LineString, \
                 MultiLineString, Polygon or MultiPolygon)"
            ),
        })
}

/// `coordinates` written as text: a JSON array, with or without its outer brackets.
fn coordinates_text(source: Source, text: &str) -> Result<Value> {
    let trimmed = text.trim();
    let (json, shift) = if trimmed.starts_with('[') {
        (trimmed.to_owned(), 0)
    } else {
        (format!("[{trimmed}]"), 1)
    };
    serde_json::from_str::<Value>(&json).map_err(|e| {
        let column = e.column().saturating_sub(1 + shift);
        NgsiError::query_syntax(
            source.name(Member::Coordinates),
            column.min(trimmed.len()),
            format!("not a JSON array of coordinates: {e}"),
        )
    })
}

/// The reference geometry from its type name and coordinates, validated as GeoJSON.
fn reference_geometry(source: Source, name: &str, coordinates: Value) -> Result<Geometry> {
    let kind = geometry_type(source, name)?;
    let value = json!({"type": kind.as_str(), "coordinates": coordinates});
    Geometry::from_geojson(source.name(Member::Coordinates), &value)
}

fn missing(source: Source, member: Member) -> NgsiError {
    NgsiError::InvalidParameter {
        param: source.name(member).to_owned(),
        reason: "missing: a geo-query needs georel, geometry and coordinates".to_owned(),
    }
}

pub(super) fn from_params(params: GeoQueryParams<'_>) -> Result<Option<GeoQuery>> {
    let source = Source::Params;
    let GeoQueryParams {
        georel: rel,
        geometry,
        coordinates,
        geoproperty,
    } = params;
    if rel.is_none() && geometry.is_none() && coordinates.is_none() && geoproperty.is_none() {
        return Ok(None);
    }
    let rel = rel.ok_or_else(|| missing(source, Member::Georel))?;
    let geometry = geometry.ok_or_else(|| missing(source, Member::Geometry))?;
    let coordinates = coordinates.ok_or_else(|| missing(source, Member::Coordinates))?;
    let georel = georel(source.name(Member::Georel), rel)?;
    let geometry = reference_geometry(source, geometry, coordinates_text(source, coordinates)?)?;
    let geoproperty = geoproperty.unwrap_or(DEFAULT_GEOPROPERTY).to_owned();
    GeoQuery::checked(georel, geometry, geoproperty, source).map(Some)
}

pub(super) fn from_json(value: &Value) -> Result<GeoQuery> {
    let source = Source::Json;
    let Value::Object(object) = value else {
        return Err(NgsiError::InvalidParameter {
            param: "geoQ".to_owned(),
            reason: "expected a GeoQuery object".to_owned(),
        });
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !["georel", "geometry", "coordinates", "geoproperty"].contains(&k.as_str()))
    {
        return Err(NgsiError::InvalidParameter {
            param: "geoQ".to_owned(),
            reason: format!(
                "unknown member '{unknown}' (a GeoQuery has georel, geometry, coordinates and \
                 geoproperty)"
            ),
        });
    }
    let string = |member: Member, key: &str| -> Result<Option<&str>> {
        match object.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(NgsiError::InvalidParameter {
                param: source.name(member).to_owned(),
                reason: "must be a string".to_owned(),
            }),
        }
    };
    let rel = string(Member::Georel, "georel")?.ok_or_else(|| missing(source, Member::Georel))?;
    let geometry =
        string(Member::Geometry, "geometry")?.ok_or_else(|| missing(source, Member::Geometry))?;
    let geoproperty = string(Member::Geoproperty, "geoproperty")?.unwrap_or(DEFAULT_GEOPROPERTY);
    // Clause 5.2.13: coordinates is a JSON array, or a string holding one.
    let coordinates = match object.get("coordinates") {
        None => return Err(missing(source, Member::Coordinates)),
        Some(Value::String(text)) => coordinates_text(source, text)?,
        Some(array @ Value::Array(_)) => array.clone(),
        Some(_) => {
            return Err(NgsiError::InvalidParameter {
                param: source.name(Member::Coordinates).to_owned(),
                reason: "must be an array or a string".to_owned(),
            })
        }
    };
    let georel = georel(source.name(Member::Georel), rel)?;
    let geometry = reference_geometry(source, geometry, coordinates)?;
    GeoQuery::checked(georel, geometry, geoproperty.to_owned(), source)
}
