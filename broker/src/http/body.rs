//! Reading a request body: size-capped, JSON-parsed, with the media type rules of clause 6.3.4
//! (`application/json` may not carry `@context`; `application/ld+json` must, and then a Link
//! header is forbidden).

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use ngsi_types::context::ContextSource;
use serde_json::Value;

use crate::error::{BrokerError, BrokerResult};
use crate::http::media::link_context;

/// The largest body a request may carry, and the time it may take to arrive; put in app data
/// by the server.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub bytes: usize,
    pub timeout: std::time::Duration,
}

impl Default for BodyLimit {
    fn default() -> Self {
        Self {
            bytes: 8 * 1024 * 1024,
            timeout: std::time::Duration::from_secs(60),
        }
    }
}

/// A request body: the media type it came as and its JSON.
#[derive(Debug)]
pub struct JsonBody {
    pub json: Value,
    /// True for `application/merge-patch+json`.
    pub merge_patch: bool,
    pub context: ContextSource,
}

/// The raw bytes of a body, read up to [`BodyLimit`].
#[derive(Debug)]
pub struct RawBody(pub web::Bytes);

impl FromRequest for RawBody {
    type Error = BrokerError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let BodyLimit {
            bytes: limit,
            timeout,
        } = req.app_data::<BodyLimit>().copied().unwrap_or_default();
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let read = async {
                let mut body = web::BytesMut::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|e| {
                        BrokerError::InvalidRequest(format!("reading the request body: {e}"))
                    })?;
                    if body.len() + chunk.len() > limit {
                        return Err(too_large(limit));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(RawBody(body.freeze()))
            };
            tokio::time::timeout(timeout, read).await.map_err(|_| {
                BrokerError::BodyTimeout(format!(
                    "the request body did not arrive within {} ms",
                    timeout.as_millis()
                ))
            })?
        })
    }
}

fn too_large(limit: usize) -> BrokerError {
    BrokerError::PayloadTooLarge(format!("the request body is larger than {limit} bytes"))
}

/// Deepest nesting of arrays and objects a body may have. Sub-attributes, parsed and rendered
/// recursively, nest with the JSON; an entity stored with sub-attributes nested ~90 deep
/// overflowed a worker's stack (debug build) on every later read of it, taking the broker
/// down. No NGSI-LD payload needs anything near this depth.
pub const MAX_BODY_DEPTH: usize = 64;

/// The nesting depth of a JSON value (a scalar is 0), computed without recursion.
fn nesting_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    deepest
}

/// Checks the media type and parses the JSON of a body whose terms need no @context, such as
/// the entity ids of a batch delete (clause 6.17.3.1): JSON or JSON-LD, with or without one.
pub fn parse_context_free_body(req: &HttpRequest, raw: &RawBody) -> BrokerResult<Value> {
    Ok(read_json(req, raw, false)?.0)
}

/// Checks the media type and parses the JSON of a batch body, whose items each may carry an
/// @context (GS CIM 009 6.3.5): for `application/json`, the context items share (Link header
/// or core); for `application/ld+json`, `None` (each item brings its own, no Link header).
pub fn parse_batch_body(
    req: &HttpRequest,
    raw: &RawBody,
) -> BrokerResult<(Value, Option<ContextSource>)> {
    let (json, ld, _) = read_json(req, raw, false)?;
    let link = link_context(req)?;
    let shared = match (ld, link) {
        (true, Some(_)) => {
            return Err(BrokerError::BadRequestData(
                "a JSON-LD Link header is not allowed with Content-Type application/ld+json".into(),
            ))
        }
        (true, None) => None,
        (false, Some(url)) => Some(ContextSource::Link(url)),
        (false, None) => Some(ContextSource::Core),
    };
    Ok((json, shared))
}

/// The JSON of a body, whether its media type is JSON-LD, and whether it is a merge patch.
fn read_json(
    req: &HttpRequest,
    raw: &RawBody,
    merge_patch_allowed: bool,
) -> BrokerResult<(Value, bool, bool)> {
    let mime = req.content_type().to_ascii_lowercase();
    let (ld, merge_patch) = match mime.as_str() {
        "application/json" => (false, false),
        "application/ld+json" => (true, false),
        "application/merge-patch+json" if merge_patch_allowed => (false, true),
        "" => {
            return Err(BrokerError::UnsupportedMediaType(
                "missing Content-Type (use application/json or application/ld+json)".into(),
            ))
        }
        other => {
            return Err(BrokerError::UnsupportedMediaType(format!(
                "unsupported Content-Type '{other}' (use application/json or application/ld+json)"
            )))
        }
    };
    if raw.0.is_empty() {
        return Err(BrokerError::InvalidRequest(
            "the request has no body".into(),
        ));
    }
    let json: Value = serde_json::from_slice(&raw.0).map_err(|e| {
        BrokerError::InvalidRequest(format!("the request body is not valid JSON: {e}"))
    })?;
    if nesting_depth(&json) > MAX_BODY_DEPTH {
        return Err(BrokerError::InvalidRequest(format!(
            "the request body is nested deeper than {MAX_BODY_DEPTH} levels"
        )));
    }
    Ok((json, ld, merge_patch))
}

/// Checks the media type and parses a JSON body. `merge_patch_allowed` admits
/// `application/merge-patch+json` (PATCH operations, clause 6.3.4).
pub fn parse_json_body(
    req: &HttpRequest,
    raw: &RawBody,
    merge_patch_allowed: bool,
) -> BrokerResult<JsonBody> {
    let (json, ld, merge_patch) = read_json(req, raw, merge_patch_allowed)?;
    let link = link_context(req)?;
    let inline = match &json {
        Value::Object(map) => map.get("@context").cloned(),
        // Batch operations send arrays; each element may carry its own @context.
        Value::Array(items) => items.iter().find_map(|i| i.get("@context").cloned()),
        _ => None,
    };
    let context = match (ld, link, inline) {
        (true, Some(_), _) => {
            return Err(BrokerError::BadRequestData(
                "a JSON-LD Link header is not allowed with Content-Type application/ld+json".into(),
            ))
        }
        (true, None, Some(ctx)) => ContextSource::Inline(ctx),
        (true, None, None) => {
            return Err(BrokerError::BadRequestData(
                "Content-Type application/ld+json requires an @context member in the body".into(),
            ))
        }
        (false, _, Some(_)) => {
            return Err(BrokerError::BadRequestData(
                "an @context member in the body requires Content-Type application/ld+json".into(),
            ))
        }
        (false, Some(url), None) => ContextSource::Link(url),
        (false, None, None) => ContextSource::Core,
    };
    Ok(JsonBody {
        json,
        merge_patch,
        context,
    })
}

/// A body's `id`, if present, must be the id of the path.
pub fn check_body_id(body_id: Option<&str>, path_id: &str) -> BrokerResult<()> {
    match body_id {
        Some(b) if b != path_id => Err(BrokerError::BadRequestData(format!(
            "the payload's id '{b}' differs from the entity id '{path_id}' of the URL"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::nesting_depth;
    use serde_json::json;

    #[test]
    fn nesting_depth_counts_arrays_and_objects() {
        assert_eq!(nesting_depth(&json!(1)), 0);
        assert_eq!(nesting_depth(&json!({})), 1);
        assert_eq!(nesting_depth(&json!({"a": [1, {"b": 2}]})), 3);
        let mut deep = json!(1);
        for _ in 0..100 {
            deep = json!({ "sub": deep });
        }
        assert_eq!(nesting_depth(&deep), 100);
    }
}
