//! The temporal API (GS CIM 009 5.6.11-5.6.16, 5.7.3-5.7.4, 4.5.7-4.5.9, 4.5.19, 4.11,
//! 6.3.10): temporal evolutions written through `/temporal/entities` and recorded from the
//! entity API, read back whole, by time, as pairs and aggregated per period.

use reqwest::Method;
use serde_json::{json, Value};

use crate::broker::BrokerProcess;
use crate::{enc, entity_path, urn, Client};

const TEMPORAL: &str = "/ngsi-ld/v1/temporal/entities";

fn temporal_path(id: &str) -> String {
    format!("{TEMPORAL}/{}", enc(id))
}

/// A vehicle whose speed was observed at 12:00, 12:10 and 12:20 and whose fuel level at
/// 12:05 and 13:05 (`type`: a type of the case's own, so queries see only its entities).
fn evolution(id: &str, ty: &str) -> Value {
    json!({
        "id": id,
        "type": ty,
        "speed": [
            {"type": "Property", "value": 10, "observedAt": "2024-05-01T12:00:00Z"},
            {"type": "Property", "value": 20, "observedAt": "2024-05-01T12:10:00Z"},
            {"type": "Property", "value": 60, "observedAt": "2024-05-01T12:20:00Z"}
        ],
        "fuelLevel": [
            {"type": "Property", "value": 0.5, "observedAt": "2024-05-01T12:05:00Z"},
            {"type": "Property", "value": 0.4, "observedAt": "2024-05-01T13:05:00Z"}
        ]
    })
}

fn values(attr: &Value) -> Vec<Value> {
    attr.as_array()
        .unwrap_or_else(|| panic!("not an array of instances: {attr}"))
        .iter()
        .map(|i| i["value"].clone())
        .collect()
}

async fn create(client: &Client, body: &Value) {
    client.post(TEMPORAL, body).await.assert_status(201);
}

pub(crate) async fn created_evolution_is_retrieved_oldest_first_with_instance_ids() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let reply = client.post(TEMPORAL, &evolution(&id, "Vehicle")).await;
    reply.assert_status(201);
    let location = reply.header("location").expect("a Location").to_owned();
    assert!(location.starts_with(TEMPORAL), "{location}");
    // The Location names the temporal evolution.
    let got = client.get(&location).await;
    got.assert_status(200);
    assert_eq!(
        values(&got.json["speed"]),
        [json!(10), json!(20), json!(60)]
    );
    assert_eq!(values(&got.json["fuelLevel"]), [json!(0.5), json!(0.4)]);
    let ids: Vec<&str> = got.json["speed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["instanceId"].as_str())
        .collect();
    assert_eq!(
        ids.len(),
        3,
        "every instance has an instanceId: {}",
        got.text
    );
    assert!(ids.iter().all(|i| i.starts_with("urn:")), "URIs: {ids:?}");
    assert_eq!(got.json["speed"][1]["observedAt"], "2024-05-01T12:10:00Z");
    // Creating it again adds instances and is 204 (5.6.11.4).
    let more = json!({"id": id, "type": "Vehicle", "speed": {"type": "Property", "value": 70, "observedAt": "2024-05-01T12:30:00Z"}});
    client.post(TEMPORAL, &more).await.assert_status(204);
    let got = client.get(&temporal_path(&id)).await;
    assert_eq!(
        values(&got.json["speed"]),
        [json!(10), json!(20), json!(60), json!(70)]
    );
    client
        .get(&temporal_path(&urn("Vehicle")))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn entity_api_writes_are_recorded_as_instances() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client
        .create(&json!({"id": id, "type": "Vehicle", "speed": {"type": "Property", "value": 1}}))
        .await;
    for speed in [2, 3] {
        client
            .patch(
                &format!("{}/attrs/speed", entity_path(&id)),
                &json!({"type": "Property", "value": speed}),
            )
            .await
            .assert_status(204);
    }
    client
        .post(
            &format!("{}/attrs", entity_path(&id)),
            &json!({"brand": {"type": "Property", "value": "Volvo"}}),
        )
        .await
        .assert_status(204);
    let by_creation = "timeproperty=createdAt&timerel=after&timeAt=2000-01-01T00:00:00Z";
    let got = client
        .get(&format!(
            "{}?{by_creation}&options=sysAttrs",
            temporal_path(&id)
        ))
        .await;
    got.assert_status(200);
    assert_eq!(values(&got.json["speed"]), [json!(1), json!(2), json!(3)]);
    assert_eq!(values(&got.json["brand"]), [json!("Volvo")]);
    assert!(got.json["createdAt"].is_string(), "sysAttrs: {}", got.text);

    // Deleting the attribute records a deletion instance (NGSI-LD Null, deletedAt).
    client
        .delete(&format!("{}/attrs/speed", entity_path(&id)))
        .await
        .assert_status(204);
    let deleted = client
        .get(&format!(
            "{}?timeproperty=deletedAt&timerel=after&timeAt=2000-01-01T00:00:00Z",
            temporal_path(&id)
        ))
        .await;
    deleted.assert_status(200);
    let speed = deleted.json["speed"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        speed.len(),
        1,
        "only the deletion has a deletedAt: {}",
        deleted.text
    );
    assert_eq!(speed[0]["value"], "urn:ngsi-ld:null");
    assert!(speed[0]["deletedAt"].is_string());
    assert!(deleted.json.get("brand").is_none(), "{}", deleted.text);

    // Deleting the entity keeps its history, marked deleted.
    client.delete(&entity_path(&id)).await.assert_status(204);
    let after = client
        .get(&format!(
            "{}?{by_creation}&options=sysAttrs",
            temporal_path(&id)
        ))
        .await;
    after.assert_status(200);
    assert!(after.json["deletedAt"].is_string(), "{}", after.text);
    assert_eq!(
        values(&after.json["brand"]),
        [json!("Volvo"), json!("urn:ngsi-ld:null")]
    );
}

