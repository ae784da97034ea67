//! One group-commit transaction: every request of a batch applied in a single redb write
//! transaction, each write checked against the version stored *inside* that transaction.
//!
//! A write whose precondition fails is reported as a conflict and changes nothing; it does not
//! abort the others. A request that cannot be applied at all (its stored entity does not decode)
//! is reported to the writer, which drops that request and runs the batch again without it, so
//! one bad record never fails its neighbours. Nothing here touches the indexes: the changes are
//! returned, and applied by the writer only once the transaction is durable.

use std::collections::HashSet;
use std::fmt::Display;
use std::sync::Arc;

use redb::{Database, ReadableTable, Table};

use super::config::Durability;
use super::index::{IndexChange, StoredFacts};
use super::record::{self, Header};
use super::redb_error::OrBackend;
use super::request::{Outcome, PreparedWrite, Request};
use super::tables::{
    kind_code, tenant_key, DOCUMENTS, ENTITIES, TEMPORAL_HEADS, TEMPORAL_INSTANCES, TENANTS,
};
use super::temporal::{self, HeadTable, InstanceTable};
use crate::store::{Precondition, StoreError, TemporalOutcome, Tenant, WriteOutcome};

/// Why a batch did not commit.
#[derive(Debug)]
pub enum Failure {
    /// Request number `.0` cannot be applied; the others may be retried without it.
    Request(usize, StoreError),
    /// The transaction itself failed; nothing was written.
    Batch(StoreError),
}

/// What a committed batch did.
#[derive(Debug)]
pub struct Committed {
    /// One per request, in order.
    pub outcomes: Vec<Outcome>,
    pub changes: Vec<IndexChange>,
    pub next_seq: u64,
    pub new_tenants: Vec<String>,
    /// Whether anything was written (else the transaction was aborted: nothing to flush).
    pub wrote: bool,
}

fn batch_failure<E: Display>(what: &'static str) -> impl Fn(E) -> Failure {
    move |e| Failure::Batch(StoreError::Backend(format!("{what}: {e}")))
}

/// The state a batch runs against, owned by the writer.
#[derive(Debug)]
pub struct BatchContext<'a> {
    pub db: &'a Database,
    pub durability: Durability,
    pub next_seq: u64,
    pub known_tenants: &'a HashSet<String>,
}

