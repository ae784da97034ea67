//! `/entities/{entityId}/attrs` and `/entities/{entityId}/attrs/{attrId}` (clause 6.6, 6.7).

use actix_web::{web, HttpResponse};
use ngsi_types::context::ActiveContext;
use ngsi_types::format::{parse_attribute, parse_attributes, parse_partial_update};
use ngsi_types::update::{Changes, SCOPE};
use ngsi_types::Attribute;
use serde_json::json;

use super::{method_not_allowed, type_selector};
use crate::contexts::RequestContext;
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::check_body_id;
use crate::http::extract::{Body, EntityId, LdBody, PatchBody, UriParams};
use crate::http::respond;
use crate::param_set;
use crate::service::EntityOperation;
use crate::state::AppState;
use crate::store::Tenant;

// The entity id may be empty here (`/entities//attrs`), so that a missing id is the
// BadRequestData of 5.6.2.4-5.6.5.4 (from the `EntityId` check), not an unknown resource.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/entities/{entityId:[^/]*}/attrs")
            .route(web::post().to(append))
            .route(web::patch().to(update))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/entities/{entityId:[^/]*}/attrs/{attrId}")
            .route(web::patch().to(partial_update))
            .route(web::delete().to(delete))
            .route(web::put().to(replace))
            .default_service(web::to(method_not_allowed)),
    );
}

param_set! {
    AppendParams = ["options", "type", "local"];
    UpdateParams = ["options", "type", "local"];
    AttributeParams = ["type", "local"];
    DeleteParams = ["datasetId", "deleteAll", "type", "local"];
}

/// The `{attrId}` of the path.
#[derive(Debug, serde::Deserialize)]
struct AttrPath {
    #[serde(rename = "attrId")]
    attr: String,
}

/// 204 when every attribute was applied, else 207 with an UpdateResult (clause 5.2.18).
fn update_result(changes: &Changes, ctx: &ActiveContext) -> HttpResponse {
    if changes.not_updated.is_empty() {
        return respond::no_content();
    }
    let updated: Vec<String> = changes
        .touched()
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
    params: UriParams<AppendParams>,
    EntityId(id): EntityId,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let no_overwrite = params.options()?.no_overwrite;
    let types = type_selector(&params, &body.ctx.active)?;
    let fragment = parse_attributes(body.json, &body.ctx.active, false)?;
    check_body_id(fragment.id.as_deref(), &id)?;
    let operation = EntityOperation::Append {
        fragment,
        no_overwrite,
    }
    .of_type(types);
    let done = state.entities.apply(&tenant, &id, operation).await?;
    Ok(update_result(&done.changes, &body.ctx.active))
}

/// Update Entity Attributes (5.6.2).
async fn update(
    state: web::Data<AppState>,
    params: UriParams<UpdateParams>,
    EntityId(id): EntityId,
    tenant: Tenant,
    body: PatchBody,
) -> BrokerResult<HttpResponse> {
    let types = type_selector(&params, &body.ctx.active)?;
    let fragment = parse_attributes(body.json, &body.ctx.active, true)?;
    check_body_id(fragment.id.as_deref(), &id)?;
    let operation = EntityOperation::Update { fragment }.of_type(types);
    let done = state.entities.apply(&tenant, &id, operation).await?;
    Ok(update_result(&done.changes, &body.ctx.active))
}

/// The one attribute of an `/attrs/{attrId}` body: its expanded name and its single instance.
fn one_attribute<const PATCH: bool>(
    attr: &str,
    body: Body<PATCH>,
) -> BrokerResult<(String, Attribute)> {
    let mut json = body.json;
    // The body is a JSON-LD document: its top-level @context is the request's (already
    // resolved), not a member embedded in the attribute (which 4.5.1 forbids).
    if let Some(map) = json.as_object_mut() {
        map.remove("@context");
    }
    let (name, mut instances) = parse_attribute(attr, json, &body.ctx.active, PATCH)?;
    if instances.len() != 1 {
        return Err(BrokerError::BadRequestData(format!(
            "attribute '{attr}': exactly one instance expected here"
        )));
    }
    Ok((name, instances.remove(0)))
}

/// Partial Attribute Update (5.6.4).
async fn partial_update(
    state: web::Data<AppState>,
    params: UriParams<AttributeParams>,
    EntityId(id): EntityId,
    path: web::Path<AttrPath>,
    tenant: Tenant,
    body: PatchBody,
) -> BrokerResult<HttpResponse> {
    let types = type_selector(&params, &body.ctx.active)?;
    let mut json = body.json;
    // The body's top-level @context is the request's (already resolved).
    if let Some(map) = json.as_object_mut() {
        map.remove("@context");
    }
    let (name, instance, form) = parse_partial_update(&path.attr, json, &body.ctx.active)?;
    let operation = EntityOperation::UpdateAttribute {
        name,
        instance,
        form,
    }
    .of_type(types);
    state.entities.apply(&tenant, &id, operation).await?;
    Ok(respond::no_content())
}

/// Replace Attribute (5.6.19).
async fn replace(
    state: web::Data<AppState>,
    params: UriParams<AttributeParams>,
    EntityId(id): EntityId,
    path: web::Path<AttrPath>,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let types = type_selector(&params, &body.ctx.active)?;
    let (name, instance) = one_attribute(&path.attr, body)?;
    let operation = EntityOperation::ReplaceAttribute { name, instance }.of_type(types);
    state.entities.apply(&tenant, &id, operation).await?;
    Ok(respond::no_content())
}

/// Delete Attribute (5.6.5): `datasetId` picks an instance, `deleteAll=true` removes all.
async fn delete(
    state: web::Data<AppState>,
    params: UriParams<DeleteParams>,
    EntityId(id): EntityId,
    path: web::Path<AttrPath>,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let types = type_selector(&params, &ctx.active)?;
    // GS CIM 009 5.6.5.4: Delete Attribute of `scope` removes the entity's scope.
    let operation = if path.attr == SCOPE {
        EntityOperation::DeleteScope
    } else {
        ngsi_types::ident::check_attribute_name(&path.attr)?;
        let dataset_id = params.get("datasetId")?.map(str::to_owned);
        if let Some(d) = &dataset_id {
            ngsi_types::ident::check_uri("datasetId", d)?;
        }
        EntityOperation::DeleteAttribute {
            name: ctx.active.expand_term(&path.attr).into_owned(),
            dataset_id,
            delete_all: params.flag("deleteAll")?,
        }
    };
    let operation = operation.of_type(types);
    state.entities.apply(&tenant, &id, operation).await?;
    Ok(respond::no_content())
}
