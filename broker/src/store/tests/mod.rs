//! One test suite for the [`Store`] trait: every case runs, unchanged, against each backend,
//! the embedded store on a temporary directory and the MongoDB store on the MongoDB-wire test
//! server (`OXION_TEST_MONGO_URL`; see [`backend`]). A case takes the store as `Arc<dyn Store>`
//! and sees nothing else, so what passes here is what the trait promises, not what one
//! backend happens to do; tests of one backend's own machinery (the embedded store's
//! durability and reopening, the MongoDB store's translations and document layout) sit beside
//! that backend and use the builders below.
//!
//! One file per area of the trait ([`writes`], [`queries`], [`summaries`], [`lifecycle`]:
//! tenants, expiration, health, [`documents`]: documents and claims, [`temporal`]: the
//! temporal evolution), fixtures as JSON files
//! under `fixtures/` ([`fixtures`] reads them). The table at the end makes one test per case
//! and backend: `store::tests::embedded::writes::...`, `store::tests::mongo::writes::...`.
//!
//! Names in the cases are the core @context's expansions of short names (`Car` is
//! `https://uri.etsi.org/ngsi-ld/default-context/Car`), so the JSON fixtures, written with
//! short names, and the entities built here agree.

pub mod backend;
mod documents;
pub mod fixtures;
mod lifecycle;
mod queries;
mod summaries;
pub mod temporal;
pub mod temporal_queries;
mod writes;

use chrono::{TimeZone, Utc};
pub use ngsi_types::entity::LOCATION;
use ngsi_types::geojson::Geometry;
use ngsi_types::{Attribute, AttributeValue, Entity};
use serde_json::json;

use super::{EntityQuery, Precondition, Store, Tenant, Write, WriteAction, WriteOutcome};

pub const T: &str = "https://uri.etsi.org/ngsi-ld/default-context/T";
pub const U: &str = "https://uri.etsi.org/ngsi-ld/default-context/U";
pub const SPEED: &str = "https://uri.etsi.org/ngsi-ld/default-context/speed";
pub const NAME: &str = "https://uri.etsi.org/ngsi-ld/default-context/name";

pub fn default_tenant() -> Tenant {
    Tenant::default_tenant()
}

pub fn tenant(name: &str) -> Tenant {
    Tenant::named(name).expect("valid tenant")
}

/// An entity of type `ty` with a `speed` property.
pub fn entity(id: &str, ty: &str, speed: i64) -> Entity {
    let mut e = Entity::new(id, vec![ty.to_owned()]);
    e.put_attribute(SPEED, Attribute::property(speed));
    e
}

/// A GeoProperty `location` at a point.
pub fn located(mut e: Entity, lon: f64, lat: f64) -> Entity {
    let point = json!({"type": "Point", "coordinates": [lon, lat]});
    let geometry = Geometry::from_geojson("location", &point).expect("valid point");
    e.put_attribute(
        LOCATION,
        Attribute::new(AttributeValue::GeoProperty(geometry)),
    );
    e
}

/// An entity of type `T` that expires `seconds` after the epoch.
pub fn transient(id: &str, seconds: i64) -> Entity {
    let mut e = entity(id, T, 0);
    e.expires_at = Utc.timestamp_opt(seconds, 0).single();
    e
}

pub fn put(e: Entity, precondition: Precondition) -> Write {
    Write {
        id: e.id.clone(),
        precondition,
        action: WriteAction::Put(e),
        history: None,
    }
}

pub fn delete(id: &str, precondition: Precondition) -> Write {
    Write {
        id: id.to_owned(),
        precondition,
        action: WriteAction::Delete,
        history: None,
    }
}

/// Every entity, in one page.
pub fn all() -> EntityQuery {
    EntityQuery {
        limit: usize::MAX,
        ..EntityQuery::default()
    }
}

/// Ids of entities, in order.
pub fn ids_of(entities: &[Entity]) -> Vec<&str> {
    entities.iter().map(|e| e.id.as_str()).collect()
}

/// Ids of a query's page, in order.
pub async fn ids(store: &dyn Store, tenant: &Tenant, query: &EntityQuery) -> Vec<String> {
    store
        .query(tenant, query)
        .await
        .expect("query")
        .entities
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// Creates the entities, each with `Absent`, in one commit.
pub async fn create(store: &dyn Store, tenant: &Tenant, entities: Vec<Entity>) {
    let writes = entities
        .into_iter()
        .map(|e| put(e, Precondition::Absent))
        .collect();
    let outcomes = store.commit(tenant, writes).await.expect("commit");
    assert!(outcomes
        .iter()
        .all(|o| *o == WriteOutcome::Applied { version: 1 }));
}

/// The outcome of one write committed alone.
pub async fn commit_one(store: &dyn Store, tenant: &Tenant, write: Write) -> WriteOutcome {
    store.commit(tenant, vec![write]).await.expect("commit")[0]
}

/// One test per case and backend (see the module documentation).
macro_rules! on_every_backend {
    ($($area:ident: [$($case:ident),* $(,)?]),* $(,)?) => {
        mod embedded {
            $(mod $area {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::store::tests::backend::on_embedded(crate::store::tests::$area::$case)
                        .await;
                })*
            })*
        }
        mod mongo {
            $(mod $area {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::store::tests::backend::on_mongo(crate::store::tests::$area::$case)
                        .await;
                })*
            })*
        }
    };
}

on_every_backend! {
    writes: [
        create_get_replace_delete_follow_versions,
        preconditions_decide_each_write,
        failed_preconditions_conflict_without_stopping_the_others,
        writes_in_one_commit_see_the_earlier_ones,
        a_commit_writing_one_entity_twice_applies_them_in_order,
        concurrent_committers_are_all_acknowledged_and_readable,
        an_empty_commit_writes_nothing,
    ],
    queries: [
        fixture_queries_give_the_expected_pages,
        hints_find_the_right_entities_after_updates_and_deletes,
        pages_are_in_creation_order_and_counted,
        unknown_tenants_and_names_give_empty_pages,
        queries_agree_with_the_ngsi_ld_evaluator,
        queries_during_writes_stay_ordered_and_never_repeat,
    ],
    summaries: [
        summaries_follow_every_change,
        summaries_count_entities_per_type_and_attribute,
    ],
    lifecycle: [
        tenants_are_isolated_and_exist_once_written,
        expired_lists_transient_entities_over_all_tenants,
        an_open_store_passes_the_check,
    ],
    documents: [
        documents_are_stored_listed_and_deleted_per_tenant_and_kind,
        documents_keep_their_json_exactly,
        a_key_is_claimed_by_the_first_caller_only,
    ],
    temporal: [
        a_core_write_records_its_history_with_it,
        a_write_that_conflicts_records_nothing,
        a_write_whose_history_fails_writes_nothing,
        record_modes_decide_creation,
        mark_deleted_keeps_the_history,
        delete_drops_one_evolution_whole,
        delete_attribute_drops_all_one_dataset_or_the_default,
        instances_are_modified_and_deleted_one_by_one,
        concurrent_writers_of_one_evolution_all_record,
    ],
    temporal_queries: [
        time_ranges_select_instances_and_entities,
        attrs_datasets_and_last_n_select_instances,
        ids_types_and_filters_select_entities_paged_and_counted,
    ],
}
