//! The temporal evolution, written: history recorded beside core writes (not for writes that
//! conflict, nor when it cannot be recorded), every [`TemporalOp`] with its outcomes, and
//! concurrent writers of one evolution. Reads are in [`super::temporal_queries`].
//!
//! Instance ids are written by hand here, in the order the instances are recorded (as the
//! broker's UUIDv7 ones are), so "oldest first, then by recording" is checkable. The helpers
//! below serve both files.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ngsi_types::temporal::deleted_instance;

use super::*;
use crate::store::{
    RecordMode, TemporalOp, TemporalOutcome, TemporalPage, TemporalSelection, TemporalWrite,
};

/// Second `s` of a fixed day.
pub fn at(s: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("valid")
        + Duration::seconds(s)
}

/// A recorded `speed`-like instance: observed at `observed`, modified at `modified`.
pub fn instance(value: i64, iid: &str, observed: Option<i64>, modified: i64) -> Attribute {
    let mut a = Attribute::property(value);
    a.instance_id = Some(iid.to_owned());
    a.observed_at = observed.map(at);
    a.created_at = Some(at(0));
    a.modified_at = Some(at(modified));
    a
}

pub fn in_dataset(mut a: Attribute, dataset_id: &str) -> Attribute {
    a.dataset_id = Some(dataset_id.to_owned());
    a
}

pub fn record(
    types: &[&str],
    now: i64,
    instances: Vec<(&str, Attribute)>,
    mode: RecordMode,
) -> TemporalOp {
    TemporalOp::Record {
        types: types.iter().map(|t| (*t).to_owned()).collect(),
        scope: None,
        at: at(now),
        instances: instances
            .into_iter()
            .map(|(n, a)| (n.to_owned(), a))
            .collect(),
        mode,
        touch: true,
    }
}

pub async fn apply(store: &dyn Store, t: &Tenant, id: &str, op: TemporalOp) -> TemporalOutcome {
    let write = TemporalWrite {
        id: id.to_owned(),
        op,
    };
    let outcomes = store.temporal_commit(t, vec![write]).await.expect("commit");
    assert_eq!(outcomes.len(), 1);
    outcomes[0]
}

/// Everything, one page.
pub fn everything() -> TemporalSelection {
    TemporalSelection {
        limit: usize::MAX,
        ..TemporalSelection::default()
    }
}

pub fn of(ids: &[&str]) -> TemporalSelection {
    TemporalSelection {
        ids: Some(ids.iter().map(|i| (*i).to_owned()).collect()),
        ..everything()
    }
}

pub async fn read(store: &dyn Store, t: &Tenant, selection: &TemporalSelection) -> TemporalPage {
    store.temporal_query(t, selection).await.expect("query")
}

/// The one evolution `id`, if the selection keeps it.
pub async fn evolution(store: &dyn Store, t: &Tenant, id: &str) -> Option<Entity> {
    let page = read(store, t, &of(&[id])).await;
    assert!(page.entities.len() <= 1);
    page.entities.into_iter().next()
}

/// The instance ids of an attribute, in the order read.
pub fn iids(e: &Entity, attr: &str) -> Vec<String> {
    e.attributes
        .get(attr)
        .into_iter()
        .flatten()
        .map(|a| a.instance_id.clone().unwrap_or_default())
        .collect()
}

/// Per entity id, instance ids.
pub type Evolutions = Vec<(String, Vec<String>)>;

/// Per entity, the instance ids of `attr`.
pub fn page_iids(page: &TemporalPage, attr: &str) -> Evolutions {
    page.entities
        .iter()
        .map(|e| (e.id.clone(), iids(e, attr)))
        .collect()
}

pub fn owned(pairs: &[(&str, &[&str])]) -> Evolutions {
    pairs
        .iter()
        .map(|(id, iids)| {
            let iids = iids.iter().map(|i| (*i).to_owned()).collect();
            ((*id).to_owned(), iids)
        })
        .collect()
}

