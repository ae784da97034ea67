//! Entity operations: see the module docs of `service`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ngsi_types::query::order::EntityOrder;
use ngsi_types::query::type_expr::TypeExpr;
use ngsi_types::update::Changes;
use ngsi_types::Entity;

use subscriptions::{ChangeEvent, EngineHandle};

use super::clock::Clock;
use super::history::{recorded_count, History, TemporalStats};
use super::limits::Limits;
use super::operation::{not_found, EntityOperation, Planned};
use super::tenancy::require_tenant;
use crate::error::{BrokerError, BrokerResult};
use crate::store::{
    EntityQuery, Precondition, QueryPage, Store, Tenant, Versioned, Write, WriteAction,
    WriteOutcome,
};

/// How many times a write is re-planned after losing an optimistic-concurrency race.
const MAX_ATTEMPTS: usize = 32;

/// How many entities a batch reads and plans before it lets the HTTP worker serve other
/// requests. Entity reads of the embedded store run on the calling task (a few µs each, see
/// `store/embedded`), so a batch of thousands would otherwise hold its worker to the end.
const YIELD_EVERY: usize = 64;

/// How many entities one round of a purge deletes (one store commit).
const PURGE_PAGE: usize = 1000;
/// Most entities an ordered query sorts (see [`Entities::query`]).
pub const MAX_ORDERED: usize = 10_000;

/// The result of one planned write.
#[derive(Debug, Clone)]
pub struct Done {
    /// The entity did not exist before.
    pub created: bool,
    pub changes: Changes,
    /// The entity before the write, if it existed (kept only when subscriptions need it).
    pub before: Option<Entity>,
    /// The entity after the write, unless deleted (kept only when subscriptions need it).
    pub after: Option<Entity>,
}

/// The kinds of batch operation (clause 5.6.7-5.6.10, 5.6.20). Batches that can create
/// entities create their tenant; the others need it to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    Create,
    Upsert,
    Update,
    Merge,
    Delete,
}

/// What Purge Entities (5.6.21.4) does to the entities it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeAction {
    /// Deletes them.
    Entities,
    /// Deletes these attributes (expanded names) of each: the restrictive list, `drop`.
    Drop(Vec<String>),
    /// Deletes every attribute of each but these: the exclusionary list, `keep`.
    Keep(Vec<String>),
}

/// One entity of a batch: the id it names (for the report) and its operation, or why its
/// item could not be read.
pub type BatchItem = (String, BrokerResult<EntityOperation>);

/// The outcome of one entity of a batch, in the order of the request.
pub type BatchResult = (String, BrokerResult<Done>);

/// Entity operations over a store; every applied write is told to the subscription engine.
#[derive(Debug, Clone)]
pub struct Entities {
    pub(super) store: Arc<dyn Store>,
    engine: Option<EngineHandle>,
    pub(super) clock: Clock,
    history: History,
    stats: TemporalStats,
    limits: Limits,
}

impl Entities {
    /// `engine`: where change events go (`None`: nowhere, for tools and tests of the store).
    /// `history`: what every write adds to the temporal evolution.
    pub fn new(
        store: Arc<dyn Store>,
        engine: Option<EngineHandle>,
        clock: Clock,
        history: History,
    ) -> Self {
        Self {
            store,
            engine,
            clock,
            history,
            stats: TemporalStats::default(),
            limits: Limits::default(),
        }
    }

    /// The same service, checking every entity it writes against `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The temporal counters this service adds to (the temporal API's service shares them).
    pub fn temporal_stats(&self) -> &TemporalStats {
        &self.stats
    }

    /// Tells the subscription engine about an applied write. Never waits: an overloaded
    /// engine drops the event and counts it (its documented overflow policy); writes are
    /// never slowed by notifications.
    fn emit(&self, tenant: &Tenant, done: &Done, id: &str) {
        let Some(engine) = self
            .engine
            .as_ref()
            .filter(|_| done.before.is_some() || done.after.is_some())
        else {
            return;
        };
        let event = ChangeEvent {
            tenant: tenant.name().map(str::to_owned),
            entity_id: id.to_owned(),
            before: done.before.clone(),
            after: done.after.clone(),
            changes: done.changes.clone(),
            at: self.clock.now(),
        };
        if let Err(e) = engine.notify(event) {
            tracing::warn!(%tenant, %id, error = %e, "change event not delivered to the subscription engine");
        }
    }

    /// True if writes must keep their before/after entities for change events: there is an
    /// engine and it has subscriptions (copying every written entity for nobody costs writes).
    fn wants_events(&self) -> bool {
        self.engine.as_ref().is_some_and(|e| !e.is_idle())
    }

