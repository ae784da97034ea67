//! The HTTP binding's plumbing (GS CIM 009 clause 6.3): what every route needs before and
//! after calling a service: the tenant, the request body and its media type, content
//! negotiation, the request's @context, query parameters, and rendering a response.

pub mod body;
pub mod media;
pub mod params;
pub mod query_request;
pub mod respond;
pub mod tenant;
