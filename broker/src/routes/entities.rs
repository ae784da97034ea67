//! `/entities` and `/entities/{entityId}` (clause 6.4 and 6.5).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use ngsi_types::entity::LOCATION;
use ngsi_types::format::{
    parse_attributes, parse_entity, render_entity, render_feature, render_feature_collection,
    Format, RenderOptions,
};
use ngsi_types::query::projection::{LangFilter, Projection};
use ngsi_types::update::{merge_entity, replace_entity};
use serde_json::Value;

use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::{parse_json_body, JsonBody, RawBody};
use crate::http::media::{link_context, negotiate, MediaType};
use crate::http::params::Params;
use crate::http::query_request::{QueryRequest, QUERY_PARAMS};
use crate::http::respond;
use crate::http::tenant::tenant_of;
use crate::service::{not_found, Planned};
use crate::state::AppState;
use ngsi_types::context::ContextSource;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/entities")
            .route(web::post().to(create))
            .route(web::get().to(query))
            .route(web::delete().to(purge))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/entities/{entityId}")
            .route(web::get().to(retrieve))
            .route(web::delete().to(delete))
            .route(web::patch().to(merge))
            .route(web::put().to(replace))
            .default_service(web::to(method_not_allowed)),
    );
}

/// The request's @context for operations without a body (from the Link header).
pub async fn link_or_core(state: &AppState, req: &HttpRequest) -> BrokerResult<RequestContext> {
    let source = match link_context(req)? {
        Some(url) => ContextSource::Link(url),
        None => ContextSource::Core,
    };
    state.contexts.resolve(source, &base_url(req)).await
}

/// Where this broker serves the contexts it hosts: `--public-url`, or `scheme://host` of the
/// request.
pub fn base_url(req: &HttpRequest) -> String {
    let public = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.config.public_url.clone());
    if let Some(url) = public {
        return url;
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// Parses a body and resolves its @context.
pub async fn body_and_context(
    state: &AppState,
    req: &HttpRequest,
    raw: &RawBody,
    merge_patch: bool,
) -> BrokerResult<(JsonBody, RequestContext)> {
    let body = parse_json_body(req, raw, merge_patch)?;
    let ctx = state
        .contexts
        .resolve(body.context.clone(), &base_url(req))
        .await?;
    Ok((body, ctx))
}

/// An entity id from the path, checked to be a URI.
pub fn entity_id(path: &str) -> BrokerResult<&str> {
    ngsi_types::ident::check_uri("entityId", path)?;
    Ok(path)
}

/// Create Entity (5.6.1): 201 with Location.
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, false).await?;
    let entity = parse_entity(body.json, &ctx.active)?;
    let location = format!("/ngsi-ld/v1/entities/{}", respond::path_segment(&entity.id));
    state.entities.create(&tenant, entity).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .finish())
}

/// Query Entities (5.7.2).
async fn query(state: web::Data<AppState>, req: HttpRequest) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, QUERY_PARAMS)?;
    let media = negotiate(
        &req,
        &[MediaType::Json, MediaType::JsonLd, MediaType::GeoJson],
    )?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    let request = QueryRequest::from_params(&params, &ctx.active, &state.config)?;
    render_query_result(&state, &tenant, &ctx, &request, media).await
}

/// Runs a query and renders its page (shared with POST /entityOperations/query).
pub async fn render_query_result(
    state: &AppState,
    tenant: &crate::store::Tenant,
    ctx: &RequestContext,
    request: &QueryRequest,
    media: MediaType,
) -> BrokerResult<HttpResponse> {
    let page = state.entities.query(tenant, &request.store_query()).await?;
    let opts = request.render_options();
    let body = if media == MediaType::GeoJson {
        render_feature_collection(
            &page.entities,
            &ctx.active,
            &opts,
            &request.geometry_property,
        )
    } else {
        Value::Array(
            page.entities
                .iter()
                .map(|e| Value::Object(render_entity(e, &ctx.active, &opts)))
                .collect(),
        )
    };
    let response = respond::json(StatusCode::OK, media, ctx, body);
    Ok(respond::with_count(response, page.total))
}

/// Purge Entities (5.6.21): deletes every entity matching type/q/id/idPattern/scopeQ.
async fn purge(state: web::Data<AppState>, req: HttpRequest) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["id", "type", "idPattern", "q", "scopeQ", "local"])?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    if params.get("type")?.is_none()
        && params.get("id")?.is_none()
        && params.get("idPattern")?.is_none()
    {
        return Err(BrokerError::BadRequestData(
            "purge needs at least one of type, id or idPattern".into(),
        ));
    }
    let mut request = QueryRequest::from_params(&params, &ctx.active, &state.config)?;
    request.limit = state.config.max_limit;
    loop {
        let page = state
            .entities
            .query(&tenant, &request.store_query())
            .await?;
        if page.entities.is_empty() {
            break;
        }
        let plans = page
            .entities
            .iter()
            .map(|e| (e.id.clone(), delete_plan()))
            .collect();
        // Entities deleted meanwhile by someone else are fine: they are gone either way. A
        // round that deletes nothing (every entity failed) ends the purge rather than loop.
        let results = state.entities.execute(&tenant, plans).await?;
        if results.iter().all(Result::is_err) {
            return Err(BrokerError::Contention(
                "purge made no progress; entities are being modified concurrently".into(),
            ));
        }
    }
    Ok(respond::no_content())
}

