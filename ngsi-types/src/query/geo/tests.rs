use geo::{Destination, Distance, Geodesic, Intersects, Point};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::attribute::{Attribute, AttributeValue};
use crate::entity::{Entity, LOCATION};
use crate::error::ErrorType;

const MADRID: [f64; 2] = [-3.7038, 40.4168];
const BRUSSELS: [f64; 2] = [4.3517, 50.8467];

fn point(c: [f64; 2]) -> Geometry {
    Geometry::from_geojson("location", &json!({"type": "Point", "coordinates": c}))
        .expect("valid point")
}

fn geometry(value: Value) -> Geometry {
    Geometry::from_geojson("location", &value).expect("valid geometry")
}

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})
}

fn params<'a>(georel: &'a str, geometry: &'a str, coordinates: &'a str) -> GeoQueryParams<'a> {
    GeoQueryParams {
        georel: Some(georel),
        geometry: Some(geometry),
        coordinates: Some(coordinates),
        geoproperty: None,
    }
}

fn query(georel: &str, geometry: &str, coordinates: &str) -> GeoQuery {
    let mut q = GeoQuery::from_params(params(georel, geometry, coordinates))
        .expect("valid geo-query")
        .expect("present");
    q.expand(&ActiveContext::core());
    q
}

fn error_text(result: Result<impl std::fmt::Debug>) -> String {
    let err = result.expect_err("an error");
    assert_eq!(err.error_type(), ErrorType::BadRequestData, "{err}");
    err.to_string()
}

// --- georel ------------------------------------------------------------------------------------

#[test]
fn georel_parses_every_relation() {
    let cases = [
        (
            "near;maxDistance==1000",
            GeoRel::Near(NearDistance::Max(1000.0)),
        ),
        (
            "near;minDistance==12.5",
            GeoRel::Near(NearDistance::Min(12.5)),
        ),
        ("within", GeoRel::Within),
        ("contains", GeoRel::Contains),
        ("intersects", GeoRel::Intersects),
        ("disjoint", GeoRel::Disjoint),
        ("equals", GeoRel::Equals),
        ("overlaps", GeoRel::Overlaps),
    ];
    for (text, expected) in cases {
        let rel = GeoRel::parse("georel", text).expect(text);
        assert_eq!(rel, expected);
        assert_eq!(rel.to_string(), text);
    }
}

#[test]
fn georel_keywords_are_case_insensitive() {
    assert_eq!(
        GeoRel::parse("georel", "Near;MaxDistance==5").expect("valid"),
        GeoRel::Near(NearDistance::Max(5.0))
    );
    assert_eq!(
        GeoRel::parse("georel", "WITHIN").expect("valid"),
        GeoRel::Within
    );
}

#[test]
fn georel_errors_point_at_the_problem() {
    let cases = [
        (
            "nearby",
            "invalid georel at position 0: unknown georel 'nearby'",
        ),
        ("", "unknown georel ''"),
        (
            "near",
            "invalid georel at position 4: georel 'near' needs a distance",
        ),
        (
            "within;maxDistance==3",
            "invalid georel at position 6: georel 'within' takes no modifier",
        ),
        (
            "near;maxDistance=1000",
            "invalid georel at position 5: expected maxDistance==<metres>",
        ),
        (
            "near;maxDistance==-1",
            "invalid georel at position 18: distance -1 is not a positive number",
        ),
        (
            "near;maxDistance==far",
            "position 18: 'far' is not a distance in metres",
        ),
        ("near;maxDistance==inf", "'inf' is not a distance in metres"),
        (
            "near;distance==3",
            "position 5: unknown near modifier 'distance'",
        ),
    ];
    for (text, expected) in cases {
        let msg = error_text(GeoRel::parse("georel", text));
        assert!(msg.contains(expected), "{text}: '{msg}' lacks '{expected}'");
    }
}

#[test]
fn zero_distance_is_refused() {
    // Clause 4.10: the distance is a PositiveNumber, which excludes 0.
    for text in [
        "near;maxDistance==0",
        "near;minDistance==0",
        "near;maxDistance==0.0",
    ] {
        let msg = error_text(GeoRel::parse("georel", text));
        assert!(msg.contains("positive"), "{text}: '{msg}'");
    }
    let q = query("near;maxDistance==0.5", "Point", "[-3.7038,40.4168]");
    assert!(q.matches(&point(MADRID)));
}

