//! Linked Entity retrieval (GS CIM 009 4.5.23): `join=inline|flat` with `joinLevel` and
//! `containedBy` on Retrieve and Query Entities, projections through Relationships (4.21
//! `rel{...}`), query terms through Relationships (4.9 `rel{Type:attr}`), and the same in
//! notifications (`notification.join`, 5.8.6).

use serde_json::{json, Value};

use super::subscriptions::{fresh_type, subscribe, subscription, WAIT};
use crate::{enc, entity_path, unique, Client, Receiver};

/// A building in a city in a country, the country's capital being that city: a graph with a
/// loop. Returns the three ids.
async fn city_graph(client: &Client, prefix: &str) -> (String, String, String) {
    let building = format!("urn:ngsi-ld:Building:{}", unique(prefix));
    let city = format!("urn:ngsi-ld:City:{}", unique(prefix));
    let country = format!("urn:ngsi-ld:Country:{}", unique(prefix));
    client
        .create(&json!({
            "id": building, "type": "Building",
            "name": {"type": "Property", "value": "Tower"},
            "locatedAt": {"type": "Relationship", "object": city}
        }))
        .await;
    client
        .create(&json!({
            "id": city, "type": "City",
            "name": {"type": "Property", "value": "Paris"},
            "population": {"type": "Property", "value": 2_100_000},
            "inCountry": {"type": "Relationship", "object": country}
        }))
        .await;
    client
        .create(&json!({
            "id": country, "type": "Country",
            "name": {"type": "Property", "value": "France"},
            "capital": {"type": "Relationship", "object": city}
        }))
        .await;
    (building, city, country)
}

fn ids(entities: &Value) -> Vec<&str> {
    entities
        .as_array()
        .expect("an array of entities")
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect()
}

/// GS CIM 009 4.5.23.2, 5.7.1.5: inline, each Linked Entity sits in an `entity` member of the
/// Relationship that targets it, one level per `joinLevel`; an id already shown is not shown
/// again (the country's capital is the city above it).
pub(crate) async fn join_inline_nests_each_level_in_its_relationship() {
    let client = Client::shared();
    let (building, city, country) = city_graph(&client, "inl").await;
    let path = entity_path(&building);
    let one = client.get(&format!("{path}?join=inline")).await;
    one.assert_status(200);
    assert_eq!(one.json["locatedAt"]["object"], city.as_str());
    assert_eq!(one.json["locatedAt"]["entity"]["id"], city.as_str());
    assert_eq!(one.json["locatedAt"]["entity"]["name"]["value"], "Paris");
    let in_country = &one.json["locatedAt"]["entity"]["inCountry"];
    assert!(
        in_country.get("entity").is_none(),
        "joinLevel defaults to 1: {}",
        one.text
    );

    let three = client.get(&format!("{path}?join=inline&joinLevel=3")).await;
    three.assert_status(200);
    let linked_country = &three.json["locatedAt"]["entity"]["inCountry"]["entity"];
    assert_eq!(linked_country["id"], country.as_str());
    let capital = &linked_country["capital"];
    assert_eq!(capital["object"], city.as_str());
    assert!(
        capital.get("entity").is_none(),
        "the loop ends: {}",
        three.text
    );

    let simplified = client
        .get(&format!("{path}?join=inline&joinLevel=2&options=keyValues"))
        .await;
    simplified.assert_status(200);
    assert_eq!(simplified.json["locatedAt"]["id"], city.as_str());
    assert_eq!(simplified.json["locatedAt"]["inCountry"]["name"], "France");
}

