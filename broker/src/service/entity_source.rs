//! The entities periodic (`timeInterval`) subscriptions notify: read from the store with the
//! subscription's own selectors and filters (the shared `EntityFilter`, so the store uses its
//! indexes and the MongoDB backend filters in the database), by the one instance that claims
//! the interval.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use ngsi_types::Entity;
use subscriptions::{EntitySource, Subscription};

use crate::store::{EntityFilter, EntityQuery, Store, Tenant};

/// Most entities one periodic notification carries.
const MAX_PERIODIC_ENTITIES: usize = 1000;

#[derive(Debug, Clone)]
pub struct StoreEntitySource {
    store: Arc<dyn Store>,
}

impl StoreEntitySource {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EntitySource for StoreEntitySource {
    async fn matching(&self, tenant: Option<&str>, subscription: &Subscription) -> Vec<Entity> {
        let tenant = tenant.and_then(Tenant::named).unwrap_or_default();
        // Instances sharing a store each tick; the first to claim this interval notifies it.
        if let Some(seconds) = subscription.time_interval.filter(|s| *s > 0.0) {
            let slot = (Utc::now().timestamp_millis() as f64 / (seconds * 1000.0)).floor();
            let key = format!("periodic {} {slot}", subscription.id);
            match self.store.claim(&tenant, &key).await {
                Ok(true) => {}
                Ok(false) => return Vec::new(),
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "periodic notification: claiming its slot failed");
                    return Vec::new();
                }
            }
        }
        // The subscription's selectors and filters, through the store's indexes like any
        // query.
        let query = EntityQuery {
            limit: MAX_PERIODIC_ENTITIES,
            ..EntityQuery::filtered(subscription.entity_filter())
        };
        match self.store.query(&tenant, &query).await {
            Ok(page) => page.entities,
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "periodic notification: reading entities failed");
                Vec::new()
            }
        }
    }

    async fn by_ids(&self, tenant: Option<&str>, ids: Vec<String>) -> Vec<Entity> {
        let tenant = tenant.and_then(Tenant::named).unwrap_or_default();
        let now = Utc::now();
        let query = EntityQuery {
            limit: ids.len(),
            ..EntityQuery::filtered(EntityFilter {
                ids: Some(ids),
                ..EntityFilter::default()
            })
        };
        match self.store.query(&tenant, &query).await {
            // GS CIM 009 4.22: an entity past its expiresAt is no longer served.
            Ok(page) => page
                .entities
                .into_iter()
                .filter(|e| e.expires_at.is_none_or(|at| at > now))
                .collect(),
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "notification: reading linked entities failed");
                Vec::new()
            }
        }
    }
}