// --- HTTP parameters ---------------------------------------------------------------------------

#[test]
fn no_parameters_is_no_geo_query() {
    assert_eq!(
        GeoQuery::from_params(GeoQueryParams::default()).expect("ok"),
        None
    );
}

#[test]
fn parameters_build_a_geo_query_with_location_by_default() {
    let q = GeoQuery::from_params(params(
        "near;maxDistance==2000",
        "Point",
        "[-3.7038,40.4168]",
    ))
    .expect("valid")
    .expect("present");
    assert_eq!(q.georel, GeoRel::Near(NearDistance::Max(2000.0)));
    assert_eq!(q.geometry, point(MADRID));
    assert_eq!(q.geoproperty, "location");
}

#[test]
fn coordinates_without_brackets_and_lowercase_geometry_are_accepted() {
    let q = query("within", "polygon", "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]");
    assert_eq!(
        q.geometry.as_geo(),
        geometry(square(0.0, 0.0, 1.0, 1.0)).as_geo()
    );
    let q = query("near;maxDistance==10", "Point", " -3.7038, 40.4168 ");
    assert_eq!(q.geometry, point(MADRID));
}

#[test]
fn missing_parameters_are_named() {
    let cases = [
        (
            GeoQueryParams {
                georel: None,
                ..params("", "Point", "[0,0]")
            },
            "georel: missing",
        ),
        (
            GeoQueryParams {
                geometry: None,
                ..params("within", "", "[0,0]")
            },
            "geometry: missing",
        ),
        (
            GeoQueryParams {
                coordinates: None,
                ..params("within", "Point", "")
            },
            "coordinates: missing",
        ),
        (
            GeoQueryParams {
                geoproperty: Some("observationSpace"),
                ..GeoQueryParams::default()
            },
            "georel: missing",
        ),
    ];
    for (p, expected) in cases {
        let msg = error_text(GeoQuery::from_params(p));
        assert!(
            msg.starts_with(expected),
            "'{msg}' does not start with '{expected}'"
        );
    }
}

#[test]
fn bad_geometry_and_coordinates_are_reported() {
    let cases = [
        (
            params("within", "Circle", "[0,0]"),
            "geometry: unknown geometry 'Circle'",
        ),
        (
            params("within", "GeometryCollection", "[0,0]"),
            "geometry: unknown geometry 'GeometryCollection'",
        ),
        (
            params("within", "Point", "[0,0"),
            "invalid coordinates at position",
        ),
        (
            params("within", "Point", "[0,x]"),
            "not a JSON array of coordinates",
        ),
        (
            params("within", "Point", "[0,95]"),
            "coordinates: invalid GeoJSON geometry: coordinates: latitude 95 is outside [-90, 90]",
        ),
        (
            params("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]"),
            "the linear ring is not closed",
        ),
        (
            params("within", "LineString", "[[0,0]]"),
            "a LineString needs at least 2 positions",
        ),
    ];
    for (p, expected) in cases {
        let msg = error_text(GeoQuery::from_params(p));
        assert!(msg.contains(expected), "'{msg}' lacks '{expected}'");
    }
}

#[test]
fn empty_geoproperty_is_refused() {
    let p = GeoQueryParams {
        geoproperty: Some(""),
        ..params("within", "Point", "[0,0]")
    };
    assert!(error_text(GeoQuery::from_params(p)).contains("geoproperty: must not be empty"));
}

// --- JSON (geoQ) -------------------------------------------------------------------------------

#[test]
fn geoq_object_takes_coordinates_as_array_or_string() {
    let from_array = GeoQuery::from_json(&json!({
        "georel": "near;maxDistance==2000", "geometry": "Point", "coordinates": MADRID
    }))
    .expect("array coordinates");
    let from_string = GeoQuery::from_json(&json!({
        "georel": "near;maxDistance==2000", "geometry": "Point",
        "coordinates": "[-3.7038, 40.4168]"
    }))
    .expect("string coordinates");
    assert_eq!(from_array, from_string);
    assert_eq!(from_array.geoproperty, "location");
}

#[test]
fn geoq_object_round_trips() {
    let value = json!({
        "geometry": "Polygon",
        "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
        "georel": "within",
        "geoproperty": "observationSpace"
    });
    let q = GeoQuery::from_json(&value).expect("valid");
    assert_eq!(q.to_json(), value);
    assert_eq!(GeoQuery::from_json(&q.to_json()).expect("again"), q);
}

