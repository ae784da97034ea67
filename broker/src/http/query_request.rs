//! A Query Entities request (clause 5.7.2, 6.4.3.2), from URI parameters or from the Query
//! body of POST /entityOperations/query (clause 5.2.23): parsed, expanded with the request's
//! @context, and turned into a store query plus what the response rendering needs.

use std::sync::Arc;

use ngsi_types::context::ActiveContext;
use ngsi_types::entity::LOCATION;
use ngsi_types::format::{Format, RenderOptions};
use ngsi_types::query::geo::{GeoQuery, GeoQueryParams};
use ngsi_types::query::options::Options;
use ngsi_types::query::projection::{LangFilter, Projection};
use ngsi_types::query::q::Query;
use ngsi_types::query::scope::ScopeQuery;
use ngsi_types::query::type_expr::{IdPattern, TypeExpr};
use serde_json::Value;

use crate::config::Config;
use crate::error::{BrokerError, BrokerResult};
use crate::http::params::Params;
use crate::store::{EntityFilter, EntityQuery, EntitySelector};

/// URI parameters of GET /entities.
pub const QUERY_PARAMS: &[&str] = &[
    "id",
    "type",
    "idPattern",
    "attrs",
    "pick",
    "omit",
    "q",
    "scopeQ",
    "georel",
    "geometry",
    "coordinates",
    "geoproperty",
    "geometryProperty",
    "csf",
    "lang",
    "limit",
    "offset",
    "count",
    "options",
    "format",
    "local",
    "datasetId",
    "containedBy",
    "join",
    "joinLevel",
];

/// Everything a query request asks for.
#[derive(Debug, Default)]
pub struct QueryRequest {
    pub ids: Option<Vec<String>>,
    /// Several EntitySelectors of a Query body, any of which an entity must match (a single
    /// selector is held in `ids`, `id_pattern` and `types` instead).
    pub selectors: Vec<EntitySelector>,
    pub id_pattern: Option<IdPattern>,
    pub types: Option<TypeExpr>,
    /// Expanded `attrs`: entities must have one of them, and only they are rendered.
    pub attrs: Option<Vec<String>>,
    pub q: Option<Query>,
    pub scope_q: Option<ScopeQuery>,
    /// The geo-query, with its geoproperty expanded.
    pub geo_q: Option<GeoQuery>,
    pub projection: Projection,
    pub lang: Option<LangFilter>,
    pub options: Options,
    /// Expanded name of the GeoProperty that is a GeoJSON Feature's geometry.
    pub geometry_property: String,
    pub limit: usize,
    pub offset: usize,
    pub count: bool,
}

