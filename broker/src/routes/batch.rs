//! `/entityOperations/*` (clause 6.14-6.19, 6.23): batch create, upsert, update, delete,
//! merge, and query by POST. Each entity succeeds or fails on its own; the response is 201/204
//! when all succeed and 207 with a BatchOperationResult (clause 5.2.16) otherwise.

use actix_web::{web, HttpRequest, HttpResponse};
use ngsi_types::format::{parse_attributes, parse_entity};
use ngsi_types::update::{append_attributes, merge_entity, replace_entity};
use ngsi_types::Entity;
use serde_json::{json, Value};

use super::entities::{base_url, body_and_context, render_query_result};
use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::{parse_json_body, RawBody};
use crate::http::media::{negotiate, MediaType};
use crate::http::params::Params;
use crate::http::query_request::QueryRequest;
use crate::http::tenant::tenant_of;
use crate::service::{update_plan, Done, Plan, Planned};
use crate::state::AppState;
use ngsi_types::context::ContextSource;

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

/// The outcome of one entity of a batch.
type ItemResult = (String, BrokerResult<Done>);

/// The array of a batch body.
fn items(json: Value) -> BrokerResult<Vec<Value>> {
    let Value::Array(items) = json else {
        return Err(BrokerError::BadRequestData(
            "a batch operation takes a JSON array".into(),
        ));
    };
    if items.is_empty() {
        return Err(BrokerError::BadRequestData("the batch is empty".into()));
    }
    Ok(items)
}

/// The items of a batch body, each with the @context it is read with. With
/// `application/json` every item shares the request's (Link header or core); with
/// `application/ld+json` each item carries its own (GS CIM 009 6.3.5), and an item without
/// one fails alone with BadRequestData.
async fn batch_items(
    state: &AppState,
    req: &HttpRequest,
    raw: &RawBody,
) -> BrokerResult<Vec<(Value, BrokerResult<RequestContext>)>> {
    let body = parse_json_body(req, raw, false)?;
    let inline = matches!(body.context, ContextSource::Inline(_));
    let items = items(body.json)?;
    let base = base_url(req);
    if !inline {
        let ctx = state.contexts.resolve(body.context, &base).await?;
        return Ok(items.into_iter().map(|i| (i, Ok(ctx.clone()))).collect());
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let ctx = match item.get("@context") {
            Some(c) => {
                state
                    .contexts
                    .resolve(ContextSource::Inline(c.clone()), &base)
                    .await
            }
            None => Err(BrokerError::BadRequestData(
                "each entity of an application/ld+json batch needs its own @context".into(),
            )),
        };
        out.push((item, ctx));
    }
    Ok(out)
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

/// Runs the plans of the items that parsed; parse failures are reported in place.
async fn run(
    state: &AppState,
    tenant: &crate::store::Tenant,
    parsed: Vec<(String, BrokerResult<Plan>)>,
) -> BrokerResult<Vec<ItemResult>> {
    let mut slots: Vec<(String, Option<BrokerResult<Done>>)> = Vec::with_capacity(parsed.len());
    let mut plans = Vec::new();
    let mut positions = Vec::new();
    for (i, (id, plan)) in parsed.into_iter().enumerate() {
        match plan {
            Ok(plan) => {
                positions.push(i);
                plans.push((id.clone(), plan));
                slots.push((id, None));
            }
            Err(e) => slots.push((id, Some(Err(e)))),
        }
    }
    let results = state.entities.execute(tenant, plans).await?;
    for (pos, result) in positions.into_iter().zip(results) {
        slots[pos].1 = Some(result);
    }
    Ok(slots
        .into_iter()
        .map(|(id, r)| {
            (
                id,
                r.unwrap_or_else(|| Err(BrokerError::Contention("not attempted".into()))),
            )
        })
        .collect())
}

/// 207 with a BatchOperationResult.
fn multi_status(results: &[ItemResult]) -> HttpResponse {
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

fn all_ok(results: &[ItemResult]) -> bool {
    results.iter().all(|(_, r)| r.is_ok())
}

/// Batch Entity Creation (5.6.7): 201 with the created ids.
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let tenant = tenant_of(&req)?;
    let parsed = batch_items(&state, &req, &raw)
        .await?
        .into_iter()
        .map(|(item, ctx)| {
            let id = item_id(&item);
            let plan = ctx
                .and_then(|ctx| parse_entity(item, &ctx.active).map_err(BrokerError::from))
                .map(|entity| {
                    Box::new(move |current: Option<&Entity>| match current {
                        Some(_) => Err(BrokerError::AlreadyExists(format!(
                            "entity '{}' already exists",
                            entity.id
                        ))),
                        None => Ok(Planned::Put(Box::new(entity.clone()), Default::default())),
                    }) as Plan
                });
            (id, plan)
        })
        .collect();
    let results = run(&state, &tenant, parsed).await?;
    if all_ok(&results) {
        let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
        return Ok(HttpResponse::Created().json(ids));
    }
    Ok(multi_status(&results))
}

/// Batch Entity Upsert (5.6.8): `options=replace` (default) or `update`.
async fn upsert(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["options", "local"])?;
    let update_mode = params.options()?.update;
    let tenant = tenant_of(&req)?;
    let parsed = batch_items(&state, &req, &raw)
        .await?
        .into_iter()
        .map(|(item, ctx)| {
            let id = item_id(&item);
            let plan = ctx
                .and_then(|ctx| parse_entity(item, &ctx.active).map_err(BrokerError::from))
                .map(|new| {
                    Box::new(move |current: Option<&Entity>| {
                        let now = chrono::Utc::now();
                        Ok(match current {
                            None => Planned::Put(Box::new(new.clone()), Default::default()),
                            Some(old) if update_mode => {
                                let mut entity = old.clone();
                                for ty in &new.types {
                                    if !entity.has_type(ty) {
                                        entity.types.push(ty.clone());
                                    }
                                }
                                let changes = append_attributes(
                                    &mut entity,
                                    new.attributes.clone(),
                                    false,
                                    now,
                                );
                                Planned::Put(Box::new(entity), changes)
                            }
                            Some(old) => {
                                let (entity, changes) = replace_entity(old, new.clone(), now);
                                Planned::Put(Box::new(entity), changes)
                            }
                        })
                    }) as Plan
                });
            (id, plan)
        })
        .collect();
    let results = run(&state, &tenant, parsed).await?;
    if !all_ok(&results) {
        return Ok(multi_status(&results));
    }
    let created: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(|d| d.created))
        .map(|(id, _)| id.as_str())
        .collect();
    if created.is_empty() {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Ok(HttpResponse::Created().json(created))
    }
}

