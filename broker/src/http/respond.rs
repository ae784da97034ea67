//! Writing NGSI-LD responses: JSON bodies with the @context where the media type puts it
//! (a Link header for application/json, an `@context` member for application/ld+json).

use actix_web::http::header::LINK;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::Value;

use crate::contexts::RequestContext;
use crate::http::media::{MediaType, JSONLD_CONTEXT_REL};

/// A JSON response in the negotiated media type, carrying the request's @context.
pub fn json(
    status: StatusCode,
    media: MediaType,
    ctx: &RequestContext,
    mut body: Value,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.content_type(media.as_str());
    match media {
        MediaType::JsonLd => {
            let context = ctx.response_context();
            match &mut body {
                Value::Object(map) => {
                    map.insert("@context".into(), context);
                }
                Value::Array(items) => {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        item.insert("@context".into(), context.clone());
                    }
                }
                _ => {}
            }
        }
        MediaType::Json | MediaType::GeoJson => {
            response.insert_header((LINK, link_header(&ctx.link_url())));
        }
    }
    response.json(body)
}

/// The value of a JSON-LD @context Link header.
pub fn link_header(url: &str) -> String {
    format!(r#"<{url}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json""#)
}

/// 204 No Content.
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}