/// Applies `requests` (none of which is `Close` or `Flush`) in one transaction and commits it.
pub fn run(ctx: BatchContext<'_>, requests: &[Request]) -> Result<Committed, Failure> {
    let mut txn = ctx.db.begin_write().map_err(batch_failure("begin"))?;
    txn.set_durability(match ctx.durability {
        Durability::Immediate => redb::Durability::Immediate,
        // redb's own `Eventual` still fsyncs on Linux; `None` does not (see the writer's flush).
        Durability::Eventual => redb::Durability::None,
    });
    let mut batch = Batch {
        next_seq: ctx.next_seq,
        known_tenants: ctx.known_tenants,
        new_tenants: Vec::new(),
        changes: Vec::new(),
        dirty: false,
    };
    let mut outcomes = Vec::with_capacity(requests.len());
    {
        let mut entities = txn.open_table(ENTITIES).map_err(batch_failure("open"))?;
        let mut documents = txn.open_table(DOCUMENTS).map_err(batch_failure("open"))?;
        let mut tenants = txn.open_table(TENANTS).map_err(batch_failure("open"))?;
        let mut heads = txn
            .open_table(TEMPORAL_HEADS)
            .map_err(batch_failure("open"))?;
        let mut instances = txn
            .open_table(TEMPORAL_INSTANCES)
            .map_err(batch_failure("open"))?;
        for (i, request) in requests.iter().enumerate() {
            let outcome = match request {
                Request::Commit { tenant, writes, .. } => {
                    let mut results = Vec::with_capacity(writes.len());
                    for write in writes {
                        let result =
                            batch
                                .write(&mut entities, tenant, write)
                                .map_err(|e| match e {
                                    WriteError::Record(e) => Failure::Request(i, e),
                                    WriteError::Storage(e) => Failure::Batch(e),
                                })?;
                        if let (WriteOutcome::Applied { .. }, Some(op)) = (result, &write.history) {
                            batch.record(&mut heads, &mut instances, tenant, &write.id, op, i)?;
                        }
                        results.push(result);
                    }
                    if results
                        .iter()
                        .any(|r| matches!(r, WriteOutcome::Applied { .. }))
                    {
                        batch.ensure_tenant(&mut tenants, tenant)?;
                    }
                    Outcome::Writes(results)
                }
                Request::Temporal { tenant, writes, .. } => {
                    let mut results = Vec::with_capacity(writes.len());
                    for write in writes {
                        results.push(batch.record(
                            &mut heads,
                            &mut instances,
                            tenant,
                            &write.id,
                            &write.op,
                            i,
                        )?);
                    }
                    if results
                        .iter()
                        .any(|r| matches!(r, TemporalOutcome::Created | TemporalOutcome::Updated))
                    {
                        batch.ensure_tenant(&mut tenants, tenant)?;
                    }
                    Outcome::Temporal(results)
                }
                Request::TemporalExpire { before, max, .. } => {
                    let removed = temporal::expire(&heads, &mut instances, *before, *max).map_err(
                        |e| match e {
                            StoreError::Corrupt(_) => Failure::Request(i, e),
                            e => Failure::Batch(e),
                        },
                    )?;
                    batch.dirty |= removed > 0;
                    Outcome::Expired(removed)
                }
                Request::PutDocument {
                    tenant,
                    kind,
                    id,
                    json,
                    ..
                } => {
                    let key = (tenant_key(tenant), kind_code(*kind), id.as_str());
                    documents
                        .insert(key, json.as_slice())
                        .map_err(batch_failure("put document"))?;
                    batch.dirty = true;
                    batch.ensure_tenant(&mut tenants, tenant)?;
                    Outcome::Stored
                }
                Request::DeleteDocument {
                    tenant, kind, id, ..
                } => {
                    let key = (tenant_key(tenant), kind_code(*kind), id.as_str());
                    let existed = documents
                        .remove(key)
                        .map_err(batch_failure("delete document"))?
                        .is_some();
                    batch.dirty |= existed;
                    Outcome::Deleted(existed)
                }
                Request::Close { .. } | Request::Flush => {
                    return Err(Failure::Batch(StoreError::Backend(
                        "control request inside a batch".into(),
                    )))
                }
            };
            outcomes.push(outcome);
        }
    }
    if batch.dirty {
        txn.commit().map_err(batch_failure("commit"))?;
    } else {
        // Only reads and conflicts: nothing to make durable, no fsync to pay.
        txn.abort().map_err(batch_failure("abort"))?;
    }
    Ok(Committed {
        outcomes,
        changes: batch.changes,
        next_seq: batch.next_seq,
        new_tenants: batch.new_tenants,
        wrote: batch.dirty,
    })
}

enum WriteError {
    /// The stored record is unusable: fail this request only.
    Record(StoreError),
    /// The storage failed: fail the batch.
    Storage(StoreError),
}

struct Batch<'a> {
    next_seq: u64,
    known_tenants: &'a HashSet<String>,
    new_tenants: Vec<String>,
    changes: Vec<IndexChange>,
    dirty: bool,
}

type EntityTable<'t> = Table<'t, (&'static str, &'static str), &'static [u8]>;