pub fn with_history(mut w: Write, op: TemporalOp) -> Write {
    w.history = Some(op);
    w
}

pub async fn a_core_write_records_its_history_with_it(store: Arc<dyn Store>) {
    let store = &*store;
    let t = tenant("history");
    let id = "urn:ngsi-ld:T:1";
    let first = record(
        &[T],
        1,
        vec![(SPEED, instance(1, "urn:i:01", Some(1), 1))],
        RecordMode::Upsert,
    );
    let out = commit_one(
        store,
        &t,
        with_history(put(entity(id, T, 1), Precondition::Absent), first),
    )
    .await;
    assert_eq!(out, WriteOutcome::Applied { version: 1 });
    assert!(store.tenant_exists(&t).await.expect("exists"));
    let second = TemporalOp::Record {
        types: vec![U.into()],
        scope: Some(vec!["/a".into()]),
        at: at(2),
        instances: vec![
            (SPEED.into(), instance(2, "urn:i:02", Some(2), 2)),
            (NAME.into(), instance(7, "urn:i:03", None, 2)),
        ],
        mode: RecordMode::Upsert,
        touch: true,
    };
    let w = with_history(put(entity(id, U, 2), Precondition::Version(1)), second);
    assert_eq!(
        commit_one(store, &t, w).await,
        WriteOutcome::Applied { version: 2 }
    );

    let e = evolution(store, &t, id).await.expect("recorded");
    assert_eq!(e.types, [T, U], "the union of the types recorded");
    assert_eq!(e.scope, ["/a"]);
    assert_eq!(
        (e.created_at, e.modified_at, e.deleted_at),
        (Some(at(1)), Some(at(2)), None)
    );
    assert_eq!(iids(&e, SPEED), ["urn:i:01", "urn:i:02"]);
    assert_eq!(e.attributes[SPEED][1], instance(2, "urn:i:02", Some(2), 2));
    assert_eq!(iids(&e, NAME), ["urn:i:03"]);
    // The entity itself is what the write stored, without history.
    let got = store.get(&t, id).await.expect("get").expect("exists");
    assert_eq!(got.entity, entity(id, U, 2));

    // Upsert and delete with history: a blind write creates a second evolution, a delete
    // drops the first.
    let other = "urn:ngsi-ld:T:2";
    let op = record(
        &[T],
        3,
        vec![(SPEED, instance(3, "urn:i:04", Some(3), 3))],
        RecordMode::Upsert,
    );
    let w = with_history(put(entity(other, T, 3), Precondition::Any), op);
    assert_eq!(
        commit_one(store, &t, w).await,
        WriteOutcome::Applied { version: 1 }
    );
    let w = with_history(delete(id, Precondition::Version(2)), TemporalOp::Delete);
    assert_eq!(
        commit_one(store, &t, w).await,
        WriteOutcome::Applied { version: 2 }
    );
    let page = read(store, &t, &everything()).await;
    assert_eq!(page_iids(&page, SPEED), owned(&[(other, &["urn:i:04"])]));
}

pub async fn a_write_that_conflicts_records_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    let op = |iid: &str, s| {
        record(
            &[T],
            s,
            vec![(SPEED, instance(s, iid, Some(s), s))],
            RecordMode::Upsert,
        )
    };
    let w = with_history(
        put(entity(id, T, 1), Precondition::Absent),
        op("urn:i:01", 1),
    );
    assert_eq!(
        commit_one(store, &t, w).await,
        WriteOutcome::Applied { version: 1 }
    );
    let conflicting = vec![
        with_history(
            put(entity(id, T, 2), Precondition::Absent),
            op("urn:i:02", 2),
        ),
        with_history(
            put(entity(id, T, 3), Precondition::Version(5)),
            op("urn:i:03", 3),
        ),
        with_history(delete(id, Precondition::Version(9)), TemporalOp::Delete),
        with_history(
            delete("urn:ngsi-ld:T:none", Precondition::Any),
            op("urn:i:04", 4),
        ),
    ];
    let outcomes = store.commit(&t, conflicting).await.expect("commit");
    assert_eq!(
        outcomes,
        [
            WriteOutcome::Conflict { current: Some(1) },
            WriteOutcome::Conflict { current: Some(1) },
            WriteOutcome::Conflict { current: Some(1) },
            WriteOutcome::Conflict { current: None },
        ]
    );
    let page = read(store, &t, &everything()).await;
    assert_eq!(page_iids(&page, SPEED), owned(&[(id, &["urn:i:01"])]));
    assert_eq!(page.entities[0].modified_at, Some(at(1)));
    // A tenant where only conflicts happened does not exist.
    let farm = tenant("farm");
    let w = with_history(
        put(entity(id, T, 1), Precondition::Version(1)),
        op("urn:i:05", 5),
    );
    assert_eq!(
        commit_one(store, &farm, w).await,
        WriteOutcome::Conflict { current: None }
    );
    assert!(!store.tenant_exists(&farm).await.expect("exists"));
}

