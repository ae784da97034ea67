//! The temporal API (GS CIM 009 5.6.11-5.6.16, 5.7.3-5.7.4): writes to the temporal evolution
//! of entities alone, and reads of it. What the entity API records is decided in
//! [`super::history`] and committed by [`super::Entities`] with each write.

use std::sync::Arc;

use ngsi_types::temporal::{paginate, ContentRange};
use ngsi_types::{Attribute, Entity};

use super::clock::Clock;
use super::history::{new_instance_id, History, TemporalStats};
use super::limits::Limits;
use super::operation::not_found;
use super::tenancy::require_tenant;
use crate::error::{BrokerError, BrokerResult};
use crate::store::{
    RecordMode, Store, StoreError, TemporalOp, TemporalOutcome, TemporalPage, TemporalSelection,
    TemporalWrite, Tenant,
};

/// Whether an upsert created the evolution or added to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

/// Temporal evolutions over a store.
#[derive(Debug, Clone)]
pub struct TemporalEntities {
    store: Arc<dyn Store>,
    clock: Clock,
    enabled: bool,
    /// Most attribute instances one answer holds (clause 6.3.10, `--temporal-max-instances`).
    max_instances: usize,
    stats: TemporalStats,
    limits: Limits,
}

/// A temporal read's answer: what it holds, and when it is partial, the range it covers.
#[derive(Debug)]
pub struct TemporalAnswer<T> {
    pub value: T,
    pub range: Option<ContentRange>,
}

