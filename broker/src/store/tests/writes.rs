//! Writes: versions, preconditions, conflicts that do not stop the other writes, outcomes in
//! input order, several writes of one entity in one commit, concurrent committers.

use std::sync::Arc;

use super::*;

pub async fn create_get_replace_delete_follow_versions(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    assert_eq!(store.get(&t, id).await.expect("get"), None);

    let out = commit_one(store, &t, put(entity(id, T, 1), Precondition::Absent)).await;
    assert_eq!(out, WriteOutcome::Applied { version: 1 });
    let got = store.get(&t, id).await.expect("get").expect("exists");
    assert_eq!((got.version, got.entity), (1, entity(id, T, 1)));

    let out = commit_one(store, &t, put(entity(id, U, 2), Precondition::Version(1))).await;
    assert_eq!(out, WriteOutcome::Applied { version: 2 });
    let out = commit_one(store, &t, put(entity(id, U, 3), Precondition::Any)).await;
    assert_eq!(out, WriteOutcome::Applied { version: 3 });
    let got = store.get(&t, id).await.expect("get").expect("exists");
    assert_eq!((got.version, got.entity), (3, entity(id, U, 3)));

    let out = commit_one(store, &t, delete(id, Precondition::Version(3))).await;
    assert_eq!(out, WriteOutcome::Applied { version: 3 });
    assert_eq!(store.get(&t, id).await.expect("get"), None);

    // Re-created entities start over at version 1.
    let out = commit_one(store, &t, put(entity(id, T, 4), Precondition::Any)).await;
    assert_eq!(out, WriteOutcome::Applied { version: 1 });
}

pub async fn preconditions_decide_each_write(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let e = entity("urn:x:1", T, 1);
    let one = |w| commit_one(store, &t, w);
    let applied = |version| WriteOutcome::Applied { version };
    let conflict = |current| WriteOutcome::Conflict { current };
    assert_eq!(one(put(e.clone(), Precondition::Absent)).await, applied(1));
    assert_eq!(
        one(put(e.clone(), Precondition::Absent)).await,
        conflict(Some(1))
    );
    assert_eq!(
        one(put(e.clone(), Precondition::Version(7))).await,
        conflict(Some(1))
    );
    assert_eq!(
        one(put(e.clone(), Precondition::Version(1))).await,
        applied(2)
    );
    assert_eq!(one(put(e.clone(), Precondition::Any)).await, applied(3));
    let got = store.get(&t, "urn:x:1").await.expect("get").expect("found");
    assert_eq!((got.version, &got.entity), (3, &e));
    assert_eq!(
        one(delete("urn:x:1", Precondition::Version(2))).await,
        conflict(Some(3))
    );
    assert_eq!(
        one(delete("urn:x:1", Precondition::Absent)).await,
        conflict(Some(3))
    );
    assert_eq!(one(delete("urn:x:1", Precondition::Any)).await, applied(3));
    assert_eq!(
        one(delete("urn:x:1", Precondition::Any)).await,
        conflict(None)
    );
    assert!(store.get(&t, "urn:x:1").await.expect("get").is_none());
    // Upsert of a missing entity creates it, after the existing ones in creation order.
    create(store, &t, vec![entity("urn:x:0", T, 0)]).await;
    assert_eq!(one(put(e, Precondition::Any)).await, applied(1));
    assert_eq!(ids(store, &t, &all()).await, ["urn:x:0", "urn:x:1"]);
}

pub async fn failed_preconditions_conflict_without_stopping_the_others(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    create(store, &t, vec![entity("urn:a", T, 1)]).await;

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

pub async fn writes_in_one_commit_see_the_earlier_ones(store: Arc<dyn Store>) {
    let store = &*store;
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
    assert_eq!(ids(store, &t, &all()).await, ["urn:a"]);
    let types = store.types(&t).await.expect("types");
    assert_eq!(types.len(), 1);
    assert_eq!((types[0].name.as_str(), types[0].entity_count), (T, 1));
}

pub async fn a_commit_writing_one_entity_twice_applies_them_in_order(store: Arc<dyn Store>) {
    let t = default_tenant();
    let version = |n: i64| entity("urn:x:twice", T, n);
    for round in 0..20 {
        let writes = (0..4)
            .map(|n| put(version(round * 10 + n), Precondition::Any))
            .collect();
        let outcomes = store.commit(&t, writes).await.expect("commit");
        assert_eq!(outcomes.len(), 4);
        let got = store
            .get(&t, "urn:x:twice")
            .await
            .expect("get")
            .expect("found");
        assert_eq!(got.entity, version(round * 10 + 3), "round {round}");
        assert_eq!(got.version, (round as u64 + 1) * 4);
    }
}

pub async fn concurrent_committers_are_all_acknowledged_and_readable(store: Arc<dyn Store>) {
    const TASKS: usize = 64;
    const WRITES: usize = 50;
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let store = store.clone();
        tasks.spawn(async move {
            let t = default_tenant();
            for n in 0..WRITES {
                let id = format!("urn:ngsi-ld:T:{task}-{n}");
                let out = commit_one(
                    &*store,
                    &t,
                    put(entity(&id, T, n as i64), Precondition::Absent),
                )
                .await;
                assert_eq!(out, WriteOutcome::Applied { version: 1 });
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

pub async fn an_empty_commit_writes_nothing(store: Arc<dyn Store>) {
    let t = tenant("empty");
    assert!(store
        .commit(&t, Vec::new())
        .await
        .expect("commit")
        .is_empty());
    assert!(!store.tenant_exists(&t).await.expect("exists"));
}
