//! `/jsonldContexts` and `/jsonldContexts/{contextId}` (clause 5.13, 6.30-6.31): storing
//! @contexts here (Hosted), listing and serving every kind, deleting or reloading one.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use super::entities::base_url;
use super::method_not_allowed;
use crate::contexts::{ContextEntry, ContextKind, HOSTED_PATH};
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::RawBody;
use crate::http::params::Params;
use crate::http::tenant::tenant_of;
use crate::state::AppState;
use crate::store::DocumentKind;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/jsonldContexts")
            .route(web::post().to(add))
            .route(web::get().to(list))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/jsonldContexts/{contextId}")
            .route(web::get().to(serve))
            .route(web::delete().to(delete))
            .default_service(web::to(method_not_allowed)),
    );
}

/// Add @context (5.13.2): 201 with the URL where it is now served.
async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &[])?;
    let tenant = tenant_of(&req)?;
    // The body is a JSON-LD document whose @context is the thing stored; it is not the
    // request's own @context, so it is read as plain JSON whatever the media type.
    let body: Value = serde_json::from_slice(&raw.0).map_err(|e| {
        BrokerError::InvalidRequest(format!("the request body is not valid JSON: {e}"))
    })?;
    match req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
    {
        Some(ct) if ct.starts_with("application/json") || ct.starts_with("application/ld+json") => {
        }
        _ => {
            return Err(BrokerError::UnsupportedMediaType(
                "use Content-Type application/json or application/ld+json".into(),
            ))
        }
    }
    let context = body
        .get("@context")
        .filter(|c| c.is_object() || c.is_array() || c.is_string())
        .ok_or_else(|| {
            BrokerError::BadRequestData(
                "the body must be a JSON object with an @context member".into(),
            )
        })?;
    state.contexts.validate(context).await?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let url = format!("{}{HOSTED_PATH}{id}", base_url(&req));
    let created_at = Utc::now();
    let stored = json!({"url": url, "document": body, "createdAt": ngsi_types::datetime::format_datetime(&created_at)});
    state
        .entities
        .store()
        .put_document(&tenant, DocumentKind::JsonLdContext, &id, stored)
        .await?;
    state.contexts.registry().insert(ContextEntry {
        id,
        url: url.clone(),
        kind: ContextKind::Hosted,
        document: Arc::new(body),
        tenant: Some(tenant),
        created_at,
        last_usage: None,
        hits: 0,
    });
    Ok(HttpResponse::Created()
        .insert_header(("Location", url))
        .finish())
}

/// List @contexts (5.13.4): URLs, or their details.
async fn list(state: web::Data<AppState>, req: HttpRequest) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["details", "kind"])?;
    let tenant = tenant_of(&req)?;
    let kind = params
        .get("kind")?
        .map(|k| {
            ContextKind::parse(k).ok_or_else(|| {
                BrokerError::BadRequestData(format!(
                    "kind '{k}': expected Hosted, Cached or ImplicitlyCreated"
                ))
            })
        })
        .transpose()?;
    let entries = state.contexts.registry().list(&tenant, kind);
    let body = if params.flag("details")? {
        Value::Array(entries.iter().map(ContextEntry::details).collect())
    } else {
        Value::Array(
            entries
                .iter()
                .map(|e| Value::String(e.url.clone()))
                .collect(),
        )
    };
    Ok(HttpResponse::Ok().json(body))
}

fn find(state: &AppState, req: &HttpRequest, id: &str) -> BrokerResult<ContextEntry> {
    let tenant = tenant_of(req)?;
    state
        .contexts
        .registry()
        .get(id)
        .filter(|e| e.visible_to(&tenant))
        .ok_or_else(|| BrokerError::NotFound(format!("no @context with id '{id}'")))
}

/// Serve @context (5.13.3): the document, or its details.
async fn serve(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["details"])?;
    let entry = find(&state, &req, &path)?;
    if params.flag("details")? {
        return Ok(HttpResponse::Ok().json(entry.details()));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .json(entry.document.as_ref()))
}

/// Delete and Reload @context (5.13.5): removes a Hosted one; forgets (or with `reload=true`
/// re-fetches) a Cached one.
async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["reload"])?;
    let reload = params.flag("reload")?;
    let entry = find(&state, &req, &path)?;
    match entry.kind {
        ContextKind::Hosted if reload => {
            return Err(BrokerError::BadRequestData(
                "a Hosted @context cannot be reloaded".into(),
            ))
        }
        ContextKind::Hosted => {
            let tenant = tenant_of(&req)?;
            state
                .entities
                .store()
                .delete_document(&tenant, DocumentKind::JsonLdContext, &entry.id)
                .await?;
            state.contexts.registry().remove(&entry.id);
        }
        ContextKind::Cached | ContextKind::ImplicitlyCreated => {
            state.contexts.registry().remove(&entry.id);
        }
    }
    state.contexts.invalidate(&entry.url);
    if reload && entry.kind == ContextKind::Cached {
        state.contexts.document(&entry.url).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
