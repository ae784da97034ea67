//! Queries: the fixture queries of `fixtures/queries.json`, every index hint after creates,
//! updates, type changes and deletes, creation order, pagination and counts, agreement with
//! the NGSI-LD evaluator, and queries while writes go on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use geo::{coord, Rect};
use ngsi_types::context::ActiveContext;

use super::fixtures::{self, geo_filter, q_filter, scope_filter};
use super::*;
use crate::store::EntityFilter;

pub async fn fixture_queries_give_the_expected_pages(store: Arc<dyn Store>) {
    let store = &*store;
    let t = tenant("fixtures");
    let fixture = fixtures::queries();
    let entities = fixture.entities.into_iter().map(fixtures::entity).collect();
    create(store, &t, entities).await;
    for case in &fixture.cases {
        let query = case.query.to_query();
        let page = store.query(&t, &query).await.expect("query");
        assert_eq!(ids_of(&page.entities), case.expect, "{}", case.name);
        assert_eq!(page.total, case.total, "{}: count", case.name);
    }
}

fn near(lon: f64, lat: f64) -> Option<(String, Rect<f64>)> {
    let rect = Rect::new(
        coord! { x: lon - 0.5, y: lat - 0.5 },
        coord! { x: lon + 0.5, y: lat + 0.5 },
    );
    Some((LOCATION.to_owned(), rect))
}

pub async fn hints_find_the_right_entities_after_updates_and_deletes(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let mut named = entity("urn:c", U, 3);
    named.put_attribute(NAME, Attribute::property("c"));
    create(
        store,
        &t,
        vec![
            located(entity("urn:a", T, 1), 2.0, 41.0),
            located(entity("urn:b", T, 2), -3.7, 40.4),
            named,
        ],
    )
    .await;
    let by_type = |ty: &str| EntityQuery {
        any_type: Some(vec![ty.to_owned()]),
        ..all()
    };
    let by_attr = |a: &str| EntityQuery {
        any_attribute: Some(vec![a.to_owned()]),
        ..all()
    };
    let geo = |lon, lat| EntityQuery {
        geo_envelope: near(lon, lat),
        ..all()
    };
    assert_eq!(ids(store, &t, &by_type(T)).await, ["urn:a", "urn:b"]);
    assert_eq!(ids(store, &t, &by_attr(NAME)).await, ["urn:c"]);
    assert_eq!(ids(store, &t, &geo(2.0, 41.0)).await, ["urn:a"]);
    let by_ids = EntityQuery {
        ids: Some(vec!["urn:c".into(), "urn:a".into(), "urn:zz".into()]),
        ..all()
    };
    assert_eq!(ids(store, &t, &by_ids).await, ["urn:a", "urn:c"]);

    // urn:a becomes a U, moves to Madrid and gains a name; urn:b is deleted.
    let mut moved = located(entity("urn:a", U, 1), -3.7, 40.4);
    moved.put_attribute(NAME, Attribute::property("a"));
    store
        .commit(
            &t,
            vec![
                put(moved, Precondition::Version(1)),
                delete("urn:b", Precondition::Any),
            ],
        )
        .await
        .expect("commit");
    assert!(ids(store, &t, &by_type(T)).await.is_empty());
    assert_eq!(ids(store, &t, &by_type(U)).await, ["urn:a", "urn:c"]);
    assert_eq!(ids(store, &t, &by_attr(NAME)).await, ["urn:a", "urn:c"]);
    assert!(ids(store, &t, &geo(2.0, 41.0)).await.is_empty());
    assert_eq!(ids(store, &t, &geo(-3.7, 40.4)).await, ["urn:a"]);
    let both = EntityQuery {
        any_type: Some(vec![U.into()]),
        geo_envelope: near(-3.7, 40.4),
        ..all()
    };
    assert_eq!(ids(store, &t, &both).await, ["urn:a"]);
}

pub async fn pages_are_in_creation_order_and_counted(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    // Ids sort differently from creation order, and spread over several index chunks.
    let entities: Vec<Entity> = (0..700)
        .map(|n| entity(&format!("urn:{:04}", 700 - n), T, n))
        .collect();
    create(store, &t, entities).await;
    // Replacing an entity keeps its place.
    store
        .commit(&t, vec![put(entity("urn:0700", U, 0), Precondition::Any)])
        .await
        .expect("replace");

    let page = |offset, limit, count| EntityQuery {
        offset,
        limit,
        count,
        ..EntityQuery::default()
    };
    let first = store.query(&t, &page(0, 3, true)).await.expect("query");
    assert_eq!(
        ids_of(&first.entities),
        ["urn:0700", "urn:0699", "urn:0698"]
    );
    assert_eq!(first.total, Some(700));
    let later = store
        .query(&t, &page(600, 1_000, false))
        .await
        .expect("query");
    assert_eq!(later.entities.len(), 100);
    assert_eq!(later.entities[0].id, "urn:0100");
    assert_eq!(later.total, None);
    let only_count = store.query(&t, &page(0, 0, true)).await.expect("query");
    assert!(only_count.entities.is_empty());
    assert_eq!(only_count.total, Some(700));

    // The filter decides; the count counts filtered matches only.
    let zero = EntityQuery {
        filter: Some(Arc::new(EntityFilter {
            q: Some(q_filter("speed==0", &ActiveContext::core())),
            ..EntityFilter::default()
        })),
        any_type: Some(vec![U.into(), T.into()]),
        count: true,
        limit: 10,
        ..EntityQuery::default()
    };
    let page = store.query(&t, &zero).await.expect("query");
    assert_eq!(ids_of(&page.entities), ["urn:0700"]);
    assert_eq!(page.total, Some(1));
}