/// GS CIM 009 4.5.23.3, 5.7.1.5, 5.7.2.5: flattened, the response is an array of the entity
/// then its Linked Entities, each once; `containedBy` ids are not retrieved again.
pub(crate) async fn join_flat_appends_each_linked_entity_once() {
    let client = Client::shared();
    let (building, city, country) = city_graph(&client, "flat").await;
    let path = entity_path(&building);
    let flat = client.get(&format!("{path}?join=flat&joinLevel=5")).await;
    flat.assert_status(200);
    assert_eq!(ids(&flat.json), [&building, &city, &country]);
    assert!(flat.json[0]["locatedAt"].get("entity").is_none());

    let known = client
        .get(&format!(
            "{path}?join=flat&joinLevel=2&containedBy={}",
            enc(&city)
        ))
        .await;
    known.assert_status(200);
    assert_eq!(ids(&known.json), [&building]);

    // A query flattens every matching entity's Linked Entities after the page.
    let query = format!(
        "/ngsi-ld/v1/entities?type=Building&q={}&join=flat",
        enc(&format!("locatedAt==\"{city}\""))
    );
    let page = client.get(&query).await;
    page.assert_status(200);
    assert_eq!(ids(&page.json), [&building, &city]);
}

/// GS CIM 009 4.21, 5.7.1.5: `rel{a,b}` in pick projects the Linked Entities `rel` targets,
/// in omit it leaves those members out of them (and keeps `rel`); a projection through
/// Relationships without join, or deeper than joinLevel, is BadRequestData (5.7.1.4).
pub(crate) async fn projections_through_relationships_project_linked_entities() {
    let client = Client::shared();
    let (building, city, _) = city_graph(&client, "proj").await;
    let path = entity_path(&building);
    let pick = enc("id,locatedAt{id,name}");
    let picked = client
        .get(&format!("{path}?join=inline&joinLevel=2&pick={pick}"))
        .await;
    picked.assert_status(200);
    assert!(picked.json.get("type").is_none() && picked.json.get("name").is_none());
    let linked = &picked.json["locatedAt"]["entity"];
    assert_eq!(linked["id"], city.as_str());
    assert_eq!(linked["name"]["value"], "Paris");
    assert!(linked.get("population").is_none() && linked.get("inCountry").is_none());

    let omit = enc("name,locatedAt{population}");
    let omitted = client.get(&format!("{path}?join=flat&omit={omit}")).await;
    omitted.assert_status(200);
    assert!(omitted.json[0].get("name").is_none());
    assert!(omitted.json[0].get("locatedAt").is_some());
    assert_eq!(omitted.json[1]["name"]["value"], "Paris");
    assert!(omitted.json[1].get("population").is_none());

    client
        .get(&format!("{path}?pick={pick}"))
        .await
        .assert_error(400, "BadRequestData");
    let deep = enc("locatedAt{inCountry{name}}");
    client
        .get(&format!("{path}?join=inline&joinLevel=1&pick={deep}"))
        .await
        .assert_error(400, "BadRequestData");
}

/// GS CIM 009 4.9 (EXAMPLE 13, 14): `rel{attr}op value` holds when `rel` targets an entity
/// where `attr op value` holds; a type hint restricts the targets considered. A query through
/// Relationships needs Linked Entity retrieval at least as deep (5.7.2.4).
pub(crate) async fn q_through_a_relationship_matches_on_the_target() {
    let client = Client::shared();
    let (building, _, _) = city_graph(&client, "q").await;
    let query =
        |q: &str, extra: &str| format!("/ngsi-ld/v1/entities?type=Building&q={}{extra}", enc(q));
    let name_of_city = "locatedAt{name}==\"Paris\";name==\"Tower\"";
    let hit = client.get(&query(name_of_city, "&join=inline")).await;
    hit.assert_status(200);
    assert!(ids(&hit.json).contains(&building.as_str()), "{}", hit.text);

    let hinted = client
        .get(&query("locatedAt{City:population}>1000000", "&join=flat"))
        .await;
    assert!(
        ids(&hinted.json).contains(&building.as_str()),
        "{}",
        hinted.text
    );
    let wrong_type = client
        .get(&query("locatedAt{Country:population}>0", "&join=flat"))
        .await;
    wrong_type.assert_status(200);
    assert!(!ids(&wrong_type.json).contains(&building.as_str()));

    let two_levels = "locatedAt{inCountry{name}}==\"France\"";
    let deep = client
        .get(&query(two_levels, "&join=inline&joinLevel=2"))
        .await;
    assert!(
        ids(&deep.json).contains(&building.as_str()),
        "{}",
        deep.text
    );
    let negated = client
        .get(&query("locatedAt{name}!=\"Paris\"", "&join=inline"))
        .await;
    assert!(!ids(&negated.json).contains(&building.as_str()));

    client
        .get(&query(name_of_city, ""))
        .await
        .assert_error(400, "BadRequestData");
    client
        .get(&query(two_levels, "&join=inline&joinLevel=1"))
        .await
        .assert_error(400, "BadRequestData");
}