#[test]
fn geoq_object_errors() {
    let cases = [
        (json!("within"), "geoQ: expected a GeoQuery object"),
        (
            json!({"geometry": "Point", "coordinates": [0, 0]}),
            "geoQ.georel: missing",
        ),
        (
            json!({"georel": "within", "coordinates": [0, 0]}),
            "geoQ.geometry: missing",
        ),
        (
            json!({"georel": "within", "geometry": "Point"}),
            "geoQ.coordinates: missing",
        ),
        (
            json!({"georel": 1, "geometry": "Point", "coordinates": [0, 0]}),
            "geoQ.georel: must be a string",
        ),
        (
            json!({"georel": "within", "geometry": "Point", "coordinates": {"x": 0}}),
            "geoQ.coordinates: must be an array or a string",
        ),
        (
            json!({"georel": "within", "geometry": "Point", "coordinates": [0, 0], "geoProperty": "x"}),
            "geoQ: unknown member 'geoProperty'",
        ),
        (
            json!({"georel": "nearby", "geometry": "Point", "coordinates": [0, 0]}),
            "invalid geoQ.georel at position 0",
        ),
        (
            json!({"georel": "within", "geometry": "Point", "coordinates": [200, 0]}),
            "geoQ.coordinates: invalid GeoJSON geometry",
        ),
    ];
    for (value, expected) in cases {
        let msg = error_text(GeoQuery::from_json(&value));
        assert!(
            msg.contains(expected),
            "{value}: '{msg}' lacks '{expected}'"
        );
    }
}

#[test]
fn expand_uses_the_context_and_is_idempotent() {
    let mut q = GeoQuery::from_json(&json!({
        "georel": "within", "geometry": "Point", "coordinates": [0, 0]
    }))
    .expect("valid");
    q.expand(&ActiveContext::core());
    assert_eq!(q.geoproperty, LOCATION);
    q.expand(&ActiveContext::core());
    assert_eq!(q.geoproperty, LOCATION);

    let ctx =
        ActiveContext::from_inline(&json!({"area": "https://example.org/area"})).expect("context");
    let mut q = GeoQuery::new(GeoRel::Within, point([0.0, 0.0]), "area").expect("valid");
    q.expand(&ctx);
    assert_eq!(q.geoproperty, "https://example.org/area");
}

// --- evaluation --------------------------------------------------------------------------------

#[test]
fn geodesic_distances_match_known_values() {
    // One degree of meridian from the equator: 110 574.4 m on WGS84.
    let d = geodesic_distance(Point::new(0.0, 0.0), point([0.0, 1.0]).as_geo());
    assert!((d - 110_574.4).abs() < 1.0, "{d}");
    // Madrid to Brussels: about 1 316 km.
    let d = geodesic_distance(Point::from(MADRID), point(BRUSSELS).as_geo());
    assert!((d - 1_316_000.0).abs() < 6_000.0, "{d}");
}

#[test]
fn near_max_and_min_distance() {
    let within_1400km = query("near;maxDistance==1400000", "Point", "[-3.7038,40.4168]");
    let within_1200km = query("near;maxDistance==1200000", "Point", "[-3.7038,40.4168]");
    let beyond_1200km = query("near;minDistance==1200000", "Point", "[-3.7038,40.4168]");
    let beyond_1400km = query("near;minDistance==1400000", "Point", "[-3.7038,40.4168]");
    let brussels = point(BRUSSELS);
    assert!(within_1400km.matches(&brussels));
    assert!(!within_1200km.matches(&brussels));
    assert!(beyond_1200km.matches(&brussels));
    assert!(!beyond_1400km.matches(&brussels));
}

