//! The MongoDB backend: for deployments that keep their state in MongoDB, and for several
//! broker instances sharing one database (a replica set or a sharded cluster).
//!
//! One database per tenant ([`names`]), in it the collections `entities`, `subscriptions`,
//! `contexts`, `registrations` and `claims` (see [`Store::claim`]). An entity is one document ([`document`]), so
//! every entity write is atomic by MongoDB's single-document guarantee, and optimistic
//! versioning is a filter on the version field: a write that lost a race matches nothing and is
//! reported as a conflict, never half-applied. Queries are translated ([`filter`]) so that
//! MongoDB filters, sorts, skips, limits and counts whenever the translation is exact.
//!
//! Writes use write concern `majority` with journaling unless the connection string says
//! otherwise: an acknowledged write survives the crash of the broker and of the database
//! primary. An unreachable database fails requests after the server selection timeout
//! (503, `--mongo-timeout-ms`); the driver reconnects by itself when it comes back.
//!
//! Documents (subscriptions, @contexts) are stored as JSON text beside their id: they are read
//! and written whole, never queried, and JSON text keeps them exactly as the API returns them.
//! [`watch`] follows their changes with a change stream so that every instance knows every
//! subscription.

mod document;
mod error;
mod filter;
mod names;
mod setup;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::{Acknowledgment, ClientOptions, ReturnDocument, WriteConcern};
use mongodb::{Client, Collection, Database};
use ngsi_types::AttributeKind;

