//! Subscription operations (clause 5.8): a subscription is validated by the `subscriptions`
//! crate, kept as a document of its tenant (so it survives restarts and is shared by the
//! instances of one MongoDB), and filed with the engine that matches and delivers. Start-up
//! and the changes other instances make come through here too, so the engine always holds
//! what the store holds.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ngsi_types::context::ContextSource;
use serde_json::Value;
use subscriptions::{EngineHandle, StatsSnapshot, Subscription, SubscriptionStatus};

use super::clock::Clock;
use super::delivery_status::{OtherInstances, SharedDeliveryStatus};
use super::tenancy::require_tenant;
use crate::contexts::{ContextService, RequestContext, HOSTED_PATH};
use crate::error::{BrokerError, BrokerResult};
use crate::store::{DocumentKind, Store, StoreError, Tenant};

/// A subscription as read, with its delivery status (this instance's, plus the others' when
/// several share the store) at the time it was read.
#[derive(Debug)]
pub struct SubscriptionView {
    pub subscription: Subscription,
    pub status: Option<SubscriptionStatus>,
    pub at: DateTime<Utc>,
}

impl SubscriptionView {
    /// The API form, names compacted with the reader's @context; `sys_attrs` adds
    /// createdAt and modifiedAt.
    pub fn render(&self, ctx: &RequestContext, sys_attrs: bool) -> Value {
        self.subscription
            .render(&ctx.active, self.status.as_ref(), self.at, sys_attrs)
    }
}

/// One page of subscriptions, and how many there are in all.
#[derive(Debug)]
pub struct SubscriptionPage {
    pub subscriptions: Vec<SubscriptionView>,
    pub total: u64,
}

#[derive(Debug, Clone)]
pub struct Subscriptions {
    store: Arc<dyn Store>,
    engine: EngineHandle,
    contexts: Arc<ContextService>,
    /// With a store shared by several instances: their delivery statuses, summed on reads.
    delivery: Option<Arc<SharedDeliveryStatus>>,
    clock: Clock,
}

