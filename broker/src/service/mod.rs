//! The broker's operations, one service per resource family, between the HTTP routes and the
//! store. Routes hand a service a typed command (an [`EntityOperation`], a parsed query, a
//! subscription body with its @context) and render what it returns; nothing above this
//! module calls the store. Each service owns its store documents, applies the tenancy rule
//! ([`tenancy`]) itself, and reads the time from its [`Clock`].
//!
//! | family | service | store data |
//! |---|---|---|
//! | entities, attributes, batches, purge, expiry (5.6, 5.7.1-5.7.2) | [`Entities`] | entities |
//! | subscriptions (5.8) | [`Subscriptions`] | `Subscription` documents, the engine |
//! | @contexts (5.13) | [`JsonLdContexts`] | `JsonLdContext` documents, the registry |
//! | types and attributes (5.7.5-5.7.10) | [`Catalog`] | the store's summaries |
//! | health | [`Health`] | the store's own check |
//! | Context Source identity (5.15) | [`SourceIdentity`] | a `SourceIdentity` document |
//! | temporal evolutions (5.6.11-5.6.16, 5.7.3-5.7.4) | [`TemporalEntities`] | temporal heads and instances |
//! | context source registrations (5.9, 5.10) | [`Registrations`] | `Registration` documents |
//! | csource registration subscriptions (5.11) | [`CsourceSubscriptions`] | `CsourceSubscription` documents, the [`CsourceNotifier`] |
//!
//! The API families still to come get a service of their own here, in the same shape:
//! the distributed operations that forward requests to registered sources (4.3), entity maps and
//! snapshots in `entity_maps`.
//!
//! Every entity write is planned by a pure function of the entity as it is now (the
//! semantics live in `ngsi_types::update`, chosen by [`EntityOperation`]), then committed under
//! a version precondition; on a conflict the plan is simply run again on the fresh entity.
//! Batches commit all their entities in one store call, so the embedded store makes them
//! durable in one group commit.

mod catalog;
mod clock;
mod csource_subscriptions;
mod delivery_status;
mod entities;
mod entity_source;
mod health;
mod history;
mod jsonld_contexts;
mod limits;
mod linked;
mod operation;
mod registrations;
mod source_identity;
mod subscriptions;
mod temporal;
pub mod tenancy;

pub use catalog::Catalog;
pub use clock::Clock;
pub use csource_subscriptions::{
    CsourceNotifier, CsourceSubscriptionPage, CsourceSubscriptionView, CsourceSubscriptions,
};
pub use delivery_status::{OtherInstances, SharedDeliveryStatus};
pub use entities::{BatchItem, BatchKind, BatchResult, Done, Entities, PurgeAction};
pub use entity_source::StoreEntitySource;
pub use health::Health;
pub use history::{History, TemporalStats};
pub use jsonld_contexts::JsonLdContexts;
pub use limits::{Limits, DEFAULT_MAX_ID_BYTES, DEFAULT_MAX_NAME_BYTES};
pub use operation::{not_found, EntityOperation, Planned, UpsertMode};
pub use registrations::{RegistrationPage, Registrations};
pub use source_identity::SourceIdentity;
pub use subscriptions::{SubscriptionPage, SubscriptionView, Subscriptions};
pub use temporal::{TemporalAnswer, TemporalEntities, Upserted};
