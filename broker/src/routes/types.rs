//! `/types`, `/types/{type}`, `/attributes`, `/attributes/{attrId}` (clause 5.7.5-5.7.10,
//! 6.25-6.28): what entity types and attributes exist in a tenant.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use ngsi_types::context::ActiveContext;
use serde_json::{json, Value};

use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::BrokerResult;
use crate::http::extract::{JsonMedia, UriParams};
use crate::http::respond;
use crate::param_set;
use crate::state::AppState;
use crate::store::{AttributeSummary, Tenant, TypeSummary};

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

param_set! {
    ListParams = ["details", "local"];
    InfoParams = ["local"];
}

/// The id of a list resource (EntityTypeList, AttributeList), new on every response.
fn list_id(kind: &str) -> String {
    format!("urn:ngsi-ld:{kind}:{}", uuid::Uuid::new_v4())
}

/// Retrieve Available Entity Types (5.7.5) and their details (5.7.6).
async fn types(
    state: web::Data<AppState>,
    params: UriParams<ListParams>,
    media: JsonMedia,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let summaries = state.catalog.types(&tenant).await?;
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
    Ok(respond::json(StatusCode::OK, media.0, &ctx, body))
}

/// Retrieve Entity Type Information (5.7.7).
async fn type_info(
    state: web::Data<AppState>,
    _: UriParams<InfoParams>,
    media: JsonMedia,
    tenant: Tenant,
    ctx: RequestContext,
    name: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    ngsi_types::ident::check_name("type", &name)?;
    let expanded = ctx.active.expand_term(&name);
    let summary = state.catalog.entity_type(&tenant, &expanded).await?;
    let body = type_info_json(&summary, &ctx.active);
    Ok(respond::json(StatusCode::OK, media.0, &ctx, body))
}

fn type_info_json(summary: &TypeSummary, ctx: &ActiveContext) -> Value {
    let details: Vec<Value> = summary
        .attributes
        .iter()
        .map(|(name, kinds)| {
            let kinds: Vec<&str> = kinds.iter().map(|k| k.0).collect();
            json!({"id": name, "type": "Attribute", "attributeName": ctx.compact_iri(name), "attributeTypes": kinds})
        })
        .collect();
    json!({
        "id": summary.name,
        "type": "EntityTypeInfo",
        "typeName": ctx.compact_iri(&summary.name),
        "entityCount": summary.entity_count,
        "attributeDetails": details,
    })
}

fn attribute_json(a: &AttributeSummary, ctx: &ActiveContext) -> Value {
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
async fn attributes(
    state: web::Data<AppState>,
    params: UriParams<ListParams>,
    media: JsonMedia,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let summaries = state.catalog.attributes(&tenant).await?;
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
    Ok(respond::json(StatusCode::OK, media.0, &ctx, body))
}

/// Retrieve Attribute Information (5.7.10).
async fn attribute_info(
    state: web::Data<AppState>,
    _: UriParams<InfoParams>,
    media: JsonMedia,
    tenant: Tenant,
    ctx: RequestContext,
    name: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    ngsi_types::ident::check_name("attrId", &name)?;
    let expanded = ctx.active.expand_term(&name);
    let summary = state.catalog.attribute(&tenant, &expanded).await?;
    let body = attribute_json(&summary, &ctx.active);
    Ok(respond::json(StatusCode::OK, media.0, &ctx, body))
}
