//! Entity operations: see the module docs of `service`.

use std::sync::Arc;

use chrono::Utc;
use ngsi_types::update::Changes;
use ngsi_types::Entity;

use subscriptions::{ChangeEvent, EngineHandle};

use crate::error::{BrokerError, BrokerResult};
use crate::store::{
    EntityQuery, Precondition, QueryPage, Store, Tenant, Versioned, Write, WriteAction,
    WriteOutcome,
};

/// How many times a write is re-planned after losing an optimistic-concurrency race.
const MAX_ATTEMPTS: usize = 32;

/// What a plan decided to do with one entity.
#[derive(Debug)]
pub enum Planned {
    /// Store this entity; `changes` says what changed.
    Put(Box<Entity>, Changes),
    /// Delete the entity.
    Delete,
}

/// A write plan: from the entity as stored now (or `None`), what to write.
pub type Plan = Box<dyn Fn(Option<&Entity>) -> BrokerResult<Planned> + Send + Sync>;

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

/// Entity operations over a store; every applied write is told to the subscription engine.
#[derive(Debug, Clone)]
pub struct Entities {
    store: Arc<dyn Store>,
    engine: Option<EngineHandle>,
}

impl Entities {
    /// `engine`: where change events go (`None`: nowhere, for tools and tests of the store).
    pub fn new(store: Arc<dyn Store>, engine: Option<EngineHandle>) -> Self {
        Self { store, engine }
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
            at: Utc::now(),
        };
        if let Err(e) = engine.notify(event) {
            tracing::warn!(%tenant, %id, error = %e, "change event not delivered to the subscription engine");
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// True if writes must keep their before/after entities for change events: there is an
    /// engine and it has subscriptions (copying every written entity for nobody costs writes).
    fn wants_events(&self) -> bool {
        self.engine.as_ref().is_some_and(|e| !e.is_idle())
    }

    /// Fails with NonexistentTenant unless the tenant exists (clause 6.3.14: reading a tenant
    /// that was never written to).
    pub async fn check_tenant(&self, tenant: &Tenant) -> BrokerResult<()> {
        if self.store.tenant_exists(tenant).await? {
            Ok(())
        } else {
            Err(BrokerError::NonexistentTenant(format!(
                "tenant '{tenant}' does not exist"
            )))
        }
    }

    /// The entity with this id.
    pub async fn retrieve(&self, tenant: &Tenant, id: &str) -> BrokerResult<Entity> {
        self.check_tenant(tenant).await?;
        self.store
            .get(tenant, id)
            .await?
            .map(|v| v.entity)
            .ok_or_else(|| not_found(id))
    }

    /// Creates an entity; AlreadyExists if the id is taken.
    pub async fn create(&self, tenant: &Tenant, mut entity: Entity) -> BrokerResult<()> {
        stamp_new(&mut entity);
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
            action: WriteAction::Put(entity),
        };
        match self.store.commit(tenant, vec![write]).await?.first() {
            Some(WriteOutcome::Applied { .. }) => {
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

    /// Modifies an existing entity with `apply` (ResourceNotFound if there is none), retrying
    /// on conflicts: the shape of every update operation on one entity.
    pub async fn modify(
        &self,
        tenant: &Tenant,
        id: &str,
        apply: impl Fn(&mut Entity) -> BrokerResult<Changes> + Send + Sync + 'static,
    ) -> BrokerResult<Done> {
        self.execute_one(tenant, id, update_plan(id, apply)).await
    }

    /// Runs one plan against one entity, retrying on conflicts.
    pub async fn execute_one(&self, tenant: &Tenant, id: &str, plan: Plan) -> BrokerResult<Done> {
        let mut results = self.execute(tenant, vec![(id.to_owned(), plan)]).await?;
        results.pop().unwrap_or_else(|| Err(not_found(id)))
    }

    /// Runs plans against many entities: all first attempts are committed together; entities
    /// that lost a race are re-planned and committed again. Per-entity failures are returned
    /// in input order; only a store failure fails the whole call.
    pub async fn execute(
        &self,
        tenant: &Tenant,
        plans: Vec<(String, Plan)>,
    ) -> BrokerResult<Vec<BrokerResult<Done>>> {
        let mut results: Vec<Option<BrokerResult<Done>>> = (0..plans.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..plans.len()).collect();
        for _ in 0..MAX_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            let mut writes = Vec::with_capacity(pending.len());
            let mut planned = Vec::with_capacity(pending.len());
            for &i in &pending {
                let (id, plan) = &plans[i];
                let current = self.store.get(tenant, id).await?;
                match plan_write(id, plan, current, self.wants_events()) {
                    Ok((write, done)) => {
                        writes.push(write);
                        planned.push((i, done));
                    }
                    Err(e) => results[i] = Some(Err(e)),
                }
            }
            let outcomes = self.store.commit(tenant, writes).await?;
            let mut retry = Vec::new();
            for ((i, done), outcome) in planned.into_iter().zip(outcomes) {
                match outcome {
                    WriteOutcome::Applied { .. } => {
                        self.emit(tenant, &done, &plans[i].0);
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
                plans[i].0
            ))));
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(BrokerError::Contention("not attempted".into()))))
            .collect())
    }

    /// Entities matching a query.
    pub async fn query(&self, tenant: &Tenant, query: &EntityQuery) -> BrokerResult<QueryPage> {
        if !self.store.tenant_exists(tenant).await? {
            return Err(BrokerError::NonexistentTenant(format!(
                "tenant '{tenant}' does not exist"
            )));
        }
        Ok(self.store.query(tenant, query).await?)
    }
}