pub async fn record_modes_decide_creation(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    let speed = |v, iid: &str| vec![(SPEED, instance(v, iid, Some(v), v))];
    let existing = record(&[T], 1, speed(1, "urn:i:00"), RecordMode::Existing);
    assert_eq!(
        apply(store, &t, id, existing).await,
        TemporalOutcome::NotFound
    );
    assert_eq!(evolution(store, &t, id).await, None);
    let create = record(&[T], 1, speed(1, "urn:i:01"), RecordMode::Create);
    assert_eq!(apply(store, &t, id, create).await, TemporalOutcome::Created);
    let again = record(&[U], 2, speed(2, "urn:i:02"), RecordMode::Create);
    assert_eq!(apply(store, &t, id, again).await, TemporalOutcome::Conflict);
    let e = evolution(store, &t, id).await.expect("created");
    assert_eq!(
        (e.types.as_slice(), iids(&e, SPEED)),
        (&[T.to_owned()][..], vec!["urn:i:01".to_owned()])
    );
    let existing = record(&[T], 3, speed(3, "urn:i:03"), RecordMode::Existing);
    assert_eq!(
        apply(store, &t, id, existing).await,
        TemporalOutcome::Updated
    );
    let upsert = record(&[U], 4, speed(4, "urn:i:04"), RecordMode::Upsert);
    assert_eq!(apply(store, &t, id, upsert).await, TemporalOutcome::Updated);
    let fresh = record(&[U], 5, speed(5, "urn:i:05"), RecordMode::Upsert);
    assert_eq!(
        apply(store, &t, "urn:ngsi-ld:T:2", fresh).await,
        TemporalOutcome::Created
    );
    let e = evolution(store, &t, id).await.expect("created");
    assert_eq!(iids(&e, SPEED), ["urn:i:01", "urn:i:03", "urn:i:04"]);
    assert_eq!(
        (e.types.as_slice(), e.created_at, e.modified_at),
        (&[T.to_owned(), U.to_owned()][..], Some(at(1)), Some(at(4)))
    );
    // In a tenant that does not exist, only a creation writes (and makes it exist).
    let farm = tenant("farm");
    let missing = [
        TemporalOp::Delete,
        TemporalOp::MarkDeleted {
            at: at(1),
            instances: vec![],
        },
        record(&[T], 1, speed(1, "urn:i:06"), RecordMode::Existing),
    ];
    for op in missing {
        assert_eq!(apply(store, &farm, id, op).await, TemporalOutcome::NotFound);
    }
    assert!(!store.tenant_exists(&farm).await.expect("exists"));
    let create = record(&[T], 1, speed(1, "urn:i:07"), RecordMode::Create);
    assert_eq!(
        apply(store, &farm, id, create).await,
        TemporalOutcome::Created
    );
    assert!(store.tenant_exists(&farm).await.expect("exists"));
}

