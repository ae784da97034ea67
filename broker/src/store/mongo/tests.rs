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

#[test]
fn replica_sets_and_routers_have_transactions_standalone_servers_not() {
    use mongodb::bson::doc;
    assert!(has_transactions(
        &doc! { "isWritablePrimary": true, "setName": "rs0" }
    ));
    assert!(has_transactions(
        &doc! { "isWritablePrimary": true, "msg": "isdbgrid" }
    ));
    assert!(!has_transactions(&doc! { "isWritablePrimary": true }));
}

/// A shared temporal case on a store that behaves as on a standalone server.
async fn without_transactions<F, Fut>(url: &str, case: F)
where
    F: FnOnce(std::sync::Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let store = fresh_store(url).await.without_transactions();
    case(std::sync::Arc::new(store.clone())).await;
    drop_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_transactions_the_history_follows_the_entity_write() {
    use crate::store::tests::temporal::*;
    use crate::store::tests::temporal_queries::*;
    let Some(url) = url() else { return };
    // Every case but those about atomicity and concurrent writers of one evolution, which a
    // deployment without transactions does not promise (see `temporal`).
    without_transactions(&url, a_core_write_records_its_history_with_it).await;
    without_transactions(&url, a_write_that_conflicts_records_nothing).await;
    without_transactions(&url, record_modes_decide_creation).await;
    without_transactions(&url, mark_deleted_keeps_the_history).await;
    without_transactions(&url, delete_drops_one_evolution_whole).await;
    without_transactions(&url, delete_attribute_drops_all_one_dataset_or_the_default).await;
    without_transactions(&url, instances_are_modified_and_deleted_one_by_one).await;
    without_transactions(&url, time_ranges_select_instances_and_entities).await;
    without_transactions(
        &url,
        ids_types_and_filters_select_entities_paged_and_counted,
    )
    .await;

    // A history that cannot be written leaves the applied entity write standing.
    let store = fresh_store(&url).await.without_transactions();
    let t = Tenant::default_tenant();
    let mut unnamed = ngsi_types::Attribute::property(1);
    unnamed.instance_id = None;
    let mut w = crate::store::tests::put(
        crate::store::tests::entity("urn:a", crate::store::tests::T, 1),
        crate::store::Precondition::Absent,
    );
    w.history = Some(crate::store::TemporalOp::Record {
        types: vec![],
        scope: None,
        at: Utc::now(),
        instances: vec![(crate::store::tests::SPEED.into(), unnamed)],
        mode: crate::store::RecordMode::Upsert,
        touch: false,
    });
    let outcomes = store.commit(&t, vec![w]).await.expect("commit");
    assert_eq!(outcomes, [WriteOutcome::Applied { version: 1 }]);
    assert!(store.get(&t, "urn:a").await.expect("get").is_some());
    let everything = TemporalSelection {
        limit: 10,
        ..TemporalSelection::default()
    };
    let page = store.temporal_query(&t, &everything).await.expect("query");
    assert!(page.entities.is_empty(), "{page:?}");
    drop_all(&store).await;
}
