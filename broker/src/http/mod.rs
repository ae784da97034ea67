//! The HTTP binding's plumbing (GS CIM 009 clause 6.3): what every route needs before and
//! after calling a service. [`extract`] turns a request into typed values (tenant, @context,
//! body, parameters, path ids) as actix extractors; the modules below it hold the rules they
//! apply; [`respond`] renders responses.

pub mod body;
pub mod extract;
pub mod front;
pub mod lenient_target;
pub mod media;
pub mod pagination;
pub mod params;
pub mod prefer;
pub mod purge_request;
pub mod query_request;
pub mod refusal;
pub mod respond;
pub mod temporal_request;
pub mod tenant;
pub mod tls;
