//! The MongoDB backend: for deployments that keep their state in MongoDB, and for several
//! broker instances sharing one database (a replica set or a sharded cluster).
//!
//! One database per tenant ([`names`], [`tenants`]), in it the collections `entities`,
//! `subscriptions`, `contexts`, `registrations`, `claims` (see [`Store::claim`]), and
//! `temporalEntities` and `temporalInstances` for the temporal evolution ([`temporal`]). An
//! entity is one document ([`document`]), so every entity write is atomic by MongoDB's
//! single-document guarantee, and optimistic versioning is a filter on the version field: a
//! write that lost a race matches nothing and is reported as a conflict, never half-applied
//! ([`write`]). Queries are translated ([`filter`]) so that MongoDB filters, sorts, skips,
//! limits and counts whenever the translation is exact ([`query`]).
//!
//! The temporal evolution spans documents: an entity write and its history, and each temporal
//! write, run in a multi-document transaction where the deployment has them (a replica set or
//! a sharded cluster). A standalone server has none; there the history follows the entity
//! write, with the crash windows [`temporal`] lists.
//!
//! Writes use write concern `majority` with journaling unless the connection string says
//! otherwise: an acknowledged write survives the crash of the broker and of the database
//! primary. An unreachable database fails requests after the server selection timeout
//! (503, `--mongo-timeout-ms`); the driver reconnects by itself when it comes back.
//!
//! Documents (subscriptions, @contexts) are stored as JSON text beside their id
//! ([`json_documents`]): they are read and written whole, never queried, and JSON text keeps
//! them exactly as the API returns them. [`watch`] follows their changes with a change stream
//! so that every instance knows every subscription.
//!
//! Files: this one (the store, opening it, and the [`Store`] impl, which delegates), [`write`]
//! and [`query`] (entities), [`temporal`] (their evolution), [`summary`] (`/types`,
//! `/attributes`), [`transaction`], [`json_documents`],
//! [`claim`], [`tenants`] and [`setup`] (databases and their indexes), [`document`], [`filter`]
//! and [`names`] (what MongoDB stores and is asked), [`error`], [`watch`].

/// Runs a driver action, in the session (an `Option<&mut ClientSession>`) when there is one.
macro_rules! in_session {
    ($action:expr, $session:expr) => {
        match $session.as_deref_mut() {
            Some(session) => $action.session(session).await,
            None => $action.await,
        }
    };
}

mod claim;
mod document;
mod error;
mod filter;
mod json_documents;
mod names;
mod query;
mod setup;
mod summary;
mod temporal;
mod tenants;
mod transaction;
mod watch;
mod write;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Document};
use mongodb::options::{Acknowledgment, ClientOptions, WriteConcern};
use mongodb::{Client, Collection, Database};

use self::error::store_error;
use super::{
    AttributeSummary, DocumentKind, EntityQuery, QueryPage, Store, StoreError, StoreResult,
    TemporalOutcome, TemporalPage, TemporalSelection, TemporalWrite, Tenant, TypeSummary,
    Versioned, Write, WriteOutcome,
};
pub use watch::DocumentChange;

/// How to reach MongoDB.
#[derive(Debug, Clone)]
pub struct MongoConfig {
    /// Connection string (`mongodb://host:port/?replicaSet=rs0`).
    pub url: String,
    /// Database name of the default tenant; tenant `t` uses `<prefix>-t`.
    pub db_prefix: String,
    /// How long a request waits for a reachable server before failing with 503.
    pub timeout: Duration,
}

/// A [`Store`] on MongoDB.
#[derive(Debug, Clone)]
pub struct MongoStore {
    client: Client,
    prefix: String,
    setup: Arc<setup::Setup>,
    clock: Arc<write::CreationClock>,
    /// Whether the deployment has multi-document transactions (a replica set or a sharded
    /// cluster; a standalone server has none), learnt when opening.
    transactions: bool,
}

