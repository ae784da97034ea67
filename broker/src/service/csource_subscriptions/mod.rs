//! Context Source Registration Subscriptions (GS CIM 009 clause 5.11): read and checked by
//! `subscriptions::csource`, kept as `CsourceSubscription` documents of their tenant
//! (`csourceSubscriptions` in MongoDB), and notified by the [`CsourceNotifier`] task when a
//! registration they match is created, updated or deleted (5.11.7), and on their creation
//! and update with every registration they match then (5.11.2.4, 5.11.3.4).

mod notifier;

pub use notifier::CsourceNotifier;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ngsi_types::context::ContextSource;
use serde_json::Value;
use subscriptions::csource::CsourceSubscription;
use subscriptions::SubscriptionStatus;

use super::clock::Clock;
use super::registrations::Registrations;
use super::tenancy::require_tenant;
use crate::contexts::{ContextService, RequestContext};
use crate::error::{BrokerError, BrokerResult};
use crate::store::{DocumentKind, Store, StoreError, Tenant};

/// A csource subscription as read, with this instance's delivery status.
#[derive(Debug)]
pub struct CsourceSubscriptionView {
    pub subscription: CsourceSubscription,
    pub status: Option<SubscriptionStatus>,
    pub at: DateTime<Utc>,
}

impl CsourceSubscriptionView {
    /// The API form, names compacted with the reader's @context.
    pub fn render(&self, ctx: &RequestContext, sys_attrs: bool) -> Value {
        self.subscription
            .render(&ctx.active, self.status.as_ref(), self.at, sys_attrs)
    }
}

/// One page of csource subscriptions, and how many there are in all.
#[derive(Debug)]
pub struct CsourceSubscriptionPage {
    pub subscriptions: Vec<CsourceSubscriptionView>,
    pub total: u64,
}

#[derive(Debug, Clone)]
pub struct CsourceSubscriptions {
    store: Arc<dyn Store>,
    contexts: Arc<ContextService>,
    registrations: Registrations,
    notifier: CsourceNotifier,
    clock: Clock,
    /// The periodic subscriptions (timeInterval) this instance notifies, each with the
    /// generation of its timer task: a task whose generation is gone stops.
    periodic: Arc<Mutex<HashMap<(Tenant, String), u64>>>,
    generations: Arc<AtomicU64>,
}

