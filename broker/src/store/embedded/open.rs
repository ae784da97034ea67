//! Opening the database: create the file and its tables if new, then rebuild the in-memory
//! indexes with one scan of every entity.
//!
//! The indexes are never persisted. They are a function of the stored entities, so rebuilding
//! them cannot disagree with the data, and there is no second structure to keep crash-consistent
//! (after a `kill -9`, redb rolls back to the last committed transaction and the scan sees
//! exactly the acknowledged writes).

use std::collections::{HashMap, HashSet};

use redb::{Database, ReadableTable};

use super::config::EmbeddedConfig;
use super::index::{IndexChange, Indexes, StoredFacts};
use super::record;
use super::redb_error::OrBackend;
use super::tables::{
    tenant_of_key, DOCUMENTS, ENTITIES, TEMPORAL_HEADS, TEMPORAL_INSTANCES, TENANTS,
};
use crate::store::{StoreError, StoreResult};

/// What the scan found: the indexes and the writer's starting state.
#[derive(Debug)]
pub struct Rebuilt {
    pub indexes: Indexes,
    pub next_seq: u64,
    pub known_tenants: HashSet<String>,
}

pub fn database(config: &EmbeddedConfig) -> StoreResult<Database> {
    if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Backend(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let db = Database::builder()
        .set_cache_size(config.cache_bytes)
        .create(&config.path)
        .map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Unavailable(format!(
                "database {} is already open",
                config.path.display()
            )),
            e => StoreError::Backend(format!("cannot open {}: {e}", config.path.display())),
        })?;
    // Create every table up front, so readers never meet a missing one.
    let txn = db.begin_write().or_backend("create tables")?;
    txn.open_table(ENTITIES).or_backend("create tables")?;
    txn.open_table(DOCUMENTS).or_backend("create tables")?;
    txn.open_table(TENANTS).or_backend("create tables")?;
    txn.open_table(TEMPORAL_HEADS).or_backend("create tables")?;
    txn.open_table(TEMPORAL_INSTANCES)
        .or_backend("create tables")?;
    txn.commit().or_backend("create tables")?;
    Ok(db)
}

pub fn rebuild(db: &Database) -> StoreResult<Rebuilt> {
    let scan = "scan the database";
    let txn = db.begin_read().or_backend(scan)?;
    let mut indexes = Indexes::default();
    let mut known_tenants = HashSet::new();
    for row in txn
        .open_table(TENANTS)
        .or_backend(scan)?
        .iter()
        .or_backend(scan)?
    {
        let (name, _) = row.or_backend(scan)?;
        let tenant = tenant_of_key(name.value()).ok_or_else(|| corrupt_tenant(name.value()))?;
        known_tenants.insert(name.value().to_owned());
        indexes.apply(&IndexChange::Tenant(tenant));
    }
    let mut max_seq = 0;
    let mut extents = HashMap::new();
    for row in txn
        .open_table(ENTITIES)
        .or_backend(scan)?
        .iter()
        .or_backend(scan)?
    {
        let (key, value) = row.or_backend(scan)?;
        let (tenant_key, id) = key.value();
        let tenant = tenant_of_key(tenant_key).ok_or_else(|| corrupt_tenant(tenant_key))?;
        let corrupt = |e: String| StoreError::Corrupt(format!("entity {id}: {e}"));
        let (header, stored): (_, StoredFacts) =
            record::decode_as(value.value()).map_err(|e| corrupt(e.to_string()))?;
        let facts = stored.into_facts().map_err(corrupt)?;
        max_seq = max_seq.max(header.seq);
        indexes.load(tenant, header.seq, id, &facts, &mut extents);
    }
    indexes.load_extents(extents);
    Ok(Rebuilt {
        indexes,
        next_seq: max_seq + 1,
        known_tenants,
    })
}

fn corrupt_tenant(key: &str) -> StoreError {
    StoreError::Corrupt(format!("stored tenant name {key:?} is not a valid tenant"))
}
