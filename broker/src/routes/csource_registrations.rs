//! `/csourceRegistrations` and `/csourceRegistrations/{registrationId}` (clause 6.8, 6.9).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use ngsi_types::query::geo::GeoQueryParams;
use ngsi_types::registration::discovery::DiscoveryParams;
use ngsi_types::registration::RegistrationQuery;

use super::method_not_allowed_but;
use crate::contexts::RequestContext;
use crate::error::BrokerResult;
use crate::http::extract::{JsonMedia, LdBody, PatchBody, RegistrationId, UriParams};
use crate::http::params::Params;
use crate::http::respond;
use crate::param_set;
use crate::state::AppState;
use crate::store::Tenant;

const COLLECTION: &str = "/ngsi-ld/v1/csourceRegistrations";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/csourceRegistrations")
            .route(web::post().to(create))
            .route(web::get().to(query))
            .default_service(method_not_allowed_but("GET, POST")),
    )
    .service(
        super::resource("/csourceRegistrations/{registrationId}")
            .route(web::get().to(retrieve))
            .route(web::patch().to(update))
            .route(web::delete().to(delete))
            .default_service(method_not_allowed_but("GET, PATCH, DELETE")),
    );
}

param_set! {
    NoParams = [];
    RetrieveParams = ["options"];
    /// Table 6.8.3.2-1, with pagination (6.3.10) and `options` (sysAttrs). `geometryProperty`,
    /// `lang`, `pick` and `omit` shape entities, which a registration is not: accepted, unused.
    QueryParams = [
        "id", "type", "idPattern", "attrs", "q", "csf", "scopeQ", "georel", "geometry",
        "coordinates", "geoproperty", "geometryProperty", "timerel", "timeAt", "endTimeAt",
        "timeproperty", "lang", "pick", "omit", "limit", "offset", "count", "options",
    ];
}

/// Register Context Source (5.9.2): 201 with Location.
async fn create(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    body: LdBody,
) -> BrokerResult<HttpResponse> {
    let id = state
        .registrations
        .create(&tenant, &body.json, &body.ctx.active)
        .await?;
    Ok(respond::created(format!(
        "{COLLECTION}/{}",
        respond::path_segment(&id)
    )))
}

/// Query Context Source Registrations (5.10.2): paginated, in id order.
async fn query(
    state: web::Data<AppState>,
    params: UriParams<QueryParams>,
    media: JsonMedia,
    tenant: Tenant,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let limit = params.limit(state.config.default_limit, state.config.max_limit)?;
    let offset = params.number("offset")?.unwrap_or(0);
    let count = params.flag("count")?;
    let sys_attrs = params.options()?.sys_attrs;
    let discovery = RegistrationQuery::from_params(discovery_params(&params)?, &ctx.active)?;
    let page = state
        .registrations
        .query(&tenant, &discovery, &ctx.active, offset, limit)
        .await?;
    let body = page
        .registrations
        .iter()
        .map(|r| r.render(&ctx.active, sys_attrs))
        .collect();
    Ok(respond::collection_page(
        COLLECTION, &params, offset, limit, page.total, count, media.0, &ctx, body,
    ))
}

/// Retrieve Context Source Registration (5.10.1).
async fn retrieve(
    state: web::Data<AppState>,
    params: UriParams<RetrieveParams>,
    media: JsonMedia,
    tenant: Tenant,
    RegistrationId(id): RegistrationId,
    ctx: RequestContext,
) -> BrokerResult<HttpResponse> {
    let sys_attrs = params.options()?.sys_attrs;
    let reg = state.registrations.retrieve(&tenant, &id).await?;
    Ok(respond::json(
        StatusCode::OK,
        media.0,
        &ctx,
        reg.render(&ctx.active, sys_attrs),
    ))
}

/// Update Context Source Registration (5.9.3): 204.
async fn update(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    RegistrationId(id): RegistrationId,
    body: PatchBody,
) -> BrokerResult<HttpResponse> {
    state
        .registrations
        .update(&tenant, &id, &body.json, &body.ctx.active)
        .await?;
    Ok(respond::no_content())
}

/// Delete Context Source Registration (5.9.4): 204.
async fn delete(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    tenant: Tenant,
    RegistrationId(id): RegistrationId,
) -> BrokerResult<HttpResponse> {
    state.registrations.delete(&tenant, &id).await?;
    Ok(respond::no_content())
}

/// The discovery parameters of the query string.
fn discovery_params(p: &Params) -> BrokerResult<DiscoveryParams<'_>> {
    Ok(DiscoveryParams {
        id: p.get("id")?,
        r#type: p.get("type")?,
        id_pattern: p.get("idPattern")?,
        attrs: p.get("attrs")?,
        q: p.get("q")?,
        csf: p.get("csf")?,
        scope_q: p.get("scopeQ")?,
        geo: GeoQueryParams {
            georel: p.get("georel")?,
            geometry: p.get("geometry")?,
            coordinates: p.get("coordinates")?,
            geoproperty: p.get("geoproperty")?,
        },
        timerel: p.get("timerel")?,
        time_at: p.get("timeAt")?,
        end_time_at: p.get("endTimeAt")?,
        timeproperty: p.get("timeproperty")?,
    })
}
