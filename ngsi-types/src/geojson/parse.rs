//! Validation of a GeoJSON geometry object (RFC 7946 3.1) into a 2D `geo::Geometry`.
//!
//! Errors are plain reasons; the caller wraps them in `NgsiError::InvalidGeometry` with the
//! member name. Each reason starts with the JSON path of the offending part
//! (`coordinates[0][3]`, `geometries[1].type`) so that a client can find it in a large polygon.

use geo::{Coord, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::Value;

use super::GeometryType;

type Reason = String;

/// Parses and validates one geometry object.
pub(super) fn geometry(value: &Value) -> Result<(GeometryType, geo::Geometry<f64>), Reason> {
    geometry_at("", value)
}

fn geometry_at(path: &str, value: &Value) -> Result<(GeometryType, geo::Geometry<f64>), Reason> {
    let Value::Object(object) = value else {
        return Err(format!(
            "{}expected a GeoJSON geometry object, found {}",
            prefix(path),
            describe(value)
        ));
    };
    let type_path = join(path, "type");
    let kind = match object.get("type") {
        None => return Err(format!("missing member '{type_path}'")),
        Some(Value::String(name)) => GeometryType::parse(name).ok_or_else(|| {
            format!(
                "{type_path}: unknown geometry type '{name}' (expected one of {})",
                GeometryType::ALL.map(GeometryType::as_str).join(", ")
            )
        })?,
        Some(other) => {
            return Err(format!(
                "{type_path}: expected a string, found {}",
                describe(other)
            ))
        }
    };

    if kind == GeometryType::GeometryCollection {
        return collection(path, object.get("geometries")).map(|g| (kind, g));
    }

    let coords_path = join(path, "coordinates");
    let coords = match object.get("coordinates") {
        None => return Err(format!("missing member '{coords_path}'")),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(format!(
                "{coords_path}: expected an array, found {}",
                describe(other)
            ))
        }
    };
    let p = coords_path.as_str();
    let geometry = match kind {
        GeometryType::Point => geo::Geometry::Point(Point(position(p, coords)?)),
        GeometryType::MultiPoint => {
            let points = non_empty(p, coords, "position")?
                .iter()
                .enumerate()
                .map(|(i, v)| position(&at(p, i), array(&at(p, i), v)?).map(Point))
                .collect::<Result<Vec<_>, _>>()?;
            geo::Geometry::MultiPoint(MultiPoint(points))
        }
        GeometryType::LineString => geo::Geometry::LineString(line_string(p, coords)?),
        GeometryType::MultiLineString => {
            let lines = non_empty(p, coords, "line string")?
                .iter()
                .enumerate()
                .map(|(i, v)| line_string(&at(p, i), array(&at(p, i), v)?))
                .collect::<Result<Vec<_>, _>>()?;
            geo::Geometry::MultiLineString(MultiLineString(lines))
        }
        GeometryType::Polygon => geo::Geometry::Polygon(polygon(p, coords)?),
        GeometryType::MultiPolygon => {
            let polygons = non_empty(p, coords, "polygon")?
                .iter()
                .enumerate()
                .map(|(i, v)| polygon(&at(p, i), array(&at(p, i), v)?))
                .collect::<Result<Vec<_>, _>>()?;
            geo::Geometry::MultiPolygon(MultiPolygon(polygons))
        }
        GeometryType::GeometryCollection => unreachable!("handled above"),
    };
    Ok((kind, geometry))
}

/// RFC 7946 3.1.8: a GeometryCollection has a `geometries` array of geometry objects.
fn collection(path: &str, geometries: Option<&Value>) -> Result<geo::Geometry<f64>, Reason> {
    let g_path = join(path, "geometries");
    let items = match geometries {
        None => return Err(format!("missing member '{g_path}'")),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(format!(
                "{g_path}: expected an array, found {}",
                describe(other)
            ))
        }
    };
    let members = non_empty(&g_path, items, "geometry")?
        .iter()
        .enumerate()
        .map(|(i, v)| geometry_at(&at(&g_path, i), v).map(|(_, g)| g))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(geo::Geometry::GeometryCollection(geo::GeometryCollection(
        members,
    )))
}

/// RFC 7946 3.1.1: a position is 2 or 3 numbers, longitude then latitude (then altitude).
fn position(path: &str, numbers: &[Value]) -> Result<Coord<f64>, Reason> {
    if !(2..=3).contains(&numbers.len()) {
        return Err(format!(
            "{path}: a position has 2 or 3 numbers (longitude, latitude[, altitude]), found {}",
            numbers.len()
        ));
    }
    let mut values = [0.0; 3];
    for (i, (slot, v)) in values.iter_mut().zip(numbers).enumerate() {
        let n = v
            .as_f64()
            .ok_or_else(|| format!("{}: expected a number, found {}", at(path, i), describe(v)))?;
        if !n.is_finite() {
            return Err(format!("{}: {n} is not a finite number", at(path, i)));
        }
        *slot = n;
    }
    let [x, y, _] = values;
    if !(-180.0..=180.0).contains(&x) {
        return Err(format!("{path}: longitude {x} is outside [-180, 180]"));
    }
    if !(-90.0..=90.0).contains(&y) {
        return Err(format!("{path}: latitude {y} is outside [-90, 90]"));
    }
    Ok(Coord { x, y })
}

/// The positions of a LineString or linear ring.
fn positions(path: &str, items: &[Value]) -> Result<Vec<Coord<f64>>, Reason> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| position(&at(path, i), array(&at(path, i), v)?))
        .collect()
}

/// RFC 7946 3.1.4: two or more positions.
fn line_string(path: &str, items: &[Value]) -> Result<LineString<f64>, Reason> {
    let points = positions(path, items)?;
    if points.len() < 2 {
        return Err(format!(
            "{path}: a LineString needs at least 2 positions, found {}",
            points.len()
        ));
    }
    Ok(LineString(points))
}

/// RFC 7946 3.1.6: one or more linear rings, the first the exterior, the others holes. A ring
/// has 4 or more positions and ends where it starts.
fn polygon(path: &str, rings: &[Value]) -> Result<Polygon<f64>, Reason> {
    let mut rings = non_empty(path, rings, "linear ring")?
        .iter()
        .enumerate()
        .map(|(i, v)| ring(&at(path, i), array(&at(path, i), v)?))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
    Ok(Polygon::new(exterior, rings.collect()))
}

fn ring(path: &str, items: &[Value]) -> Result<LineString<f64>, Reason> {
    let points = positions(path, items)?;
    if points.len() < 4 {
        return Err(format!(
            "{path}: a linear ring needs at least 4 positions, found {}",
            points.len()
        ));
    }
    // Closed means the same position, altitude included (positions are valid here).
    let numbers = |v: &Value| -> Vec<f64> {
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let (first, last) = (numbers(&items[0]), numbers(&items[items.len() - 1]));
    if first != last {
        return Err(format!(
            "{path}: the linear ring is not closed (first position {first:?}, last {last:?})"
        ));
    }
    Ok(LineString(points))
}

fn non_empty<'v>(path: &str, items: &'v [Value], what: &str) -> Result<&'v [Value], Reason> {
    if items.is_empty() {
        Err(format!("{path}: expected at least one {what}, found none"))
    } else {
        Ok(items)
    }
}

fn array<'v>(path: &str, value: &'v Value) -> Result<&'v [Value], Reason> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{path}: expected an array, found {}", describe(value)))
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string \"{s}\""),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn at(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

fn prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}
