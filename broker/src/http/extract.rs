//! actix extractors for what every handler needs before it calls a service, so a handler's
//! signature is its prologue: the URI parameters it accepts ([`UriParams`]), the tenant
//! ([`Tenant`]), the response media type ([`EntityMedia`], [`JsonMedia`]), the request's
//! @context from the Link header or the core context ([`RequestContext`]), or a body with the
//! @context it is read with ([`LdBody`], [`PatchBody`], [`BatchBody`]), and the broker's base
//! URL ([`BaseUrl`]).
//!
//! actix runs extractors in argument order and answers with the first error, so a handler
//! lists them in the order their checks take (GS CIM 009 6.3: parameters, then headers, then
//! the body): a request with several faults gets the same error whatever the handler.

use std::marker::PhantomData;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use ngsi_types::context::ContextSource;
use serde_json::Value;

use crate::contexts::{ContextUse, RequestContext};
use crate::error::{BrokerError, BrokerResult};
use crate::http::body::{parse_batch_body, parse_context_free_body, parse_json_body, RawBody};
use crate::http::media::{link_context, negotiate, MediaType};
use crate::http::params::Params;
use crate::http::tenant::tenant_of;
use crate::state::AppState;
use crate::store::{StoreError, Tenant};

/// The services of the server this request reached.
fn app_state(req: &HttpRequest) -> BrokerResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| {
            BrokerError::Store(StoreError::Backend(
                "the server has no services configured".into(),
            ))
        })
}

/// Where this broker serves the contexts it hosts: `--public-url`, or `scheme://host` of the
/// request.
pub fn base_url(req: &HttpRequest) -> String {
    let config = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.config.clone());
    if let Some(url) = config.as_ref().and_then(|c| c.public_url.clone()) {
        return url;
    }
    // A request that names no host (HTTP/1.0 without Host) is answered with the address the
    // broker listens on; the App's own fallback host is a placeholder (server.rs builds it
    // with the default AppConfig).
    let names_host = req.headers().contains_key(actix_web::http::header::HOST)
        || req.uri().authority().is_some();
    if let (false, Some(config)) = (names_host, &config) {
        return config.public_base();
    }
    let info = req.connection_info();
    // The App is built with the default AppConfig, which does not know about TLS: a broker
    // serving HTTPS itself says so; otherwise a proxy's Forwarded header may.
    let scheme = match &config {
        Some(c) if c.tls_cert.is_some() => "https",
        _ => info.scheme(),
    };
    format!("{scheme}://{}", info.host())
}

/// The URI parameters an operation accepts, named by a marker type (see [`param_set!`]).
pub trait ParamSet {
    const NAMES: &'static [&'static str];
}

/// Declares marker types for [`UriParams`]: `param_set!(pub Retrieve = ["attrs", "lang"]);`.
#[macro_export]
macro_rules! param_set {
    ($($(#[$meta:meta])* $vis:vis $name:ident = [$($param:literal),* $(,)?];)+) => {
        $(
            $(#[$meta])*
            #[derive(Debug)]
            $vis struct $name;
            impl $crate::http::extract::ParamSet for $name {
                const NAMES: &'static [&'static str] = &[$($param),*];
            }
        )+
    };
}

/// The query string, parsed and checked against the operation's [`ParamSet`]: an unknown or
/// repeated parameter is refused before anything else is looked at.
#[derive(Debug)]
pub struct UriParams<S> {
    params: Params,
    set: PhantomData<S>,
}

impl<S> Deref for UriParams<S> {
    type Target = Params;

    fn deref(&self) -> &Params {
        &self.params
    }
}

impl<S: ParamSet> FromRequest for UriParams<S> {
    type Error = BrokerError;
    type Future = Ready<BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Params::parse(req, S::NAMES).map(|params| Self {
            params,
            set: PhantomData,
        }))
    }
}

impl FromRequest for Tenant {
    type Error = BrokerError;
    type Future = Ready<BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(tenant_of(req))
    }
}

/// The broker's base URL for this request (see [`base_url`]).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl FromRequest for BaseUrl {
    type Error = BrokerError;
    type Future = Ready<BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(base_url(req))))
    }
}

/// A segment of the request path, percent-decoded as `web::Path` decodes it.
fn path_segment<T: serde::de::DeserializeOwned>(req: &HttpRequest, name: &str) -> BrokerResult<T> {
    web::Path::<T>::from_request(req, &mut Payload::None)
        .into_inner()
        .map(web::Path::into_inner)
        .map_err(|_| BrokerError::BadRequestData(format!("the path has no valid {name}")))
}

