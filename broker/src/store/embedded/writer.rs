//! The writer: one long-lived thread, `oxion-store-writer`, that owns the write side of the
//! database. It is the only code that opens write transactions and the only code that changes
//! the indexes.
//!
//! Group commit: callers queue requests on a bounded channel and wait on a oneshot. The writer
//! takes the first waiting request, drains whatever else is queued (up to the batch caps),
//! applies all of it in one transaction and commits it: one fsync pays for the whole batch. Only
//! then does it update the indexes and answer every caller, so a write is never acknowledged
//! (nor visible through the indexes) before it is durable. While a batch is being fsynced, the
//! next one queues up, which is what makes throughput grow with the number of committers.
//!
//! redb is blocking, so the writer is a plain thread rather than a tokio task; it never runs on
//! (nor blocks) the async runtime.
//!
//! With `Durability::Eventual`, batches commit without fsync and a second thread,
//! `oxion-store-flusher`, queues a `Flush` every `flush_interval`; the writer then makes all of
//! them durable with one fsync. The flusher holds only a weak handle on the queue, so it never
//! keeps the writer alive, and stops when the store is gone.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::config::Durability;
use super::redb_error::OrBackend;
use super::request::Request;
use super::transaction::{self, BatchContext, Committed, Failure};
use super::Shared;
use crate::store::{StoreError, StoreResult};

/// The writer's state: everything it owns exclusively.
#[derive(Debug)]
pub struct Writer {
    pub shared: Arc<Shared>,
    pub requests: mpsc::Receiver<Request>,
    pub durability: Durability,
    pub max_batch_requests: usize,
    pub max_batch_writes: usize,
    /// Creation sequence of the next new entity.
    pub next_seq: u64,
    /// Named tenants already recorded in the database.
    pub known_tenants: HashSet<String>,
    /// Commits made since the last durable one (only with `Durability::Eventual`).
    pub unflushed: bool,
}

/// How a gathered batch ends.
#[derive(Debug)]
enum Control {
    /// Make everything durable, then stop.
    Close(Request),
    /// Make everything durable.
    Flush,
}

impl Writer {
    /// Starts the writer thread.
    pub fn spawn(self) -> StoreResult<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("oxion-store-writer".into())
            .spawn(move || self.run())
            .map_err(|e| StoreError::Backend(format!("cannot start the store writer: {e}")))
    }

    fn run(mut self) {
        loop {
            // Waits for work; `None` means every sender is gone (the store was dropped).
            let Some(first) = self.requests.blocking_recv() else {
                if let Err(error) = self.flush() {
                    tracing::error!(%error, "final flush of the store failed");
                }
                return;
            };
            let (batch, control) = self.gather(first);
            if !batch.is_empty() {
                self.commit(batch);
            }
            match control {
                None => {}
                Some(Control::Flush) => {
                    if let Err(error) = self.flush() {
                        tracing::error!(%error, "periodic flush of the store failed");
                    }
                }
                Some(Control::Close(close)) => {
                    let result = self.flush();
                    close.answer(result.map(|()| super::request::Outcome::Stored));
                    tracing::debug!("store writer stopped");
                    // Requests still queued are dropped unanswered: their callers see the
                    // store as unavailable, and none of them was applied.
                    return;
                }
            }
        }
    }

    /// The first request plus whatever is queued behind it, up to the caps; a `Close` or a
    /// `Flush` ends the batch and is returned separately.
    fn gather(&mut self, first: Request) -> (Vec<Request>, Option<Control>) {
        let mut batch = Vec::new();
        let mut weight = 0;
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Close { .. } => return (batch, Some(Control::Close(request))),
                Request::Flush => return (batch, Some(Control::Flush)),
                _ => {}
            }
            weight += request.weight();
            batch.push(request);
            if batch.len() >= self.max_batch_requests || weight >= self.max_batch_writes {
                break;
            }
            next = self.requests.try_recv().ok();
        }
        (batch, None)
    }

    /// Commits a batch, dropping (and failing) requests that cannot be applied, then updates
    /// the indexes and answers every caller.
    fn commit(&mut self, mut batch: Vec<Request>) {
        // Each retry removes one request, so this ends.
        loop {
            let ctx = BatchContext {
                db: &self.shared.db,
                durability: self.durability,
                next_seq: self.next_seq,
                known_tenants: &self.known_tenants,
            };
            match transaction::run(ctx, &batch) {
                Ok(committed) => return self.publish(batch, committed),
                Err(Failure::Request(i, error)) => {
                    tracing::error!(%error, "write request failed; retrying its batch without it");
                    batch.remove(i).answer(Err(error));
                    if batch.is_empty() {
                        return;
                    }
                }
                Err(Failure::Batch(error)) => {
                    tracing::error!(%error, requests = batch.len(), "write batch failed");
                    for request in batch {
                        request.answer(Err(StoreError::Backend(error.to_string())));
                    }
                    return;
                }
            }
        }
    }

    /// The batch is committed (durable, unless `Eventual`): make it visible, then acknowledge it.
    fn publish(&mut self, batch: Vec<Request>, committed: Committed) {
        self.unflushed |= self.durability == Durability::Eventual && committed.wrote;
        self.next_seq = committed.next_seq;
        self.known_tenants.extend(committed.new_tenants);
        {
            let mut indexes = self.shared.write_indexes();
            for change in &committed.changes {
                indexes.apply(change);
            }
        }
        tracing::trace!(
            requests = batch.len(),
            changes = committed.changes.len(),
            "batch committed"
        );
        for (request, outcome) in batch.into_iter().zip(committed.outcomes) {
            request.answer(Ok(outcome));
        }
    }

    /// Makes every committed transaction durable (they already are with `Immediate`).
    fn flush(&mut self) -> StoreResult<()> {
        if !self.unflushed {
            return Ok(());
        }
        let mut txn = self.shared.db.begin_write().or_backend("flush")?;
        txn.set_durability(redb::Durability::Immediate);
        txn.commit().or_backend("flush")?;
        self.unflushed = false;
        Ok(())
    }
}