pub async fn mark_deleted_keeps_the_history(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    let gone = deleted_instance(
        &instance(1, "urn:i:01", Some(1), 1),
        at(5),
        "urn:i:02".into(),
    );
    let mark = || TemporalOp::MarkDeleted {
        at: at(5),
        instances: vec![(SPEED.into(), gone.clone())],
    };
    assert_eq!(
        apply(store, &t, id, mark()).await,
        TemporalOutcome::NotFound
    );
    let create = record(
        &[T],
        1,
        vec![(SPEED, instance(1, "urn:i:01", Some(1), 1))],
        RecordMode::Create,
    );
    assert_eq!(apply(store, &t, id, create).await, TemporalOutcome::Created);
    assert_eq!(apply(store, &t, id, mark()).await, TemporalOutcome::Updated);
    let e = evolution(store, &t, id).await.expect("kept");
    assert_eq!((e.modified_at, e.deleted_at), (Some(at(5)), Some(at(5))));
    assert_eq!(
        e.attributes[SPEED],
        [instance(1, "urn:i:01", Some(1), 1), gone.clone()]
    );
    // Recording again makes it live.
    let upsert = record(
        &[T],
        6,
        vec![(SPEED, instance(6, "urn:i:03", Some(6), 6))],
        RecordMode::Upsert,
    );
    assert_eq!(apply(store, &t, id, upsert).await, TemporalOutcome::Updated);
    let e = evolution(store, &t, id).await.expect("kept");
    assert_eq!(
        (e.created_at, e.modified_at, e.deleted_at),
        (Some(at(1)), Some(at(6)), None)
    );
    assert_eq!(iids(&e, SPEED), ["urn:i:01", "urn:i:02", "urn:i:03"]);
}

pub async fn delete_drops_one_evolution_whole(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    for (id, iid) in [("urn:a", "urn:i:01"), ("urn:b", "urn:i:02")] {
        let op = record(
            &[T],
            1,
            vec![
                (SPEED, instance(1, iid, Some(1), 1)),
                (NAME, instance(2, &format!("{iid}n"), Some(1), 1)),
            ],
            RecordMode::Create,
        );
        assert_eq!(apply(store, &t, id, op).await, TemporalOutcome::Created);
    }
    assert_eq!(
        apply(store, &t, "urn:a", TemporalOp::Delete).await,
        TemporalOutcome::Updated
    );
    assert_eq!(
        apply(store, &t, "urn:a", TemporalOp::Delete).await,
        TemporalOutcome::NotFound
    );
    let page = read(store, &t, &everything()).await;
    assert_eq!(page_iids(&page, NAME), owned(&[("urn:b", &["urn:i:02n"])]));
    // Re-created, it starts empty.
    let op = record(&[U], 9, vec![], RecordMode::Create);
    assert_eq!(
        apply(store, &t, "urn:a", op).await,
        TemporalOutcome::Created
    );
    let e = evolution(store, &t, "urn:a").await.expect("re-created");
    assert!(e.attributes.is_empty(), "{e:?}");
    assert_eq!(
        (e.types.as_slice(), e.created_at),
        (&[U.to_owned()][..], Some(at(9)))
    );
}