/// Declares an extractor for a path segment that must be a URI, checked before anything else
/// of the request.
macro_rules! uri_path_segment {
    ($(#[$doc:meta])* $ty:ident = $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $ty(pub String);

        impl FromRequest for $ty {
            type Error = BrokerError;
            type Future = Ready<BrokerResult<Self>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                #[derive(serde::Deserialize)]
                struct Segment {
                    #[serde(rename = $name)]
                    id: String,
                }
                let id = path_segment::<Segment>(req, $name).and_then(|s| {
                    ngsi_types::ident::check_uri($name, &s.id)?;
                    Ok(s.id)
                });
                ready(id.map(Self))
            }
        }
    };
}

uri_path_segment!(
    /// The `{entityId}` of the path.
    EntityId = "entityId"
);
uri_path_segment!(
    /// The `{subscriptionId}` of the path.
    SubscriptionId = "subscriptionId"
);
uri_path_segment!(
    /// The `{registrationId}` of the path.
    RegistrationId = "registrationId"
);

/// The negotiated response media type (clause 6.3.6); with `GEOJSON`, GeoJSON is offered too.
#[derive(Debug, Clone, Copy)]
pub struct Negotiated<const GEOJSON: bool>(pub MediaType);

/// Entity retrieval and query: JSON, JSON-LD or GeoJSON.
pub type EntityMedia = Negotiated<true>;
/// Every other resource: JSON or JSON-LD.
pub type JsonMedia = Negotiated<false>;

impl<const GEOJSON: bool> FromRequest for Negotiated<GEOJSON> {
    type Error = BrokerError;
    type Future = Ready<BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let offered: &[MediaType] = if GEOJSON {
            &[MediaType::Json, MediaType::JsonLd, MediaType::GeoJson]
        } else {
            &[MediaType::Json, MediaType::JsonLd]
        };
        ready(negotiate(req, offered).map(|m| Self(m.with_preference(req))))
    }
}

/// The @context of a request without a body: its Link header's, or the core context.
impl FromRequest for RequestContext {
    type Error = BrokerError;
    type Future = LocalBoxFuture<'static, BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let source = match link_context(&req)? {
                Some(url) => ContextSource::Link(url),
                None => ContextSource::Core,
            };
            resolve(&req, source).await
        })
    }
}

/// Resolves a request's @context. The remote contexts it used are Cached whatever becomes of
/// the request (GS CIM 009 5.13.1: fetched during an operation); an ImplicitlyCreated one for
/// an inline @context is kept with the request, for the registry to record once the response
/// shows the request succeeded ([`record_context_uses`]).
async fn resolve(req: &HttpRequest, source: ContextSource) -> BrokerResult<RequestContext> {
    let state = app_state(req)?;
    let (ctx, mut used) = state.contexts.resolve(source, &base_url(req)).await?;
    let Ok(tenant) = tenant_of(req) else {
        return Ok(ctx);
    };
    let implicit = used.take_implicit();
    state.contexts.record(&tenant, used);
    if let Some(used) = implicit {
        let mut extensions = req.extensions_mut();
        match extensions.get_mut::<ContextUses>() {
            Some(uses) => uses.0.push(used),
            None => {
                extensions.insert(ContextUses(vec![used]));
            }
        }
    }
    Ok(ctx)
}

/// The ImplicitlyCreated contexts a request's extractors would create.
struct ContextUses(Vec<ContextUse>);

/// Records in the `/jsonldContexts` registry the ImplicitlyCreated contexts a request needs, if
/// it succeeded: a refused request (say, an entity with a big inline @context) creates none.
pub fn record_context_uses(req: &HttpRequest, succeeded: bool) {
    let Some(ContextUses(uses)) = req.extensions_mut().remove::<ContextUses>() else {
        return;
    };
    if !succeeded {
        return;
    }
    let (Ok(state), Ok(tenant)) = (app_state(req), tenant_of(req)) else {
        return;
    };
    for used in uses {
        state.contexts.record(&tenant, used);
    }
}

/// A JSON body under the media type rules of clause 6.3.4, with the @context it is read with
/// (inline, Link header or core). `MERGE_PATCH` admits `application/merge-patch+json`.
#[derive(Debug)]
pub struct Body<const MERGE_PATCH: bool> {
    pub json: Value,
    pub ctx: RequestContext,
}

/// The body of a POST or PUT.
pub type LdBody = Body<false>;
/// The body of a PATCH.
pub type PatchBody = Body<true>;

