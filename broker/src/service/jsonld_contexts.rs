//! `/jsonldContexts` operations (clause 5.13): @contexts clients store here (Hosted, kept as
//! documents of their tenant so they survive restarts and are shared by the instances of one
//! MongoDB), and the Cached and ImplicitlyCreated ones the resolver keeps, listed, served,
//! deleted or reloaded. The registry is the resolver's too: a hosted context is read from it,
//! never fetched.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::clock::Clock;
use crate::contexts::{ContextEntry, ContextKind, ContextService, Forgotten, HOSTED_PATH};
use crate::error::{BrokerError, BrokerResult};
use crate::store::{DocumentKind, Store, Tenant};

#[derive(Debug, Clone)]
pub struct JsonLdContexts {
    store: Arc<dyn Store>,
    contexts: Arc<ContextService>,
    clock: Clock,
}

impl JsonLdContexts {
    pub fn new(store: Arc<dyn Store>, contexts: Arc<ContextService>, clock: Clock) -> Self {
        Self {
            store,
            contexts,
            clock,
        }
    }

    /// Add @context (5.13.2): `document` is a JSON-LD document whose `@context` member is the
    /// thing stored, after it was processed (so what it references is reachable). It is
    /// served at `base` + [`HOSTED_PATH`] + the local id this returns.
    pub async fn add(&self, tenant: &Tenant, document: Value, base: &str) -> BrokerResult<String> {
        // GS CIM 009 5.13.2.4 with 5.5.4: a body that is not an object with an @context
        // member is the wrong request (InvalidRequest); an @context member that is not a
        // context is bad data (BadRequestData).
        let context = document.get("@context").ok_or_else(|| {
            BrokerError::InvalidRequest(
                "the body must be a JSON object with an @context member".into(),
            )
        })?;
        if !(context.is_object() || context.is_array() || context.is_string()) {
            return Err(BrokerError::BadRequestData(format!(
                "@context: {context} is not a context (an IRI, an object or an array of them)"
            )));
        }
        let used = self.contexts.validate(context).await?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let url = format!("{base}{HOSTED_PATH}{id}");
        let created_at = self.clock.now();
        let stored = json!({
            "url": url,
            "document": document,
            "createdAt": ngsi_types::datetime::format_datetime(&created_at),
        });
        self.store
            .put_document(tenant, DocumentKind::JsonLdContext, &id, stored)
            .await?;
        self.register(tenant, id.clone(), url, document, created_at);
        self.contexts.record(tenant, used);
        Ok(id)
    }

    /// List @contexts (5.13.4): those the tenant sees, optionally of one kind.
    pub fn list(&self, tenant: &Tenant, kind: Option<ContextKind>) -> Vec<ContextEntry> {
        self.contexts.registry().list(tenant, kind)
    }

    /// The entry with this local id (or, for a Cached one, original URL), if the tenant sees
    /// it: the details of Serve @context (5.13.4).
    pub fn get(&self, tenant: &Tenant, id: &str) -> BrokerResult<ContextEntry> {
        self.contexts
            .registry()
            .get(tenant, id)
            .ok_or_else(|| BrokerError::NotFound(format!("no @context with id '{id}'")))
    }

    /// Serve @context (5.13.4.4): the document of a Hosted @context to its tenant, of an
    /// ImplicitlyCreated one to whoever has its URL (a notification's receiver has no tenant);
    /// a Cached one is only described (`details=true`), not served.
    pub fn serve(&self, tenant: &Tenant, id: &str) -> BrokerResult<Arc<Value>> {
        if let Some(document) = self.contexts.registry().implicit_document(id) {
            return Ok(document);
        }
        let entry = self.get(tenant, id)?;
        if entry.kind == ContextKind::Cached {
            return Err(BrokerError::NotSupported(format!(
                "'{}' is a Cached @context: fetch it from its URL, or ask for details=true",
                entry.url
            )));
        }
        entry
            .document
            .ok_or_else(|| BrokerError::NotFound(format!("no @context with id '{id}'")))
    }

    /// The document of an ImplicitlyCreated @context, whoever asks.
    pub fn serve_implicit(&self, id: &str) -> Option<Arc<Value>> {
        self.contexts.registry().implicit_document(id)
    }

    /// Delete and Reload @context (5.13.5): removes a Hosted one; forgets (or with `reload`
    /// fetches again) a Cached one.
    pub async fn delete(&self, tenant: &Tenant, id: &str, reload: bool) -> BrokerResult<()> {
        let entry = self.get(tenant, id)?;
        if entry.is_core() {
            // The core context is built in (6.3.4 requires knowing it offline) and protected
            // (CR 174): it cannot be removed, and "reloading" it leaves the built-in one.
            if reload {
                return Ok(());
            }
            return Err(BrokerError::BadRequestData(
                "the NGSI-LD core @context cannot be deleted".into(),
            ));
        }
        if reload {
            // 5.13.5.4: only a Cached @context can be reloaded; it is fetched again before
            // anything is removed, and kept as it was when that fails (LdContextNotAvailable).
            if entry.kind != ContextKind::Cached {
                return Err(BrokerError::BadRequestData(format!(
                    "a {} @context cannot be reloaded, only a Cached one",
                    entry.kind.as_str()
                )));
            }
            return self.contexts.reload(&entry.url).await;
        }
        if entry.kind == ContextKind::Hosted {
            self.store
                .delete_document(tenant, DocumentKind::JsonLdContext, &entry.id)
                .await?;
            self.contexts.registry().remove_hosted(&entry.id);
            self.contexts.invalidate(&entry.url);
            return Ok(());
        }
        // A Cached or ImplicitlyCreated one is only this tenant's view of a shared resource:
        // its use goes, and what was built from the document only when no tenant uses it.
        match self.contexts.registry().forget(tenant, &entry.id) {
            Some(Forgotten::Entirely { url }) => self.contexts.invalidate(&url),
            Some(Forgotten::ForTenant) => {}
            None => return Err(BrokerError::NotFound(format!("no @context with id '{id}'"))),
        }
        Ok(())
    }

    /// Loads every stored Hosted @context into the registry (start-up).
    pub async fn restore(&self) -> BrokerResult<()> {
        for tenant in self.store.tenants().await? {
            for (id, doc) in self
                .store
                .list_documents(&tenant, DocumentKind::JsonLdContext)
                .await?
            {
                self.hosted(&tenant, id, &doc);
            }
        }
        Ok(())
    }

    /// Registers a Hosted @context as stored (restored, or added by another instance).
    pub fn hosted(&self, tenant: &Tenant, id: String, doc: &Value) {
        let created_at = doc["createdAt"]
            .as_str()
            .and_then(ngsi_types::datetime::parse_datetime)
            .unwrap_or_else(|| self.clock.now());
        let url = doc["url"].as_str().unwrap_or_default().to_owned();
        self.register(tenant, id, url, doc["document"].clone(), created_at);
    }

    fn register(
        &self,
        tenant: &Tenant,
        id: String,
        url: String,
        document: Value,
        created_at: DateTime<Utc>,
    ) {
        self.contexts
            .registry()
            .insert_hosted(tenant, id, url, Arc::new(document), created_at);
    }

    /// Forgets a Hosted @context another instance deleted.
    pub fn forget(&self, id: &str) {
        self.contexts.registry().remove_hosted(id);
    }
}
