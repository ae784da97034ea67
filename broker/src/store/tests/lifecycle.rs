//! Tenants (exist once written, isolated, listed), expiration over all tenants, and the health
//! check.

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use super::*;

pub async fn tenants_are_isolated_and_exist_once_written(store: Arc<dyn Store>) {
    let store = &*store;
    let (city, farm) = (tenant("city"), tenant("farm"));
    assert!(store
        .tenant_exists(&default_tenant())
        .await
        .expect("exists"));
    assert!(!store.tenant_exists(&city).await.expect("exists"));
    assert_eq!(store.tenants().await.expect("tenants"), [default_tenant()]);

    create(store, &city, vec![entity("urn:a", T, 1)]).await;
    create(store, &default_tenant(), vec![entity("urn:a", U, 2)]).await;
    // A write that changes nothing does not bring a tenant into existence.
    let out = commit_one(
        store,
        &farm,
        put(entity("urn:a", T, 1), Precondition::Version(3)),
    )
    .await;
    assert_eq!(out, WriteOutcome::Conflict { current: None });
    let out = commit_one(store, &farm, delete("urn:a", Precondition::Any)).await;
    assert_eq!(out, WriteOutcome::Conflict { current: None });
    assert!(!store.tenant_exists(&farm).await.expect("exists"));
    assert!(!store
        .tenant_exists(&tenant("nowhere"))
        .await
        .expect("exists"));

    assert!(store.tenant_exists(&city).await.expect("exists"));
    let got = store
        .get(&city, "urn:a")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.entity, entity("urn:a", T, 1));
    assert_eq!(ids(store, &city, &all()).await, ["urn:a"]);
    assert_eq!(store.types(&city).await.expect("types")[0].name, T);
    assert_eq!(
        store.types(&default_tenant()).await.expect("types")[0].name,
        U
    );
    assert_eq!(
        store.tenants().await.expect("tenants"),
        [default_tenant(), city.clone()]
    );

    // Deleting everything leaves the tenant in existence.
    store
        .commit(&city, vec![delete("urn:a", Precondition::Any)])
        .await
        .expect("delete");
    assert!(store.tenant_exists(&city).await.expect("exists"));
}

pub async fn expired_lists_transient_entities_over_all_tenants(store: Arc<dyn Store>) {
    let store = &*store;
    let city = tenant("city");
    create(
        store,
        &default_tenant(),
        vec![transient("urn:soon", 100), transient("urn:late", 300)],
    )
    .await;
    create(
        store,
        &city,
        vec![transient("urn:city", 100), entity("urn:kept", T, 1)],
    )
    .await;
    let at = |s| Utc.timestamp_opt(s, 0).single().expect("valid");
    assert!(store.expired(at(99)).await.expect("expired").is_empty());
    assert_eq!(
        store.expired(at(100)).await.expect("expired"),
        [
            (default_tenant(), "urn:soon".to_owned()),
            (city.clone(), "urn:city".to_owned())
        ]
    );
    // Extending the expiration moves the entity out of the expired set.
    store
        .commit(
            &city,
            vec![put(transient("urn:city", 500), Precondition::Any)],
        )
        .await
        .expect("extend");
    assert_eq!(store.expired(at(300)).await.expect("expired").len(), 2);
    // Dropping the expiration does too.
    store
        .commit(
            &default_tenant(),
            vec![put(entity("urn:late", T, 0), Precondition::Any)],
        )
        .await
        .expect("make permanent");
    assert_eq!(
        store.expired(at(300)).await.expect("expired"),
        [(default_tenant(), "urn:soon".to_owned())]
    );
}

pub async fn an_open_store_passes_the_check(store: Arc<dyn Store>) {
    store.check().await.expect("healthy");
    create(&*store, &default_tenant(), vec![entity("urn:a", T, 1)]).await;
    store.check().await.expect("still healthy");
}
