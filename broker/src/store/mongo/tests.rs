//! The MongoDB store against a real MongoDB-wire server (`OXION_TEST_MONGO_URL`, started by
//! `scripts/services.sh start mongo`; `scripts/test.sh` sets `OXION_REQUIRE_MONGO=1`, which
//! makes a missing server a failure instead of a skip).
//!
//! The central check is agreement: for many q, scopeQ and geo-queries, the store returns
//! exactly the entities, in exactly the order, that the NGSI-LD evaluator of `ngsi-types`
//! selects from the same entities, whether MongoDB decided the query alone or only narrowed it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ngsi_types::context::ActiveContext;
use ngsi_types::format::parse_entity;
use ngsi_types::query::geo::{GeoQuery, GeoQueryParams};
use ngsi_types::query::q::Query;
use ngsi_types::query::scope::ScopeQuery;
use ngsi_types::Entity;
use serde_json::json;

use super::*;
use crate::store::EntityFilter;

/// The server's URL, or `None` (and the test returns) when none is configured and none is
/// required.
fn server_url() -> Option<String> {
    match std::env::var("OXION_TEST_MONGO_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("OXION_REQUIRE_MONGO").as_deref() != Ok("1"),
                "OXION_REQUIRE_MONGO=1 but OXION_TEST_MONGO_URL is not set (scripts/services.sh start mongo)"
            );
            eprintln!("skipped: no OXION_TEST_MONGO_URL");
            None
        }
    }
}

/// A store on databases no other test uses.
async fn fresh_store(url: &str) -> MongoStore {
    static N: AtomicU32 = AtomicU32::new(0);
    let prefix = format!(
        "ut{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    MongoStore::open(MongoConfig {
        url: url.to_owned(),
        db_prefix: prefix,
        timeout: Duration::from_secs(5),
    })
    .await
    .expect("opens")
}

async fn drop_all(store: &MongoStore) {
    for tenant in store.tenants().await.unwrap_or_default() {
        let _ = store.database(&tenant).drop().await;
    }
}

fn entity(value: serde_json::Value) -> Entity {
    parse_entity(value, &ActiveContext::core()).expect("valid entity")
}

const BRANDS: [&str; 4] = ["BMW", "Audi", "Seat", "Fiat"];
const CITIES: [&str; 2] = ["Berlin", "Paris"];

/// Entities covering every kind of target value q compares.
fn fixtures() -> Vec<Entity> {
    let mut out = Vec::new();
    for i in 0..24_i64 {
        let mut e = json!({
            "id": format!("urn:ngsi-ld:Car:{i:02}"),
            "type": if i % 3 == 0 { json!(["Car", "Vehicle"]) } else { json!("Car") },
            "speed": {"type": "Property", "value": i * 5},
            "brand": {"type": "Property", "value": BRANDS[(i % 4) as usize]},
            "owner": {"type": "Relationship", "object": format!("urn:ngsi-ld:Person:{}", i % 5)},
            "tags": {"type": "Property", "value": [format!("t{}", i % 3), "all"]},
            "seen": {"type": "Property", "value": format!("2024-01-{:02}T10:00:00Z", i + 1)},
            "name": {"type": "LanguageProperty", "languageMap": {"en": format!("car {i}"), "de": format!("Auto {i}")}},
            "address": {"type": "Property", "value": {"city": CITIES[(i % 2) as usize], "zip": i}},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.0 + 0.01 * i as f64, 48.0 + 0.005 * i as f64]}},
        });
        if i % 4 == 1 {
            e["speed"] = json!([
                {"type": "Property", "value": i * 5},
                {"type": "Property", "value": 999, "datasetId": "urn:ngsi-ld:Dataset:radar"}
            ]);
        }
        if i % 5 == 2 {
            if e["speed"].is_object() {
                e["speed"]["observedAt"] = json!("2024-06-01T12:00:00Z");
            }
            e["scope"] = json!(["/city/north", "/city/north/park"]);
        }
        if i % 7 == 3 {
            e.as_object_mut().expect("object").remove("brand");
            e["scope"] = json!("/farm");
        }
        out.push(entity(e));
    }
    out
}

