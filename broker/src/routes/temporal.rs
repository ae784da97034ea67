//! `/temporal/entities[/{entityId}[/attrs[/{attrId}[/{instanceId}]]]]` and
//! `/temporal/entityOperations/query` (clauses 6.18-6.21, 6.24).

use actix_web::http::header::{HeaderValue, CONTENT_RANGE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use ngsi_types::temporal::{parse_temporal_entity, render_temporal_entity, ContentRange};
use serde_json::Value;

use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::check_body_id;
use crate::http::extract::{EntityId, JsonMedia, LdBody, PatchBody, UriParams};
use crate::http::media::MediaType;
use crate::http::pagination;
use crate::http::respond;
use crate::http::temporal_request::{
    TemporalBodyQueryParams, TemporalQueryParams, TemporalRendering, TemporalRequest,
    TemporalRetrieveParams,
};
use crate::param_set;
use crate::service::Upserted;
use crate::state::AppState;
use crate::store::{TemporalPage, Tenant};

const COLLECTION: &str = "/ngsi-ld/v1/temporal/entities";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/temporal/entities")
            .route(web::post().to(upsert))
            .route(web::get().to(query))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/temporal/entities/{entityId}")
            .route(web::get().to(retrieve))
            .route(web::delete().to(delete))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/temporal/entities/{entityId:[^/]*}/attrs")
            .route(web::post().to(add_attributes))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/temporal/entities/{entityId:[^/]*}/attrs/{attrId:[^/]*}")
            .route(web::delete().to(delete_attribute))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource(
            "/temporal/entities/{entityId:[^/]*}/attrs/{attrId:[^/]*}/{instanceId:[^/]*}",
        )
        .route(web::patch().to(modify_instance))
        .route(web::delete().to(delete_instance))
        .default_service(web::to(method_not_allowed)),
    )
    .service(
        super::resource("/temporal/entityOperations/query")
            .route(web::post().to(query_by_body))
            .default_service(web::to(method_not_allowed)),
    );
}

param_set! {
    UpsertParams = ["local"];
    DeleteParams = ["local"];
    AddParams = ["local"];
    DeleteAttributeParams = ["datasetId", "deleteAll", "local"];
    InstanceParams = ["local"];
}

/// The `{attrId}` and `{instanceId}` of the path.
#[derive(Debug, serde::Deserialize)]
struct InstancePath {
    #[serde(rename = "attrId")]
    attr: String,
    #[serde(rename = "instanceId", default)]
    instance: Option<String>,
}

impl InstancePath {
    /// The attribute name, checked (5.6.13.4, 5.6.14.4: BadRequestData when not valid).
    fn attribute(&self, ctx: &RequestContext) -> BrokerResult<String> {
        if self.attr.is_empty() {
            return Err(BrokerError::BadRequestData(
                "the attribute name is missing from the path".into(),
            ));
        }
        ngsi_types::ident::check_attribute_name(&self.attr)?;
        Ok(ctx.active.expand_term(&self.attr).into_owned())
    }

    /// The instanceId, a URI (5.6.14.4, 5.6.15.4).
    fn instance_id(&self) -> BrokerResult<String> {
        let id = self.instance.as_deref().unwrap_or_default();
        ngsi_types::ident::check_uri("instanceId", id)?;
        Ok(id.to_owned())
    }
}

/// Create or Update Temporal Evolution of an Entity (5.6.11): 201 with Location when
/// created, 204 when instances were added to an existing evolution.
async fn upsert(
    state: web::Data<AppState>,
    _: UriParams<UpsertParams>,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let entity = parse_temporal_entity(body.json, &body.ctx.active, true)?;
    let location = format!("{COLLECTION}/{}", respond::path_segment(&entity.id));
    match state.temporal.upsert(&tenant, entity).await? {
        Upserted::Created => Ok(respond::created(location)),
        Upserted::Updated => Ok(respond::no_content()),
    }
}

/// Query Temporal Evolution of Entities (5.7.4).
async fn query(
    state: web::Data<AppState>,
    params: UriParams<TemporalQueryParams>,
    media: JsonMedia,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let request = TemporalRequest::query(&params, &ctx.active, &state.config)?;
    let answer = state
        .temporal
        .query(&tenant, &request.selection, request.rendering.partial())
        .await?;
    let page = &answer.value;
    let links = pagination::page_links(COLLECTION, params.pairs(), request.page(page), media.0);
    let response = entities(media.0, &ctx, &request.rendering, page);
    Ok(with_range(
        pagination::with_page_links(response, &links),
        answer.range,
    ))
}

/// Query Temporal Evolution of Entities by POST (clause 6.24).
async fn query_by_body(
    state: web::Data<AppState>,
    params: UriParams<TemporalBodyQueryParams>,
    media: JsonMedia,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let request = TemporalRequest::from_body(&body.json, &params, &body.ctx.active, &state.config)?;
    let answer = state
        .temporal
        .query(&tenant, &request.selection, request.rendering.partial())
        .await?;
    let response = entities(media.0, &body.ctx, &request.rendering, &answer.value);
    Ok(with_range(response, answer.range))
}

