//! Acknowledged writes survive a crash: a dedicated broker is killed with SIGKILL (nothing
//! flushed on the way out) and restarted on the same data directory.

use conformance_tests::{entity_fixture, entity_path, urn, BrokerProcess, Client};
use serde_json::json;

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let mut broker = BrokerProcess::start(&[]).expect("a broker");
    let mut client = Client::new(&broker.base_url);
    let mut created = Vec::new();
    for _ in 0..200 {
        let id = urn("Vehicle");
        let reply = client
            .post("/ngsi-ld/v1/entities", &entity_fixture("vehicle.json", &id))
            .await;
        reply.assert_status(201);
        created.push(id);
    }
    let patched = &created[17];
    client
        .patch(
            &entity_path(patched),
            &json!({"speed": {"type": "Property", "value": 3}}),
        )
        .await
        .assert_status(204);
    let deleted = &created[42];
    client
        .delete(&entity_path(deleted))
        .await
        .assert_status(204);

    broker.kill_hard();
    broker.restart().expect("restarts on the same data");
    // A fresh client: pooled connections died with the old process.
    client = Client::new(&broker.base_url);

    for id in &created {
        let got = client.get(&entity_path(id)).await;
        if id == deleted {
            got.assert_error(404, "ResourceNotFound");
            continue;
        }
        got.assert_status(200);
        let mut expected = entity_fixture("vehicle.json", id);
        if id == patched {
            expected["speed"]["value"] = json!(3);
        }
        assert_eq!(got.json, expected, "{id} intact");
    }
    let count = client
        .get("/ngsi-ld/v1/entities?type=Vehicle&count=true&limit=0")
        .await;
    assert_eq!(count.header("ngsild-results-count"), Some("199"));
}

#[tokio::test]
async fn tenants_and_hosted_contexts_survive_a_restart() {
    let mut broker = BrokerProcess::start(&[]).expect("a broker");
    let mut client = Client::new(&broker.base_url).with_tenant("durable");
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let hosted = client
        .post(
            "/ngsi-ld/v1/jsonldContexts",
            &conformance_tests::fixture("user-context.json"),
        )
        .await;
    hosted.assert_status(201);
    let url = hosted.header("location").unwrap_or_default().to_owned();
    let local_id = url.rsplit('/').next().unwrap_or_default().to_owned();

    broker.kill_hard();
    broker.restart().expect("restarts on the same data");
    client = Client::new(&broker.base_url).with_tenant("durable");

    client.get(&entity_path(&id)).await.assert_status(200);
    let served = client
        .get(&format!("/ngsi-ld/v1/jsonldContexts/{local_id}"))
        .await;
    served.assert_status(200);
    assert_eq!(served.json, conformance_tests::fixture("user-context.json"));
}

#[tokio::test]
async fn acknowledged_batch_writes_survive_sigkill() {
    let mut broker = BrokerProcess::start(&[]).expect("a broker");
    let mut client = Client::new(&broker.base_url);
    let ids: Vec<String> = (0..100).map(|_| urn("Vehicle")).collect();
    let body: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| entity_fixture("vehicle.json", id))
        .collect();
    client
        .post("/ngsi-ld/v1/entityOperations/create", &json!(body))
        .await
        .assert_status(201);
    let merged: Vec<serde_json::Value> = ids[..50]
        .iter()
        .map(|id| json!({"id": id, "speed": {"value": 1}}))
        .collect();
    client
        .post("/ngsi-ld/v1/entityOperations/merge", &json!(merged))
        .await
        .assert_status(204);

    broker.kill_hard();
    broker.restart().expect("restarts on the same data");
    client = Client::new(&broker.base_url);

    for (i, id) in ids.iter().enumerate() {
        let got = client.get(&entity_path(id)).await;
        got.assert_status(200);
        let speed = if i < 50 { 1 } else { 80 };
        assert_eq!(got.json["speed"]["value"], speed, "{id}");
    }
}