impl Batch<'_> {
    fn write(
        &mut self,
        entities: &mut EntityTable<'_>,
        tenant: &Tenant,
        write: &PreparedWrite,
    ) -> Result<WriteOutcome, WriteError> {
        let key = (tenant_key(tenant), write.id.as_str());
        let holds = |version: Option<u64>| match write.precondition {
            Precondition::Absent => version.is_none(),
            Precondition::Version(v) => version == Some(v),
            Precondition::Any => true,
        };
        // The stored header decides the precondition; the old entity is decoded only when the
        // write goes ahead (the index needs its facts to unindex it).
        let current = match entities
            .get(key)
            .or_backend("read")
            .map_err(WriteError::Storage)?
        {
            None => None,
            Some(stored) => {
                let bytes = stored.value();
                let header = record::header(bytes).map_err(WriteError::Record)?;
                if !holds(Some(header.version)) {
                    return Ok(WriteOutcome::Conflict {
                        current: Some(header.version),
                    });
                }
                let (_, stored): (_, StoredFacts) =
                    record::decode_as(bytes).map_err(WriteError::Record)?;
                let facts = stored.into_facts().map_err(|e| {
                    WriteError::Record(StoreError::Corrupt(format!("entity {}: {e}", write.id)))
                })?;
                Some((header, Arc::new(facts)))
            }
        };
        if current.is_none() && (!holds(None) || write.put.is_none()) {
            // Nothing stored: a version was expected, or there is nothing to delete.
            return Ok(WriteOutcome::Conflict { current: None });
        }
        let old = current.as_ref().map(|(h, facts)| (h.seq, facts.clone()));
        let outcome = match (&write.put, current) {
            (Some((body, facts)), current) => {
                let header = match current {
                    Some((h, _)) => Header {
                        seq: h.seq,
                        version: h.version + 1,
                    },
                    None => {
                        self.next_seq += 1;
                        Header {
                            seq: self.next_seq - 1,
                            version: 1,
                        }
                    }
                };
                let stored = record::encode(header, body);
                entities
                    .insert(key, stored.as_slice())
                    .or_backend("insert")
                    .map_err(WriteError::Storage)?;
                self.changes.push(IndexChange::Entity {
                    tenant: tenant.clone(),
                    id: write.id.clone(),
                    old,
                    new: Some((header.seq, facts.clone())),
                });
                WriteOutcome::Applied {
                    version: header.version,
                }
            }
            (None, current) => {
                let version = current.map_or(0, |(h, _)| h.version);
                entities
                    .remove(key)
                    .or_backend("remove")
                    .map_err(WriteError::Storage)?;
                self.changes.push(IndexChange::Entity {
                    tenant: tenant.clone(),
                    id: write.id.clone(),
                    old,
                    new: None,
                });
                WriteOutcome::Applied { version }
            }
        };
        self.dirty = true;
        Ok(outcome)
    }

    /// Applies a temporal operation of request number `request`; a stored record that does not
    /// decode fails that request only.
    fn record(
        &mut self,
        heads: &mut HeadTable<'_>,
        instances: &mut InstanceTable<'_>,
        tenant: &Tenant,
        id: &str,
        op: &crate::store::TemporalOp,
        request: usize,
    ) -> Result<TemporalOutcome, Failure> {
        let outcome = temporal::apply(heads, instances, tenant, id, op).map_err(|e| match e {
            StoreError::Corrupt(_) => Failure::Request(request, e),
            e => Failure::Batch(e),
        })?;
        if matches!(outcome, TemporalOutcome::Created | TemporalOutcome::Updated) {
            self.dirty = true;
        }
        Ok(outcome)
    }

    /// Records a named tenant the first time something is written to it.
    fn ensure_tenant(
        &mut self,
        tenants: &mut Table<'_, &'static str, ()>,
        tenant: &Tenant,
    ) -> Result<(), Failure> {
        let Some(name) = tenant.name() else {
            return Ok(());
        };
        if self.known_tenants.contains(name) || self.new_tenants.iter().any(|t| t == name) {
            return Ok(());
        }
        tenants
            .insert(name, ())
            .map_err(batch_failure("record tenant"))?;
        self.new_tenants.push(name.to_owned());
        self.changes.push(IndexChange::Tenant(tenant.clone()));
        Ok(())
    }
}
