//! Operational endpoints outside GS CIM 009 that Orion-LD deployments rely on: version,
//! health, metrics.

use crate::Client;

pub(crate) async fn version_answers_with_json() {
    let client = Client::shared();
    for path in ["/version", "/ngsi-ld/ex/v1/version"] {
        let reply = client.get(path).await;
        reply.assert_status(200);
        assert!(reply.json.is_object(), "{path}: {}", reply.text);
    }
}

pub(crate) async fn health_is_200() {
    Client::shared().get("/health").await.assert_status(200);
}

pub(crate) async fn metrics_are_prometheus_text() {
    let client = Client::shared();
    client.get("/version").await.assert_status(200);
    let reply = client.get("/metrics").await;
    reply.assert_status(200);
    assert!(reply
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    assert!(reply.text.contains("# TYPE"), "{}", reply.text);
    // Dropped change events and notifications must be visible somewhere (Oxion-specific
    // names: checked only on the oxion this run starts).
    if crate::Target::shared().is_spawned() {
        for counter in [
            "events_dropped",
            "notifications_dropped",
            "notifications_sent",
        ] {
            assert!(
                reply
                    .text
                    .contains(&format!("oxion_subscriptions_{counter}_total ")),
                "{counter}: {}",
                reply.text
            );
        }
    }
}