pub(crate) async fn timerel_selects_instances_in_the_interval() {
    let client = Client::shared();
    let ty = crate::unique("Car");
    let (a, b) = (urn("Car"), urn("Car"));
    create(&client, &evolution(&a, &ty)).await;
    let mut late = evolution(&b, &ty);
    late["speed"] = json!({"type": "Property", "value": 99, "observedAt": "2024-05-02T00:00:00Z"});
    late.as_object_mut().map(|m| m.remove("fuelLevel"));
    create(&client, &late).await;
    let query = |rel: &str| {
        let client = client.clone();
        let path = format!("{TEMPORAL}?type={ty}&attrs=speed&{rel}");
        async move { client.get(&path).await }
    };
    let between =
        query("timerel=between&timeAt=2024-05-01T12:10:00Z&endTimeAt=2024-05-01T12:20:00Z").await;
    between.assert_status(200);
    let entities = between.json.as_array().cloned().unwrap_or_default();
    assert_eq!(
        entities.len(),
        1,
        "b has no instance in the interval: {}",
        between.text
    );
    assert_eq!(entities[0]["id"], json!(a));
    // timeAt is inclusive, endTimeAt exclusive (4.11).
    assert_eq!(values(&entities[0]["speed"]), [json!(20)]);
    assert!(entities[0].get("fuelLevel").is_none(), "attrs=speed");

    let before = query("timerel=before&timeAt=2024-05-01T12:10:00Z").await;
    assert_eq!(values(&before.json[0]["speed"]), [json!(10)]);
    let after = query("timerel=after&timeAt=2024-05-01T12:10:00Z").await;
    let ids: Vec<&Value> = after
        .json
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(
        ids,
        [&json!(a), &json!(b)],
        "both, in id order: {}",
        after.text
    );
    let last = query("timerel=after&timeAt=2024-01-01T00:00:00Z&lastN=2").await;
    assert_eq!(values(&last.json[0]["speed"]), [json!(20), json!(60)]);

    // A temporal query needs its timerel (5.7.4.4), and a between its endTimeAt.
    client
        .get(&format!("{TEMPORAL}?type={ty}"))
        .await
        .assert_error(400, "BadRequestData");
    query("timerel=between&timeAt=2024-05-01T12:10:00Z")
        .await
        .assert_error(400, "BadRequestData");
    query("timerel=whenever&timeAt=2024-05-01T12:10:00Z")
        .await
        .assert_error(400, "BadRequestData");
}

pub(crate) async fn temporal_values_pair_each_value_with_its_time() {
    let client = Client::shared();
    let id = urn("Vehicle");
    create(&client, &evolution(&id, "Vehicle")).await;
    let got = client
        .get(&format!("{}?options=temporalValues", temporal_path(&id)))
        .await;
    got.assert_status(200);
    assert_eq!(
        got.json["speed"],
        json!({"type": "Property", "values": [
            [10, "2024-05-01T12:00:00Z"],
            [20, "2024-05-01T12:10:00Z"],
            [60, "2024-05-01T12:20:00Z"]
        ]})
    );
}