use self::error::{store_error, DUPLICATE_KEY};
use self::filter::Translation;
use super::{
    AttributeKindName, AttributeSummary, DocumentKind, EntityQuery, Precondition, QueryPage, Store,
    StoreError, StoreResult, Tenant, TypeSummary, Versioned, Write, WriteAction, WriteOutcome,
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

/// Entities are read with these fields only (the others are for MongoDB's filters).
fn read_projection() -> Document {
    doc! { "v": 1, "body": 1 }
}

/// A [`Store`] on MongoDB.
#[derive(Debug, Clone)]
pub struct MongoStore {
    client: Client,
    prefix: String,
    setup: Arc<setup::Setup>,
    clock: Arc<CreationClock>,
}

/// Creation sequence numbers: microseconds since the epoch, made strictly increasing within
/// this process. Instances sharing a database need no coordination (no counter document every
/// creation would contend on); entities created by two instances in the same microsecond are
/// ordered by id.
#[derive(Debug, Default)]
struct CreationClock(std::sync::atomic::AtomicI64);

impl CreationClock {
    fn next(&self) -> i64 {
        let now = Utc::now().timestamp_micros();
        let mut prev = self.0.load(std::sync::atomic::Ordering::Relaxed);
        loop {
            let next = now.max(prev + 1);
            match self.0.compare_exchange_weak(
                prev,
                next,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(actual) => prev = actual,
            }
        }
    }
}

impl MongoStore {
    /// Connects (lazily: the driver connects on first use) and prepares the indexes of every
    /// existing tenant database. Fails when MongoDB cannot be reached within the timeout.
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
        let store = Self {
            client,
            prefix: config.db_prefix,
            setup: Arc::new(setup::Setup::default()),
            clock: Arc::new(CreationClock::default()),
        };
        for tenant in store.tenants().await? {
            if store.database_exists(&tenant).await? {
                store.ensure_tenant(&tenant).await?;
            }
        }
        Ok(store)
    }

    /// Changes other instances (and this one) make to subscriptions and @contexts.
    pub fn watch_documents(&self) -> tokio::sync::mpsc::Receiver<DocumentChange> {
        watch::spawn(self.client.clone(), self.prefix.clone())
    }

    fn database(&self, tenant: &Tenant) -> Database {
        self.client.database(&names::database(&self.prefix, tenant))
    }

    fn entities(&self, tenant: &Tenant) -> Collection<Document> {
        self.database(tenant).collection("entities")
    }

    fn documents(&self, tenant: &Tenant, kind: DocumentKind) -> Collection<Document> {
        let name = match kind {
            DocumentKind::Subscription => watch::SUBSCRIPTIONS,
            DocumentKind::JsonLdContext => watch::CONTEXTS,
            DocumentKind::Registration => "registrations",
            DocumentKind::DeliveryStatus => "deliveryStatus",
        };
        self.database(tenant).collection(name)
    }

    async fn database_exists(&self, tenant: &Tenant) -> StoreResult<bool> {
        let name = names::database(&self.prefix, tenant);
        let found = self
            .client
            .list_database_names()
            .filter(doc! { "name": &name })
            .await
            .map_err(|e| store_error("listing databases", e))?;
        Ok(!found.is_empty())
    }

    /// Creates the tenant's indexes once per process (idempotent in MongoDB too).
    async fn ensure_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        if self.setup.is_ready(tenant) {
            return Ok(());
        }
        setup::create_indexes(&self.database(tenant)).await?;
        self.setup.mark_ready(tenant);
        Ok(())
    }

    async fn version_of(&self, tenant: &Tenant, id: &str) -> StoreResult<Option<u64>> {
        let found = self
            .entities(tenant)
            .find_one(doc! { "_id": id })
            .projection(doc! { "v": 1 })
            .await
            .map_err(|e| store_error("reading a version", e))?;
        Ok(found.as_ref().and_then(document::version_of))
    }

    async fn apply(
        &self,
        tenant: &Tenant,
        write: Write,
        seq: Option<i64>,
    ) -> StoreResult<WriteOutcome> {
        let entities = self.entities(tenant);
        let id = write.id.as_str();
        let conflict = |current| Ok(WriteOutcome::Conflict { current });
        match (write.action, write.precondition) {
            (WriteAction::Put(entity), Precondition::Absent) => {
                let mut d = doc! { "_id": id, "v": 1_i64, "seq": seq.unwrap_or_default() };
                d.extend(document::fields(&entity)?);
                let inserted = match entities.insert_one(&d).await {
                    Err(e) if error::is_geo_key_error(&e) => {
                        without_geo(&mut d, id);
                        entities.insert_one(&d).await
                    }
                    other => other,
                };
                match inserted {
                    Ok(_) => Ok(WriteOutcome::Applied { version: 1 }),
                    Err(e) if error::code(&e) == Some(DUPLICATE_KEY) => {
                        conflict(self.version_of(tenant, id).await?)
                    }
                    Err(e) => Err(store_error("inserting an entity", e)),
                }
            }
            (WriteAction::Put(entity), Precondition::Version(v)) => {
                // The new version is known: a plain update (cheaper than find-and-modify)
                // that matches only the version read.
                let filter = doc! { "_id": id, "v": v as i64 };
                let mut set = document::fields(&entity)?;
                let update = update_of(&set, entity.expires_at.is_none());
                let updated = match entities.update_one(filter.clone(), update).await {
                    Err(e) if error::is_geo_key_error(&e) => {
                        without_geo(&mut set, id);
                        let update = update_of(&set, entity.expires_at.is_none());
                        entities.update_one(filter, update).await
                    }
                    other => other,
                }
                .map_err(|e| store_error("updating an entity", e))?;
                if updated.matched_count == 1 {
                    Ok(WriteOutcome::Applied { version: v + 1 })
                } else {
                    conflict(self.version_of(tenant, id).await?)
                }
            }
            (WriteAction::Put(entity), Precondition::Any) => {
                // An upsert: the resulting version comes back from the database.
                let filter = doc! { "_id": id };
                let mut set = document::fields(&entity)?;
                let run = |set: &Document| {
                    let mut update = update_of(set, entity.expires_at.is_none());
                    update.insert("$setOnInsert", doc! { "seq": seq.unwrap_or_default() });
                    entities
                        .find_one_and_update(filter.clone(), update)
                        .upsert(true)
                        .projection(doc! { "v": 1 })
                        .return_document(ReturnDocument::After)
                };
                let updated = match run(&set).await {
                    Err(e) if error::is_geo_key_error(&e) => {
                        without_geo(&mut set, id);
                        run(&set).await
                    }
                    other => other,
                }
                .map_err(|e| store_error("upserting an entity", e))?;
                match updated.as_ref().and_then(document::version_of) {
                    Some(version) => Ok(WriteOutcome::Applied { version }),
                    None => Err(StoreError::Backend(format!(
                        "upsert of entity {id} returned no version"
                    ))),
                }
            }
            (WriteAction::Delete, Precondition::Absent) => {
                conflict(self.version_of(tenant, id).await?)
            }
            (WriteAction::Delete, precondition) => {
                let filter = match precondition {
                    Precondition::Version(v) => doc! { "_id": id, "v": v as i64 },
                    _ => doc! { "_id": id },
                };
                let deleted = entities
                    .find_one_and_delete(filter)
                    .projection(doc! { "v": 1 })
                    .await
                    .map_err(|e| store_error("deleting an entity", e))?;
                match deleted.as_ref().and_then(document::version_of) {
                    Some(version) => Ok(WriteOutcome::Applied { version }),
                    None if precondition == Precondition::Any => conflict(None),
                    None => conflict(self.version_of(tenant, id).await?),
                }
            }
        }
    }

    /// Runs a translated query: in MongoDB alone when exact, else narrowed in MongoDB and
    /// decided here, in creation order either way.
    async fn run_query(
        &self,
        tenant: &Tenant,
        query: &EntityQuery,
        t: &Translation,
    ) -> Result<QueryPage, mongodb::error::Error> {
        let entities = self.entities(tenant);
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
}

