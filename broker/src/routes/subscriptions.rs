//! `/subscriptions` and `/subscriptions/{subscriptionId}` (clause 6.10, 6.11).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::BrokerResult;
use crate::http::extract::{BaseUrl, JsonMedia, LdBody, PatchBody, SubscriptionId, UriParams};
use crate::http::respond;
use crate::param_set;
use crate::state::AppState;
use crate::store::Tenant;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/subscriptions")
            .route(web::post().to(create))
            .route(web::get().to(list))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/subscriptions/{subscriptionId}")
            .route(web::get().to(retrieve))
            .route(web::patch().to(update))
            .route(web::delete().to(delete))
            .default_service(web::to(method_not_allowed)),
    );
}

param_set! {
    NoParams = [];
    LocalParams = ["local"];
    RetrieveParams = ["local", "options"];
    ListParams = ["limit", "offset", "count", "local", "options"];
}

/// Create Subscription (5.8.1): 201 with Location.
async fn create(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    body: LdBody,
    base: BaseUrl,
) -> BrokerResult<HttpResponse> {
    let id = state
        .subscriptions
        .create(&tenant, &body.json, &body.ctx, &base.0)
        .await?;
    Ok(respond::created(format!("/ngsi-ld/v1/subscriptions/{id}")))
}

/// Query Subscriptions (5.8.4): paginated, in id order.
async fn list(
    state: web::Data<AppState>,
    params: UriParams<ListParams>,
    media: JsonMedia,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let limit = params.limit(state.config.default_limit, state.config.max_limit)?;
    let offset = params.number("offset")?.unwrap_or(0);
    let count = params.flag("count")?;
    let sys_attrs = params.options()?.sys_attrs;
    let page = state.subscriptions.list(&tenant, offset, limit).await?;
    let body = page
        .subscriptions
        .iter()
        .map(|s| s.render(&ctx, sys_attrs))
        .collect();
    Ok(respond::collection_page(
        "/ngsi-ld/v1/subscriptions",
        &params,
        offset,
        limit,
        page.total,
        count,
        media.0,
        &ctx,
        body,
    ))
}

/// Retrieve Subscription (5.8.3).
async fn retrieve(
    state: web::Data<AppState>,
    params: UriParams<RetrieveParams>,
    media: JsonMedia,
    tenant: Tenant,
    SubscriptionId(id): SubscriptionId,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let sys_attrs = params.options()?.sys_attrs;
    let view = state.subscriptions.retrieve(&tenant, &id).await?;
    Ok(respond::json(
        StatusCode::OK,
        media.0,
        &ctx,
        view.render(&ctx, sys_attrs),
    ))
}

/// Update Subscription (5.8.2).
async fn update(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    SubscriptionId(id): SubscriptionId,
    body: PatchBody,
    base: BaseUrl,
) -> BrokerResult<HttpResponse> {
    state
        .subscriptions
        .update(&tenant, &id, &body.json, &body.ctx, &base.0)
        .await?;
    Ok(respond::no_content())
}

/// Delete Subscription (5.8.5).
async fn delete(
    state: web::Data<AppState>,
    _: UriParams<LocalParams>,
    tenant: Tenant,
    SubscriptionId(id): SubscriptionId,
) -> BrokerResult<HttpResponse> {
    state.subscriptions.delete(&tenant, &id).await?;
    Ok(respond::no_content())
}
