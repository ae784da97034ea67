//! # broker: the Oxion NGSI-LD context broker
//!
//! A request flows through: [`routes`] (one module per resource; thin handlers) ->
//! [`http`] (tenant, body, media types, parameters, @context) -> [`service`] (tenant checks,
//! read-modify-write with optimistic concurrency, batches; the write semantics themselves are
//! pure functions in `ngsi_types::update`) -> [`store::Store`] (the embedded durable store by
//! default, MongoDB in production clusters). Errors of every layer become NGSI-LD ProblemDetails
//! in exactly one place, [`error`].

pub mod auth;
pub mod config;
pub mod contexts;
pub mod error;
pub mod expiry;
pub mod http;
pub mod metrics;
pub mod routes;
pub mod server;
pub mod service;
pub mod state;
pub mod store;
