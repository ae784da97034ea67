//! # broker: the Oxion NGSI-LD context broker
//!
//! Storage lives behind the [`store::Store`] trait, with an embedded durable backend (default)
//! and MongoDB. The HTTP API (actix-web) sits on top and only ever sees the trait.

pub mod store;
