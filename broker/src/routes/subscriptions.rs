//! `/subscriptions` and `/subscriptions/{subscriptionId}` (clause 6.10, 6.11): subscriptions
//! are validated by the `subscriptions` crate, stored as documents of the tenant (so they
//! survive restarts), and handed to the engine that matches and delivers.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use ngsi_types::context::ContextSource;
use serde_json::Value;
use subscriptions::Subscription;

use super::entities::{base_url, body_and_context, link_or_core};
use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::RawBody;
use crate::http::media::{negotiate, MediaType};
use crate::http::params::Params;
use crate::http::respond;
use crate::http::tenant::tenant_of;
use crate::service::OtherInstances;
use crate::state::AppState;
use crate::store::{DocumentKind, Tenant};

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

/// The @context a subscription's notifications are compacted with: its `jsonldContext`, else
/// the context of the request that created it.
pub fn notification_source(sub: &Subscription) -> ContextSource {
    if let Some(url) = &sub.jsonld_context {
        return ContextSource::Link(url.clone());
    }
    match &sub.context {
        Value::Null => ContextSource::Core,
        Value::String(url) => ContextSource::Link(url.clone()),
        other => ContextSource::Inline(other.clone()),
    }
}

/// Files a subscription with the engine, with its notification context resolved.
pub async fn activate(
    state: &AppState,
    tenant: &Tenant,
    sub: Subscription,
    base: &str,
) -> BrokerResult<()> {
    let ctx = state
        .contexts
        .resolve(notification_source(&sub), base)
        .await?;
    state
        .subscriptions
        .upsert(tenant.name(), sub, ctx.active)
        .await?;
    Ok(())
}

async fn load(state: &AppState, tenant: &Tenant, id: &str) -> BrokerResult<Subscription> {
    let doc = state
        .entities
        .store()
        .get_document(tenant, DocumentKind::Subscription, id)
        .await?
        .ok_or_else(|| BrokerError::NotFound(format!("subscription '{id}' not found")))?;
    serde_json::from_value(doc).map_err(|e| {
        BrokerError::Store(crate::store::StoreError::Corrupt(format!(
            "subscription '{id}': {e}"
        )))
    })
}

async fn save(state: &AppState, tenant: &Tenant, sub: &Subscription) -> BrokerResult<()> {
    let doc = serde_json::to_value(sub).map_err(|e| {
        BrokerError::Store(crate::store::StoreError::Backend(format!(
            "encoding a subscription: {e}"
        )))
    })?;
    state
        .entities
        .store()
        .put_document(tenant, DocumentKind::Subscription, &sub.id, doc)
        .await?;
    Ok(())
}

/// Create Subscription (5.8.1): 201 with Location.
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &[])?;
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, false).await?;
    let mut sub =
        Subscription::parse(&body.json, &ctx.active, Utc::now()).map_err(BrokerError::from)?;
    if !matches!(ctx.source, ContextSource::Core) {
        sub.set_request_context(ctx.response_context());
    }
    let store = state.entities.store();
    if store
        .get_document(&tenant, DocumentKind::Subscription, &sub.id)
        .await?
        .is_some()
    {
        return Err(BrokerError::AlreadyExists(format!(
            "subscription '{}' already exists",
            sub.id
        )));
    }
    let location = format!("/ngsi-ld/v1/subscriptions/{}", sub.id);
    save(&state, &tenant, &sub).await?;
    activate(&state, &tenant, sub, &base_url(&req)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .finish())
}

/// With a store shared by several instances, what the others sent (a read failure only costs
/// their part of the counters, so it is logged, not returned).
async fn other_instances(state: &AppState, tenant: &Tenant) -> Option<OtherInstances> {
    let shared = state.delivery.as_ref()?;
    match shared.others(tenant).await {
        Ok(others) => Some(others),
        Err(e) => {
            tracing::warn!(%tenant, error = %e, "other instances' delivery status unreadable");
            None
        }
    }
}

async fn render(
    state: &AppState,
    tenant: &Tenant,
    sub: &Subscription,
    ctx: &RequestContext,
    others: Option<&OtherInstances>,
) -> Value {
    let local = state.subscriptions.status(tenant.name(), &sub.id).await;
    let status = match others {
        Some(others) => others.add_to(&sub.id, local),
        None => local,
    };
    sub.render(&ctx.active, status.as_ref(), Utc::now())
}

/// Query Subscriptions (5.8.4): paginated, in id order.
async fn list(state: web::Data<AppState>, req: HttpRequest) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["limit", "offset", "count", "local"])?;
    let media = negotiate(&req, &[MediaType::Json, MediaType::JsonLd])?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    let limit = params.limit(state.config.default_limit, state.config.max_limit)?;
    let offset = params.number("offset")?.unwrap_or(0);
    state.entities.check_tenant(&tenant).await?;
    let docs = state
        .entities
        .store()
        .list_documents(&tenant, DocumentKind::Subscription)
        .await?;
    let total = docs.len();
    let others = other_instances(&state, &tenant).await;
    let mut out = Vec::new();
    for (id, doc) in docs.into_iter().skip(offset).take(limit) {
        match serde_json::from_value::<Subscription>(doc) {
            Ok(sub) => out.push(render(&state, &tenant, &sub, &ctx, others.as_ref()).await),
            Err(e) => {
                tracing::error!(%tenant, %id, error = %e, "stored subscription does not decode")
            }
        }
    }
    let response = respond::json(StatusCode::OK, media, &ctx, Value::Array(out));
    let total = params.flag("count")?.then_some(total as u64);
    Ok(respond::with_count(response, total))
}

/// Retrieve Subscription (5.8.3).
async fn retrieve(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let media = negotiate(&req, &[MediaType::Json, MediaType::JsonLd])?;
    let tenant = tenant_of(&req)?;
    ngsi_types::ident::check_uri("subscriptionId", &path)?;
    let ctx = link_or_core(&state, &req).await?;
    state.entities.check_tenant(&tenant).await?;
    let sub = load(&state, &tenant, &path).await?;
    let others = other_instances(&state, &tenant).await;
    let body = render(&state, &tenant, &sub, &ctx, others.as_ref()).await;
    Ok(respond::json(StatusCode::OK, media, &ctx, body))
}

/// Update Subscription (5.8.2).
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &[])?;
    let tenant = tenant_of(&req)?;
    ngsi_types::ident::check_uri("subscriptionId", &path)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, true).await?;
    state.entities.check_tenant(&tenant).await?;
    let current = load(&state, &tenant, &path).await?;
    let updated = current
        .patch(&body.json, &ctx.active, Utc::now())
        .map_err(BrokerError::from)?;
    save(&state, &tenant, &updated).await?;
    activate(&state, &tenant, updated, &base_url(&req)).await?;
    Ok(respond::no_content())
}

/// Delete Subscription (5.8.5).
async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let tenant = tenant_of(&req)?;
    ngsi_types::ident::check_uri("subscriptionId", &path)?;
    state.entities.check_tenant(&tenant).await?;
    let existed = state
        .entities
        .store()
        .delete_document(&tenant, DocumentKind::Subscription, &path)
        .await?;
    state.subscriptions.remove(tenant.name(), &path).await?;
    if let Some(shared) = &state.delivery {
        shared.forget(&tenant, &path).await?;
    }
    if existed {
        Ok(respond::no_content())
    } else {
        Err(BrokerError::NotFound(format!(
            "subscription '{}' not found",
            path.as_str()
        )))
    }
}
