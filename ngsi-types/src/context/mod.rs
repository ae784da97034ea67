//! JSON-LD @context handling: the NGSI-LD core context, user contexts, term expansion and IRI
//! compaction.
//!
//! NGSI-LD stores and matches every entity type and attribute name by its expanded IRI, while
//! clients speak in short terms defined by the @context of each request (GS CIM 009 4.4 and
//! 5.5.7). This module turns a request's @context into an [`ActiveContext`] and uses it in
//! both directions: [`ActiveContext::expand_term`] on the way in, and
//! [`ActiveContext::compact_iri`] on the way out.
//!
//! - [`core`](self::core): the core context v1.8, compiled in, always applied last.
//! - `processing`: the JSON-LD 1.1 context processing algorithm, synchronous and I/O-free.
//! - [`ActiveContext`]: the processed result, with the reverse maps compaction needs.
//! - [`ContextSource`], [`ContextLoader`], [`ContextResolver`]: where a context comes from,
//!   how the broker fetches remote ones, and the cache that makes repeated requests cheap.
//!
//! Invariant: nothing here does I/O or needs an async runtime. Remote documents arrive
//! through the [`ContextLoader`] trait, whose futures the broker's runtime drives.

mod active;
mod cache;
pub mod core;
mod iri;
mod loader;
mod processing;
mod resolver;
mod source;
mod term;

#[cfg(test)]
mod tests;

pub use self::active::ActiveContext;
pub use self::cache::json_bytes;
pub use self::core::{
    core_context_json, is_core_context_url, CORE_CONTEXT_DOCUMENT, CORE_CONTEXT_URL,
    CORE_CONTEXT_URLS,
};
pub use self::loader::ContextLoader;
pub use self::resolver::{CacheUse, ContextResolver, ResolverLimits};
pub use self::source::ContextSource;
pub use self::term::{Container, TermDefinition, TypeMapping};

/// Prefix of the NGSI-LD core vocabulary.
pub const NGSI_LD_PREFIX: &str = "https://uri.etsi.org/ngsi-ld/";
/// `@vocab` of the core context: where unknown terms expand to.
pub const DEFAULT_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/default-context/";
/// How many remote contexts may nest inside one another before processing gives up
/// (JSON-LD's "context overflow").
pub const DEFAULT_MAX_DEPTH: usize = 10;
