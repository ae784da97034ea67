use geo::{coord, Rect};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn parse(value: Value) -> Result<Geometry> {
    Geometry::from_geojson("location", &value)
}

/// The reason of an InvalidGeometry error (and a check that it names the member).
fn reason(value: Value) -> String {
    match parse(value.clone()) {
        Err(NgsiError::InvalidGeometry { member, reason }) => {
            assert_eq!(member, "location");
            reason
        }
        other => panic!("expected InvalidGeometry for {value}, got {other:?}"),
    }
}

fn assert_reason(value: Value, expected: &str) {
    let reason = reason(value);
    assert!(reason.contains(expected), "'{reason}' lacks '{expected}'");
}

const SQUARE: [[f64; 2]; 5] = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];

#[test]
fn point_keeps_altitude_for_rendering_and_drops_it_for_algorithms() {
    let value = json!({"type": "Point", "coordinates": [-3.7038, 40.4168, 667]});
    let g = parse(value.clone()).expect("valid point");
    assert_eq!(g.to_geojson(), value);
    assert_eq!(g.geometry_type(), GeometryType::Point);
    assert_eq!(
        g.as_geo(),
        &geo::Geometry::Point(geo::Point::new(-3.7038, 40.4168))
    );
    // A point's bounding rectangle is the point itself.
    let r = g.bounding_rect();
    assert_eq!(r.min(), coord! {x: -3.7038, y: 40.4168});
    assert_eq!(r.max(), r.min());
}

#[test]
fn integers_and_foreign_members_render_unchanged() {
    let value = json!({"type": "Point", "coordinates": [4, 50], "bbox": [4, 50, 4, 50]});
    assert_eq!(parse(value.clone()).expect("valid").to_geojson(), value);
}

#[test]
fn every_geometry_type_parses() {
    let cases = [
        json!({"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}),
        json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
        json!({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]}),
        json!({"type": "Polygon", "coordinates": [SQUARE]}),
        json!({"type": "MultiPolygon", "coordinates": [[SQUARE], [[[5, 5], [6, 5], [6, 6], [5, 5]]]]}),
        json!({"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [0, 0]},
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
        ]}),
    ];
    for value in cases {
        let g = parse(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(g.to_geojson(), value);
        assert!(Geometry::is_geojson_like(&value), "{value}");
    }
}

#[test]
fn polygon_with_hole_and_bounding_rect() {
    let value = json!({"type": "Polygon", "coordinates": [
        [[-10, -5], [10, -5], [10, 5], [-10, 5], [-10, -5]],
        [[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]]
    ]});
    let g = parse(value).expect("valid polygon with a hole");
    let geo::Geometry::Polygon(p) = g.as_geo() else {
        panic!("not a polygon")
    };
    assert_eq!(p.interiors().len(), 1);
    assert_eq!(
        g.bounding_rect(),
        Rect::new(coord! {x: -10.0, y: -5.0}, coord! {x: 10.0, y: 5.0})
    );
}

#[test]
fn string_holding_geojson_is_accepted_and_rendered_as_an_object() {
    let text = r#"{"type": "Point", "coordinates": [4.35, 50.85]}"#;
    let g = Geometry::from_geojson("location", &Value::String(text.into())).expect("valid");
    assert_eq!(
        g.to_geojson(),
        json!({"type": "Point", "coordinates": [4.35, 50.85]})
    );
    assert_reason(
        Value::String("POINT(4 50)".into()),
        "does not hold a GeoJSON object",
    );
}

#[test]
fn type_errors() {
    assert_reason(
        json!(42),
        "expected a GeoJSON geometry object, found the number 42",
    );
    assert_reason(json!({"coordinates": [0, 0]}), "missing member 'type'");
    assert_reason(
        json!({"type": 3, "coordinates": [0, 0]}),
        "type: expected a string",
    );
    assert_reason(
        json!({"type": "Circle", "coordinates": [0, 0]}),
        "unknown geometry type 'Circle'",
    );
    // RFC 7946 1.4: type names are case-sensitive.
    assert_reason(
        json!({"type": "point", "coordinates": [0, 0]}),
        "unknown geometry type 'point'",
    );
    assert_reason(
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}),
        "unknown geometry type 'Feature'",
    );
}

