//! Where the broker may connect: the egress policy of every outgoing connection it makes on a
//! client's behalf (remote @contexts, notification endpoints over HTTP and MQTT).
//!
//! Clients choose those URLs, so without a policy the broker can be made to reach into the
//! network it runs in (server-side request forgery). A policy is two lists of rules, each a
//! network (`10.0.0.0/8`, `fd00::/8`, a single address) or a host name (`ctx.example.org`, or
//! `*.example.org` for every name under it):
//!
//! - a destination matching a **deny** rule is refused, whatever else matches (deny wins);
//! - when the **allow** list is not empty, only destinations matching it are reached (a name
//!   allowed by name may resolve to any address the deny list does not exclude; otherwise the
//!   address must be in an allowed network).
//!
//! Names are checked as written, then every address they resolve to is checked, and only the
//! allowed ones are connected to (so a name pointing into a denied network is refused, not
//! raced). Addresses written in a URL are checked before connecting, and every redirect is
//! checked again. The default denies only the link-local networks (169.254.0.0/16, where cloud
//! metadata services answer, and fe80::/10), since brokers commonly fetch @contexts from and
//! notify services on their own private network; see the README's Security section.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// The deny list when none is configured.
pub const DEFAULT_DENY: &[&str] = &["169.254.0.0/16", "fe80::/10"];

/// Redirects followed by one request, each checked against the policy.
pub const MAX_REDIRECTS: usize = 5;

/// One rule: a network or a host name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Net(IpNet),
    /// A host name, lower case; `*.example.org` is kept as the suffix `.example.org`.
    Host(String),
}

impl Rule {
    /// `10.0.0.0/8`, `192.0.2.7`, `::1`, `ctx.example.org` or `*.example.org`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Self::Net(net));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Self::Net(IpNet::from(ip)));
        }
        let name = text.strip_prefix('*').unwrap_or(text).to_ascii_lowercase();
        let label = |l: &str| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        let labels = name.strip_prefix('.').unwrap_or(&name);
        if text.starts_with('*') && !name.starts_with('.') || !labels.split('.').all(label) {
            return Err(format!(
                "'{text}': expected a network (10.0.0.0/8), an address, a host name or *.domain"
            ));
        }
        Ok(Self::Host(name))
    }

    fn matches_name(&self, host: &str) -> bool {
        match self {
            Self::Host(pattern) if pattern.starts_with('.') => host.ends_with(pattern.as_str()),
            Self::Host(name) => host == name,
            Self::Net(_) => false,
        }
    }

    fn matches_ip(&self, ip: IpAddr) -> bool {
        matches!(self, Self::Net(net) if net.contains(&ip))
    }
}

/// Why a destination is not reached. Says which rule refused it, nothing about the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("'{0}' is not allowed by this broker's egress policy")]
    Policy(String),
    #[error("'{0}' does not resolve to an address")]
    Unresolved(String),
    #[error("{0}")]
    Invalid(String),
}

/// The policy; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    allow: Vec<Rule>,
    deny: Vec<Rule>,
}

impl EgressPolicy {
    /// The policy of `--egress-allow` and `--egress-deny` (empty entries are ignored).
    pub fn new<S: AsRef<str>>(allow: &[S], deny: &[S]) -> Result<Self, String> {
        let parse = |rules: &[S]| -> Result<Vec<Rule>, String> {
            rules
                .iter()
                .map(AsRef::as_ref)
                .filter(|r| !r.trim().is_empty())
                .map(Rule::parse)
                .collect()
        };
        Ok(Self {
            allow: parse(allow)?,
            deny: parse(deny)?,
        })
    }

    /// The default policy: anywhere but the link-local networks.
    pub fn default_deny() -> Self {
        Self::new::<&str>(&[], DEFAULT_DENY).unwrap_or_default()
    }

    /// A policy that allows every destination.
    pub fn open() -> Self {
        Self::default()
    }

