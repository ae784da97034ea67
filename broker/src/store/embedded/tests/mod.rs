//! Behaviour of the embedded store through the `Store` trait, on real database files in
//! temporary directories. One file per area; fixtures here.

mod documents;
mod lifecycle;
mod queries;
mod summaries;
mod writes;

pub use ngsi_types::entity::LOCATION;
use ngsi_types::geojson::Geometry;
use ngsi_types::{Attribute, AttributeValue, Entity};
use serde_json::json;
use tempfile::TempDir;

use super::{EmbeddedConfig, EmbeddedStore};
use crate::store::{EntityQuery, Precondition, Store, Tenant, Write, WriteAction};

pub const T: &str = "https://example.org/T";
pub const U: &str = "https://example.org/U";
pub const SPEED: &str = "https://example.org/speed";
pub const NAME: &str = "https://example.org/name";

pub fn config(dir: &TempDir) -> EmbeddedConfig {
    EmbeddedConfig::in_data_dir(dir.path())
}

pub fn temp_store() -> (TempDir, EmbeddedStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(config(&dir)).expect("opens");
    (dir, store)
}

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

pub fn put(e: Entity, precondition: Precondition) -> Write {
    Write {
        id: e.id.clone(),
        precondition,
        action: WriteAction::Put(e),
    }
}

pub fn delete(id: &str, precondition: Precondition) -> Write {
    Write {
        id: id.to_owned(),
        precondition,
        action: WriteAction::Delete,
    }
}

pub fn all() -> EntityQuery {
    EntityQuery {
        limit: usize::MAX,
        ..EntityQuery::default()
    }
}

/// Ids of a query's page, in order.
pub async fn ids(store: &EmbeddedStore, tenant: &Tenant, query: &EntityQuery) -> Vec<String> {
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
pub async fn create(store: &EmbeddedStore, tenant: &Tenant, entities: Vec<Entity>) {
    let writes = entities
        .into_iter()
        .map(|e| put(e, Precondition::Absent))
        .collect();
    let outcomes = store.commit(tenant, writes).await.expect("commit");
    assert!(outcomes
        .iter()
        .all(|o| *o == crate::store::WriteOutcome::Applied { version: 1 }));
}