#[test]
fn coordinates_errors() {
    assert_reason(json!({"type": "Point"}), "missing member 'coordinates'");
    assert_reason(
        json!({"type": "Point", "coordinates": "0,0"}),
        "coordinates: expected an array, found the string \"0,0\"",
    );
    assert_reason(
        json!({"type": "Point", "coordinates": [1]}),
        "coordinates: a position has 2 or 3 numbers",
    );
    assert_reason(
        json!({"type": "Point", "coordinates": [1, 2, 3, 4]}),
        "found 4",
    );
    assert_reason(
        json!({"type": "Point", "coordinates": [1, "2"]}),
        "coordinates[1]: expected a number, found the string \"2\"",
    );
    assert_reason(
        json!({"type": "Point", "coordinates": [1, null]}),
        "coordinates[1]: expected a number, found null",
    );
    assert_reason(
        json!({"type": "Point", "coordinates": [180.5, 0]}),
        "longitude 180.5 is outside [-180, 180]",
    );
    assert_reason(
        json!({"type": "Point", "coordinates": [0, -90.01]}),
        "latitude -90.01 is outside [-90, 90]",
    );
    assert_reason(
        json!({"type": "MultiPoint", "coordinates": [[0, 0], 5]}),
        "coordinates[1]: expected an array, found the number 5",
    );
}

#[test]
fn non_finite_numbers_are_refused() {
    // JSON text cannot hold NaN; a Value built in Rust turns it into null, which is refused.
    let value = json!({"type": "Point", "coordinates": [f64::NAN, 0.0]});
    assert_reason(value, "coordinates[0]: expected a number");
}

#[test]
fn boundary_coordinates_are_valid() {
    for c in [[180, 90], [-180, -90], [-180, 90]] {
        parse(json!({"type": "Point", "coordinates": c})).expect("boundary position is valid");
    }
}

#[test]
fn line_string_needs_two_positions() {
    assert_reason(
        json!({"type": "LineString", "coordinates": [[0, 0]]}),
        "a LineString needs at least 2 positions, found 1",
    );
    assert_reason(
        json!({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[0, 0]]]}),
        "coordinates[1]: a LineString needs at least 2 positions",
    );
}

#[test]
fn polygon_rings_need_four_positions_and_closure() {
    assert_reason(
        json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
        "coordinates[0]: a linear ring needs at least 4 positions, found 3",
    );
    assert_reason(
        json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
        "coordinates[0]: the linear ring is not closed",
    );
    assert_reason(
        json!({"type": "Polygon", "coordinates": []}),
        "coordinates: expected at least one linear ring, found none",
    );
    assert_reason(
        json!({"type": "Polygon", "coordinates": [SQUARE, [[0.2, 0.2], [0.4, 0.2], [0.2, 0.4]]]}),
        "coordinates[1]: a linear ring needs at least 4 positions",
    );
    assert_reason(
        json!({"type": "MultiPolygon", "coordinates": [[SQUARE], [[[5, 5], [6, 5], [6, 6], [5, 6]]]]}),
        "coordinates[1][0]: the linear ring is not closed",
    );
    assert_reason(
        json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 91]]]}),
        "coordinates[0][4]: latitude 91 is outside [-90, 90]",
    );
}

#[test]
fn empty_multi_geometries_are_refused() {
    for t in ["MultiPoint", "MultiLineString", "MultiPolygon"] {
        assert_reason(
            json!({"type": t, "coordinates": []}),
            "expected at least one",
        );
    }
    assert_reason(
        json!({"type": "GeometryCollection", "geometries": []}),
        "geometries: expected at least one geometry",
    );
}

