//! One module per resource of the HTTP binding (clause 6.2, table 6.2-1). Handlers read like a
//! table of contents: parse the request into typed values, call a service, render the result.

mod attrs;
mod batch;
mod contexts;
mod csource_registrations;
mod csource_subscriptions;
mod entities;
mod info;
mod meta;
mod subscriptions;
mod temporal;
mod types;

use actix_web::{web, HttpRequest, HttpResponse};

use ngsi_types::context::ActiveContext;
use ngsi_types::query::type_expr::TypeExpr;

use crate::error::{BrokerError, BrokerResult};
use crate::http::params::Params;

/// Registers every NGSI-LD resource under `/ngsi-ld/v1`, and the operational endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/ngsi-ld/v1")
            .configure(entities::configure)
            .configure(attrs::configure)
            .configure(batch::configure)
            .configure(types::configure)
            .configure(contexts::configure)
            .configure(subscriptions::configure)
            .configure(csource_registrations::configure)
            .configure(csource_subscriptions::configure)
            .configure(temporal::configure)
            .configure(info::configure),
    )
    .configure(meta::configure)
    .route(
        crate::http::refusal::PATH,
        web::get().to(crate::http::refusal::answer),
    );
}

/// A resource answering at `path` and at `path/`: table 6.2-1 of GS CIM 009 names the
/// collections with a trailing slash (`/entities/`), clients and the ETSI test suite call them
/// so, and Orion-LD answers both forms.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(vec![path.to_owned(), format!("{path}/")])
}

/// 405 for a known resource asked with a method it does not have.
pub async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, BrokerError> {
    Err(BrokerError::MethodNotAllowed(format!(
        "{} is not allowed on {}",
        req.method(),
        req.path()
    )))
}

/// 405 like [`method_not_allowed`], with the Allow header (IETF RFC 9110 15.5.6) naming the
/// methods the resource has.
pub fn method_not_allowed_but(allow: &'static str) -> actix_web::Route {
    web::to(move |req: HttpRequest| async move {
        let refused = match method_not_allowed(req).await {
            Err(e) => e,
            Ok(_) => BrokerError::MethodNotAllowed("method not allowed".into()),
        };
        let mut response = actix_web::ResponseError::error_response(&refused);
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static(allow),
        );
        response
    })
}

/// 404 for a path that is no resource of this API.
pub async fn no_such_resource(req: HttpRequest) -> Result<HttpResponse, BrokerError> {
    Err(BrokerError::NotFound(format!(
        "no resource at {}",
        req.path()
    )))
}

/// The optional selector of Entity types (`type`, clause 4.17) of the operations on one entity
/// (5.6.2-5.6.6, 5.6.19, 5.7.1), expanded against the request's @context.
pub fn type_selector(params: &Params, ctx: &ActiveContext) -> BrokerResult<Option<TypeExpr>> {
    Ok(params
        .get("type")?
        .map(TypeExpr::parse)
        .transpose()?
        .map(|t| t.expand(ctx)))
}
