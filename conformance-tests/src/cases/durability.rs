//! Acknowledged writes survive a crash: a dedicated broker is killed with SIGKILL (nothing
//! flushed on the way out) and restarted on the same data directory.

use crate::{entity_fixture, entity_path, urn, BrokerProcess, Client};
use serde_json::json;

pub(crate) async fn acknowledged_writes_survive_sigkill() {
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

pub(crate) async fn tenants_and_hosted_contexts_survive_a_restart() {
    let mut broker = BrokerProcess::start(&[]).expect("a broker");
    let mut client = Client::new(&broker.base_url).with_tenant("durable");
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let hosted = client
        .post(
            "/ngsi-ld/v1/jsonldContexts",
            &crate::fixture("user-context.json"),
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
    assert_eq!(served.json, crate::fixture("user-context.json"));
}

pub(crate) async fn acknowledged_batch_writes_survive_sigkill() {
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

/// Writes acknowledged while others are still in flight (group commit) survive too; the kill
/// lands while clients are still writing.
pub(crate) async fn concurrently_acknowledged_writes_survive_sigkill() {
    let mut broker = BrokerProcess::start(&[]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let (acknowledged, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (client, acknowledged) = (client.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for _ in 0..1000 {
                    let id = urn("Vehicle");
                    let sent = reqwest::Client::new()
                        .post(client.url("/ngsi-ld/v1/entities"))
                        .header("Content-Type", "application/json")
                        .body(entity_fixture("vehicle.json", &id).to_string())
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 201 => {
                            if acknowledged.send(id).is_err() {
                                return;
                            }
                        }
                        // The broker is gone: stop writing.
                        _ => return,
                    }
                }
            })
        })
        .collect();
    drop(acknowledged);
    // Kill once a good number of writes were acknowledged, with the writers still going.
    let mut ids = Vec::new();
    while ids.len() < 150 {
        match rx.recv().await {
            Some(id) => ids.push(id),
            None => break,
        }
    }
    broker.kill_hard();
    for writer in writers {
        let _ = writer.await;
    }
    while let Ok(id) = rx.try_recv() {
        ids.push(id);
    }
    broker.restart().expect("restarts on the same data");
    let client = Client::new(&broker.base_url);
    assert!(ids.len() >= 150, "{} writes acknowledged", ids.len());
    for id in &ids {
        let got = client.get(&entity_path(id)).await;
        assert_eq!(got.status.as_u16(), 200, "acknowledged {id} lost");
    }
}
