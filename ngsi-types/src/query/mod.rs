//! The NGSI-LD query language (clause 4.9 - 4.11, 4.15-4.21): parsed into typed ASTs and evaluated
//! against entities in Rust.

pub mod filter;
pub mod geo;
pub mod options;
pub mod order;
pub mod projection;
pub mod q;
pub mod scope;
pub mod type_expr;

/// The temporal properties the system keeps (clause 4.8): an `attrs` or `q` that names only
/// these does not narrow a query (clause 5.7.2.4 b, c).
pub const SYSTEM_ATTRIBUTES: [&str; 3] = ["createdAt", "modifiedAt", "deletedAt"];
