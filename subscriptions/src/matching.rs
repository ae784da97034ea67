//! Does a change event concern a subscription, and why (clause 5.11 and the triggers of
//! clause 5.2.12)?
//!
//! The registry narrows the candidates with its indexes; this module decides. The order:
//! state (active, not expired, not periodic), entity selectors, the trigger the write fired
//! among the subscription's `notificationTrigger` restricted to `watchedAttributes`, and last
//! the filters `q`, `scopeQ` and `geoQ` (on the new entity, or the old one for a deletion),
//! which cost the most.

use chrono::{DateTime, Utc};
use ngsi_types::Entity;

use crate::event::ChangeEvent;
use crate::model::{State, Subscription, Trigger};

/// The reason a notification is sent (`triggerReason`, clause 5.3.1 in v1.8).
pub fn trigger_reason(
    sub: &Subscription,
    event: &ChangeEvent,
    now: DateTime<Utc>,
) -> Option<Trigger> {
    if sub.is_periodic() || sub.state(now) != State::Active {
        return None;
    }
    let entity = event.entity()?;
    if !selects(sub, entity) {
        return None;
    }
    let trigger = fired_trigger(sub, event, entity)?;
    passes_filters(sub, entity).then_some(trigger)
}

/// True if one of the entity selectors selects the entity (or there are none).
pub fn selects(sub: &Subscription, entity: &Entity) -> bool {
    sub.entities.is_empty() || sub.entities.iter().any(|e| e.selector.matches(entity))
}

/// `q`, `scopeQ` and `geoQ`, all of which must hold. A `q` with terms through Relationships
/// (`rel{attr}`, clause 4.9) needs the entities they target: the subscription's worker decides
/// it, after this (see `engine::worker`).
pub fn passes_filters(sub: &Subscription, entity: &Entity) -> bool {
    sub.q
        .as_ref()
        .is_none_or(|q| q.query.linked_depth() > 0 || q.query.matches(entity))
        && sub.scope_q.as_ref().is_none_or(|s| s.matches(entity))
        && sub.geo_q.as_ref().is_none_or(|g| g.matches_entity(entity))
}

/// The trigger this write fires for this subscription, if any.
///
/// - Creation: `entityCreated`; with only attribute triggers, `attributeCreated` when the new
///   entity carries a watched attribute (so the default triggers notify new entities, as
///   Orion-LD does).
/// - Deletion: `entityDeleted`; else `attributeDeleted` when the entity had a watched
///   attribute.
/// - Update: `attributeCreated`/`attributeUpdated`/`attributeDeleted` for a watched attribute
///   the write created/updated/deleted, else `entityUpdated` for any watched change.
fn fired_trigger(sub: &Subscription, event: &ChangeEvent, entity: &Entity) -> Option<Trigger> {
    let watched = |name: &str| {
        sub.watched_attributes.is_empty() || sub.watched_attributes.iter().any(|w| w == name)
    };
    if event.is_deletion() {
        if sub.has_trigger(Trigger::EntityDeleted) {
            return Some(Trigger::EntityDeleted);
        }
        // Deleting an entity deletes its attributes: a watched one fires attributeDeleted.
        let deleted = entity.attributes.keys().any(|a| watched(a));
        return (sub.has_trigger(Trigger::AttributeDeleted) && deleted)
            .then_some(Trigger::AttributeDeleted);
    }
    if event.is_creation() {
        if sub.has_trigger(Trigger::EntityCreated) {
            let any_watched =
                sub.watched_attributes.is_empty() || entity.attributes.keys().any(|a| watched(a));
            return any_watched.then_some(Trigger::EntityCreated);
        }
        let created = entity.attributes.keys().any(|a| watched(a));
        return (sub.has_trigger(Trigger::AttributeCreated) && created)
            .then_some(Trigger::AttributeCreated);
    }
    let changes = &event.changes;
    let candidates = [
        (Trigger::AttributeCreated, &changes.created),
        (Trigger::AttributeUpdated, &changes.updated),
        (Trigger::AttributeDeleted, &changes.deleted),
    ];
    for (trigger, names) in candidates {
        if sub.has_trigger(trigger) && names.iter().any(|n| watched(n)) {
            return Some(trigger);
        }
    }
    let any_change = changes.touched().any(watched)
        || (sub.watched_attributes.is_empty() && changes.entity_changed);
    (sub.has_trigger(Trigger::EntityUpdated) && any_change).then_some(Trigger::EntityUpdated)
}
