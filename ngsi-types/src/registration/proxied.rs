//! The rules of proxied registrations (GS CIM 009 clause 4.3.6.3, 5.9.2.4, 5.9.3.4): an
//! exclusive registration is the only home of given Attributes of given Entities, so it may
//! not overlap another exclusive or a redirect registration, nor Attributes the broker holds
//! itself; a redirect registration may not cover entities the broker holds, nor overlap an
//! exclusive one. Redirect registrations may overlap each other.

use super::{CSourceRegistration, EntityInfo, Mode, RegistrationInfo};
use crate::entity::Entity;
use crate::query::filter::{EntityFilter, EntitySelector};
use crate::query::type_expr::{IdPattern, TypeExpr, TypeNode};

/// True if `new`, being registered (or updated), conflicts with the stored `existing`
/// registration (another id): 409 Conflict.
pub fn conflicts(new: &CSourceRegistration, existing: &CSourceRegistration) -> bool {
    if new.id == existing.id {
        return false;
    }
    match (new.mode(), existing.mode()) {
        (Mode::Exclusive, other) if other.is_proxied() => overlaps(new, existing),
        (Mode::Redirect, Mode::Exclusive) => overlaps(existing, new),
        _ => false,
    }
}

/// True if `other` registers one of the (entity id, attribute) combinations the exclusive
/// registration `exclusive` registers.
fn overlaps(exclusive: &CSourceRegistration, other: &CSourceRegistration) -> bool {
    exclusive.information.iter().any(|info| {
        info.entities.iter().any(|e| {
            e.id.as_deref().is_some_and(|id| {
                info.attributes()
                    .any(|attr| covers(other, id, &e.types, attr))
            })
        })
    })
}

/// True if a RegistrationInfo of `reg` is about the attribute `attr` of the entity `id` of
/// one of `types`.
fn covers(reg: &CSourceRegistration, id: &str, types: &[String], attr: &str) -> bool {
    reg.information.iter().any(|info| {
        let attribute = info.names_no_attribute() || info.attributes().any(|a| a == attr);
        let entity = info.entities.is_empty()
            || info
                .entities
                .iter()
                .any(|e| e.types.iter().any(|t| types.contains(t)) && entity_info_takes_id(e, id));
        attribute && entity
    })
}

fn entity_info_takes_id(e: &EntityInfo, id: &str) -> bool {
    match (&e.id, &e.id_pattern) {
        (Some(own), _) => own == id,
        (None, Some(p)) => IdPattern::new(p).is_ok_and(|p| p.is_match(id)),
        (None, None) => true,
    }
}

/// The entities of the broker that may conflict with a proxied registration, as store
/// filters: one per RegistrationInfo, with the attributes of which a candidate must have one
/// (`None`: any). Inclusive and auxiliary registrations have none. Each candidate is then
/// decided by [`holds_registered_data`].
pub fn candidate_filters(reg: &CSourceRegistration) -> Vec<(EntityFilter, Option<Vec<String>>)> {
    if !reg.mode().is_proxied() {
        return Vec::new();
    }
    reg.information
        .iter()
        .map(|info| {
            let selectors = info.entities.iter().map(selector).collect();
            let attrs = (!info.names_no_attribute())
                .then(|| info.attributes().map(str::to_owned).collect());
            (
                EntityFilter {
                    selectors,
                    ..EntityFilter::default()
                },
                attrs,
            )
        })
        .collect()
}

fn selector(e: &EntityInfo) -> EntitySelector {
    let node = match e.types.as_slice() {
        [one] => TypeNode::Type(one.clone()),
        many => TypeNode::Or(many.iter().cloned().map(TypeNode::Type).collect()),
    };
    EntitySelector {
        id: e.id.clone(),
        id_pattern: e.id_pattern.as_deref().and_then(|p| IdPattern::new(p).ok()),
        types: Some(TypeExpr::from_node(node)),
    }
}

/// True if the broker holds data of `entity` that the proxied registration `reg` says is held
/// by the source: for an exclusive registration one of the registered Attributes of a
/// registered entity (5.9.2.4), for a redirect registration a matching entity (with one of the
/// registered Attributes, when it names some).
pub fn holds_registered_data(reg: &CSourceRegistration, entity: &Entity) -> bool {
    let selected = |info: &RegistrationInfo| {
        info.entities.is_empty() || info.entities.iter().any(|e| selector(e).matches(entity))
    };
    let has_attribute = |info: &RegistrationInfo| {
        info.names_no_attribute() || info.attributes().any(|a| entity.attributes.contains_key(a))
    };
    match reg.mode() {
        Mode::Exclusive | Mode::Redirect => reg
            .information
            .iter()
            .any(|info| selected(info) && has_attribute(info)),
        Mode::Inclusive | Mode::Auxiliary => false,
    }
}
