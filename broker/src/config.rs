//! Command-line flags and environment variables (every flag has an `OXION_*` variable), with
//! defaults that work with no flags at all: port 1026 like Orion-LD, embedded store in
//! `./oxion-data`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// The embedded durable store (no server needed).
    Embedded,
    /// MongoDB (`--mongo-url`).
    Mongodb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FsyncPolicy {
    /// fsync before acknowledging every write (group-committed): acknowledged writes survive
    /// a crash or power loss.
    Always,
    /// Commit without fsync and flush once a second: the last second of acknowledged writes
    /// can be lost on any crash. For benchmarks and throwaway data only.
    Never,
}

/// Whether the broker keeps the temporal evolution of entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Temporal {
    /// Every write through the entity API is recorded; the /temporal API is served.
    On,
    /// Nothing is recorded and /temporal answers OperationNotSupported.
    Off,
}

/// Whether requests must authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Every request is served (Orion-LD's behaviour; put a proxy in front for access control).
    None,
    /// A Bearer JWT on every request but /health, /version and /metrics.
    Jwt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Oxion, an NGSI-LD context broker.
#[derive(Debug, Clone, Parser)]
#[command(name = "oxion", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "OXION_HOST", default_value = "0.0.0.0")]
    pub host: IpAddr,

    /// Port to listen on (Orion-LD's default).
    #[arg(long, short, env = "OXION_PORT", default_value_t = 1026)]
    pub port: u16,

    /// Storage backend.
    #[arg(long, env = "OXION_STORE", value_enum, default_value_t = StoreKind::Embedded)]
    pub store: StoreKind,

    /// Directory of the embedded store.
    #[arg(long, env = "OXION_DATA_DIR", default_value = "./oxion-data")]
    pub data_dir: PathBuf,

    /// When the embedded store forces writes to disk.
    #[arg(long, env = "OXION_FSYNC", value_enum, default_value_t = FsyncPolicy::Always)]
    pub fsync: FsyncPolicy,

    /// MongoDB connection string (with `--store mongodb`).
    #[arg(
        long,
        env = "OXION_MONGO_URL",
        default_value = "mongodb://127.0.0.1:27017"
    )]
    pub mongo_url: String,

    /// MongoDB database of the default tenant; tenant `t` uses `<prefix>-t` (Orion-LD's
    /// naming with the default `orion`).
    #[arg(long, env = "OXION_MONGO_DB_PREFIX", default_value = "orion", value_parser = parse_db_prefix)]
    pub mongo_db_prefix: String,

    /// How long a request waits for a reachable MongoDB server before failing with 503.
    #[arg(long, env = "OXION_MONGO_TIMEOUT_MS", default_value_t = 3000)]
    pub mongo_timeout_ms: u64,

    /// The broker's URL as clients reach it (`https://broker.example.org`), for the @context
    /// URLs it creates (`/jsonldContexts/...`). Without it: the Host of each request, and for
    /// work without a request (subscriptions restored at start or synced from other
    /// instances) `http://<host>:<port>`, 127.0.0.1 when listening on every address.
    #[arg(long, env = "OXION_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// This broker's Context Source alias (`/info/sourceIdentity`, GS CIM 009 5.2.40), the name
    /// other brokers know it by. Without it: one created on first start and kept in the store
    /// (shared by every instance over one MongoDB).
    #[arg(long, env = "OXION_SOURCE_ALIAS")]
    pub source_alias: Option<String>,

    /// Log filter (tracing's env-filter syntax: `info`, `broker=debug,info`, ...).
    #[arg(long, env = "OXION_LOG", default_value = "info")]
    pub log: String,

    /// Log line format.
    #[arg(long, env = "OXION_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "OXION_MAX_BODY", default_value_t = 8 * 1024 * 1024)]
    pub max_body: usize,

    /// Time a client has to send a request head (request line and headers), in milliseconds:
    /// 408 beyond. The first head of a connection is timed from the connection's start.
    #[arg(long, env = "OXION_HEAD_TIMEOUT_MS", default_value_t = 5000)]
    pub head_timeout_ms: u64,

    /// Time a client has to send a request body, from its head on, in milliseconds: 408
    /// beyond (a body trickled byte by byte would otherwise hold its request open forever).
    #[arg(long, env = "OXION_BODY_TIMEOUT_MS", default_value_t = 60_000)]
    pub body_timeout_ms: u64,

    /// Timeout of one notification attempt to an HTTP or MQTT endpoint whose subscription sets
    /// no `timeout` of its own, in milliseconds. A timed-out attempt shows at once in the
    /// subscription's status (`failed`, `lastFailure`); up to 3 retries follow.
    #[arg(long, env = "OXION_NOTIFICATION_TIMEOUT_MS", default_value_t = 5000)]
    pub notification_timeout_ms: u64,

    /// Longest entity id (and datasetId) accepted in a write, in bytes: 400 BadRequestData
    /// beyond.
    #[arg(long, env = "OXION_MAX_ID_BYTES", default_value_t = crate::service::DEFAULT_MAX_ID_BYTES)]
    pub max_id_bytes: usize,

    /// Longest entity type or attribute name accepted in a write, in bytes once expanded to
    /// its IRI: 400 BadRequestData beyond.
    #[arg(long, env = "OXION_MAX_NAME_BYTES", default_value_t = crate::service::DEFAULT_MAX_NAME_BYTES)]
    pub max_name_bytes: usize,

    /// Most entities (or ids) in one batch operation: 413 beyond.
    #[arg(long, env = "OXION_MAX_BATCH", default_value_t = 10_000)]
    pub max_batch: usize,

    /// Page size when a query gives no `limit`.
    #[arg(long, env = "OXION_DEFAULT_LIMIT", default_value_t = 20)]
    pub default_limit: usize,

    /// Largest `limit` accepted (larger ones get TooManyResults).
    #[arg(long, env = "OXION_MAX_LIMIT", default_value_t = 1000)]
    pub max_limit: usize,

    /// Timeout for fetching a remote @context, in milliseconds.
    #[arg(long, env = "OXION_CONTEXT_TIMEOUT_MS", default_value_t = 5000)]
    pub context_timeout_ms: u64,

    /// Largest remote @context accepted, in bytes.
    #[arg(long, env = "OXION_CONTEXT_MAX_BYTES", default_value_t = 1024 * 1024)]
    pub context_max_bytes: usize,

    /// Memory for the @context caches, in bytes: processed contexts (half), fetched remote
    /// documents (a quarter) and the Cached and ImplicitlyCreated entries of /jsonldContexts
    /// (a quarter). Beyond it the least recently used go.
    #[arg(long, env = "OXION_CONTEXT_CACHE_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub context_cache_bytes: usize,

    /// Largest inline @context accepted, in bytes of JSON text: 413 beyond.
    #[arg(long, env = "OXION_MAX_INLINE_CONTEXT_BYTES", default_value_t = 1024 * 1024)]
    pub max_inline_context_bytes: usize,

    /// Authentication: `none`, or `jwt` (a Bearer JWT on every request but /health, /version
    /// and /metrics; see the README's Security section).
    #[arg(long, env = "OXION_AUTH", value_enum, default_value_t = AuthMode::None)]
    pub auth: AuthMode,

    /// With `--auth jwt`: the JWKS holding the signing keys (RS256, ES256), a file or an
    /// http(s) URL (fetched under the egress policy).
    #[arg(long, env = "OXION_JWT_JWKS", required_if_eq("auth", "jwt"))]
    pub jwt_jwks: Option<String>,

    /// With `--auth jwt`: the `iss` tokens must have.
    #[arg(long, env = "OXION_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// With `--auth jwt`: an `aud` tokens must have.
    #[arg(long, env = "OXION_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// With `--auth jwt`: clock skew allowed on `exp` and `nbf`, in seconds.
    #[arg(long, env = "OXION_JWT_LEEWAY_S", default_value_t = 60)]
    pub jwt_leeway_s: u64,

    /// With `--auth jwt`: the claim holding the rights, a dotted path (`realm_access.roles`):
    /// a list of `<tenant>:<right>` or an object of tenant to right; rights `read`, `write`,
    /// `admin`; tenant `@default` or `*`.
    #[arg(long, env = "OXION_JWT_RIGHTS_CLAIM", default_value = "ngsild_rights")]
    pub jwt_rights_claim: String,

    /// With `--auth jwt`: how often the JWKS is read again, in seconds.
    #[arg(long, env = "OXION_JWT_JWKS_REFRESH_S", default_value_t = 300)]
    pub jwt_jwks_refresh_s: u64,

    /// Serve HTTPS with this certificate chain (PEM); needs `--tls-key`.
    #[arg(long, env = "OXION_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "OXION_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Destinations the broker may connect to for remote @contexts and notifications,
    /// comma-separated: networks (10.0.0.0/8), addresses, host names, `*.domain`. Empty: any
    /// destination the deny list does not exclude.
    #[arg(long, env = "OXION_EGRESS_ALLOW", value_delimiter = ',')]
    pub egress_allow: Vec<String>,

    /// Destinations the broker never connects to, in the same form; they win over the allow
    /// list. Giving this replaces the default (the link-local networks, where cloud metadata
    /// services answer); an empty value denies nothing.
    #[arg(
        long,
        env = "OXION_EGRESS_DENY",
        value_delimiter = ',',
        default_values_t = subscriptions::egress::DEFAULT_DENY.iter().map(|s| s.to_string())
    )]
    pub egress_deny: Vec<String>,

    /// Keep the temporal evolution of entities (GS CIM 009 4.5.6) and serve /temporal.
    #[arg(long, env = "OXION_TEMPORAL", value_enum, default_value_t = Temporal::On)]
    pub temporal: Temporal,

    /// Drop an entity's temporal evolution when the entity is deleted (by default it is kept,
    /// with the entity's deletedAt and a deletion instance per attribute).
    #[arg(long, env = "OXION_TEMPORAL_DELETE_WITH_ENTITY")]
    pub temporal_delete_with_entity: bool,

    /// Drop attribute instances observed (else created) longer ago than this, in the
    /// background: a number and a unit, `s`, `m`, `h`, `d` or `w` (`90d`). Kept forever when
    /// not given.
    #[arg(long, env = "OXION_TEMPORAL_RETENTION", value_parser = parse_retention)]
    pub temporal_retention: Option<Duration>,

    /// Most attribute instances one temporal answer holds; beyond them the answer is partial
    /// (206 with a Content-Range, GS CIM 009 6.3.10) and the client asks for the next range.
    #[arg(long, env = "OXION_TEMPORAL_MAX_INSTANCES", default_value_t = 1000)]
    pub temporal_max_instances: usize,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "OXION_WORKERS")]
    pub workers: Option<usize>,
}

