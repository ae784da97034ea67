//! The documents of the [`Store`](crate::store::Store) trait (subscriptions, hosted
//! @contexts, registrations, delivery statuses), one collection per [`DocumentKind`] in the
//! tenant's database, each document stored as `{_id, json}`: they are read and written whole,
//! never queried, and JSON text keeps them exactly as the API returns them (BSON would not
//! keep every JSON number or key). [`super::watch`] follows the subscription and @context
//! collections.
//!
//! Not to be confused with [`super::document`], the MongoDB document of an entity.

use futures_util::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::Collection;

use super::error::store_error;
use super::{tenants, watch, MongoStore};
use crate::store::{DocumentKind, StoreError, StoreResult, Tenant};

/// The collection holding a tenant's documents of one kind.
fn collection(store: &MongoStore, tenant: &Tenant, kind: DocumentKind) -> Collection<Document> {
    let name = match kind {
        DocumentKind::Subscription => watch::SUBSCRIPTIONS,
        DocumentKind::JsonLdContext => watch::CONTEXTS,
        DocumentKind::Registration => "registrations",
        DocumentKind::DeliveryStatus => "deliveryStatus",
        DocumentKind::SourceIdentity => "sourceIdentity",
        DocumentKind::CsourceSubscription => "csourceSubscriptions",
    };
    store.database(tenant).collection(name)
}

/// Stores a document, replacing any with the id.
pub async fn put(
    store: &MongoStore,
    tenant: &Tenant,
    kind: DocumentKind,
    id: &str,
    doc: serde_json::Value,
) -> StoreResult<()> {
    tenants::ensure(store, tenant).await?;
    let json = serde_json::to_string(&doc)
        .map_err(|e| StoreError::Backend(format!("cannot encode document {id}: {e}")))?;
    collection(store, tenant, kind)
        .replace_one(doc! { "_id": id }, doc! { "_id": id, "json": json })
        .upsert(true)
        .await
        .map_err(|e| store_error("storing a document", e))?;
    Ok(())
}

pub async fn get(
    store: &MongoStore,
    tenant: &Tenant,
    kind: DocumentKind,
    id: &str,
) -> StoreResult<Option<serde_json::Value>> {
    let found = collection(store, tenant, kind)
        .find_one(doc! { "_id": id })
        .await
        .map_err(|e| store_error("reading a document", e))?;
    found.as_ref().map(watch::json_of).transpose()
}

/// Removes a document; true if it existed.
pub async fn delete(
    store: &MongoStore,
    tenant: &Tenant,
    kind: DocumentKind,
    id: &str,
) -> StoreResult<bool> {
    let deleted = collection(store, tenant, kind)
        .delete_one(doc! { "_id": id })
        .await
        .map_err(|e| store_error("deleting a document", e))?;
    Ok(deleted.deleted_count > 0)
}

/// All documents of a kind, in id order.
pub async fn list(
    store: &MongoStore,
    tenant: &Tenant,
    kind: DocumentKind,
) -> StoreResult<Vec<(String, serde_json::Value)>> {
    let mut cursor = collection(store, tenant, kind)
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await
        .map_err(|e| store_error("listing documents", e))?;
    let mut out = Vec::new();
    while let Some(d) = cursor
        .try_next()
        .await
        .map_err(|e| store_error("listing documents", e))?
    {
        let id = d.get_str("_id").unwrap_or_default().to_owned();
        out.push((id, watch::json_of(&d)?));
    }
    Ok(out)
}
