//! Clause 4.10 and 5.7.2 geo-queries: `georel` (near with maxDistance/minDistance, within,
//! intersects, disjoint, contains, equals, overlaps), `geometry`, `coordinates`, `geoproperty`,
//! with real coordinates in Madrid and Barcelona.

use std::collections::BTreeSet;

use crate::{enc, unique, Client};
use serde_json::json;

use super::query::ids_of;

const SOL: [f64; 2] = [-3.7038, 40.4168];
/// About 340 m from Sol.
const PLAZA_MAYOR: [f64; 2] = [-3.7074, 40.4155];
/// About 1.8 km from Sol.
const RETIRO: [f64; 2] = [-3.6823, 40.4153];
const BARCELONA: [f64; 2] = [2.1734, 41.3851];
/// Central Madrid, containing the three Madrid points and the Sol district.
const CENTRE: &str = "[[[-3.72,40.40],[-3.67,40.40],[-3.67,40.43],[-3.72,40.43],[-3.72,40.40]]]";
/// A district around Sol (and Plaza Mayor), the location of the one polygon entity.
const DISTRICT: [[f64; 2]; 5] = [
    [-3.71, 40.41],
    [-3.69, 40.41],
    [-3.69, 40.425],
    [-3.71, 40.425],
    [-3.71, 40.41],
];

struct Places {
    points: String,
    zones: String,
    sol: String,
    plaza_mayor: String,
    retiro: String,
    barcelona: String,
    district: String,
}

impl Places {
    fn both(&self) -> String {
        format!("{},{}", self.points, self.zones)
    }
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

async fn places(client: &Client) -> Places {
    let (points, zones) = (unique("Poi"), unique("Zone"));
    let id = |name: &str| format!("urn:ngsi-ld:{points}:{name}");
    let p = Places {
        sol: id("sol"),
        plaza_mayor: id("plaza-mayor"),
        retiro: id("retiro"),
        barcelona: id("barcelona"),
        district: format!("urn:ngsi-ld:{zones}:centro"),
        points,
        zones,
    };
    let point = |id: &str, c: [f64; 2]| {
        json!({"id": id, "type": p.points,
               "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": c}}})
    };
    let body = json!([
        point(&p.sol, SOL),
        point(&p.plaza_mayor, PLAZA_MAYOR),
        point(&p.retiro, RETIRO),
        point(&p.barcelona, BARCELONA),
        {"id": p.district, "type": p.zones,
         "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [DISTRICT]}}}
    ]);
    client
        .post("/ngsi-ld/v1/entityOperations/create", &body)
        .await
        .assert_status(201);
    p
}

async fn geo_query(
    client: &Client,
    types: &str,
    georel: &str,
    geometry: &str,
    coords: &str,
) -> BTreeSet<String> {
    let reply = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={}&georel={}&geometry={geometry}&coordinates={}",
            enc(types),
            enc(georel),
            enc(coords)
        ))
        .await;
    ids_of(&reply)
}

fn point_text(c: [f64; 2]) -> String {
    format!("[{},{}]", c[0], c[1])
}

pub(crate) async fn near_with_max_distance_finds_close_points() {
    let client = Client::shared();
    let p = places(&client).await;
    let found = geo_query(
        &client,
        &p.points,
        "near;maxDistance==500",
        "Point",
        &point_text(SOL),
    )
    .await;
    assert_eq!(found, set(&[&p.sol, &p.plaza_mayor]));
    let found = geo_query(
        &client,
        &p.points,
        "near;maxDistance==2000",
        "Point",
        &point_text(SOL),
    )
    .await;
    assert_eq!(found, set(&[&p.sol, &p.plaza_mayor, &p.retiro]));
}

pub(crate) async fn near_with_min_distance_finds_far_points() {
    let client = Client::shared();
    let p = places(&client).await;
    let found = geo_query(
        &client,
        &p.points,
        "near;minDistance==1000",
        "Point",
        &point_text(SOL),
    )
    .await;
    assert_eq!(found, set(&[&p.retiro, &p.barcelona]));
}