/// A corrupt document surfaces through the driver's error type inside [`MongoStore::run_query`].
fn corrupt(e: StoreError) -> mongodb::error::Error {
    mongodb::error::Error::custom(Arc::new(e))
}

/// Drops the `geo` index fields after MongoDB refused one of the geometries: the entity is
/// stored whole, and geo-queries will not find it by that GeoProperty.
fn without_geo(d: &mut Document, id: &str) {
    tracing::warn!(
        entity = id,
        "a geometry cannot be indexed by MongoDB; stored without geo index fields"
    );
    d.insert("geo", Document::new());
}

/// `$set` of the derived fields, `$inc` of the version, `$unset` of a dropped `expiresAt`.
fn update_of(set: &Document, unset_expiry: bool) -> Document {
    let mut update = doc! { "$set": set.clone(), "$inc": { "v": 1_i64 } };
    if unset_expiry {
        update.insert("$unset", doc! { "expiresAt": "" });
    }
    update
}

#[async_trait]
impl Store for MongoStore {
    async fn get(&self, tenant: &Tenant, id: &str) -> StoreResult<Option<Versioned>> {
        let found = self
            .entities(tenant)
            .find_one(doc! { "_id": id })
            .projection(read_projection())
            .await
            .map_err(|e| store_error("reading an entity", e))?;
        found.as_ref().map(document::versioned).transpose()
    }

    async fn commit(&self, tenant: &Tenant, writes: Vec<Write>) -> StoreResult<Vec<WriteOutcome>> {
        self.ensure_tenant(tenant).await?;
        // Writes to different entities go to MongoDB concurrently; a batch that writes one
        // entity twice is applied in order, as the embedded store does, so the last one wins.
        let mut ids = std::collections::HashSet::with_capacity(writes.len());
        let in_order = !writes.iter().all(|w| ids.insert(w.id.as_str()));
        let pending = writes.into_iter().map(|w| {
            let seq = match (&w.action, w.precondition) {
                (WriteAction::Put(_), Precondition::Absent | Precondition::Any) => {
                    Some(self.clock.next())
                }
                _ => None,
            };
            self.apply(tenant, w, seq)
        });
        if in_order {
            let mut outcomes = Vec::new();
            for write in pending {
                outcomes.push(write.await?);
            }
            return Ok(outcomes);
        }
        futures_util::future::try_join_all(pending).await
    }