/// Batch Entity Update (5.6.9): append semantics per entity, `options=noOverwrite`.
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    let params = Params::parse(&req, &["options", "local"])?;
    let no_overwrite = params.options()?.no_overwrite;
    let tenant = tenant_of(&req)?;
    let items = batch_items(&state, &req, &raw).await?;
    state.entities.check_tenant(&tenant).await?;
    let parsed = items
        .into_iter()
        .map(|(item, ctx)| {
            let id = item_id(&item);
            let plan = ctx
                .and_then(|ctx| parse_entity(item, &ctx.active).map_err(BrokerError::from))
                .map(|new| {
                    let id = new.id.clone();
                    update_plan(&id, move |entity| {
                        Ok(append_attributes(
                            entity,
                            new.attributes.clone(),
                            no_overwrite,
                            chrono::Utc::now(),
                        ))
                    })
                });
            (id, plan)
        })
        .collect();
    let results = run(&state, &tenant, parsed).await?;
    finish_without_body(&results)
}

/// Batch Entity Merge (5.6.20).
async fn merge(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["options", "local"])?;
    let tenant = tenant_of(&req)?;
    let items = batch_items(&state, &req, &raw).await?;
    state.entities.check_tenant(&tenant).await?;
    let parsed = items
        .into_iter()
        .map(|(item, ctx)| {
            let id = item_id(&item);
            let plan = ctx
                .and_then(|ctx| {
                    parse_attributes(item, &ctx.active, true).map_err(BrokerError::from)
                })
                .and_then(|fragment| {
                    let id = fragment.id.clone().ok_or_else(|| {
                        BrokerError::BadRequestData("a merged entity needs an 'id'".into())
                    })?;
                    Ok(update_plan(&id, move |entity| {
                        Ok(merge_entity(entity, fragment.clone(), chrono::Utc::now()))
                    }))
                });
            (id, plan)
        })
        .collect();
    let results = run(&state, &tenant, parsed).await?;
    finish_without_body(&results)
}

/// Batch Entity Delete (5.6.10): the body is an array of ids.
async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    Params::parse(&req, &["local"])?;
    let tenant = tenant_of(&req)?;
    let body = parse_json_body(&req, &raw, false)?;
    state.entities.check_tenant(&tenant).await?;
    let parsed = items(body.json)?
        .into_iter()
        .map(|item| {
            let id = item_id(&item);
            let plan = match item.as_str() {
                Some(s) if ngsi_types::ident::is_uri(s) => {
                    Ok(Box::new(|_: Option<&Entity>| Ok(Planned::Delete)) as Plan)
                }
                _ => Err(BrokerError::BadRequestData(format!(
                    "{item} is not an entity id (URI)"
                ))),
            };
            (id, plan)
        })
        .collect();
    let results = run(&state, &tenant, parsed).await?;
    finish_without_body(&results)
}

fn finish_without_body(results: &[ItemResult]) -> BrokerResult<HttpResponse> {
    if all_ok(results) {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Ok(multi_status(results))
    }
}

/// Query Entities by POST (5.7.2 with a Query body, clause 6.23).
async fn query(
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: RawBody,
) -> BrokerResult<HttpResponse> {
    let params = Params::parse(
        &req,
        &["limit", "offset", "count", "options", "format", "local"],
    )?;
    let media = negotiate(
        &req,
        &[MediaType::Json, MediaType::JsonLd, MediaType::GeoJson],
    )?;
    let tenant = tenant_of(&req)?;
    let (body, ctx) = body_and_context(&state, &req, &raw, false).await?;
    let request = QueryRequest::from_body(&body.json, &params, &ctx.active, &state.config)?;
    render_query_result(&state, &tenant, &ctx, &request, media).await
}