#[test]
fn near_measures_to_the_closest_point_of_lines_and_polygons() {
    // A meridian line 1 degree east of the reference point, at the equator: 111.3 km away.
    let line = geometry(json!({"type": "LineString", "coordinates": [[1, -1], [1, 1]]}));
    let d = geodesic_distance(Point::new(0.0, 0.0), line.as_geo());
    assert!((d - 111_319.5).abs() < 5.0, "{d}");
    assert!(query("near;maxDistance==112000", "Point", "[0,0]").matches(&line));
    assert!(!query("near;maxDistance==111000", "Point", "[0,0]").matches(&line));
    // Inside a polygon, or on its edge, the distance is 0.
    let around = geometry(square(-1.0, -1.0, 1.0, 1.0));
    assert_eq!(
        geodesic_distance(Point::new(0.0, 0.0), around.as_geo()),
        0.0
    );
    assert_eq!(
        geodesic_distance(Point::new(1.0, 0.0), around.as_geo()),
        0.0
    );
    assert!(!query("near;minDistance==1", "Point", "[0,0]").matches(&around));
    // A polygon across the antimeridian seen from its other side.
    let east = geometry(square(179.0, -1.0, 180.0, 1.0));
    let d = geodesic_distance(Point::new(-179.5, 0.0), east.as_geo());
    assert!((d - 55_660.0).abs() < 10.0, "{d}");
}

#[test]
fn within_contains_and_boundaries() {
    let unit = "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]";
    let within = query("within", "Polygon", unit);
    assert!(within.matches(&point([0.5, 0.5])));
    assert!(!within.matches(&point([1.5, 0.5])));
    // DE-9IM within: a point on the boundary only is not within.
    assert!(!within.matches(&point([1.0, 0.5])));
    assert!(within.matches(&geometry(square(0.2, 0.2, 0.8, 0.8))));
    assert!(within.matches(&geometry(square(0.0, 0.0, 1.0, 1.0))));
    assert!(!within.matches(&geometry(square(0.5, 0.5, 1.5, 1.5))));

    let contains = query("contains", "Point", "[0.5,0.5]");
    assert!(contains.matches(&geometry(square(0.0, 0.0, 1.0, 1.0))));
    assert!(!contains.matches(&geometry(square(2.0, 2.0, 3.0, 3.0))));
    assert!(!contains.matches(&point([0.4, 0.5])));
}

#[test]
fn intersects_and_disjoint_are_complements() {
    let q = "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]";
    let intersects = query("intersects", "Polygon", q);
    let disjoint = query("disjoint", "Polygon", q);
    let cases = [
        (
            json!({"type": "LineString", "coordinates": [[-1, 0.5], [2, 0.5]]}),
            true,
        ),
        (json!({"type": "Point", "coordinates": [1, 1]}), true),
        (
            json!({"type": "MultiPoint", "coordinates": [[5, 5], [0.5, 0.5]]}),
            true,
        ),
        (
            json!({"type": "LineString", "coordinates": [[-1, 2], [2, 2]]}),
            false,
        ),
        (json!({"type": "Point", "coordinates": [1.0001, 1]}), false),
    ];
    for (value, touching) in cases {
        let g = geometry(value.clone());
        assert_eq!(intersects.matches(&g), touching, "intersects {value}");
        assert_eq!(disjoint.matches(&g), !touching, "disjoint {value}");
    }
}

#[test]
fn equals_is_topological() {
    let q = query("equals", "Polygon", "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]");
    let same_from_other_corner = json!({"type": "Polygon", "coordinates":
        [[[1, 1], [0, 1], [0, 0], [1, 0], [1, 1]]]});
    assert!(q.matches(&geometry(same_from_other_corner)));
    assert!(!q.matches(&geometry(square(0.0, 0.0, 1.0, 2.0))));
    let p = query("equals", "Point", "[4.3517,50.8467]");
    assert!(p.matches(&point(BRUSSELS)));
    assert!(!p.matches(&point(MADRID)));
}

#[test]
fn overlaps_needs_shared_interior_without_containment() {
    let q = query("overlaps", "Polygon", "[[[0,0],[2,0],[2,2],[0,2],[0,0]]]");
    assert!(q.matches(&geometry(square(1.0, 1.0, 3.0, 3.0))));
    assert!(!q.matches(&geometry(square(0.5, 0.5, 1.5, 1.5))));
    assert!(!q.matches(&geometry(square(2.0, 0.0, 3.0, 1.0))));
    assert!(!q.matches(&point([1.0, 1.0])));
}

#[test]
fn spec_style_fixture_cases() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/geo/geoq/cases.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("fixture JSON");
    assert!(!cases.is_empty());
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let q = GeoQuery::from_json(&case["geoQ"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let g = Geometry::from_geojson("location", &case["entity"])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(q.matches(&g), case["matches"] == json!(true), "{name}");
        if q.matches(&g) {
            if let Some(envelope) = q.search_envelope() {
                use geo::Intersects;
                assert!(envelope.intersects(&g.bounding_rect()), "{name}: envelope");
            }
        }
    }
}

