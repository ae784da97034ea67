//! Reads that go straight to redb: one entity, one document, a tenant's documents.
//!
//! Each opens its own read transaction, a consistent snapshot that never waits for the writer
//! (redb runs readers concurrently with the write transaction, MVCC style).


use super::record;
use super::tables::{kind_code, tenant_key, DOCUMENTS, ENTITIES};
use super::transaction::backend;
use super::Shared;
use crate::store::{DocumentKind, StoreError, StoreResult, Tenant, Versioned};

pub fn entity(shared: &Shared, tenant: &Tenant, id: &str) -> StoreResult<Option<Versioned>> {
    let read = || -> Result<Option<Vec<u8>>, redb::Error> {
        let txn = shared.db.begin_read()?;
        let table = txn.open_table(ENTITIES)?;
        let stored = table.get((tenant_key(tenant), id))?;
        Ok(stored.map(|s| s.value().to_vec()))
    };
    let Some(bytes) = read().map_err(backend("get entity"))? else {
        return Ok(None);
    };
    let (header, entity) = record::decode(&bytes)?;
    Ok(Some(Versioned {
        version: header.version,
        entity,
    }))
}

pub fn document(
    shared: &Shared,
    tenant: &Tenant,
    kind: DocumentKind,
    id: &str,
) -> StoreResult<Option<serde_json::Value>> {
    let read = || -> Result<Option<Vec<u8>>, redb::Error> {
        let txn = shared.db.begin_read()?;
        let table = txn.open_table(DOCUMENTS)?;
        let stored = table.get((tenant_key(tenant), kind_code(kind), id))?;
        Ok(stored.map(|s| s.value().to_vec()))
    };
    read()
        .map_err(backend("get document"))?
        .map(|bytes| decode_document(id, &bytes))
        .transpose()
}

pub fn documents(
    shared: &Shared,
    tenant: &Tenant,
    kind: DocumentKind,
) -> StoreResult<Vec<(String, serde_json::Value)>> {
    let (key, code) = (tenant_key(tenant), kind_code(kind));
    let read = || -> Result<Vec<(String, Vec<u8>)>, redb::Error> {
        let txn = shared.db.begin_read()?;
        let table = txn.open_table(DOCUMENTS)?;
        let mut out = Vec::new();
        // Keys sort by (tenant, kind, id): the documents wanted are one contiguous range.
        for row in table.range((key, code, "")..)? {
            let (k, v) = row?;
            let (t, c, id) = k.value();
            if t != key || c != code {
                break;
            }
            out.push((id.to_owned(), v.value().to_vec()));
        }
        Ok(out)
    };
    read()
        .map_err(backend("list documents"))?
        .into_iter()
        .map(|(id, bytes)| Ok((id.clone(), decode_document(&id, &bytes)?)))
        .collect()
}

fn decode_document(id: &str, bytes: &[u8]) -> StoreResult<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("document {id}: {e}")))
}
