//! Retrieve and Query Temporal Evolution requests (clauses 5.7.3, 5.7.4, 6.18.3.2, 6.19.3.1,
//! 6.24): from URI parameters, or from the Query body of POST
//! /temporal/entityOperations/query (its `temporalQ` member, clause 5.2.23), turned into a
//! store selection plus what the rendering needs.

use ngsi_types::context::ActiveContext;
use ngsi_types::query::projection::{LangFilter, Projection};
use ngsi_types::query::q::Query;
use ngsi_types::temporal::aggregate::{Aggregation, Method};
use ngsi_types::temporal::duration::IsoDuration;
use ngsi_types::temporal::{TemporalFormat, TemporalOptions, TemporalQuery, TemporalRender};
use serde_json::Value;

use crate::config::Config;
use crate::error::{BrokerError, BrokerResult};
use crate::http::params::Params;
use crate::http::query_request::{
    dataset_ids, expanded, too_wide, EntityRendering, QueryRequest, UriFilter,
};
use crate::store::{EntityQuery, TemporalPage, TemporalSelection};

crate::param_set! {
    /// URI parameters of GET /temporal/entities (Table 6.18.3.2-1).
    pub TemporalQueryParams = [
        "id", "type", "idPattern", "attrs", "pick", "omit", "q", "scopeQ", "georel",
        "geometry", "coordinates", "geoproperty", "csf", "lang", "limit", "offset", "count",
        "options", "format", "local", "datasetId", "timerel", "timeAt", "endTimeAt",
        "timeproperty", "lastN", "aggrMethods", "aggrPeriodDuration", "orderBy", "collation",
        "expandValues", "jsonKeys", "splitEntities",
    ];
    /// URI parameters of GET /temporal/entities/{entityId} (Table 6.19.3.1-1).
    pub TemporalRetrieveParams = [
        "attrs", "pick", "omit", "lang", "options", "format", "local", "datasetId", "timerel",
        "timeAt", "endTimeAt", "timeproperty", "lastN", "aggrMethods", "aggrPeriodDuration",
        "type",
    ];
    /// URI parameters of POST /temporal/entityOperations/query (clause 6.24.3.1).
    pub TemporalBodyQueryParams = ["limit", "offset", "count", "options", "format", "local"];
}

/// How a temporal answer is rendered.
#[derive(Debug, Default)]
pub struct TemporalRendering {
    pub options: TemporalOptions,
    pub query: TemporalQuery,
    pub aggregation: Option<Aggregation>,
    pub lang: Option<LangFilter>,
    pub projection: Projection,
}

impl TemporalRendering {
    /// True if the answer's instances are cut to the broker's budget (clause 6.3.10); an
    /// aggregation reads every instance of its range and answers with periods instead.
    pub fn partial(&self) -> bool {
        self.options.format != TemporalFormat::AggregatedValues
    }

    /// Retrieve's answer when the projection leaves nothing of the evolution (5.7.3.4, as
    /// Retrieve Entity: ResourceNotFound).
    pub fn check_retrieved(&self, entity: &ngsi_types::Entity) -> BrokerResult<()> {
        if self.projection.keeps_any_of(entity) {
            return Ok(());
        }
        Err(BrokerError::NotFound(format!(
            "the temporal evolution of '{}' has none of the requested members",
            entity.id
        )))
    }

    pub fn render(&self) -> TemporalRender<'_> {
        TemporalRender {
            options: self.options,
            query: &self.query,
            aggregation: self.aggregation.as_ref(),
            lang: self.lang.as_ref(),
            projection: Some(&self.projection),
        }
    }
}

/// A temporal retrieval or query.
#[derive(Debug)]
pub struct TemporalRequest {
    pub selection: TemporalSelection,
    pub rendering: TemporalRendering,
}

/// The members of a temporal query, whichever form they come in.
struct TemporalMembers<'a> {
    timerel: Option<&'a str>,
    time_at: Option<&'a str>,
    end_time_at: Option<&'a str>,
    timeproperty: Option<&'a str>,
    last_n: Option<&'a str>,
    aggr_methods: Option<Vec<String>>,
    aggr_period: Option<&'a str>,
}

impl TemporalRequest {
    /// GET /temporal/entities/{entityId}.
    pub fn retrieve(p: &Params, ctx: &ActiveContext) -> BrokerResult<Self> {
        let options = TemporalOptions::parse(p.get("options")?, p.get("format")?)?;
        let members = uri_members(p)?;
        let mut request = Self::build(options, &members, p, ctx, false)?;
        if let Some(t) = p.get("type")? {
            let types = ngsi_types::query::type_expr::TypeExpr::parse(t)?.expand(ctx);
            request.selection.filter = Some(std::sync::Arc::new(crate::store::EntityFilter {
                types: Some(types),
                ..Default::default()
            }));
        }
        Ok(request)
    }