/// Starts the thread that asks the writer to flush every `interval` (for `Eventual`).
pub fn spawn_flusher(queue: mpsc::WeakSender<Request>, interval: Duration) -> StoreResult<()> {
    std::thread::Builder::new()
        .name("oxion-store-flusher".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            let Some(queue) = queue.upgrade() else {
                return;
            };
            // A full queue means a busy writer: the next tick will do.
            if let Err(mpsc::error::TrySendError::Closed(_)) = queue.try_send(Request::Flush) {
                return;
            }
        })
        .map(drop)
        .map_err(|e| StoreError::Backend(format!("cannot start the store flusher: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::RwLock;

    use tokio::sync::oneshot;

    use super::*;
    use crate::store::embedded::config::EmbeddedConfig;
    use crate::store::embedded::index::EntityFacts;
    use crate::store::embedded::open;
    use crate::store::embedded::request::PreparedWrite;
    use crate::store::embedded::tables::ENTITIES;
    use crate::store::{Precondition, Tenant, WriteOutcome};

    /// A writer on a fresh database, without its thread: the test drives it.
    fn writer(
        dir: &tempfile::TempDir,
        max_batch_requests: usize,
    ) -> (Writer, mpsc::Sender<Request>) {
        let config = EmbeddedConfig::in_data_dir(dir.path());
        let db = open::database(&config).expect("database");
        let rebuilt = open::rebuild(&db).expect("rebuild");
        let shared = Arc::new(Shared {
            db,
            indexes: RwLock::new(rebuilt.indexes),
        });
        let (sender, requests) = mpsc::channel(64);
        let writer = Writer {
            shared,
            requests,
            durability: Durability::Immediate,
            max_batch_requests,
            max_batch_writes: 1_000,
            next_seq: rebuilt.next_seq,
            known_tenants: rebuilt.known_tenants,
            unflushed: false,
        };
        (writer, sender)
    }

    fn create(id: &str) -> (Request, oneshot::Receiver<StoreResult<Vec<WriteOutcome>>>) {
        let entity = ngsi_types::Entity::new(id, vec!["https://example.org/T".into()]);
        let body = crate::store::embedded::record::encode_body(&entity).expect("encodes");
        let (reply, answer) = oneshot::channel();
        let request = Request::Commit {
            tenant: Tenant::default_tenant(),
            writes: vec![PreparedWrite {
                id: id.to_owned(),
                precondition: Precondition::Any,
                put: Some((body, Arc::new(EntityFacts::of(&entity)))),
                history: None,
            }],
            reply,
        };
        (request, answer)
    }

    #[test]
    fn a_corrupt_record_fails_its_own_request_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut writer, _sender) = writer(&dir, 64);
        {
            let txn = writer.shared.db.begin_write().expect("txn");
            txn.open_table(ENTITIES)
                .expect("table")
                .insert(("", "urn:bad"), &b"not a record"[..])
                .expect("insert");
            txn.commit().expect("commit");
        }
        let (good_before, good_before_answer) = create("urn:good:1");
        let (bad, bad_answer) = create("urn:bad");
        let (good_after, good_after_answer) = create("urn:good:2");
        writer.commit(vec![good_before, bad, good_after]);

        let applied = [WriteOutcome::Applied { version: 1 }];
        assert_eq!(
            good_before_answer
                .blocking_recv()
                .expect("answered")
                .expect("ok"),
            applied
        );
        assert!(matches!(
            bad_answer.blocking_recv().expect("answered"),
            Err(StoreError::Corrupt(_))
        ));
        assert_eq!(
            good_after_answer
                .blocking_recv()
                .expect("answered")
                .expect("ok"),
            applied
        );
        // The failed attempt consumed no creation sequence twice.
        assert_eq!(writer.next_seq, 3);
    }

    #[test]
    fn batches_stop_at_the_cap_at_flush_and_at_close() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut writer, sender) = writer(&dir, 3);
        let queue = |request| sender.try_send(request).expect("queued");
        (0..2).for_each(|n| queue(create(&format!("urn:a{n}")).0));
        queue(Request::Flush);
        (0..4).for_each(|n| queue(create(&format!("urn:b{n}")).0));
        let (close, _closed) = oneshot::channel();
        queue(Request::Close { reply: close });

        let mut next = || {
            let first = writer.requests.try_recv().expect("queued");
            let (batch, control) = writer.gather(first);
            (batch.len(), control.map(|c| matches!(c, Control::Close(_))))
        };
        assert_eq!(next(), (2, Some(false)));
        assert_eq!(next(), (3, None));
        assert_eq!(next(), (1, Some(true)));
    }

    #[test]
    fn eventual_commits_wait_for_a_flush() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut writer, _sender) = writer(&dir, 8);
        writer.durability = Durability::Eventual;
        let (request, answer) = create("urn:a");
        writer.commit(vec![request]);
        assert!(answer.blocking_recv().expect("answered").is_ok());
        assert!(writer.unflushed);
        writer.flush().expect("flush");
        assert!(!writer.unflushed);
    }
}
