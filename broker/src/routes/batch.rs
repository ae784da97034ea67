//! `/entityOperations/*` (clause 6.14-6.19, 6.23): batch create, upsert, update, delete,
//! merge, and query by POST. Each entity succeeds or fails on its own; the response is 201/204
//! when all succeed and 207 with a BatchOperationResult (clause 5.2.16) otherwise.

use actix_web::{web, HttpResponse};
use ngsi_types::format::{parse_attributes, parse_entity, EntityFragment};
use serde_json::{json, Value};

use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::{BrokerError, BrokerResult};
use crate::http::extract::{BatchBody, BatchIds, EntityMedia, LdBody, UriParams};
use crate::http::query_request::QueryRequest;
use crate::http::respond;
use crate::param_set;
use crate::service::{BatchItem, BatchKind, BatchResult, EntityOperation, UpsertMode};
use crate::state::AppState;
use crate::store::{StoreError, Tenant};

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/entityOperations/create", web::post().to(create)),
        ("/entityOperations/upsert", web::post().to(upsert)),
        ("/entityOperations/update", web::post().to(update)),
        ("/entityOperations/delete", web::post().to(delete)),
        ("/entityOperations/merge", web::post().to(merge)),
        ("/entityOperations/query", web::post().to(query)),
    ] {
        cfg.service(
            super::resource(path)
                .route(handler)
                .default_service(web::to(method_not_allowed)),
        );
    }
}

param_set! {
    LocalParams = ["local"];
    OptionsParams = ["options", "local"];
    QueryBodyParams = ["limit", "offset", "count", "options", "format", "local"];
}

/// The id an item of a batch names, for error reports on items that did not parse.
fn item_id(item: &Value) -> String {
    item.get("id")
        .or_else(|| item.get("@id"))
        .and_then(Value::as_str)
        .or_else(|| item.as_str())
        .unwrap_or("")
        .to_owned()
}

/// Reads each item of a batch into its operation; an item that does not read fails alone.
/// On the blocking pool: expanding and validating thousands of entities would hold this
/// HTTP worker, and every other request it serves, for as long.
async fn operations(
    body: BatchBody,
    read: impl Fn(Value, &RequestContext) -> BrokerResult<EntityOperation> + Send + 'static,
) -> BrokerResult<Vec<BatchItem>> {
    web::block(move || {
        body.items
            .into_iter()
            .map(|(item, ctx)| (item_id(&item), ctx.and_then(|ctx| read(item, &ctx))))
            .collect()
    })
    .await
    .map_err(|e| BrokerError::Store(StoreError::Backend(format!("reading the batch: {e}"))))
}

/// 207 with a BatchOperationResult.
fn multi_status(results: &[BatchResult]) -> HttpResponse {
    let success: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(id, _)| id.as_str())
        .collect();
    let errors: Vec<Value> = results
        .iter()
        .filter_map(|(id, r)| {
            r.as_ref()
                .err()
                .map(|e| json!({"entityId": id, "error": e.problem_details()}))
        })
        .collect();
    HttpResponse::MultiStatus().json(json!({"success": success, "errors": errors}))
}

/// Runs a batch that answers 204 when every entity succeeded, else 207.
async fn without_body(
    state: &AppState,
    tenant: &Tenant,
    kind: BatchKind,
    items: Vec<BatchItem>,
) -> BrokerResult<HttpResponse> {
    let results = state.entities.batch(tenant, kind, items).await?;
    if results.iter().all(|(_, r)| r.is_ok()) {
        Ok(respond::no_content())
    } else {
        Ok(multi_status(&results))
    }
}

/// Batch Entity Creation (5.6.7): 201 with the created ids.
async fn create(
    state: web::Data<AppState>,
    _: UriParams<LocalParams>,
    tenant: Tenant,
    body: BatchBody,
) -> BrokerResult<HttpResponse> {
    let items = operations(body, |item, ctx| {
        Ok(EntityOperation::Create(parse_entity(item, &ctx.active)?))
    })
    .await?;
    let results = state
        .entities
        .batch(&tenant, BatchKind::Create, items)
        .await?;
    if results.iter().all(|(_, r)| r.is_ok()) {
        let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
        return Ok(HttpResponse::Created().json(ids));
    }
    Ok(multi_status(&results))
}