/// A partial temporal answer is 206 with its Content-Range (clause 6.3.10).
fn with_range(mut response: HttpResponse, range: Option<ContentRange>) -> HttpResponse {
    if let Some(range) = range {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(value) = HeaderValue::from_str(&range.header_value()) {
            response.headers_mut().insert(CONTENT_RANGE, value);
        }
    }
    response
}

fn entities(
    media: MediaType,
    ctx: &RequestContext,
    rendering: &TemporalRendering,
    page: &TemporalPage,
) -> HttpResponse {
    let render = rendering.render();
    let body = Value::Array(
        page.entities
            .iter()
            .map(|e| Value::Object(render_temporal_entity(e, &ctx.active, &render)))
            .collect(),
    );
    respond::with_count(respond::json(StatusCode::OK, media, ctx, body), page.total)
}

/// Retrieve Temporal Evolution of an Entity (5.7.3).
async fn retrieve(
    state: web::Data<AppState>,
    params: UriParams<TemporalRetrieveParams>,
    EntityId(id): EntityId,
    media: JsonMedia,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let request = TemporalRequest::retrieve(&params, &ctx.active)?;
    let answer = state
        .temporal
        .retrieve(
            &tenant,
            &id,
            &request.selection,
            request.rendering.partial(),
        )
        .await?;
    request.rendering.check_retrieved(&answer.value)?;
    let body = render_temporal_entity(&answer.value, &ctx.active, &request.rendering.render());
    let response = respond::json(StatusCode::OK, media.0, &ctx, Value::Object(body));
    Ok(with_range(response, answer.range))
}

/// Delete Temporal Evolution of an Entity (5.6.16).
async fn delete(
    state: web::Data<AppState>,
    _: UriParams<DeleteParams>,
    EntityId(id): EntityId,
    tenant: Tenant,
) -> BrokerResult<HttpResponse> {
    state.temporal.delete(&tenant, &id).await?;
    Ok(respond::no_content())
}

/// Add Attributes to Temporal Evolution of an Entity (5.6.12).
async fn add_attributes(
    state: web::Data<AppState>,
    _: UriParams<AddParams>,
    EntityId(id): EntityId,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let fragment = parse_temporal_entity(body.json, &body.ctx.active, false)?;
    check_body_id(
        Some(&fragment.id)
            .filter(|i| !i.is_empty())
            .map(String::as_str),
        &id,
    )?;
    state
        .temporal
        .add_attributes(&tenant, &id, fragment)
        .await?;
    Ok(respond::no_content())
}

/// Delete Attribute from Temporal Evolution of an Entity (5.6.13): `deleteAll=true` removes
/// every instance, `datasetId` those of one datasetId, neither those of the default one.
async fn delete_attribute(
    state: web::Data<AppState>,
    params: UriParams<DeleteAttributeParams>,
    EntityId(id): EntityId,
    path: web::Path<InstancePath>,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let attribute = path.attribute(&ctx)?;
    let dataset_id = params.get("datasetId")?.map(str::to_owned);
    if let Some(d) = &dataset_id {
        ngsi_types::ident::check_uri("datasetId", d)?;
    }
    let selected = if params.flag("deleteAll")? {
        None
    } else {
        Some(dataset_id)
    };
    state
        .temporal
        .delete_attribute(&tenant, &id, &attribute, selected)
        .await?;
    Ok(respond::no_content())
}

/// Modify Attribute Instance in Temporal Evolution of an Entity (5.6.14): the body is an
/// EntityTemporal fragment holding the attribute, or the attribute instance itself.
async fn modify_instance(
    state: web::Data<AppState>,
    _: UriParams<InstanceParams>,
    EntityId(id): EntityId,
    path: web::Path<InstancePath>,
    tenant: Tenant,
    body: PatchBody,
) -> BrokerResult<HttpResponse> {
    let attribute = path.attribute(&body.ctx)?;
    let instance_id = path.instance_id()?;
    let mut json = body.json;
    if let Some(map) = json.as_object_mut() {
        map.remove("@context");
    }
    let wrapped = json.get(&path.attr).cloned();
    let value = wrapped.unwrap_or(json);
    let (_, mut instances) =
        ngsi_types::format::parse_instances(&path.attr, value, &body.ctx.active, true)?;
    if instances.len() != 1 {
        return Err(BrokerError::BadRequestData(format!(
            "attribute '{}': exactly one instance expected",
            path.attr
        )));
    }
    state
        .temporal
        .modify_instance(&tenant, &id, &attribute, &instance_id, instances.remove(0))
        .await?;
    Ok(respond::no_content())
}

/// Delete Attribute Instance from Temporal Evolution of an Entity (5.6.15).
async fn delete_instance(
    state: web::Data<AppState>,
    _: UriParams<InstanceParams>,
    EntityId(id): EntityId,
    path: web::Path<InstancePath>,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let attribute = path.attribute(&ctx)?;
    let instance_id = path.instance_id()?;
    state
        .temporal
        .delete_instance(&tenant, &id, &attribute, &instance_id)
        .await?;
    Ok(respond::no_content())
}
