//! `/entities/{entityId}/attrs` and `/entities/{entityId}/attrs/{attrId}` (clause 6.6, 6.7).

use actix_web::{web, HttpRequest, HttpResponse};
use ngsi_types::context::ActiveContext;
use ngsi_types::format::{parse_attribute, parse_attributes};
use ngsi_types::update::{
    append_attributes, delete_attribute, partial_update_attribute, replace_attribute,
    update_attributes, Changes,
};
use ngsi_types::Attribute;
use serde_json::json;

use super::entities::{body_and_context, check_body_id, entity_id, link_or_core};
use super::method_not_allowed;
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::RawBody;
use crate::http::params::Params;
use crate::http::respond;
use crate::http::tenant::tenant_of;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/entities/{entityId}/attrs")
            .route(web::post().to(append))
            .route(web::patch().to(update))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/entities/{entityId}/attrs/{attrId}")
            .route(web::patch().to(partial_update))
            .route(web::delete().to(delete))
            .route(web::put().to(replace))
            .default_service(web::to(method_not_allowed)),
    );
}

/// 204 when every attribute was applied, else 207 with an UpdateResult (clause 5.2.18).
fn update_result(changes: &Changes, ctx: &ActiveContext) -> HttpResponse {
    if changes.not_updated.is_empty() {
        return respond::no_content();
    }
    let updated: Vec<String> = changes
        .created
        .iter()
        .chain(&changes.updated)
        .chain(&changes.deleted)
        .map(|n| ctx.compact_iri(n).into_owned())
        .collect();
    let not_updated: Vec<_> = changes
        .not_updated
        .iter()
        .map(|n| json!({"attributeName": ctx.compact_iri(&n.attribute), "reason": n.reason}))
        .collect();
    HttpResponse::MultiStatus().json(json!({"updated": updated, "notUpdated": not_updated}))
}

/// Append Entity Attributes (5.6.3).
async fn append(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["options", "local"])?;
    let no_overwrite = params.options()?.no_overwrite;
    let id = entity_id(&path)?.to_owned();
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, false).await?;
    let fragment = parse_attributes(body.json, &ctx.active, false)?;
    check_body_id(fragment.id.as_deref(), &id)?;
    state.entities.check_tenant(&tenant).await?;
    let done = state
        .entities
        .modify(&tenant, &id, move |entity| {
            for ty in &fragment.types {
                if !entity.has_type(ty) {
                    entity.types.push(ty.clone());
                }
            }
            let changes = append_attributes(
                entity,
                fragment.attributes.clone(),
                no_overwrite,
                chrono::Utc::now(),
            );
            Ok(changes)
        })
        .await?;
    Ok(update_result(&done.changes, &ctx.active))
}

/// Update Entity Attributes (5.6.2).
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
    path: web::Path<String>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["options", "local"])?;
    let id = entity_id(&path)?.to_owned();
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, true).await?;
    let fragment = parse_attributes(body.json, &ctx.active, true)?;
    check_body_id(fragment.id.as_deref(), &id)?;
    state.entities.check_tenant(&tenant).await?;
    let done = state
        .entities
        .modify(&tenant, &id, move |entity| {
            let changes =
                update_attributes(entity, fragment.attributes.clone(), chrono::Utc::now());
            Ok(changes)
        })
        .await?;
    Ok(update_result(&done.changes, &ctx.active))
}

/// The single attribute instance of an `/attrs/{attrId}` body.
fn one_instance(name: &str, mut instances: Vec<Attribute>) -> BrokerResult<Attribute> {
    if instances.len() != 1 {
        return Err(BrokerError::BadRequestData(format!(
            "attribute '{name}': exactly one instance expected here"
        )));
    }
    Ok(instances.remove(0))
}

/// Partial Attribute Update (5.6.4).
async fn partial_update(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
    path: web::Path<(String, String)>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let (id, attr) = path.into_inner();
    entity_id(&id)?;
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, true).await?;
    let (name, instances) = parse_attribute(&attr, body.json, &ctx.active, true)?;
    let fragment = one_instance(&attr, instances)?;
    state.entities.check_tenant(&tenant).await?;
    state
        .entities
        .modify(&tenant, &id, move |entity| {
            let changes =
                partial_update_attribute(entity, &name, fragment.clone(), chrono::Utc::now())?;
            Ok(changes)
        })
        .await?;
    Ok(respond::no_content())
}

/// Replace Attribute (5.6.19).
async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
    path: web::Path<(String, String)>,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let (id, attr) = path.into_inner();
    entity_id(&id)?;
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, false).await?;
    let (name, instances) = parse_attribute(&attr, body.json, &ctx.active, false)?;
    let new = one_instance(&attr, instances)?;
    state.entities.check_tenant(&tenant).await?;
    state
        .entities
        .modify(&tenant, &id, move |entity| {
            let changes = replace_attribute(entity, &name, new.clone(), chrono::Utc::now())?;
            Ok(changes)
        })
        .await?;
    Ok(respond::no_content())
}

/// Delete Attribute (5.6.5): `datasetId` picks an instance, `deleteAll=true` removes all.
async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["datasetId", "deleteAll", "local"])?;
    let (id, attr) = path.into_inner();
    entity_id(&id)?;
    ngsi_types::ident::check_attribute_name(&attr)?;
    let dataset_id = params.get("datasetId")?.map(str::to_owned);
    if let Some(d) = &dataset_id {
        ngsi_types::ident::check_uri("datasetId", d)?;
    }
    let delete_all = params.flag("deleteAll")?;
    let tenant = tenant_of(&req)?;
    let ctx = link_or_core(&state, &req).await?;
    let name = ctx.active.expand_term(&attr).into_owned();
    state.entities.check_tenant(&tenant).await?;
    state
        .entities
        .modify(&tenant, &id, move |entity| {
            let changes = delete_attribute(
                entity,
                &name,
                dataset_id.as_deref(),
                delete_all,
                chrono::Utc::now(),
            )?;
            Ok(changes)
        })
        .await?;
    Ok(respond::no_content())
}
