//! Reads that go straight to redb: one entity, one document, a tenant's documents.
//!
//! Each opens its own read transaction, a consistent snapshot that never waits for the writer
//! (redb runs readers concurrently with the write transaction, MVCC style).

use super::record;
use super::redb_error::OrBackend;
use super::tables::{kind_code, tenant_key, DOCUMENTS, ENTITIES};
use super::Shared;
use crate::store::{DocumentKind, StoreError, StoreResult, Tenant, Versioned};

pub fn entity(shared: &Shared, tenant: &Tenant, id: &str) -> StoreResult<Option<Versioned>> {
    let what = "get entity";
    let txn = shared.db.begin_read().or_backend(what)?;
    let table = txn.open_table(ENTITIES).or_backend(what)?;
    let Some(stored) = table.get((tenant_key(tenant), id)).or_backend(what)? else {
        return Ok(None);
    };
    let (header, entity) = record::decode(stored.value())?;
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
    let what = "get document";
    let txn = shared.db.begin_read().or_backend(what)?;
    let table = txn.open_table(DOCUMENTS).or_backend(what)?;
    let stored = table
        .get((tenant_key(tenant), kind_code(kind), id))
        .or_backend(what)?;
    stored.map(|s| decode_document(id, s.value())).transpose()
}

pub fn documents(
    shared: &Shared,
    tenant: &Tenant,
    kind: DocumentKind,
) -> StoreResult<Vec<(String, serde_json::Value)>> {
    let (key, code) = (tenant_key(tenant), kind_code(kind));
    let what = "list documents";
    let txn = shared.db.begin_read().or_backend(what)?;
    let table = txn.open_table(DOCUMENTS).or_backend(what)?;
    let mut out = Vec::new();
    // Keys sort by (tenant, kind, id): the documents wanted are one contiguous range.
    for row in table.range((key, code, "")..).or_backend(what)? {
        let (k, v) = row.or_backend(what)?;
        let (t, c, id) = k.value();
        if t != key || c != code {
            break;
        }
        out.push((id.to_owned(), decode_document(id, v.value())?));
    }
    Ok(out)
}

fn decode_document(id: &str, bytes: &[u8]) -> StoreResult<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("document {id}: {e}")))
}