impl TemporalEntities {
    /// `history`: with [`History::Off`], every operation is OperationNotSupported.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Clock,
        history: History,
        max_instances: usize,
        stats: TemporalStats,
    ) -> Self {
        Self {
            store,
            clock,
            enabled: history != History::Off,
            max_instances: max_instances.max(1),
            stats,
            limits: Limits::default(),
        }
    }

    /// The same service, checking every evolution it writes against `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Retention: drops every instance observed (else created) before `before`, in rounds
    /// of at most `EXPIRE_ROUND`; returns how many went.
    pub async fn expire(&self, before: chrono::DateTime<chrono::Utc>) -> BrokerResult<u64> {
        const EXPIRE_ROUND: usize = 10_000;
        let mut total = 0;
        loop {
            let n = self.store.temporal_expire(before, EXPIRE_ROUND).await?;
            self.stats.expired(n);
            total += n;
            if n < EXPIRE_ROUND as u64 {
                return Ok(total);
            }
        }
    }

    pub fn stats(&self) -> &TemporalStats {
        &self.stats
    }

    /// The selection reading no more per attribute than a partial answer can hold (+1, so
    /// that an answer cut exactly at the budget is known to be partial).
    fn budgeted(&self, selection: &TemporalSelection, partial: bool) -> TemporalSelection {
        TemporalSelection {
            per_attribute: partial.then_some(self.max_instances + 1),
            ..selection.clone()
        }
    }

    /// Cuts `entity` to the instance budget.
    fn paginate(&self, entity: &mut Entity, selection: &TemporalSelection) -> Option<ContentRange> {
        paginate(
            entity,
            &selection.time,
            selection.last_n,
            self.max_instances,
        )
    }

    fn check_enabled(&self) -> BrokerResult<()> {
        if self.enabled {
            Ok(())
        } else {
            Err(BrokerError::NotSupported(
                "this broker runs with --temporal off: it keeps no temporal evolution".into(),
            ))
        }
    }

    async fn commit_one(
        &self,
        tenant: &Tenant,
        id: &str,
        op: TemporalOp,
    ) -> BrokerResult<TemporalOutcome> {
        let write = TemporalWrite {
            id: id.to_owned(),
            op,
        };
        let outcomes = self.store.temporal_commit(tenant, vec![write]).await?;
        outcomes
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Backend("the store answered no outcome".into()).into())
    }

    /// Gives every instance of `entity` an instanceId and the system timestamps of now.
    fn stamp(&self, entity: Entity) -> (Entity, Vec<(String, Attribute)>) {
        let now = self.clock.now();
        let mut head = entity;
        let attributes = std::mem::take(&mut head.attributes);
        let mut instances = Vec::new();
        for (name, list) in attributes {
            for mut instance in list {
                instance.stamp(now, Some(now));
                instance.instance_id = Some(new_instance_id());
                instances.push((name.clone(), instance));
            }
        }
        (head, instances)
    }

    /// Records `entity`'s instances (stamped now) under `id`, as `mode` allows.
    async fn record(
        &self,
        tenant: &Tenant,
        id: &str,
        entity: Entity,
        mode: RecordMode,
    ) -> BrokerResult<TemporalOutcome> {
        let at = self.clock.now();
        let (head, instances) = self.stamp(entity);
        let recorded = instances.len();
        let op = TemporalOp::Record {
            types: head.types,
            scope: (!head.scope.is_empty()).then_some(head.scope),
            at,
            instances,
            mode,
            touch: true,
        };
        let outcome = self.commit_one(tenant, id, op).await?;
        if matches!(outcome, TemporalOutcome::Created | TemporalOutcome::Updated) {
            self.stats.recorded(recorded);
        }
        Ok(outcome)
    }

    /// Create or Update Temporal Evolution of an Entity (5.6.11): creates the evolution, or
    /// adds the instances to the one there.
    pub async fn upsert(&self, tenant: &Tenant, entity: Entity) -> BrokerResult<Upserted> {
        self.check_enabled()?;
        self.limits.check_entity(&entity)?;
        let id = entity.id.clone();
        match self.record(tenant, &id, entity, RecordMode::Upsert).await? {
            TemporalOutcome::Created => Ok(Upserted::Created),
            _ => Ok(Upserted::Updated),
        }
    }

    /// Add Attributes to Temporal Evolution of an Entity (5.6.12).
    pub async fn add_attributes(
        &self,
        tenant: &Tenant,
        id: &str,
        fragment: Entity,
    ) -> BrokerResult<()> {
        self.check_enabled()?;
        self.limits.check_entity(&fragment)?;
        require_tenant(self.store.as_ref(), tenant).await?;
        match self
            .record(tenant, id, fragment, RecordMode::Existing)
            .await?
        {
            TemporalOutcome::NotFound => Err(not_found(id)),
            _ => Ok(()),
        }
    }

    /// Delete Temporal Evolution of an Entity (5.6.16).
    pub async fn delete(&self, tenant: &Tenant, id: &str) -> BrokerResult<()> {
        self.check_enabled()?;
        require_tenant(self.store.as_ref(), tenant).await?;
        match self.commit_one(tenant, id, TemporalOp::Delete).await? {
            TemporalOutcome::NotFound => Err(not_found(id)),
            _ => Ok(()),
        }
    }

    /// Delete Attribute from Temporal Evolution of an Entity (5.6.13): every instance
    /// (`dataset_id: None`, deleteAll), or those of one datasetId (`Some(None)`: the default).
    pub async fn delete_attribute(
        &self,
        tenant: &Tenant,
        id: &str,
        attribute: &str,
        dataset_id: Option<Option<String>>,
    ) -> BrokerResult<()> {
        self.check_enabled()?;
        require_tenant(self.store.as_ref(), tenant).await?;
        let op = TemporalOp::DeleteAttribute {
            attribute: attribute.to_owned(),
            dataset_id,
            at: self.clock.now(),
        };
        match self.commit_one(tenant, id, op).await? {
            TemporalOutcome::NotFound => Err(BrokerError::NotFound(format!(
                "the temporal evolution of '{id}' has no such attribute instances"
            ))),
            _ => Ok(()),
        }
    }

    /// Modify Attribute Instance in Temporal Evolution of an Entity (5.6.14): the instance is
    /// replaced by `instance`, keeping its instanceId and createdAt.
    pub async fn modify_instance(
        &self,
        tenant: &Tenant,
        id: &str,
        attribute: &str,
        instance_id: &str,
        mut instance: Attribute,
    ) -> BrokerResult<()> {
        self.check_enabled()?;
        let current = self.instance(tenant, id, attribute, instance_id).await?;
        let now = self.clock.now();
        instance.stamp(now, current.created_at.or(Some(now)));
        instance.instance_id = Some(instance_id.to_owned());
        let op = TemporalOp::ModifyInstance {
            attribute: attribute.to_owned(),
            instance: Box::new(instance),
            at: now,
        };
        match self.commit_one(tenant, id, op).await? {
            TemporalOutcome::NotFound => Err(missing_instance(id, instance_id)),
            _ => Ok(()),
        }
    }

    /// Delete Attribute Instance from Temporal Evolution of an Entity (5.6.15).
    pub async fn delete_instance(
        &self,
        tenant: &Tenant,
        id: &str,
        attribute: &str,
        instance_id: &str,
    ) -> BrokerResult<()> {
        self.check_enabled()?;
        require_tenant(self.store.as_ref(), tenant).await?;
        let op = TemporalOp::DeleteInstance {
            attribute: attribute.to_owned(),
            instance_id: instance_id.to_owned(),
            at: self.clock.now(),
        };
        match self.commit_one(tenant, id, op).await? {
            TemporalOutcome::NotFound => Err(missing_instance(id, instance_id)),
            _ => Ok(()),
        }
    }

    /// The stored instance, or ResourceNotFound (the entity, the attribute or the instance).
    async fn instance(
        &self,
        tenant: &Tenant,
        id: &str,
        attribute: &str,
        instance_id: &str,
    ) -> BrokerResult<Attribute> {
        require_tenant(self.store.as_ref(), tenant).await?;
        let selection = TemporalSelection {
            ids: Some(vec![id.to_owned()]),
            attrs: Some(vec![attribute.to_owned()]),
            limit: 1,
            ..TemporalSelection::default()
        };
        let page = self.store.temporal_query(tenant, &selection).await?;
        page.entities
            .into_iter()
            .next()
            .and_then(|mut e| e.attributes.swap_remove(attribute))
            .into_iter()
            .flatten()
            .find(|a| a.instance_id.as_deref() == Some(instance_id))
            .ok_or_else(|| missing_instance(id, instance_id))
    }

    /// Query Temporal Evolution of Entities (5.7.4). `partial`: each entity's instances are
    /// cut to the budget (clause 6.3.10); the range is the part every entity has complete.
    pub async fn query(
        &self,
        tenant: &Tenant,
        selection: &TemporalSelection,
        partial: bool,
    ) -> BrokerResult<TemporalAnswer<TemporalPage>> {
        self.check_enabled()?;
        require_tenant(self.store.as_ref(), tenant).await?;
        let budgeted = self.budgeted(selection, partial);
        let mut page = self.store.temporal_query(tenant, &budgeted).await?;
        let mut range: Option<ContentRange> = None;
        if partial {
            for entity in &mut page.entities {
                if let Some(r) = self.paginate(entity, selection) {
                    range = Some(range.map_or(r, |prev| prev.narrowest(r)));
                }
            }
        }
        Ok(TemporalAnswer { value: page, range })
    }

    /// Retrieve Temporal Evolution of an Entity (5.7.3): the evolution of `id` with the
    /// instances the selection keeps; ResourceNotFound if there is none.
    pub async fn retrieve(
        &self,
        tenant: &Tenant,
        id: &str,
        selection: &TemporalSelection,
        partial: bool,
    ) -> BrokerResult<TemporalAnswer<Entity>> {
        self.check_enabled()?;
        require_tenant(self.store.as_ref(), tenant).await?;
        // The evolution is shown even with no instance in the selection's interval
        // (5.7.3.4 names only a missing entity as ResourceNotFound).
        let one = TemporalSelection {
            ids: Some(vec![id.to_owned()]),
            offset: 0,
            limit: 1,
            count: false,
            keep_empty: selection.attrs.is_none(),
            ..self.budgeted(selection, partial)
        };
        let found = self.store.temporal_query(tenant, &one).await?;
        let mut entity = found
            .entities
            .into_iter()
            .next()
            .ok_or_else(|| not_found(id))?;
        let range = if partial {
            self.paginate(&mut entity, selection)
        } else {
            None
        };
        Ok(TemporalAnswer {
            value: entity,
            range,
        })
    }
}

fn missing_instance(id: &str, instance_id: &str) -> BrokerError {
    BrokerError::NotFound(format!(
        "the temporal evolution of '{id}' has no instance '{instance_id}' of that attribute"
    ))
}
