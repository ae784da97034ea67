//! Optional authentication and authorization (`--auth jwt`; off by default, so the broker stays
//! a drop-in replacement): every request but `/health`, `/version` and `/metrics` carries
//! `Authorization: Bearer <JWT>`, signed with RS256 or ES256 by a key of the JWKS
//! (`--jwt-jwks`, a file or a URL fetched under the egress policy, read again every
//! `--jwt-jwks-refresh-s`), with the issuer and audience configured, not expired (allowing
//! `--jwt-leeway-s` of clock skew).
//!
//! Rights are per tenant, read from the claim at `--jwt-rights-claim` (a dotted path, so
//! `realm_access.roles` reads an identity provider's role list): either a list of
//! `"<tenant>:<right>"` strings (other strings are ignored) or an object of tenant to right (or
//! list of rights). A right is `read`, `write` or `admin`, each including the ones before; the
//! tenant `@default` is the default tenant, `*` any tenant.
//!
//! What a request needs: `read` for GET and HEAD and the query operations sent as POST; `admin`
//! to purge entities and to add or delete @contexts; `write` for everything else. No valid
//! token is 401 (with `WWW-Authenticate: Bearer`), too few rights 403; both ProblemDetails.
//! The document of an ImplicitlyCreated @context stays served to anyone with its URL (a
//! notification's receiver fetches it without a token), a Hosted one only with a token.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::http::Method;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use subscriptions::egress::EgressPolicy;

use crate::error::BrokerError;
use crate::store::Tenant;

/// Largest JWKS document accepted from a URL.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// What a request may do in a tenant, each including the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Right {
    Read,
    Write,
    Admin,
}

impl Right {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }
}

/// The right a request needs, `None` for the open endpoints.
pub fn needed_right(method: &Method, path: &str) -> Option<Right> {
    if matches!(path, "/health" | "/version" | "/metrics") {
        return None;
    }
    let path = path.trim_end_matches('/');
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => Some(Right::Read),
        Method::POST
            if path.ends_with("/entityOperations/query")
                || path.ends_with("/temporal/entityOperations/query") =>
        {
            Some(Right::Read)
        }
        Method::DELETE if path == "/ngsi-ld/v1/entities" => Some(Right::Admin),
        _ if path.starts_with("/ngsi-ld/v1/jsonldContexts") => Some(Right::Admin),
        _ => Some(Right::Write),
    }
}

/// The rights one token grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights {
    /// By tenant name; `None` is the default tenant.
    tenants: HashMap<Option<String>, Right>,
    any: Option<Right>,
}

impl Rights {
    /// The rights in `claims` at the dotted `path`.
    pub fn from_claims(claims: &Value, path: &str) -> Self {
        let mut rights = Self::default();
        let value = path
            .split('.')
            .try_fold(claims, |v, key| v.get(key))
            .unwrap_or(&Value::Null);
        match value {
            Value::Array(items) => {
                for item in items.iter().filter_map(Value::as_str) {
                    if let Some((tenant, right)) = item.rsplit_once(':') {
                        if let Some(right) = Right::parse(right) {
                            rights.grant(tenant, right);
                        }
                    }
                }
            }
            Value::Object(map) => {
                for (tenant, granted) in map {
                    let granted: Vec<&str> = match granted {
                        Value::String(s) => vec![s],
                        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                        _ => Vec::new(),
                    };
                    for right in granted.into_iter().filter_map(Right::parse) {
                        rights.grant(tenant, right);
                    }
                }
            }
            _ => {}
        }
        rights
    }

    fn grant(&mut self, tenant: &str, right: Right) {
        let held = match tenant {
            "*" => {
                self.any = Some(self.any.map_or(right, |held| held.max(right)));
                return;
            }
            "@default" => self.tenants.entry(None).or_insert(right),
            name => self.tenants.entry(Some(name.to_owned())).or_insert(right),
        };
        *held = (*held).max(right);
    }

    /// The highest right held in `tenant`.
    pub fn in_tenant(&self, tenant: &Tenant) -> Option<Right> {
        let own = self.tenants.get(&tenant.name().map(str::to_owned)).copied();
        own.max(self.any)
    }
}

