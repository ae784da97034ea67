//! What callers send to the writer, and how the writer answers.
//!
//! Everything that can be done without the database (encoding the entity, extracting its index
//! facts, serializing a document) is done by the caller before queueing, so the single writer
//! thread spends its time on the transaction and nothing else.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::index::EntityFacts;
use crate::store::{
    DocumentKind, Precondition, StoreError, StoreResult, TemporalOp, TemporalOutcome,
    TemporalWrite, Tenant, WriteOutcome,
};

/// A [`crate::store::Write`], ready for the writer.
#[derive(Debug)]
pub struct PreparedWrite {
    pub id: String,
    pub precondition: Precondition,
    /// The encoded entity body and its facts; `None` deletes.
    pub put: Option<(Vec<u8>, Arc<EntityFacts>)>,
    /// Applied to the temporal evolution if the write is.
    pub history: Option<TemporalOp>,
}

#[derive(Debug)]
pub enum Request {
    Commit {
        tenant: Tenant,
        writes: Vec<PreparedWrite>,
        reply: oneshot::Sender<StoreResult<Vec<WriteOutcome>>>,
    },
    Temporal {
        tenant: Tenant,
        writes: Vec<TemporalWrite>,
        reply: oneshot::Sender<StoreResult<Vec<TemporalOutcome>>>,
    },
    /// Drop at most `max` instances (over every tenant) whose instant is before `before`.
    TemporalExpire {
        before: i64,
        max: usize,
        reply: oneshot::Sender<StoreResult<u64>>,
    },
    PutDocument {
        tenant: Tenant,
        kind: DocumentKind,
        id: String,
        json: Vec<u8>,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    DeleteDocument {
        tenant: Tenant,
        kind: DocumentKind,
        id: String,
        reply: oneshot::Sender<StoreResult<bool>>,
    },
    /// Apply everything queued before this, make it durable, then stop.
    Close {
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// Make every commit so far durable (sent periodically with `Durability::Eventual`).
    Flush,
}

/// The result of one request, once its transaction committed.
#[derive(Debug)]
pub enum Outcome {
    Writes(Vec<WriteOutcome>),
    Temporal(Vec<TemporalOutcome>),
    Expired(u64),
    Stored,
    Deleted(bool),
}

impl Request {
    /// Number of entity writes (the unit of the batch cap); documents count as one.
    pub fn weight(&self) -> usize {
        match self {
            Self::Commit { writes, .. } => writes.len().max(1),
            Self::Temporal { writes, .. } => writes.len().max(1),
            Self::TemporalExpire { max, .. } => (*max).max(1),
            _ => 1,
        }
    }

    /// Answers the caller. A caller that stopped waiting is no error: its write stands.
    pub fn answer(self, result: StoreResult<Outcome>) {
        match self {
            Self::Commit { reply, .. } => {
                let _ = reply.send(result.and_then(|o| match o {
                    Outcome::Writes(outcomes) => Ok(outcomes),
                    other => Err(mismatch(other)),
                }));
            }
            Self::Temporal { reply, .. } => {
                let _ = reply.send(result.and_then(|o| match o {
                    Outcome::Temporal(outcomes) => Ok(outcomes),
                    other => Err(mismatch(other)),
                }));
            }
            Self::TemporalExpire { reply, .. } => {
                let _ = reply.send(result.and_then(|o| match o {
                    Outcome::Expired(n) => Ok(n),
                    other => Err(mismatch(other)),
                }));
            }
            Self::PutDocument { reply, .. } => {
                let _ = reply.send(result.and_then(|o| match o {
                    Outcome::Stored => Ok(()),
                    other => Err(mismatch(other)),
                }));
            }
            Self::DeleteDocument { reply, .. } => {
                let _ = reply.send(result.and_then(|o| match o {
                    Outcome::Deleted(existed) => Ok(existed),
                    other => Err(mismatch(other)),
                }));
            }
            Self::Close { reply } => {
                let _ = reply.send(result.map(|_| ()));
            }
            Self::Flush => {}
        }
    }
}

fn mismatch(outcome: Outcome) -> StoreError {
    StoreError::Backend(format!(
        "writer answered with the wrong outcome {outcome:?}"
    ))
}
