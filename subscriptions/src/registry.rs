//! The subscriptions of every tenant, indexed so that a change event is checked only against
//! the subscriptions that could concern it.
//!
//! Per tenant, a subscription is filed under one or more keys:
//! - each entity selector with an `id` under that id;
//! - else under every type its type expression names (the expressions are positive, so an
//!   entity matching `A;B` or `A,B` has at least one of the named types);
//! - a selector of type `*` in the tenant's `any` list;
//! - a subscription with no selectors (only `watchedAttributes`) under each watched attribute.
//!
//! An event gathers the candidates filed under its entity id, its types and its attribute
//! names, plus the `any` list; [`crate::matching`] then decides. Subscriptions of other
//! tenants are never looked at. Periodic subscriptions are not filed: no event triggers them.

use std::collections::{HashMap, HashSet};

use ngsi_types::query::type_expr::TypeNode;
use ngsi_types::Entity;

use crate::model::Subscription;

/// All tenants. `T` is what the engine keeps per subscription (its worker).
#[derive(Debug)]
pub struct Registry<T> {
    tenants: HashMap<Option<String>, TenantIndex<T>>,
}

#[derive(Debug)]
struct TenantIndex<T> {
    entries: HashMap<String, T>,
    by_id: HashMap<String, HashSet<String>>,
    by_type: HashMap<String, HashSet<String>>,
    by_attribute: HashMap<String, HashSet<String>>,
    any: HashSet<String>,
    /// The keys each subscription is filed under, to unfile it.
    filed: HashMap<String, Vec<Key>>,
}

#[derive(Debug, Clone)]
enum Key {
    Id(String),
    Type(String),
    Attribute(String),
    Any,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self {
            tenants: HashMap::new(),
        }
    }
}

impl<T> Default for TenantIndex<T> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            by_id: HashMap::new(),
            by_type: HashMap::new(),
            by_attribute: HashMap::new(),
            any: HashSet::new(),
            filed: HashMap::new(),
        }
    }
}

impl<T> Registry<T> {
    /// Files (or re-files) a subscription; returns the previous entry of the same id.
    pub fn insert(&mut self, tenant: Option<String>, sub: &Subscription, entry: T) -> Option<T> {
        let index = self.tenants.entry(tenant).or_default();
        index.unfile(&sub.id);
        let keys = keys_of(sub);
        for key in &keys {
            let set = match key {
                Key::Id(k) => index.by_id.entry(k.clone()).or_default(),
                Key::Type(k) => index.by_type.entry(k.clone()).or_default(),
                Key::Attribute(k) => index.by_attribute.entry(k.clone()).or_default(),
                Key::Any => &mut index.any,
            };
            set.insert(sub.id.clone());
        }
        index.filed.insert(sub.id.clone(), keys);
        index.entries.insert(sub.id.clone(), entry)
    }

    pub fn remove(&mut self, tenant: &Option<String>, id: &str) -> Option<T> {
        let index = self.tenants.get_mut(tenant)?;
        index.unfile(id);
        let removed = index.entries.remove(id);
        if index.entries.is_empty() {
            self.tenants.remove(tenant);
        }
        removed
    }

    pub fn get(&self, tenant: &Option<String>, id: &str) -> Option<&T> {
        self.tenants.get(tenant)?.entries.get(id)
    }

    /// The entries that may concern a change to `entity` touching `attributes`.
    pub fn candidates<'a, 'q>(
        &'a self,
        tenant: &Option<String>,
        entity: &'q Entity,
        attributes: impl Iterator<Item = &'q str>,
    ) -> Vec<&'a T> {
        let Some(index) = self.tenants.get(tenant) else {
            return Vec::new();
        };
        let mut ids: HashSet<&str> = index.any.iter().map(String::as_str).collect();
        let mut add = |set: Option<&'a HashSet<String>>| {
            if let Some(set) = set {
                ids.extend(set.iter().map(String::as_str));
            }
        };
        add(index.by_id.get(&entity.id));
        for t in &entity.types {
            add(index.by_type.get(t));
        }
        for a in entity
            .attributes
            .keys()
            .map(String::as_str)
            .chain(attributes)
        {
            add(index.by_attribute.get(a));
        }
        ids.into_iter()
            .filter_map(|id| index.entries.get(id))
            .collect()
    }

    /// Every entry of every tenant (for shutdown).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.tenants
            .drain()
            .flat_map(|(_, index)| index.entries.into_values())
    }

    /// Every entry with its tenant and subscription id.
    pub fn iter(&self) -> impl Iterator<Item = (&Option<String>, &String, &T)> + '_ {
        self.tenants.iter().flat_map(|(tenant, index)| {
            index
                .entries
                .iter()
                .map(move |(id, entry)| (tenant, id, entry))
        })
    }

    /// Number of subscriptions in all tenants.
    pub fn len(&self) -> usize {
        self.tenants.values().map(|t| t.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> TenantIndex<T> {
    fn unfile(&mut self, id: &str) {
        for key in self.filed.remove(id).unwrap_or_default() {
            let map = match &key {
                Key::Id(_) => &mut self.by_id,
                Key::Type(_) => &mut self.by_type,
                Key::Attribute(_) => &mut self.by_attribute,
                Key::Any => {
                    self.any.remove(id);
                    continue;
                }
            };
            let (Key::Id(k) | Key::Type(k) | Key::Attribute(k)) = &key else {
                continue;
            };
            if let Some(set) = map.get_mut(k) {
                set.remove(id);
                if set.is_empty() {
                    map.remove(k);
                }
            }
        }
    }
}

fn keys_of(sub: &Subscription) -> Vec<Key> {
    if sub.is_periodic() {
        return Vec::new();
    }
    if sub.entities.is_empty() {
        return sub
            .watched_attributes
            .iter()
            .map(|a| Key::Attribute(a.clone()))
            .collect();
    }
    let mut keys = Vec::new();
    for sel in &sub.entities {
        match (&sel.selector.id, &sel.selector.types) {
            (Some(id), _) => keys.push(Key::Id(id.clone())),
            (None, Some(types)) if !contains_any(types.node()) => {
                keys.extend(types.types().map(|t| Key::Type(t.to_owned())));
            }
            (None, _) => keys.push(Key::Any),
        }
    }
    keys
}

fn contains_any(node: &TypeNode) -> bool {
    match node {
        TypeNode::Any => true,
        TypeNode::Type(_) => false,
        TypeNode::And(v) | TypeNode::Or(v) => v.iter().any(contains_any),
    }
}