    async fn query(&self, tenant: &Tenant, query: &EntityQuery) -> StoreResult<QueryPage> {
        if query.limit == 0 && !query.count {
            return Ok(QueryPage::default());
        }
        if let Some(g) = query.filter.as_ref().and_then(|f| f.geo_q.as_ref()) {
            self.setup
                .ensure_geo_index(&self.entities(tenant), tenant, &g.geoproperty)
                .await;
        }
        let full = filter::translate(query);
        match self.run_query(tenant, query, &full).await {
            Ok(page) => Ok(page),
            Err(e) if error::code(&e).is_some() => {
                // MongoDB refused part of the translation (a regular expression or geometry it
                // does not accept): narrow by the hints only and decide the rest here.
                tracing::debug!(error = %e, "query translation refused; finishing in the broker");
                self.run_query(tenant, query, &filter::translate_hints(query))
                    .await
                    .map_err(query_error)
            }
            Err(e) => Err(query_error(e)),
        }
    }

    async fn types(&self, tenant: &Tenant) -> StoreResult<Vec<TypeSummary>> {
        let entities = self.entities(tenant);
        let mut by_type: BTreeMap<String, TypeSummary> = BTreeMap::new();
        let counts = aggregate(
            &entities,
            vec![
                doc! { "$unwind": "$types" },
                doc! { "$group": { "_id": "$types", "n": { "$sum": 1 } } },
            ],
        )
        .await?;
        for d in counts {
            let name = d.get_str("_id").unwrap_or_default().to_owned();
            let entry = by_type.entry(name.clone()).or_default();
            entry.name = name;
            entry.entity_count = count_of(&d, "n");
        }
        let attrs = aggregate(
            &entities,
            vec![
                doc! { "$unwind": "$types" },
                doc! { "$unwind": "$attrs" },
                doc! { "$group": { "_id": { "t": "$types", "n": "$attrs.n", "k": "$attrs.k" } } },
            ],
        )
        .await?;
        for d in attrs {
            let Ok(key) = d.get_document("_id") else {
                continue;
            };
            let (Ok(t), Ok(n), Ok(k)) = (key.get_str("t"), key.get_str("n"), key.get_str("k"))
            else {
                continue;
            };
            if let (Some(entry), Some(kind)) = (by_type.get_mut(t), kind_name(k)) {
                entry
                    .attributes
                    .entry(n.to_owned())
                    .or_default()
                    .insert(kind);
            }
        }
        Ok(by_type.into_values().collect())
    }

