//! `/entities` and `/entities/{entityId}` (clause 6.4 and 6.5).

use actix_web::{web, HttpResponse};
use ngsi_types::format::{parse_attributes, parse_entity};
use ngsi_types::query::type_expr::TypeExpr;

use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::check_body_id;
use crate::http::extract::{EntityId, EntityMedia, LdBody, PatchBody, UriParams};
use crate::http::media::MediaType;
use crate::http::pagination;
use crate::http::query_request::{EntityRendering, QueryParams, QueryRequest};
use crate::http::respond;
use crate::param_set;
use crate::service::EntityOperation;
use crate::state::AppState;
use crate::store::Tenant;

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

param_set! {
    CreateParams = ["local"];
    PurgeParams = ["id", "type", "idPattern", "q", "scopeQ", "local"];
    RetrieveParams = [
        "attrs", "pick", "omit", "options", "format", "lang", "geometryProperty", "type",
        "local", "join", "joinLevel", "containedBy", "datasetId",
    ];
    DeleteParams = ["type", "local"];
    MergeParams = ["options", "format", "observedAt", "lang", "local"];
    ReplaceParams = ["options", "local"];
}

/// Create Entity (5.6.1): 201 with Location.
async fn create(
    state: web::Data<AppState>,
    _: UriParams<CreateParams>,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let entity = parse_entity(body.json, &body.ctx.active)?;
    let location = respond::entity_location(&entity.id);
    state.entities.create(&tenant, entity).await?;
    Ok(respond::created(location))
}

/// Query Entities (5.7.2).
async fn query(
    state: web::Data<AppState>,
    params: UriParams<QueryParams>,
    media: EntityMedia,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let request = QueryRequest::from_params(&params, &ctx.active, &state.config, media.0)?;
    let page = state
        .entities
        .query(&tenant, &request.store_query(), request.order.as_ref())
        .await?;
    let links = pagination::page_links(
        "/ngsi-ld/v1/entities",
        params.pairs(),
        request.page(&page),
        media.0,
    );
    let response = respond::entities(media.0, &ctx, &request.rendering, &page);
    Ok(pagination::with_page_links(response, &links))
}

/// Purge Entities (5.6.21): deletes every entity matching type/q/id/idPattern/scopeQ.
async fn purge(
    state: web::Data<AppState>,
    params: UriParams<PurgeParams>,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    if params.get("type")?.is_none()
        && params.get("id")?.is_none()
        && params.get("idPattern")?.is_none()
    {
        return Err(BrokerError::BadRequestData(
            "purge needs at least one of type, id or idPattern".into(),
        ));
    }
    let request = QueryRequest::selection(&params, &ctx.active, &state.config, MediaType::Json)?;
    state.entities.purge(&tenant, request.store_query()).await?;
    Ok(respond::no_content())
}

/// Retrieve Entity (5.7.1).
async fn retrieve(
    state: web::Data<AppState>,
    params: UriParams<RetrieveParams>,
    EntityId(id): EntityId,
    media: EntityMedia,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let rendering = EntityRendering::from_params(&params, &ctx.active, media.0)?;
    let types = params
        .get("type")?
        .map(|t| TypeExpr::parse(t).map(|t| t.expand(&ctx.active)))
        .transpose()?;
    let entity = state
        .entities
        .retrieve(&tenant, &id, types.as_ref())
        .await?;
    rendering.check_retrieved(&entity)?;
    Ok(respond::entity(media.0, &ctx, &rendering, &entity))
}

/// Delete Entity (5.6.6).
async fn delete(
    state: web::Data<AppState>,
    _: UriParams<DeleteParams>,
    EntityId(id): EntityId,
    tenant: Tenant,
) -> BrokerResult<HttpResponse> {
    state
        .entities
        .apply(&tenant, &id, EntityOperation::Delete)
        .await?;
    Ok(respond::no_content())
}

/// Merge Entity (5.6.17): attributes merged, NGSI-LD Nulls delete.
async fn merge(
    state: web::Data<AppState>,
    _: UriParams<MergeParams>,
    EntityId(id): EntityId,
    tenant: Tenant,
    body: PatchBody,
) -> BrokerResult<HttpResponse> {
    let fragment = parse_attributes(body.json, &body.ctx.active, true)?;
    check_body_id(fragment.id.as_deref(), &id)?;
    state
        .entities
        .apply(&tenant, &id, EntityOperation::Merge { fragment })
        .await?;
    Ok(respond::no_content())
}

/// Replace Entity (5.6.18).
async fn replace(
    state: web::Data<AppState>,
    _: UriParams<ReplaceParams>,
    EntityId(id): EntityId,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let fragment = parse_attributes(body.json, &body.ctx.active, false)?;
    check_body_id(fragment.id.as_deref(), &id)?;
    state
        .entities
        .apply(&tenant, &id, EntityOperation::Replace { fragment })
        .await?;
    Ok(respond::no_content())
}