    /// GET /temporal/entities: the entity selection of Query Entities, plus the temporal
    /// query, which is required (5.7.4.4).
    pub fn query(p: &Params, ctx: &ActiveContext, config: &Config) -> BrokerResult<Self> {
        let options = TemporalOptions::parse(p.get("options")?, p.get("format")?)?;
        let members = uri_members(p)?;
        // attrs: the same expansion `build` makes, from the same parameter.
        let UriFilter {
            filter, narrows, ..
        } = UriFilter::from_params(p, ctx)?;
        refuse_linked(filter.q.as_ref(), None)?;
        if !narrows && !p.flag("local")? {
            return Err(too_wide());
        }
        let mut request = Self::build(options, &members, p, ctx, true)?;
        request.selection.descending = id_order(p.list("orderBy")?)?;
        if p.get("collation")?.is_some() && p.get("orderBy")?.is_none() {
            return Err(BrokerError::BadRequestData(
                "collation is part of an ordering: it needs orderBy".into(),
            ));
        }
        let store = EntityQuery::filtered(filter);
        request.selection.ids = store.ids;
        request.selection.any_type = store.any_type;
        request.selection.filter = store.filter;
        request.selection.limit = p.limit(config.default_limit, config.max_limit)?;
        request.selection.offset = p.number("offset")?.unwrap_or(0);
        request.selection.count = p.flag("count")?;
        Ok(request)
    }

    /// POST /temporal/entityOperations/query: a Query (clause 5.2.23) whose `temporalQ`
    /// (clause 5.2.21) is the temporal query.
    pub fn from_body(
        body: &Value,
        p: &Params,
        ctx: &ActiveContext,
        config: &Config,
    ) -> BrokerResult<Self> {
        let mut body = body.clone();
        let temporal_q = body
            .as_object_mut()
            .and_then(|m| m.remove("temporalQ"))
            .ok_or_else(|| {
                BrokerError::BadRequestData("the Query has no temporalQ (clause 5.7.4.4)".into())
            })?;
        let tq = temporal_q.as_object().ok_or_else(|| {
            BrokerError::BadRequestData("Query.temporalQ must be a TemporalQuery object".into())
        })?;
        let text = |member: &str| -> BrokerResult<Option<String>> {
            match tq.get(member) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) if member == "lastN" => Ok(Some(n.to_string())),
                Some(other) => Err(BrokerError::BadRequestData(format!(
                    "temporalQ.{member} must be a string, not {other}"
                ))),
            }
        };
        // GS CIM 5.2.44: the aggregation parameters, as the Query's aggrParams or inside
        // its temporalQ; either one asks for the aggregated representation.
        let aggr_params = body.as_object_mut().and_then(|m| m.remove("aggrParams"));
        let aggr = match &aggr_params {
            None => tq,
            Some(Value::Object(params)) => params,
            Some(other) => {
                return Err(BrokerError::BadRequestData(format!(
                    "Query.aggrParams must be an AggregationParams object, not {other}"
                )))
            }
        };
        let aggr_methods = match aggr.get("aggrMethods") {
            None => None,
            Some(Value::String(s)) => Some(vec![s.clone()]),
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        BrokerError::BadRequestData(
                            "aggrMethods must be an array of strings".into(),
                        )
                    })?,
            ),
            Some(other) => {
                return Err(BrokerError::BadRequestData(format!(
                    "aggrMethods must be an array of strings, not {other}"
                )))
            }
        };
        let aggr_period = match aggr.get("aggrPeriodDuration") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(BrokerError::BadRequestData(format!(
                    "aggrPeriodDuration must be a string, not {other}"
                )))
            }
        };
        let (timerel, time_at, end_time_at, timeproperty, last_n) = (
            text("timerel")?,
            text("timeAt")?,
            text("endTimeAt")?,
            text("timeproperty")?,
            text("lastN")?,
        );
        let members = TemporalMembers {
            timerel: timerel.as_deref(),
            time_at: time_at.as_deref(),
            end_time_at: end_time_at.as_deref(),
            timeproperty: timeproperty.as_deref(),
            last_n: last_n.as_deref(),
            aggr_methods,
            aggr_period: aggr_period.as_deref(),
        };
        let mut options = TemporalOptions::parse(p.get("options")?, p.get("format")?)?;
        let aggregating = members.aggr_methods.is_some() || members.aggr_period.is_some();
        if aggregating && !names_a_representation(p)? {
            options.format = TemporalFormat::AggregatedValues;
        }
        let query = QueryRequest::from_body_selection(&body, ctx, p.flag("local")?)?;
        refuse_linked(query.filter.q.as_ref(), Some(&query.rendering))?;
        let mut request = Self::build(options, &members, p, ctx, true)?;
        let store = EntityQuery::filtered(query.filter);
        request.selection.ids = store.ids;
        request.selection.any_type = store.any_type;
        request.selection.filter = store.filter;
        request.selection.attrs = query.attrs;
        request.rendering.projection = query.rendering.projection;
        request.rendering.lang = query.rendering.lang;
        request.selection.limit = p.limit(config.default_limit, config.max_limit)?;
        request.selection.offset = p.number("offset")?.unwrap_or(0);
        request.selection.count = p.flag("count")?;
        Ok(request)
    }

    fn build(
        options: TemporalOptions,
        m: &TemporalMembers<'_>,
        p: &Params,
        ctx: &ActiveContext,
        timerel_required: bool,
    ) -> BrokerResult<Self> {
        let query = TemporalQuery::parse(m.timerel, m.time_at, m.end_time_at, m.timeproperty)?;
        if timerel_required && query.timerel.is_none() {
            return Err(BrokerError::BadRequestData(
                "a temporal query needs timerel and timeAt (clause 5.7.4.4)".into(),
            ));
        }
        let last_n = m
            .last_n
            .map(|n| match n.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(BrokerError::BadRequestData(format!(
                    "lastN must be a positive integer, not '{n}'"
                ))),
            })
            .transpose()?;
        let aggregation = aggregation(options, m)?;
        let attrs = expanded(p.list("attrs")?.as_deref(), ctx);
        let dataset_ids = dataset_ids(p)?;
        let projection = Projection::parse(p.get("attrs")?, p.get("pick")?, p.get("omit")?, ctx)?;
        if projection.depth() > 0 {
            return Err(linked_refused("the projection"));
        }
        Ok(Self {
            selection: TemporalSelection {
                attrs,
                dataset_ids,
                time: query,
                last_n,
                limit: 1,
                ..TemporalSelection::default()
            },
            rendering: TemporalRendering {
                options,
                query,
                aggregation,
                lang: p.get("lang")?.map(LangFilter::parse).transpose()?,
                projection,
            },
        })
    }

    /// Where `page` sits in all the matches (for pagination links).
    pub fn page(&self, page: &TemporalPage) -> crate::http::pagination::Page {
        crate::http::pagination::Page {
            offset: self.selection.offset,
            limit: self.selection.limit,
            returned: page.entities.len(),
            total: page.total,
        }
    }
}

