//! MongoDB going away and coming back: requests fail fast with 503 ProblemDetails while it is
//! down (never hang, never 500), `/health` says so, and the broker serves again by itself once
//! the database is back, with every acknowledged write still there.
//!
//! The test runs a MongoDB-wire server of its own (`OXION_TEST_MONGOD`, the `secantusd-py`
//! that `scripts/services.sh` installs) so that stopping it disturbs no other test.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use conformance_tests::BrokerProcess;

use crate::support::{free_port, mongo_setting, wait_status, Killed};

fn start_mongod(bin: &str, port: u16, dir: &Path) -> Killed {
    let config = dir.join("secantusd.toml");
    // secantusdb fsyncs a transaction's commit only with sync_on_commit (it ignores j:true on
    // commitTransaction): without it, a write acknowledged before the kill below could be lost.
    std::fs::write(&config, "[storage]\nsync_on_commit = true\n").expect("config");
    let child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg("--storage-path")
        .arg(dir.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("secantusd starts");
    Killed(child)
}

/// Waits (bounded) until something accepts connections on the port.
async fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_fail_fast_while_mongodb_is_down_and_recover_when_it_returns() {
    let Some(bin) = mongo_setting("OXION_TEST_MONGOD") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mongo_port = free_port();
    let mongod = start_mongod(&bin, mongo_port, dir.path());
    wait_listening(mongo_port).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");

    let mongo_url = format!("mongodb://127.0.0.1:{mongo_port}");
    let oxion = BrokerProcess::start(&[
        "--store",
        "mongodb",
        "--mongo-db-prefix",
        "outage",
        "--mongo-url",
        &mongo_url,
        "--mongo-timeout-ms",
        "1500",
    ])
    .expect("oxion starts");
    let base = oxion.base_url.clone();
    let health = format!("{base}/health");

    let entity = json!({"id": "urn:ngsi-ld:Car:1", "type": "Car", "speed": {"type": "Property", "value": 1}});
    let r = http
        .post(format!("{base}/ngsi-ld/v1/entities"))
        .json(&entity)
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);

    drop(mongod);
    let started = Instant::now();
    let r = http
        .get(format!("{base}/ngsi-ld/v1/entities/urn:ngsi-ld:Car:1"))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("content-type").is_some_and(|c| c
        .to_str()
        .unwrap_or_default()
        .starts_with("application/json")));
    let problem: Value = r.json().await.expect("ProblemDetails");
    assert!(
        problem["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://uri.etsi.org/ngsi-ld/errors/")),
        "{problem}"
    );
    // Bounded by the server selection timeout (1.5 s here), not hanging.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let r = http.get(&health).send().await.expect("health answered");
    assert_eq!(r.status(), 503);
    // A write, which commits the entity and its history in one transaction, fails as fast: the
    // transaction is not retried while the server cannot be reached.
    let started = Instant::now();
    let other = json!({"id": "urn:ngsi-ld:Car:2", "type": "Car", "speed": {"type": "Property", "value": 2}});
    let r = http
        .post(format!("{base}/ngsi-ld/v1/entities"))
        .json(&other)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let _mongod = start_mongod(&bin, mongo_port, dir.path());
    wait_listening(mongo_port).await;
    wait_status(&http, &health, 200, Duration::from_secs(60)).await;
    let got: Value = http
        .get(format!("{base}/ngsi-ld/v1/entities/urn:ngsi-ld:Car:1"))
        .send()
        .await
        .expect("read")
        .json()
        .await
        .expect("json");
    assert_eq!(got, entity);
}