pub(crate) async fn within_intersects_and_disjoint_a_polygon() {
    let client = Client::shared();
    let p = places(&client).await;
    let inside = set(&[&p.sol, &p.plaza_mayor, &p.retiro, &p.district]);
    assert_eq!(
        geo_query(&client, &p.both(), "within", "Polygon", CENTRE).await,
        inside
    );
    assert_eq!(
        geo_query(&client, &p.both(), "intersects", "Polygon", CENTRE).await,
        inside
    );
    assert_eq!(
        geo_query(&client, &p.both(), "disjoint", "Polygon", CENTRE).await,
        set(&[&p.barcelona])
    );
}

pub(crate) async fn contains_equals_and_overlaps() {
    let client = Client::shared();
    let p = places(&client).await;
    assert_eq!(
        geo_query(&client, &p.both(), "contains", "Point", "[-3.70,40.42]").await,
        set(&[&p.district])
    );
    assert_eq!(
        geo_query(
            &client,
            &p.both(),
            "equals",
            "Point",
            &point_text(PLAZA_MAYOR)
        )
        .await,
        set(&[&p.plaza_mayor])
    );
    let crossing = "[[[-3.70,40.40],[-3.68,40.40],[-3.68,40.415],[-3.70,40.415],[-3.70,40.40]]]";
    assert_eq!(
        geo_query(&client, &p.both(), "overlaps", "Polygon", crossing).await,
        set(&[&p.district])
    );
}

pub(crate) async fn geoproperty_selects_another_geo_property() {
    let client = Client::shared();
    let ty = unique("Delivery");
    let id = format!("urn:ngsi-ld:{ty}:1");
    client
        .create(&json!({
            "id": id, "type": ty,
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": BARCELONA}},
            "destination": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": SOL}}
        }))
        .await;
    let query = |geoproperty: &'static str| {
        let client = client.clone();
        let ty = ty.clone();
        async move {
            let reply = client
                .get(&format!(
                    "/ngsi-ld/v1/entities?type={ty}&georel={}&geometry=Point&coordinates={}&geoproperty={geoproperty}",
                    enc("near;maxDistance==100"),
                    enc(&point_text(SOL))
                ))
                .await;
            ids_of(&reply)
        }
    };
    assert_eq!(query("destination").await, set(&[&id]));
    assert_eq!(query("location").await, set(&[]));
}

pub(crate) async fn post_query_takes_a_geo_query() {
    let client = Client::shared();
    let p = places(&client).await;
    let body = json!({
        "type": "Query",
        "entities": [{"type": p.points}],
        "geoQ": {"geometry": "Point", "coordinates": SOL, "georel": "near;maxDistance==500"}
    });
    let reply = client
        .post("/ngsi-ld/v1/entityOperations/query", &body)
        .await;
    assert_eq!(ids_of(&reply), set(&[&p.sol, &p.plaza_mayor]));
}

pub(crate) async fn invalid_geo_queries_are_400() {
    let client = Client::shared();
    let sol = point_text(SOL);
    let cases = [
        ("nearby", "Point", sol.as_str()),
        ("near", "Point", sol.as_str()),
        ("near;maxDistance==-5", "Point", sol.as_str()),
        ("within", "Triangle", CENTRE),
        ("within", "Polygon", "[[[0,0],[1,1]]]"),
        ("intersects", "Point", "[1"),
        ("intersects", "Point", "[0,100]"),
        ("intersects", "Point", "\"here\""),
    ];
    for (georel, geometry, coords) in cases {
        let reply = client
            .get(&format!(
                "/ngsi-ld/v1/entities?type=T&georel={}&geometry={geometry}&coordinates={}",
                enc(georel),
                enc(coords)
            ))
            .await;
        assert_eq!(
            reply.status.as_u16(),
            400,
            "{georel} {geometry} {coords}: {}",
            reply.text
        );
        reply.assert_error(400, "BadRequestData");
    }
    // Parts of a geo-query without the others.
    for partial in [
        "georel=within&geometry=Polygon",
        "geometry=Point&coordinates=%5B1%2C2%5D",
    ] {
        client
            .get(&format!("/ngsi-ld/v1/entities?type=T&{partial}"))
            .await
            .assert_error(400, "BadRequestData");
    }
}

