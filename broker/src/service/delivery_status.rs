//! Delivery status shared by broker instances on one database. Each instance sends some of a
//! subscription's notifications (those of the writes it handles), so each knows only its own
//! part of `timesSent`, `lastNotification` and the rest (clause 5.2.14). Every second, an
//! instance publishes the statuses that changed as one document per (subscription, instance);
//! rendering a subscription adds the other instances' documents to the live local status.
//! A status is therefore at most about a second behind for notifications sent elsewhere.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use subscriptions::{EngineHandle, SubscriptionStatus};
use tokio::sync::watch;

use crate::store::{DocumentKind, Store, StoreResult, Tenant};

/// How often changed statuses are published.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct SharedDeliveryStatus {
    store: Arc<dyn Store>,
    /// This process, among the instances sharing the store.
    instance: String,
}

impl SharedDeliveryStatus {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            instance: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    fn document_id(&self, subscription: &str) -> String {
        format!("{subscription} {}", self.instance)
    }

    /// Publishes changed statuses until `stop` turns true.
    pub async fn run(self: Arc<Self>, engine: EngineHandle, mut stop: watch::Receiver<bool>) {
        let mut published: HashMap<(Option<String>, String), SubscriptionStatus> = HashMap::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(PUBLISH_EVERY) => {}
                _ = stop.changed() => return,
            }
            for (tenant_name, id, status) in engine.statuses().await {
                let key = (tenant_name, id);
                if published.get(&key) == Some(&status) {
                    continue;
                }
                let tenant = key.0.as_deref().and_then(Tenant::named).unwrap_or_default();
                let doc =
                    json!({"subscription": key.1, "instance": self.instance, "status": status});
                match self
                    .store
                    .put_document(
                        &tenant,
                        DocumentKind::DeliveryStatus,
                        &self.document_id(&key.1),
                        doc,
                    )
                    .await
                {
                    Ok(()) => {
                        published.insert(key, status);
                    }
                    Err(e) => {
                        tracing::warn!(%tenant, error = %e, "publishing a delivery status failed")
                    }
                }
            }
        }
    }

    /// What the other instances published in a tenant, summed per subscription: read once
    /// for any number of subscriptions rendered together.
    pub async fn others(&self, tenant: &Tenant) -> StoreResult<OtherInstances> {
        let mut by_subscription: HashMap<String, SubscriptionStatus> = HashMap::new();
        let docs = self
            .store
            .list_documents(tenant, DocumentKind::DeliveryStatus)
            .await?;
        for (_, doc) in docs {
            let (Some(sub), Some(instance)) =
                (doc["subscription"].as_str(), doc["instance"].as_str())
            else {
                continue;
            };
            if instance == self.instance {
                continue;
            }
            if let Ok(status) = serde_json::from_value::<SubscriptionStatus>(doc["status"].clone())
            {
                by_subscription
                    .entry(sub.to_owned())
                    .or_default()
                    .absorb(&status);
            }
        }
        Ok(OtherInstances(by_subscription))
    }

    /// Removes every instance's status of a deleted subscription.
    pub async fn forget(&self, tenant: &Tenant, subscription: &str) -> StoreResult<()> {
        for (id, _) in self.all_of(tenant, subscription).await? {
            self.store
                .delete_document(tenant, DocumentKind::DeliveryStatus, &id)
                .await?;
        }
        Ok(())
    }

    async fn all_of(
        &self,
        tenant: &Tenant,
        subscription: &str,
    ) -> StoreResult<Vec<(String, serde_json::Value)>> {
        let mut docs = self
            .store
            .list_documents(tenant, DocumentKind::DeliveryStatus)
            .await?;
        docs.retain(|(_, doc)| doc["subscription"] == subscription);
        Ok(docs)
    }
}

/// The delivery statuses other instances published, summed per subscription id.
#[derive(Debug, Default)]
pub struct OtherInstances(HashMap<String, SubscriptionStatus>);

impl OtherInstances {
    /// This instance's live status of a subscription plus the others'.
    pub fn add_to(
        &self,
        subscription: &str,
        local: Option<SubscriptionStatus>,
    ) -> Option<SubscriptionStatus> {
        match (local, self.0.get(subscription)) {
            (Some(mut mine), Some(theirs)) => {
                mine.absorb(theirs);
                Some(mine)
            }
            (None, Some(theirs)) => Some(theirs.clone()),
            (local, None) => local,
        }
    }
}