/// Batch Entity Upsert (5.6.8): `options=replace` (default) or `update`; 201 with the ids of
/// the entities it created, 204 when it created none.
async fn upsert(
    state: web::Data<AppState>,
    params: UriParams<OptionsParams>,
    tenant: Tenant,
    body: BatchBody,
) -> BrokerResult<HttpResponse> {
    let mode = if params.options()?.update {
        UpsertMode::Update
    } else {
        UpsertMode::Replace
    };
    let items = operations(body, move |item, ctx| {
        let entity = parse_entity(item, &ctx.active)?;
        Ok(EntityOperation::Upsert { entity, mode })
    })
    .await?;
    let results = state
        .entities
        .batch(&tenant, BatchKind::Upsert, items)
        .await?;
    if !results.iter().all(|(_, r)| r.is_ok()) {
        return Ok(multi_status(&results));
    }
    let created: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(|d| d.created))
        .map(|(id, _)| id.as_str())
        .collect();
    if created.is_empty() {
        Ok(respond::no_content())
    } else {
        Ok(HttpResponse::Created().json(created))
    }
}

/// Batch Entity Update (5.6.9): append semantics per entity, `options=noOverwrite`.
async fn update(
    state: web::Data<AppState>,
    params: UriParams<OptionsParams>,
    tenant: Tenant,
    body: BatchBody,
) -> BrokerResult<HttpResponse> {
    let no_overwrite = params.options()?.no_overwrite;
    let items = operations(body, move |item, ctx| {
        // Each entity is appended as a fragment (5.6.3.4): its attributes, the types and the
        // scope it names.
        let entity = parse_entity(item, &ctx.active)?;
        let fragment = EntityFragment {
            id: Some(entity.id),
            types: entity.types,
            scope: (!entity.scope.is_empty()).then_some(entity.scope),
            attributes: entity.attributes,
            ..EntityFragment::default()
        };
        Ok(EntityOperation::Append {
            fragment,
            no_overwrite,
        })
    })
    .await?;
    without_body(&state, &tenant, BatchKind::Update, items).await
}

/// Batch Entity Merge (5.6.20).
async fn merge(
    state: web::Data<AppState>,
    _: UriParams<OptionsParams>,
    tenant: Tenant,
    body: BatchBody,
) -> BrokerResult<HttpResponse> {
    let items = operations(body, |item, ctx| {
        let fragment = parse_attributes(item, &ctx.active, true)?;
        if fragment.id.is_none() {
            return Err(BrokerError::BadRequestData(
                "a merged entity needs an 'id'".into(),
            ));
        }
        Ok(EntityOperation::Merge { fragment })
    })
    .await?;
    without_body(&state, &tenant, BatchKind::Merge, items).await
}

/// Batch Entity Delete (5.6.10): the body is an array of ids.
async fn delete(
    state: web::Data<AppState>,
    _: UriParams<LocalParams>,
    tenant: Tenant,
    body: BatchIds,
) -> BrokerResult<HttpResponse> {
    let items = body
        .items
        .into_iter()
        .map(|item| {
            let operation = match item.as_str() {
                Some(s) if ngsi_types::ident::is_uri(s) => Ok(EntityOperation::Delete),
                _ => Err(BrokerError::BadRequestData(format!(
                    "{item} is not an entity id (URI)"
                ))),
            };
            (item_id(&item), operation)
        })
        .collect();
    without_body(&state, &tenant, BatchKind::Delete, items).await
}

/// Query Entities by POST (5.7.2 with a Query body, clause 6.23).
async fn query(
    state: web::Data<AppState>,
    params: UriParams<QueryBodyParams>,
    media: EntityMedia,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let mut request =
        QueryRequest::from_body(&body.json, &params, &body.ctx.active, &state.config)?;
    state
        .entities
        .resolve_linked_terms(&tenant, &mut request.filter)
        .await?;
    let page = state
        .entities
        .query(&tenant, &request.store_query(), request.order.as_ref())
        .await?;
    let rendering = &request.rendering;
    let linked = rendering.linked_of(&state.entities, &tenant, &page.entities);
    let linked = linked.await?;
    Ok(respond::entities(
        media.0,
        &body.ctx,
        rendering,
        &page,
        linked.as_ref(),
    ))
}
