//! The `/jsonldContexts` registry (clause 5.13.1-5.13.4): contexts clients stored here
//! (Hosted, persisted), remote ones requests used (Cached), and ones created for inline
//! @contexts so responses and notifications can link to them (ImplicitlyCreated).
//!
//! Scope. A Hosted context belongs to the tenant that stored it. A Cached or ImplicitlyCreated
//! one is known to the tenants whose requests used it, each with its own `createdAt` (its first
//! use), `numberOfHits` and `lastUsage`: another tenant neither lists, reads nor deletes it, and
//! a tenant's DELETE drops only its own use (the entry goes when no tenant uses it any more).
//! The core context is everyone's. An ImplicitlyCreated context is made only for a request that
//! succeeds (its [`ContextUse`] is filed after the response), so a rejected request with a big
//! inline @context leaves nothing here; a remote one is Cached once fetched and used, as the
//! spec's Cached kind is, whatever the request's outcome.
//!
//! Size. Clients choose the URLs and inline contexts, so Cached and ImplicitlyCreated entries
//! are held under a byte budget: beyond it the least recently used go (an evicted
//! ImplicitlyCreated context's URL then answers 404; a Cached one is fetched again on its next
//! use). Cached entries keep no document (the resolver's bounded cache holds those); Hosted
//! ones are the tenant's stored data, kept whole and not counted.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::store::Tenant;

/// Path under which hosted contexts are served.
pub const HOSTED_PATH: &str = "/ngsi-ld/v1/jsonldContexts/";

/// The fixed cost of an entry beyond its strings and document (the map slot, the struct).
const ENTRY_OVERHEAD: usize = 256;
/// The fixed cost of one tenant's use of an entry.
const USE_OVERHEAD: usize = 96;

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

/// One registered context as one tenant sees it.
#[derive(Debug, Clone)]
pub struct ContextEntry {
    /// Local id (the last path segment of a hosted context's URL).
    pub id: String,
    /// Where clients find it: this broker's URL for Hosted and ImplicitlyCreated, the original
    /// URL for Cached.
    pub url: String,
    pub kind: ContextKind,
    /// The document served, for Hosted and ImplicitlyCreated contexts.
    pub document: Option<Arc<Value>>,
    pub created_at: DateTime<Utc>,
    pub last_usage: Option<DateTime<Utc>>,
    pub hits: u64,
}

