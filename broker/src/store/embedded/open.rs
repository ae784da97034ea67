//! Opening the database: create the file and its tables if new, then rebuild the in-memory
//! indexes with one scan of every entity.
//!
//! The indexes are never persisted. They are a function of the stored entities, so rebuilding
//! them cannot disagree with the data, and there is no second structure to keep crash-consistent
//! (after a `kill -9`, redb rolls back to the last committed transaction and the scan sees
//! exactly the acknowledged writes).

use std::collections::HashSet;
use std::sync::Arc;

use redb::{Database, ReadableTable};

use super::config::EmbeddedConfig;
use super::index::{EntityFacts, IndexChange, Indexes};
use super::record;
use super::tables::{tenant_of_key, DOCUMENTS, ENTITIES, TENANTS};
use super::transaction::backend;
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
            StoreError::Backend(format!("cannot create data directory {}: {e}", dir.display()))
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
    let create = || -> Result<(), redb::Error> {
        let txn = db.begin_write()?;
        txn.open_table(ENTITIES)?;
        txn.open_table(DOCUMENTS)?;
        txn.open_table(TENANTS)?;
        txn.commit()?;
        Ok(())
    };
    create().map_err(backend("create tables"))?;
    Ok(db)
}

pub fn rebuild(db: &Database) -> StoreResult<Rebuilt> {
    let scan = || -> Result<StoreResult<Rebuilt>, redb::Error> {
        let txn = db.begin_read()?;
        let mut indexes = Indexes::default();
        let mut known_tenants = HashSet::new();
        for row in txn.open_table(TENANTS)?.iter()? {
            let (name, _) = row?;
            let Some(tenant) = tenant_of_key(name.value()) else {
                return Ok(Err(corrupt_tenant(name.value())));
            };
            known_tenants.insert(name.value().to_owned());
            indexes.apply(&IndexChange::Tenant(tenant));
        }
        let mut max_seq = 0;
        for row in txn.open_table(ENTITIES)?.iter()? {
            let (key, value) = row?;
            let (tenant_key, id) = key.value();
            let Some(tenant) = tenant_of_key(tenant_key) else {
                return Ok(Err(corrupt_tenant(tenant_key)));
            };
            let (header, entity) = match record::decode(value.value()) {
                Ok(decoded) => decoded,
                Err(e) => return Ok(Err(StoreError::Corrupt(format!("entity {id}: {e}")))),
            };
            max_seq = max_seq.max(header.seq);
            indexes.apply(&IndexChange::Entity {
                tenant,
                id: id.to_owned(),
                old: None,
                new: Some((header.seq, Arc::new(EntityFacts::of(&entity)))),
            });
        }
        Ok(Ok(Rebuilt {
            indexes,
            next_seq: max_seq + 1,
            known_tenants,
        }))
    };
    scan().map_err(backend("scan"))?
}

fn corrupt_tenant(key: &str) -> StoreError {
    StoreError::Corrupt(format!("stored tenant name {key:?} is not a valid tenant"))
}
