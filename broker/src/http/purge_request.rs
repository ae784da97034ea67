//! The URI parameters of Purge Entities (GS CIM 009 clause 5.6.21, Table 6.4.3.3-1): which
//! entities (the filter of Query Entities), what goes (`drop`, `keep`), and the rule that a
//! purge must not be too wide.

use ngsi_types::context::ActiveContext;
use ngsi_types::query::q::Query;

use super::media::MediaType;
use super::params::Params;
use super::query_request::QueryRequest;
use crate::config::Config;
use crate::error::{BrokerError, BrokerResult};
use crate::service::PurgeAction;
use crate::store::EntityQuery;

/// Attributes every entity has, which therefore restrict nothing (clause 4.8).
const SYSTEM_ATTRIBUTES: &[&str] = &["createdAt", "modifiedAt", "deletedAt"];

/// A parsed purge: the store query selecting the entities, and what to do to them.
#[derive(Debug)]
pub struct PurgeRequest {
    pub query: EntityQuery,
    pub action: PurgeAction,
}

impl PurgeRequest {
    pub fn from_params(p: &Params, ctx: &ActiveContext, config: &Config) -> BrokerResult<Self> {
        check_wide_enough(p)?;
        let action = match (p.list("drop")?, p.list("keep")?) {
            (Some(_), Some(_)) => {
                return Err(BrokerError::BadRequestData(
                    "drop and keep cannot be given together".into(),
                ))
            }
            (Some(names), None) => PurgeAction::Drop(expand(&names, ctx)),
            (None, Some(names)) => PurgeAction::Keep(expand(&names, ctx)),
            (None, None) => PurgeAction::Entities,
        };
        // The purge's own narrowing rule (above) stands for the query's (5.7.2.4).
        let query = QueryRequest::selection(p, ctx, config, MediaType::Json)?.store_query();
        Ok(Self { query, action })
    }
}

fn expand(names: &[String], ctx: &ActiveContext) -> Vec<String> {
    names
        .iter()
        .map(|n| ctx.expand_term(n).into_owned())
        .collect()
}

/// GS CIM 009 5.6.21.3-4: entity ids or an id pattern alone do not restrict a purge enough;
/// it needs a type selector, an Attribute list or a query naming a non-system Attribute, a
/// geoquery, or the local scope. Checked before anything is read or deleted.
fn check_wide_enough(p: &Params) -> BrokerResult<()> {
    let not_system = |name: &str| !SYSTEM_ATTRIBUTES.contains(&name);
    let attrs = p
        .list("attrs")?
        .is_some_and(|names| names.iter().any(|n| not_system(n)));
    let q = match p.get("q")? {
        Some(q) => Query::parse(q)?
            .terms()
            .any(|t| t.attribute.names.first().is_some_and(|n| not_system(n))),
        None => false,
    };
    if p.get("type")?.is_some() || attrs || q || p.get("georel")?.is_some() || p.flag("local")? {
        return Ok(());
    }
    Err(BrokerError::BadRequestData(
        "too wide purge: give type, attrs or q naming a non-system attribute, a geoquery, or local=true".into(),
    ))
}