    async fn attributes(&self, tenant: &Tenant) -> StoreResult<Vec<AttributeSummary>> {
        let rows = aggregate(
            &self.entities(tenant),
            vec![
                doc! { "$unwind": "$attrs" },
                doc! { "$group": {
                    "_id": { "n": "$attrs.n", "e": "$_id" },
                    "kinds": { "$addToSet": "$attrs.k" },
                    "types": { "$first": "$types" },
                } },
                doc! { "$group": {
                    "_id": "$_id.n",
                    "count": { "$sum": 1 },
                    "kinds": { "$push": "$kinds" },
                    "types": { "$push": "$types" },
                } },
            ],
        )
        .await?;
        let mut out = Vec::new();
        for d in rows {
            let strings = |key: &str| -> Vec<String> {
                d.get_array(key)
                    .map(|outer| {
                        outer
                            .iter()
                            .filter_map(Bson::as_array)
                            .flatten()
                            .filter_map(|b| b.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            out.push(AttributeSummary {
                name: d.get_str("_id").unwrap_or_default().to_owned(),
                attribute_count: count_of(&d, "count"),
                kinds: strings("kinds")
                    .iter()
                    .filter_map(|k| kind_name(k))
                    .collect(),
                types: strings("types").into_iter().collect::<BTreeSet<_>>(),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn tenant_exists(&self, tenant: &Tenant) -> StoreResult<bool> {
        if tenant.is_default() || self.setup.is_ready(tenant) {
            return Ok(true);
        }
        // Another instance created it: prepare it here once (its indexes exist, so this is a
        // no-op for MongoDB), which also spares later requests the database listing.
        if !self.database_exists(tenant).await? {
            return Ok(false);
        }
        self.ensure_tenant(tenant).await?;
        Ok(true)
    }

    async fn expired(&self, now: DateTime<Utc>) -> StoreResult<Vec<(Tenant, String)>> {
        let mut out = Vec::new();
        for tenant in self.tenants().await? {
            let mut cursor = self
                .entities(&tenant)
                .find(doc! { "expiresAt": { "$lte": document::date(now) } })
                .projection(doc! { "_id": 1 })
                .await
                .map_err(|e| store_error("finding expired entities", e))?;
            while let Some(d) = cursor
                .try_next()
                .await
                .map_err(|e| store_error("finding expired entities", e))?
            {
                if let Ok(id) = d.get_str("_id") {
                    out.push((tenant.clone(), id.to_owned()));
                }
            }
        }
        Ok(out)
    }

    async fn put_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
        doc: serde_json::Value,
    ) -> StoreResult<()> {
        self.ensure_tenant(tenant).await?;
        let json = serde_json::to_string(&doc)
            .map_err(|e| StoreError::Backend(format!("cannot encode document {id}: {e}")))?;
        self.documents(tenant, kind)
            .replace_one(doc! { "_id": id }, doc! { "_id": id, "json": json })
            .upsert(true)
            .await
            .map_err(|e| store_error("storing a document", e))?;
        Ok(())
    }

    async fn get_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
    ) -> StoreResult<Option<serde_json::Value>> {
        let found = self
            .documents(tenant, kind)
            .find_one(doc! { "_id": id })
            .await
            .map_err(|e| store_error("reading a document", e))?;
        found.as_ref().map(watch::json_of).transpose()
    }

    async fn delete_document(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
        id: &str,
    ) -> StoreResult<bool> {
        let deleted = self
            .documents(tenant, kind)
            .delete_one(doc! { "_id": id })
            .await
            .map_err(|e| store_error("deleting a document", e))?;
        Ok(deleted.deleted_count > 0)
    }

    async fn list_documents(
        &self,
        tenant: &Tenant,
        kind: DocumentKind,
    ) -> StoreResult<Vec<(String, serde_json::Value)>> {
        let mut cursor = self
            .documents(tenant, kind)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .map_err(|e| store_error("listing documents", e))?;
        let mut out = Vec::new();
        while let Some(d) = cursor
            .try_next()
            .await
            .map_err(|e| store_error("listing documents", e))?
        {
            let id = d.get_str("_id").unwrap_or_default().to_owned();
            out.push((id, watch::json_of(&d)?));
        }
        Ok(out)
    }

    async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        let names = self
            .client
            .list_database_names()
            .await
            .map_err(|e| store_error("listing databases", e))?;
        let mut tenants: Vec<Tenant> = names
            .iter()
            .filter_map(|n| names::tenant_of(&self.prefix, n))
            .collect();
        if !tenants.iter().any(Tenant::is_default) {
            tenants.push(Tenant::default_tenant());
        }
        tenants.sort();
        Ok(tenants)
    }

    async fn claim(&self, tenant: &Tenant, key: &str) -> StoreResult<bool> {
        let claims: Collection<Document> = self.database(tenant).collection(setup::CLAIMS);
        let claim = doc! { "_id": key, "at": document::date(Utc::now()) };
        match claims.insert_one(claim).await {
            Ok(_) => Ok(true),
            Err(e) if error::code(&e) == Some(DUPLICATE_KEY) => Ok(false),
            Err(e) => Err(store_error("claiming", e)),
        }
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

fn query_error(e: mongodb::error::Error) -> StoreError {
    match e.get_custom::<Arc<StoreError>>() {
        Some(inner) => StoreError::Corrupt(inner.to_string()),
        None => store_error("querying entities", e),
    }
}

async fn aggregate(
    coll: &Collection<Document>,
    pipeline: Vec<Document>,
) -> StoreResult<Vec<Document>> {
    let cursor = coll
        .aggregate(pipeline)
        .await
        .map_err(|e| store_error("aggregating", e))?;
    cursor
        .try_collect()
        .await
        .map_err(|e| store_error("aggregating", e))
}

fn count_of(d: &Document, key: &str) -> u64 {
    match d.get(key) {
        Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Double(n)) => *n as u64,
        _ => 0,
    }
}

fn kind_name(k: &str) -> Option<AttributeKindName> {
    AttributeKind::parse(k).map(AttributeKindName::from)
}

#[cfg(test)]
mod tests;
