//! A Query Entities request (clause 5.7.2, 6.4.3.2), from URI parameters or from the Query
//! body of POST /entityOperations/query (clause 5.2.23): parsed, expanded with the request's
//! @context, and turned into a store query plus what the response rendering needs.

use ngsi_types::context::ActiveContext;
use ngsi_types::entity::Entity;
use ngsi_types::entity::LOCATION;
use ngsi_types::format::{Format, Join, LinkedRetrieval, RenderOptions};
use ngsi_types::query::geo::{GeoQuery, GeoQueryParams};
use ngsi_types::query::options::Options;
use ngsi_types::query::order::{EntityOrder, OrderingParams};
use ngsi_types::query::projection::{LangFilter, Projection};
use ngsi_types::query::q::Query;
use ngsi_types::query::scope::ScopeQuery;
use ngsi_types::query::type_expr::{IdPattern, TypeExpr, TypeNode};
use ngsi_types::query::SYSTEM_ATTRIBUTES;
use serde_json::Value;

use crate::config::Config;
use crate::error::{BrokerError, BrokerResult};
use crate::http::media::MediaType;
use crate::http::pagination::Page;
use crate::http::params::Params;
use crate::store::{EntityFilter, EntityQuery, EntitySelector, QueryPage};

crate::param_set! {
    /// URI parameters of GET /entities.
    pub QueryParams = [
        "id", "type", "idPattern", "attrs", "pick", "omit", "q", "scopeQ", "georel",
        "geometry", "coordinates", "geoproperty", "geometryProperty", "csf", "lang", "limit",
        "offset", "count", "options", "format", "local", "datasetId", "containedBy", "join",
        "joinLevel", "orderBy", "orderFrom", "orderGeometry", "collation", "expandValues",
        "jsonKeys",
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
    /// `datasetId`: only these attribute instances (`@none`: the default instance).
    pub dataset_ids: Option<Vec<String>>,
    /// `join`, `joinLevel`, `containedBy`: the Linked Entities to add (clause 4.5.23).
    pub join: Option<LinkedRetrieval>,
}

impl EntityRendering {
    /// From the URI parameters of a retrieval or a query, answered in `media`.
    pub fn from_params(p: &Params, ctx: &ActiveContext, media: MediaType) -> BrokerResult<Self> {
        // GS CIM 009 5.7.1.4, 5.7.2.4: geometryProperty only means something to GeoJSON.
        if media != MediaType::GeoJson && p.get("geometryProperty")?.is_some() {
            return Err(BrokerError::BadRequestData(
                "geometryProperty needs Accept: application/geo+json".into(),
            ));
        }
        let contained_by = p.list("containedBy")?.unwrap_or_default();
        let join = linked_retrieval(p.get("join")?, p.get("joinLevel")?, contained_by)?;
        let dataset_ids = dataset_ids(p)?;
        let rendering = Self {
            dataset_ids,
            join,
            options: p.options()?,
            projection: Projection::parse(p.get("attrs")?, p.get("pick")?, p.get("omit")?, ctx)?,
            lang: p.get("lang")?.map(LangFilter::parse).transpose()?,
            geometry_property: p
                .get("geometryProperty")?
                .map_or_else(|| LOCATION.to_owned(), |g| ctx.expand_term(g).into_owned()),
        };
        rendering.check_linked_depth("the projection", rendering.projection.depth())?;
        Ok(rendering)
    }

    /// GS CIM 009 5.7.1.4, 5.7.2.4: a projection or a query that follows Relationships needs
    /// Linked Entity retrieval, at least as deep as it goes.
    pub fn check_linked_depth(&self, what: &str, depth: usize) -> BrokerResult<()> {
        if depth == 0 {
            return Ok(());
        }
        match &self.join {
            None => Err(BrokerError::BadRequestData(format!(
                "{what} follows Relationships ('{{...}}'): it needs join=inline or join=flat"
            ))),
            Some(join) if depth > join.level => Err(BrokerError::BadRequestData(format!(
                "{what} follows {depth} Relationships, deeper than joinLevel={}",
                join.level
            ))),
            Some(_) => Ok(()),
        }
    }

    /// The Linked Entities of the responding `roots`, when the request asks for them.
    pub async fn linked_of(
        &self,
        entities: &crate::service::Entities,
        tenant: &crate::store::Tenant,
        roots: &[Entity],
    ) -> BrokerResult<Option<ngsi_types::format::LinkedEntities>> {
        let Some(join) = &self.join else {
            return Ok(None);
        };
        let selected: Vec<Entity>;
        let roots = match &self.dataset_ids {
            None => roots,
            Some(_) => {
                selected = roots
                    .iter()
                    .map(|e| self.instances(e).into_owned())
                    .collect();
                &selected
            }
        };
        let dataset_ids = self.dataset_ids.as_deref();
        let linked = entities
            .linked(tenant, roots, &self.projection, join, dataset_ids)
            .await?;
        Ok(Some(linked))
    }

    /// True if the request asks for Linked Entities, or its projection follows Relationships:
    /// what the operations without Linked Entity retrieval refuse (clause 5.7.3.4, 5.7.4.4,
    /// 5.6.21.4).
    pub fn uses_linked_entities(&self) -> bool {
        self.join.is_some() || self.projection.depth() > 0
    }

    /// Retrieve Entity's answer when the projection leaves nothing of the entity
    /// (GS CIM 009 5.7.1.4, 6.5.3.1: attrs of which it has none is ResourceNotFound).
    pub fn check_retrieved(&self, entity: &Entity) -> BrokerResult<()> {
        if self.projection.keeps_any_of(entity) {
            return Ok(());
        }
        Err(BrokerError::NotFound(format!(
            "entity '{}' has none of the requested attributes",
            entity.id
        )))
    }

    /// The instances of `entity` to render: all, or those of the `datasetId` list.
    pub fn instances<'e>(&self, entity: &'e Entity) -> std::borrow::Cow<'e, Entity> {
        match &self.dataset_ids {
            None => std::borrow::Cow::Borrowed(entity),
            Some(ids) => {
                let mut kept = entity.clone();
                kept.retain_datasets(ids);
                std::borrow::Cow::Owned(kept)
            }
        }
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

/// Which entities the URI parameters `id`, `type`, `idPattern`, `attrs`, `q`, `scopeQ`, the
/// geoQ parameters (and `csf`, checked only) select: shared by entity and temporal queries.
#[derive(Debug, Default)]
pub struct UriFilter {
    pub filter: EntityFilter,
    /// Expanded `attrs`.
    pub attrs: Option<Vec<String>>,
    /// True if the parameters narrow the result as a query must (clause 5.7.2.4 a-d).
    pub narrows: bool,
}

impl UriFilter {
    pub fn from_params(p: &Params, ctx: &ActiveContext) -> BrokerResult<Self> {
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
        let attr_names = p.list("attrs")?;
        let attrs = expanded(attr_names.as_deref(), ctx);
        let q = p.get("q")?.map(Query::parse).transpose()?;
        // GS CIM 009 4.9: jsonKeys names attributes whose values are never expanded, which
        // the values of a q never are unless expandValues asks for it.
        p.list("jsonKeys")?;
        let q = match p.list("expandValues")? {
            Some(names) => q.map(|q| q.with_values_expanded(&names, ctx)),
            None => q,
        };
        let scope_q = p.get("scopeQ")?.map(ScopeQuery::parse).transpose()?;
        let id_pattern = p.get("idPattern")?.map(IdPattern::new).transpose()?;
        // GS CIM 009 5.7.2.4: a context source filter must be valid even with no registrations
        // to apply it to; it has the q grammar (clause 4.9).
        p.get("csf")?.map(Query::parse).transpose()?;
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
        // GS CIM 009 5.7.2.4 a-d: a type, an attrs or q with a non-system attribute, or a geoQ.
        let narrows = types.is_some()
            || attr_names.as_ref().is_some_and(|a| names_a_non_system(a))
            || q.as_ref().is_some_and(Query::names_a_non_system_attribute)
            || geo_q.is_some();
        Ok(Self {
            filter: EntityFilter {
                ids,
                types,
                id_pattern,
                q: q.map(|q| q.expand(ctx)),
                scope_q,
                geo_q,
                ..EntityFilter::default()
            },
            attrs,
            narrows,
        })
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
    /// `orderBy` and the rest of Entity ordering (clause 4.23).
    pub order: Option<EntityOrder>,
    /// True if the request narrows the result as a query must (clause 5.7.2.4 a-d).
    narrows: bool,
}

impl QueryRequest {
    /// Parses GET /entities parameters: a query, which must narrow the result (clause
    /// 5.7.2.4).
    pub fn from_params(
        p: &Params,
        ctx: &ActiveContext,
        config: &Config,
        media: MediaType,
    ) -> BrokerResult<Self> {
        let request = Self::selection(p, ctx, config, media)?;
        let explicit_local = p.get("local")?;
        let local = explicit_local == Some("true");
        let any_type = |t: &TypeExpr| matches!(t.node(), TypeNode::Any);
        if request.filter.types.as_ref().is_some_and(any_type) && explicit_local == Some("false") {
            // GS CIM 009 6.4.3.2: type=* implies local=true, which shall not be set to false.
            return Err(BrokerError::BadRequestData(
                "type=* implies local=true; it cannot be combined with local=false".into(),
            ));
        }
        if !local && !request.narrows {
            return Err(too_wide());
        }
        Ok(request)
    }

    /// The entities that `id`, `type`, `idPattern`, `attrs`, `q`, `scopeQ` and geoQ select,
    /// and how to render them; Purge Entities (5.6.21) takes these without the query's
    /// narrowing rule.
    pub fn selection(
        p: &Params,
        ctx: &ActiveContext,
        config: &Config,
        media: MediaType,
    ) -> BrokerResult<Self> {
        let UriFilter {
            filter,
            attrs,
            narrows,
        } = UriFilter::from_params(p, ctx)?;
        let rendering = EntityRendering::from_params(p, ctx, media)?;
        rendering.check_linked_depth("q", filter.q.as_ref().map_or(0, Query::linked_depth))?;
        let limit = p.limit(config.default_limit, config.max_limit)?;
        let order = uri_ordering(p, ctx)?;
        Ok(Self {
            order,
            filter,
            attrs,
            rendering,
            limit,
            offset: p.number("offset")?.unwrap_or(0),
            count: p.flag("count")?,
            narrows,
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
        // GS CIM 009 5.2.23: temporalQ is for Query Temporal Evolution of Entities only.
        if body.get("temporalQ").is_some() {
            return Err(BrokerError::BadRequestData(
                "Query.temporalQ belongs to the temporal query, not to Query Entities".into(),
            ));
        }
        let mut request = Self::from_body_selection(body, ctx, p.flag("local")?)?;
        request.limit = p.limit(config.default_limit, config.max_limit)?;
        request.offset = p.number("offset")?.unwrap_or(0);
        request.count = p.flag("count")?;
        request.rendering.options = p.options()?;
        Ok(request)
    }

    /// The entities a Query body (clause 5.2.23) selects and its projection, without paging:
    /// what Query Entities and Query Temporal Evolution of Entities share. A Query that does
    /// not narrow the result is too wide unless `local`.
    pub fn from_body_selection(
        body: &Value,
        ctx: &ActiveContext,
        local: bool,
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
            rendering: EntityRendering {
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
        let join_level = map.get("joinLevel").map(Value::to_string);
        let contained_by: Vec<String> = names_member(map, "containedBy")?.unwrap_or_default();
        request.rendering.join =
            linked_retrieval(text("join")?, join_level.as_deref(), contained_by)?;
        if let Some(entities) = map.get("entities") {
            request.filter.selectors = selectors(entities, ctx)?;
        }
        if let Some(ordering) = map.get("ordering") {
            request.order = Some(body_ordering(ordering, ctx)?);
        }
        let attrs = names_member(map, "attrs")?;
        let pick = names_member(map, "pick")?;
        let omit = names_member(map, "omit")?;
        request.rendering.projection = Projection::parse(
            attrs.as_ref().map(|n| n.join(",")).as_deref(),
            pick.as_ref().map(|n| n.join(",")).as_deref(),
            omit.as_ref().map(|n| n.join(",")).as_deref(),
            ctx,
        )?;
        let rendering = &request.rendering;
        rendering.check_linked_depth("the projection", rendering.projection.depth())?;
        request.attrs = attrs.as_ref().map(|names| {
            names
                .iter()
                .map(|n| ctx.expand_term(n).into_owned())
                .collect()
        });
        let q = text("q")?.map(Query::parse).transpose()?;
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
        // The same restriction as GET /entities (clause 5.7.2.4): every EntitySelector has a
        // type (clause 5.2.33), or attrs or q name a non-system attribute, or a geoQ.
        let narrows = !request.filter.selectors.is_empty()
            || attrs.as_ref().is_some_and(|a| names_a_non_system(a))
            || q.as_ref().is_some_and(Query::names_a_non_system_attribute)
            || request.filter.geo_q.is_some();
        request
            .rendering
            .check_linked_depth("q", q.as_ref().map_or(0, Query::linked_depth))?;
        request.filter.q = q.map(|q| q.expand(ctx));
        if !narrows && !local {
            return Err(too_wide());
        }
        Ok(request)
    }

    /// Where `page`, this request's answer, sits in all the matches (for pagination links).
    pub fn page(&self, page: &QueryPage) -> Page {
        Page {
            offset: self.offset,
            limit: self.limit,
            returned: page.entities.len(),
            total: page.total,
        }
    }

    /// The store query: the exact filter with the index hints it implies, `attrs`, paging.
    pub fn store_query(&self) -> EntityQuery {
        // GS CIM 009 5.7.2.4: with a projection Attribute list, a matching entity holds at
        // least one of its Attributes: `attrs`, or a `pick` naming Attributes only (one naming
        // `id`, `type` or `scope` too leaves every entity something to show).
        let any_attribute = self
            .attrs
            .clone()
            .or_else(|| self.rendering.projection.picked_attributes_only());
        EntityQuery {
            any_attribute,
            offset: self.offset,
            limit: self.limit,
            count: self.count,
            ..EntityQuery::filtered(self.filter.clone())
        }
    }
}

/// The Query's EntitySelectors (clause 5.2.33): `type` is mandatory, `id` one URI or several
/// (a selector with several ids is one alternative per id).
fn selectors(entities: &Value, ctx: &ActiveContext) -> BrokerResult<Vec<EntitySelector>> {
    let selectors = entities
        .as_array()
        .ok_or_else(|| BrokerError::BadRequestData("Query.entities must be an array".into()))?;
    if selectors.is_empty() {
        return Err(BrokerError::BadRequestData(
            "Query.entities must not be an empty array".into(),
        ));
    }
    let mut parsed = Vec::with_capacity(selectors.len());
    for sel in selectors {
        if !sel.is_object() {
            return Err(BrokerError::BadRequestData(format!(
                "Query.entities holds EntitySelector objects, not {sel}"
            )));
        }
        let member = |name: &str| -> BrokerResult<Option<&str>> {
            match sel.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(BrokerError::BadRequestData(format!(
                    "Query.entities[].{name} must be a string, not {other}"
                ))),
            }
        };
        let Some(ty) = member("type")? else {
            return Err(BrokerError::BadRequestData(
                "an EntitySelector of Query.entities needs a type".into(),
            ));
        };
        let types = TypeExpr::parse(ty)?.expand(ctx);
        let id_pattern = member("idPattern")?.map(IdPattern::new).transpose()?;
        let ids: Vec<Option<&str>> = match sel.get("id") {
            None => vec![None],
            Some(Value::String(id)) => vec![Some(id.as_str())],
            Some(Value::Array(ids)) if !ids.is_empty() => ids
                .iter()
                .map(|id| {
                    id.as_str().map(Some).ok_or_else(|| {
                        BrokerError::BadRequestData(format!(
                            "Query.entities[].id holds URIs, not {id}"
                        ))
                    })
                })
                .collect::<BrokerResult<_>>()?,
            Some(other) => {
                return Err(BrokerError::BadRequestData(format!(
                    "Query.entities[].id must be a URI or an array of URIs, not {other}"
                )))
            }
        };
        for id in ids {
            if let Some(id) = id {
                ngsi_types::ident::check_uri("entities.id", id)?;
            }
            parsed.push(EntitySelector {
                id: id.map(str::to_owned),
                id_pattern: id_pattern.clone(),
                types: Some(types.clone()),
            });
        }
    }
    Ok(parsed)
}

/// A Query member holding a non-empty array of names (`attrs`, `pick`, `omit`, clause 5.2.23).
fn names_member(
    map: &serde_json::Map<String, Value>,
    member: &str,
) -> BrokerResult<Option<Vec<String>>> {
    let Some(value) = map.get(member) else {
        return Ok(None);
    };
    value
        .as_array()
        .filter(|a| !a.is_empty())
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
        .map(Some)
        .ok_or_else(|| {
            BrokerError::BadRequestData(format!(
                "Query.{member} must be a non-empty array of names"
            ))
        })
}

/// True if some name is not a system attribute (clause 5.7.2.4 b).
fn names_a_non_system(names: &[String]) -> bool {
    names
        .iter()
        .any(|n| !SYSTEM_ATTRIBUTES.contains(&n.as_str()))
}

/// The `datasetId` list parameter (clause 4.5.5): URIs, or `@none` for the default instances.
pub(crate) fn dataset_ids(p: &Params) -> BrokerResult<Option<Vec<String>>> {
    let dataset_ids = p.list("datasetId")?;
    for id in dataset_ids.iter().flatten().filter(|d| *d != "@none") {
        ngsi_types::ident::check_uri("datasetId", id)?;
    }
    Ok(dataset_ids)
}

/// Names as the request's @context expands them.
pub(crate) fn expanded(names: Option<&[String]>, ctx: &ActiveContext) -> Option<Vec<String>> {
    names.map(|names| {
        names
            .iter()
            .map(|n| ctx.expand_term(n).into_owned())
            .collect()
    })
}

pub(crate) fn too_wide() -> BrokerError {
    BrokerError::BadRequestData(
        "too wide query: give a type, attrs or q naming a non-system attribute, a geoQ, or local=true"
            .into(),
    )
}

/// `join` (`flat`, `inline` or `@none`), `joinLevel` (a positive integer, 1 by default) and
/// `containedBy` (URIs) of Linked Entity retrieval (clause 4.5.23, Table 5.2.23-1).
fn linked_retrieval(
    join: Option<&str>,
    level: Option<&str>,
    contained_by: Vec<String>,
) -> BrokerResult<Option<LinkedRetrieval>> {
    let level = match level {
        None => 1,
        Some(level) => level
            .parse::<usize>()
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| {
                BrokerError::BadRequestData(format!(
                    "joinLevel must be a positive integer, not {level}"
                ))
            })?,
    };
    for id in &contained_by {
        ngsi_types::ident::check_uri("containedBy", id)?;
    }
    let Some(join) = join else {
        return Ok(None);
    };
    let join = Join::parse(join).ok_or_else(|| {
        BrokerError::BadRequestData(format!("join must be flat, inline or @none, not '{join}'"))
    })?;
    Ok(join.map(|join| LinkedRetrieval {
        join,
        level: level.min(MAX_JOIN_LEVEL),
        contained_by,
    }))
}

/// The deepest Linked Entity retrieval served: each level is one more store read, and a
/// deeper graph is rarely wanted in one response.
const MAX_JOIN_LEVEL: usize = 16;

/// `orderBy`, `orderFrom`, `orderGeometry` and `collation` (clause 6.4.3.2, 4.23). Oxion has
/// no context source registrations, so every query executes locally and may be ordered
/// (clause 5.7.2.4 refuses ordering only outside the local scope).
fn uri_ordering(p: &Params, ctx: &ActiveContext) -> BrokerResult<Option<EntityOrder>> {
    let Some(order_by) = p.list("orderBy")? else {
        for other in ["orderFrom", "orderGeometry", "collation"] {
            if p.get(other)?.is_some() {
                return Err(BrokerError::BadRequestData(format!(
                    "{other} is part of an ordering: it needs orderBy"
                )));
            }
        }
        return Ok(None);
    };
    let coordinates = p
        .get("orderFrom")?
        .map(|c| {
            serde_json::from_str::<Value>(c)
                .ok()
                .filter(Value::is_array)
                .ok_or_else(|| {
                    BrokerError::BadRequestData(format!(
                        "orderFrom must hold the coordinates of a geometry, a JSON array, not '{c}'"
                    ))
                })
        })
        .transpose()?;
    let params = OrderingParams {
        order_by,
        coordinates,
        geometry: p.get("orderGeometry")?.map(str::to_owned),
        collation: p.get("collation")?.map(str::to_owned),
    };
    Ok(Some(EntityOrder::parse(&params, ctx)?))
}

/// The `ordering` member of a Query, an OrderingParams object (clause 5.2.43).
fn body_ordering(ordering: &Value, ctx: &ActiveContext) -> BrokerResult<EntityOrder> {
    let bad = |reason: &str| BrokerError::BadRequestData(format!("Query.ordering: {reason}"));
    let map = ordering
        .as_object()
        .ok_or_else(|| bad("must be an OrderingParams object"))?;
    let text = |member: &str| -> BrokerResult<Option<String>> {
        match map.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(&format!("{member} must be a string"))),
        }
    };
    let order_by = match map.get("orderBy") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("orderBy must be an array of strings"))?,
        _ => return Err(bad("orderBy must be an array of strings")),
    };
    let coordinates = match map.get("coordinates") {
        None => None,
        Some(c @ Value::Array(_)) => Some(c.clone()),
        Some(_) => return Err(bad("coordinates must be a JSON array")),
    };
    let params = OrderingParams {
        order_by,
        coordinates,
        geometry: text("geometry")?,
        collation: text("collation")?,
    };
    Ok(EntityOrder::parse(&params, ctx)?)
}