fn delete_plan() -> crate::service::Plan {
    Box::new(|_| Ok(Planned::Delete))
}

/// Retrieve Entity (5.7.1).
async fn retrieve(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    let params = Params::parse(
        &req,
        &[
            "attrs",
            "pick",
            "omit",
            "options",
            "format",
            "lang",
            "geometryProperty",
            "type",
            "local",
            "join",
            "joinLevel",
            "containedBy",
            "datasetId",
        ],
    )?;
    let id = entity_id(&path)?;
    let media = negotiate(
        &req,
        &[MediaType::Json, MediaType::JsonLd, MediaType::GeoJson],
    )?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    let options = params.options()?;
    let projection = Projection::parse(
        params.get("attrs")?,
        params.get("pick")?,
        params.get("omit")?,
        &ctx.active,
    )?;
    let lang = params.get("lang")?.map(LangFilter::parse).transpose()?;
    let entity = state.entities.retrieve(&tenant, id).await?;
    if let Some(ty) = params.get("type")? {
        let expr = ngsi_types::query::type_expr::TypeExpr::parse(ty)?.expand(&ctx.active);
        if !expr.matches(&entity) {
            return Err(not_found(id));
        }
    }
    let opts = RenderOptions {
        format: options.format.unwrap_or(Format::Normalized),
        sys_attrs: options.sys_attrs,
        lang: lang.as_ref(),
        projection: Some(&projection),
    };
    let body = if media == MediaType::GeoJson {
        let geometry = params.get("geometryProperty")?.map_or_else(
            || LOCATION.to_owned(),
            |g| ctx.active.expand_term(g).into_owned(),
        );
        render_feature(&entity, &ctx.active, &opts, &geometry)
    } else {
        Value::Object(render_entity(&entity, &ctx.active, &opts))
    };
    Ok(respond::json(StatusCode::OK, media, &ctx, body))
}

/// Delete Entity (5.6.6).
async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["type", "local"])?;
    let id = entity_id(&path)?;
    let tenant = tenant_of(&req)?;
    state.entities.check_tenant(&tenant).await?;
    state
        .entities
        .execute_one(&tenant, id, delete_plan())
        .await?;
    Ok(respond::no_content())
}

/// Merge Entity (5.6.17): attributes merged, NGSI-LD Nulls delete.
async fn merge(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["options", "format", "observedAt", "lang", "local"])?;
    let id = entity_id(&path)?.to_owned();
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, true).await?;
    let fragment = parse_attributes(body.json, &ctx.active, true)?;
    check_body_id(fragment.id.as_deref(), &id)?;
    state.entities.check_tenant(&tenant).await?;
    state
        .entities
        .modify(&tenant, &id, move |entity| {
            let changes = merge_entity(entity, fragment.clone(), chrono::Utc::now());
            Ok(changes)
        })
        .await?;
    Ok(respond::no_content())
}

/// Replace Entity (5.6.18).
async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["options", "local"])?;
    let id = entity_id(&path)?.to_owned();
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, false).await?;
    let fragment = parse_attributes(body.json, &ctx.active, false)?;
    check_body_id(fragment.id.as_deref(), &id)?;
    state.entities.check_tenant(&tenant).await?;
    let plan_id = id.clone();
    state
        .entities
        .execute_one(
            &tenant,
            &id,
            Box::new(move |current| {
                let old = current.ok_or_else(|| not_found(&plan_id))?;
                let mut new = ngsi_types::Entity::new(plan_id.clone(), fragment.types.clone());
                if new.types.is_empty() {
                    new.types = old.types.clone();
                }
                new.scope = fragment.scope.clone().unwrap_or_default();
                new.expires_at = fragment.expires_at;
                new.attributes = fragment.attributes.clone();
                let (entity, changes) = replace_entity(old, new, chrono::Utc::now());
                Ok(Planned::Put(Box::new(entity), changes))
            }),
        )
        .await?;
    Ok(respond::no_content())
}

/// A body's `id`, if present, must be the id of the path.
pub fn check_body_id(body_id: Option<&str>, path_id: &str) -> BrokerResult<()> {
    match body_id {
        Some(b) if b != path_id => Err(BrokerError::BadRequestData(format!(
            "the payload's id '{b}' differs from the entity id '{path_id}' of the URL"
        ))),
        _ => Ok(()),
    }
}
