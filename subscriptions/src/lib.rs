//! # subscriptions: Oxion's subscription engine
//!
//! NGSI-LD subscriptions (ETSI GS CIM 009 v1.8, clauses 5.2.12, 5.2.14-5.2.15, 5.8 and 5.11):
//! a client asks to be told when entities change; the broker tells this crate about every
//! change; this crate decides who is told and tells them, over HTTP or MQTT.
//!
//! - [`model`]: the [`Subscription`] type, read from and written to its API form with an
//!   @context (validation included), patched by Update Subscription, and stored as a serde
//!   document.
//! - [`event`]: the [`ChangeEvent`] the broker's write path emits.
//! - [`registry`] and [`matching`]: which subscriptions an event concerns, found through
//!   per-tenant indexes by entity id, type and attribute, then decided by the selectors,
//!   triggers and the `q`/`scopeQ`/`geoQ` filters.
//! - [`notification`]: the Notification payload (clause 5.3.1).
//! - [`delivery`]: one attempt to send a notification, HTTP POST or MQTT publish (the
//!   broker's csource notifications use it too).
//! - [`csource`]: Context Source Registration Subscriptions (clause 5.11): the subscription
//!   model plus `temporalQ`, matched against registrations, and the CsourceNotification.
//! - [`engine`]: the tasks: a dispatcher that owns the registry, and a worker per
//!   subscription that delivers in order, throttles, retries and keeps the status counters.
//!
//! Wiring it into a broker takes a few lines:
//!
//! ```no_run
//! # async fn wire(store_events: Vec<subscriptions::ChangeEvent>) -> Result<(), subscriptions::Error> {
//! use std::sync::Arc;
//! use chrono::Utc;
//! use ngsi_types::context::ActiveContext;
//! use subscriptions::{Engine, EngineConfig, NoEntities, Subscription};
//!
//! let engine = Engine::start(EngineConfig::default(), Arc::new(NoEntities));
//! let ctx = ActiveContext::core();
//! let body = serde_json::json!({
//!     "type": "Subscription",
//!     "entities": [{"type": "Vehicle"}],
//!     "notification": {"endpoint": {"uri": "http://127.0.0.1:9000/notify"}}
//! });
//! let sub = Subscription::parse(&body, &ctx, Utc::now())?;
//! engine.upsert(None, sub, ctx.clone()).await?;
//! for event in store_events {
//!     let _ = engine.notify(event); // never waits; Err only when overloaded or stopped
//! }
//! engine.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Architecture invariant: the engine consumes change events; it never polls the store (the
//! periodic `timeInterval` notifications ask the broker through [`EntitySource`]). Every
//! queue is bounded, and a slow endpoint slows only its own subscription.

pub mod csource;
pub mod delivery;
pub mod egress;
pub mod engine;
pub mod error;
pub mod event;
pub mod matching;
pub mod model;
pub mod notification;
pub mod registry;
pub mod status;

pub use engine::{
    Engine, EngineConfig, EngineHandle, EngineStats, EntitySource, NoEntities, StatsSnapshot,
};
pub use error::{Error, Result};
pub use event::ChangeEvent;
pub use model::{
    Accept, ActiveSubscription, Endpoint, EntitySelection, KeyValue, NotificationParams, State,
    Subscription, Trigger, CORE_CONTEXT_URL,
};
pub use notification::Notification;
pub use status::SubscriptionStatus;