    /// The entity with this id; with `types`, only if it matches that type expression.
    pub async fn retrieve(
        &self,
        tenant: &Tenant,
        id: &str,
        types: Option<&TypeExpr>,
    ) -> BrokerResult<Entity> {
        require_tenant(self.store.as_ref(), tenant).await?;
        // GS CIM 009 4.22: past its expiresAt an entity is no longer served, even in the
        // moment before the background expiry (expiry.rs) deletes it.
        let now = self.clock.now();
        self.store
            .get(tenant, id)
            .await?
            .map(|v| v.entity)
            .filter(|e| types.is_none_or(|t| t.matches(e)))
            .filter(|e| e.expires_at.is_none_or(|at| at > now))
            .map(|mut e| {
                e.drop_expired_attributes(now);
                e
            })
            .ok_or_else(|| not_found(id))
    }

    /// Creates an entity; AlreadyExists if the id is taken. One store call, no read: the
    /// store's absence precondition decides.
    pub async fn create(&self, tenant: &Tenant, mut entity: Entity) -> BrokerResult<()> {
        self.limits.check_entity(&entity)?;
        let now = self.clock.now();
        stamp_new(&mut entity, now);
        let id = entity.id.clone();
        // The creation is a change event like any other write (entityCreated,
        // attributeCreated); the copy is only made when subscriptions may want it.
        let created = self.wants_events().then(|| Done {
            created: true,
            changes: creation_changes(&entity),
            before: None,
            after: Some(entity.clone()),
        });
        let write = Write {
            id: id.clone(),
            precondition: Precondition::Absent,
            history: self.history.of_write(None, Some(&entity), now),
            action: WriteAction::Put(entity),
        };
        let recorded = recorded_count(write.history.as_ref());
        match self.store.commit(tenant, vec![write]).await?.first() {
            Some(WriteOutcome::Applied { .. }) => {
                self.stats.recorded(recorded);
                if let Some(done) = created {
                    self.emit(tenant, &done, &id);
                }
                Ok(())
            }
            _ => Err(BrokerError::AlreadyExists(format!(
                "entity '{id}' already exists"
            ))),
        }
    }

    /// Applies one operation to one entity, re-planning on conflicts. Operations that cannot
    /// create the entity need its tenant to exist (NonexistentTenant otherwise).
    pub async fn apply(
        &self,
        tenant: &Tenant,
        id: &str,
        operation: EntityOperation,
    ) -> BrokerResult<Done> {
        if !operation.creates() {
            require_tenant(self.store.as_ref(), tenant).await?;
        }
        let mut results = self
            .execute(tenant, vec![(id.to_owned(), operation)])
            .await?;
        results.pop().unwrap_or_else(|| Err(not_found(id)))
    }