impl ContextEntry {
    /// True for the NGSI-LD core context.
    pub fn is_core(&self) -> bool {
        ngsi_types::context::is_core_context_url(&self.url)
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

/// The contexts one successful request used, recorded after its response
/// ([`ContextRegistry::record`]).
#[derive(Debug, Clone, Default)]
pub struct ContextUse {
    /// The ImplicitlyCreated context of an inline @context.
    pub(super) implicit: Option<Implicit>,
    /// Every remote context URL the request's context reached (Link, or named inside).
    pub(super) remote: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Implicit {
    pub id: String,
    pub url: String,
    pub document: Arc<Value>,
}

impl ContextUse {
    pub fn is_empty(&self) -> bool {
        self.implicit.is_none() && self.remote.is_empty()
    }

    /// The ImplicitlyCreated part, taken out (to be recorded only if the request succeeds).
    pub fn take_implicit(&mut self) -> Option<ContextUse> {
        self.implicit.take().map(|implicit| ContextUse {
            implicit: Some(implicit),
            remote: Vec::new(),
        })
    }
}

/// How one tenant used an entry.
#[derive(Debug, Clone, Copy)]
struct Usage {
    since: DateTime<Utc>,
    hits: u64,
    last: Option<DateTime<Utc>>,
}

#[derive(Debug)]
struct Slot {
    url: String,
    kind: ContextKind,
    document: Option<Arc<Value>>,
    /// The tenant that stored a Hosted context.
    owner: Option<Tenant>,
    /// The core context: seen by every tenant, never evicted.
    shared: bool,
    created_at: DateTime<Utc>,
    uses: HashMap<Tenant, Usage>,
    /// Weight against the budget (0 for the Hosted and shared ones, which are not evicted).
    bytes: usize,
    touched: u64,
}

impl Slot {
    /// An entry of `kind` at `url`, used by no tenant yet, neither owned nor shared.
    fn new(
        url: String,
        kind: ContextKind,
        document: Option<Arc<Value>>,
        bytes: usize,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            url,
            kind,
            document,
            owner: None,
            shared: false,
            created_at,
            uses: HashMap::new(),
            bytes,
            touched: 0,
        }
    }

    fn evictable(&self) -> bool {
        !self.shared && self.kind != ContextKind::Hosted
    }

    fn visible_to(&self, tenant: &Tenant) -> bool {
        match self.kind {
            _ if self.shared => true,
            ContextKind::Hosted => self.owner.as_ref() == Some(tenant),
            ContextKind::Cached | ContextKind::ImplicitlyCreated => self.uses.contains_key(tenant),
        }
    }

    fn view(&self, id: &str, tenant: &Tenant) -> ContextEntry {
        let usage = self.uses.get(tenant);
        let created_at = match usage {
            Some(u) if self.evictable() => u.since,
            _ => self.created_at,
        };
        ContextEntry {
            id: id.to_owned(),
            url: self.url.clone(),
            kind: self.kind,
            document: self.document.clone(),
            created_at,
            last_usage: usage.and_then(|u| u.last),
            hits: usage.map_or(0, |u| u.hits),
        }
    }
}

#[derive(Debug, Default)]
struct Slots {
    map: HashMap<String, Slot>,
    /// Sum of the evictable slots' weights.
    bytes: usize,
    clock: u64,
}

/// What a DELETE of a Cached or ImplicitlyCreated context did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forgotten {
    /// The tenant's use is gone, other tenants still use it.
    ForTenant,
    /// No tenant uses it any more: it is gone, and whatever was built from `url` may go too.
    Entirely { url: String },
}

/// The registry; cheap concurrent reads, short write sections.
#[derive(Debug)]
pub struct ContextRegistry {
    slots: RwLock<Slots>,
    max_bytes: usize,
}

impl ContextRegistry {
    /// A registry holding at most `max_bytes` of Cached and ImplicitlyCreated contexts, that
    /// lists the core context as Cached under its URL (it is known without being fetched, and
    /// can be neither deleted nor replaced: GS CIM 009 5.13.5, CR 174).
    pub fn new(max_bytes: usize) -> Self {
        let registry = Self {
            slots: RwLock::new(Slots::default()),
            max_bytes,
        };
        let url = ngsi_types::context::CORE_CONTEXT_URL;
        let core = Slot {
            shared: true,
            ..Slot::new(url.to_owned(), ContextKind::Cached, None, 0, Utc::now())
        };
        registry.write().map.insert(local_id(url), core);
        registry
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Slots> {
        self.slots
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Slots> {
        self.slots
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds (or restores) a Hosted context of `tenant`.
    pub fn insert_hosted(
        &self,
        tenant: &Tenant,
        id: String,
        url: String,
        document: Arc<Value>,
        created_at: DateTime<Utc>,
    ) {
        let mut slots = self.write();
        if let Some(old) = slots.map.remove(&id) {
            slots.bytes -= old.bytes;
        }
        let hosted = Slot {
            owner: Some(tenant.clone()),
            ..Slot::new(url, ContextKind::Hosted, Some(document), 0, created_at)
        };
        slots.map.insert(id, hosted);
    }

    /// The entry with local id `key`, or the Cached one of URL `key` (5.13.4.3), if `tenant`
    /// sees it.
    pub fn get(&self, tenant: &Tenant, key: &str) -> Option<ContextEntry> {
        let slots = self.read();
        if let Some(slot) = slots.map.get(key).filter(|s| s.visible_to(tenant)) {
            return Some(slot.view(key, tenant));
        }
        let id = local_id(key);
        slots
            .map
            .get(&id)
            .filter(|s| s.kind == ContextKind::Cached && s.url == key && s.visible_to(tenant))
            .map(|s| s.view(&id, tenant))
    }

    /// Removes a Hosted context (deleted here, or by another instance).
    pub fn remove_hosted(&self, id: &str) -> bool {
        let mut slots = self.write();
        if slots
            .map
            .get(id)
            .is_some_and(|s| s.kind == ContextKind::Hosted)
        {
            slots.map.remove(id);
            return true;
        }
        false
    }

    /// Drops `tenant`'s use of the Cached or ImplicitlyCreated entry `id`, and the entry itself
    /// when no tenant uses it any more. `None` when the tenant does not see such an entry.
    pub fn forget(&self, tenant: &Tenant, id: &str) -> Option<Forgotten> {
        let mut slots = self.write();
        let slot = slots.map.get_mut(id).filter(|s| s.evictable())?;
        slot.uses.remove(tenant)?;
        let freed = tenant_bytes(tenant);
        slot.bytes -= freed;
        slots.bytes -= freed;
        if !slots.map.get(id).is_some_and(|s| s.uses.is_empty()) {
            return Some(Forgotten::ForTenant);
        }
        let slot = slots.map.remove(id)?;
        slots.bytes -= slot.bytes;
        Some(Forgotten::Entirely { url: slot.url })
    }

    /// The entries a tenant sees, optionally of one kind, oldest first.
    pub fn list(&self, tenant: &Tenant, kind: Option<ContextKind>) -> Vec<ContextEntry> {
        let mut all: Vec<ContextEntry> = self
            .read()
            .map
            .iter()
            .filter(|(_, s)| kind.is_none_or(|k| s.kind == k) && s.visible_to(tenant))
            .map(|(id, s)| s.view(id, tenant))
            .collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }

    /// The document of the ImplicitlyCreated context `id`, whoever asks: the broker made it to
    /// give an inline @context a URL, which responses and notifications hand out (a
    /// notification's receiver fetches it without a tenant). Listing, details and deletion
    /// stay with the tenants; a Hosted document with its tenant.
    pub fn implicit_document(&self, id: &str) -> Option<Arc<Value>> {
        let slots = self.read();
        let slot = slots.map.get(id)?;
        (slot.kind == ContextKind::ImplicitlyCreated)
            .then(|| slot.document.clone())
            .flatten()
    }

    /// The document of a context this broker hosts, if `url` is one of its hosted URLs (any
    /// host: the broker may be reached under several names).
    pub fn hosted_document(&self, url: &str) -> Option<Arc<Value>> {
        let id = url.split(HOSTED_PATH).nth(1)?;
        self.read().map.get(id)?.document.clone()
    }

    /// Files what a successful request of `tenant` used: counts its hits (`numberOfHits`,
    /// `lastUsage` of 5.13.3.5), creating the Cached and ImplicitlyCreated entries it needs,
    /// then trims the registry to its budget.
    pub fn record(&self, tenant: &Tenant, used: ContextUse) {
        self.file(tenant, used, true);
    }

    /// Files what `tenant` uses without counting a hit: the entries a subscription needs for
    /// its notifications, registered again as it is activated (at start, after an update).
    pub fn register(&self, tenant: &Tenant, used: ContextUse) {
        self.file(tenant, used, false);
    }

    fn file(&self, tenant: &Tenant, used: ContextUse, hit: bool) {
        if used.is_empty() {
            return;
        }
        let now = Utc::now();
        let mut slots = self.write();
        if let Some(Implicit { id, url, document }) = used.implicit {
            // Weighed only when created: an inline @context in use is already held.
            let slot = || {
                let bytes = ENTRY_OVERHEAD
                    + id.len()
                    + url.len()
                    + ngsi_types::context::json_bytes(&document);
                Slot::new(
                    url,
                    ContextKind::ImplicitlyCreated,
                    Some(document),
                    bytes,
                    now,
                )
            };
            slots.use_slot(tenant, id.clone(), slot, now, hit);
        }
        for url in used.remote {
            let id = match url.split(HOSTED_PATH).nth(1) {
                Some(hosted) if slots.map.contains_key(hosted) => hosted.to_owned(),
                _ => local_id(&url),
            };
            let bytes = ENTRY_OVERHEAD + id.len() + url.len();
            let slot = || Slot::new(url, ContextKind::Cached, None, bytes, now);
            slots.use_slot(tenant, id, slot, now, hit);
        }
        slots.trim(self.max_bytes);
    }

    /// How many entries the registry holds, and the bytes of those under the budget.
    pub fn usage(&self) -> (usize, usize) {
        let slots = self.read();
        (slots.map.len(), slots.bytes)
    }
}

impl Slots {
    /// Counts one use of entry `id` by `tenant` (a hit if `hit`), creating the entry with
    /// `slot` if absent.
    fn use_slot(
        &mut self,
        tenant: &Tenant,
        id: String,
        slot: impl FnOnce() -> Slot,
        now: DateTime<Utc>,
        hit: bool,
    ) {
        self.clock += 1;
        let clock = self.clock;
        let slot = match self.map.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let slot = e.insert(slot());
                self.bytes += slot.bytes;
                slot
            }
        };
        slot.touched = clock;
        if slot.evictable() && !slot.uses.contains_key(tenant) {
            slot.bytes += tenant_bytes(tenant);
            self.bytes += tenant_bytes(tenant);
        }
        let usage = slot.uses.entry(tenant.clone()).or_insert(Usage {
            since: now,
            hits: 0,
            last: None,
        });
        if hit {
            usage.hits += 1;
            usage.last = Some(now);
        }
    }

    /// Evicts the least recently used evictable entries until the budget holds. A scan per
    /// eviction: it only runs when the budget is exceeded.
    fn trim(&mut self, max_bytes: usize) {
        while self.bytes > max_bytes {
            let oldest = self
                .map
                .iter()
                .filter(|(_, s)| s.evictable())
                .min_by_key(|(_, s)| s.touched)
                .map(|(id, _)| id.clone());
            let Some(slot) = oldest.and_then(|id| self.map.remove(&id)) else {
                break;
            };
            self.bytes -= slot.bytes;
        }
    }
}

/// The weight of one tenant's use of an entry.
fn tenant_bytes(tenant: &Tenant) -> usize {
    USE_OVERHEAD + tenant.name().map_or(0, str::len)
}

/// A stable local id derived from a URL or a document's text.
pub(super) fn local_id(text: &str) -> String {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> Tenant {
        Tenant::named(name).expect("a valid tenant name")
    }

    fn implicit_use(inline: &Value) -> ContextUse {
        let id = local_id(&inline.to_string());
        ContextUse {
            implicit: Some(Implicit {
                url: format!("http://127.0.0.1:1026{HOSTED_PATH}{id}"),
                id,
                document: Arc::new(json!({ "@context": inline })),
            }),
            remote: Vec::new(),
        }
    }

    fn remote_use(url: &str) -> ContextUse {
        ContextUse {
            implicit: None,
            remote: vec![url.to_owned()],
        }
    }

    #[test]
    fn implicit_contexts_are_created_once_and_served_under_any_host() {
        let registry = ContextRegistry::new(1 << 20);
        let tenant = Tenant::default_tenant();
        let inline = json!({"speed": "https://example.org/speed"});
        registry.record(&tenant, implicit_use(&inline));
        registry.record(&tenant, implicit_use(&inline));
        let listed = registry.list(&tenant, Some(ContextKind::ImplicitlyCreated));
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].hits, 2);
        let other_host = format!("http://broker.local{HOSTED_PATH}{}", listed[0].id);
        let doc = registry.hosted_document(&other_host).expect("hosted");
        assert_eq!(doc["@context"], inline);
        assert_eq!(registry.list(&tenant, Some(ContextKind::Hosted)).len(), 0);
    }

