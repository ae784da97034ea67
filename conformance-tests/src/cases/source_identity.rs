//! Clause 5.15 and 5.2.40 (`/info/sourceIdentity`): who the broker is to its peers.

use crate::{unique, Client};

/// GS CIM 009 5.15.1, 5.2.40: a ContextSourceIdentity with a URI id, a non-empty alias, an
/// ISO 8601 uptime and a UTC time; each tenant has an alias of its own, the same every time.
pub(crate) async fn the_source_identity_names_the_broker_and_each_tenant() {
    let shared = Client::shared();
    let default = shared.get("/ngsi-ld/v1/info/sourceIdentity").await;
    default.assert_status(200);
    let body = &default.json;
    assert_eq!(body["type"], "ContextSourceIdentity", "{}", default.text);
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("urn:")));
    let uptime = body["contextSourceUptime"].as_str().unwrap_or_default();
    assert!(
        uptime.starts_with('P') && uptime.len() > 2 && uptime.ends_with(['S', 'M', 'H', 'D']),
        "{uptime}"
    );
    let time_at = body["contextSourceTimeAt"].as_str().unwrap_or_default();
    // 4.6.3: an ISO 8601 UTC date-time, `YYYY-MM-DDThh:mm:ss[.fff]Z`.
    let shape = time_at.len() >= 20
        && time_at.as_bytes()[10] == b'T'
        && time_at.ends_with('Z')
        && time_at[..4].bytes().all(|b| b.is_ascii_digit());
    assert!(shape, "{time_at}");
    let alias = |reply: &crate::Reply| reply.json["contextSourceAlias"].as_str().map(str::to_owned);
    let default_alias = alias(&default).filter(|a| !a.is_empty()).expect("an alias");
    let (a, b) = (unique("aliasa"), unique("aliasb"));
    let tenant_a = shared
        .with_tenant(&a)
        .get("/ngsi-ld/v1/info/sourceIdentity")
        .await;
    let tenant_b = shared
        .with_tenant(&b)
        .get("/ngsi-ld/v1/info/sourceIdentity")
        .await;
    tenant_a.assert_status(200);
    assert_ne!(alias(&tenant_a), Some(default_alias.clone()));
    assert_ne!(alias(&tenant_a), alias(&tenant_b));
    let again = shared
        .with_tenant(&a)
        .get("/ngsi-ld/v1/info/sourceIdentity")
        .await;
    assert_eq!(alias(&again), alias(&tenant_a));
    assert_eq!(
        alias(&shared.get("/ngsi-ld/v1/info/sourceIdentity").await),
        Some(default_alias)
    );
}
