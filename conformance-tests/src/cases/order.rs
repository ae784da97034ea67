//! Clause 4.23 (Entity ordering): `orderBy` with its directions, several keys, sub-attribute
//! and trailing paths, ordering by distance, the datatype ranks of 4.23.2 and ICU collation,
//! by URI parameters (6.4.3.2) and by the `ordering` member of a Query (5.2.43).

use serde_json::{json, Value};

use super::query::ids_in_order;
use crate::{enc, unique, Client};

/// Creates entities of a fresh type from `(suffix, attributes)`; returns the type and ids.
async fn create(client: &Client, entities: &[(&str, Value)]) -> (String, Vec<String>) {
    let ty = unique("Ordered");
    let mut ids = Vec::new();
    for (suffix, attrs) in entities {
        let id = format!("urn:ngsi-ld:{ty}:{suffix}");
        let mut body = json!({"id": id, "type": ty});
        for (k, v) in attrs.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        client.create(&body).await;
        ids.push(id);
    }
    (ty, ids)
}

fn list(ids: &[&String]) -> Vec<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

fn prop(v: Value) -> Value {
    json!({"type": "Property", "value": v})
}

fn point(lon: f64, lat: f64) -> Value {
    json!({"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}})
}

pub(crate) async fn order_by_sorts_before_paging_in_either_direction() {
    let client = Client::shared();
    let (ty, ids) = create(
        &client,
        &[
            (
                "c",
                json!({"name": prop(json!("b")), "rank": prop(json!(1)),
                         "address": prop(json!({"city": "Zug"}))}),
            ),
            (
                "a",
                json!({"name": prop(json!("a")), "rank": prop(json!(2)),
                         "address": prop(json!({"city": "Bern"}))}),
            ),
            (
                "b",
                json!({"name": {"type": "Property", "value": "a", "since": prop(json!(5))},
                         "rank": prop(json!(1)), "address": prop(json!({"city": "Chur"}))}),
            ),
        ],
    )
    .await;
    let (c, a, b) = (&ids[0], &ids[1], &ids[2]);
    let order = |order_by: &str, extra: &str| {
        let client = client.clone();
        let path = format!(
            "/ngsi-ld/v1/entities?type={ty}&orderBy={}{extra}",
            enc(order_by)
        );
        async move { ids_in_order(&client.get(&path).await) }
    };
    assert_eq!(order("id", "").await, list(&[a, b, c]));
    assert_eq!(order("id;desc", "").await, list(&[c, b, a]));
    assert_eq!(order("name,rank;desc", "").await, list(&[a, b, c]));
    assert_eq!(order("rank;desc,id;desc", "").await, list(&[a, c, b]));
    assert_eq!(order("address[city]", "").await, list(&[a, b, c]));
    assert_eq!(order("createdAt;desc", "").await, list(&[b, a, c]));
    // Entities without the sub-attribute come after those with it.
    assert_eq!(order("name.since,id", "").await, list(&[b, a, c]));
    // The order is applied to all matches, then the page is cut.
    assert_eq!(order("id;desc", "&limit=1&offset=1").await, list(&[b]));
    let counted = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={ty}&orderBy=id&limit=2&count=true"
        ))
        .await;
    assert_eq!(ids_in_order(&counted), list(&[a, b]));
    assert_eq!(counted.header("ngsild-results-count"), Some("3"));
    // Ordering is local (5.7.2.4): Oxion executes every query locally, local=true or not.
    assert_eq!(order("id", "&local=true").await, list(&[a, b, c]));
}