impl<const MERGE_PATCH: bool> FromRequest for Body<MERGE_PATCH> {
    type Error = BrokerError;
    type Future = LocalBoxFuture<'static, BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawBody::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let body = parse_json_body(&req, &raw.await?, MERGE_PATCH)?;
            let ctx = resolve(&req, body.context).await?;
            Ok(Self {
                json: body.json,
                ctx,
            })
        })
    }
}

/// The body of a batch operation: a non-empty JSON array, each item with the @context it is
/// read with. With `application/json` every item shares the request's (Link header or core);
/// with `application/ld+json` each item carries its own (GS CIM 009 6.3.5). An item breaking
/// the rule of its media type (none with JSON-LD, one with JSON) fails alone with
/// BadRequestData.
#[derive(Debug)]
pub struct BatchBody {
    pub items: Vec<(Value, BrokerResult<RequestContext>)>,
}

impl FromRequest for BatchBody {
    type Error = BrokerError;
    type Future = LocalBoxFuture<'static, BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawBody::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let (json, shared) = parse_batch_body(&req, &raw.await?)?;
            let items = batch_items(json, max_batch(&req))?;
            let shared = match shared {
                Some(source) => Some(resolve(&req, source).await?),
                None => None,
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let ctx = match (&shared, item.get("@context")) {
                    (None, Some(c)) => resolve(&req, ContextSource::Inline(c.clone())).await,
                    (None, None) => Err(BrokerError::BadRequestData(
                        "each entity of an application/ld+json batch needs its own @context".into(),
                    )),
                    (Some(_), Some(_)) => Err(BrokerError::BadRequestData(
                        "an @context member requires Content-Type application/ld+json".into(),
                    )),
                    (Some(ctx), None) => Ok(ctx.clone()),
                };
                out.push((item, ctx));
            }
            Ok(Self { items: out })
        })
    }
}

/// The body of Batch Entity Delete: a non-empty JSON array (of entity ids), read under the
/// media type rules but without an @context: ids are not expanded.
#[derive(Debug)]
pub struct BatchIds {
    pub items: Vec<Value>,
}

impl FromRequest for BatchIds {
    type Error = BrokerError;
    type Future = LocalBoxFuture<'static, BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawBody::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let json = parse_context_free_body(&req, &raw.await?)?;
            Ok(Self {
                items: batch_items(json, max_batch(&req))?,
            })
        })
    }
}

/// `--max-batch`.
fn max_batch(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<AppState>>()
        .map_or(usize::MAX, |state| state.config.max_batch)
}

/// The array of a batch body, of at most `max` items.
fn batch_items(json: Value, max: usize) -> BrokerResult<Vec<Value>> {
    let Value::Array(items) = json else {
        return Err(BrokerError::BadRequestData(
            "a batch operation takes a JSON array".into(),
        ));
    };
    // RFC 9110 15.5.14: 413 is the content being larger than the server is willing to
    // process, which a batch of more entities than `--max-batch` is; a client can split it.
    if items.len() > max {
        return Err(BrokerError::PayloadTooLarge(format!(
            "the batch has {} entities, more than the {max} this broker takes in one batch",
            items.len()
        )));
    }
    // GS CIM 009 5.6.7.4-5.6.10.4: an empty batch, or a null item, fails the whole batch.
    if items.is_empty() {
        return Err(BrokerError::BadRequestData("the batch is empty".into()));
    }
    if let Some(i) = items.iter().position(Value::is_null) {
        return Err(BrokerError::BadRequestData(format!(
            "item {i} of the batch is null"
        )));
    }
    Ok(items)
}

/// A JSON document that is stored, not read as NGSI-LD (Add @context, 5.13.2): its own
/// `@context` is the thing stored, so it is neither resolved nor checked against a Link
/// header. JSON or JSON-LD media types only.
#[derive(Debug)]
pub struct JsonDocument(pub Value);

impl FromRequest for JsonDocument {
    type Error = BrokerError;
    type Future = LocalBoxFuture<'static, BrokerResult<Self>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawBody::from_request(req, payload);
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Box::pin(async move {
            let document: Value = serde_json::from_slice(&raw.await?.0).map_err(|e| {
                BrokerError::InvalidRequest(format!("the request body is not valid JSON: {e}"))
            })?;
            match content_type.as_deref() {
                Some(ct)
                    if ct.starts_with("application/json")
                        || ct.starts_with("application/ld+json") =>
                {
                    Ok(Self(document))
                }
                _ => Err(BrokerError::UnsupportedMediaType(
                    "use Content-Type application/json or application/ld+json".into(),
                )),
            }
        })
    }
}
