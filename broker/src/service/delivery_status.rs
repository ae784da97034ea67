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

    /// The local status plus what the other instances published for the subscription.
    pub async fn combined(
        &self,
        tenant: &Tenant,
        subscription: &str,
        local: Option<SubscriptionStatus>,
    ) -> StoreResult<Option<SubscriptionStatus>> {
        let mut total = local.clone().unwrap_or_default();
        let mut any = local.is_some();
        for (_, doc) in self.others(tenant, subscription).await? {
            if let Ok(status) = serde_json::from_value::<SubscriptionStatus>(doc["status"].clone())
            {
                total.absorb(&status);
                any = true;
            }
        }
        Ok(any.then_some(total))
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

    async fn others(
        &self,
        tenant: &Tenant,
        subscription: &str,
    ) -> StoreResult<Vec<(String, serde_json::Value)>> {
        let mine = self.document_id(subscription);
        let mut all = self.all_of(tenant, subscription).await?;
        all.retain(|(id, _)| *id != mine);
        Ok(all)
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
