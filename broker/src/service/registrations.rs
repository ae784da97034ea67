//! Context source registrations (GS CIM 009 clause 5.9, 5.10): a registration is read and
//! checked by `ngsi_types::registration`, kept as a `Registration` document of its tenant, and
//! discovered by reading the tenant's documents and matching each (clause 5.12). Nothing is
//! forwarded to the registered sources yet: distributed operations (4.3) are later work.
//!
//! The proxied registration rules (4.3.6.3) need the tenant's other registrations and the
//! entities the broker holds; creations and updates of this instance are serialized so that
//! two overlapping exclusive registrations cannot both pass the check.
//!
//! Every registration committed (created, updated, deleted, expired) is handed to the
//! [`CsourceNotifier`], which tells the csource subscriptions it concerns (clause 5.11.7).

use std::sync::Arc;

use ngsi_types::context::ActiveContext;
use ngsi_types::registration::{proxied, CSourceRegistration, RegistrationQuery};
use tokio::sync::Mutex;

use super::clock::Clock;
use super::csource_subscriptions::CsourceNotifier;
use super::tenancy::require_tenant;
use crate::error::{BrokerError, BrokerResult};
use crate::store::{DocumentKind, EntityQuery, Store, StoreError, Tenant};

/// One page of discovered registrations, and how many match in all.
#[derive(Debug)]
pub struct RegistrationPage {
    pub registrations: Vec<CSourceRegistration>,
    pub total: u64,
}

#[derive(Debug, Clone)]
pub struct Registrations {
    store: Arc<dyn Store>,
    clock: Clock,
    /// Held while a proxied registration is checked and written.
    writes: Arc<Mutex<()>>,
    notifier: Option<CsourceNotifier>,
}

impl Registrations {
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Self {
        Self {
            store,
            clock,
            writes: Arc::new(Mutex::new(())),
            notifier: None,
        }
    }

    /// Registration changes go to `notifier` from now on.
    pub fn with_notifier(mut self, notifier: CsourceNotifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// The tenant's registrations that have not expired, in id order (for the csource
    /// subscriptions' notification of what they match now).
    pub async fn current_of(&self, tenant: &Tenant) -> BrokerResult<Vec<CSourceRegistration>> {
        self.current(tenant).await
    }

    fn changed(
        &self,
        tenant: &Tenant,
        before: Option<CSourceRegistration>,
        after: Option<CSourceRegistration>,
    ) {
        if let Some(n) = &self.notifier {
            n.changed(tenant, before, after);
        }
    }

    /// Register Context Source (5.9.2) from its API form, read with the request's @context;
    /// returns its id.
    pub async fn create(
        &self,
        tenant: &Tenant,
        body: &serde_json::Value,
        ctx: &ActiveContext,
    ) -> BrokerResult<String> {
        let generated = format!(
            "urn:ngsi-ld:ContextSourceRegistration:{}",
            uuid::Uuid::new_v4()
        );
        let reg = CSourceRegistration::parse(body, ctx, generated, self.clock.now())?;
        let _guard = self.writes.lock().await;
        // GS CIM 009 5.9.2.4: an id the broker knows is AlreadyExists. An expired
        // registration is gone (it is deleted when its time is reached).
        if self.find(tenant, &reg.id).await?.is_some() {
            return Err(BrokerError::AlreadyExists(format!(
                "context source registration '{}' already exists",
                reg.id
            )));
        }
        self.check_proxied(tenant, &reg).await?;
        self.save(tenant, &reg).await?;
        let id = reg.id.clone();
        self.changed(tenant, None, Some(reg));
        Ok(id)
    }

    /// Update Context Source Registration (5.9.3): the fragment, read with the request's
    /// @context, is merged into the stored registration.
    pub async fn update(
        &self,
        tenant: &Tenant,
        id: &str,
        fragment: &serde_json::Value,
        ctx: &ActiveContext,
    ) -> BrokerResult<()> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let _guard = self.writes.lock().await;
        let current = self.load(tenant, id).await?;
        let updated = current.patch(fragment, ctx, self.clock.now())?;
        self.check_proxied(tenant, &updated).await?;
        self.save(tenant, &updated).await?;
        self.changed(tenant, Some(current), Some(updated));
        Ok(())
    }

    /// Delete Context Source Registration (5.9.4).
    pub async fn delete(&self, tenant: &Tenant, id: &str) -> BrokerResult<()> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let existing = self.find(tenant, id).await?;
        let existed = self
            .store
            .delete_document(tenant, DocumentKind::Registration, id)
            .await?;
        if let (true, Some(before)) = (existed, existing) {
            self.changed(tenant, Some(before), None);
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Retrieve Context Source Registration (5.10.1).
    pub async fn retrieve(&self, tenant: &Tenant, id: &str) -> BrokerResult<CSourceRegistration> {
        require_tenant(self.store.as_ref(), tenant).await?;
        self.load(tenant, id).await
    }

    /// Query Context Source Registrations (5.10.2): the matching registrations, a page in id
    /// order.
    pub async fn query(
        &self,
        tenant: &Tenant,
        query: &RegistrationQuery,
        ctx: &ActiveContext,
        offset: usize,
        limit: usize,
    ) -> BrokerResult<RegistrationPage> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let matching: Vec<CSourceRegistration> = self
            .current(tenant)
            .await?
            .into_iter()
            .filter(|r| query.matches(r, ctx))
            .collect();
        let total = matching.len() as u64;
        Ok(RegistrationPage {
            registrations: matching.into_iter().skip(offset).take(limit).collect(),
            total,
        })
    }