async fn load(store: &MongoStore, tenant: &Tenant, entities: &[Entity]) {
    let writes = entities
        .iter()
        .map(|e| Write {
            id: e.id.clone(),
            precondition: Precondition::Absent,
            action: WriteAction::Put(e.clone()),
        })
        .collect();
    let outcomes = store.commit(tenant, writes).await.expect("commit");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, WriteOutcome::Applied { version: 1 })));
}

fn ids(entities: &[Entity]) -> Vec<&str> {
    entities.iter().map(|e| e.id.as_str()).collect()
}

/// Checks that the store answers `filter` (whole, then paged with a count) as the evaluator
/// does on `all`.
async fn agrees(
    store: &MongoStore,
    tenant: &Tenant,
    all: &[Entity],
    label: &str,
    filter: EntityFilter,
) {
    let filter = Arc::new(filter);
    let expected: Vec<&Entity> = all.iter().filter(|e| filter.matches(e)).collect();
    let query = EntityQuery {
        filter: Some(filter.clone()),
        limit: 1000,
        ..EntityQuery::default()
    };
    let got = store.query(tenant, &query).await.expect("query");
    assert_eq!(
        ids(&got.entities),
        expected.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        "{label}: {:?}",
        filter::translate(&query)
    );
    let page = EntityQuery {
        offset: 1,
        limit: 2,
        count: true,
        ..query
    };
    let got = store.query(tenant, &page).await.expect("paged query");
    assert_eq!(got.total, Some(expected.len() as u64), "{label}: count");
    let expected_page: Vec<&str> = expected
        .iter()
        .skip(1)
        .take(2)
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids(&got.entities), expected_page, "{label}: page");
}

#[tokio::test]
async fn queries_agree_with_the_ngsi_ld_evaluator() {
    let Some(url) = server_url() else { return };
    let store = fresh_store(&url).await;
    let tenant = Tenant::named("q").expect("tenant");
    let all = fixtures();
    load(&store, &tenant, &all).await;
    let ctx = ActiveContext::core();
    for q in [
        "speed>50",
        "speed>=50;speed<80",
        "speed==15",
        "speed==999",
        "speed!=999",
        "speed!=10,15,20",
        "speed==10..30",
        "speed!=0..100",
        "speed.observedAt>=2024-01-01T00:00:00Z",
        "brand==\"BMW\"",
        "brand==\"BMW\",\"Fiat\"",
        "brand!=\"BMW\"",
        "brand",
        "brand~=\"^(B|F)\"",
        "brand!~=\"^B\"",
        "brand>\"Fiat\"",
        "owner==urn:ngsi-ld:Person:3",
        "owner!=urn:ngsi-ld:Person:3",
        "tags==\"t1\"",
        "tags!=\"all\"",
        "name==\"Auto 7\"",
        "name[en]==\"car 7\"",
        "address[city]==\"Paris\"",
        "address[zip]>20",
        "seen>\"2024-01-20T10:00:00.000Z\"",
        "seen<2024-01-05T00:00:00Z",
        "(speed>100|brand==\"Audi\");owner!=urn:ngsi-ld:Person:0",
        "speed>10000",
        "missing==1",
    ] {
        let query = Query::parse(q).expect("valid q").expand(&ctx);
        let filter = EntityFilter {
            q: Some(query),
            ..EntityFilter::default()
        };
        agrees(&store, &tenant, &all, q, filter).await;
    }
    for scope in [
        "/city/north",
        "/city/#",
        "/city/+",
        "/farm|/city/north/park",
        "/#",
    ] {
        let filter = EntityFilter {
            scope_q: Some(ScopeQuery::parse(scope).expect("valid scopeQ")),
            ..EntityFilter::default()
        };
        agrees(&store, &tenant, &all, scope, filter).await;
    }
    for (georel, geometry, coordinates) in [
        ("near;maxDistance==2000", "Point", "[2.05,48.02]"),
        ("near;minDistance==5000", "Point", "[2.05,48.02]"),
        (
            "within",
            "Polygon",
            "[[[2.0,47.9],[2.1,47.9],[2.1,48.2],[2.0,48.2],[2.0,47.9]]]",
        ),
        (
            "intersects",
            "Polygon",
            "[[[2.0,47.9],[2.1,47.9],[2.1,48.2],[2.0,48.2],[2.0,47.9]]]",
        ),
        (
            "disjoint",
            "Polygon",
            "[[[2.0,47.9],[2.1,47.9],[2.1,48.2],[2.0,48.2],[2.0,47.9]]]",
        ),
        ("equals", "Point", "[2.1,48.05]"),
    ] {
        let mut geo_q = GeoQuery::from_params(GeoQueryParams {
            georel: Some(georel),
            geometry: Some(geometry),
            coordinates: Some(coordinates),
            geoproperty: None,
        })
        .expect("valid geoQ")
        .expect("present");
        geo_q.expand(&ctx);
        let filter = EntityFilter {
            geo_q: Some(geo_q),
            ..EntityFilter::default()
        };
        agrees(&store, &tenant, &all, georel, filter).await;
    }
    drop_all(&store).await;
}