pub async fn delete_attribute_drops_all_one_dataset_or_the_default(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    let instances = vec![
        (SPEED, instance(1, "urn:i:01", Some(1), 1)),
        (
            SPEED,
            in_dataset(instance(2, "urn:i:02", Some(2), 2), "urn:ds:1"),
        ),
        (
            SPEED,
            in_dataset(instance(3, "urn:i:03", Some(3), 3), "urn:ds:2"),
        ),
        (SPEED, instance(4, "urn:i:04", Some(4), 4)),
        (NAME, instance(5, "urn:i:05", Some(5), 5)),
    ];
    assert_eq!(
        apply(
            store,
            &t,
            id,
            record(&[T], 5, instances, RecordMode::Create)
        )
        .await,
        TemporalOutcome::Created
    );
    let drop = |dataset_id: Option<Option<&str>>, s| TemporalOp::DeleteAttribute {
        attribute: SPEED.into(),
        dataset_id: dataset_id.map(|d| d.map(str::to_owned)),
        at: at(s),
    };
    assert_eq!(
        apply(store, &t, "urn:none", drop(None, 6)).await,
        TemporalOutcome::NotFound
    );
    assert_eq!(
        apply(store, &t, id, drop(Some(Some("urn:ds:9")), 6)).await,
        TemporalOutcome::NotFound
    );
    assert_eq!(
        evolution(store, &t, id).await.expect("kept").modified_at,
        Some(at(5))
    );

    assert_eq!(
        apply(store, &t, id, drop(Some(Some("urn:ds:1")), 6)).await,
        TemporalOutcome::Updated
    );
    let e = evolution(store, &t, id).await.expect("kept");
    assert_eq!(iids(&e, SPEED), ["urn:i:01", "urn:i:03", "urn:i:04"]);
    assert_eq!(e.modified_at, Some(at(6)));
    assert_eq!(
        apply(store, &t, id, drop(Some(None), 7)).await,
        TemporalOutcome::Updated
    );
    assert_eq!(
        iids(&evolution(store, &t, id).await.expect("kept"), SPEED),
        ["urn:i:03"]
    );
    assert_eq!(
        apply(store, &t, id, drop(Some(None), 8)).await,
        TemporalOutcome::NotFound
    );
    assert_eq!(
        apply(store, &t, id, drop(None, 8)).await,
        TemporalOutcome::Updated
    );
    assert_eq!(
        apply(store, &t, id, drop(None, 9)).await,
        TemporalOutcome::NotFound
    );
    let e = evolution(store, &t, id).await.expect("kept");
    assert_eq!(e.modified_at, Some(at(8)));
    assert!(!e.attributes.contains_key(SPEED));
    assert_eq!(iids(&e, NAME), ["urn:i:05"], "other attributes stay");
}

pub async fn instances_are_modified_and_deleted_one_by_one(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    let instances = vec![
        (SPEED, instance(1, "urn:i:01", Some(1), 1)),
        (SPEED, instance(2, "urn:i:02", Some(2), 2)),
        (NAME, instance(3, "urn:i:03", Some(3), 3)),
    ];
    assert_eq!(
        apply(
            store,
            &t,
            id,
            record(&[T], 3, instances, RecordMode::Create)
        )
        .await,
        TemporalOutcome::Created
    );
    let modify = |attribute: &str, instance: Attribute, s| TemporalOp::ModifyInstance {
        attribute: attribute.into(),
        instance: Box::new(instance),
        at: at(s),
    };
    let changed = in_dataset(instance(10, "urn:i:01", Some(7), 4), "urn:ds:1");
    assert_eq!(
        apply(store, &t, "urn:none", modify(SPEED, changed.clone(), 4)).await,
        TemporalOutcome::NotFound
    );
    assert_eq!(
        apply(store, &t, id, modify(NAME, changed.clone(), 4)).await,
        TemporalOutcome::NotFound,
        "of another attribute"
    );
    assert_eq!(
        apply(
            store,
            &t,
            id,
            modify(SPEED, instance(0, "urn:i:99", None, 4), 4)
        )
        .await,
        TemporalOutcome::NotFound
    );
    assert_eq!(
        apply(store, &t, id, modify(SPEED, changed.clone(), 4)).await,
        TemporalOutcome::Updated
    );
    let e = evolution(store, &t, id).await.expect("kept");
    assert_eq!(e.modified_at, Some(at(4)));
    // Oldest first by observedAt: the modified instance is now observed last.
    assert_eq!(
        e.attributes[SPEED],
        [instance(2, "urn:i:02", Some(2), 2), changed.clone()]
    );
    // Its new datasetId and time are what selections see.
    let selection = TemporalSelection {
        dataset_ids: Some(vec!["urn:ds:1".into()]),
        ..of(&[id])
    };
    assert_eq!(
        page_iids(&read(store, &t, &selection).await, SPEED),
        owned(&[(id, &["urn:i:01"])])
    );

    let remove = |attribute: &str, iid: &str, s| TemporalOp::DeleteInstance {
        attribute: attribute.into(),
        instance_id: iid.into(),
        at: at(s),
    };
    assert_eq!(
        apply(store, &t, id, remove(NAME, "urn:i:02", 5)).await,
        TemporalOutcome::NotFound
    );
    assert_eq!(
        apply(store, &t, "urn:none", remove(SPEED, "urn:i:02", 5)).await,
        TemporalOutcome::NotFound
    );
    assert_eq!(
        apply(store, &t, id, remove(SPEED, "urn:i:02", 5)).await,
        TemporalOutcome::Updated
    );
    assert_eq!(
        apply(store, &t, id, remove(SPEED, "urn:i:02", 6)).await,
        TemporalOutcome::NotFound
    );
    let e = evolution(store, &t, id).await.expect("kept");
    assert_eq!(e.modified_at, Some(at(5)));
    assert_eq!(iids(&e, SPEED), ["urn:i:01"]);
    assert_eq!(iids(&e, NAME), ["urn:i:03"]);
}