pub async fn unknown_tenants_and_names_give_empty_pages(store: Arc<dyn Store>) {
    let q = EntityQuery {
        any_type: Some(vec!["https://example.org/Nothing".into()]),
        count: true,
        ..all()
    };
    let page = store.query(&default_tenant(), &q).await.expect("query");
    assert_eq!((page.entities.len(), page.total), (0, Some(0)));
    let page = store.query(&tenant("nobody"), &all()).await.expect("query");
    assert!(page.entities.is_empty());
}

/// Checks that the store answers `filter` (whole, then paged with a count) as the evaluator
/// does on `all`.
async fn agrees(
    store: &dyn Store,
    tenant: &Tenant,
    all: &[Entity],
    label: &str,
    filter: EntityFilter,
) {
    let filter = Arc::new(filter);
    let expected: Vec<&str> = all
        .iter()
        .filter(|e| filter.matches(e))
        .map(|e| e.id.as_str())
        .collect();
    let query = EntityQuery {
        filter: Some(filter.clone()),
        limit: 1000,
        ..EntityQuery::default()
    };
    let got = store.query(tenant, &query).await.expect("query");
    assert_eq!(ids_of(&got.entities), expected, "{label}: {query:?}");
    let page = EntityQuery {
        offset: 1,
        limit: 2,
        count: true,
        ..query
    };
    let got = store.query(tenant, &page).await.expect("paged query");
    assert_eq!(got.total, Some(expected.len() as u64), "{label}: count");
    let expected_page: Vec<&str> = expected.iter().skip(1).take(2).copied().collect();
    assert_eq!(ids_of(&got.entities), expected_page, "{label}: page");
}

pub async fn queries_agree_with_the_ngsi_ld_evaluator(store: Arc<dyn Store>) {
    let store = &*store;
    let t = tenant("q");
    let all = fixtures::cars();
    create(store, &t, all.clone()).await;
    let ctx = ActiveContext::core();
    let expressions = fixtures::evaluator();
    for q in &expressions.q {
        let filter = EntityFilter {
            q: Some(q_filter(q, &ctx)),
            ..EntityFilter::default()
        };
        agrees(store, &t, &all, q, filter).await;
    }
    for scope in &expressions.scope_q {
        let filter = EntityFilter {
            scope_q: Some(scope_filter(scope)),
            ..EntityFilter::default()
        };
        agrees(store, &t, &all, scope, filter).await;
    }
    for geo_q in &expressions.geo_q {
        let filter = EntityFilter {
            geo_q: Some(geo_filter(geo_q, &ctx)),
            ..EntityFilter::default()
        };
        agrees(store, &t, &all, &geo_q.to_string(), filter).await;
    }
}

pub async fn queries_during_writes_stay_ordered_and_never_repeat(store: Arc<dyn Store>) {
    let t = default_tenant();
    let entities: Vec<Entity> = (0..600)
        .map(|n| entity(&format!("urn:{n:04}"), T, n))
        .collect();
    create(&*store, &t, entities).await;

    // Meanwhile, until the reads are done: every tenth entity is deleted and re-created
    // (moving to the end of the creation order), the others are replaced in place.
    let reading = Arc::new(AtomicBool::new(true));
    let writer = {
        let (store, reading) = (store.clone(), reading.clone());
        tokio::spawn(async move {
            let t = default_tenant();
            for round in 0..20_i64 {
                for n in (0..600).step_by(10) {
                    if !reading.load(Ordering::Relaxed) {
                        return;
                    }
                    let id = format!("urn:{n:04}");
                    let writes = vec![
                        delete(&id, Precondition::Any),
                        put(entity(&id, T, round), Precondition::Absent),
                        put(
                            entity(&format!("urn:{:04}", n + 1), U, round),
                            Precondition::Any,
                        ),
                    ];
                    store.commit(&t, writes).await.expect("commit");
                }
            }
        })
    };
    let stable: Vec<String> = (0..600)
        .filter(|n| n % 10 != 0)
        .map(|n| format!("urn:{n:04}"))
        .collect();
    for _ in 0..30 {
        let got = ids(&*store, &t, &all()).await;
        let unique: std::collections::HashSet<_> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "an entity was returned twice");
        let kept: Vec<String> = got.into_iter().filter(|id| stable.contains(id)).collect();
        assert_eq!(
            kept, stable,
            "stable entities missing or out of creation order"
        );
    }
    reading.store(false, Ordering::Relaxed);
    writer.await.expect("writer");
}
