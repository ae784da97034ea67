//! The `/jsonldContexts` registry (clause 5.13.1-5.13.4): contexts clients stored here
//! (Hosted, persisted), remote ones fetched for requests (Cached), and ones created for inline
//! @contexts so responses and notifications can link to them (ImplicitlyCreated).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// Path under which hosted contexts are served.
pub const HOSTED_PATH: &str = "/ngsi-ld/v1/jsonldContexts/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextKind {
    Hosted,
    Cached,
    ImplicitlyCreated,
}

impl ContextKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hosted => "Hosted",
            Self::Cached => "Cached",
            Self::ImplicitlyCreated => "ImplicitlyCreated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Hosted, Self::Cached, Self::ImplicitlyCreated]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One registered context.
#[derive(Debug, Clone)]
pub struct ContextEntry {
    /// Local id (the last path segment of a hosted context's URL).
    pub id: String,
    /// Where clients find it: this broker's URL for Hosted and ImplicitlyCreated, the original
    /// URL for Cached.
    pub url: String,
    pub kind: ContextKind,
    pub document: Arc<Value>,
    /// The tenant that stored a Hosted context; Cached and ImplicitlyCreated contexts are
    /// derived from public URLs or request content and are visible to every tenant.
    pub tenant: Option<crate::store::Tenant>,
    pub created_at: DateTime<Utc>,
    pub last_usage: Option<DateTime<Utc>>,
    pub hits: u64,
}

impl ContextEntry {
    /// True if `tenant` may see this entry.
    pub fn visible_to(&self, tenant: &crate::store::Tenant) -> bool {
        self.tenant.as_ref().is_none_or(|t| t == tenant)
    }

    /// The LdContextInformation of `details=true` listings.
    pub fn details(&self) -> Value {
        let mut info = json!({
            "URL": self.url,
            "localId": self.id,
            "kind": self.kind.as_str(),
            "createdAt": ngsi_types::datetime::format_datetime(&self.created_at),
            "numberOfHits": self.hits,
        });
        if let (Some(t), Some(map)) = (self.last_usage, info.as_object_mut()) {
            map.insert(
                "lastUsage".into(),
                json!(ngsi_types::datetime::format_datetime(&t)),
            );
        }
        info
    }
}

/// The registry; cheap concurrent reads, short write sections.
#[derive(Debug, Default)]
pub struct ContextRegistry {
    entries: RwLock<HashMap<String, ContextEntry>>,
}

impl ContextRegistry {
    /// A registry that lists the core context as Cached under its URL (it is known without
    /// being fetched, and can be neither deleted nor replaced: GS CIM 009 5.13.5, CR 174).
    pub fn new() -> Self {
        let registry = Self::default();
        let url = ngsi_types::context::CORE_CONTEXT_URL;
        registry.insert(ContextEntry {
            id: local_id(url),
            url: url.to_owned(),
            kind: ContextKind::Cached,
            document: Arc::new(ngsi_types::context::core_context_json().clone()),
            tenant: None,
            created_at: Utc::now(),
            last_usage: None,
            hits: 0,
        });
        registry
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, ContextEntry>> {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, ContextEntry>> {
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds (or restores) an entry.
    pub fn insert(&self, entry: ContextEntry) {
        self.write().insert(entry.id.clone(), entry);
    }

    /// The entry with local id `key`, or the Cached one downloaded from URL `key` (5.13.4.3).
    pub fn get(&self, key: &str) -> Option<ContextEntry> {
        let entries = self.read();
        entries.get(key).cloned().or_else(|| {
            entries
                .get(&local_id(key))
                .filter(|e| e.kind == ContextKind::Cached && e.url == key)
                .cloned()
        })
    }

    pub fn remove(&self, id: &str) -> Option<ContextEntry> {
        self.write().remove(id)
    }

    /// The entries a tenant sees, optionally of one kind, oldest first.
    pub fn list(
        &self,
        tenant: &crate::store::Tenant,
        kind: Option<ContextKind>,
    ) -> Vec<ContextEntry> {
        let mut all: Vec<ContextEntry> = self
            .read()
            .values()
            .filter(|e| kind.is_none_or(|k| e.kind == k) && e.visible_to(tenant))
            .cloned()
            .collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }

    /// The document of a context this broker hosts, if `url` is one of its hosted URLs (any
    /// host: the broker may be reached under several names).
    pub fn hosted_document(&self, url: &str) -> Option<Arc<Value>> {
        let id = url.split(HOSTED_PATH).nth(1)?;
        let entries = self.read();
        let entry = entries.get(id).filter(|e| e.kind != ContextKind::Cached)?;
        Some(entry.document.clone())
    }

    /// Records a remote document the loader fetched (again, after a reload).
    pub fn store_cached(&self, url: &str, document: Arc<Value>) {
        let id = local_id(url);
        self.write()
            .entry(id.clone())
            .and_modify(|entry| entry.document = document.clone())
            .or_insert_with(|| ContextEntry {
                id,
                url: url.to_owned(),
                kind: ContextKind::Cached,
                document,
                tenant: None,
                created_at: Utc::now(),
                last_usage: None,
                hits: 0,
            });
    }

    /// Counts a request that used the context at `url`, one this broker hosts or a Cached one
    /// (`numberOfHits` and `lastUsage` of 5.13.3.5).
    pub fn record_use(&self, url: &str) {
        let id = match url.split(HOSTED_PATH).nth(1) {
            Some(hosted) => hosted.to_owned(),
            None => local_id(url),
        };
        if let Some(entry) = self.write().get_mut(&id) {
            entry.hits += 1;
            entry.last_usage = Some(Utc::now());
        }
    }

    /// The URL of the ImplicitlyCreated context for an inline @context, created on first use.
    pub fn implicit(&self, inline: &Value, base_url: &str) -> String {
        let id = local_id(&inline.to_string());
        if let Some(entry) = self.read().get(&id) {
            return entry.url.clone();
        }
        let url = format!("{}{HOSTED_PATH}{id}", base_url.trim_end_matches('/'));
        let entry = ContextEntry {
            id: id.clone(),
            url: url.clone(),
            kind: ContextKind::ImplicitlyCreated,
            document: Arc::new(json!({ "@context": inline })),
            tenant: None,
            created_at: Utc::now(),
            last_usage: None,
            hits: 0,
        };
        self.write().entry(id).or_insert(entry);
        url
    }
}

/// A stable local id derived from a URL or a document's text.
fn local_id(text: &str) -> String {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_contexts_are_created_once_and_served_under_any_host() {
        let registry = ContextRegistry::new();
        let inline = json!({"speed": "https://example.org/speed"});
        let url = registry.implicit(&inline, "http://127.0.0.1:1026");
        assert_eq!(registry.implicit(&inline, "http://127.0.0.1:1026"), url);
        let id = url.rsplit('/').next().unwrap_or_default();
        let other_host = format!("http://broker.local{HOSTED_PATH}{id}");
        let doc = registry.hosted_document(&other_host).expect("hosted");
        assert_eq!(doc["@context"], inline);
        let tenant = crate::store::Tenant::default_tenant();
        assert_eq!(
            registry
                .list(&tenant, Some(ContextKind::ImplicitlyCreated))
                .len(),
            1
        );
        assert_eq!(registry.list(&tenant, Some(ContextKind::Hosted)).len(), 0);
    }
}
