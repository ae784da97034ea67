//! What the cases created on a broker, so a run against someone else's broker can remove it
//! afterwards: entities (created one by one or in batches), subscriptions, context source
//! registrations and hosted @contexts, each with the tenant it lives in. Every made-up id also starts with the run id
//! ([`Settings::run_id`](crate::Settings::run_id)), so anything a crashed run leaves behind is
//! recognisable.

use std::sync::Mutex;

use serde_json::Value;

use crate::{enc, Client, Reply};

/// A resource to delete: its path on the broker at `base`, in `tenant`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Created {
    pub base: String,
    pub tenant: Option<String>,
    pub path: String,
}

static CREATED: Mutex<Vec<Created>> = Mutex::new(Vec::new());

const ENTITIES: &str = "/ngsi-ld/v1/entities";

/// Notes what a successful write of a case created.
pub(crate) fn note(base: &str, tenant: Option<&str>, reply: &Reply) {
    let sent = &reply.request;
    if sent.method != reqwest::Method::POST || !reply.status.is_success() {
        return;
    }
    let path = sent
        .url
        .strip_prefix(base)
        .unwrap_or(&sent.url)
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    let mut paths = Vec::new();
    let entity_writes = [
        ENTITIES,
        "/ngsi-ld/v1/entityOperations/create",
        "/ngsi-ld/v1/entityOperations/upsert",
    ];
    if entity_writes.contains(&path) {
        let body: Value = sent
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        let items = match &body {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        paths.extend(
            items
                .into_iter()
                .filter_map(|e| e["id"].as_str())
                .map(|id| format!("{ENTITIES}/{}", enc(id))),
        );
    } else if path == "/ngsi-ld/v1/temporal/entities" {
        let body: Value = sent
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        if let Some(id) = body["id"].as_str() {
            paths.push(format!("{path}/{}", enc(id)));
        }
    } else if path == "/ngsi-ld/v1/subscriptions"
        || path == "/ngsi-ld/v1/jsonldContexts"
        || path == "/ngsi-ld/v1/csourceRegistrations"
    {
        if let Some(location) = reply.header("location") {
            let location = location.strip_prefix(base).unwrap_or(location);
            if location.starts_with('/') {
                paths.push(location.to_owned());
            } else {
                paths.push(format!("{path}/{}", enc(location)));
            }
        }
    }
    if paths.is_empty() {
        return;
    }
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    for path in paths {
        created.push(Created {
            base: base.to_owned(),
            tenant: tenant.map(str::to_owned),
            path,
        });
    }
}

/// Takes what was noted on the broker at `base` so far.
pub fn take(base: &str) -> Vec<Created> {
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    let (mine, others) = created.drain(..).partition(|c| c.base == base);
    *created = others;
    let mut mine: Vec<Created> = mine;
    mine.sort();
    mine.dedup();
    mine
}

/// Deletes what was created on the broker at `base`; returns how many resources it tried,
/// and the deletions that failed (with their status, `None` when the broker did not answer).
pub async fn clean_up(base: &str) -> (usize, Vec<(Created, Option<u16>)>) {
    let created = take(base);
    let tried = created.len();
    let mut refused = Vec::new();
    for created in created {
        let mut client = Client::new(base);
        if let Some(tenant) = &created.tenant {
            client = client.with_tenant(tenant);
        }
        let status = client.try_delete(&created.path).await;
        // 404: already gone; 400: an id the broker refused, so it never created it.
        if !matches!(status, Some(s) if s < 300 || s == 404 || s == 400) {
            refused.push((created, status));
        }
    }
    (tried, refused)
}
