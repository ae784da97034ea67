//! The embedded store: Oxion's default backend, durable in a single redb file, with no external
//! service to run.
//!
//! The shape, and why:
//! - **One writer** (see [`writer`]): a named thread owns every write transaction and applies
//!   queued commits in groups, one fsync per group, acknowledging nothing before it is durable.
//! - **Many readers**: `get`, `query` and documents read redb snapshots, concurrently with the
//!   writer; they never wait for an fsync. Single-key reads (`get`, `get_document`) run directly
//!   on the calling task: measured at 4-5 µs each (cached pages, release build), cheaper than a
//!   hop to the blocking pool. Reads of unbounded size (`query`, `list_documents`) run in
//!   `spawn_blocking`, so a large scan never stalls an async worker.
//! - **Indexes in memory** (see [`index`]): ids, types, attribute names, a geo R-tree,
//!   expirations and the `/types`/`/attributes` counts, rebuilt at open by one scan and kept by
//!   the writer after each commit. Entities themselves stay on disk (and in redb's bounded page
//!   cache), which is what lets a million entities fit in a small resident size: measured at
//!   about 600 bytes of index per entity (1M entities of 1.3 KB with 10 attributes and a
//!   location: 600 MiB resident, plus the page cache).
//!
//! Files: [`config`] (how to open), [`tables`] and [`record`] (the on-disk layout), [`open`]
//! (open and rebuild), [`request`], [`writer`] and [`transaction`] (the write path),
//! [`read`] and [`query`] (the read path), [`claims`], [`redb_error`] (error mapping).

mod claims;
mod config;
mod index;
mod open;
mod query;
mod read;
mod record;
mod redb_error;
mod request;
mod tables;
mod temporal;
mod transaction;
mod writer;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

pub use config::{Durability, EmbeddedConfig, DATABASE_FILE, DEFAULT_DATA_DIR};

use index::{EntityFacts, Indexes};
use request::{PreparedWrite, Request};
use writer::Writer;

use super::{
    AttributeSummary, DocumentKind, EntityQuery, QueryPage, Store, StoreError, StoreResult,
    TemporalOutcome, TemporalPage, TemporalSelection, TemporalWrite, Tenant, TypeSummary,
    Versioned, Write, WriteAction, WriteOutcome,
};

/// What the writer and the readers share: the database and the indexes.
#[derive(Debug)]
struct Shared {
    db: redb::Database,
    indexes: RwLock<Indexes>,
}

impl Shared {
    // A panic while holding the lock cannot leave the indexes half-updated in a way readers
    // could trip on more than on a stale entry, so poisoning is not propagated.
    fn read_indexes(&self) -> RwLockReadGuard<'_, Indexes> {
        self.indexes.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_indexes(&self) -> RwLockWriteGuard<'_, Indexes> {
        self.indexes.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The embedded, durable store. Open it once per data directory (redb locks the file).
#[derive(Debug)]
pub struct EmbeddedStore {
    shared: Arc<Shared>,
    /// The writer's queue; `None` only while being dropped.
    requests: Option<mpsc::Sender<Request>>,
    closed: AtomicBool,
    writer: Mutex<Option<JoinHandle<()>>>,
    claims: claims::Claims,
}

impl EmbeddedStore {
    /// Opens (or creates) the database, rebuilds the indexes and starts the writer. Blocking:
    /// call it before serving, or from `spawn_blocking`.
    pub fn open(config: EmbeddedConfig) -> StoreResult<Self> {
        let db = open::database(&config)?;
        let rebuilt = open::rebuild(&db)?;
        let shared = Arc::new(Shared {
            db,
            indexes: RwLock::new(rebuilt.indexes),
        });
        let (sender, receiver) = mpsc::channel(config.queue_capacity.max(1));
        let writer = Writer {
            shared: shared.clone(),
            requests: receiver,
            durability: config.durability,
            max_batch_requests: config.max_batch_requests.max(1),
            max_batch_writes: config.max_batch_writes.max(1),
            next_seq: rebuilt.next_seq,
            known_tenants: rebuilt.known_tenants,
            unflushed: false,
        }
        .spawn()?;
        if config.durability == Durability::Eventual {
            writer::spawn_flusher(sender.downgrade(), config.flush_interval)?;
        }
        tracing::info!(path = %config.path.display(), "embedded store open");
        Ok(Self {
            shared,
            requests: Some(sender),
            closed: AtomicBool::new(false),
            writer: Mutex::new(Some(writer)),
            claims: claims::Claims::default(),
        })
    }

    /// Queues a request for the writer and waits for its answer.
    async fn submit<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> StoreResult<T> {
        let closed = || StoreError::Unavailable("the store is closed".into());
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let sender = self.requests.as_ref().ok_or_else(closed)?;
        let (reply, answer) = oneshot::channel();
        sender.send(make(reply)).await.map_err(|_| closed())?;
        // A dropped reply means the writer stopped before reaching the request: not applied.
        answer.await.map_err(|_| closed())
    }

