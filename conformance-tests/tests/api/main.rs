//! The black-box API suite, one module per area of GS CIM 009 (one test binary, so one build
//! and one shared broker process).

mod attrs;
mod batch;
mod context;
mod durability;
mod entities;
mod errors;
mod formats;
mod geo;
mod meta;
mod query;
mod subscriptions;
mod tenancy;
mod transient;
mod types;