    /// A one-line description for the start-up log.
    pub fn describe(&self) -> String {
        let list = |rules: &[Rule]| {
            rules
                .iter()
                .map(|r| match r {
                    Rule::Net(n) => n.to_string(),
                    Rule::Host(h) if h.starts_with('.') => format!("*{h}"),
                    Rule::Host(h) => h.clone(),
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let allow = if self.allow.is_empty() {
            "anywhere".to_owned()
        } else {
            list(&self.allow)
        };
        format!("allow {allow}; deny {}", list(&self.deny))
    }

    fn name_denied(&self, host: &str) -> bool {
        self.deny.iter().any(|r| r.matches_name(host))
    }

    /// True if the name alone admits the destination (no allow list, or a matching name).
    fn name_allowed(&self, host: &str) -> bool {
        self.allow.is_empty() || self.allow.iter().any(|r| r.matches_name(host))
    }

    /// True if a connection to `ip` is allowed, `by_name` telling whether the host name was
    /// already allowed by the allow list.
    fn ip_allowed(&self, ip: IpAddr, by_name: bool) -> bool {
        // An IPv4 address written as IPv6 (::ffff:169.254.169.254) is judged as IPv4.
        let ip = ip.to_canonical();
        if self.deny.iter().any(|r| r.matches_ip(ip)) {
            return false;
        }
        by_name || self.allow.is_empty() || self.allow.iter().any(|r| r.matches_ip(ip))
    }

    /// Checks the host of a URL before connecting: a name against the name rules, an address
    /// against every rule. A name's addresses are checked when it is resolved
    /// ([`resolve`](Self::resolve)).
    pub fn check_url(&self, url: &url::Url) -> Result<(), Denied> {
        let denied = || Denied::Policy(host_of(url));
        let name = match url.host() {
            None => return Err(Denied::Invalid(format!("'{url}' names no host"))),
            Some(url::Host::Ipv4(ip)) => return self.check_ip(IpAddr::V4(ip), denied),
            Some(url::Host::Ipv6(ip)) => return self.check_ip(IpAddr::V6(ip), denied),
            Some(url::Host::Domain(name)) => name.trim_end_matches('.').to_ascii_lowercase(),
        };
        // A non-special scheme (mqtt) keeps even a plain address as a "domain".
        if let Ok(ip) = name.parse::<IpAddr>() {
            return self.check_ip(ip, denied);
        }
        // And an address such as `127.1`: the resolver turns it into an address, which is
        // checked then.
        if self.name_denied(&name) {
            return Err(denied());
        }
        let could_match =
            self.name_allowed(&name) || self.allow.iter().any(|r| matches!(r, Rule::Net(_)));
        could_match.then_some(()).ok_or_else(denied)
    }

    /// An address written as the host: allowed by the networks alone.
    fn check_ip(&self, ip: IpAddr, denied: impl FnOnce() -> Denied) -> Result<(), Denied> {
        self.ip_allowed(ip, false).then_some(()).ok_or_else(denied)
    }

    /// The checked string form of a URL: parsed, then [`check_url`](Self::check_url)ed.
    pub fn check(&self, url: &str) -> Result<url::Url, Denied> {
        let parsed = url::Url::parse(url).map_err(|e| Denied::Invalid(format!("'{url}': {e}")))?;
        self.check_url(&parsed)?;
        Ok(parsed)
    }

    /// Resolves `host` (a name or an address) for `port`, keeping only the addresses this
    /// policy allows; none left is [`Denied::Policy`].
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Denied> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return match self.ip_allowed(ip, false) {
                true => Ok(vec![SocketAddr::new(ip, port)]),
                false => Err(Denied::Policy(host.to_owned())),
            };
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        if self.name_denied(&name) {
            return Err(Denied::Policy(host.to_owned()));
        }
        let by_name = self.name_allowed(&name);
        let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|_| Denied::Unresolved(host.to_owned()))?
            .collect();
        if found.is_empty() {
            return Err(Denied::Unresolved(host.to_owned()));
        }
        let allowed: Vec<SocketAddr> = found
            .into_iter()
            .filter(|a| self.ip_allowed(a.ip(), by_name))
            .collect();
        if allowed.is_empty() {
            return Err(Denied::Policy(host.to_owned()));
        }
        Ok(allowed)
    }

    /// A reqwest client builder whose connections obey the policy: names resolve through
    /// [`resolve`](Self::resolve), every redirect (at most [`MAX_REDIRECTS`]) is checked with
    /// [`check_url`](Self::check_url). Addresses written in a request's own URL are not
    /// resolved, so a caller checks that URL first ([`check`](Self::check)).
    pub fn http_client(
        self: &Arc<Self>,
        builder: reqwest::ClientBuilder,
    ) -> reqwest::ClientBuilder {
        let redirects = self.clone();
        builder
            .dns_resolver(Arc::new(PolicyResolver(self.clone())))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
                }
                match redirects.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(denied) => attempt.error(denied),
                }
            }))
    }
}

