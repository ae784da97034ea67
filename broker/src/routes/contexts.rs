//! `/jsonldContexts` and `/jsonldContexts/{contextId}` (clause 5.13, 6.30-6.31): storing
//! @contexts here (Hosted), listing and serving every kind, deleting or reloading one.

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::Value;

use super::method_not_allowed;
use crate::auth::Authorized;
use crate::config::AuthMode;
use crate::contexts::{ContextEntry, ContextKind, HOSTED_PATH};
use crate::error::{BrokerError, BrokerResult};
use crate::http::extract::{BaseUrl, JsonDocument, UriParams};
use crate::http::respond;
use crate::param_set;
use crate::state::AppState;
use crate::store::Tenant;

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

param_set! {
    NoParams = [];
    ListParams = ["details", "kind"];
    ServeParams = ["details"];
    DeleteParams = ["reload"];
}

/// Add @context (5.13.2): 201 with the URL where it is now served.
async fn add(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    document: JsonDocument,
    base: BaseUrl,
) -> BrokerResult<HttpResponse> {
    let id = state
        .jsonld_contexts
        .add(&tenant, document.0, &base.0)
        .await?;
    // GS CIM 009 6.29.3.1: Location holds the local relative path of the added @context.
    Ok(respond::created(format!("{HOSTED_PATH}{id}")))
}

/// List @contexts (5.13.4): URLs, or their details.
async fn list(
    state: web::Data<AppState>,
    params: UriParams<ListParams>,
    tenant: Tenant,
) -> BrokerResult<HttpResponse> {
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
    let entries = state.jsonld_contexts.list(&tenant, kind);
    let body: Vec<Value> = if params.flag("details")? {
        entries.iter().map(ContextEntry::details).collect()
    } else {
        entries.into_iter().map(|e| Value::String(e.url)).collect()
    };
    Ok(HttpResponse::Ok().json(body))
}

/// Serve @context (5.13.3): the document, or its details.
async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: UriParams<ServeParams>,
    tenant: Tenant,
    id: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    // With --auth jwt this request came without a token (auth.rs lets it through): only the
    // document of an ImplicitlyCreated @context is anyone's.
    let anonymous =
        state.config.auth == AuthMode::Jwt && !req.extensions().contains::<Authorized>();
    if anonymous {
        let document = state
            .jsonld_contexts
            .serve_implicit(&id)
            .filter(|_| !params.flag("details").unwrap_or(true))
            .ok_or_else(|| BrokerError::Unauthorized("a Bearer token is required".into()))?;
        return Ok(HttpResponse::Ok().json(document.as_ref()));
    }
    if params.flag("details")? {
        let entry = state.jsonld_contexts.get(&tenant, &id)?;
        return Ok(HttpResponse::Ok().json(entry.details()));
    }
    // GS CIM 009 6.30.3.1: a JSON object with an @context member, as application/json.
    let document = state.jsonld_contexts.serve(&tenant, &id)?;
    Ok(HttpResponse::Ok().json(document.as_ref()))
}

/// Delete and Reload @context (5.13.5).
async fn delete(
    state: web::Data<AppState>,
    params: UriParams<DeleteParams>,
    tenant: Tenant,
    id: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    let reload = params.flag("reload")?;
    state.jsonld_contexts.delete(&tenant, &id, reload).await?;
    Ok(respond::no_content())
}
