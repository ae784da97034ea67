//! `/subscriptions` and `/subscriptions/{subscriptionId}` (clause 6.10, 6.11).

use actix_web::http::header::{HeaderValue, LINK};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::Value;

use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::BrokerResult;
use crate::http::extract::{BaseUrl, JsonMedia, LdBody, PatchBody, SubscriptionId, UriParams};
use crate::http::media::MediaType;
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
    let mut response = respond::json(StatusCode::OK, media.0, &ctx, Value::Array(body));
    for link in page_links(offset, limit, page.total, media.0) {
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().append(LINK, value);
        }
    }
    Ok(respond::with_count(response, count.then_some(page.total)))
}

/// The Link header values to the previous and next pages (clause 6.3.10, 5.5.9): none on a
/// single page, no `prev` on the first, no `next` on the last. A local stand-in until the
/// shared pagination helper of `http/` lands.
fn page_links(offset: usize, limit: usize, total: u64, media: MediaType) -> Vec<String> {
    let total = usize::try_from(total).unwrap_or(usize::MAX);
    let link = |offset: usize, rel: &str| {
        format!(
            r#"</ngsi-ld/v1/subscriptions?limit={limit}&offset={offset}>; rel="{rel}"; type="{}""#,
            media.as_str()
        )
    };
    let mut links = Vec::new();
    if limit == 0 {
        return links;
    }
    if offset > 0 {
        links.push(link(offset.saturating_sub(limit), "prev"));
    }
    if offset.saturating_add(limit) < total {
        links.push(link(offset + limit, "next"));
    }
    links
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_point_to_the_neighbouring_pages() {
        let json = MediaType::Json;
        assert!(page_links(0, 10, 3, json).is_empty());
        let first = page_links(0, 1, 3, json);
        assert_eq!(first.len(), 1);
        assert!(first[0].contains("offset=1>; rel=\"next\""), "{first:?}");
        let middle = page_links(1, 1, 3, MediaType::JsonLd);
        assert_eq!(middle.len(), 2);
        assert!(middle[0].contains("limit=1&offset=0>; rel=\"prev\"; type=\"application/ld+json\""));
        assert!(middle[1].contains("offset=2>; rel=\"next\""));
        let last = page_links(2, 1, 3, json);
        assert_eq!(last.len(), 1);
        assert!(last[0].contains("rel=\"prev\""), "{last:?}");
    }
}
