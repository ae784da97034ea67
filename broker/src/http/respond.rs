//! Writing NGSI-LD responses: JSON bodies with the @context where the media type puts it
//! (a Link header for application/json, an `@context` member for application/ld+json).

use actix_web::http::header::{LINK, LOCATION};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use ngsi_types::format::{
    render_entity, render_feature, render_feature_collection, Join, LinkedEntities,
};
use ngsi_types::Entity;
use serde_json::Value;

use crate::contexts::RequestContext;
use crate::http::media::{MediaType, JSONLD_CONTEXT_REL};
use crate::http::query_request::EntityRendering;
use crate::store::QueryPage;

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
        MediaType::JsonLd | MediaType::GeoJson => {
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
        MediaType::Json | MediaType::GeoJsonLinked => {
            response.insert_header((LINK, link_header(&ctx.link_url())));
        }
    }
    response.json(body)
}

/// The value of a JSON-LD @context Link header.
pub fn link_header(url: &str) -> String {
    format!(r#"<{url}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json""#)
}

/// `text` as one URI path segment (RFC 3986 `pchar`): an entity id may hold `/`, `?`, `#` or
/// non-ASCII characters, which a Location header must escape to name the entity's resource.
/// Characters a segment allows, `:` and `@` among them, stay as they are.
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let plain = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b);
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Adds `NGSILD-Results-Count` (clause 6.3.13): the number of matches over all pages.
pub fn with_count(mut response: HttpResponse, total: Option<u64>) -> HttpResponse {
    if let Some(total) = total {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("ngsild-results-count"),
            actix_web::http::header::HeaderValue::from(total),
        );
    }
    response
}

/// One page of a collection of the API's own resources (subscriptions, registrations, ...):
/// a JSON array with its prev/next Link headers and, when the request counted,
/// `NGSILD-Results-Count`. `total` is the number of elements over all pages.
#[allow(clippy::too_many_arguments)]
pub fn collection_page(
    collection: &str,
    params: &crate::http::params::Params,
    offset: usize,
    limit: usize,
    total: u64,
    count: bool,
    media: MediaType,
    ctx: &RequestContext,
    body: Vec<Value>,
) -> HttpResponse {
    let page = crate::http::pagination::Page {
        offset,
        limit,
        returned: body.len(),
        total: Some(total),
    };
    let links = crate::http::pagination::page_links(collection, params.pairs(), page, media);
    let response = json(StatusCode::OK, media, ctx, Value::Array(body));
    let response = crate::http::pagination::with_page_links(response, &links);
    with_count(response, count.then_some(total))
}

/// 204 No Content.
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// 201 Created, with the new resource's URL in `Location`.
pub fn created(location: String) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((LOCATION, location))
        .finish()
}

/// The path of an entity's resource (a Location header).
pub fn entity_location(id: &str) -> String {
    format!("/ngsi-ld/v1/entities/{}", path_segment(id))
}

/// One entity (Retrieve Entity, 5.7.1), as JSON, JSON-LD or a GeoJSON Feature; with Linked
/// Entities, inline in it or, flattened, an array (a FeatureCollection) after it (5.7.1.5).
pub fn entity(
    media: MediaType,
    ctx: &RequestContext,
    rendering: &EntityRendering,
    entity: &Entity,
    linked: Option<&LinkedEntities>,
) -> HttpResponse {
    let opts = rendering.render_options();
    let entity = rendering.instances(entity);
    let join = rendering.join.as_ref().map(|j| j.join);
    let geometry = &rendering.geometry_property;
    let body = match (linked.zip(join), media.is_geojson()) {
        (None, true) => render_feature(&entity, &ctx.active, &opts, geometry),
        (None, false) => Value::Object(render_entity(&entity, &ctx.active, &opts)),
        (Some((linked, Join::Inline)), true) => {
            linked.render_inline_feature(&entity, &ctx.active, &opts, geometry)
        }
        (Some((linked, Join::Inline)), false) => {
            Value::Object(linked.render_inline(&entity, &ctx.active, &opts))
        }
        (Some((linked, Join::Flat)), geojson) => {
            let roots = std::slice::from_ref(entity.as_ref());
            flat(linked, roots, ctx, rendering, geojson)
        }
    };
    json(StatusCode::OK, media, ctx, body)
}

/// A page of entities (Query Entities, 5.7.2), as an array or a GeoJSON FeatureCollection,
/// with `NGSILD-Results-Count` when the query counted; with Linked Entities, inline in each
/// entity or, flattened, appended (5.7.2.5).
pub fn entities(
    media: MediaType,
    ctx: &RequestContext,
    rendering: &EntityRendering,
    page: &QueryPage,
    linked: Option<&LinkedEntities>,
) -> HttpResponse {
    let opts = rendering.render_options();
    let selected: Vec<Entity>;
    let entities = match rendering.dataset_ids {
        None => &page.entities,
        Some(_) => {
            selected = page
                .entities
                .iter()
                .map(|e| rendering.instances(e).into_owned())
                .collect();
            &selected
        }
    };
    let join = rendering.join.as_ref().map(|j| j.join);
    let geometry = &rendering.geometry_property;
    let body = match (linked.zip(join), media.is_geojson()) {
        (None, true) => render_feature_collection(entities, &ctx.active, &opts, geometry),
        (None, false) => Value::Array(
            entities
                .iter()
                .map(|e| Value::Object(render_entity(e, &ctx.active, &opts)))
                .collect(),
        ),
        (Some((linked, Join::Inline)), true) => feature_collection(
            entities
                .iter()
                .map(|e| linked.render_inline_feature(e, &ctx.active, &opts, geometry))
                .collect(),
        ),
        (Some((linked, Join::Inline)), false) => Value::Array(
            entities
                .iter()
                .map(|e| Value::Object(linked.render_inline(e, &ctx.active, &opts)))
                .collect(),
        ),
        (Some((linked, Join::Flat)), geojson) => flat(linked, entities, ctx, rendering, geojson),
    };
    with_count(json(StatusCode::OK, media, ctx, body), page.total)
}

/// The flattened representation (4.5.23.3): an array, or a FeatureCollection for GeoJSON.
fn flat(
    linked: &LinkedEntities,
    roots: &[Entity],
    ctx: &RequestContext,
    rendering: &EntityRendering,
    geojson: bool,
) -> Value {
    let opts = rendering.render_options();
    if geojson {
        let geometry = &rendering.geometry_property;
        return feature_collection(linked.render_flat_features(
            roots,
            &ctx.active,
            &opts,
            geometry,
        ));
    }
    Value::Array(
        linked
            .render_flat(roots, &ctx.active, &opts)
            .into_iter()
            .map(Value::Object)
            .collect(),
    )
}

fn feature_collection(features: Vec<Value>) -> Value {
    serde_json::json!({ "type": "FeatureCollection", "features": features })
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn path_segments_escape_what_a_segment_cannot_hold() {
        assert_eq!(path_segment("urn:ngsi-ld:V:1"), "urn:ngsi-ld:V:1");
        assert_eq!(path_segment("urn:x:a/b?c#d e"), "urn:x:a%2Fb%3Fc%23d%20e");
        assert_eq!(path_segment("urn:x:ä"), "urn:x:%C3%A4");
    }
}