/// The plan of every update of one existing entity: ResourceNotFound when it is absent,
/// else `apply` to a copy of it.
pub fn update_plan(
    id: &str,
    apply: impl Fn(&mut Entity) -> BrokerResult<Changes> + Send + Sync + 'static,
) -> Plan {
    let id = id.to_owned();
    Box::new(move |current| {
        let mut entity = current.cloned().ok_or_else(|| not_found(&id))?;
        let changes = apply(&mut entity)?;
        Ok(Planned::Put(Box::new(entity), changes))
    })
}

/// Turns a plan's decision into a store write and the result to report if it is applied.
fn plan_write(
    id: &str,
    plan: &Plan,
    current: Option<Versioned>,
    keep_entities: bool,
) -> BrokerResult<(Write, Done)> {
    let (precondition, before) = match current {
        Some(v) => (Precondition::Version(v.version), Some(v.entity)),
        None => (Precondition::Absent, None),
    };
    let planned = plan(before.as_ref())?;
    let created = before.is_none();
    let (action, done) = match planned {
        Planned::Put(mut entity, changes) => {
            let changes = if created {
                stamp_new(&mut entity);
                creation_changes(&entity)
            } else {
                changes
            };
            let done = Done {
                created,
                changes,
                before: before.filter(|_| keep_entities),
                after: keep_entities.then(|| (*entity).clone()),
            };
            (WriteAction::Put(*entity), done)
        }
        Planned::Delete => {
            if created {
                return Err(not_found(id));
            }
            let changes = Changes {
                deleted: before
                    .as_ref()
                    .map(|e| e.attributes.keys().cloned().collect())
                    .unwrap_or_default(),
                entity_changed: true,
                ..Changes::default()
            };
            let done = Done {
                created: false,
                changes,
                before: before.filter(|_| keep_entities),
                after: None,
            };
            (WriteAction::Delete, done)
        }
    };
    Ok((
        Write {
            id: id.to_owned(),
            precondition,
            action,
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
fn stamp_new(entity: &mut Entity) {
    let now = Utc::now();
    entity.created_at = Some(now);
    entity.modified_at = Some(now);
    for instances in entity.attributes.values_mut() {
        for attr in instances {
            attr.stamp(now, Some(now));
        }
    }
}

pub fn not_found(id: &str) -> BrokerError {
    BrokerError::NotFound(format!("entity '{id}' not found"))
}
