//! The read path of entities: by id, by query, and the expired ones.
//!
//! A query is translated ([`super::filter`]) and, when the translation is exact, MongoDB
//! filters, sorts (creation order: `seq`, then `_id`), skips, limits and counts by itself. An
//! inexact translation only narrows: the cursor streams the candidates in creation order and
//! the query's own filter decides each one here, which also pages and counts. A translation
//! MongoDB refuses (a regular expression or a geometry it does not accept) falls back to the
//! index hints alone, decided the same way.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, Document};

use super::error::{self, store_error};
use super::filter::{self, Translation};
use super::{document, tenants, MongoStore};
use crate::store::{EntityQuery, QueryPage, StoreError, StoreResult, Tenant, Versioned};

/// Entities are read with these fields only (the others are for MongoDB's filters).
fn read_projection() -> Document {
    doc! { "v": 1, "body": 1 }
}

/// The entity with this id, and its version.
pub async fn entity(
    store: &MongoStore,
    tenant: &Tenant,
    id: &str,
) -> StoreResult<Option<Versioned>> {
    let found = store
        .entities(tenant)
        .find_one(doc! { "_id": id })
        .projection(read_projection())
        .await
        .map_err(|e| store_error("reading an entity", e))?;
    found.as_ref().map(document::versioned).transpose()
}

/// Entities matching the query, in creation order, paginated.
pub async fn run(
    store: &MongoStore,
    tenant: &Tenant,
    query: &EntityQuery,
) -> StoreResult<QueryPage> {
    if query.limit == 0 && !query.count {
        return Ok(QueryPage::default());
    }
    let geo_q = query.filter.as_ref().and_then(|f| f.geo_q.as_ref());
    let geo_properties = geo_q.map(|g| &g.geoproperty).into_iter();
    for property in geo_properties.chain(query.geo_envelope.as_ref().map(|(p, _)| p)) {
        store
            .setup
            .ensure_geo_index(&store.entities(tenant), tenant, property)
            .await;
    }
    let full = filter::translate(query);
    match run_query(store, tenant, query, &full).await {
        Ok(page) => Ok(page),
        Err(e) if error::code(&e).is_some() => {
            // MongoDB refused part of the translation (a regular expression or geometry it
            // does not accept): narrow by the hints only and decide the rest here.
            tracing::debug!(error = %e, "query translation refused; finishing in the broker");
            run_query(store, tenant, query, &filter::translate_hints(query))
                .await
                .map_err(query_error)
        }
        Err(e) => Err(query_error(e)),
    }
}

/// Runs a translated query: in MongoDB alone when exact, else narrowed in MongoDB and
/// decided here, in creation order either way.
async fn run_query(
    store: &MongoStore,
    tenant: &Tenant,
    query: &EntityQuery,
    t: &Translation,
) -> Result<QueryPage, mongodb::error::Error> {
    let entities = store.entities(tenant);
    if t.exact {
        let page = async {
            if query.limit == 0 {
                return Ok(Vec::new());
            }
            let mut cursor = entities
                .find(t.filter.clone())
                .sort(doc! { "seq": 1, "_id": 1 })
                .skip(query.offset as u64)
                .limit(i64::try_from(query.limit).unwrap_or(i64::MAX))
                .projection(read_projection())
                .await?;
            let mut found = Vec::new();
            while let Some(d) = cursor.try_next().await? {
                found.push(d);
            }
            Ok(found)
        };
        let total = async {
            if query.count {
                entities.count_documents(t.filter.clone()).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (docs, total) = tokio::try_join!(page, total)?;
        let entities = docs
            .iter()
            .map(|d| document::versioned(d).map(|v| v.entity))
            .collect::<StoreResult<Vec<_>>>()
            .map_err(corrupt)?;
        return Ok(QueryPage { entities, total });
    }
    let mut cursor = entities
        .find(t.filter.clone())
        .sort(doc! { "seq": 1, "_id": 1 })
        .projection(read_projection())
        .await?;
    let mut page = Vec::new();
    let mut matched: u64 = 0;
    while let Some(d) = cursor.try_next().await? {
        let entity = document::versioned(&d).map_err(corrupt)?.entity;
        if !query.matches(&entity) {
            continue;
        }
        matched += 1;
        if matched > query.offset as u64 && page.len() < query.limit {
            page.push(entity);
        }
        if !query.count && page.len() == query.limit {
            break;
        }
    }
    Ok(QueryPage {
        entities: page,
        total: query.count.then_some(matched),
    })
}

/// A corrupt document surfaces through the driver's error type inside [`run_query`].
fn corrupt(e: StoreError) -> mongodb::error::Error {
    mongodb::error::Error::custom(Arc::new(e))
}

fn query_error(e: mongodb::error::Error) -> StoreError {
    match e.get_custom::<Arc<StoreError>>() {
        Some(inner) => StoreError::Corrupt(inner.to_string()),
        None => store_error("querying entities", e),
    }
}

/// Ids of entities with something expired at or before `now` (their own `expiresAt`, or one
/// of an attribute instance), over all tenants. One query per expiry field, each on its own
/// sparse index: an `$or` of the two may not use them, and this runs every expiry period.
pub async fn expired(store: &MongoStore, now: DateTime<Utc>) -> StoreResult<Vec<(Tenant, String)>> {
    let mut out = Vec::new();
    for tenant in tenants::list(store).await? {
        for field in ["expiresAt", document::ATTRIBUTES_EXPIRE_AT] {
            let mut cursor = store
                .entities(&tenant)
                .find(doc! { field: { "$lte": document::date(now) } })
                .projection(doc! { "_id": 1 })
                .await
                .map_err(|e| store_error("finding expired entities", e))?;
            while let Some(d) = cursor
                .try_next()
                .await
                .map_err(|e| store_error("finding expired entities", e))?
            {
                if let Ok(id) = d.get_str("_id") {
                    let found = (tenant.clone(), id.to_owned());
                    if !out.contains(&found) {
                        out.push(found);
                    }
                }
            }
        }
    }
    Ok(out)
}