    /// Runs a batch: the items that were read are executed together, those that were not
    /// keep their error; results in request order. Only a store failure (or a missing tenant
    /// for a batch that cannot create it) fails the whole call.
    pub async fn batch(
        &self,
        tenant: &Tenant,
        kind: BatchKind,
        items: Vec<BatchItem>,
    ) -> BrokerResult<Vec<BatchResult>> {
        if !matches!(kind, BatchKind::Create | BatchKind::Upsert) {
            require_tenant(self.store.as_ref(), tenant).await?;
        }
        let mut ids = Vec::with_capacity(items.len());
        let mut results: Vec<Option<BrokerResult<Done>>> = Vec::with_capacity(items.len());
        let mut operations = Vec::new();
        let mut positions = Vec::new();
        for (i, (id, operation)) in items.into_iter().enumerate() {
            match operation {
                Ok(op) => {
                    positions.push(i);
                    operations.push((id.clone(), op));
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
            ids.push(id);
        }
        for (pos, result) in positions
            .into_iter()
            .zip(self.execute(tenant, operations).await?)
        {
            results[pos] = Some(if kind == BatchKind::Update {
                result.and_then(all_attributes_applied)
            } else {
                result
            });
        }
        Ok(ids
            .into_iter()
            .zip(results)
            .map(|(id, r)| (id, r.unwrap_or_else(|| Err(not_attempted()))))
            .collect())
    }

    /// Purge Entities (5.6.21): deletes every entity the query matches, or with `drop`/`keep`
    /// the chosen attributes of each, a page at a time.
    pub async fn purge(
        &self,
        tenant: &Tenant,
        mut query: EntityQuery,
        action: PurgeAction,
    ) -> BrokerResult<()> {
        query.offset = 0;
        query.limit = PURGE_PAGE;
        query.count = false;
        let (names, keep) = match action {
            PurgeAction::Entities => return self.purge_entities(tenant, query).await,
            PurgeAction::Drop(names) => (names, false),
            PurgeAction::Keep(names) => (names, true),
        };
        // The entities stay, so they keep matching: list them all first, then change them
        // (paging while changing could skip or repeat entities).
        let mut ids = Vec::new();
        loop {
            let page = self.query(tenant, &query, None).await?;
            let n = page.entities.len();
            ids.extend(page.entities.into_iter().map(|e| e.id));
            if n < PURGE_PAGE {
                break;
            }
            query.offset += n;
        }
        for chunk in ids.chunks(PURGE_PAGE) {
            let operations = chunk
                .iter()
                .map(|id| {
                    let names = names.clone();
                    (id.clone(), EntityOperation::DropAttributes { names, keep })
                })
                .collect();
            // An entity deleted meanwhile has no attributes left to purge: not an error.
            for result in self.execute(tenant, operations).await? {
                match result {
                    Ok(_) | Err(BrokerError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    async fn purge_entities(&self, tenant: &Tenant, query: EntityQuery) -> BrokerResult<()> {
        loop {
            let page = self.query(tenant, &query, None).await?;
            if page.entities.is_empty() {
                return Ok(());
            }
            let deletions = page
                .entities
                .into_iter()
                .map(|e| (e.id, EntityOperation::Delete))
                .collect();
            // Entities deleted meanwhile by someone else are fine: they are gone either way. A
            // round that deletes nothing (every entity failed) ends the purge rather than loop.
            let results = self.execute(tenant, deletions).await?;
            if results.iter().all(Result::is_err) {
                return Err(BrokerError::Contention(
                    "purge made no progress; entities are being modified concurrently".into(),
                ));
            }
        }
    }

    /// Deletes the transient entities whose `expiresAt` is at or before `now` (clause 4.23 of
    /// v1.8), each re-checked under the write's precondition; returns how many went.
    pub async fn delete_expired(&self, now: DateTime<Utc>) -> BrokerResult<usize> {
        let mut deleted = 0;
        for (tenant, id) in self.store.expired(now).await? {
            match self
                .apply(&tenant, &id, EntityOperation::Expire { at: now })
                .await
            {
                Ok(_) => {
                    tracing::debug!(%tenant, %id, "transient entity or attributes expired");
                    deleted += 1;
                }
                Err(BrokerError::NotFound(_)) => {}
                Err(e) => {
                    tracing::warn!(%tenant, %id, error = %e, "deleting an expired entity failed")
                }
            }
        }
        Ok(deleted)
    }

    /// Plans operations against many entities: all first attempts are committed together;
    /// entities that lost a race are re-planned and committed again. Per-entity failures are
    /// returned in input order; only a store failure fails the whole call.
    async fn execute(
        &self,
        tenant: &Tenant,
        operations: Vec<(String, EntityOperation)>,
    ) -> BrokerResult<Vec<BrokerResult<Done>>> {
        let mut results: Vec<Option<BrokerResult<Done>>> =
            (0..operations.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..operations.len()).collect();
        for _ in 0..MAX_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            let now = self.clock.now();
            let mut writes = Vec::with_capacity(pending.len());
            let mut planned = Vec::with_capacity(pending.len());
            for (n, &i) in pending.iter().enumerate() {
                if n > 0 && n % YIELD_EVERY == 0 {
                    tokio::task::yield_now().await;
                }
                let (id, operation) = &operations[i];
                let current = self.store.get(tenant, id).await?;
                let keep = self.wants_events();
                let planned_write = plan_write(id, operation, current, now, keep, self.history)
                    .and_then(|(write, done)| {
                        if let WriteAction::Put(entity) = &write.action {
                            self.limits.check_entity(entity)?;
                        }
                        Ok((write, done))
                    });
                match planned_write {
                    Ok((write, done)) => {
                        let recorded = recorded_count(write.history.as_ref());
                        writes.push(write);
                        planned.push((i, done, recorded));
                    }
                    Err(e) => results[i] = Some(Err(e)),
                }
            }
            let outcomes = self.store.commit(tenant, writes).await?;
            let mut retry = Vec::new();
            for ((i, done, recorded), outcome) in planned.into_iter().zip(outcomes) {
                match outcome {
                    WriteOutcome::Applied { .. } => {
                        self.stats.recorded(recorded);
                        self.emit(tenant, &done, &operations[i].0);
                        results[i] = Some(Ok(done));
                    }
                    WriteOutcome::Conflict { .. } => retry.push(i),
                }
            }
            pending = retry;
        }
        for i in pending {
            results[i] = Some(Err(BrokerError::Contention(format!(
                "entity '{}' is being modified concurrently; try again",
                operations[i].0
            ))));
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(not_attempted())))
            .collect())
    }

    /// Entities matching a query, in `order` when one is given (clause 4.23), which applies
    /// before the query's offset and limit.
    ///
    /// Neither store sorts by the rules of 4.23 (the datatype ranks of 4.23.2, an ICU
    /// collation, distance from a geometry): MongoDB's BSON order and collations differ. So an
    /// ordered query is bounded instead: it reads every match, at most [`MAX_ORDERED`], sorts
    /// them here and pages the sorted result; a query matching more is TooManyResults and is
    /// to be narrowed.
    pub async fn query(
        &self,
        tenant: &Tenant,
        query: &EntityQuery,
        order: Option<&EntityOrder>,
    ) -> BrokerResult<QueryPage> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let now = self.clock.now();
        // GS CIM 009 4.22: expired attribute instances are no longer served, even in the
        // moment before the background expiry removes them.
        let served = |mut page: QueryPage| {
            for entity in &mut page.entities {
                entity.drop_expired_attributes(now);
            }
            page
        };
        let Some(order) = order else {
            return Ok(served(self.store.query(tenant, query).await?));
        };
        let every_match = EntityQuery {
            offset: 0,
            limit: MAX_ORDERED + 1,
            count: false,
            ..query.clone()
        };
        let matches = self.store.query(tenant, &every_match).await?.entities;
        if matches.len() > MAX_ORDERED {
            return Err(BrokerError::TooManyResults(format!(
                "orderBy sorts at most {MAX_ORDERED} entities; narrow the query"
            )));
        }
        let total = query.count.then_some(matches.len() as u64);
        let entities = order
            .sort(matches)
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect();
        Ok(served(QueryPage { entities, total }))
    }
}

/// GS CIM 009 5.6.9.4: in a batch update an entity whose attributes were not all appended
/// (they exist and `noOverwrite` was given) is a failed entity of the batch, not a success.
fn all_attributes_applied(done: Done) -> BrokerResult<Done> {
    if done.changes.not_updated.is_empty() {
        return Ok(done);
    }
    let names: Vec<&str> = done
        .changes
        .not_updated
        .iter()
        .map(|n| n.attribute.as_str())
        .collect();
    Err(BrokerError::AlreadyExists(format!(
        "attributes not overwritten (options=noOverwrite): {}",
        names.join(", ")
    )))
}

fn not_attempted() -> BrokerError {
    BrokerError::Contention("not attempted".into())
}

/// Turns an operation's plan into a store write and the result to report if it is applied.
fn plan_write(
    id: &str,
    operation: &EntityOperation,
    current: Option<Versioned>,
    now: DateTime<Utc>,
    keep_entities: bool,
    history: History,
) -> BrokerResult<(Write, Done)> {
    let (precondition, before) = match current {
        Some(v) => (Precondition::Version(v.version), Some(v.entity)),
        None => (Precondition::Absent, None),
    };
    let planned = operation.plan(id, before.as_ref(), now)?;
    let created = before.is_none();
    let (action, done, history) = match planned {
        Planned::Put(mut entity, changes) => {
            let changes = if created {
                stamp_new(&mut entity, now);
                creation_changes(&entity)
            } else {
                changes
            };
            let recorded = history.of_write(before.as_ref(), Some(&entity), now);
            let done = Done {
                created,
                changes,
                before: before.filter(|_| keep_entities),
                after: keep_entities.then(|| (*entity).clone()),
            };
            (WriteAction::Put(*entity), done, recorded)
        }
        Planned::Delete => {
            let Some(old) = before else {
                return Err(not_found(id));
            };
            let changes = Changes {
                deleted: old.attributes.keys().cloned().collect(),
                entity_changed: true,
                ..Changes::default()
            };
            let recorded = history.of_write(Some(&old), None, now);
            let done = Done {
                created: false,
                changes,
                before: keep_entities.then_some(old),
                after: None,
            };
            (WriteAction::Delete, done, recorded)
        }
    };
    Ok((
        Write {
            id: id.to_owned(),
            precondition,
            action,
            history,
        },
        done,
    ))
}

/// A creation creates every attribute the entity has.
fn creation_changes(entity: &Entity) -> Changes {
    Changes {
        created: entity.attributes.keys().cloned().collect(),
        entity_changed: true,
        ..Changes::default()
    }
}

/// Sets the system timestamps of a new entity and its attributes.
fn stamp_new(entity: &mut Entity, now: DateTime<Utc>) {
    entity.created_at = Some(now);
    entity.modified_at = Some(now);
    for instances in entity.attributes.values_mut() {
        for attr in instances {
            attr.stamp(now, Some(now));
        }
    }
}