impl Subscriptions {
    pub fn new(
        store: Arc<dyn Store>,
        engine: EngineHandle,
        contexts: Arc<ContextService>,
        delivery: Option<Arc<SharedDeliveryStatus>>,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            engine,
            contexts,
            delivery,
            clock,
        }
    }

    /// Create Subscription (5.8.1) from its API form, read with the request's @context;
    /// returns its id. `base` is where this broker hosts an inline @context it must serve.
    pub async fn create(
        &self,
        tenant: &Tenant,
        body: &Value,
        ctx: &RequestContext,
        base: &str,
    ) -> BrokerResult<String> {
        let mut sub = Subscription::parse(body, &ctx.active, self.clock.now())?;
        self.check_endpoint(&sub)?;
        if !matches!(ctx.source, ContextSource::Core) {
            sub.set_request_context(ctx.response_context());
        }
        // GS CIM 009 5.8.1.4: without a jsonldContext the subscription's is initialized with
        // the @context of the request: its URL (the core context, the Link header's), or that
        // of the ImplicitlyCreated @context made for an inline one or an array (5.13.1).
        if sub.jsonld_context.is_none() {
            sub.jsonld_context = Some(ctx.link_url());
        }
        if self
            .store
            .get_document(tenant, DocumentKind::Subscription, &sub.id)
            .await?
            .is_some()
        {
            return Err(BrokerError::AlreadyExists(format!(
                "subscription '{}' already exists",
                sub.id
            )));
        }
        let id = sub.id.clone();
        self.save(tenant, &sub).await?;
        self.activate(tenant, sub, base).await?;
        Ok(id)
    }

    /// Query Subscriptions (5.8.4): a page in id order.
    pub async fn list(
        &self,
        tenant: &Tenant,
        offset: usize,
        limit: usize,
    ) -> BrokerResult<SubscriptionPage> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let docs = self
            .store
            .list_documents(tenant, DocumentKind::Subscription)
            .await?;
        let total = docs.len() as u64;
        let others = self.other_instances(tenant).await;
        let mut subscriptions = Vec::new();
        for (id, doc) in docs.into_iter().skip(offset).take(limit) {
            match serde_json::from_value::<Subscription>(doc) {
                Ok(sub) => subscriptions.push(self.view(tenant, sub, others.as_ref()).await),
                Err(e) => {
                    tracing::error!(%tenant, %id, error = %e, "stored subscription does not decode")
                }
            }
        }
        Ok(SubscriptionPage {
            subscriptions,
            total,
        })
    }

    /// Retrieve Subscription (5.8.3).
    pub async fn retrieve(&self, tenant: &Tenant, id: &str) -> BrokerResult<SubscriptionView> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let sub = self.load(tenant, id).await?;
        let others = self.other_instances(tenant).await;
        Ok(self.view(tenant, sub, others.as_ref()).await)
    }

    /// Update Subscription (5.8.2): the fragment, read with the request's @context, patches
    /// the stored subscription.
    pub async fn update(
        &self,
        tenant: &Tenant,
        id: &str,
        fragment: &Value,
        ctx: &RequestContext,
        base: &str,
    ) -> BrokerResult<()> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let current = self.load(tenant, id).await?;
        let updated = current.patch(fragment, &ctx.active, self.clock.now())?;
        self.check_endpoint(&updated)?;
        self.save(tenant, &updated).await?;
        self.activate(tenant, updated, base).await
    }

    /// Delete Subscription (5.8.5).
    pub async fn delete(&self, tenant: &Tenant, id: &str) -> BrokerResult<()> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let existed = self
            .store
            .delete_document(tenant, DocumentKind::Subscription, id)
            .await?;
        self.engine.remove(tenant.name(), id).await?;
        if let Some(shared) = &self.delivery {
            shared.forget(tenant, id).await?;
        }
        if existed {
            Ok(())
        } else {
            Err(BrokerError::NotFound(format!(
                "subscription '{id}' not found"
            )))
        }
    }

    /// Files every stored subscription with the engine (start-up, and after the change
    /// stream of a shared store was interrupted).
    pub async fn restore(&self, base: &str) -> BrokerResult<()> {
        for tenant in self.store.tenants().await? {
            for (id, doc) in self
                .store
                .list_documents(&tenant, DocumentKind::Subscription)
                .await?
            {
                self.activate_stored(&tenant, &id, doc, base).await;
            }
        }
        Ok(())
    }

    /// Files a stored subscription (restored, or written by another instance) with the
    /// engine; one that does not decode or activate is logged and skipped, so the others
    /// still serve.
    pub async fn activate_stored(&self, tenant: &Tenant, id: &str, doc: Value, base: &str) {
        match serde_json::from_value::<Subscription>(doc) {
            Ok(sub) => {
                if let Err(e) = self.activate(tenant, sub, base).await {
                    tracing::error!(%tenant, %id, error = %e, "stored subscription could not be activated");
                }
            }
            Err(e) => {
                tracing::error!(%tenant, %id, error = %e, "stored subscription does not decode; skipped")
            }
        }
    }

    /// Forgets a subscription another instance deleted.
    pub async fn deactivate(&self, tenant: &Tenant, id: &str) {
        if let Err(e) = self.engine.remove(tenant.name(), id).await {
            tracing::warn!(%tenant, %id, error = %e, "removing a deleted subscription failed");
        }
    }

    /// The engine's counters (for /metrics).
    pub fn stats(&self) -> StatsSnapshot {
        self.engine.stats()
    }

    /// A notification endpoint the egress policy refuses by its URL alone (an address in a
    /// denied network, a denied name) is BadRequestData at once; one whose name resolves into
    /// a denied network fails at each notification instead (`lastFailure` says so).
    fn check_endpoint(&self, sub: &Subscription) -> BrokerResult<()> {
        self.contexts
            .egress()
            .check(&sub.notification.endpoint.uri)
            .map(|_| ())
            .map_err(|e| BrokerError::BadRequestData(format!("notification endpoint: {e}")))
    }

    /// Files a subscription with the engine, with its notification @context resolved.
    async fn activate(&self, tenant: &Tenant, sub: Subscription, base: &str) -> BrokerResult<()> {
        if let (Some(url), inline @ (Value::Object(_) | Value::Array(_))) =
            (&sub.jsonld_context, &sub.context)
        {
            if url.contains(HOSTED_PATH) {
                // The ImplicitlyCreated @context the subscription's jsonldContext names was
                // made from the creating request's inline one, kept as `context`: registered
                // again (after a restart, or an eviction) before it is read by its URL.
                let (_, used) = self
                    .contexts
                    .resolve(ContextSource::Inline(inline.clone()), base)
                    .await?;
                self.contexts.register(tenant, used);
            }
        }
        let (ctx, used) = self
            .contexts
            .resolve(notification_context(&sub), base)
            .await?;
        self.engine.upsert(tenant.name(), sub, ctx.active).await?;
        self.contexts.register(tenant, used);
        Ok(())
    }

    async fn load(&self, tenant: &Tenant, id: &str) -> BrokerResult<Subscription> {
        let doc = self
            .store
            .get_document(tenant, DocumentKind::Subscription, id)
            .await?
            .ok_or_else(|| BrokerError::NotFound(format!("subscription '{id}' not found")))?;
        serde_json::from_value(doc).map_err(|e| {
            BrokerError::Store(StoreError::Corrupt(format!("subscription '{id}': {e}")))
        })
    }

    async fn save(&self, tenant: &Tenant, sub: &Subscription) -> BrokerResult<()> {
        let doc = serde_json::to_value(sub).map_err(|e| {
            BrokerError::Store(StoreError::Backend(format!("encoding a subscription: {e}")))
        })?;
        self.store
            .put_document(tenant, DocumentKind::Subscription, &sub.id, doc)
            .await?;
        Ok(())
    }

    async fn view(
        &self,
        tenant: &Tenant,
        subscription: Subscription,
        others: Option<&OtherInstances>,
    ) -> SubscriptionView {
        let local = self.engine.status(tenant.name(), &subscription.id).await;
        let status = match others {
            Some(others) => others.add_to(&subscription.id, local),
            None => local,
        };
        SubscriptionView {
            subscription,
            status,
            at: self.clock.now(),
        }
    }

    /// With a store shared by several instances, what the others sent (a read failure only
    /// costs their part of the counters, so it is logged, not returned).
    async fn other_instances(&self, tenant: &Tenant) -> Option<OtherInstances> {
        let shared = self.delivery.as_ref()?;
        match shared.others(tenant).await {
            Ok(others) => Some(others),
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "other instances' delivery status unreadable");
                None
            }
        }
    }
}

/// The @context a subscription's notifications are compacted with: its `jsonldContext`, else
/// the context of the request that created it.
fn notification_context(sub: &Subscription) -> ContextSource {
    if let Some(url) = &sub.jsonld_context {
        return ContextSource::Link(url.clone());
    }
    match &sub.context {
        Value::Null => ContextSource::Core,
        Value::String(url) => ContextSource::Link(url.clone()),
        other => ContextSource::Inline(other.clone()),
    }
}
