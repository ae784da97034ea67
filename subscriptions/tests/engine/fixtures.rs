//! What every module builds its cases from: entities, change events, subscriptions and an
//! engine with quick retries (notifications arrive at the black-box suite's HTTP receiver,
//! `conformance_tests::Receiver`).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ngsi_types::context::ActiveContext;
use ngsi_types::update::Changes;
use ngsi_types::{Attribute, Entity};
use serde_json::Value;
use subscriptions::{
    ChangeEvent, Engine, EngineConfig, EngineHandle, EntitySource, NoEntities, Subscription,
};

/// Generous bound for a notification that should come.
pub const WAIT: Duration = Duration::from_secs(5);

pub fn ctx() -> Arc<ActiveContext> {
    ActiveContext::core()
}

pub fn iri(term: &str) -> String {
    ctx().expand_term(term).into_owned()
}

/// An entity of type `ty` with Property attributes.
pub fn entity(id: &str, ty: &str, attrs: &[(&str, Value)]) -> Entity {
    let mut e = Entity::new(id, vec![iri(ty)]);
    for (name, value) in attrs {
        e.put_attribute(iri(name), Attribute::property(value.clone()));
    }
    e
}

pub fn created(tenant: Option<&str>, e: Entity) -> ChangeEvent {
    let changes = Changes {
        created: e.attributes.keys().cloned().collect(),
        entity_changed: true,
        ..Changes::default()
    };
    ChangeEvent {
        tenant: tenant.map(str::to_owned),
        entity_id: e.id.clone(),
        before: None,
        after: Some(e),
        changes,
        at: Utc::now(),
    }
}

/// An update from `before` to `after`, the change lists computed from the two.
pub fn updated(tenant: Option<&str>, before: Entity, after: Entity) -> ChangeEvent {
    let mut changes = Changes::default();
    for (name, inst) in &after.attributes {
        match before.attributes.get(name) {
            None => changes.created.push(name.clone()),
            Some(old) if old != inst => changes.updated.push(name.clone()),
            Some(_) => {}
        }
    }
    for name in before.attributes.keys() {
        if !after.attributes.contains_key(name) {
            changes.deleted.push(name.clone());
        }
    }
    ChangeEvent {
        tenant: tenant.map(str::to_owned),
        entity_id: after.id.clone(),
        before: Some(before),
        after: Some(after),
        changes,
        at: Utc::now(),
    }
}

pub fn deleted(tenant: Option<&str>, e: Entity) -> ChangeEvent {
    ChangeEvent {
        tenant: tenant.map(str::to_owned),
        entity_id: e.id.clone(),
        before: Some(e),
        after: None,
        changes: Changes {
            entity_changed: true,
            ..Changes::default()
        },
        at: Utc::now(),
    }
}

pub fn subscription(body: Value) -> Subscription {
    Subscription::parse(&body, &ctx(), Utc::now()).expect("valid subscription")
}

/// An engine with quick retries, for tests.
pub fn engine() -> EngineHandle {
    engine_with(Arc::new(NoEntities))
}

pub fn engine_with(source: Arc<dyn EntitySource>) -> EngineHandle {
    Engine::start(
        EngineConfig {
            http_timeout: Duration::from_secs(2),
            retry_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
            ..EngineConfig::default()
        },
        source,
    )
}