/// An absolute http(s) URL, kept without a trailing `/`.
fn parse_public_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or("must start with http:// or https://")?;
    if rest.trim_end_matches('/').is_empty() {
        return Err("must name a host".to_owned());
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// `90d`, `12h`, `30m`, `45s`, `2w`: a positive whole number and a unit.
fn parse_retention(s: &str) -> Result<Duration, String> {
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u64 = number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or("a positive whole number and a unit: 90d, 12h, 30m, 45s, 2w")?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err("the unit is one of s, m, h, d, w (90d)".to_owned()),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| "too long".to_owned())
}

/// A database name prefix MongoDB accepts, leaving room for the tenant suffix.
fn parse_db_prefix(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 12
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err("1 to 12 ASCII letters, digits, '_' or '-'".to_owned())
    }
}

impl Config {
    /// The base of URLs the broker creates outside any request (see `--public-url`).
    pub fn public_base(&self) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = if self.host.is_unspecified() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            self.host
        };
        let scheme = self.scheme();
        match host {
            IpAddr::V6(v6) => format!("{scheme}://[{v6}]:{}", self.port),
            IpAddr::V4(v4) => format!("{scheme}://{v4}:{}", self.port),
        }
    }

    /// `https` when the broker serves TLS itself, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// What the entity API records in the temporal evolution.
    pub fn history(&self) -> crate::service::History {
        use crate::service::History;
        match (self.temporal, self.temporal_delete_with_entity) {
            (Temporal::Off, _) => History::Off,
            (Temporal::On, false) => History::KeepOnDelete,
            (Temporal::On, true) => History::DropOnDelete,
        }
    }

    /// The settings of `--auth jwt`, if it is on.
    pub fn jwt(&self) -> Option<crate::auth::JwtSettings> {
        if self.auth != AuthMode::Jwt {
            return None;
        }
        Some(crate::auth::JwtSettings {
            jwks: self.jwt_jwks.clone().unwrap_or_default(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            leeway: Duration::from_secs(self.jwt_leeway_s),
            rights_claim: self.jwt_rights_claim.clone(),
            refresh: Duration::from_secs(self.jwt_jwks_refresh_s.max(1)),
        })
    }

    /// The policy of `--egress-allow` and `--egress-deny`; an invalid rule is an error.
    pub fn egress_policy(&self) -> Result<subscriptions::egress::EgressPolicy, String> {
        subscriptions::egress::EgressPolicy::new(&self.egress_allow, &self.egress_deny)
    }

    pub fn context_budget(&self) -> crate::contexts::ContextBudget {
        crate::contexts::ContextBudget {
            cache_bytes: self.context_cache_bytes,
            max_inline_bytes: self.max_inline_context_bytes,
        }
    }

    pub fn context_timeout(&self) -> Duration {
        Duration::from_millis(self.context_timeout_ms)
    }

    /// The configuration with every default, for tests.
    pub fn defaults() -> Self {
        Self::parse_from(["oxion"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_takes_a_number_and_a_unit() {
        let c = Config::parse_from(["oxion", "--temporal-retention", "90d"]);
        assert_eq!(c.temporal_retention, Some(Duration::from_secs(90 * 86_400)));
        for bad in ["90", "d", "0d", "9x", "-1d", "1.5h"] {
            assert!(
                Config::try_parse_from(["oxion", "--temporal-retention", bad]).is_err(),
                "{bad}"
            );
        }
        assert_eq!(Config::defaults().temporal_retention, None);
    }

    #[test]
    fn defaults_work_without_flags() {
        let c = Config::defaults();
        assert_eq!(c.port, 1026);
        assert_eq!(c.store, StoreKind::Embedded);
        assert_eq!(c.fsync, FsyncPolicy::Always);
        assert_eq!(c.data_dir, PathBuf::from("./oxion-data"));
    }

    #[test]
    fn public_base_names_a_reachable_address() {
        assert_eq!(Config::defaults().public_base(), "http://127.0.0.1:1026");
        let c = Config::parse_from(["oxion", "--host", "10.0.0.5", "--port", "2000"]);
        assert_eq!(c.public_base(), "http://10.0.0.5:2000");
        let c = Config::parse_from(["oxion", "--public-url", "https://broker.example.org/"]);
        assert_eq!(c.public_base(), "https://broker.example.org");
        assert!(Config::try_parse_from(["oxion", "--public-url", "broker:1026"]).is_err());
    }

    #[test]
    fn flags_override_defaults() {
        let c = Config::parse_from([
            "oxion", "--port", "2000", "--store", "mongodb", "--fsync", "never",
        ]);
        assert_eq!(
            (c.port, c.store, c.fsync),
            (2000, StoreKind::Mongodb, FsyncPolicy::Never)
        );
    }
}
