//! A small NGSI-LD HTTP client for the cases: requests with the right media types and headers,
//! and replies that keep status, headers and the parsed body together for assertions. Every
//! exchange goes to the running case's [journal](crate::journal), so that a failure shows the
//! request and the response, and what it creates is noted for [cleanup](crate::cleanup).

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::cleanup;
use crate::journal::{self, Exchange, Sent};

/// The `rel` of a JSON-LD @context Link header.
pub const CONTEXT_REL: &str = "http://www.w3.org/ns/json-ld#context";

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    tenant: Option<String>,
}

/// A reply: status, headers, body text, and the body as JSON when it is JSON, with the
/// request it answers.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
    pub request: Arc<Sent>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts this is an NGSI-LD error of the given type and status.
    #[track_caller]
    pub fn assert_error(&self, status: u16, error_type: &str) {
        assert!(
            self.status.as_u16() == status,
            "expected {status} {error_type}, got {} for {}; body: {}",
            self.status,
            self.request.line(),
            self.text
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "error content type {:?}",
            self.header("content-type")
        );
        assert_eq!(
            self.json["type"],
            format!("https://uri.etsi.org/ngsi-ld/errors/{error_type}"),
            "body: {}",
            self.text
        );
        assert!(
            self.json["title"].is_string(),
            "ProblemDetails has a title: {}",
            self.text
        );
        assert!(
            self.json["detail"].is_string(),
            "ProblemDetails has a detail: {}",
            self.text
        );
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert!(
            self.status.as_u16() == status,
            "expected status {status}, got {} for {}; body: {}",
            self.status,
            self.request.line(),
            self.text
        );
        self
    }
}

impl Client {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            tenant: None,
        }
    }

    /// A client for the shared broker of this test binary.
    pub fn shared() -> Self {
        Self::new(crate::Target::shared().base_url())
    }

    /// The same client, sending `NGSILD-Tenant: tenant`.
    pub fn with_tenant(&self, tenant: &str) -> Self {
        Self {
            tenant: Some(tenant.to_owned()),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request. `body` is sent as-is with `content_type`; `headers` are added.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut sent = Sent {
            method: method.clone(),
            url: self.url(path),
            headers: Vec::new(),
            body: None,
        };
        let mut req = self.http.request(method, &sent.url);
        if let Some(t) = &self.tenant {
            req = req.header("NGSILD-Tenant", t);
            sent.headers.push(("NGSILD-Tenant".into(), t.clone()));
        }
        for (k, v) in headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                req = req.header(name, value);
                sent.headers.push((k.to_string(), v.to_string()));
            }
        }
        if let Some((ctype, bytes)) = body {
            sent.headers.push(("Content-Type".into(), ctype.to_owned()));
            sent.body = Some(String::from_utf8_lossy(&bytes).into_owned());
            req = req.header(CONTENT_TYPE, ctype).body(bytes);
        }
        let sent = Arc::new(sent);
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => {
                let mut error = format!("request failed: {e}");
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    error.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                journal::record(Exchange::failed(sent.clone(), &error));
                panic!("{error} ({})", sent.line());
            }
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        let reply = Reply {
            status,
            headers,
            text,
            json,
            request: sent,
        };
        journal::record(Exchange::of(&reply));
        cleanup::note(&self.base, self.tenant.as_deref(), &reply);
        reply
    }

    /// A DELETE that reports a failed request as `None` instead of panicking, and is not
    /// journaled (for cleaning up after a run).
    pub async fn try_delete(&self, path: &str) -> Option<u16> {
        let mut req = self.http.delete(self.url(path));
        if let Some(t) = &self.tenant {
            req = req.header("NGSILD-Tenant", t);
        }
        req.send().await.ok().map(|r| r.status().as_u16())
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, None, headers).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// A request with a JSON body as `application/json`.
    pub async fn json(&self, method: Method, path: &str, body: &Value) -> Reply {
        self.send(
            method,
            path,
            Some(("application/json", body.to_string().into_bytes())),
            &[],
        )
        .await
    }

    /// A request with a JSON body as `application/json` and extra headers.
    pub async fn json_with(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send(
            method,
            path,
            Some(("application/json", body.to_string().into_bytes())),
            headers,
        )
        .await
    }

    /// A request with a JSON body as `application/ld+json` (the body carries its @context).
    pub async fn json_ld(&self, method: Method, path: &str, body: &Value) -> Reply {
        self.send(
            method,
            path,
            Some(("application/ld+json", body.to_string().into_bytes())),
            &[],
        )
        .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::POST, path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::PATCH, path, body).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::PUT, path, body).await
    }

    /// Creates an entity and asserts 201.
    pub async fn create(&self, entity: &Value) -> Reply {
        let reply = self.post("/ngsi-ld/v1/entities", entity).await;
        assert!(
            reply.status.as_u16() == 201,
            "expected status 201 creating {entity}, got {}; body: {}",
            reply.status,
            reply.text
        );
        reply
    }
}

/// A Link header value naming `url` as the request's JSON-LD @context.
pub fn link(url: &str) -> String {
    format!(r#"<{url}>; rel="{CONTEXT_REL}"; type="application/ld+json""#)
}

/// Percent-encodes a value for a URL query or path segment.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