impl MongoStore {
    /// Connects, learns whether the deployment has transactions, and prepares the indexes of
    /// every existing tenant database. Fails when MongoDB cannot be reached within the timeout.
    pub async fn open(config: MongoConfig) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(&config.url)
            .await
            .map_err(|e| StoreError::Backend(format!("invalid MongoDB URL: {e}")))?;
        options.app_name.get_or_insert_with(|| "oxion".to_owned());
        options.server_selection_timeout = Some(config.timeout);
        options.connect_timeout.get_or_insert(config.timeout);
        options.write_concern.get_or_insert_with(|| {
            WriteConcern::builder()
                .w(Acknowledgment::Majority)
                .journal(true)
                .build()
        });
        let client = Client::with_options(options)
            .map_err(|e| StoreError::Backend(format!("MongoDB client: {e}")))?;
        let hello = client
            .database("admin")
            .run_command(doc! { "hello": 1 })
            .await
            .map_err(|e| store_error("connecting", e))?;
        let transactions = has_transactions(&hello);
        if !transactions {
            tracing::warn!(
                "MongoDB is a standalone server, without transactions: the temporal evolution \
                 is written after each entity write, not with it"
            );
        }
        let store = Self {
            client,
            prefix: config.db_prefix,
            setup: Arc::new(setup::Setup::default()),
            clock: Arc::new(write::CreationClock::default()),
            transactions,
        };
        for tenant in tenants::list(&store).await? {
            if tenants::database_exists(&store, &tenant).await? {
                tenants::ensure(&store, &tenant).await?;
            }
        }
        Ok(store)
    }

    /// The same store, told the deployment has no transactions (to test that path on a
    /// server that has them).
    #[cfg(test)]
    pub fn without_transactions(mut self) -> Self {
        self.transactions = false;
        self
    }

    /// Changes other instances (and this one) make to subscriptions and @contexts.
    pub fn watch_documents(&self) -> tokio::sync::mpsc::Receiver<DocumentChange> {
        watch::spawn(self.client.clone(), self.prefix.clone())
    }

    fn database(&self, tenant: &Tenant) -> Database {
        self.client.database(&names::database(&self.prefix, tenant))
    }

    fn entities(&self, tenant: &Tenant) -> Collection<Document> {
        self.database(tenant).collection(names::ENTITIES)
    }
}

/// True if the server answering `hello` runs transactions: a replica set member (it names
/// its set) or a mongos router (`msg: isdbgrid`).
fn has_transactions(hello: &Document) -> bool {
    hello.contains_key("setName") || hello.get_str("msg") == Ok("isdbgrid")
}

#[async_trait]
impl Store for MongoStore {
    async fn get(&self, tenant: &Tenant, id: &str) -> StoreResult<Option<Versioned>> {
        query::entity(self, tenant, id).await
    }

    async fn commit(&self, tenant: &Tenant, writes: Vec<Write>) -> StoreResult<Vec<WriteOutcome>> {
        write::commit(self, tenant, writes).await
    }

    async fn query(&self, tenant: &Tenant, query: &EntityQuery) -> StoreResult<QueryPage> {
        query::run(self, tenant, query).await
    }

    async fn types(&self, tenant: &Tenant) -> StoreResult<Vec<TypeSummary>> {
        summary::types(self, tenant).await
    }

    async fn attributes(&self, tenant: &Tenant) -> StoreResult<Vec<AttributeSummary>> {
        summary::attributes(self, tenant).await
    }

    async fn tenant_exists(&self, tenant: &Tenant) -> StoreResult<bool> {
        tenants::exists(self, tenant).await
    }

    async fn expired(&self, now: DateTime<Utc>) -> StoreResult<Vec<(Tenant, String)>> {
        query::expired(self, now).await
    }

    async fn put_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
        doc: serde_json::Value,
    ) -> StoreResult<()> {
        json_documents::put(self, tenant, kind, id, doc).await
    }

    async fn get_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
    ) -> StoreResult<Option<serde_json::Value>> {
        json_documents::get(self, tenant, kind, id).await
    }

    async fn delete_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
    ) -> StoreResult<bool> {
        json_documents::delete(self, tenant, kind, id).await
    }

    async fn list_documents(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
    ) -> StoreResult<Vec<(String, serde_json::Value)>> {
        json_documents::list(self, tenant, kind).await
    }

    async fn temporal_commit(
        &self,
        tenant: &Tenant,
        writes: Vec<TemporalWrite>,
    ) -> StoreResult<Vec<TemporalOutcome>> {
        temporal::commit(self, tenant, writes).await
    }

    async fn temporal_query(
        &self,
        tenant: &Tenant,
        selection: &TemporalSelection,
    ) -> StoreResult<TemporalPage> {
        temporal::query(self, tenant, selection).await
    }

    async fn temporal_expire(&self, before: DateTime<Utc>, max: usize) -> StoreResult<u64> {
        temporal::expire(self, before, max.max(1)).await
    }

    async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        tenants::list(self).await
    }

    async fn claim(&self, tenant: &Tenant, key: &str) -> StoreResult<bool> {
        claim::claim(self, tenant, key).await
    }

    async fn check(&self) -> StoreResult<()> {
        self.client
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|e| store_error("ping", e))?;
        Ok(())
    }

    async fn close(&self) -> StoreResult<()> {
        // Every acknowledged write is already durable in MongoDB; nothing to flush.
        Ok(())
    }
}

#[cfg(test)]
pub mod test_server;
#[cfg(test)]
mod tests;
