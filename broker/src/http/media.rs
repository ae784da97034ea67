//! Content negotiation (clause 6.3.6): the Link header carrying a JSON-LD @context, and which
//! representation a response takes according to `Accept`.

use actix_web::http::header::{HeaderMap, ACCEPT, LINK};
use actix_web::HttpRequest;

use crate::error::{BrokerError, BrokerResult};

/// The `rel` of a Link header that carries a JSON-LD @context (clause 6.3.5).
pub const JSONLD_CONTEXT_REL: &str = "http://www.w3.org/ns/json-ld#context";

/// The representation of a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`: the @context travels in a Link header.
    Json,
    /// `application/ld+json`: the @context is a member of the body.
    JsonLd,
    /// `application/geo+json`: GeoJSON Features (entity retrieval and query only), with the
    /// @context a member of the body (GS CIM 009 6.3.6: no `Prefer`, or `Prefer: body=ld+json`).
    GeoJson,
    /// `application/geo+json` with `Prefer: body=json`: the @context travels in a Link header.
    GeoJsonLinked,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::JsonLd => "application/ld+json",
            Self::GeoJson | Self::GeoJsonLinked => "application/geo+json",
        }
    }

    pub fn is_geojson(self) -> bool {
        matches!(self, Self::GeoJson | Self::GeoJsonLinked)
    }

    /// The GeoJSON variant a request's `Prefer` header asks for (6.3.6); other types as they are.
    pub fn with_preference(self, req: &HttpRequest) -> Self {
        let body_json = req
            .headers()
            .get_all("prefer")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split([',', ';']))
            .any(|p| p.trim().eq_ignore_ascii_case("body=json"));
        match self {
            Self::GeoJson if body_json => Self::GeoJsonLinked,
            other => other,
        }
    }
}

/// The @context URL of the request's JSON-LD Link header, if it has one.
pub fn link_context(req: &HttpRequest) -> BrokerResult<Option<String>> {
    link_context_in(req.headers())
}

fn link_context_in(headers: &HeaderMap) -> BrokerResult<Option<String>> {
    let mut found = None;
    for value in headers.get_all(LINK) {
        let text = value
            .to_str()
            .map_err(|_| BrokerError::BadRequestData("Link header: not valid text".into()))?;
        for link in split_links(text) {
            let link = link.trim();
            let Some(rest) = link.strip_prefix('<') else {
                return Err(BrokerError::BadRequestData(format!(
                    "Link header: '{link}' is not <url>; params"
                )));
            };
            let Some((url, params)) = rest.split_once('>') else {
                return Err(BrokerError::BadRequestData(format!(
                    "Link header: '{link}' has no closing '>'"
                )));
            };
            let is_context = params.split(';').any(|p| {
                let p = p.trim();
                p.strip_prefix("rel=")
                    .map(|r| r.trim_matches('"') == JSONLD_CONTEXT_REL)
                    .unwrap_or(false)
            });
            if is_context {
                if found.is_some() {
                    return Err(BrokerError::BadRequestData(
                        "more than one JSON-LD @context Link header".into(),
                    ));
                }
                if !ngsi_types::ident::is_uri(url) {
                    return Err(BrokerError::BadRequestData(format!(
                        "Link header: '{url}' is not a URL"
                    )));
                }
                found = Some(url.to_owned());
            }
        }
    }
    Ok(found)
}

