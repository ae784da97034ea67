//! What survives a close and reopen, durability modes, the file lock, a closed store.

use chrono::Utc;
use serde_json::json;

use super::*;
use crate::store::embedded::Durability;
use crate::store::{DocumentKind, EntityQuery, Precondition, Store, StoreError};

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
    assert!(matches!(second, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn a_closed_store_refuses_writes_and_still_reads() {
    let (_dir, store) = temp_store();
    let t = default_tenant();
    create(&store, &t, vec![entity("urn:a", T, 1)]).await;
    store.close().await.expect("close");
    store.close().await.expect("closing twice is harmless");
    assert!(matches!(
        store.check().await,
        Err(StoreError::Unavailable(_))
    ));
    let refused = store
        .commit(&t, vec![put(entity("urn:b", T, 1), Precondition::Any)])
        .await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );
    let refused = store
        .put_document(&t, DocumentKind::Subscription, "s", json!({}))
        .await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))));
    assert!(store.get(&t, "urn:a").await.expect("get").is_some());
}
