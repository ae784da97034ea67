//! `Prefer: ngsi-ld=<version>` (GS CIM 009 6.3.6 with 4.3.6.8): a consumer of an earlier
//! version gets Entity data reformatted by the fallbacks of Table 4.3.6.8 (203 Non-Authoritative
//! Information when anything changed), and every successful response to such a request says
//! which version its payload conforms to in `Preference-Applied`. Other payloads have no
//! fallbacks and go unaltered.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use ngsi_types::format::{downgrade_entity, SpecVersion};
use serde_json::Value;

/// The version a request prefers (RFC 7240: preference names are case-insensitive, a value
/// may be quoted, parameters follow `;`, several preferences are separated by commas).
pub fn preferred_version(headers: &HeaderMap) -> Option<SpecVersion> {
    headers
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|preference| {
            let token = preference.split(';').next()?.trim();
            let (name, value) = token.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("ngsi-ld") {
                return None;
            }
            SpecVersion::parse(value.trim().trim_matches('"'))
        })
}

/// Responses that carry Entity data: retrieve and query entities. (A HEAD is routed as GET by
/// `front.rs`, which runs first.)
fn carries_entities(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    match *method {
        Method::GET => {
            path == "/ngsi-ld/v1/entities"
                || path
                    .strip_prefix("/ngsi-ld/v1/entities/")
                    .is_some_and(|rest| !rest.contains('/'))
        }
        Method::POST => path == "/ngsi-ld/v1/entityOperations/query",
        _ => false,
    }
}

pub async fn version_preference(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(wanted) = preferred_version(req.headers()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let entities = carries_entities(req.method(), req.path());
    let response = next.call(req).await?;
    if !response.status().is_success() {
        return Ok(response.map_into_boxed_body());
    }
    let applied = wanted.conformant();
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("application/ld+json"));
    let mut response = if entities && json && applied < SpecVersion::CURRENT {
        let (request, response) = response.into_parts();
        let (response, body) = response.into_parts();
        let bytes = actix_web::body::to_bytes(body)
            .await
            .map_err(|_| actix_web::error::ErrorInternalServerError("reading the response"))?;
        let mut payload: Option<Value> = serde_json::from_slice(&bytes).ok();
        let changed = match &mut payload {
            Some(Value::Array(entities)) => {
                // Every entity, not only up to the first that changes.
                let mut changed = false;
                for entity in entities.iter_mut() {
                    changed |= downgrade_entity(entity, applied);
                }
                changed
            }
            Some(entity @ Value::Object(_)) => downgrade_entity(entity, applied),
            _ => false,
        };
        let body = match (changed, payload) {
            (true, Some(value)) => serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec()),
            _ => bytes.to_vec(),
        };
        let mut response = response.set_body(BoxBody::new(body));
        if changed {
            *response.status_mut() = StatusCode::NON_AUTHORITATIVE_INFORMATION;
        }
        ServiceResponse::new(request, response)
    } else {
        response.map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&format!("ngsi-ld={applied}")) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("preference-applied"), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefer(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(
                HeaderName::from_static("prefer"),
                HeaderValue::from_str(v).expect("a header value"),
            );
        }
        headers
    }

    #[test]
    fn the_version_preference_is_found_as_rfc_7240_writes_it() {
        let v10 = Some(SpecVersion::new(1, 0));
        for written in [
            "ngsi-ld=1.0",
            "NGSI-LD=1.0",
            "Ngsi-Ld=1.0",
            "ngsi-ld=\"1.0\"",
            "ngsi-ld=1.0;q=0.1",
            "respond-async, ngsi-ld=1.0",
        ] {
            assert_eq!(preferred_version(&prefer(&[written])), v10, "{written}");
        }
        assert_eq!(
            preferred_version(&prefer(&["body=json", "ngsi-ld=1.0"])),
            v10
        );
        assert_eq!(preferred_version(&prefer(&["body=json"])), None);
        assert_eq!(preferred_version(&prefer(&["ngsi-ld=soon"])), None);
    }
}
