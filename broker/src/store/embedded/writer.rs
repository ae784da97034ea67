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

use std::collections::HashSet;
use std::sync::Arc;

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
            let (batch, close) = self.gather(first);
            if !batch.is_empty() {
                self.commit(batch);
            }
            if let Some(close) = close {
                let result = self.flush();
                close.answer(result.map(|()| super::request::Outcome::Stored));
                tracing::debug!("store writer stopped");
                // Requests still queued are dropped unanswered: their callers see the store
                // as unavailable, and none of them was applied.
                return;
            }
        }
    }

    /// The first request plus whatever is queued behind it, up to the caps; a `Close` ends the
    /// batch and is returned separately.
    fn gather(&mut self, first: Request) -> (Vec<Request>, Option<Request>) {
        let mut batch = Vec::new();
        let mut weight = 0;
        let mut next = Some(first);
        while let Some(request) = next.take() {
            if matches!(request, Request::Close { .. }) {
                return (batch, Some(request));
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

    /// The batch is durable: make it visible, then acknowledge it.
    fn publish(&mut self, batch: Vec<Request>, committed: Committed) {
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
    fn flush(&self) -> StoreResult<()> {
        if self.durability == Durability::Immediate {
            return Ok(());
        }
        let mut txn = self.shared.db.begin_write().or_backend("flush")?;
        txn.set_durability(redb::Durability::Immediate);
        txn.commit().or_backend("flush")
    }
}
