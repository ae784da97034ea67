//! The temporal evolution, read: selections by ids, types, attributes, datasetIds, time
//! ranges (on observedAt and on modifiedAt, to the microsecond), lastN and an entity filter,
//! paged and counted in id order, over more heads than one MongoDB batch.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ngsi_types::context::ActiveContext;
use ngsi_types::temporal::{TemporalQuery, TimeProperty, TimeRel};

use super::fixtures::q_filter;
use super::temporal::*;
use super::*;
use crate::store::{
    EntityFilter, RecordMode, TemporalOutcome, TemporalPage, TemporalSelection, TemporalWrite,
};

/// Two evolutions: `urn:a` with speed observed at 10, 20, 30 (modified 15, 25, 35) and one
/// instance never observed; `urn:b` with speed observed at 40.
async fn two_evolutions(store: &dyn Store, t: &Tenant) {
    let a = vec![
        (SPEED, instance(1, "urn:i:01", Some(10), 15)),
        (SPEED, instance(2, "urn:i:02", Some(20), 25)),
        (SPEED, instance(3, "urn:i:03", Some(30), 35)),
        (SPEED, instance(4, "urn:i:04", None, 36)),
    ];
    assert_eq!(
        apply(store, t, "urn:a", record(&[T], 36, a, RecordMode::Create)).await,
        TemporalOutcome::Created
    );
    let b = vec![(SPEED, instance(5, "urn:i:05", Some(40), 45))];
    assert_eq!(
        apply(store, t, "urn:b", record(&[U], 45, b, RecordMode::Create)).await,
        TemporalOutcome::Created
    );
}