#[tokio::test]
async fn writes_follow_the_version_preconditions() {
    let Some(url) = server_url() else { return };
    let store = fresh_store(&url).await;
    let tenant = Tenant::default_tenant();
    let e = entity(json!({"id": "urn:x:1", "type": "T", "n": {"type": "Property", "value": 1}}));
    let put = |precondition| Write {
        id: e.id.clone(),
        precondition,
        action: WriteAction::Put(e.clone()),
    };
    let delete = |precondition| Write {
        id: e.id.clone(),
        precondition,
        action: WriteAction::Delete,
    };
    let one = |w: Write| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move { store.commit(&tenant, vec![w]).await.expect("commit")[0] }
    };
    assert_eq!(
        one(put(Precondition::Absent)).await,
        WriteOutcome::Applied { version: 1 }
    );
    assert_eq!(
        one(put(Precondition::Absent)).await,
        WriteOutcome::Conflict { current: Some(1) }
    );
    assert_eq!(
        one(put(Precondition::Version(7))).await,
        WriteOutcome::Conflict { current: Some(1) }
    );
    assert_eq!(
        one(put(Precondition::Version(1))).await,
        WriteOutcome::Applied { version: 2 }
    );
    assert_eq!(
        one(put(Precondition::Any)).await,
        WriteOutcome::Applied { version: 3 }
    );
    let got = store
        .get(&tenant, "urn:x:1")
        .await
        .expect("get")
        .expect("found");
    assert_eq!((got.version, &got.entity), (3, &e));
    assert_eq!(
        one(delete(Precondition::Version(2))).await,
        WriteOutcome::Conflict { current: Some(3) }
    );
    assert_eq!(
        one(delete(Precondition::Any)).await,
        WriteOutcome::Applied { version: 3 }
    );
    assert_eq!(
        one(delete(Precondition::Any)).await,
        WriteOutcome::Conflict { current: None }
    );
    assert!(store.get(&tenant, "urn:x:1").await.expect("get").is_none());
    // Upsert of a missing entity creates it, after the existing ones in creation order.
    let first = entity(json!({"id": "urn:x:0", "type": "T"}));
    one(Write {
        id: first.id.clone(),
        precondition: Precondition::Absent,
        action: WriteAction::Put(first),
    })
    .await;
    assert_eq!(
        one(put(Precondition::Any)).await,
        WriteOutcome::Applied { version: 1 }
    );
    let all = EntityQuery {
        limit: 10,
        ..EntityQuery::default()
    };
    let page = store.query(&tenant, &all).await.expect("query");
    assert_eq!(ids(&page.entities), ["urn:x:0", "urn:x:1"]);
    drop_all(&store).await;
}