/// Where the signing keys come from.
#[derive(Debug, Clone)]
enum KeySource {
    File(PathBuf),
    Url(String),
}

/// The `--auth jwt` settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub jwks: String,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway: Duration,
    pub rights_claim: String,
    pub refresh: Duration,
}

/// Verifies tokens and tells what they allow.
#[derive(Debug)]
pub struct JwtAuth {
    keys: RwLock<JwkSet>,
    source: KeySource,
    settings: JwtSettings,
    http: reqwest::Client,
    egress: Arc<EgressPolicy>,
}

/// A request that passed authentication and authorization (a request extension).
#[derive(Debug, Clone, Copy)]
pub struct Authorized;

impl JwtAuth {
    /// Loads the keys; a broker that cannot get them does not start.
    pub async fn new(settings: JwtSettings, egress: Arc<EgressPolicy>) -> anyhow::Result<Self> {
        let source =
            if settings.jwks.starts_with("http://") || settings.jwks.starts_with("https://") {
                KeySource::Url(settings.jwks.clone())
            } else {
                KeySource::File(PathBuf::from(&settings.jwks))
            };
        let http = egress
            .http_client(reqwest::Client::builder())
            .timeout(Duration::from_secs(10))
            .build()?;
        let auth = Self {
            keys: RwLock::new(JwkSet { keys: Vec::new() }),
            source,
            settings,
            http,
            egress,
        };
        let keys = auth
            .load()
            .await
            .map_err(|e| anyhow::anyhow!("--jwt-jwks {}: {e}", auth.settings.jwks))?;
        if keys.keys.is_empty() {
            anyhow::bail!("--jwt-jwks {}: no key in it", auth.settings.jwks);
        }
        *auth.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
        Ok(auth)
    }