#[test]
fn matches_entity_looks_at_every_dataset_instance_of_the_geoproperty() {
    let q = query("near;maxDistance==1000", "Point", "[4.3517,50.8467]");
    let mut e = Entity::new(
        "urn:ngsi-ld:Sensor:1",
        vec!["https://example.org/Sensor".into()],
    );
    assert!(!q.matches_entity(&e), "no location: no match");

    e.put_attribute(
        LOCATION,
        Attribute::new(AttributeValue::GeoProperty(point(MADRID))),
    );
    assert!(!q.matches_entity(&e));
    let mut gps = Attribute::new(AttributeValue::GeoProperty(point(BRUSSELS)));
    gps.dataset_id = Some("urn:ngsi-ld:Dataset:gps".into());
    e.put_attribute(LOCATION, gps);
    assert!(q.matches_entity(&e));

    // Another GeoProperty does not count, nor does a Property holding GeoJSON.
    let mut other = Entity::new("urn:ngsi-ld:Sensor:2", vec![]);
    other.put_attribute(
        "https://uri.etsi.org/ngsi-ld/observationSpace",
        Attribute::new(AttributeValue::GeoProperty(point(BRUSSELS))),
    );
    other.put_attribute(
        LOCATION,
        Attribute::property(json!({"type": "Point", "coordinates": BRUSSELS})),
    );
    assert!(!q.matches_entity(&other));
    let mut on_space = q.clone();
    on_space.geoproperty = "observationSpace".into();
    on_space.expand(&ActiveContext::core());
    assert!(on_space.matches_entity(&other));
}

#[test]
fn disjoint_or_min_distance_does_not_match_an_entity_without_location() {
    let e = Entity::new("urn:ngsi-ld:Sensor:1", vec![]);
    assert!(!query("disjoint", "Point", "[0,0]").matches_entity(&e));
    assert!(!query("near;minDistance==10", "Point", "[0,0]").matches_entity(&e));
}

// --- search envelope ---------------------------------------------------------------------------

#[test]
fn search_envelope_per_relation() {
    let polygon = "[[[0,0],[2,0],[2,1],[0,1],[0,0]]]";
    for rel in ["within", "contains", "intersects", "equals", "overlaps"] {
        let envelope = query(rel, "Polygon", polygon).search_envelope();
        assert_eq!(
            envelope,
            Some(geometry(square(0.0, 0.0, 2.0, 1.0)).bounding_rect()),
            "{rel}"
        );
    }
    assert_eq!(
        query("disjoint", "Polygon", polygon).search_envelope(),
        None
    );
    assert_eq!(
        query("near;minDistance==5", "Point", "[0,0]").search_envelope(),
        None
    );
}

#[test]
fn near_envelope_scales_longitude_with_latitude() {
    let envelope = query("near;maxDistance==10000", "Point", "[4.3517,50.8467]")
        .search_envelope()
        .expect("an envelope");
    let (w, h) = (envelope.width(), envelope.height());
    // 10 km is about 0.09 degrees of latitude, and about 0.14 degrees of longitude at 50.8 N.
    assert!(h > 0.18 && h < 0.19, "{h}");
    assert!(w > 0.28 && w < 0.30, "{w}");
}

#[test]
fn near_envelope_spans_all_longitudes_over_a_pole_or_the_antimeridian() {
    let polar = query("near;maxDistance==300000", "Point", "[10,88]")
        .search_envelope()
        .expect("an envelope");
    assert_eq!(
        (polar.min().x, polar.max().x, polar.max().y),
        (-180.0, 180.0, 90.0)
    );
    let pacific = query("near;maxDistance==50000", "Point", "[179.9,0]")
        .search_envelope()
        .expect("an envelope");
    assert_eq!((pacific.min().x, pacific.max().x), (-180.0, 180.0));
    let world = query("near;maxDistance==30000000", "Point", "[0,0]")
        .search_envelope()
        .expect("an envelope");
    assert_eq!((world.min().y, world.max().y), (-90.0, 90.0));
}

// --- property tests ----------------------------------------------------------------------------