#[test]
fn collection_members_are_validated_with_their_path() {
    assert_reason(
        json!({"type": "GeometryCollection"}),
        "missing member 'geometries'",
    );
    assert_reason(
        json!({"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [0, 0]},
            {"type": "Point", "coordinates": [0, 100]}
        ]}),
        "geometries[1].coordinates: latitude 100",
    );
    assert_reason(
        json!({"type": "GeometryCollection", "geometries": [{"coordinates": [0, 0]}]}),
        "missing member 'geometries[0].type'",
    );
}

#[test]
fn error_message_names_the_member() {
    let err = Geometry::from_geojson("observationSpace", &json!({"type": "Point"}))
        .expect_err("missing coordinates");
    assert_eq!(
        err.to_string(),
        "observationSpace: invalid GeoJSON geometry: missing member 'coordinates'"
    );
}

#[test]
fn geojson_like_is_a_shape_check_only() {
    assert!(Geometry::is_geojson_like(
        &json!({"type": "Point", "coordinates": "x"})
    ));
    assert!(!Geometry::is_geojson_like(&json!({"type": "Point"})));
    assert!(!Geometry::is_geojson_like(
        &json!({"type": "Property", "value": 1})
    ));
    assert!(!Geometry::is_geojson_like(&json!("Point")));
}

#[test]
fn spec_fixtures_parse() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/geo/geometries");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("fixture dir") {
        let path = entry.expect("dir entry").path();
        let text = std::fs::read_to_string(&path).expect("fixture");
        let value: Value = serde_json::from_str(&text).expect("fixture JSON");
        let g = parse(value.clone()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(g.to_geojson(), value);
        count += 1;
    }
    assert!(count > 0);
}

// --- property tests ------------------------------------------------------------------------

fn lon() -> impl Strategy<Value = f64> {
    -180.0..=180.0f64
}
fn lat() -> impl Strategy<Value = f64> {
    -90.0..=90.0f64
}
fn position() -> impl Strategy<Value = Value> {
    (lon(), lat(), proptest::option::of(-100.0..9000.0f64)).prop_map(|(x, y, z)| match z {
        Some(z) => json!([x, y, z]),
        None => json!([x, y]),
    })
}
fn ring() -> impl Strategy<Value = Value> {
    proptest::collection::vec(position(), 3..8).prop_map(|mut ps| {
        ps.push(ps[0].clone());
        Value::Array(ps)
    })
}
fn geometry_value() -> impl Strategy<Value = Value> {
    let line = || proptest::collection::vec(position(), 2..6).prop_map(Value::Array);
    let polygon = || proptest::collection::vec(ring(), 1..3).prop_map(Value::Array);
    prop_oneof![
        position().prop_map(|c| json!({"type": "Point", "coordinates": c})),
        proptest::collection::vec(position(), 1..5)
            .prop_map(|c| json!({"type": "MultiPoint", "coordinates": c})),
        line().prop_map(|c| json!({"type": "LineString", "coordinates": c})),
        proptest::collection::vec(line(), 1..3)
            .prop_map(|c| json!({"type": "MultiLineString", "coordinates": c})),
        polygon().prop_map(|c| json!({"type": "Polygon", "coordinates": c})),
        proptest::collection::vec(polygon(), 1..3)
            .prop_map(|c| json!({"type": "MultiPolygon", "coordinates": c})),
    ]
}

proptest! {
    #[test]
    fn valid_geometries_round_trip(value in geometry_value()) {
        let g = parse(value.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(g.to_geojson(), value);
        let again = parse(g.to_geojson()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&again, &g);
        let r = g.bounding_rect();
        prop_assert!(r.min().x >= -180.0 && r.max().x <= 180.0);
        prop_assert!(r.min().y >= -90.0 && r.max().y <= 90.0);
    }

    #[test]
    fn out_of_range_latitude_is_always_refused(x in lon(), y in 90.0001..1000.0f64, neg in any::<bool>()) {
        let y = if neg { -y } else { y };
        let err = parse(json!({"type": "Point", "coordinates": [x, y]}));
        prop_assert!(err.is_err());
    }
}
