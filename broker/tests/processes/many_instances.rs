//! Two `oxion` processes on one MongoDB behave as one broker: what one writes the other reads
//! at once; a subscription made through one fires for changes made through either, exactly
//! once per change; deleting it through one stops it everywhere.
//!
//! Needs a MongoDB-wire server (`OXION_TEST_MONGO_URL`; `OXION_REQUIRE_MONGO=1` makes its
//! absence a failure, as `scripts/test.sh` does).

use std::time::{Duration, Instant};

use conformance_tests::{BrokerProcess, Receiver};
use serde_json::{json, Value};

use crate::support::mongo_setting;

/// An `oxion` process on MongoDB, killed when dropped.
struct Instance {
    process: BrokerProcess,
}

impl Instance {
    fn start(mongo_url: &str, prefix: &str) -> Instance {
        let process = BrokerProcess::start(&[
            "--store",
            "mongodb",
            "--mongo-url",
            mongo_url,
            "--mongo-db-prefix",
            prefix,
        ])
        .expect("oxion starts");
        Instance { process }
    }

    fn url(&self) -> &str {
        &self.process.base_url
    }

    fn at(&self, path: &str) -> String {
        format!("{}/ngsi-ld/v1{path}", self.url())
    }

    /// How many subscriptions this instance holds (its /metrics gauge).
    async fn subscriptions_held(&self) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.url()))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|l| l.strip_prefix("oxion_subscriptions "))
            .and_then(|v| v.trim().parse().ok())
            .expect("oxion_subscriptions gauge")
    }

    /// Waits (bounded) until this instance holds `n` subscriptions.
    async fn wait_subscriptions(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.subscriptions_held().await != n {
            assert!(
                Instant::now() < deadline,
                "{} never held {n} subscriptions",
                self.url()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Instance {
    /// Waits (bounded) until the subscription's `timesSent`, read through this instance,
    /// reaches `n`; fails if it passes `n`.
    async fn wait_times_sent(&self, id: &str, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let sub: Value = reqwest::get(self.at(&format!("/subscriptions/{id}")))
                .await
                .expect("retrieve")
                .json()
                .await
                .expect("json");
            let sent = sub["notification"]["timesSent"].as_u64().unwrap_or(0);
            assert!(
                sent <= n,
                "{sent} notifications counted through {}: {sub}",
                self.url()
            );
            if sent == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timesSent through {} stays {sent}, not {n}: {sub}",
                self.url()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn patch_speed(http: &reqwest::Client, via: &Instance, id: &str, speed: i64) {
    let r = http
        .patch(via.at(&format!("/entities/{id}/attrs")))
        .json(&json!({"speed": {"type": "Property", "value": speed}}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 204, "PATCH via {}", via.url());
}

/// Two instances on the same databases (named after `prefix` and this process).
async fn pair(prefix: &str) -> Option<(Instance, Instance)> {
    let mongo_url = mongo_setting("OXION_TEST_MONGO_URL")?;
    let prefix = format!("{prefix}{}", std::process::id());
    let a = Instance::start(&mongo_url, &prefix);
    let b = Instance::start(&mongo_url, &prefix);
    Some((a, b))
}

/// POSTs `body` to `path` through `via` and checks the 201.
async fn create(http: &reqwest::Client, via: &Instance, path: &str, body: &Value) {
    let r = http
        .post(via.at(path))
        .json(body)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 201, "POST {path} via {}", via.url());
}

fn notified_speed(body: &Value) -> i64 {
    body["data"][0]["speed"]["value"]
        .as_i64()
        .unwrap_or_else(|| panic!("no speed in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_mongodb_act_as_one_broker() {
    let Some((a, b)) = pair("mi").await else {
        return;
    };
    let http = reqwest::Client::new();

    // Written through A, readable through B at once.
    let id = "urn:ngsi-ld:Car:shared";
    let car = json!({"id": id, "type": "Car", "speed": {"type": "Property", "value": 0}});
    create(&http, &a, "/entities", &car).await;
    let got: Value = http
        .get(b.at(&format!("/entities/{id}")))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(got, car);

    // A subscription made through A reaches B.
    let receiver = Receiver::start().await;
    let sub = json!({
        "id": "urn:ngsi-ld:Subscription:shared",
        "type": "Subscription",
        "entities": [{"type": "Car"}],
        "watchedAttributes": ["speed"],
        "notification": {"endpoint": {"uri": receiver.url("/n")}, "format": "normalized"},
    });
    create(&http, &a, "/subscriptions", &sub).await;
    b.wait_subscriptions(1).await;
    a.wait_subscriptions(1).await;

    // Changes through either instance: one notification each, none twice.
    let speeds: Vec<i64> = (1..=10).collect();
    for &speed in &speeds {
        let via = if speed % 2 == 0 { &a } else { &b };
        patch_speed(&http, via, id, speed).await;
    }
    let mut seen = Vec::new();
    for n in 1..=speeds.len() {
        let got = receiver
            .try_nth(n, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("notification {n} never came"));
        seen.push(notified_speed(&got.body));
    }
    seen.sort_unstable();
    assert_eq!(seen, speeds);
    // Nothing more arrives: no instance notified a change twice.
    assert!(receiver
        .try_nth(speeds.len() + 1, Duration::from_millis(500))
        .await
        .is_none());

    // Either instance reports every notification in the subscription's status (each sent
    // some; the other's part is published within about a second).
    for via in [&a, &b] {
        via.wait_times_sent("urn:ngsi-ld:Subscription:shared", speeds.len() as u64)
            .await;
    }

    // Deleted through B: stops on A as well.
    let r = http
        .delete(b.at("/subscriptions/urn:ngsi-ld:Subscription:shared"))
        .send()
        .await
        .expect("unsubscribe");
    assert_eq!(r.status(), 204);
    a.wait_subscriptions(0).await;
    b.wait_subscriptions(0).await;
    patch_speed(&http, &a, id, 100).await;
    patch_speed(&http, &b, id, 101).await;
    assert!(receiver
        .try_nth(speeds.len() + 1, Duration::from_millis(500))
        .await
        .is_none());

    let r = http
        .delete(a.at(&format!("/entities/{id}")))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_periodic_subscription_notifies_once_per_interval_across_instances() {
    let Some((a, b)) = pair("mp").await else {
        return;
    };
    let http = reqwest::Client::new();
    let car = json!({"id": "urn:ngsi-ld:Car:periodic", "type": "Car", "speed": {"type": "Property", "value": 1}});
    create(&http, &a, "/entities", &car).await;
    let receiver = Receiver::start().await;
    let sub = json!({
        "id": "urn:ngsi-ld:Subscription:periodic",
        "type": "Subscription",
        "entities": [{"type": "Car"}],
        "timeInterval": 1,
        "notification": {"endpoint": {"uri": receiver.url("/n")}},
    });
    create(&http, &a, "/subscriptions", &sub).await;
    b.wait_subscriptions(1).await;
    // Both instances tick every second; over 4 s each interval is notified once, not twice.
    let window = Duration::from_secs(4);
    receiver
        .try_nth(1, Duration::from_secs(5))
        .await
        .expect("a first periodic notification");
    let first = receiver.count();
    tokio::time::sleep(window).await;
    let during = receiver.count() - first;
    assert!(
        (3..=5).contains(&during),
        "{during} periodic notifications in {window:?} from two instances (one per second expected)"
    );
}