/// GS CIM 009 5.8.6, 5.2.14.1: with `notification.join` a notification carries the Linked
/// Entities of the notified entity, inline in it or appended to `data`.
pub(crate) async fn notifications_with_join_carry_the_linked_entities() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut inline = subscription(&ty, &rx.url("/inline"));
    inline["notification"]["join"] = json!("inline");
    let inline_id = subscribe(&client, &inline).await;
    let flat_rx = Receiver::start().await;
    let mut flat = subscription(&ty, &flat_rx.url("/flat"));
    flat["notification"]["join"] = json!("flat");
    flat["notification"]["joinLevel"] = json!(2);
    let flat_id = subscribe(&client, &flat).await;
    let shown = client
        .get(&format!("/ngsi-ld/v1/subscriptions/{}", enc(&flat_id)))
        .await;
    assert_eq!(shown.json["notification"]["join"], "flat", "{}", shown.text);
    assert_eq!(shown.json["notification"]["joinLevel"], 2);

    let (_, city, country) = city_graph(&client, "ntf").await;
    let car = format!("urn:ngsi-ld:Car:{}", unique("ntf"));
    client
        .create(&json!({
            "id": car, "type": ty,
            "parkedIn": {"type": "Relationship", "object": city}
        }))
        .await;
    let n = rx.nth(1, WAIT).await;
    assert_eq!(n.body["subscriptionId"], inline_id.as_str());
    assert_eq!(
        n.entity()["parkedIn"]["entity"]["id"],
        city.as_str(),
        "{}",
        n.body
    );
    let n = flat_rx.nth(1, WAIT).await;
    assert_eq!(ids(&n.body["data"]), [&car, &city, &country], "{}", n.body);
}

/// GS CIM 009 4.9, 5.8.6: a subscription's `q` may go through a Relationship: only the
/// entities whose target matches are notified.
pub(crate) async fn a_subscription_q_through_a_relationship_notifies_matching_targets() {
    let client = Client::shared();
    let ty = fresh_type();
    let rx = Receiver::start().await;
    let mut sub = subscription(&ty, &rx.url("/q"));
    sub["q"] = json!("chargedBy{level}<0.5");
    subscribe(&client, &sub).await;
    let low = format!("urn:ngsi-ld:Battery:{}", unique("low"));
    let full = format!("urn:ngsi-ld:Battery:{}", unique("full"));
    for (id, level) in [(&low, 0.2), (&full, 0.9)] {
        client
            .create(&json!({"id": id, "type": "Battery", "level": {"type": "Property", "value": level}}))
            .await;
    }
    let on_full = format!("urn:ngsi-ld:Car:{}", unique("f"));
    let on_low = format!("urn:ngsi-ld:Car:{}", unique("l"));
    for (car, battery) in [(&on_full, &full), (&on_low, &low)] {
        client
            .create(&json!({"id": car, "type": ty, "chargedBy": {"type": "Relationship", "object": battery}}))
            .await;
    }
    let n = rx.nth(1, WAIT).await;
    assert_eq!(n.entity()["id"], on_low.as_str(), "{}", n.body);
    assert!(
        rx.try_nth(2, std::time::Duration::from_millis(500))
            .await
            .is_none(),
        "the car on a full battery is not notified"
    );
}