pub(crate) async fn line_strings_multi_polygons_and_the_antimeridian() {
    let client = Client::shared();
    let ty = unique("Shape");
    let id = |n: &str| format!("urn:ngsi-ld:{ty}:{n}");
    let (road, islands, dateline) = (id("road"), id("islands"), id("dateline"));
    let shape = |id: &str, geometry: serde_json::Value| json!({"id": id, "type": ty, "location": {"type": "GeoProperty", "value": geometry}});
    client
        .post(
            "/ngsi-ld/v1/entityOperations/create",
            &json!([
                shape(&road, json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]})),
                shape(&islands, json!({"type": "MultiPolygon", "coordinates": [[[[2, 2], [3, 2], [3, 3], [2, 3], [2, 2]]]]})),
                shape(&dateline, json!({"type": "Point", "coordinates": [179.9, 0]}))
            ]),
        )
        .await
        .assert_status(201);
    assert_eq!(
        geo_query(&client, &ty, "intersects", "LineString", "[[0,1],[1,0]]").await,
        set(&[&road])
    );
    assert_eq!(
        geo_query(
            &client,
            &ty,
            "within",
            "MultiPolygon",
            "[[[[1.5,1.5],[3.5,1.5],[3.5,3.5],[1.5,3.5],[1.5,1.5]]]]"
        )
        .await,
        set(&[&islands])
    );
    // 0.2 degrees of longitude at the equator, across the antimeridian: about 22 km.
    assert_eq!(
        geo_query(
            &client,
            &ty,
            "near;maxDistance==30000",
            "Point",
            "[-179.9,0]"
        )
        .await,
        set(&[&dateline])
    );
}

/// GS CIM 009 4.10: `near` measures from the reference geometry, whatever it is (the buffer of
/// the reference geometry): here the distance from a street (a LineString) to the points.
pub(crate) async fn near_measures_from_an_extended_reference_geometry() {
    let client = Client::shared();
    let p = places(&client).await;
    // Calle Mayor, from Plaza Mayor east to Sol: both about on it, Retiro 1.8 km east.
    let street = format!("[{},{}]", point_text(PLAZA_MAYOR), point_text(SOL));
    let found = geo_query(
        &client,
        &p.points,
        "near;maxDistance==200",
        "LineString",
        &street,
    )
    .await;
    assert_eq!(found, set(&[&p.sol, &p.plaza_mayor]));
    let found = geo_query(
        &client,
        &p.points,
        "near;maxDistance==2000",
        "LineString",
        &street,
    )
    .await;
    assert_eq!(found, set(&[&p.sol, &p.plaza_mayor, &p.retiro]));
    let found = geo_query(
        &client,
        &p.points,
        "near;minDistance==1000",
        "LineString",
        &street,
    )
    .await;
    assert_eq!(found, set(&[&p.retiro, &p.barcelona]));
}

/// GS CIM 009 4.10: `equals` matches the entity whose geometry is the reference geometry.
pub(crate) async fn equals_finds_the_entity_with_the_same_polygon() {
    let client = Client::shared();
    let p = places(&client).await;
    let district = serde_json::to_string(&[DISTRICT]).expect("json");
    let found = geo_query(&client, &p.zones, "equals", "Polygon", &district).await;
    assert_eq!(found, set(&[&p.district]));
    let found = geo_query(&client, &p.zones, "equals", "Polygon", CENTRE).await;
    assert!(found.is_empty(), "{found:?}");
}

/// GS CIM 009 4.7.1: a GeoProperty holds any GeoJSON geometry but a GeometryCollection; such
/// an entity is BadRequestData and is not created.
pub(crate) async fn a_geometry_collection_value_is_400_and_creates_nothing() {
    let client = Client::shared();
    let id = format!("urn:ngsi-ld:Poi:{}", unique("gc"));
    let entity = json!({"id": id, "type": "Poi", "location": {"type": "GeoProperty", "value":
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": SOL}]}}});
    client
        .post("/ngsi-ld/v1/entities", &entity)
        .await
        .assert_error(400, "BadRequestData");
    client
        .get(&crate::entity_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
}