    async fn load(&self) -> Result<JwkSet, String> {
        let bytes = match &self.source {
            KeySource::File(path) => tokio::fs::read(path).await.map_err(|e| e.to_string())?,
            KeySource::Url(url) => {
                let checked = self.egress.check(url).map_err(|e| e.to_string())?;
                let mut response = self
                    .http
                    .get(checked)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| e.to_string())?;
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
                    if body.len() + chunk.len() > MAX_JWKS_BYTES {
                        return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
                    }
                    body.extend_from_slice(&chunk);
                }
                body
            }
        };
        serde_json::from_slice(&bytes).map_err(|e| format!("not a JWKS: {e}"))
    }

    /// Reads the keys again every `--jwt-jwks-refresh-s` (key rotation); a failed read keeps
    /// the keys held.
    pub fn spawn_refresh(self: &Arc<Self>) {
        let auth = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(auth.settings.refresh);
            tick.tick().await;
            loop {
                tick.tick().await;
                match auth.load().await {
                    Ok(keys) if !keys.keys.is_empty() => {
                        *auth.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
                    }
                    Ok(_) => tracing::warn!("the JWKS has no key now; the previous keys stay"),
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the JWKS failed; the previous keys stay")
                    }
                }
            }
        });
    }

    /// The rights of the bearer of `authorization` (the header's value), or why none.
    pub fn rights(&self, authorization: Option<&str>) -> Result<Rights, BrokerError> {
        let token = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| BrokerError::Unauthorized("a Bearer token is required".into()))?;
        let invalid = |why: String| BrokerError::Unauthorized(format!("invalid token: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(e.to_string()))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(invalid(format!(
                "{:?} is not accepted (RS256, ES256)",
                header.alg
            )));
        }
        let key = self
            .key_for(header.kid.as_deref(), header.alg)
            .map_err(invalid)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.settings.leeway.as_secs();
        validation.validate_nbf = true;
        match &self.settings.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.settings.issuer {
            validation.set_issuer(&[iss]);
        }
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Rights::from_claims(
            &data.claims,
            &self.settings.rights_claim,
        ))
    }

    fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, String> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let fits = |jwk: &&Jwk| {
            let alg_ok = jwk.common.key_algorithm.is_none_or(|a| {
                matches!(
                    (a, alg),
                    (KeyAlgorithm::RS256, Algorithm::RS256)
                        | (KeyAlgorithm::ES256, Algorithm::ES256)
                )
            });
            alg_ok && kid.is_none_or(|k| jwk.common.key_id.as_deref() == Some(k))
        };
        let mut candidates = keys.keys.iter().filter(fits);
        let jwk = match (kid, candidates.next(), candidates.next()) {
            (_, Some(one), None) => one,
            (Some(kid), None, _) => return Err(format!("no key '{kid}'")),
            (None, Some(_), Some(_)) => return Err("no kid, and several keys".into()),
            (_, _, _) => return Err("no key for it".into()),
        };
        DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())
    }

    /// Checks a request: `Ok` when it may go on (and whether it was authenticated).
    pub fn check(
        &self,
        method: &Method,
        path: &str,
        authorization: Option<&str>,
        tenant: &Tenant,
    ) -> Result<bool, BrokerError> {
        let Some(needed) = needed_right(method, path) else {
            return Ok(false);
        };
        // Serve @context without details: an ImplicitlyCreated document is anyone's (the
        // service serves a Hosted one only to an authorized request).
        let serving = *method == Method::GET
            && path.starts_with("/ngsi-ld/v1/jsonldContexts/")
            && authorization.is_none();
        if serving {
            return Ok(false);
        }
        let rights = self.rights(authorization)?;
        match rights.in_tenant(tenant) {
            Some(held) if held >= needed => Ok(true),
            held => Err(BrokerError::Forbidden(format!(
                "this operation needs the {} right in tenant {tenant}; the token grants {}",
                needed.as_str(),
                held.map_or("none", Right::as_str)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rights_come_from_role_lists_or_objects() {
        let roles = json!({"realm_access": {"roles": ["city1:write", "*:read", "offline_access",
            "@default:admin", "city1:read"]}});
        let rights = Rights::from_claims(&roles, "realm_access.roles");
        let city1 = Tenant::named("city1").expect("a tenant");
        let other = Tenant::named("other").expect("a tenant");
        assert_eq!(rights.in_tenant(&city1), Some(Right::Write));
        assert_eq!(rights.in_tenant(&other), Some(Right::Read));
        assert_eq!(
            rights.in_tenant(&Tenant::default_tenant()),
            Some(Right::Admin)
        );
        let object = json!({"rights": {"city1": ["read", "admin"], "city2": "write"}});
        let rights = Rights::from_claims(&object, "rights");
        assert_eq!(rights.in_tenant(&city1), Some(Right::Admin));
        assert_eq!(rights.in_tenant(&other), None);
        assert_eq!(Rights::from_claims(&json!({}), "rights"), Rights::default());
    }

    #[test]
    fn requests_need_the_right_of_what_they_do() {
        let cases = [
            (Method::GET, "/health", None),
            (Method::GET, "/version", None),
            (Method::GET, "/ngsi-ld/v1/entities", Some(Right::Read)),
            (
                Method::POST,
                "/ngsi-ld/v1/entityOperations/query",
                Some(Right::Read),
            ),
            (
                Method::POST,
                "/ngsi-ld/v1/temporal/entityOperations/query",
                Some(Right::Read),
            ),
            (Method::POST, "/ngsi-ld/v1/entities", Some(Right::Write)),
            (
                Method::PATCH,
                "/ngsi-ld/v1/subscriptions/x",
                Some(Right::Write),
            ),
            (Method::DELETE, "/ngsi-ld/v1/entities", Some(Right::Admin)),
            (Method::DELETE, "/ngsi-ld/v1/entities/x", Some(Right::Write)),
            (
                Method::POST,
                "/ngsi-ld/v1/jsonldContexts",
                Some(Right::Admin),
            ),
            (
                Method::DELETE,
                "/ngsi-ld/v1/jsonldContexts/x",
                Some(Right::Admin),
            ),
        ];
        for (method, path, right) in cases {
            assert_eq!(needed_right(&method, path), right, "{method} {path}");
        }
    }
}