/// Splits a Link header on the commas between links (not those inside `<...>` or quotes).
fn split_links(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_url, mut in_quotes, mut start) = (false, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '<' if !in_quotes => in_url = true,
            '>' if !in_quotes => in_url = false,
            '"' if !in_url => in_quotes = !in_quotes,
            ',' if !in_url && !in_quotes => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// Picks the response representation from `Accept`, among `offered` (best first on ties).
/// No `Accept`, or `*/*`, gives the first offered type (application/json).
///
/// GS CIM 009 6.3.4 with RFC 9110 12.5.1: each offered type takes the weight of the most
/// specific range that matches it (`application/json;q=0, */*` refuses JSON and accepts the
/// rest), the highest weight wins, and on equal weights the order of `offered` decides. A
/// weight that is not a number is ignored: the range keeps its default weight of 1.
pub fn negotiate(req: &HttpRequest, offered: &[MediaType]) -> BrokerResult<MediaType> {
    let Some(accept) = req.headers().get(ACCEPT) else {
        return Ok(offered[0]);
    };
    let accept = accept
        .to_str()
        .map_err(|_| BrokerError::NotAcceptable("Accept header: not valid text".into()))?;
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=")?.trim().parse::<f32>().ok())
                .next_back()
                .unwrap_or(1.0);
            (!mime.is_empty()).then_some((mime, q))
        })
        .collect();
    let mut best: Option<(f32, usize, MediaType)> = None;
    for (rank, media) in offered.iter().enumerate() {
        let weight = ranges
            .iter()
            .filter_map(|(mime, q)| specificity(mime, media.as_str()).map(|s| (s, *q)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, q)| q);
        if let Some(q) = weight.filter(|q| *q > 0.0) {
            if best.is_none_or(|(bq, brank, _)| q > bq || (q == bq && rank < brank)) {
                best = Some((q, rank, *media));
            }
        }
    }
    best.map(|(_, _, m)| m).ok_or_else(|| {
        let offered: Vec<&str> = offered.iter().map(|m| m.as_str()).collect();
        BrokerError::NotAcceptable(format!(
            "Accept '{accept}': this resource is available as {}",
            offered.join(", ")
        ))
    })
}

/// How specifically the media range `range` names `media` (`*/*` 0, `type/*` 1, exact 2), or
/// `None` when it does not match it.
fn specificity(range: &str, media: &str) -> Option<u8> {
    if range == "*/*" {
        return Some(0);
    }
    if range == media {
        return Some(2);
    }
    let (kind, _) = media.split_once('/')?;
    (range.strip_suffix("/*") == Some(kind)).then_some(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn accept_q_values_choose_the_representation() {
        let all = [MediaType::Json, MediaType::JsonLd, MediaType::GeoJson];
        let pick = |accept: &str| {
            negotiate(
                &TestRequest::default()
                    .insert_header((ACCEPT, accept))
                    .to_http_request(),
                &all,
            )
        };
        assert_eq!(pick("application/ld+json").ok(), Some(MediaType::JsonLd));
        assert_eq!(
            pick("application/json;q=0.5, application/geo+json").ok(),
            Some(MediaType::GeoJson)
        );
        assert_eq!(pick("*/*").ok(), Some(MediaType::Json));
        assert_eq!(pick("text/html, */*;q=0.1").ok(), Some(MediaType::Json));
        assert!(pick("text/html").is_err());
        assert!(pick("application/json;q=0").is_err());
        // RFC 9110 12.5.1: the exact range is more specific than the wildcard.
        assert_eq!(
            pick("application/json;q=0, */*").ok(),
            Some(MediaType::JsonLd)
        );
        assert_eq!(
            pick("*/*;q=0.9, application/ld+json;q=0.8").ok(),
            Some(MediaType::Json)
        );
        assert_eq!(
            pick("application/ld+json;q=notanumber").ok(),
            Some(MediaType::JsonLd)
        );
        let no_accept = TestRequest::default().to_http_request();
        assert_eq!(negotiate(&no_accept, &all).ok(), Some(MediaType::Json));
    }

    #[test]
    fn link_headers_are_parsed() {
        let req = |v: &str| {
            TestRequest::default()
                .insert_header((LINK, v))
                .to_http_request()
        };
        let ok = r#"<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json""#;
        assert_eq!(
            link_context(&req(ok)).ok().flatten().as_deref(),
            Some("https://example.org/ctx.jsonld")
        );
        let other = r#"<https://example.org/x>; rel="next", <https://e.org/c>; rel="http://www.w3.org/ns/json-ld#context""#;
        assert_eq!(
            link_context(&req(other)).ok().flatten().as_deref(),
            Some("https://e.org/c")
        );
        assert_eq!(
            link_context(&req(r#"<https://example.org/x>; rel="next""#))
                .ok()
                .flatten(),
            None
        );
        assert!(link_context(&req("https://example.org/ctx")).is_err());
    }
}