impl QueryRequest {
    /// Parses GET /entities parameters.
    pub fn from_params(p: &Params, ctx: &ActiveContext, config: &Config) -> BrokerResult<Self> {
        let ids = p.list("id")?;
        if let Some(ids) = &ids {
            for id in ids {
                ngsi_types::ident::check_uri("id", id)?;
            }
        }
        let types = p
            .get("type")?
            .map(TypeExpr::parse)
            .transpose()?
            .map(|t| t.expand(ctx));
        let attrs = p.list("attrs")?.map(|names| {
            names
                .iter()
                .map(|n| ctx.expand_term(n).into_owned())
                .collect::<Vec<_>>()
        });
        let q = p
            .get("q")?
            .map(Query::parse)
            .transpose()?
            .map(|q| q.expand(ctx));
        let scope_q = p.get("scopeQ")?.map(ScopeQuery::parse).transpose()?;
        let id_pattern = p.get("idPattern")?.map(IdPattern::new).transpose()?;
        let geo_q = GeoQuery::from_params(GeoQueryParams {
            georel: p.get("georel")?,
            geometry: p.get("geometry")?,
            coordinates: p.get("coordinates")?,
            geoproperty: p.get("geoproperty")?,
        })?
        .map(|mut g| {
            g.expand(ctx);
            g
        });
        let local = p.flag("local")?;
        if ids.is_none()
            && types.is_none()
            && attrs.is_none()
            && q.is_none()
            && id_pattern.is_none()
            && scope_q.is_none()
            && geo_q.is_none()
            && !local
        {
            // GS CIM 009 6.4.3.2: at least one of these must restrict the query.
            return Err(BrokerError::BadRequestData(
                "too broad query: give at least one of id, idPattern, type, attrs, q, scopeQ, geoQ or local=true".into(),
            ));
        }
        let projection = Projection::parse(p.get("attrs")?, p.get("pick")?, p.get("omit")?, ctx)?;
        let lang = p.get("lang")?.map(LangFilter::parse).transpose()?;
        let geometry_property = p
            .get("geometryProperty")?
            .map_or_else(|| LOCATION.to_owned(), |g| ctx.expand_term(g).into_owned());
        let limit = p.limit(config.default_limit, config.max_limit)?;
        Ok(Self {
            ids,
            selectors: Vec::new(),
            id_pattern,
            types,
            attrs,
            q,
            scope_q,
            geo_q,
            projection,
            lang,
            options: p.options()?,
            geometry_property,
            limit,
            offset: p.number("offset")?.unwrap_or(0),
            count: p.flag("count")?,
        })
    }

