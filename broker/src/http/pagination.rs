//! Pagination Link headers (GS CIM 009 4.12, 5.5.9, 6.3.10): a page of a paged collection
//! points at the previous and next pages with `Link` link-values of relation `prev` and
//! `next`, whose target repeats the request with another `offset` (and the same `limit`), and
//! whose `type` is the media type of the request. Any paged collection (entities,
//! subscriptions, ...) builds its links with [`page_links`] and adds them with
//! [`with_page_links`].

use actix_web::http::header::{HeaderValue, LINK};
use actix_web::HttpResponse;

use crate::http::media::MediaType;

/// Where a page sits in its collection.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
    /// Elements in this page.
    pub returned: usize,
    /// Elements over all pages, when the request counted them.
    pub total: Option<u64>,
}

impl Page {
    /// True if elements remain after this page: known from the total when counted, else
    /// assumed when the page is full.
    fn has_next(&self) -> bool {
        match self.total {
            Some(total) => ((self.offset + self.returned) as u64) < total,
            None => self.returned == self.limit,
        }
    }
}

/// The `prev` and `next` link-values of `page`, for a request to `path` with the URI
/// parameters `params` (their order does not matter: the targets list them sorted by name).
/// A page of limit 0 has no neighbours.
pub fn page_links(
    path: &str,
    params: &[(String, String)],
    page: Page,
    media: MediaType,
) -> Vec<String> {
    if page.limit == 0 {
        return Vec::new();
    }
    let target = |offset: usize| {
        let mut pairs: Vec<(&str, String)> = params
            .iter()
            .filter(|(name, _)| name != "offset" && name != "limit")
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        pairs.push(("limit", page.limit.to_string()));
        pairs.push(("offset", offset.to_string()));
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        let query: Vec<String> = pairs
            .iter()
            .map(|(name, value)| format!("{}={}", escape(name), escape(value)))
            .collect();
        format!("<{path}?{}>", query.join("&"))
    };
    let mut links = Vec::new();
    if page.offset > 0 {
        let prev = page.offset.saturating_sub(page.limit);
        links.push(format!(
            r#"{}; rel="prev"; type="{}""#,
            target(prev),
            media.as_str()
        ));
    }
    if page.has_next() {
        links.push(format!(
            r#"{}; rel="next"; type="{}""#,
            target(page.offset + page.returned),
            media.as_str()
        ));
    }
    links
}

/// Appends each link-value as a `Link` header of `response`, beside any it has (the @context
/// link of an application/json response).
pub fn with_page_links(mut response: HttpResponse, links: &[String]) -> HttpResponse {
    for link in links {
        if let Ok(value) = HeaderValue::from_str(link) {
            response.headers_mut().append(LINK, value);
        }
    }
    response
}

/// `text` as a query component (RFC 3986): what a query allows stays, `&`, `=`, `+`, `#`,
/// `%`, `<`, `>`, spaces and non-ASCII are escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*,;:@/?".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(offset: usize, limit: usize, returned: usize, total: Option<u64>) -> Vec<String> {
        let params = [
            ("type".to_owned(), "Building".to_owned()),
            ("offset".to_owned(), offset.to_string()),
            ("q".to_owned(), "name==\"a b\"&x".to_owned()),
        ];
        let page = Page {
            offset,
            limit,
            returned,
            total,
        };
        page_links("/e", &params, page, MediaType::Json)
    }

    #[test]
    fn first_middle_and_last_pages() {
        assert_eq!(
            links(0, 1, 1, Some(3)),
            [
                r#"</e?limit=1&offset=1&q=name%3D%3D%22a%20b%22%26x&type=Building>; rel="next"; type="application/json""#
            ]
        );
        let middle = links(1, 1, 1, Some(3));
        assert_eq!(middle.len(), 2);
        assert!(middle[0].contains("offset=0") && middle[0].contains(r#"rel="prev""#));
        assert!(middle[1].contains("offset=2") && middle[1].contains(r#"rel="next""#));
        let last = links(2, 1, 1, Some(3));
        assert_eq!(last.len(), 1);
        assert!(last[0].contains(r#"rel="prev""#));
        assert!(links(0, 0, 0, Some(3)).is_empty());
        // Uncounted: a full page may have a next one, a short one has none.
        assert_eq!(links(0, 2, 2, None).len(), 1);
        assert!(links(0, 2, 1, None).is_empty());
    }
}
