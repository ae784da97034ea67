//! Writes: versions, preconditions, conflicts, group commit under concurrency, close.

use std::sync::Arc;

use super::*;
use crate::store::{StoreError, WriteOutcome};

#[tokio::test]
async fn create_get_replace_delete_follow_versions() {
    let (_dir, store) = temp_store();
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    assert_eq!(store.get(&t, id).await.expect("get"), None);

    let out = store
        .commit(&t, vec![put(entity(id, T, 1), Precondition::Absent)])
        .await
        .expect("create");
    assert_eq!(out, [WriteOutcome::Applied { version: 1 }]);
    let got = store.get(&t, id).await.expect("get").expect("exists");
    assert_eq!((got.version, got.entity), (1, entity(id, T, 1)));

    let out = store
        .commit(&t, vec![put(entity(id, U, 2), Precondition::Version(1))])
        .await
        .expect("replace");
    assert_eq!(out, [WriteOutcome::Applied { version: 2 }]);
    let out = store
        .commit(&t, vec![put(entity(id, U, 3), Precondition::Any)])
        .await
        .expect("upsert");
    assert_eq!(out, [WriteOutcome::Applied { version: 3 }]);
    let got = store.get(&t, id).await.expect("get").expect("exists");
    assert_eq!((got.version, got.entity), (3, entity(id, U, 3)));

    let out = store
        .commit(&t, vec![delete(id, Precondition::Version(3))])
        .await
        .expect("delete");
    assert_eq!(out, [WriteOutcome::Applied { version: 3 }]);
    assert_eq!(store.get(&t, id).await.expect("get"), None);

    // Re-created entities start over at version 1.
    let out = store
        .commit(&t, vec![put(entity(id, T, 4), Precondition::Any)])
        .await
        .expect("re-create");
    assert_eq!(out, [WriteOutcome::Applied { version: 1 }]);
}

#[tokio::test]
async fn failed_preconditions_conflict_without_stopping_the_others() {
    let (_dir, store) = temp_store();
    let t = default_tenant();
    create(&store, &t, vec![entity("urn:a", T, 1)]).await;

    let out = store
        .commit(
            &t,
            vec![
                put(entity("urn:a", T, 2), Precondition::Absent),
                put(entity("urn:b", T, 2), Precondition::Absent),
                put(entity("urn:a", T, 3), Precondition::Version(7)),
                put(entity("urn:c", T, 3), Precondition::Version(1)),
                delete("urn:missing", Precondition::Any),
                put(entity("urn:a", T, 4), Precondition::Version(1)),
            ],
        )
        .await
        .expect("commit");
    assert_eq!(
        out,
        [
            WriteOutcome::Conflict { current: Some(1) },
            WriteOutcome::Applied { version: 1 },
            WriteOutcome::Conflict { current: Some(1) },
            WriteOutcome::Conflict { current: None },
            WriteOutcome::Conflict { current: None },
            WriteOutcome::Applied { version: 2 },
        ]
    );
    let a = store.get(&t, "urn:a").await.expect("get").expect("exists");
    assert_eq!((a.version, a.entity), (2, entity("urn:a", T, 4)));
    assert!(store.get(&t, "urn:c").await.expect("get").is_none());
}

#[tokio::test]
async fn writes_in_one_commit_see_the_earlier_ones() {
    let (_dir, store) = temp_store();
    let t = default_tenant();
    let out = store
        .commit(
            &t,
            vec![
                put(entity("urn:a", T, 1), Precondition::Absent),
                put(entity("urn:a", U, 2), Precondition::Version(1)),
                delete("urn:a", Precondition::Version(2)),
                put(entity("urn:a", T, 3), Precondition::Absent),
            ],
        )
        .await
        .expect("commit");
    assert_eq!(
        out,
        [
            WriteOutcome::Applied { version: 1 },
            WriteOutcome::Applied { version: 2 },
            WriteOutcome::Applied { version: 2 },
            WriteOutcome::Applied { version: 1 },
        ]
    );
    assert_eq!(ids(&store, &t, &all()).await, ["urn:a"]);
    let types = store.types(&t).await.expect("types");
    assert_eq!(types.len(), 1);
    assert_eq!((types[0].name.as_str(), types[0].entity_count), (T, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_committers_are_all_acknowledged_and_readable() {
    const TASKS: usize = 64;
    const WRITES: usize = 50;
    let (_dir, store) = temp_store();
    let store = Arc::new(store);
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let store = store.clone();
        tasks.spawn(async move {
            let t = default_tenant();
            for n in 0..WRITES {
                let id = format!("urn:ngsi-ld:T:{task}-{n}");
                let out = store
                    .commit(
                        &t,
                        vec![put(entity(&id, T, n as i64), Precondition::Absent)],
                    )
                    .await
                    .expect("commit");
                assert_eq!(out, [WriteOutcome::Applied { version: 1 }]);
                // Acknowledged means readable, at once, through the store and its indexes.
                let got = store.get(&t, &id).await.expect("get").expect("stored");
                assert_eq!(got.entity, entity(&id, T, n as i64));
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
    let t = default_tenant();
    let page = store
        .query(
            &t,
            &EntityQuery {
                count: true,
                ..all()
            },
        )
        .await
        .expect("query");
    assert_eq!(page.total, Some((TASKS * WRITES) as u64));
    assert_eq!(store.types(&t).await.expect("types")[0].entity_count, 3_200);
}

#[tokio::test]
async fn a_closed_store_refuses_writes_and_still_reads() {
    let (_dir, store) = temp_store();
    let t = default_tenant();
    create(&store, &t, vec![entity("urn:a", T, 1)]).await;
    store.close().await.expect("close");
    store.close().await.expect("closing twice is harmless");
    let refused = store
        .commit(&t, vec![put(entity("urn:b", T, 1), Precondition::Any)])
        .await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );
    let refused = store
        .put_document(&t, crate::store::DocumentKind::Subscription, "s", json!({}))
        .await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))));
    assert!(store.get(&t, "urn:a").await.expect("get").is_some());
}

#[tokio::test]
async fn an_empty_commit_writes_nothing() {
    let (_dir, store) = temp_store();
    let t = tenant("empty");
    assert!(store
        .commit(&t, Vec::new())
        .await
        .expect("commit")
        .is_empty());
    assert!(!store.tenant_exists(&t).await.expect("exists"));
}
