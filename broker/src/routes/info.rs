//! `/info/sourceIdentity` (clause 6.33): this broker's Context Source identity (5.15.1).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::method_not_allowed;
use crate::contexts::RequestContext;
use crate::error::BrokerResult;
use crate::http::extract::{JsonMedia, UriParams};
use crate::http::respond;
use crate::param_set;
use crate::state::AppState;
use crate::store::Tenant;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/info/sourceIdentity")
            .route(web::get().to(source_identity))
            .default_service(web::to(method_not_allowed)),
    );
}

param_set! {
    NoParams = [];
}

/// Retrieve Context Source Identity Information (5.15.1), for the tenant asked. A tenant need
/// not exist yet: its alias is what a peer registers before it sends anything there.
async fn source_identity(
    state: web::Data<AppState>,
    _: UriParams<NoParams>,
    media: JsonMedia,
    tenant: Tenant,
) -> BrokerResult<HttpResponse> {
    let body = state.source_identity.describe(&tenant);
    Ok(respond::json(
        StatusCode::OK,
        media.0,
        &RequestContext::core(),
        body,
    ))
}