#[tokio::test]
async fn tenants_documents_and_summaries() {
    let Some(url) = server_url() else { return };
    let store = fresh_store(&url).await;
    let city = Tenant::named("city").expect("tenant");
    assert!(!store.tenant_exists(&city).await.expect("exists"));
    // Another instance on the same databases, started before the tenant existed.
    let other = MongoStore::open(MongoConfig {
        url: url.clone(),
        db_prefix: store.prefix.clone(),
        timeout: Duration::from_secs(5),
    })
    .await
    .expect("opens");
    load(&store, &city, &fixtures()[..6]).await;
    assert!(store.tenant_exists(&city).await.expect("exists"));
    assert!(other.tenant_exists(&city).await.expect("exists"));
    assert!(
        other.setup.is_ready(&city),
        "prepared once, not listed again"
    );
    assert!(!other
        .tenant_exists(&Tenant::named("nowhere").expect("tenant"))
        .await
        .expect("exists"));
    assert_eq!(
        store.tenants().await.expect("tenants"),
        vec![Tenant::default_tenant(), city.clone()]
    );
    let types = store.types(&city).await.expect("types");
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "https://uri.etsi.org/ngsi-ld/default-context/Car",
            "https://uri.etsi.org/ngsi-ld/default-context/Vehicle"
        ]
    );
    assert_eq!((types[0].entity_count, types[1].entity_count), (6, 2));
    let attrs = store.attributes(&city).await.expect("attributes");
    let speed = attrs
        .iter()
        .find(|a| a.name.ends_with("/speed"))
        .expect("speed");
    assert_eq!(speed.attribute_count, 6);
    assert_eq!(speed.types.len(), 2);

    let doc =
        json!({"id": "urn:s:1", "q": "a.b==1", "notification": {"endpoint": {"uri": "http://x"}}});
    store
        .put_document(&city, DocumentKind::Subscription, "urn:s:1", doc.clone())
        .await
        .expect("put");
    assert_eq!(
        store
            .get_document(&city, DocumentKind::Subscription, "urn:s:1")
            .await
            .expect("get"),
        Some(doc.clone())
    );
    assert_eq!(
        store
            .list_documents(&city, DocumentKind::Subscription)
            .await
            .expect("list"),
        vec![("urn:s:1".to_owned(), doc)]
    );
    assert!(store
        .delete_document(&city, DocumentKind::Subscription, "urn:s:1")
        .await
        .expect("delete"));
    assert!(!store
        .delete_document(&city, DocumentKind::Subscription, "urn:s:1")
        .await
        .expect("delete"));
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

#[tokio::test]
async fn a_commit_writing_one_entity_twice_applies_them_in_order() {
    let Some(url) = server_url() else { return };
    let store = fresh_store(&url).await;
    let tenant = Tenant::default_tenant();
    let version = |n: i64| {
        entity(json!({"id": "urn:x:twice", "type": "T", "n": {"type": "Property", "value": n}}))
    };
    for round in 0..20 {
        let writes = (0..4)
            .map(|n| Write {
                id: "urn:x:twice".into(),
                precondition: Precondition::Any,
                action: WriteAction::Put(version(round * 10 + n)),
            })
            .collect();
        let outcomes = store.commit(&tenant, writes).await.expect("commit");
        assert_eq!(outcomes.len(), 4);
        let got = store
            .get(&tenant, "urn:x:twice")
            .await
            .expect("get")
            .expect("found");
        assert_eq!(got.entity, version(round * 10 + 3), "round {round}");
        assert_eq!(got.version, (round as u64 + 1) * 4);
    }
    drop_all(&store).await;
}
