//! `/types`, `/types/{type}`, `/attributes`, `/attributes/{attrId}` (clause 5.7.5-5.7.10,
//! 6.25-6.28): what entity types and attributes exist in a tenant, from the store's summaries.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::entities::link_or_core;
use super::method_not_allowed;
use crate::error::{BrokerError, BrokerResult};
use crate::http::media::{negotiate, MediaType};
use crate::http::params::Params;
use crate::http::respond;
use crate::http::tenant::tenant_of;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/types")
            .route(web::get().to(types))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/types/{type}")
            .route(web::get().to(type_info))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/attributes")
            .route(web::get().to(attributes))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/attributes/{attrId}")
            .route(web::get().to(attribute_info))
            .default_service(web::to(method_not_allowed)),
    );
}

fn list_id(kind: &str) -> String {
    format!("urn:ngsi-ld:{kind}:{}", uuid::Uuid::new_v4())
}

/// Retrieve Available Entity Types (5.7.5) and their details (5.7.6).
async fn types(state: web::Data<AppState>, req: HttpRequest) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["details", "local"])?;
    let media = negotiate(&req, &[MediaType::Json, MediaType::JsonLd])?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    state.entities.check_tenant(&tenant).await?;
    let summaries = state.entities.store().types(&tenant).await?;
    let compact = |iri: &str| ctx.active.compact_iri(iri).into_owned();
    let body = if params.flag("details")? {
        Value::Array(
            summaries
                .iter()
                .map(|t| {
                    let names: Vec<String> = t.attributes.keys().map(|a| compact(a)).collect();
                    json!({"id": t.name, "type": "EntityType", "typeName": compact(&t.name), "attributeNames": names})
                })
                .collect(),
        )
    } else {
        let names: Vec<String> = summaries.iter().map(|t| compact(&t.name)).collect();
        json!({"id": list_id("EntityTypeList"), "type": "EntityTypeList", "typeList": names})
    };
    Ok(respond::json(StatusCode::OK, media, &ctx, body))
}

/// Retrieve Entity Type Information (5.7.7).
async fn type_info(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let media = negotiate(&req, &[MediaType::Json, MediaType::JsonLd])?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    ngsi_types::ident::check_name("type", &path)?;
    let expanded = ctx.active.expand_term(&path).into_owned();
    state.entities.check_tenant(&tenant).await?;
    let summaries = state.entities.store().types(&tenant).await?;
    let summary = summaries
        .iter()
        .find(|t| t.name == expanded)
        .ok_or_else(|| BrokerError::NotFound(format!("no entity of type '{}'", path.as_str())))?;
    let details: Vec<Value> = summary
        .attributes
        .iter()
        .map(|(name, kinds)| {
            let kinds: Vec<&str> = kinds.iter().map(|k| k.0).collect();
            json!({"id": name, "type": "Attribute", "attributeName": ctx.active.compact_iri(name), "attributeTypes": kinds})
        })
        .collect();
    let body = json!({
        "id": summary.name,
        "type": "EntityTypeInfo",
        "typeName": ctx.active.compact_iri(&summary.name),
        "entityCount": summary.entity_count,
        "attributeDetails": details,
    });
    Ok(respond::json(StatusCode::OK, media, &ctx, body))
}

fn attribute_json(
    a: &crate::store::AttributeSummary,
    ctx: &ngsi_types::context::ActiveContext,
) -> Value {
    let kinds: Vec<&str> = a.kinds.iter().map(|k| k.0).collect();
    let types: Vec<String> = a
        .types
        .iter()
        .map(|t| ctx.compact_iri(t).into_owned())
        .collect();
    json!({
        "id": a.name,
        "type": "Attribute",
        "attributeName": ctx.compact_iri(&a.name),
        "attributeCount": a.attribute_count,
        "attributeTypes": kinds,
        "typeNames": types,
    })
}

/// Retrieve Available Attributes (5.7.8) and their details (5.7.9).
async fn attributes(state: web::Data<AppState>, req: HttpRequest) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["details", "local"])?;
    let media = negotiate(&req, &[MediaType::Json, MediaType::JsonLd])?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    state.entities.check_tenant(&tenant).await?;
    let summaries = state.entities.store().attributes(&tenant).await?;
    let body = if params.flag("details")? {
        Value::Array(
            summaries
                .iter()
                .map(|a| attribute_json(a, &ctx.active))
                .collect(),
        )
    } else {
        let names: Vec<String> = summaries
            .iter()
            .map(|a| ctx.active.compact_iri(&a.name).into_owned())
            .collect();
        json!({"id": list_id("AttributeList"), "type": "AttributeList", "attributeList": names})
    };
    Ok(respond::json(StatusCode::OK, media, &ctx, body))
}

/// Retrieve Attribute Information (5.7.10).
async fn attribute_info(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let media = negotiate(&req, &[MediaType::Json, MediaType::JsonLd])?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    ngsi_types::ident::check_name("attrId", &path)?;
    let expanded = ctx.active.expand_term(&path).into_owned();
    state.entities.check_tenant(&tenant).await?;
    let summaries = state.entities.store().attributes(&tenant).await?;
    let summary = summaries
        .iter()
        .find(|a| a.name == expanded)
        .ok_or_else(|| BrokerError::NotFound(format!("no attribute '{}'", path.as_str())))?;
    Ok(respond::json(
        StatusCode::OK,
        media,
        &ctx,
        attribute_json(summary, &ctx.active),
    ))
}