    #[test]
    fn cached_and_implicit_entries_are_seen_only_by_the_tenants_that_used_them() {
        let registry = ContextRegistry::new(1 << 20);
        let (a, b) = (named("a"), named("b"));
        let url = "https://example.org/ctx.jsonld";
        registry.record(&a, remote_use(url));
        registry.record(&a, implicit_use(&json!({"x": "https://example.org/x"})));
        assert_eq!(registry.list(&a, None).len(), 3, "the core context and two");
        assert_eq!(registry.list(&b, None).len(), 1, "the core context only");
        assert!(registry.get(&b, url).is_none());
        assert!(registry.forget(&b, &local_id(url)).is_none());
        // B's use makes it B's too; A's DELETE then leaves it to B.
        registry.record(&b, remote_use(url));
        assert_eq!(
            registry.forget(&a, &local_id(url)),
            Some(Forgotten::ForTenant)
        );
        assert!(registry.get(&a, url).is_none());
        assert_eq!(registry.get(&b, url).expect("b's").hits, 1);
        assert_eq!(
            registry.forget(&b, &local_id(url)),
            Some(Forgotten::Entirely { url: url.into() })
        );
    }

    #[test]
    fn hosted_contexts_are_their_tenants_and_never_evicted() {
        let registry = ContextRegistry::new(4096);
        let (a, b) = (named("a"), named("b"));
        let doc = Arc::new(json!({"@context": {"t": "https://example.org/t"}}));
        let url = format!("http://127.0.0.1:1026{HOSTED_PATH}h1");
        registry.insert_hosted(&a, "h1".into(), url.clone(), doc, Utc::now());
        for i in 0..100 {
            registry.record(&a, remote_use(&format!("https://example.org/{i}")));
        }
        assert!(registry.get(&a, "h1").is_some());
        assert!(registry.get(&b, "h1").is_none());
        assert!(registry.hosted_document(&url).is_some());
        assert!(!registry.remove_hosted(&local_id(ngsi_types::context::CORE_CONTEXT_URL)));
        assert!(registry.remove_hosted("h1"));
    }

    #[test]
    fn the_budget_evicts_the_least_recently_used() {
        let registry = ContextRegistry::new(64 * 1024);
        let tenant = Tenant::default_tenant();
        let big = |i: usize| json!({ format!("t{i}"): "x".repeat(10_000) });
        for i in 0..20 {
            registry.record(&tenant, implicit_use(&big(i)));
            // The first one stays in use, so it is never the least recent.
            registry.record(&tenant, implicit_use(&big(0)));
        }
        let (_, bytes) = registry.usage();
        assert!(bytes <= 64 * 1024, "{bytes}");
        let held = registry.list(&tenant, Some(ContextKind::ImplicitlyCreated));
        assert!((2..20).contains(&held.len()), "{}", held.len());
        let first = local_id(&big(0).to_string());
        assert!(held.iter().any(|e| e.id == first), "the one in use is kept");
        let last = local_id(&big(19).to_string());
        assert!(held.iter().any(|e| e.id == last), "the newest is kept");
        // The core context is never evicted.
        assert!(registry
            .get(&tenant, ngsi_types::context::CORE_CONTEXT_URL)
            .is_some());
    }
}