fn time(
    rel: TimeRel,
    property: TimeProperty,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> TemporalSelection {
    TemporalSelection {
        time: TemporalQuery {
            timerel: Some(rel),
            property,
            from,
            to,
        },
        ..everything()
    }
}

pub async fn time_ranges_select_instances_and_entities(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    two_evolutions(store, &t).await;
    let micro = Duration::microseconds(1);
    let observed = TimeProperty::ObservedAt;
    let modified = TimeProperty::ModifiedAt;
    let cases: Vec<(&str, TemporalSelection, Evolutions)> = vec![
        (
            "no timerel: everything, the unobserved one by its creation",
            everything(),
            owned(&[
                ("urn:a", &["urn:i:04", "urn:i:01", "urn:i:02", "urn:i:03"]),
                ("urn:b", &["urn:i:05"]),
            ]),
        ),
        (
            "before is exclusive",
            time(TimeRel::Before, observed, None, Some(at(20))),
            owned(&[("urn:a", &["urn:i:01"])]),
        ),
        (
            "before, a microsecond later",
            time(TimeRel::Before, observed, None, Some(at(20) + micro)),
            owned(&[("urn:a", &["urn:i:01", "urn:i:02"])]),
        ),
        (
            "after is inclusive",
            time(TimeRel::After, observed, Some(at(30)), None),
            owned(&[("urn:a", &["urn:i:03"]), ("urn:b", &["urn:i:05"])]),
        ),
        (
            "after, a microsecond later",
            time(TimeRel::After, observed, Some(at(30) + micro), None),
            owned(&[("urn:b", &["urn:i:05"])]),
        ),
        (
            "between",
            time(TimeRel::Between, observed, Some(at(20)), Some(at(40))),
            owned(&[("urn:a", &["urn:i:02", "urn:i:03"])]),
        ),
        (
            "between, nothing",
            time(TimeRel::Between, observed, Some(at(41)), Some(at(50))),
            owned(&[]),
        ),
        (
            "before on modifiedAt",
            time(TimeRel::Before, modified, None, Some(at(25))),
            owned(&[("urn:a", &["urn:i:01"])]),
        ),
        (
            "after on modifiedAt",
            time(TimeRel::After, modified, Some(at(35)), None),
            owned(&[
                ("urn:a", &["urn:i:03", "urn:i:04"]),
                ("urn:b", &["urn:i:05"]),
            ]),
        ),
        (
            "between on modifiedAt",
            time(TimeRel::Between, modified, Some(at(16)), Some(at(36))),
            owned(&[("urn:a", &["urn:i:02", "urn:i:03"])]),
        ),
    ];
    for (name, selection, expected) in cases {
        let page = read(store, &t, &selection).await;
        assert_eq!(page_iids(&page, SPEED), expected, "{name}");
    }
    // Retrieve keeps the entity with no instance in the interval.
    let selection = TemporalSelection {
        keep_empty: true,
        ..time(TimeRel::After, observed, Some(at(41)), None)
    };
    let page = read(store, &t, &selection).await;
    assert_eq!(
        page_iids(&page, SPEED),
        owned(&[("urn:a", &[]), ("urn:b", &[])])
    );
    // Ordered oldest first by the time property: urn:i:04, never observed, by its creation.
    let page = read(
        store,
        &t,
        &TemporalSelection {
            last_n: Some(2),
            ..everything()
        },
    )
    .await;
    assert_eq!(
        page_iids(&page, SPEED),
        owned(&[
            ("urn:a", &["urn:i:02", "urn:i:03"]),
            ("urn:b", &["urn:i:05"])
        ])
    );
}

pub async fn attrs_datasets_and_last_n_select_instances(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    let a = vec![
        (SPEED, instance(1, "urn:i:01", Some(10), 10)),
        (
            SPEED,
            in_dataset(instance(2, "urn:i:02", Some(20), 20), "urn:ds:1"),
        ),
        (SPEED, instance(3, "urn:i:03", Some(30), 30)),
        (
            SPEED,
            in_dataset(instance(4, "urn:i:04", Some(40), 40), "urn:ds:1"),
        ),
        (NAME, instance(5, "urn:i:05", Some(5), 5)),
    ];
    assert_eq!(
        apply(store, &t, "urn:a", record(&[T], 40, a, RecordMode::Create)).await,
        TemporalOutcome::Created
    );
    let b = vec![(NAME, instance(6, "urn:i:06", Some(6), 6))];
    assert_eq!(
        apply(store, &t, "urn:b", record(&[T], 6, b, RecordMode::Create)).await,
        TemporalOutcome::Created
    );
    let attrs = |names: &[&str]| Some(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>());

    let page = read(
        store,
        &t,
        &TemporalSelection {
            attrs: attrs(&[SPEED]),
            ..everything()
        },
    )
    .await;
    assert_eq!(
        page_iids(&page, SPEED),
        owned(&[("urn:a", &["urn:i:01", "urn:i:02", "urn:i:03", "urn:i:04"])]),
        "urn:b has no speed"
    );
    assert!(!page.entities[0].attributes.contains_key(NAME));
    let page = read(
        store,
        &t,
        &TemporalSelection {
            attrs: attrs(&[NAME, SPEED]),
            ..everything()
        },
    )
    .await;
    assert_eq!(
        page_iids(&page, NAME),
        owned(&[("urn:a", &["urn:i:05"]), ("urn:b", &["urn:i:06"])])
    );
    let names: Vec<&str> = page.entities[0]
        .attributes
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, [NAME, SPEED], "in the order asked for");

    let datasets = |ids: &[&str]| TemporalSelection {
        dataset_ids: Some(ids.iter().map(|i| (*i).to_owned()).collect()),
        attrs: attrs(&[SPEED]),
        ..everything()
    };
    let page = read(store, &t, &datasets(&["urn:ds:1"])).await;
    assert_eq!(
        page_iids(&page, SPEED),
        owned(&[("urn:a", &["urn:i:02", "urn:i:04"])])
    );
    let page = read(store, &t, &datasets(&["@none"])).await;
    assert_eq!(
        page_iids(&page, SPEED),
        owned(&[("urn:a", &["urn:i:01", "urn:i:03"])])
    );
    let page = read(store, &t, &datasets(&["@none", "urn:ds:1"])).await;
    assert_eq!(page_iids(&page, SPEED).len(), 1);
    assert_eq!(page_iids(&page, SPEED)[0].1.len(), 4);
    let page = read(
        store,
        &t,
        &TemporalSelection {
            last_n: Some(1),
            ..datasets(&["@none"])
        },
    )
    .await;
    assert_eq!(page_iids(&page, SPEED), owned(&[("urn:a", &["urn:i:03"])]));
    // lastN per attribute, with a time range.
    let selection = TemporalSelection {
        last_n: Some(2),
        ..time(
            TimeRel::Before,
            TimeProperty::ObservedAt,
            None,
            Some(at(40)),
        )
    };
    let page = read(store, &t, &selection).await;
    assert_eq!(
        page_iids(&page, SPEED),
        owned(&[("urn:a", &["urn:i:02", "urn:i:03"]), ("urn:b", &[])])
    );
    assert_eq!(iids(&page.entities[0], NAME), ["urn:i:05"]);
}

