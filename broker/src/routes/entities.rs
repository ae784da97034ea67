//! `/entities` and `/entities/{entityId}` (clause 6.4 and 6.5).

use actix_web::{web, HttpResponse};
use ngsi_types::format::{parse_attributes, parse_entity};

use super::{method_not_allowed, type_selector};
use crate::contexts::RequestContext;
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::check_body_id;
use crate::http::extract::{EntityId, EntityMedia, LdBody, PatchBody, UriParams};
use crate::http::pagination;
use crate::http::purge_request::PurgeRequest;
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
            // Merge and Replace Entity with no entity id in the path (5.6.17.4, 5.6.18.4).
            .route(web::patch().to(missing_entity_id))
            .route(web::put().to(missing_entity_id))
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
    PurgeParams = [
        "id", "type", "idPattern", "attrs", "q", "scopeQ", "georel", "geometry", "coordinates",
        "geoproperty", "drop", "keep", "local",
    ];
    RetrieveParams = [
        "attrs", "pick", "omit", "options", "format", "lang", "geometryProperty", "type",
        "local", "join", "joinLevel", "containedBy", "datasetId",
    ];
    DeleteParams = ["type", "local"];
    MergeParams = ["options", "format", "observedAt", "lang", "local"];
    ReplaceParams = ["options", "local"];
}

/// GS CIM 009 5.6.17.4, 5.6.18.4: "If the Entity ID is not present", BadRequestData.
async fn missing_entity_id() -> BrokerResult<HttpResponse> {
    Err(BrokerError::BadRequestData(
        "the entity id is missing from the path".into(),
    ))
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
    let mut request = QueryRequest::from_params(&params, &ctx.active, &state.config, media.0)?;
    state
        .entities
        .resolve_linked_terms(&tenant, &mut request.filter)
        .await?;
    let page = state
        .entities
        .query(&tenant, &request.store_query(), request.order.as_ref())
        .await?;
    let linked = request
        .rendering
        .linked_of(&state.entities, &tenant, &page.entities);
    let linked = linked.await?;
    let links = pagination::page_links(
        "/ngsi-ld/v1/entities",
        params.pairs(),
        request.page(&page),
        media.0,
    );
    let rendering = &request.rendering;
    let response = respond::entities(media.0, &ctx, rendering, &page, linked.as_ref());
    Ok(pagination::with_page_links(response, &links))
}

/// Purge Entities (5.6.21): deletes the matching entities, or their `drop`/`keep` attributes.
async fn purge(
    state: web::Data<AppState>,
    params: UriParams<PurgeParams>,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let request = PurgeRequest::from_params(&params, &ctx.active, &state.config)?;
    state
        .entities
        .purge(&tenant, request.query, request.action)
        .await?;
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
    let types = type_selector(&params, &ctx.active)?;
    let entity = state
        .entities
        .retrieve(&tenant, &id, types.as_ref())
        .await?;
    rendering.check_retrieved(&entity)?;
    let roots = std::slice::from_ref(&entity);
    let linked = rendering.linked_of(&state.entities, &tenant, roots).await?;
    Ok(respond::entity(
        media.0,
        &ctx,
        &rendering,
        &entity,
        linked.as_ref(),
    ))
}

/// Delete Entity (5.6.6).
async fn delete(
    state: web::Data<AppState>,
    params: UriParams<DeleteParams>,
    EntityId(id): EntityId,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let operation = EntityOperation::Delete.of_type(type_selector(&params, &ctx.active)?);
    state.entities.apply(&tenant, &id, operation).await?;
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