fn host_of(url: &url::Url) -> String {
    url.host_str().unwrap_or_default().to_owned()
}

/// reqwest's name resolution through the policy.
struct PolicyResolver(Arc<EgressPolicy>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            // reqwest puts the URL's port in place of this 0.
            let addrs = policy.resolve(name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// True if `error` (from a request sent through [`EgressPolicy::http_client`]) is the policy's
/// refusal, at resolution or at a redirect.
pub fn is_denied(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<Denied>()
            .is_some_and(|d| matches!(d, Denied::Policy(_)))
        {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("a URL")
    }

    #[test]
    fn rules_parse_networks_addresses_and_names() {
        assert_eq!(
            Rule::parse("10.0.0.0/8"),
            Ok(Rule::Net("10.0.0.0/8".parse().expect("net")))
        );
        assert_eq!(
            Rule::parse("192.0.2.7"),
            Ok(Rule::Net("192.0.2.7/32".parse().expect("net")))
        );
        assert_eq!(
            Rule::parse("*.Example.org"),
            Ok(Rule::Host(".example.org".into()))
        );
        assert_eq!(
            Rule::parse("ctx.example.org"),
            Ok(Rule::Host("ctx.example.org".into()))
        );
        for bad in ["10.0.0.0/33", "*example.org", "a b", "http://x", ""] {
            assert!(Rule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_denies_link_local_only() {
        let policy = EgressPolicy::default_deny();
        for denied in [
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            assert!(policy.check_url(&url(denied)).is_err(), "{denied}");
        }
        for allowed in [
            "http://127.0.0.1:1026/",
            "http://10.1.2.3/",
            "https://example.org/",
        ] {
            assert_eq!(policy.check_url(&url(allowed)), Ok(()), "{allowed}");
        }
    }

    #[test]
    fn deny_wins_and_an_allow_list_admits_only_what_it_names() {
        let policy = EgressPolicy::new(
            &["*.example.org", "192.0.2.0/24"],
            &["secret.example.org", "192.0.2.9"],
        )
        .expect("a policy");
        assert_eq!(
            policy.check_url(&url("https://ctx.example.org/c.jsonld")),
            Ok(())
        );
        assert_eq!(policy.check_url(&url("http://192.0.2.1/")), Ok(()));
        for denied in [
            "https://secret.example.org/",
            "http://192.0.2.9/",
            "http://10.0.0.1/",
        ] {
            assert!(policy.check_url(&url(denied)).is_err(), "{denied}");
        }
        // The apex is not under *.example.org; with an allowed network, a name may still
        // resolve into it, so it is left to the resolution.
        assert!(policy.check_url(&url("https://example.org/")).is_ok());
        let names_only = EgressPolicy::new(&["*.example.org"], &[] as &[&str]).expect("policy");
        assert!(names_only.check_url(&url("https://example.org/")).is_err());
        assert!(names_only.check_url(&url("http://127.0.0.1/")).is_err());
    }

    #[test]
    fn names_are_checked_by_the_addresses_they_resolve_to() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let policy = EgressPolicy::new(&[] as &[&str], &["127.0.0.0/8", "::1"]).expect("policy");
        rt.block_on(async {
            assert_eq!(
                policy.resolve("localhost", 80).await,
                Err(Denied::Policy("localhost".into()))
            );
            assert_eq!(
                policy.resolve("127.0.0.1", 80).await,
                Err(Denied::Policy("127.0.0.1".into()))
            );
            let open = EgressPolicy::open();
            let found = open.resolve("localhost", 80).await.expect("resolves");
            assert!(found.iter().all(|a| a.ip().is_loopback()), "{found:?}");
        });
    }
}
