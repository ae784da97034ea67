//! Following changes to subscriptions and @contexts in every tenant database with one MongoDB
//! change stream, so that each broker instance sharing the database holds every subscription:
//! a subscription created through one instance fires for writes through any other (the
//! instance that handles a write notifies, so each change is notified once), and one deleted
//! through any instance stops everywhere.
//!
//! The stream resumes after errors from its last resume token; when it cannot (the token
//! expired from the oplog), it restarts from now, and the caller reloads everything.

use std::time::Duration;

use futures_util::StreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType, ResumeToken};
use mongodb::options::FullDocumentType;
use mongodb::Client;
use tokio::sync::mpsc;

use super::names::tenant_of;
use crate::store::{DocumentKind, StoreError, StoreResult, Tenant};

pub const SUBSCRIPTIONS: &str = "subscriptions";
pub const CONTEXTS: &str = "contexts";

/// One change of a stored document.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentChange {
    /// Created or replaced: the document now.
    Put {
        tenant: Tenant,
        kind: DocumentKind,
        id: String,
        doc: serde_json::Value,
    },
    Deleted {
        tenant: Tenant,
        kind: DocumentKind,
        id: String,
    },
    /// The stream was interrupted and changes may have been missed: reload everything.
    Resync,
}

/// The JSON of a stored document (`{_id, json}`).
pub fn json_of(d: &Document) -> StoreResult<serde_json::Value> {
    let id = d.get_str("_id").unwrap_or("?");
    let text = d
        .get_str("json")
        .map_err(|_| StoreError::Corrupt(format!("document {id} has no json")))?;
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("document {id} is not JSON: {e}")))
}

/// Starts the watching task; it ends when the receiver is dropped.
pub fn spawn(client: Client, prefix: String) -> mpsc::Receiver<DocumentChange> {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        let mut resume: Option<ResumeToken> = None;
        loop {
            if tx.is_closed() {
                return;
            }
            let pipeline = vec![doc! { "$match": {
                "ns.coll": { "$in": [SUBSCRIPTIONS, CONTEXTS] },
                "operationType": { "$in": ["insert", "replace", "update", "delete"] },
            } }];
            let opened = client
                .watch()
                .pipeline(pipeline)
                .full_document(FullDocumentType::UpdateLookup)
                .resume_after(resume.clone())
                .await;
            let mut stream = match opened {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch subscription changes; retrying");
                    if resume.take().is_some() && tx.send(DocumentChange::Resync).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(event) = stream.next().await {
                match event {
                    Ok(event) => {
                        resume = stream.resume_token();
                        if let Some(change) = change_of(&prefix, event) {
                            if tx.send(change).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "subscription change stream interrupted");
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    rx
}

fn change_of(prefix: &str, event: ChangeStreamEvent<Document>) -> Option<DocumentChange> {
    let ns = event.ns?;
    let tenant = tenant_of(prefix, &ns.db)?;
    let kind = match ns.coll.as_deref()? {
        SUBSCRIPTIONS => DocumentKind::Subscription,
        CONTEXTS => DocumentKind::JsonLdContext,
        _ => return None,
    };
    let id = match event.document_key.as_ref()?.get("_id")? {
        Bson::String(s) => s.clone(),
        _ => return None,
    };
    match event.operation_type {
        OperationType::Delete => Some(DocumentChange::Deleted { tenant, kind, id }),
        _ => match event.full_document.as_ref().map(json_of) {
            Some(Ok(doc)) => Some(DocumentChange::Put {
                tenant,
                kind,
                id,
                doc,
            }),
            // Deleted again before the lookup, or unreadable: the delete event follows.
            _ => None,
        },
    }
}