    /// Parses the Query body of POST /entityOperations/query (clause 5.2.23); paging and
    /// representation still come from URI parameters.
    pub fn from_body(
        body: &Value,
        p: &Params,
        ctx: &ActiveContext,
        config: &Config,
    ) -> BrokerResult<Self> {
        let map = body.as_object().ok_or_else(|| {
            BrokerError::BadRequestData("the Query body must be a JSON object".into())
        })?;
        match map.get("type").and_then(Value::as_str) {
            Some("Query") => {}
            _ => {
                return Err(BrokerError::BadRequestData(
                    "the Query body must have \"type\": \"Query\"".into(),
                ))
            }
        }
        let mut request = Self {
            limit: p.limit(config.default_limit, config.max_limit)?,
            offset: p.number("offset")?.unwrap_or(0),
            count: p.flag("count")?,
            options: p.options()?,
            geometry_property: LOCATION.to_owned(),
            ..Self::default()
        };
        let text = |member: &str| -> BrokerResult<Option<&str>> {
            match map.get(member) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(BrokerError::BadRequestData(format!(
                    "Query.{member} must be a string"
                ))),
            }
        };
        if let Some(entities) = map.get("entities") {
            let selectors = entities.as_array().ok_or_else(|| {
                BrokerError::BadRequestData("Query.entities must be an array".into())
            })?;
            let mut parsed = Vec::with_capacity(selectors.len());
            if selectors.is_empty() {
                return Err(BrokerError::BadRequestData(
                    "Query.entities must not be an empty array".into(),
                ));
            }
            for sel in selectors {
                let member = |name: &str| -> BrokerResult<Option<&str>> {
                    match sel.get(name) {
                        None => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.as_str())),
                        Some(other) => Err(BrokerError::BadRequestData(format!(
                            "Query.entities[].{name} must be a string, not {other}"
                        ))),
                    }
                };
                if !sel.is_object() {
                    return Err(BrokerError::BadRequestData(format!(
                        "Query.entities holds EntitySelector objects, not {sel}"
                    )));
                }
                let (id, pattern, ty) = (member("id")?, member("idPattern")?, member("type")?);
                if id.is_none() && pattern.is_none() && ty.is_none() {
                    return Err(BrokerError::BadRequestData(
                        "an EntitySelector of Query.entities needs a type, id or idPattern".into(),
                    ));
                }
                if let Some(id) = id {
                    ngsi_types::ident::check_uri("entities.id", id)?;
                }
                parsed.push(EntitySelector {
                    id: id.map(str::to_owned),
                    id_pattern: pattern.map(IdPattern::new).transpose()?,
                    types: ty.map(TypeExpr::parse).transpose()?.map(|t| t.expand(ctx)),
                });
            }
            // The store narrows by id when every selector names one.
            if !parsed.is_empty() && parsed.iter().all(|s| s.id.is_some()) {
                request.ids = Some(parsed.iter().filter_map(|s| s.id.clone()).collect());
            }
            if let [one] = parsed.as_slice() {
                request.id_pattern = one.id_pattern.clone();
                request.types = one.types.clone();
            } else {
                request.selectors = parsed;
            }
        }
        if let Some(attrs) = map.get("attrs") {
            let names: Vec<String> = attrs
                .as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                .ok_or_else(|| {
                    BrokerError::BadRequestData("Query.attrs must be an array of names".into())
                })?;
            request.projection = Projection::parse(Some(&names.join(",")), None, None, ctx)?;
            request.attrs = Some(
                names
                    .iter()
                    .map(|n| ctx.expand_term(n).into_owned())
                    .collect(),
            );
        }
        request.q = text("q")?
            .map(Query::parse)
            .transpose()?
            .map(|q| q.expand(ctx));
        request.scope_q = text("scopeQ")?.map(ScopeQuery::parse).transpose()?;
        request.lang = text("lang")?.map(LangFilter::parse).transpose()?;
        // GS CIM 009 5.2.23: the Query's geoQ is a GeoQuery object (clause 5.2.13).
        request.geo_q = map
            .get("geoQ")
            .map(GeoQuery::from_json)
            .transpose()?
            .map(|mut g| {
                g.expand(ctx);
                g
            });
        // The same restriction as GET /entities (clause 5.7.2, 6.4.3.2): a Query must narrow
        // the result by something.
        if !map.contains_key("entities")
            && request.attrs.is_none()
            && request.q.is_none()
            && request.scope_q.is_none()
            && request.geo_q.is_none()
            && !p.flag("local")?
        {
            return Err(BrokerError::BadRequestData(
                "too broad query: give at least one of entities, attrs, q, scopeQ or geoQ".into(),
            ));
        }
        Ok(request)
    }

    /// The store query: index hints plus the exact filter.
    pub fn store_query(&self) -> EntityQuery {
        let filter = EntityFilter {
            selectors: self.selectors.clone(),
            types: self.types.clone(),
            id_pattern: self.id_pattern.clone(),
            q: self.q.clone(),
            scope_q: self.scope_q.clone(),
            geo_q: self.geo_q.clone(),
        };
        EntityQuery {
            ids: self.ids.clone(),
            any_type: self.any_type_hint(),
            any_attribute: self.attrs.clone(),
            geo_envelope: self
                .geo_q
                .as_ref()
                .and_then(|g| Some((g.geoproperty.clone(), g.search_envelope()?))),
            filter: (!filter.is_empty()).then(|| Arc::new(filter)),
            predicate: None,
            offset: self.offset,
            limit: self.limit,
            count: self.count,
        }
    }

    /// Types of which every match has at least one, when the type filters say so.
    fn any_type_hint(&self) -> Option<Vec<String>> {
        let any_of = |t: &TypeExpr| -> Option<Vec<String>> {
            t.as_any_of()
                .map(|types| types.into_iter().map(str::to_owned).collect())
        };
        if self.selectors.is_empty() {
            return self.types.as_ref().and_then(any_of);
        }
        let mut all = Vec::new();
        for sel in &self.selectors {
            all.extend(sel.types.as_ref().and_then(any_of)?);
        }
        Some(all)
    }

    /// How to render the results.
    pub fn render_options(&self) -> RenderOptions<'_> {
        RenderOptions {
            format: self.options.format.unwrap_or(Format::Normalized),
            sys_attrs: self.options.sys_attrs,
            lang: self.lang.as_ref(),
            projection: Some(&self.projection),
        }
    }
}