pub async fn ids_types_and_filters_select_entities_paged_and_counted(store: Arc<dyn Store>) {
    let store = &*store;
    let t = default_tenant();
    // urn:e:0 .. urn:e:9, created out of order; even ones of type T, odd of U; speed i at i.
    for i in [3, 7, 0, 9, 1, 5, 8, 2, 6, 4] {
        let ty = if i % 2 == 0 { T } else { U };
        let speed = vec![(SPEED, instance(i, &format!("urn:i:{i}"), Some(i), i))];
        let op = record(&[ty], i, speed, RecordMode::Create);
        assert_eq!(
            apply(store, &t, &format!("urn:e:{i}"), op).await,
            TemporalOutcome::Created
        );
    }
    let ids_of_page = |page: &TemporalPage| {
        page.entities
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>()
    };
    let e = |is: &[i64]| is.iter().map(|i| format!("urn:e:{i}")).collect::<Vec<_>>();
    let page = read(
        store,
        &t,
        &TemporalSelection {
            offset: 2,
            limit: 3,
            count: true,
            ..everything()
        },
    )
    .await;
    assert_eq!((ids_of_page(&page), page.total), (e(&[2, 3, 4]), Some(10)));
    let page = read(
        store,
        &t,
        &TemporalSelection {
            offset: 9,
            limit: 3,
            ..everything()
        },
    )
    .await;
    assert_eq!((ids_of_page(&page), page.total), (e(&[9]), None));
    let page = read(
        store,
        &t,
        &TemporalSelection {
            limit: 0,
            count: true,
            ..everything()
        },
    )
    .await;
    assert_eq!((ids_of_page(&page), page.total), (vec![], Some(10)));

    let selection = TemporalSelection {
        ids: Some(e(&[8, 1, 4, 12])),
        ..everything()
    };
    assert_eq!(
        ids_of_page(&read(store, &t, &selection).await),
        e(&[1, 4, 8])
    );
    let selection = TemporalSelection {
        any_type: Some(vec![U.into()]),
        limit: 2,
        count: true,
        ..everything()
    };
    let page = read(store, &t, &selection).await;
    assert_eq!((ids_of_page(&page), page.total), (e(&[1, 3]), Some(5)));
    let selection = TemporalSelection {
        any_type: Some(vec![T.into()]),
        ids: Some(e(&[1, 2, 3, 4])),
        ..everything()
    };
    assert_eq!(ids_of_page(&read(store, &t, &selection).await), e(&[2, 4]));

    // Narrowed by time and by a q on the selected instances: entities left out are not counted
    // and do not take a place in the page.
    let after_3 = time(TimeRel::After, TimeProperty::ObservedAt, Some(at(3)), None);
    let selection = TemporalSelection {
        offset: 1,
        limit: 2,
        count: true,
        ..after_3.clone()
    };
    let page = read(store, &t, &selection).await;
    assert_eq!((ids_of_page(&page), page.total), (e(&[4, 5]), Some(7)));
    let filter = EntityFilter {
        q: Some(q_filter("speed>=6", &ActiveContext::core())),
        ..EntityFilter::default()
    };
    let selection = TemporalSelection {
        filter: Some(Arc::new(filter)),
        limit: 3,
        count: true,
        ..everything()
    };
    let page = read(store, &t, &selection).await;
    assert_eq!((ids_of_page(&page), page.total), (e(&[6, 7, 8]), Some(4)));
    let selection = TemporalSelection {
        offset: 3,
        limit: 3,
        ..selection
    };
    assert_eq!(ids_of_page(&read(store, &t, &selection).await), e(&[9]));

    // Many more than one batch of heads, narrowed, paged past the first batches.
    let writes = (10..260)
        .map(|i| {
            let speed = vec![(SPEED, instance(i, &format!("urn:i:{i:03}"), Some(i), i))];
            let op = record(&[T], i, speed, RecordMode::Create);
            TemporalWrite {
                id: format!("urn:f:{i:03}"),
                op,
            }
        })
        .collect();
    let outcomes = store.temporal_commit(&t, writes).await.expect("commit");
    assert!(outcomes.iter().all(|o| *o == TemporalOutcome::Created));
    let selection = TemporalSelection {
        offset: 200,
        limit: 5,
        count: true,
        ..time(TimeRel::After, TimeProperty::ObservedAt, Some(at(12)), None)
    };
    let page = read(store, &t, &selection).await;
    let want: Vec<String> = (212..217).map(|i| format!("urn:f:{i:03}")).collect();
    assert_eq!((ids_of_page(&page), page.total), (want, Some(248)));
    let selection = TemporalSelection {
        count: false,
        ..selection
    };
    assert_eq!(read(store, &t, &selection).await.entities.len(), 5);
    // An unknown tenant has no evolutions.
    let page = read(
        store,
        &tenant("nowhere"),
        &TemporalSelection {
            count: true,
            ..everything()
        },
    )
    .await;
    assert_eq!((page.entities.len(), page.total), (0, Some(0)));
}