fn contains_point(rect: &geo::Rect<f64>, p: Point<f64>) -> bool {
    (rect.min().x..=rect.max().x).contains(&p.x()) && (rect.min().y..=rect.max().y).contains(&p.y())
}

proptest! {
    #[test]
    fn any_point_inside_a_bbox_polygon_is_within_it(
        x0 in -179.0..178.0f64, y0 in -89.0..88.0f64,
        w in 0.001..1.0f64, h in 0.001..1.0f64,
        fx in 0.01..0.99f64, fy in 0.01..0.99f64,
    ) {
        let (x1, y1) = (x0 + w, y0 + h);
        let q = GeoQuery::new(GeoRel::Within, geometry(square(x0, y0, x1, y1)), LOCATION)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let p = point([x0 + fx * w, y0 + fy * h]);
        prop_assert!(q.matches(&p));
        let envelope = q.search_envelope().ok_or_else(|| TestCaseError::fail("no envelope"))?;
        prop_assert!(contains_point(&envelope, Point::new(x0 + fx * w, y0 + fy * h)));
    }

    #[test]
    fn near_envelope_contains_every_matching_point(
        lon in -180.0..=180.0f64, lat in -90.0..=90.0f64,
        distance in 0.0..3_000_000.0f64,
        bearing in 0.0..360.0f64, fraction in 0.0..=1.2f64,
    ) {
        let centre = Point::new(lon, lat);
        let q = GeoQuery::new(
            GeoRel::Near(NearDistance::Max(distance)), point([lon, lat]), LOCATION,
        ).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let envelope = q.search_envelope().ok_or_else(|| TestCaseError::fail("no envelope"))?;
        let target = Geodesic.destination(centre, bearing, distance * fraction);
        let target = Point::new(target.x().clamp(-180.0, 180.0), target.y().clamp(-90.0, 90.0));
        if q.matches(&point([target.x(), target.y()])) {
            prop_assert!(Geodesic.distance(centre, target) <= distance);
            prop_assert!(
                contains_point(&envelope, target),
                "{:?} matches but is outside {:?}", target, envelope
            );
        }
    }
}

#[test]
fn near_measures_from_the_closest_point_of_an_extended_reference() {
    // A point 0.009° (about 1 km) north of the end of a 10° line along latitude 60.
    let probe = Geometry::from_geojson(
        "probe",
        &serde_json::json!({"type": "Point", "coordinates": [10.0, 60.009]}),
    )
    .expect("point");
    let line = query("near;maxDistance==2000", "LineString", "[[0,60],[10,60]]");
    assert!(line.matches(&probe), "about 1 km from the line");
    let far = query("near;maxDistance==2000", "LineString", "[[0,61],[10,61]]");
    assert!(!far.matches(&probe), "about 110 km from the line");
    let beyond = query("near;minDistance==2000", "LineString", "[[0,61],[10,61]]");
    assert!(beyond.matches(&probe));
    let envelope = line.search_envelope().expect("an envelope");
    assert!(envelope.intersects(&probe.bounding_rect()));
    // Two polygons 0.01° of longitude apart at the equator: about 1.1 km.
    let square = Geometry::from_geojson("square", &serde_json::json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]})).expect("polygon");
    let near_square = query(
        "near;maxDistance==1200",
        "Polygon",
        "[[[1.01,0],[2,0],[2,1],[1.01,1],[1.01,0]]]",
    );
    assert!(near_square.matches(&square));
    let not_near = query(
        "near;maxDistance==1000",
        "Polygon",
        "[[[1.01,0],[2,0],[2,1],[1.01,1],[1.01,0]]]",
    );
    assert!(!not_near.matches(&square));
}

#[test]
fn an_identical_polygon_is_equal_even_when_its_ring_crosses_itself() {
    let ring = "[[[13.2865906,52.5648645],[13.2879639,52.5648645],[13.2797241,52.4988679],[13.477478,52.4712703],[13.5049438,52.5373084],[13.2865906,52.5648645]]]";
    let q = query("equals", "Polygon", ring);
    let same: serde_json::Value = serde_json::from_str(&format!(
        "{{\"type\": \"Polygon\", \"coordinates\": {ring}}}"
    ))
    .expect("json");
    let same = Geometry::from_geojson("same", &same).expect("polygon");
    assert!(q.matches(&same));
}
