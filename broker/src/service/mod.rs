//! The broker's operations on entities, between the HTTP routes and the store: tenant checks,
//! read-modify-write with optimistic concurrency, and batches.
//!
//! Every write is planned by a pure function of the entity as it is now (the semantics live in
//! `ngsi_types::update`), then committed under a version precondition; on a conflict the plan is
//! simply run again on the fresh entity. Batches commit all their entities in one store call, so
//! the embedded store makes them durable in one group commit.

mod delivery_status;
mod entities;
mod entity_source;

pub use delivery_status::{OtherInstances, SharedDeliveryStatus};
pub use entities::{not_found, update_plan, Done, Entities, Plan, Planned};
pub use entity_source::StoreEntitySource;