pub async fn a_write_whose_history_fails_writes_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    // An instance without instanceId cannot be recorded: the store fails the commit.
    let mut unnamed = instance(1, "urn:i:01", Some(1), 1);
    unnamed.instance_id = None;
    let op = record(&[T], 1, vec![(SPEED, unnamed)], RecordMode::Upsert);
    let w = with_history(put(entity(id, T, 1), Precondition::Absent), op);
    assert!(store.commit(&t, vec![w]).await.is_err());
    assert_eq!(
        store.get(&t, id).await.expect("get"),
        None,
        "the entity write is undone"
    );
    assert_eq!(evolution(store, &t, id).await, None);
    // And the store goes on.
    let op = record(
        &[T],
        2,
        vec![(SPEED, instance(2, "urn:i:02", Some(2), 2))],
        RecordMode::Upsert,
    );
    let w = with_history(put(entity(id, T, 2), Precondition::Absent), op);
    assert_eq!(
        commit_one(store, &t, w).await,
        WriteOutcome::Applied { version: 1 }
    );
    assert_eq!(
        iids(&evolution(store, &t, id).await.expect("recorded"), SPEED),
        ["urn:i:02"]
    );
}

pub async fn concurrent_writers_of_one_evolution_all_record(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let id = "urn:ngsi-ld:T:1";
    let temporal = (0..10).map(|i| {
        let op = record(
            &[T],
            i,
            vec![(SPEED, instance(i, &format!("urn:i:t{i}"), Some(i), i))],
            RecordMode::Upsert,
        );
        apply(store, &t, id, op)
    });
    let core = (0..10).map(|i| {
        let op = record(
            &[T],
            i,
            vec![(NAME, instance(i, &format!("urn:i:c{i}"), Some(i), i))],
            RecordMode::Upsert,
        );
        commit_one(
            store,
            &t,
            with_history(put(entity(id, T, i), Precondition::Any), op),
        )
    });
    let (temporal, core) = tokio::join!(
        futures_util::future::join_all(temporal),
        futures_util::future::join_all(core)
    );
    assert!(
        core.iter()
            .all(|o| matches!(o, WriteOutcome::Applied { .. })),
        "{core:?}"
    );
    let created = temporal
        .iter()
        .filter(|o| **o == TemporalOutcome::Created)
        .count();
    let updated = temporal
        .iter()
        .filter(|o| **o == TemporalOutcome::Updated)
        .count();
    // Created by one of the temporal writes or by one of the core ones.
    assert!(created <= 1 && created + updated == 10, "{temporal:?}");
    let e = evolution(store, &t, id).await.expect("recorded");
    assert_eq!(e.attributes[SPEED].len(), 10);
    assert_eq!(e.attributes[NAME].len(), 10);
    assert_eq!(
        store
            .get(&t, id)
            .await
            .expect("get")
            .expect("exists")
            .version,
        10
    );
}
