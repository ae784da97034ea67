//! Tenants, expiration, and what survives a close and reopen.

use chrono::{TimeZone, Utc};

use super::*;
use crate::store::embedded::Durability;
use crate::store::DocumentKind;

#[tokio::test]
async fn tenants_are_isolated_and_exist_once_written() {
    let (_dir, store) = temp_store();
    let (city, farm) = (tenant("city"), tenant("farm"));
    assert!(store
        .tenant_exists(&default_tenant())
        .await
        .expect("exists"));
    assert!(!store.tenant_exists(&city).await.expect("exists"));
    assert_eq!(store.tenants().await.expect("tenants"), [default_tenant()]);

    create(&store, &city, vec![entity("urn:a", T, 1)]).await;
    create(&store, &default_tenant(), vec![entity("urn:a", U, 2)]).await;
    // A write that changes nothing does not bring a tenant into existence.
    let out = store
        .commit(
            &farm,
            vec![put(entity("urn:a", T, 1), Precondition::Version(3))],
        )
        .await
        .expect("commit");
    assert_eq!(
        out,
        [crate::store::WriteOutcome::Conflict { current: None }]
    );
    assert!(!store.tenant_exists(&farm).await.expect("exists"));

    assert!(store.tenant_exists(&city).await.expect("exists"));
    let got = store
        .get(&city, "urn:a")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.entity, entity("urn:a", T, 1));
    assert_eq!(ids(&store, &city, &all()).await, ["urn:a"]);
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

fn transient(id: &str, seconds: i64) -> ngsi_types::Entity {
    let mut e = entity(id, T, 0);
    e.expires_at = Utc.timestamp_opt(seconds, 0).single();
    e
}

#[tokio::test]
async fn expired_lists_transient_entities_over_all_tenants() {
    let (_dir, store) = temp_store();
    let city = tenant("city");
    create(
        &store,
        &default_tenant(),
        vec![transient("urn:soon", 100), transient("urn:late", 300)],
    )
    .await;
    create(
        &store,
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
}

/// Everything observable through the indexes, for comparing two opens of one file.
async fn observe(store: &EmbeddedStore) -> Vec<String> {
    let mut seen = Vec::new();
    for t in store.tenants().await.expect("tenants") {
        seen.push(format!("{t}: {:?}", store.types(&t).await.expect("types")));
        seen.push(format!(
            "{:?}",
            store.attributes(&t).await.expect("attributes")
        ));
        for q in [
            all(),
            EntityQuery {
                any_type: Some(vec![U.into()]),
                ..all()
            },
            EntityQuery {
                any_attribute: Some(vec![NAME.into()]),
                ..all()
            },
            EntityQuery {
                geo_envelope: Some((
                    LOCATION.into(),
                    geo::Rect::new(
                        geo::coord! { x: 0.0, y: 0.0 },
                        geo::coord! { x: 5.0, y: 5.0 },
                    ),
                )),
                ..all()
            },
        ] {
            let page = store.query(&t, &q).await.expect("query");
            seen.push(format!("{:?}", page.entities));
        }
    }
    let expired = store.expired(Utc::now()).await.expect("expired");
    seen.push(format!("{expired:?}"));
    seen
}

#[tokio::test]
async fn reopening_rebuilds_the_same_indexes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (city, t) = (tenant("city"), default_tenant());
    let before = {
        let store = EmbeddedStore::open(config(&dir)).expect("opens");
        let mut e = located(entity("urn:b", U, 2), 1.0, 2.0);
        e.put_attribute(NAME, ngsi_types::Attribute::property("b"));
        create(
            &store,
            &t,
            vec![
                located(entity("urn:z", T, 1), 3.0, 3.0),
                e,
                transient("urn:gone", 10),
            ],
        )
        .await;
        create(&store, &city, vec![entity("urn:a", U, 1)]).await;
        store
            .commit(
                &t,
                vec![
                    put(
                        located(entity("urn:z", U, 5), 4.0, 4.0),
                        Precondition::Version(1),
                    ),
                    delete("urn:nothing", Precondition::Any),
                ],
            )
            .await
            .expect("commit");
        store
            .put_document(&tenant("docs"), DocumentKind::Registration, "r", json!({}))
            .await
            .expect("put");
        let seen = observe(&store).await;
        store.close().await.expect("close");
        seen
    };
    let store = EmbeddedStore::open(config(&dir)).expect("reopens");
    assert_eq!(observe(&store).await, before);
    assert!(store.tenant_exists(&tenant("docs")).await.expect("exists"));
    // New entities come after the old ones in creation order.
    create(&store, &t, vec![entity("urn:a", T, 9)]).await;
    let order = ids(&store, &t, &all()).await;
    assert_eq!(order, ["urn:z", "urn:b", "urn:gone", "urn:a"]);
}

#[tokio::test]
async fn eventual_durability_is_flushed_by_close_and_by_drop() {
    let dir = tempfile::tempdir().expect("temp dir");
    let eventual = EmbeddedConfig {
        durability: Durability::Eventual,
        ..config(&dir)
    };
    {
        let store = EmbeddedStore::open(eventual.clone()).expect("opens");
        create(&store, &default_tenant(), vec![entity("urn:a", T, 1)]).await;
        store.close().await.expect("close");
    }
    {
        let store = EmbeddedStore::open(eventual).expect("reopens");
        create(&store, &default_tenant(), vec![entity("urn:b", T, 1)]).await;
        // Dropped without close: the writer still stops and releases the file.
    }
    let store = EmbeddedStore::open(config(&dir)).expect("reopens");
    assert_eq!(
        ids(&store, &default_tenant(), &all()).await,
        ["urn:a", "urn:b"]
    );
}

#[tokio::test]
async fn a_file_is_opened_by_one_store_at_a_time() {
    let (dir, _store) = temp_store();
    let second = EmbeddedStore::open(config(&dir));
    assert!(matches!(
        second,
        Err(crate::store::StoreError::Unavailable(_))
    ));
}
