//! Context Source identity (GS CIM 009 5.15, 5.2.40, `/info/sourceIdentity`): who this broker
//! is to the brokers it federates with. The alias is created once and kept in the store, so it
//! survives restarts and every instance over one MongoDB answers with the same one; it names a
//! tenant too (5.2.40: in the multi-tenancy case the alias identifies a Tenant of the source),
//! so a Via chain tells two tenants of one broker apart.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::clock::Clock;
use crate::error::BrokerResult;
use crate::store::{DocumentKind, Store, Tenant};

/// The document id under which the alias is kept, in the default tenant.
const DOCUMENT_ID: &str = "alias";

#[derive(Debug, Clone)]
pub struct SourceIdentity {
    alias: Arc<str>,
    started: DateTime<Utc>,
    clock: Clock,
}

impl SourceIdentity {
    /// The identity kept in `store`, created there on first start. An alias named by
    /// configuration (`--source-alias`) takes precedence and is not stored.
    pub async fn load(
        store: &dyn Store,
        configured: Option<&str>,
        clock: Clock,
    ) -> BrokerResult<Self> {
        let started = clock.now();
        let alias = match configured {
            Some(alias) => alias.to_owned(),
            None => stored_alias(store).await?,
        };
        Ok(Self {
            alias: alias.into(),
            started,
            clock,
        })
    }

    /// The ContextSourceIdentity of 5.2.40 as `tenant` sees it.
    pub fn describe(&self, tenant: &Tenant) -> Value {
        let alias = match tenant.name() {
            Some(name) => format!("{}:{name}", self.alias),
            None => self.alias.to_string(),
        };
        let now = self.clock.now();
        let uptime = (now - self.started).to_std().unwrap_or_default();
        json!({
            "id": format!("urn:ngsi-ld:ContextSourceIdentity:{alias}"),
            "type": "ContextSourceIdentity",
            "contextSourceAlias": alias,
            "contextSourceUptime": iso8601_duration(uptime),
            "contextSourceTimeAt": ngsi_types::datetime::format_datetime(&now),
            "contextSourceExtras": {"broker": "oxion", "version": env!("CARGO_PKG_VERSION")},
        })
    }
}

/// The alias in the store; the first instance to start creates it, and every instance uses
/// whatever was stored last (two first starts racing end with one alias).
async fn stored_alias(store: &dyn Store) -> BrokerResult<String> {
    let tenant = Tenant::default_tenant();
    let read = |doc: Option<Value>| doc.and_then(|d| d["alias"].as_str().map(str::to_owned));
    if let Some(alias) = read(
        store
            .get_document(&tenant, DocumentKind::SourceIdentity, DOCUMENT_ID)
            .await?,
    ) {
        return Ok(alias);
    }
    let created = format!("oxion-{}", uuid::Uuid::new_v4().simple());
    store
        .put_document(
            &tenant,
            DocumentKind::SourceIdentity,
            DOCUMENT_ID,
            json!({ "alias": created }),
        )
        .await?;
    Ok(read(
        store
            .get_document(&tenant, DocumentKind::SourceIdentity, DOCUMENT_ID)
            .await?,
    )
    .unwrap_or(created))
}

/// `duration` as an ISO 8601 duration of whole seconds (`PT3H4M5S`).
fn iso8601_duration(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (hours, minutes, seconds) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let mut text = String::from("P");
    if days > 0 {
        text.push_str(&format!("{days}D"));
    }
    text.push_str(&format!("T{hours}H{minutes}M{seconds}S"));
    text
}

#[cfg(test)]
mod tests {
    use super::iso8601_duration;
    use std::time::Duration;

    #[test]
    fn uptimes_are_iso_8601_durations() {
        assert_eq!(iso8601_duration(Duration::from_secs(0)), "PT0H0M0S");
        assert_eq!(iso8601_duration(Duration::from_secs(3725)), "PT1H2M5S");
        assert_eq!(
            iso8601_duration(Duration::from_secs(2 * 86_400 + 61)),
            "P2DT0H1M1S"
        );
    }
}
