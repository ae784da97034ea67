//! Everything indexed about one tenant's entities.
//!
//! Memory is the constraint (a million entities must fit a broker under 2 GiB), so no entity is
//! kept here, only its id (once, shared), its creation sequence and its interned types and
//! attribute names. Secondary indexes hold creation sequences (8 bytes), ordered, so candidate
//! sets come out in creation order and merge cheaply.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::facts::{EntityFacts, KindSet};
use super::geo::GeoIndex;
use super::interner::{Interner, Sym};
use super::summary::Summaries;

/// The per-entity record of the index.
#[derive(Debug)]
pub struct EntityMeta {
    pub id: Arc<str>,
    pub types: Box<[Sym]>,
    pub attributes: Box<[Sym]>,
}

#[derive(Debug, Default)]
pub struct TenantIndex {
    pub(super) names: Interner,
    /// Creation sequence -> entity: all entities in creation order.
    pub(super) entities: BTreeMap<u64, EntityMeta>,
    /// Entity id -> creation sequence.
    pub(super) seq_of: HashMap<Arc<str>, u64>,
    pub(super) by_type: HashMap<Sym, BTreeSet<u64>>,
    pub(super) by_attribute: HashMap<Sym, BTreeSet<u64>>,
    pub(super) geo: GeoIndex,
    /// (expiresAt, creation sequence) of transient entities.
    expiry: BTreeSet<(DateTime<Utc>, u64)>,
    pub(super) summaries: Summaries,
}

impl TenantIndex {
    /// Indexes an entity (absent from the index) with its facts.
    pub fn add(&mut self, seq: u64, id: &str, facts: &EntityFacts) {
        for (name, rect) in &facts.geo {
            let property = self.names.intern(name);
            self.geo.insert(property, rect, seq);
        }
        self.add_except_geo(seq, id, facts);
    }

    /// Indexes an entity except for its extents, which are returned for a bulk load.
    pub fn add_deferring_geo(
        &mut self,
        seq: u64,
        id: &str,
        facts: &EntityFacts,
        extents: &mut Vec<super::geo::Extent>,
    ) {
        for (name, rect) in &facts.geo {
            extents.push((self.names.intern(name), *rect, seq));
        }
        self.add_except_geo(seq, id, facts);
    }

    fn add_except_geo(&mut self, seq: u64, id: &str, facts: &EntityFacts) {
        let types: Box<[Sym]> = facts.types.iter().map(|t| self.names.intern(t)).collect();
        let attributes: Vec<(Sym, KindSet)> = facts
            .attributes
            .iter()
            .map(|(name, kinds)| (self.names.intern(name), *kinds))
            .collect();
        for ty in types.iter() {
            self.by_type.entry(*ty).or_default().insert(seq);
        }
        for (name, _) in &attributes {
            self.by_attribute.entry(*name).or_default().insert(seq);
        }
        if let Some(at) = facts.expires_at {
            self.expiry.insert((at, seq));
        }
        self.summaries.add(&types, &attributes);
        let id: Arc<str> = Arc::from(id);
        self.seq_of.insert(id.clone(), seq);
        self.entities.insert(
            seq,
            EntityMeta {
                id,
                types,
                attributes: attributes.into_iter().map(|(name, _)| name).collect(),
            },
        );
    }

    /// Unindexes an entity previously added with exactly these facts.
    pub fn remove(&mut self, seq: u64, id: &str, facts: &EntityFacts) {
        let types: Vec<Sym> = facts.types.iter().map(|t| self.names.intern(t)).collect();
        let attributes: Vec<(Sym, KindSet)> = facts
            .attributes
            .iter()
            .map(|(name, kinds)| (self.names.intern(name), *kinds))
            .collect();
        for ty in &types {
            remove_from(&mut self.by_type, *ty, seq);
        }
        for (name, _) in &attributes {
            remove_from(&mut self.by_attribute, *name, seq);
        }
        for (name, rect) in &facts.geo {
            let property = self.names.intern(name);
            self.geo.remove(property, rect, seq);
        }
        if let Some(at) = facts.expires_at {
            self.expiry.remove(&(at, seq));
        }
        self.summaries.remove(&types, &attributes);
        self.seq_of.remove(id);
        self.entities.remove(&seq);
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Ids of entities whose `expiresAt` is at or before `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> Vec<String> {
        self.expiry
            .range(..=(now, u64::MAX))
            .filter_map(|(_, seq)| self.entities.get(seq))
            .map(|meta| meta.id.to_string())
            .collect()
    }
}

fn remove_from(index: &mut HashMap<Sym, BTreeSet<u64>>, key: Sym, seq: u64) {
    if let Some(set) = index.get_mut(&key) {
        set.remove(&seq);
        if set.is_empty() {
            index.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn facts(types: &[&str], attributes: &[&str]) -> EntityFacts {
        EntityFacts {
            types: types.iter().map(|t| t.to_string()).collect(),
            attributes: attributes
                .iter()
                .map(|a| (a.to_string(), KindSet::default()))
                .collect(),
            ..EntityFacts::default()
        }
    }

    #[test]
    fn add_then_remove_leaves_no_trace() {
        let mut index = TenantIndex::default();
        let mut transient = facts(&["T"], &["p"]);
        let at = Utc.timestamp_opt(1_000, 0).single().expect("valid");
        transient.expires_at = Some(at);
        index.add(1, "urn:a", &transient);
        index.add(2, "urn:b", &facts(&["T", "U"], &["q"]));
        assert_eq!(index.len(), 2);
        assert_eq!(index.by_type.len(), 2);
        assert_eq!(index.expired(at), ["urn:a"]);
        assert!(index.expired(at - chrono::Duration::seconds(1)).is_empty());

        index.remove(1, "urn:a", &transient);
        index.remove(2, "urn:b", &facts(&["T", "U"], &["q"]));
        assert_eq!(index.len(), 0);
        assert!(index.seq_of.is_empty() && index.by_type.is_empty());
        assert!(index.by_attribute.is_empty() && index.expiry.is_empty());
    }
}
