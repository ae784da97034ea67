//! The broker's own resource limits (no clause of GS CIM 009 sets them; 6.3.2 says how they are
//! reported): ids, types and attribute names up to `--max-id-bytes` and `--max-name-bytes`,
//! batches up to `--max-batch` entities, and a big batch never stalls the other requests.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{entity_fixture, entity_path, unique, urn, BrokerProcess, Client};

/// An entity id, a type or an attribute name beyond the limits is 400 BadRequestData, in a
/// create and in a batch alike; nothing of it is stored.
pub(crate) async fn ids_and_names_beyond_the_limits_are_400() {
    let client = Client::shared().with_tenant(&unique("limits"));
    let long_id = format!("urn:ngsi-ld:Vehicle:{}", "x".repeat(100 * 1024));
    let mut entity = entity_fixture("vehicle.json", &long_id);
    client
        .post("/ngsi-ld/v1/entities", &entity)
        .await
        .assert_error(400, "BadRequestData");
    client
        .post("/ngsi-ld/v1/temporal/entities", &entity)
        .await
        .assert_error(400, "BadRequestData");
    let batch = client
        .post("/ngsi-ld/v1/entityOperations/create", &json!([entity]))
        .await;
    batch.assert_status(207);
    assert_eq!(
        batch.json["errors"][0]["error"]["type"],
        "https://uri.etsi.org/ngsi-ld/errors/BadRequestData",
        "{}",
        batch.text
    );

    let id = urn("Vehicle");
    entity["id"] = json!(id);
    entity["type"] = json!("T".repeat(4096));
    client
        .post("/ngsi-ld/v1/entities", &entity)
        .await
        .assert_error(400, "BadRequestData");
    let mut entity = entity_fixture("vehicle.json", &id);
    entity["a".repeat(4096)] = json!({"type": "Property", "value": 1});
    client
        .post("/ngsi-ld/v1/entities", &entity)
        .await
        .assert_error(400, "BadRequestData");
    // Nothing was stored: 404, ResourceNotFound or (the tenant was never created either)
    // NonexistentTenant.
    client.get(&entity_path(&id)).await.assert_status(404);
    // Ids of a realistic length are fine.
    let fine = format!("urn:ngsi-ld:Vehicle:{}", "y".repeat(1000));
    client
        .create(&entity_fixture("vehicle.json", &fine))
        .await
        .assert_status(201);
}

/// A batch of more entities than `--max-batch` is 413, whatever the operation; one of that
/// many is accepted.
pub(crate) async fn batches_beyond_the_limit_are_413() {
    let mut broker = BrokerProcess::start(&["--max-batch", "10"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let ty = unique("Batch");
    let entities = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|_| json!({"id": urn("Batch"), "type": ty, "n": {"type": "Property", "value": 1}}))
            .collect()
    };
    for op in ["create", "upsert", "update", "merge"] {
        client
            .post(
                &format!("/ngsi-ld/v1/entityOperations/{op}"),
                &Value::Array(entities(11)),
            )
            .await
            .assert_error(413, "InvalidRequest");
    }
    let ids: Vec<Value> = (0..11).map(|_| json!(urn("Batch"))).collect();
    client
        .post("/ngsi-ld/v1/entityOperations/delete", &Value::Array(ids))
        .await
        .assert_error(413, "InvalidRequest");
    client
        .post(
            "/ngsi-ld/v1/entityOperations/create",
            &Value::Array(entities(10)),
        )
        .await
        .assert_status(201);
    broker.kill_hard();
}

/// One big batch does not hold the HTTP worker: with a single worker, `/health` answers
/// within a second all along a batch that takes several.
pub(crate) async fn a_big_batch_does_not_stall_other_requests() {
    let mut broker = BrokerProcess::start(&["--workers", "1"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let ty = unique("Big");
    let batch: Vec<Value> = (0..big_batch())
        .map(|i| {
            let mut e = entity_fixture("vehicle.json", &format!("urn:ngsi-ld:Big:{ty}:{i}"));
            e["type"] = json!(ty);
            e
        })
        .collect();
    let batch = Value::Array(batch);
    let started = Instant::now();
    let upsert = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .post("/ngsi-ld/v1/entityOperations/upsert", &batch)
                .await
                .status
                .as_u16()
        })
    };
    let mut slowest = Duration::ZERO;
    let mut probes = 0;
    // Bounded: at most 600 probes of /health (60 s), ending when the batch ends.
    while !upsert.is_finished() && probes < 600 {
        let asked = Instant::now();
        client.get("/health").await.assert_status(200);
        slowest = slowest.max(asked.elapsed());
        probes += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = upsert.await.expect("the batch task");
    let took = started.elapsed();
    assert_eq!(status, 201, "the batch");
    assert!(
        slowest < Duration::from_secs(1),
        "/health took {slowest:?} during a batch of {took:?} ({probes} probes)"
    );
    broker.kill_hard();
}

/// Entities in the stall case's batch: enough for a batch of several seconds, within the
/// default `--max-batch` and `--max-body`. On the embedded store (debug build) 5,000 keep one
/// worker busy for seconds were it not to yield; the MongoDB-wire server the tests run
/// (secantusdb, in Python) writes about 160 entities a second with their history, so 1,000
/// already take 6 s there, and 5,000 would outlast the client's 30 s timeout.
fn big_batch() -> usize {
    if crate::broker::spawns_on_mongodb() {
        1000
    } else {
        5000
    }
}
