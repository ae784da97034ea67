//! Queries: every index hint, after creates, updates, type changes and deletes; creation order,
//! pagination and counts.

use std::sync::Arc;

use geo::{coord, Rect};
use ngsi_types::Entity;

use super::*;

fn near(lon: f64, lat: f64) -> Option<(String, Rect<f64>)> {
    let rect = Rect::new(
        coord! { x: lon - 0.5, y: lat - 0.5 },
        coord! { x: lon + 0.5, y: lat + 0.5 },
    );
    Some((LOCATION.to_owned(), rect))
}

#[tokio::test]
async fn hints_find_the_right_entities_after_updates_and_deletes() {
    let (_dir, store) = temp_store();
    let t = default_tenant();
    let mut named = entity("urn:c", U, 3);
    named.put_attribute(NAME, ngsi_types::Attribute::property("c"));
    create(
        &store,
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
    assert_eq!(ids(&store, &t, &by_type(T)).await, ["urn:a", "urn:b"]);
    assert_eq!(ids(&store, &t, &by_attr(NAME)).await, ["urn:c"]);
    assert_eq!(ids(&store, &t, &geo(2.0, 41.0)).await, ["urn:a"]);
    let by_ids = EntityQuery {
        ids: Some(vec!["urn:c".into(), "urn:a".into(), "urn:zz".into()]),
        ..all()
    };
    assert_eq!(ids(&store, &t, &by_ids).await, ["urn:a", "urn:c"]);

    // urn:a becomes a U, moves to Madrid and gains a name; urn:b is deleted.
    let mut moved = located(entity("urn:a", U, 1), -3.7, 40.4);
    moved.put_attribute(NAME, ngsi_types::Attribute::property("a"));
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
    assert!(ids(&store, &t, &by_type(T)).await.is_empty());
    assert_eq!(ids(&store, &t, &by_type(U)).await, ["urn:a", "urn:c"]);
    assert_eq!(ids(&store, &t, &by_attr(NAME)).await, ["urn:a", "urn:c"]);
    assert!(ids(&store, &t, &geo(2.0, 41.0)).await.is_empty());
    assert_eq!(ids(&store, &t, &geo(-3.7, 40.4)).await, ["urn:a"]);
    let both = EntityQuery {
        any_type: Some(vec![U.into()]),
        geo_envelope: near(-3.7, 40.4),
        ..all()
    };
    assert_eq!(ids(&store, &t, &both).await, ["urn:a"]);
}

#[tokio::test]
async fn pages_are_in_creation_order_and_counted() {
    let (_dir, store) = temp_store();
    let t = default_tenant();
    // Ids sort differently from creation order, and spread over several index chunks.
    let entities: Vec<Entity> = (0..700)
        .map(|n| entity(&format!("urn:{:04}", 700 - n), T, n))
        .collect();
    create(&store, &t, entities).await;
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
    let ids_of = |es: &[Entity]| es.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
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
    let ctx = ngsi_types::context::ActiveContext::from_inline(&json!({ "speed": SPEED }))
        .expect("context");
    let speed_zero = ngsi_types::query::q::Query::parse("speed==0")
        .expect("q")
        .expand(&ctx);
    let even = EntityQuery {
        filter: Some(Arc::new(crate::store::EntityFilter {
            q: Some(speed_zero),
            ..crate::store::EntityFilter::default()
        })),
        any_type: Some(vec![U.into(), T.into()]),
        count: true,
        limit: 10,
        ..EntityQuery::default()
    };
    let page = store.query(&t, &even).await.expect("query");
    assert_eq!(ids_of(&page.entities), ["urn:0700"]);
    assert_eq!(page.total, Some(1));
}

#[tokio::test]
async fn unknown_tenants_and_names_give_empty_pages() {
    let (_dir, store) = temp_store();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_during_writes_stay_ordered_and_never_repeat() {
    let (_dir, store) = temp_store();
    let store = Arc::new(store);
    let t = default_tenant();
    let entities: Vec<Entity> = (0..600)
        .map(|n| entity(&format!("urn:{n:04}"), T, n))
        .collect();
    create(&store, &t, entities).await;

    // Meanwhile: every tenth entity is deleted and re-created (moving to the end of the
    // creation order), the others are replaced in place.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let t = default_tenant();
            for round in 0..20_i64 {
                for n in (0..600).step_by(10) {
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
        let got = ids(&store, &t, &all()).await;
        let unique: std::collections::HashSet<_> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "an entity was returned twice");
        let kept: Vec<String> = got.into_iter().filter(|id| stable.contains(id)).collect();
        assert_eq!(
            kept, stable,
            "stable entities missing or out of creation order"
        );
    }
    writer.await.expect("writer");
}
