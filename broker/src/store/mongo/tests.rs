//! The MongoDB store's own behaviour against a real MongoDB-wire server (see [`test_server`]):
//! several instances on one set of databases, and an unreachable server. What the `Store`
//! trait promises, including that queries give exactly what the NGSI-LD evaluator selects
//! whether MongoDB decided them alone or only narrowed them, is checked for every backend by
//! the shared suite (`crate::store::tests`); which translations are exact is checked in
//! `filter/tests.rs`, the document layout in `document.rs`.

use std::time::Duration;

use super::test_server::{drop_all, fresh_store, url};
use super::*;
use crate::store::tests::{create, fixtures, tenant};

#[tokio::test]
async fn a_tenant_another_instance_created_is_prepared_once() {
    let Some(url) = url() else { return };
    let store = fresh_store(&url).await;
    let city = tenant("city");
    // Another instance on the same databases, started before the tenant existed.
    let other = MongoStore::open(MongoConfig {
        url: url.clone(),
        db_prefix: store.prefix.clone(),
        timeout: Duration::from_secs(5),
    })
    .await
    .expect("opens");
    assert!(!other.tenant_exists(&city).await.expect("exists"));
    create(&store, &city, fixtures::cars()[..6].to_vec()).await;
    assert!(store.tenant_exists(&city).await.expect("exists"));
    assert!(other.tenant_exists(&city).await.expect("exists"));
    assert!(
        other.setup.is_ready(&city),
        "prepared once, not listed again"
    );
    assert!(!other
        .tenant_exists(&tenant("nowhere"))
        .await
        .expect("exists"));
    assert_eq!(
        other.tenants().await.expect("tenants"),
        vec![Tenant::default_tenant(), city.clone()]
    );
    drop_all(&store).await;
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_quickly() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let started = std::time::Instant::now();
    let opened = MongoStore::open(MongoConfig {
        url: format!("mongodb://127.0.0.1:{port}"),
        db_prefix: "down".into(),
        timeout: Duration::from_millis(300),
    })
    .await;
    assert!(
        matches!(opened, Err(StoreError::Unavailable(_))),
        "{opened:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
