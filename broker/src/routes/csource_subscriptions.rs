//! `/csourceSubscriptions` and `/csourceSubscriptions/{subscriptionId}` (clause 6.10, 6.11:
//! the Context Source Registration Subscription operations of clause 5.11).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::method_not_allowed_but;
use crate::contexts::RequestContext;
use crate::error::BrokerResult;
use crate::http::extract::{JsonMedia, LdBody, PatchBody, SubscriptionId, UriParams};
use crate::http::respond;
use crate::param_set;
use crate::state::AppState;
use crate::store::Tenant;

const COLLECTION: &str = "/ngsi-ld/v1/csourceSubscriptions";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/csourceSubscriptions")
            .route(web::post().to(create))
            .route(web::get().to(list))
            .default_service(method_not_allowed_but("GET, POST")),
    )
    .service(
        super::resource("/csourceSubscriptions/{subscriptionId}")
            .route(web::get().to(retrieve))
            .route(web::patch().to(update))
            .route(web::delete().to(delete))
            .default_service(method_not_allowed_but("GET, PATCH, DELETE")),
    );
}

param_set! {
    NoParams = [];
    RetrieveParams = ["options"];
    ListParams = ["limit", "offset", "count", "options"];
}

/// Create Csource Registration Subscription (5.11.2): 201 with Location.
async fn create(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let id = state
        .csource_subscriptions
        .create(&tenant, &body.json, &body.ctx)
        .await?;
    Ok(respond::created(format!("{COLLECTION}/{id}")))
}

/// Query Csource Registration Subscriptions (5.11.5): paginated, in id order.
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
    let page = state
        .csource_subscriptions
        .list(&tenant, offset, limit)
        .await?;
    let body = page
        .subscriptions
        .iter()
        .map(|s| s.render(&ctx, sys_attrs))
        .collect();
    Ok(respond::collection_page(
        COLLECTION, &params, offset, limit, page.total, count, media.0, &ctx, body,
    ))
}

/// Retrieve Csource Registration Subscription (5.11.4).
async fn retrieve(
    state: web::Data<AppState>,
    params: UriParams<RetrieveParams>,
    media: JsonMedia,
    tenant: Tenant,
    SubscriptionId(id): SubscriptionId,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let sys_attrs = params.options()?.sys_attrs;
    let view = state.csource_subscriptions.retrieve(&tenant, &id).await?;
    Ok(respond::json(
        StatusCode::OK,
        media.0,
        &ctx,
        view.render(&ctx, sys_attrs),
    ))
}

/// Update Csource Registration Subscription (5.11.3).
async fn update(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    SubscriptionId(id): SubscriptionId,
    body: PatchBody,
) -> BrokerResult<HttpResponse> {
    state
        .csource_subscriptions
        .update(&tenant, &id, &body.json, &body.ctx)
        .await?;
    Ok(respond::no_content())
}

/// Delete Csource Registration Subscription (5.11.6).
async fn delete(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    SubscriptionId(id): SubscriptionId,
) -> BrokerResult<HttpResponse> {
    state.csource_subscriptions.delete(&tenant, &id).await?;
    Ok(respond::no_content())
}
