//! What the HTTP binding asks of every request and response, whatever the resource, before
//! routing and extractors run (GS CIM 009 6.3.4 preconditions, 6.3.14 tenant header, HEAD
//! answered as GET).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, AUTHORIZATION, CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};

use super::tenant::{tenant_of, TENANT_HEADER};
use crate::auth::{Authorized, JwtAuth};
use crate::error::BrokerError;

/// Checks the preconditions of 6.3.4 that hold for every resource, records the @contexts a
/// successful request used (and only then: a rejected request registers nothing), then echoes
/// the request's `NGSILD-Tenant` header on the response (6.3.14: a request's tenant header is
/// repeated in its response), errors included.
pub async fn request_front(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // RFC 9110 9.3.2: HEAD is GET without the content. Routed as GET; the HTTP/1 codec, which
    // saw the request's own method, sends the headers of the answer and drops its body.
    if *req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let tenant = req.headers().get(TENANT_HEADER).cloned();
    let refused = authorize(&req).err();
    let mut response = if let Some(error) = refused {
        req.into_response(error.error_response())
            .map_into_right_body()
    } else if lacks_content_length(&req) {
        // GS CIM 009 6.3.4: a POST, PATCH or PUT without Content-Length (a chunked body) gets
        // a 411 and no body at all: the one error the broker sends without a ProblemDetails,
        // because the spec asks for exactly that.
        let response = HttpResponse::LengthRequired().finish();
        req.into_response(response).map_into_right_body()
    } else {
        let response = next.call(req).await?;
        super::extract::record_context_uses(response.request(), response.status().is_success());
        response.map_into_left_body()
    };
    if let Some(value) = tenant {
        response
            .headers_mut()
            .insert(HeaderName::from_static("ngsild-tenant"), value);
    }
    Ok(response)
}

/// With `--auth jwt`, the bearer token's rights against what the request does (`auth.rs`); an
/// authorized request is marked ([`Authorized`]) for the handlers that serve more to it.
fn authorize(req: &ServiceRequest) -> Result<(), BrokerError> {
    let Some(auth) = req.app_data::<web::Data<JwtAuth>>() else {
        return Ok(());
    };
    let tenant = tenant_of(req.request())?;
    let authorization = req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default());
    if auth.check(req.method(), req.path(), authorization, &tenant)? {
        req.extensions_mut().insert(Authorized);
    }
    Ok(())
}

/// A POST, PATCH or PUT whose body comes without a declared length (chunked). A request with
/// neither Content-Length nor Transfer-Encoding has a body of length zero by its framing
/// (RFC 9112 6.3), so it goes on to be judged as an empty body (400 InvalidRequest) or a wrong
/// method (405), which tells its sender more than a 411 would.
fn lacks_content_length(req: &ServiceRequest) -> bool {
    matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT)
        && !req.headers().contains_key(CONTENT_LENGTH)
        && req.headers().contains_key(TRANSFER_ENCODING)
}
