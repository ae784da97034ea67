//! # ngsi-types: the typed NGSI-LD model
//!
//! Everything Oxion knows about NGSI-LD (ETSI GS CIM 009 v1.8) that does not need I/O:
//!
//! - [`entity`] and [`attribute`]: the model. Entities hold attributes of the eight kinds, keyed
//!   by *expanded* IRI, with several instances per attribute when datasetIds differ.
//! - [`context`]: JSON-LD @context processing. The core context ships inside the crate; user
//!   contexts are resolved through a loader trait that the broker implements, so this crate never
//!   touches the network. Term expansion and IRI compaction are cached per context.
//! - [`format`]: reading normalized and concise payloads into the model (with every validation
//!   rule as a typed error) and rendering the model as normalized, concise, keyValues or GeoJSON.
//! - [`query`]: `q`, `scopeQ`, type expressions, `idPattern`, `geoQ` and projections parsed into
//!   ASTs and evaluated against entities.
//! - [`temporal`]: the temporal query, the temporal representations and aggregations.
//! - [`error`]: the one error enum, and the table that maps each error to its NGSI-LD type.
//!
//! Architecture invariant: no I/O, no async runtime, no web framework. The broker and the
//! subscription engine build on this crate; it builds on nothing of theirs.

pub mod attribute;
pub mod context;
pub mod datetime;
pub mod entity;
pub mod error;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod geojson;
pub mod ident;
pub mod json_member;
pub mod query;
pub mod registration;
pub mod temporal;
pub mod update;

pub use attribute::{Attribute, AttributeKind, AttributeValue};
pub use entity::Entity;
pub use error::{ErrorType, NgsiError, ProblemDetails};