pub(crate) async fn aggregated_values_are_computed_per_period() {
    let client = Client::shared();
    let id = urn("Vehicle");
    create(&client, &evolution(&id, "Vehicle")).await;
    let got = client
        .get(&format!(
            "{}?options=aggregatedValues&aggrMethods=avg,max,totalCount&aggrPeriodDuration=PT1H\
             &timerel=between&timeAt=2024-05-01T12:00:00Z&endTimeAt=2024-05-01T14:00:00Z",
            temporal_path(&id)
        ))
        .await;
    got.assert_status(200);
    let speed = &got.json["speed"];
    assert_eq!(speed["type"], "Property");
    let avg = speed["avg"].as_array().cloned().unwrap_or_default();
    assert_eq!(avg.len(), 1, "only 12:00-13:00 has speeds: {speed}");
    assert_eq!(avg[0][0].as_f64(), Some(30.0));
    assert_eq!(avg[0][1], "2024-05-01T12:00:00Z");
    assert_eq!(avg[0][2], "2024-05-01T13:00:00Z");
    assert_eq!(speed["max"][0][0].as_f64(), Some(60.0));
    let fuel = got.json["fuelLevel"]["totalCount"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(fuel.len(), 2, "one instance in each hour: {}", got.text);
    // Aggregation needs its methods; unknown ones and bad durations are refused.
    for bad in [
        "options=aggregatedValues",
        "options=aggregatedValues&aggrMethods=median",
        "options=aggregatedValues&aggrMethods=avg&aggrPeriodDuration=an-hour",
    ] {
        client
            .get(&format!("{}?{bad}", temporal_path(&id)))
            .await
            .assert_error(400, "BadRequestData");
    }
}

pub(crate) async fn attributes_and_instances_are_added_modified_and_deleted() {
    let client = Client::shared();
    let id = urn("Vehicle");
    create(&client, &evolution(&id, "Vehicle")).await;
    let attrs = format!("{}/attrs", temporal_path(&id));
    client
        .post(
            &attrs,
            &json!({"brand": [{"type": "Property", "value": "Volvo", "observedAt": "2024-05-01T12:00:00Z"}]}),
        )
        .await
        .assert_status(204);
    client
        .post(
            &format!("{}/attrs", temporal_path(&urn("Vehicle"))),
            &json!({"brand": {"type": "Property", "value": 1}}),
        )
        .await
        .assert_error(404, "ResourceNotFound");

    let got = client.get(&temporal_path(&id)).await;
    assert_eq!(values(&got.json["brand"]), [json!("Volvo")]);
    let first = got.json["speed"][0]["instanceId"]
        .as_str()
        .expect("instanceId")
        .to_owned();
    let instance = format!("{attrs}/speed/{}", enc(&first));
    client
        .patch(
            &instance,
            &json!({"speed": [{"type": "Property", "value": 11, "observedAt": "2024-05-01T12:00:00Z"}]}),
        )
        .await
        .assert_status(204);
    let got = client.get(&temporal_path(&id)).await;
    assert_eq!(
        values(&got.json["speed"]),
        [json!(11), json!(20), json!(60)]
    );
    assert_eq!(
        got.json["speed"][0]["instanceId"],
        json!(first),
        "same instance"
    );

    client.delete(&instance).await.assert_status(204);
    client
        .delete(&instance)
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .delete(&format!("{attrs}/speed/not-a-uri"))
        .await
        .assert_error(400, "BadRequestData");
    let got = client.get(&temporal_path(&id)).await;
    assert_eq!(values(&got.json["speed"]), [json!(20), json!(60)]);

    client
        .delete(&format!("{attrs}/fuelLevel?deleteAll=true"))
        .await
        .assert_status(204);
    let got = client.get(&temporal_path(&id)).await;
    assert!(got.json.get("fuelLevel").is_none(), "{}", got.text);
    client
        .delete(&format!("{attrs}/fuelLevel?deleteAll=true"))
        .await
        .assert_error(404, "ResourceNotFound");

    client.delete(&temporal_path(&id)).await.assert_status(204);
    client
        .get(&temporal_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .delete(&temporal_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn query_by_post_takes_the_temporal_query_from_the_body() {
    let client = Client::shared();
    let ty = crate::unique("Car");
    let id = urn("Car");
    create(&client, &evolution(&id, &ty)).await;
    let query = json!({
        "type": "Query",
        "entities": [{"type": ty}],
        "attrs": ["speed"],
        "temporalQ": {"timerel": "before", "timeAt": "2024-05-01T12:15:00Z", "lastN": 1}
    });
    let got = client
        .post("/ngsi-ld/v1/temporal/entityOperations/query", &query)
        .await;
    got.assert_status(200);
    assert_eq!(got.json.as_array().map(Vec::len), Some(1), "{}", got.text);
    assert_eq!(values(&got.json[0]["speed"]), [json!(20)]);
    let mut without = query.clone();
    without.as_object_mut().map(|m| m.remove("temporalQ"));
    client
        .post("/ngsi-ld/v1/temporal/entityOperations/query", &without)
        .await
        .assert_error(400, "BadRequestData");
}

/// GS CIM 009 6.3.10: an answer larger than the broker sends at once is a 206 with the range
/// it holds; the client asks for the rest by moving timeAt.
pub(crate) async fn a_large_evolution_is_answered_in_time_ranges() {
    let broker = BrokerProcess::start(&["--temporal-max-instances", "4"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let id = urn("Vehicle");
    create(&client, &evolution(&id, "Vehicle")).await;
    let forwards = client
        .get(&format!(
            "{}?timerel=after&timeAt=2024-05-01T00:00:00Z",
            temporal_path(&id)
        ))
        .await;
    forwards.assert_status(206);
    assert_eq!(
        forwards.header("content-range"),
        Some("DateTime 2024-05-01T00:00:00Z-2024-05-01T12:20:00Z/*")
    );
    assert_eq!(
        values(&forwards.json["speed"]),
        [json!(10), json!(20), json!(60)]
    );
    assert_eq!(values(&forwards.json["fuelLevel"]), [json!(0.5)]);

    let backwards = client
        .get(&format!(
            "{}?timerel=before&timeAt=2024-06-01T00:00:00Z&lastN=3",
            temporal_path(&id)
        ))
        .await;
    backwards.assert_status(206);
    assert_eq!(
        backwards.header("content-range"),
        Some("DateTime 2024-06-01T00:00:00Z-2024-05-01T12:05:00Z/3")
    );
    assert_eq!(values(&backwards.json["speed"]), [json!(20), json!(60)]);
    assert_eq!(
        values(&backwards.json["fuelLevel"]),
        [json!(0.5), json!(0.4)]
    );

    // What fits is a 200 with no range.
    let small = client
        .get(&format!("{}?attrs=speed", temporal_path(&id)))
        .await;
    small.assert_status(200);
    assert_eq!(small.header("content-range"), None);
    let mut broker = broker;
    broker.kill_hard();
}

pub(crate) async fn invalid_temporal_requests_are_400() {
    let client = Client::shared();
    for bad in [
        json!({"type": "Vehicle", "speed": {"type": "Property", "value": 1}}),
        json!({"id": "not a uri", "type": "Vehicle"}),
        json!({"id": urn("Vehicle")}),
        json!([1, 2]),
    ] {
        let reply = client.post(TEMPORAL, &bad).await;
        assert_eq!(reply.status.as_u16(), 400, "{bad}: {}", reply.text);
    }
    client
        .send(
            Method::POST,
            TEMPORAL,
            Some(("application/json", b"{not json".to_vec())),
            &[],
        )
        .await
        .assert_error(400, "InvalidRequest");
    client
        .get(&format!(
            "{TEMPORAL}?type=Vehicle&timerel=after&timeAt=2024-01-01T00:00:00Z&orderBy=speed"
        ))
        .await
        .assert_error(400, "BadRequestData");
}

/// `--temporal-retention`: instances observed longer ago than the retention are dropped in the
/// background (the first round runs at start), later ones stay; `/metrics` counts both.
pub(crate) async fn retention_drops_old_instances_and_keeps_recent_ones() {
    let mut broker = BrokerProcess::start(&["--temporal-retention", "1d"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let id = urn("Vehicle");
    create(
        &client,
        &json!({"id": id, "type": "Vehicle", "speed": [
            {"type": "Property", "value": 1, "observedAt": "2000-01-01T00:00:00Z"},
            {"type": "Property", "value": 2, "observedAt": "2999-01-01T00:00:00Z"}
        ]}),
    )
    .await;
    let metrics = client.get("/metrics").await;
    assert!(
        metrics
            .text
            .contains("oxion_temporal_instances_recorded_total 2"),
        "{}",
        metrics.text
    );
    broker.restart().expect("restarts");
    // A new client: the old one's pooled connections went with the old process.
    let client = Client::new(&broker.base_url);
    // The first round runs as the broker starts, in the background: wait for it, bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = client.get(&temporal_path(&id)).await;
        got.assert_status(200);
        if values(&got.json["speed"]) == [json!(2)] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not dropped: {}",
            got.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let metrics = client.get("/metrics").await;
    assert!(
        metrics
            .text
            .contains("oxion_temporal_instances_expired_total 1"),
        "{}",
        metrics.text
    );
    broker.kill_hard();
}

/// `--temporal off`: the entity API works as ever and the temporal API is refused.
pub(crate) async fn temporal_off_records_nothing_and_refuses_the_temporal_api() {
    let mut broker = BrokerProcess::start(&["--temporal", "off"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let id = urn("Vehicle");
    client
        .create(&json!({"id": id, "type": "Vehicle", "speed": {"type": "Property", "value": 1}}))
        .await;
    client
        .get(&temporal_path(&id))
        .await
        .assert_error(422, "OperationNotSupported");
    client
        .post(TEMPORAL, &evolution(&urn("Vehicle"), "Vehicle"))
        .await
        .assert_error(422, "OperationNotSupported");
    client.get(&entity_path(&id)).await.assert_status(200);
    broker.kill_hard();
}

/// GS CIM 009 4.18, 5.7.4.4: the scope has an evolution of its own; a scopeQ selects the
/// entities whose matching scope was valid in the interval, with the instances observed
/// while it was; the entity API records scope changes.
pub(crate) async fn scope_q_follows_the_scopes_evolution() {
    let client = Client::shared();
    let ty = crate::unique("Car");
    let moved = urn("Car");
    create(
        &client,
        &json!({"id": moved, "type": ty,
        "scope": [
            {"type": "Property", "value": "/Madrid", "observedAt": "2024-05-01T10:00:00Z"},
            {"type": "Property", "value": "/Paris", "observedAt": "2024-05-01T12:30:00Z"}
        ],
        "speed": [
            {"type": "Property", "value": 1, "observedAt": "2024-05-01T12:15:00Z"},
            {"type": "Property", "value": 2, "observedAt": "2024-05-01T12:45:00Z"}
        ]}),
    )
    .await;
    let window = "timerel=between&timeAt=2024-05-01T12:00:00Z&endTimeAt=2024-05-01T13:00:00Z";
    let scoped = |q: &str| {
        let (client, path) = (
            client.clone(),
            format!("{TEMPORAL}?type={ty}&{window}&scopeQ={q}"),
        );
        async move { client.get(&path).await }
    };
    let madrid = scoped("/Madrid").await;
    madrid.assert_status(200);
    assert_eq!(
        values(&madrid.json[0]["speed"]),
        [json!(1)],
        "{}",
        madrid.text
    );
    // The scope valid at the interval's start, set before it, is shown too.
    assert_eq!(
        madrid.json[0]["scope"][0]["value"], "/Madrid",
        "{}",
        madrid.text
    );
    let paris = scoped("/Paris").await;
    assert_eq!(values(&paris.json[0]["speed"]), [json!(2)]);
    let rome = scoped("/Rome").await;
    assert_eq!(rome.json, json!([]), "{}", rome.text);

    // A scope set through the entity API is an instance of the scope's evolution.
    let id = urn("Car");
    client
        .create(&json!({"id": id, "type": "Car", "scope": "/A", "speed": {"type": "Property", "value": 1}}))
        .await;
    client
        .patch(&entity_path(&id), &json!({"scope": "/B"}))
        .await
        .assert_status(204);
    let got = client
        .get(&format!(
            "{}?timeproperty=createdAt&timerel=after&timeAt=2000-01-01T00:00:00Z",
            temporal_path(&id)
        ))
        .await;
    got.assert_status(200);
    assert_eq!(
        values(&got.json["scope"]),
        [json!("/A"), json!("/B")],
        "{}",
        got.text
    );
}