    /// Runs a blocking read on tokio's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Shared) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || read(&shared))
            .await
            .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }

    fn join_writer(&self) {
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::error!("store writer panicked");
            }
        }
    }
}

impl Drop for EmbeddedStore {
    /// Without `close`, dropping still stops the writer cleanly: it sees its queue closed,
    /// finishes the batch in hand, flushes, and releases the database file.
    fn drop(&mut self) {
        drop(self.requests.take());
        self.join_writer();
    }
}

/// Encodes a write on the caller's task, off the writer thread. The entity is stored under
/// `write.id` (callers keep it equal to the entity's own id).
fn prepare(write: Write) -> StoreResult<PreparedWrite> {
    let put = match &write.action {
        WriteAction::Put(entity) => Some((
            record::encode_body(entity)?,
            Arc::new(EntityFacts::of(entity)),
        )),
        WriteAction::Delete => None,
    };
    Ok(PreparedWrite {
        id: write.id,
        precondition: write.precondition,
        put,
        history: write.history,
    })
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, tenant: &Tenant, id: &str) -> StoreResult<Option<Versioned>> {
        read::entity(&self.shared, tenant, id)
    }

    async fn commit(&self, tenant: &Tenant, writes: Vec<Write>) -> StoreResult<Vec<WriteOutcome>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let writes = writes
            .into_iter()
            .map(prepare)
            .collect::<StoreResult<Vec<_>>>()?;
        let tenant = tenant.clone();
        self.submit(|reply| Request::Commit {
            tenant,
            writes,
            reply,
        })
        .await?
    }

    async fn query(&self, tenant: &Tenant, query: &EntityQuery) -> StoreResult<QueryPage> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.blocking(move |shared| query::run(shared, &tenant, &query))
            .await
    }

    async fn types(&self, tenant: &Tenant) -> StoreResult<Vec<TypeSummary>> {
        Ok(self.shared.read_indexes().types(tenant))
    }

    async fn attributes(&self, tenant: &Tenant) -> StoreResult<Vec<AttributeSummary>> {
        Ok(self.shared.read_indexes().attributes(tenant))
    }

    async fn tenant_exists(&self, tenant: &Tenant) -> StoreResult<bool> {
        Ok(tenant.is_default() || self.shared.read_indexes().tenant(tenant).is_some())
    }

    async fn expired(&self, now: DateTime<Utc>) -> StoreResult<Vec<(Tenant, String)>> {
        Ok(self.shared.read_indexes().expired(now))
    }

    async fn put_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
        doc: serde_json::Value,
    ) -> StoreResult<()> {
        let json = serde_json::to_vec(&doc)
            .map_err(|e| StoreError::Backend(format!("cannot encode document {id}: {e}")))?;
        let (tenant, id) = (tenant.clone(), id.to_owned());
        self.submit(|reply| Request::PutDocument {
            tenant,
            kind,
            id,
            json,
            reply,
        })
        .await?
    }

    async fn get_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
    ) -> StoreResult<Option<serde_json::Value>> {
        read::document(&self.shared, tenant, kind, id)
    }

    async fn delete_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
    ) -> StoreResult<bool> {
        let (tenant, id) = (tenant.clone(), id.to_owned());
        self.submit(|reply| Request::DeleteDocument {
            tenant,
            kind,
            id,
            reply,
        })
        .await?
    }

    async fn list_documents(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
    ) -> StoreResult<Vec<(String, serde_json::Value)>> {
        let tenant = tenant.clone();
        self.blocking(move |shared| read::documents(shared, &tenant, kind))
            .await
    }

    async fn temporal_commit(
        &self,
        tenant: &Tenant,
        writes: Vec<TemporalWrite>,
    ) -> StoreResult<Vec<TemporalOutcome>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let tenant = tenant.clone();
        self.submit(|reply| Request::Temporal {
            tenant,
            writes,
            reply,
        })
        .await?
    }

    async fn temporal_query(
        &self,
        tenant: &Tenant,
        selection: &TemporalSelection,
    ) -> StoreResult<TemporalPage> {
        let (tenant, selection) = (tenant.clone(), selection.clone());
        self.blocking(move |shared| temporal::query(shared, &tenant, &selection))
            .await
    }

    async fn temporal_expire(&self, before: DateTime<Utc>, max: usize) -> StoreResult<u64> {
        let before = before.timestamp_micros();
        self.submit(|reply| Request::TemporalExpire {
            before,
            max: max.max(1),
            reply,
        })
        .await?
    }

    async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        Ok(self.shared.read_indexes().tenants())
    }

    async fn claim(&self, tenant: &Tenant, key: &str) -> StoreResult<bool> {
        Ok(self.claims.claim(tenant, key))
    }

    async fn check(&self) -> StoreResult<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable("the store is closed".into()));
        }
        Ok(())
    }

    async fn close(&self) -> StoreResult<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let Some(sender) = &self.requests else {
            return Ok(());
        };
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the store writer already stopped".into());
        sender
            .send(Request::Close { reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())??;
        tracing::info!("embedded store closed");
        Ok(())
    }
}