    /// Drops the registrations whose `expiresAt` has passed, in every tenant (5.9.2.4: the
    /// broker deletes a registration when its time is reached); returns how many went.
    pub async fn expire(&self) -> BrokerResult<usize> {
        let now = self.clock.now();
        let mut removed = 0;
        for tenant in self.store.tenants().await? {
            for (id, doc) in self
                .store
                .list_documents(&tenant, DocumentKind::Registration)
                .await?
            {
                let Some(reg) = serde_json::from_value::<CSourceRegistration>(doc)
                    .ok()
                    .filter(|r| r.is_expired(now))
                else {
                    continue;
                };
                if self
                    .store
                    .delete_document(&tenant, DocumentKind::Registration, &id)
                    .await?
                {
                    removed += 1;
                    self.changed(&tenant, Some(reg), None);
                }
            }
        }
        Ok(removed)
    }

    /// GS CIM 009 4.3.6.3, 5.9.2.4, 5.9.3.4: a proxied registration that overlaps another
    /// proxied one, or covers data this broker holds, is a Conflict.
    async fn check_proxied(&self, tenant: &Tenant, reg: &CSourceRegistration) -> BrokerResult<()> {
        if !reg.mode().is_proxied() {
            return Ok(());
        }
        if let Some(other) = self
            .current(tenant)
            .await?
            .into_iter()
            .find(|other| proxied::conflicts(reg, other))
        {
            return Err(BrokerError::Conflict(format!(
                "'{}' overlaps the {} registration '{}' (GS CIM 009 4.3.6.3)",
                reg.id,
                other.mode().as_str(),
                other.id
            )));
        }
        for (filter, attrs) in proxied::candidate_filters(reg) {
            let mut query = EntityQuery::filtered(filter);
            query.any_attribute = attrs;
            query.limit = 1;
            let page = self.store.query(tenant, &query).await?;
            if let Some(entity) = page
                .entities
                .iter()
                .find(|e| proxied::holds_registered_data(reg, e))
            {
                return Err(BrokerError::Conflict(format!(
                    "the broker holds entity '{}', which the {} registration '{}' registers \
                     (GS CIM 009 5.9.2.4)",
                    entity.id,
                    reg.mode().as_str(),
                    reg.id
                )));
            }
        }
        Ok(())
    }

    /// The tenant's registrations that have not expired, in id order.
    async fn current(&self, tenant: &Tenant) -> BrokerResult<Vec<CSourceRegistration>> {
        let now = self.clock.now();
        let docs = self
            .store
            .list_documents(tenant, DocumentKind::Registration)
            .await?;
        let mut out = Vec::with_capacity(docs.len());
        for (id, doc) in docs {
            match serde_json::from_value::<CSourceRegistration>(doc) {
                Ok(reg) if !reg.is_expired(now) => out.push(reg),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(%tenant, %id, error = %e, "stored registration does not decode; skipped")
                }
            }
        }
        Ok(out)
    }

    /// The registration with this id, unless it expired.
    async fn find(&self, tenant: &Tenant, id: &str) -> BrokerResult<Option<CSourceRegistration>> {
        let Some(doc) = self
            .store
            .get_document(tenant, DocumentKind::Registration, id)
            .await?
        else {
            return Ok(None);
        };
        let reg: CSourceRegistration = serde_json::from_value(doc).map_err(|e| {
            BrokerError::Store(StoreError::Corrupt(format!("registration '{id}': {e}")))
        })?;
        Ok((!reg.is_expired(self.clock.now())).then_some(reg))
    }

    async fn load(&self, tenant: &Tenant, id: &str) -> BrokerResult<CSourceRegistration> {
        self.find(tenant, id).await?.ok_or_else(|| not_found(id))
    }

    async fn save(&self, tenant: &Tenant, reg: &CSourceRegistration) -> BrokerResult<()> {
        let doc = serde_json::to_value(reg).map_err(|e| {
            BrokerError::Store(StoreError::Backend(format!("encoding a registration: {e}")))
        })?;
        self.store
            .put_document(tenant, DocumentKind::Registration, &reg.id, doc)
            .await?;
        Ok(())
    }
}

fn not_found(id: &str) -> BrokerError {
    BrokerError::NotFound(format!("context source registration '{id}' not found"))
}