fn uri_members(p: &Params) -> BrokerResult<TemporalMembers<'_>> {
    Ok(TemporalMembers {
        timerel: p.get("timerel")?,
        time_at: p.get("timeAt")?,
        end_time_at: p.get("endTimeAt")?,
        timeproperty: p.get("timeproperty")?,
        last_n: p.get("lastN")?,
        aggr_methods: p.list("aggrMethods")?,
        aggr_period: p.get("aggrPeriodDuration")?,
    })
}

/// `aggrMethods` and `aggrPeriodDuration` (clause 4.5.19): required and meaningful only with
/// the aggregated representation.
fn aggregation(
    options: TemporalOptions,
    m: &TemporalMembers<'_>,
) -> BrokerResult<Option<Aggregation>> {
    let period = m
        .aggr_period
        .map(|d| IsoDuration::parse("aggrPeriodDuration", d))
        .transpose()?;
    let methods = m
        .aggr_methods
        .as_ref()
        .map(|list| Method::parse_list(&list.join(",")))
        .transpose()?;
    if options.format != TemporalFormat::AggregatedValues {
        return Ok(None);
    }
    let methods = methods.filter(|m| !m.is_empty()).ok_or_else(|| {
        BrokerError::BadRequestData("aggregatedValues needs aggrMethods (clause 4.5.19)".into())
    })?;
    Ok(Some(Aggregation {
        methods,
        period: period.unwrap_or_default(),
    }))
}

/// True if `format` or `options` choose a representation.
fn names_a_representation(p: &Params) -> BrokerResult<bool> {
    Ok(p.get("format")?.is_some()
        || p.list("options")?
            .is_some_and(|tokens| tokens.iter().any(|t| t != "sysAttrs")))
}

/// The ordering of a temporal query: by `id` only (5.7.4.4), ascending unless `;desc`.
/// Returns true for descending.
fn id_order(order_by: Option<Vec<String>>) -> BrokerResult<bool> {
    let Some(keys) = order_by else {
        return Ok(false);
    };
    match keys.as_slice() {
        [key] => match key.as_str() {
            "id" | "id;asc" => Ok(false),
            "id;desc" => Ok(true),
            other => Err(BrokerError::BadRequestData(format!(
                "a temporal query is ordered by id only, not by '{other}' (clause 5.7.4.4)"
            ))),
        },
        _ => Err(BrokerError::BadRequestData(
            "a temporal query is ordered by id only (clause 5.7.4.4)".into(),
        )),
    }
}

/// GS CIM 009 5.7.3.4, 5.7.4.4: temporal retrieval has no Linked Entity retrieval, so a query
/// or a projection through Relationships, or a `join`, is BadRequestData.
fn refuse_linked(q: Option<&Query>, rendering: Option<&EntityRendering>) -> BrokerResult<()> {
    if q.is_some_and(|q| q.linked_depth() > 0) {
        return Err(linked_refused("q"));
    }
    if rendering.is_some_and(EntityRendering::uses_linked_entities) {
        return Err(linked_refused("the Query"));
    }
    Ok(())
}

fn linked_refused(what: &str) -> BrokerError {
    BrokerError::BadRequestData(format!(
        "{what} asks for Linked Entities, which temporal evolutions do not have"
    ))
}
