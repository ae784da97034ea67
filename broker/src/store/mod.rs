//! Storage: one [`Store`] trait that every backend implements (the embedded default store and
//! MongoDB), so the HTTP layer and the subscription engine never know which one runs.
//!
//! The store is deliberately dumb about NGSI-LD semantics: it keeps whole entities under
//! optimistic versioning, answers queries, and makes writes durable before acknowledging them.
//! What an update *means* (merge, append, replace ...) is decided above it, as a pure function
//! from the current entity to the new one; the caller then commits the result with a
//! precondition on the version it read, and retries on conflict. That keeps every backend small
//! and the semantics in one place.

pub mod embedded;
pub mod mongo;
mod query;
pub mod temporal;
mod tenant;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ngsi_types::{AttributeKind, Entity};

pub use query::{EntityFilter, EntityQuery, EntitySelector};
pub use temporal::{
    RecordMode, TemporalOp, TemporalOutcome, TemporalPage, TemporalSelection, TemporalWrite,
};
pub use tenant::Tenant;

/// An entity as stored, with the version that optimistic concurrency checks against.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// Starts at 1 on creation and grows by one on every committed write.
    pub version: u64,
    pub entity: Entity,
}

/// What must hold for a [`Write`] to be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// The entity must not exist (creation).
    Absent,
    /// The entity must exist at exactly this version (read-modify-write).
    Version(u64),
    /// No condition (blind upsert or delete).
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteAction {
    /// Store this entity under its id (insert or replace).
    Put(Entity),
    /// Remove the entity.
    Delete,
}

/// One entity-level write. Writes are atomic per entity: either all of it is stored or none.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub id: String,
    pub precondition: Precondition,
    pub action: WriteAction,
    /// What the write adds to the entity's temporal evolution, applied with it (in the same
    /// transaction where the backend has them) and only if the write is applied.
    pub history: Option<TemporalOp>,
}

/// The result of one [`Write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Applied; the entity now has this version (for a delete: the version it had).
    Applied { version: u64 },
    /// The precondition failed; nothing was written. `current` is the stored version, if any.
    Conflict { current: Option<u64> },
}

/// One page of a query's results, in creation order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryPage {
    pub entities: Vec<Entity>,
    /// The number of matching entities over all pages, when the query asked for it.
    pub total: Option<u64>,
}

/// What `/types` reports about one entity type (clause 5.7.5-5.7.7).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypeSummary {
    /// Expanded type name.
    pub name: String,
    pub entity_count: u64,
    /// Expanded attribute names seen on entities of this type, with the kinds seen.
    pub attributes: BTreeMap<String, BTreeSet<AttributeKindName>>,
}

/// What `/attributes` reports about one attribute (clause 5.7.8-5.7.10).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttributeSummary {
    /// Expanded attribute name.
    pub name: String,
    /// Number of entities that have it.
    pub attribute_count: u64,
    /// Kinds of the attribute seen (Property, Relationship, ...).
    pub kinds: BTreeSet<AttributeKindName>,
    /// Expanded types of the entities that have it.
    pub types: BTreeSet<String>,
}

/// [`AttributeKind`] in an ordered set (by its `type` member name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeKindName(pub &'static str);

impl From<AttributeKind> for AttributeKindName {
    fn from(kind: AttributeKind) -> Self {
        Self(kind.as_str())
    }
}

/// Storage failures. NGSI-LD level errors (not found, already exists) are not here: the store
/// reports them as `None` and [`WriteOutcome::Conflict`], and the caller decides what they mean.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or is shutting down (503).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The backend failed (500). The message says what failed, never with a secret.
    #[error("storage failure: {0}")]
    Backend(String),
    /// Stored data could not be decoded (500).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Kinds of non-entity documents a tenant owns (JSON kept as the API gives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentKind {
    Subscription,
    JsonLdContext,
    Registration,
    /// A subscription's delivery status as one broker instance last published it.
    DeliveryStatus,
    /// The broker's Context Source alias (`/info/sourceIdentity`), in the default tenant.
    SourceIdentity,
    /// A Context Source Registration Subscription (clause 5.11).
    CsourceSubscription,
}

/// The storage interface every backend implements. All methods are per tenant; a tenant exists
/// once something was written to it.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The entity with this id, and its version.
    async fn get(&self, tenant: &Tenant, id: &str) -> StoreResult<Option<Versioned>>;

    /// Applies writes, each atomically and independently (a conflict on one does not stop the
    /// others), and returns once all applied writes are durable. Outcomes are in input order.
    async fn commit(&self, tenant: &Tenant, writes: Vec<Write>) -> StoreResult<Vec<WriteOutcome>>;

    /// Entities matching the query, in creation order, paginated.
    async fn query(&self, tenant: &Tenant, query: &EntityQuery) -> StoreResult<QueryPage>;

    /// Per-type summaries for `/types`.
    async fn types(&self, tenant: &Tenant) -> StoreResult<Vec<TypeSummary>>;

    /// Per-attribute summaries for `/attributes`.
    async fn attributes(&self, tenant: &Tenant) -> StoreResult<Vec<AttributeSummary>>;

    /// True if anything was ever written to the tenant (the default tenant always exists).
    async fn tenant_exists(&self, tenant: &Tenant) -> StoreResult<bool>;

    /// Ids of transient entities whose `expiresAt` is at or before `now`, over all tenants.
    async fn expired(&self, now: DateTime<Utc>) -> StoreResult<Vec<(Tenant, String)>>;

    /// Stores a document (subscription, hosted @context, ...) durably, replacing any with the id.
    async fn put_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
        doc: serde_json::Value,
    ) -> StoreResult<()>;

    async fn get_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
    ) -> StoreResult<Option<serde_json::Value>>;

    /// Removes a document; true if it existed.
    async fn delete_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
    ) -> StoreResult<bool>;

    /// All documents of a kind in a tenant, in id order.
    async fn list_documents(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
    ) -> StoreResult<Vec<(String, serde_json::Value)>>;

    /// Applies writes to temporal evolutions alone (the temporal API), each atomically and
    /// independently; returns once all applied writes are durable. Outcomes in input order.
    async fn temporal_commit(
        &self,
        tenant: &Tenant,
        writes: Vec<TemporalWrite>,
    ) -> StoreResult<Vec<TemporalOutcome>>;

    /// The temporal evolutions a selection asks for, one page, in id order.
    async fn temporal_query(
        &self,
        tenant: &Tenant,
        selection: &TemporalSelection,
    ) -> StoreResult<TemporalPage>;

    /// Retention: drops at most `max` attribute instances, over every tenant, whose
    /// observedAt (else createdAt) is before `before`; returns how many went. Callers repeat
    /// it while it returns `max`, so no single call holds the store for long.
    async fn temporal_expire(&self, before: DateTime<Utc>, max: usize) -> StoreResult<u64>;

    /// Every tenant that exists (for start-up tasks such as reloading subscriptions).
    async fn tenants(&self) -> StoreResult<Vec<Tenant>>;

    /// Claims `key` for this broker instance, once: true for the first caller, false for every
    /// later one, whichever instance sharing the store makes it. Periodic notifications claim
    /// their time slot so that instances sharing a database send each one once.
    async fn claim(&self, tenant: &Tenant, key: &str) -> StoreResult<bool>;

    /// Fails when the store cannot serve requests now (the health check): the database is
    /// unreachable, or the store was closed.
    async fn check(&self) -> StoreResult<()>;

    /// Makes everything durable and stops accepting writes (graceful shutdown).
    async fn close(&self) -> StoreResult<()>;
}
