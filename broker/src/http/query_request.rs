//! A Query Entities request (clause 5.7.2, 6.4.3.2), from URI parameters or from the Query
//! body of POST /entityOperations/query (clause 5.2.23): parsed, expanded with the request's
//! @context, and turned into a store query plus what the response rendering needs.

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

crate::param_set! {
    /// URI parameters of GET /entities.
    pub QueryParams = [
        "id", "type", "idPattern", "attrs", "pick", "omit", "q", "scopeQ", "georel",
        "geometry", "coordinates", "geoproperty", "geometryProperty", "csf", "lang", "limit",
        "offset", "count", "options", "format", "local", "datasetId", "containedBy", "join",
        "joinLevel",
    ];
}

/// How entities are rendered in a response (clause 6.3.7-6.3.9, 4.15, 5.2.4): representation
/// and sysAttrs (`options`, `format`), projection (`attrs`, `pick`, `omit`), language
/// (`lang`), and the GeoProperty that is a GeoJSON Feature's geometry.
#[derive(Debug, Default)]
pub struct EntityRendering {
    pub options: Options,
    pub projection: Projection,
    pub lang: Option<LangFilter>,
    /// Expanded name of the GeoProperty that is a GeoJSON Feature's geometry.
    pub geometry_property: String,
}

impl EntityRendering {
    /// From the URI parameters of a retrieval or a query.
    pub fn from_params(p: &Params, ctx: &ActiveContext) -> BrokerResult<Self> {
        Ok(Self {
            options: p.options()?,
            projection: Projection::parse(p.get("attrs")?, p.get("pick")?, p.get("omit")?, ctx)?,
            lang: p.get("lang")?.map(LangFilter::parse).transpose()?,
            geometry_property: p
                .get("geometryProperty")?
                .map_or_else(|| LOCATION.to_owned(), |g| ctx.expand_term(g).into_owned()),
        })
    }

    pub fn render_options(&self) -> RenderOptions<'_> {
        RenderOptions {
            format: self.options.format.unwrap_or(Format::Normalized),
            sys_attrs: self.options.sys_attrs,
            lang: self.lang.as_ref(),
            projection: Some(&self.projection),
        }
    }
}

/// Everything a query request asks for.
#[derive(Debug, Default)]
pub struct QueryRequest {
    /// Which entities: the EntitySelectors of a Query body, or `id`, `type` and `idPattern`,
    /// and `q`, `scopeQ`, `geoQ` (its geoproperty expanded).
    pub filter: EntityFilter,
    /// Expanded `attrs`: entities must have one of them, and only they are rendered.
    pub attrs: Option<Vec<String>>,
    pub rendering: EntityRendering,
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
        let rendering = EntityRendering::from_params(p, ctx)?;
        let limit = p.limit(config.default_limit, config.max_limit)?;
        Ok(Self {
            filter: EntityFilter {
                ids,
                types,
                id_pattern,
                q,
                scope_q,
                geo_q,
                ..EntityFilter::default()
            },
            attrs,
            rendering,
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
            rendering: EntityRendering {
                options: p.options()?,
                geometry_property: LOCATION.to_owned(),
                ..EntityRendering::default()
            },
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
            request.filter.selectors = parsed;
        }
        if let Some(attrs) = map.get("attrs") {
            let names: Vec<String> = attrs
                .as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                .ok_or_else(|| {
                    BrokerError::BadRequestData("Query.attrs must be an array of names".into())
                })?;
            request.rendering.projection =
                Projection::parse(Some(&names.join(",")), None, None, ctx)?;
            request.attrs = Some(
                names
                    .iter()
                    .map(|n| ctx.expand_term(n).into_owned())
                    .collect(),
            );
        }
        request.filter.q = text("q")?
            .map(Query::parse)
            .transpose()?
            .map(|q| q.expand(ctx));
        request.filter.scope_q = text("scopeQ")?.map(ScopeQuery::parse).transpose()?;
        request.rendering.lang = text("lang")?.map(LangFilter::parse).transpose()?;
        // GS CIM 009 5.2.23: the Query's geoQ is a GeoQuery object (clause 5.2.13).
        request.filter.geo_q =
            map.get("geoQ")
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
            && request.filter.q.is_none()
            && request.filter.scope_q.is_none()
            && request.filter.geo_q.is_none()
            && !p.flag("local")?
        {
            return Err(BrokerError::BadRequestData(
                "too broad query: give at least one of entities, attrs, q, scopeQ or geoQ".into(),
            ));
        }
        Ok(request)
    }

    /// The store query: the exact filter with the index hints it implies, `attrs`, paging.
    pub fn store_query(&self) -> EntityQuery {
        EntityQuery {
            any_attribute: self.attrs.clone(),
            offset: self.offset,
            limit: self.limit,
            count: self.count,
            ..EntityQuery::filtered(self.filter.clone())
        }
    }
}