/// 4.23.2: numbers, then strings, objects, arrays, booleans, and absent attributes last; strings
/// by the ICU root collation (4.23.1), which puts an accented letter beside its base letter.
pub(crate) async fn order_by_ranks_datatypes_and_collates_strings() {
    let client = Client::shared();
    let (ty, ids) = create(
        &client,
        &[
            ("absent", json!({})),
            ("bool", json!({"v": prop(json!(true))})),
            ("text", json!({"v": prop(json!("x"))})),
            ("num", json!({"v": prop(json!(3))})),
            ("obj", json!({"v": prop(json!({"a": 1}))})),
        ],
    )
    .await;
    let got = client
        .get(&format!("/ngsi-ld/v1/entities?type={ty}&orderBy=v"))
        .await;
    assert_eq!(
        ids_in_order(&got),
        list(&[&ids[3], &ids[2], &ids[4], &ids[1], &ids[0]])
    );
    let (ty, ids) = create(
        &client,
        &[
            ("1", json!({"name": prop(json!("b"))})),
            ("2", json!({"name": prop(json!("á"))})),
            ("3", json!({"name": prop(json!("A"))})),
            ("4", json!({"name": prop(json!("Zebra"))})),
        ],
    )
    .await;
    for collation in ["", "&collation=und-x-icu", "&collation=de-u-co-phonebk"] {
        let got = client
            .get(&format!(
                "/ngsi-ld/v1/entities?type={ty}&orderBy=name{collation}"
            ))
            .await;
        assert_eq!(
            ids_in_order(&got),
            list(&[&ids[2], &ids[1], &ids[0], &ids[3]]),
            "{collation}"
        );
    }
}

/// 4.23.1, 5.2.43: distance from a reference geometry, GeoProperties first, by URI parameters
/// or by the `ordering` of a Query.
pub(crate) async fn order_by_distance_puts_the_nearest_first() {
    let client = Client::shared();
    let (ty, ids) = create(
        &client,
        &[
            ("far", json!({"location": point(10.0, 45.0)})),
            ("none", json!({})),
            ("near", json!({"location": point(8.01, 40.01)})),
        ],
    )
    .await;
    let (far, none, near) = (&ids[0], &ids[1], &ids[2]);
    let by_uri = |style: &str| {
        let client = client.clone();
        let path = format!(
            "/ngsi-ld/v1/entities?type={ty}&orderBy=location;{style}&orderFrom={}",
            enc("[8,40]")
        );
        async move { ids_in_order(&client.get(&path).await) }
    };
    assert_eq!(by_uri("dist-asc").await, list(&[near, far, none]));
    assert_eq!(by_uri("dist-desc").await, list(&[far, near, none]));
    let body = json!({
        "type": "Query",
        "entities": [{"type": ty}],
        "ordering": {"orderBy": ["location;dist-asc"], "coordinates": [8, 40], "geometry": "Point"}
    });
    let got = client
        .post("/ngsi-ld/v1/entityOperations/query", &body)
        .await;
    assert_eq!(ids_in_order(&got), list(&[near, far, none]));
}

/// 5.7.2.4: distance ordering without a reference geometry, a collation that is not an ICU
/// tag, or a malformed ordering is BadRequestData.
pub(crate) async fn invalid_orderings_are_400() {
    let client = Client::shared();
    for query in [
        "orderBy=location;dist-asc".to_owned(),
        "orderBy=name;sideways".to_owned(),
        "orderBy=name&collation=!!nope".to_owned(),
        format!("orderBy=location;dist-asc&orderFrom={}", enc("8,40")),
        format!("orderFrom={}", enc("[8,40]")),
        format!("orderBy={}", enc("name==1")),
    ] {
        client
            .get(&format!("/ngsi-ld/v1/entities?type=T&{query}"))
            .await
            .assert_error(400, "BadRequestData");
    }
    for ordering in [
        json!({"orderBy": ["location;dist-asc"]}),
        json!({"orderBy": ["location;dist-asc"], "coordinates": "8,40"}),
        json!({"orderBy": ["id;asc"], "geometry": 5}),
        json!({"orderBy": ["id;asc"], "collation": "not a bcp47 tag!!"}),
        json!({"orderBy": "id"}),
    ] {
        let body = json!({"type": "Query", "entities": [{"type": "T"}], "ordering": ordering});
        client
            .post("/ngsi-ld/v1/entityOperations/query", &body)
            .await
            .assert_error(400, "BadRequestData");
    }
}
