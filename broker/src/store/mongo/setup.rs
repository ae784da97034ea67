//! Indexes, created idempotently: those every tenant's `entities` collection needs when it is
//! first written in this process (or at start-up for existing tenants), and a 2dsphere index
//! for each GeoProperty the first time a geo-query names it.

use std::collections::HashSet;
use std::sync::Mutex;

use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use ngsi_types::entity::LOCATION;

use super::error::{code, store_error};

/// The collection of [`crate::store::Store::claim`]s.
pub const CLAIMS: &str = "claims";

const INDEX_OPTIONS_CONFLICT: i32 = 85;
const INDEX_KEY_SPECS_CONFLICT: i32 = 86;
use super::names::{field, ENTITIES, TEMPORAL_ENTITIES, TEMPORAL_INSTANCES};
use crate::store::{StoreResult, Tenant};

/// What this process already prepared.
#[derive(Debug, Default)]
pub struct Setup {
    ready: Mutex<HashSet<Tenant>>,
    geo: Mutex<HashSet<(Tenant, String)>>,
}

impl Setup {
    pub fn is_ready(&self, tenant: &Tenant) -> bool {
        self.ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(tenant)
    }

    pub fn mark_ready(&self, tenant: &Tenant) {
        self.ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tenant.clone());
    }

    /// Creates the 2dsphere index of a GeoProperty once. A failure (stored geometries MongoDB
    /// cannot index) is logged and not retried: queries still work, narrowed without it.
    pub async fn ensure_geo_index(
        &self,
        entities: &Collection<Document>,
        tenant: &Tenant,
        property: &str,
    ) {
        let key = (tenant.clone(), property.to_owned());
        if !self
            .geo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key)
        {
            return;
        }
        if let Err(e) = create_geo_index(entities, property).await {
            tracing::warn!(%tenant, property, error = %e, "cannot create a 2dsphere index");
        }
    }
}

async fn create_geo_index(entities: &Collection<Document>, property: &str) -> StoreResult<()> {
    let path = format!("geo.{}", field(property));
    match entities
        .create_index(
            IndexModel::builder()
                .keys(doc! { path: "2dsphere" })
                .build(),
        )
        .await
    {
        Ok(_) => Ok(()),
        // The index exists, described with other default options (servers differ in the
        // 2dsphere version they record).
        Err(e)
            if matches!(
                code(&e),
                Some(INDEX_OPTIONS_CONFLICT | INDEX_KEY_SPECS_CONFLICT)
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(store_error("creating a 2dsphere index", e)),
    }
}

/// The indexes of a tenant database. `entities`: creation order (the sort of every query),
/// type then creation order (queries by type), attribute names, modification and expiry
/// times, and the `location` GeoProperty's 2dsphere index. The temporal collections: those
/// [`super::temporal`] explains.
pub async fn create_indexes(db: &Database) -> StoreResult<()> {
    // Claims only matter while their slot lasts; MongoDB's TTL monitor removes them after a day.
    let ttl = IndexModel::builder()
        .keys(doc! { "at": 1 })
        .options(
            IndexOptions::builder()
                .expire_after(std::time::Duration::from_secs(86_400))
                .build(),
        )
        .build();
    if let Err(e) = db.collection::<Document>(CLAIMS).create_index(ttl).await {
        tracing::warn!(error = %e, "cannot create the TTL index of claims");
    }
    let entities = &db.collection::<Document>(ENTITIES);
    let plain = |keys: Document| IndexModel::builder().keys(keys).build();
    let models = vec![
        plain(doc! { "seq": 1, "_id": 1 }),
        plain(doc! { "types": 1, "seq": 1, "_id": 1 }),
        plain(doc! { "attrs.n": 1 }),
        plain(doc! { "modifiedAt": 1 }),
        IndexModel::builder()
            .keys(doc! { "expiresAt": 1 })
            .options(IndexOptions::builder().sparse(true).build())
            .build(),
        IndexModel::builder()
            .keys(doc! { super::document::ATTRIBUTES_EXPIRE_AT: 1 })
            .options(IndexOptions::builder().sparse(true).build())
            .build(),
    ];
    entities
        .create_indexes(models)
        .await
        .map_err(|e| store_error("creating indexes", e))?;
    db.collection::<Document>(TEMPORAL_ENTITIES)
        .create_index(plain(doc! { "types": 1, "_id": 1 }))
        .await
        .map_err(|e| store_error("creating temporal indexes", e))?;
    let instances = vec![
        plain(doc! { "entity": 1, "attr": 1, "observedAt": 1 }),
        plain(doc! { "entity": 1, "attr": 1, "modifiedAt": 1 }),
        // Retention (`--temporal-retention`) finds old instances over all entities.
        plain(doc! { "observedAt": 1 }),
        plain(doc! { "createdAt": 1 }),
    ];
    db.collection::<Document>(TEMPORAL_INSTANCES)
        .create_indexes(instances)
        .await
        .map_err(|e| store_error("creating temporal indexes", e))?;
    if let Err(e) = create_geo_index(entities, LOCATION).await {
        tracing::warn!(error = %e, "cannot create the 2dsphere index of location");
    }
    Ok(())
}
