use serde_json::json;

use super::*;
use crate::format::parse_entity;

fn entity(id: &str, attrs: Value) -> Entity {
    let mut body = json!({"id": id, "type": "T"});
    for (k, v) in attrs.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    parse_entity(body, &ActiveContext::core()).unwrap_or_else(|e| panic!("{e}"))
}

fn order(order_by: &[&str]) -> OrderingParams {
    OrderingParams {
        order_by: order_by.iter().map(|s| (*s).to_owned()).collect(),
        ..OrderingParams::default()
    }
}

fn sorted(params: &OrderingParams, entities: Vec<Entity>) -> Vec<String> {
    EntityOrder::parse(params, &ActiveContext::core())
        .unwrap_or_else(|e| panic!("{e}"))
        .sort(entities)
        .into_iter()
        .map(|e| e.id)
        .collect()
}

fn prop(v: Value) -> Value {
    json!({"type": "Property", "value": v})
}

#[test]
fn ascending_descending_and_several_keys() {
    let es = || {
        vec![
            entity(
                "urn:b",
                json!({"name": prop(json!("b")), "n": prop(json!(1))}),
            ),
            entity(
                "urn:a",
                json!({"name": prop(json!("a")), "n": prop(json!(2))}),
            ),
            entity(
                "urn:c",
                json!({"name": prop(json!("a")), "n": prop(json!(1))}),
            ),
        ]
    };
    assert_eq!(sorted(&order(&["id"]), es()), ["urn:a", "urn:b", "urn:c"]);
    assert_eq!(
        sorted(&order(&["id;desc"]), es()),
        ["urn:c", "urn:b", "urn:a"]
    );
    assert_eq!(
        sorted(&order(&["name", "n;desc"]), es()),
        ["urn:a", "urn:c", "urn:b"]
    );
}

#[test]
fn mixed_datatypes_rank_as_clause_4_23_2_lists_them() {
    let es = vec![
        entity("urn:absent", json!({})),
        entity("urn:bool", json!({"v": prop(json!(true))})),
        entity("urn:text", json!({"v": prop(json!("x"))})),
        entity("urn:num", json!({"v": prop(json!(3))})),
        entity("urn:obj", json!({"v": prop(json!({"a": 1}))})),
    ];
    assert_eq!(
        sorted(&order(&["v"]), es),
        ["urn:num", "urn:text", "urn:obj", "urn:bool", "urn:absent"]
    );
}

#[test]
fn trailing_paths_and_sub_attributes() {
    let es = vec![
        entity(
            "urn:1",
            json!({"address": prop(json!({"city": "Zug"})), "p": {"type": "Property", "value": 1, "q": prop(json!(9))}}),
        ),
        entity(
            "urn:2",
            json!({"address": prop(json!({"city": "Bern"})), "p": {"type": "Property", "value": 1, "q": prop(json!(1))}}),
        ),
    ];
    assert_eq!(
        sorted(&order(&["address[city]"]), es.clone()),
        ["urn:2", "urn:1"]
    );
    assert_eq!(sorted(&order(&["p.q"]), es), ["urn:2", "urn:1"]);
}

#[test]
fn root_collation_puts_accents_with_their_base_letter() {
    let es = || {
        vec![
            entity("urn:1", json!({"name": prop(json!("b"))})),
            entity("urn:2", json!({"name": prop(json!("á"))})),
            entity("urn:3", json!({"name": prop(json!("A"))})),
        ]
    };
    assert_eq!(sorted(&order(&["name"]), es()), ["urn:3", "urn:2", "urn:1"]);
    let mut de = order(&["name"]);
    de.collation = Some("de-u-co-phonebk".into());
    assert_eq!(sorted(&de, es()), ["urn:3", "urn:2", "urn:1"]);
}

#[test]
fn distance_orders_geo_properties_first() {
    let at = |lon: f64, lat: f64| json!({"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}});
    let es = || {
        vec![
            entity("urn:far", at(10.0, 45.0)),
            entity("urn:none", json!({})),
            entity("urn:near", at(8.01, 40.01)),
        ]
    };
    let mut params = order(&["location;dist-asc"]);
    params.coordinates = Some(json!([8, 40]));
    assert_eq!(sorted(&params, es()), ["urn:near", "urn:far", "urn:none"]);
    params.order_by = vec!["location;dist-desc".into()];
    assert_eq!(sorted(&params, es()), ["urn:far", "urn:near", "urn:none"]);
}

#[test]
fn invalid_orderings_are_refused() {
    let ctx = ActiveContext::core();
    let refused = |params: OrderingParams| EntityOrder::parse(&params, &ctx).is_err();
    assert!(refused(order(&["location;dist-asc"])));
    assert!(refused(order(&["name;sideways"])));
    assert!(refused(order(&["name==1"])));
    assert!(refused(order(&[])));
    let mut bad = order(&["name"]);
    bad.collation = Some("!!nope".into());
    assert!(refused(bad));
    let mut bad = order(&["location;dist-asc"]);
    bad.coordinates = Some(json!("8,40"));
    assert!(refused(bad));
}
