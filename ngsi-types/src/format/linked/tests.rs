use serde_json::{json, Value};

use super::*;
use crate::format::parse_entity;

fn entity(v: Value) -> Entity {
    parse_entity(v, &ActiveContext::core()).expect("entity")
}

fn building() -> Entity {
    entity(json!({
        "id": "urn:B:1", "type": "Building",
        "name": {"type": "Property", "value": "Tower"},
        "locatedAt": {"type": "Relationship", "object": "urn:City:1"}
    }))
}

fn city() -> Entity {
    entity(json!({
        "id": "urn:City:1", "type": "City",
        "name": {"type": "Property", "value": "Paris"},
        "inCountry": {"type": "Relationship", "object": "urn:Country:1"}
    }))
}

fn country() -> Entity {
    entity(json!({
        "id": "urn:Country:1", "type": "Country",
        "name": {"type": "Property", "value": "France"},
        "capital": {"type": "Relationship", "object": "urn:City:1"}
    }))
}

/// Drives a retrieval the way the broker does, over an in-memory set of entities.
fn retrieve(
    roots: &[Entity],
    projection: &Projection,
    levels: usize,
    held: &[Entity],
) -> LinkedEntities {
    let mut linked = LinkedEntities::new(roots, projection, &[]);
    for _ in 0..levels {
        let wanted = linked.wanted();
        let fetched = held
            .iter()
            .filter(|e| wanted.contains(&e.id))
            .cloned()
            .collect();
        linked.add_level(fetched);
    }
    linked
}

fn opts(projection: &Projection, format: Format) -> RenderOptions<'_> {
    RenderOptions {
        format,
        sys_attrs: false,
        lang: None,
        projection: Some(projection),
    }
}

#[test]
fn inline_nests_each_level_in_the_relationship_that_targets_it() {
    let all = Projection::default();
    let roots = [building()];
    let linked = retrieve(&roots, &all, 2, &[city(), country()]);
    let ctx = ActiveContext::core();
    let out = Value::Object(linked.render_inline(&roots[0], &ctx, &opts(&all, Format::Normalized)));
    assert_eq!(out["locatedAt"]["entity"]["id"], "urn:City:1");
    assert_eq!(
        out["locatedAt"]["entity"]["inCountry"]["entity"]["id"],
        "urn:Country:1"
    );
    // The country's capital is the city, encountered already: not shown again.
    let capital = &out["locatedAt"]["entity"]["inCountry"]["entity"]["capital"];
    assert_eq!(capital["object"], "urn:City:1");
    assert!(capital.get("entity").is_none(), "{capital}");
}

#[test]
fn the_join_level_bounds_the_depth() {
    let all = Projection::default();
    let roots = [building()];
    let linked = retrieve(&roots, &all, 1, &[city(), country()]);
    let ctx = ActiveContext::core();
    let out = Value::Object(linked.render_inline(&roots[0], &ctx, &opts(&all, Format::Normalized)));
    assert_eq!(out["locatedAt"]["entity"]["id"], "urn:City:1");
    assert!(out["locatedAt"]["entity"]["inCountry"]
        .get("entity")
        .is_none());
    assert_eq!(linked.wanted(), vec!["urn:Country:1".to_owned()]);
}

#[test]
fn flat_appends_every_linked_entity_once_and_ends_loops() {
    let all = Projection::default();
    let roots = [building()];
    let linked = retrieve(&roots, &all, 5, &[city(), country()]);
    let ctx = ActiveContext::core();
    let ids: Vec<Value> = linked
        .render_flat(&roots, &ctx, &opts(&all, Format::Normalized))
        .into_iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![
            json!("urn:B:1"),
            json!("urn:City:1"),
            json!("urn:Country:1")
        ]
    );
    assert!(linked.wanted().is_empty());
}

#[test]
fn contained_by_ids_are_not_retrieved_again() {
    let all = Projection::default();
    let roots = [building()];
    let linked = LinkedEntities::new(&roots, &all, &["urn:City:1".to_owned()]);
    assert!(linked.wanted().is_empty());
}

#[test]
fn a_missing_target_leaves_the_relationship_as_it_is() {
    let all = Projection::default();
    let roots = [building()];
    let linked = retrieve(&roots, &all, 1, &[]);
    let ctx = ActiveContext::core();
    let out = Value::Object(linked.render_inline(&roots[0], &ctx, &opts(&all, Format::Normalized)));
    assert_eq!(
        out["locatedAt"],
        json!({"type": "Relationship", "object": "urn:City:1"})
    );
    assert!(linked.is_empty());
}

#[test]
fn key_values_put_the_linked_entity_in_place_of_its_id() {
    let all = Projection::default();
    let roots = [building()];
    let linked = retrieve(&roots, &all, 1, &[city()]);
    let ctx = ActiveContext::core();
    let out = Value::Object(linked.render_inline(&roots[0], &ctx, &opts(&all, Format::KeyValues)));
    assert_eq!(out["locatedAt"]["id"], "urn:City:1");
    assert_eq!(out["locatedAt"]["name"], "Paris");
    assert_eq!(out["locatedAt"]["inCountry"], "urn:Country:1");
}

#[test]
fn a_nested_pick_projects_the_linked_entities() {
    let ctx = ActiveContext::core();
    let pick = Projection::parse(None, Some("id,locatedAt{id,name}"), None, &ctx).expect("pick");
    assert_eq!(pick.depth(), 1);
    let roots = [building()];
    let linked = retrieve(&roots, &pick, 2, &[city(), country()]);
    let out =
        Value::Object(linked.render_inline(&roots[0], &ctx, &opts(&pick, Format::Normalized)));
    assert!(out.get("name").is_none() && out.get("type").is_none());
    let city = &out["locatedAt"]["entity"];
    assert_eq!(city["name"]["value"], "Paris");
    // inCountry is not picked, so the country is never wanted.
    assert!(city.get("inCountry").is_none() && city.get("type").is_none());
    assert_eq!(linked.len(), 1);
}

#[test]
fn a_nested_omit_leaves_members_out_of_the_linked_entities_only() {
    let ctx = ActiveContext::core();
    let omit = Projection::parse(None, None, Some("type,locatedAt{name}"), &ctx).expect("omit");
    let roots = [building()];
    let linked = retrieve(&roots, &omit, 1, &[city()]);
    let flat = linked.render_flat(&roots, &ctx, &opts(&omit, Format::Normalized));
    assert!(flat[0].get("type").is_none() && flat[0].contains_key("locatedAt"));
    assert_eq!(flat[0]["name"]["value"], "Tower");
    assert!(flat[1].get("name").is_none());
    assert_eq!(flat[1]["type"], "City");
}

#[test]
fn list_relationships_get_an_entity_list() {
    let route = entity(json!({
        "id": "urn:Route:1", "type": "Route",
        "stops": {"type": "ListRelationship", "objectList": [{"object": "urn:City:1"}, {"object": "urn:Nowhere:1"}]}
    }));
    let all = Projection::default();
    let roots = [route];
    let linked = retrieve(&roots, &all, 1, &[city()]);
    let ctx = ActiveContext::core();
    let out = Value::Object(linked.render_inline(&roots[0], &ctx, &opts(&all, Format::Normalized)));
    let list = out["stops"]["entityList"].as_array().expect("entityList");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "urn:City:1");
}