impl CsourceSubscriptions {
    pub fn new(
        store: Arc<dyn Store>,
        contexts: Arc<ContextService>,
        registrations: Registrations,
        notifier: CsourceNotifier,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            contexts,
            registrations,
            notifier,
            clock,
            periodic: Arc::default(),
            generations: Arc::default(),
        }
    }

    /// Starts the timers of the stored periodic subscriptions (at start-up).
    pub async fn restore(&self) -> BrokerResult<()> {
        for tenant in self.store.tenants().await? {
            for (_, doc) in self
                .store
                .list_documents(&tenant, DocumentKind::CsourceSubscription)
                .await?
            {
                if let Ok(sub) = serde_json::from_value::<CsourceSubscription>(doc) {
                    self.schedule(&tenant, &sub);
                }
            }
        }
        Ok(())
    }

    /// Create Csource Registration Subscription (5.11.2); returns its id.
    pub async fn create(
        &self,
        tenant: &Tenant,
        body: &Value,
        ctx: &RequestContext,
    ) -> BrokerResult<String> {
        let mut sub = CsourceSubscription::parse(body, &ctx.active, self.clock.now())?;
        self.check_endpoint(&sub)?;
        if !matches!(ctx.source, ContextSource::Core) {
            sub.subscription.set_request_context(ctx.response_context());
        }
        // GS CIM 009 5.11.2.4 (as 5.8.1.4): without a jsonldContext, the request's @context.
        if sub.subscription.jsonld_context.is_none() {
            sub.subscription.jsonld_context = Some(ctx.link_url());
        }
        if self.find(tenant, sub.id()).await?.is_some() {
            return Err(BrokerError::AlreadyExists(format!(
                "csource subscription '{}' already exists",
                sub.id()
            )));
        }
        self.save(tenant, &sub).await?;
        let id = sub.id().to_owned();
        self.schedule(tenant, &sub);
        self.notify_matching(tenant, sub).await;
        Ok(id)
    }

    /// Query Csource Registration Subscriptions (5.11.5): a page in id order.
    pub async fn list(
        &self,
        tenant: &Tenant,
        offset: usize,
        limit: usize,
    ) -> BrokerResult<CsourceSubscriptionPage> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let docs = self
            .store
            .list_documents(tenant, DocumentKind::CsourceSubscription)
            .await?;
        let total = docs.len() as u64;
        let mut subscriptions = Vec::new();
        for (id, doc) in docs.into_iter().skip(offset).take(limit) {
            match serde_json::from_value::<CsourceSubscription>(doc) {
                Ok(sub) => subscriptions.push(self.view(tenant, sub)),
                Err(e) => {
                    tracing::error!(%tenant, %id, error = %e, "stored csource subscription does not decode")
                }
            }
        }
        Ok(CsourceSubscriptionPage {
            subscriptions,
            total,
        })
    }

    /// Retrieve Csource Registration Subscription (5.11.4).
    pub async fn retrieve(
        &self,
        tenant: &Tenant,
        id: &str,
    ) -> BrokerResult<CsourceSubscriptionView> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let sub = self.load(tenant, id).await?;
        Ok(self.view(tenant, sub))
    }

    /// Update Csource Registration Subscription (5.11.3): the fragment merged (5.5.8), then
    /// every registration it matches is notified.
    pub async fn update(
        &self,
        tenant: &Tenant,
        id: &str,
        fragment: &Value,
        ctx: &RequestContext,
    ) -> BrokerResult<()> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let current = self.load(tenant, id).await?;
        let updated = current.patch(fragment, &ctx.active, self.clock.now())?;
        self.check_endpoint(&updated)?;
        self.save(tenant, &updated).await?;
        self.schedule(tenant, &updated);
        self.notify_matching(tenant, updated).await;
        Ok(())
    }

    /// Delete Csource Registration Subscription (5.11.6).
    pub async fn delete(&self, tenant: &Tenant, id: &str) -> BrokerResult<()> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let existed = self
            .store
            .delete_document(tenant, DocumentKind::CsourceSubscription, id)
            .await?;
        self.notifier.forget(tenant, id);
        self.lock_periodic()
            .remove(&(tenant.clone(), id.to_owned()));
        if existed {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Hands the subscription and the tenant's current registrations to the notifier. A
    /// failure to read them costs only this notification, so it is logged.
    async fn notify_matching(&self, tenant: &Tenant, sub: CsourceSubscription) {
        match self.registrations.current_of(tenant).await {
            Ok(registrations) => self.notifier.matching(tenant, sub, registrations),
            Err(e) => {
                tracing::warn!(%tenant, id = %sub.id(), error = %e, "registrations unreadable: no initial csource notification")
            }
        }
    }

    /// GS CIM 009 5.11.2.4, 5.11.7: a subscription with a timeInterval is notified of every
    /// registration it matches each interval (besides initially). A new schedule replaces
    /// the subscription's previous one; one without timeInterval has none.
    fn schedule(&self, tenant: &Tenant, sub: &CsourceSubscription) {
        let key = (tenant.clone(), sub.id().to_owned());
        let Some(secs) = sub.subscription.time_interval else {
            self.lock_periodic().remove(&key);
            return;
        };
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        self.lock_periodic().insert(key.clone(), generation);
        let this = self.clone();
        let period = Duration::from_secs_f64(secs.max(0.001));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                if this.lock_periodic().get(&key) != Some(&generation) {
                    return;
                }
                match this.find(&key.0, &key.1).await {
                    Ok(Some(sub)) => this.notify_matching(&key.0, sub).await,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(tenant = %key.0, id = %key.1, error = %e, "periodic csource subscription unreadable")
                    }
                }
            }
        });
    }

    fn lock_periodic(&self) -> std::sync::MutexGuard<'_, HashMap<(Tenant, String), u64>> {
        self.periodic.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The egress policy refuses a notification endpoint by its URL alone at once (as for
    /// entity subscriptions).
    fn check_endpoint(&self, sub: &CsourceSubscription) -> BrokerResult<()> {
        self.contexts
            .egress()
            .check(&sub.subscription.notification.endpoint.uri)
            .map(|_| ())
            .map_err(|e| BrokerError::BadRequestData(format!("notification endpoint: {e}")))
    }

    fn view(&self, tenant: &Tenant, subscription: CsourceSubscription) -> CsourceSubscriptionView {
        let status = self.notifier.status(tenant, subscription.id());
        CsourceSubscriptionView {
            subscription,
            status,
            at: self.clock.now(),
        }
    }

    async fn find(&self, tenant: &Tenant, id: &str) -> BrokerResult<Option<CsourceSubscription>> {
        let Some(doc) = self
            .store
            .get_document(tenant, DocumentKind::CsourceSubscription, id)
            .await?
        else {
            return Ok(None);
        };
        serde_json::from_value(doc).map(Some).map_err(|e| {
            BrokerError::Store(StoreError::Corrupt(format!(
                "csource subscription '{id}': {e}"
            )))
        })
    }

    async fn load(&self, tenant: &Tenant, id: &str) -> BrokerResult<CsourceSubscription> {
        self.find(tenant, id).await?.ok_or_else(|| not_found(id))
    }

    async fn save(&self, tenant: &Tenant, sub: &CsourceSubscription) -> BrokerResult<()> {
        let doc = serde_json::to_value(sub).map_err(|e| {
            BrokerError::Store(StoreError::Backend(format!(
                "encoding a csource subscription: {e}"
            )))
        })?;
        self.store
            .put_document(tenant, DocumentKind::CsourceSubscription, sub.id(), doc)
            .await?;
        Ok(())
    }
}

fn not_found(id: &str) -> BrokerError {
    BrokerError::NotFound(format!("csource subscription '{id}' not found"))
}
