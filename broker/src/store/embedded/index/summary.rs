//! The counts behind `/types` and `/attributes` (clause 5.7.5-5.7.10), kept incrementally so
//! those endpoints never scan entities.
//!
//! Every count is "number of entities with ...", so adding an entity's facts and later removing
//! exactly the same facts returns every count to where it was; entries that reach zero are
//! dropped, so a type or attribute disappears from the summaries with its last entity.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::facts::KindSet;
use super::interner::{Interner, Sym};
use crate::store::{AttributeKindName, AttributeSummary, TypeSummary};

/// Number of entities per attribute kind (indexed like [`ngsi_types::AttributeKind::ALL`]).
type KindCounts = [u64; 8];

#[derive(Debug, Default)]
struct TypeCounts {
    entities: u64,
    /// Attribute name -> kinds, each counted by entities of this type having it.
    attributes: HashMap<Sym, KindCounts>,
}

#[derive(Debug, Default)]
struct AttributeCounts {
    entities: u64,
    kinds: KindCounts,
    /// Type -> entities having this attribute and that type.
    types: HashMap<Sym, u64>,
}

/// Per-tenant summary counts.
#[derive(Debug, Default)]
pub struct Summaries {
    types: HashMap<Sym, TypeCounts>,
    attributes: HashMap<Sym, AttributeCounts>,
}

impl Summaries {
    /// Counts one entity with these (interned) types and attributes.
    pub fn add(&mut self, types: &[Sym], attributes: &[(Sym, KindSet)]) {
        for ty in types {
            let counts = self.types.entry(*ty).or_default();
            counts.entities += 1;
            for (name, kinds) in attributes {
                let per_kind = counts.attributes.entry(*name).or_default();
                for (i, _) in kinds.iter() {
                    per_kind[i] += 1;
                }
            }
        }
        for (name, kinds) in attributes {
            let counts = self.attributes.entry(*name).or_default();
            counts.entities += 1;
            for (i, _) in kinds.iter() {
                counts.kinds[i] += 1;
            }
            for ty in types {
                *counts.types.entry(*ty).or_default() += 1;
            }
        }
    }

    /// Uncounts one entity previously counted with exactly these types and attributes.
    pub fn remove(&mut self, types: &[Sym], attributes: &[(Sym, KindSet)]) {
        for ty in types {
            let Some(counts) = self.types.get_mut(ty) else {
                continue;
            };
            counts.entities = counts.entities.saturating_sub(1);
            for (name, kinds) in attributes {
                if let Some(per_kind) = counts.attributes.get_mut(name) {
                    for (i, _) in kinds.iter() {
                        per_kind[i] = per_kind[i].saturating_sub(1);
                    }
                    if per_kind.iter().all(|n| *n == 0) {
                        counts.attributes.remove(name);
                    }
                }
            }
            if counts.entities == 0 {
                self.types.remove(ty);
            }
        }
        for (name, kinds) in attributes {
            let Some(counts) = self.attributes.get_mut(name) else {
                continue;
            };
            counts.entities = counts.entities.saturating_sub(1);
            for (i, _) in kinds.iter() {
                counts.kinds[i] = counts.kinds[i].saturating_sub(1);
            }
            for ty in types {
                if let Some(n) = counts.types.get_mut(ty) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        counts.types.remove(ty);
                    }
                }
            }
            if counts.entities == 0 {
                self.attributes.remove(name);
            }
        }
    }

    /// Type summaries, by type name.
    pub fn types(&self, names: &Interner) -> Vec<TypeSummary> {
        let mut out: Vec<TypeSummary> = self
            .types
            .iter()
            .map(|(ty, counts)| TypeSummary {
                name: names.name(*ty).to_owned(),
                entity_count: counts.entities,
                attributes: counts
                    .attributes
                    .iter()
                    .map(|(name, per_kind)| (names.name(*name).to_owned(), kind_names(per_kind)))
                    .collect::<BTreeMap<_, _>>(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Attribute summaries, by attribute name.
    pub fn attributes(&self, names: &Interner) -> Vec<AttributeSummary> {
        let mut out: Vec<AttributeSummary> = self
            .attributes
            .iter()
            .map(|(name, counts)| AttributeSummary {
                name: names.name(*name).to_owned(),
                attribute_count: counts.entities,
                kinds: kind_names(&counts.kinds),
                types: counts
                    .types
                    .keys()
                    .map(|ty| names.name(*ty).to_owned())
                    .collect(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

fn kind_names(per_kind: &KindCounts) -> BTreeSet<AttributeKindName> {
    ngsi_types::AttributeKind::ALL
        .into_iter()
        .zip(per_kind)
        .filter(|(_, n)| **n > 0)
        .map(|(kind, _)| kind.into())
        .collect()
}

#[cfg(test)]
mod tests {
    use ngsi_types::AttributeKind;

    use super::*;

    fn kinds(list: &[AttributeKind]) -> KindSet {
        let mut set = KindSet::default();
        list.iter().for_each(|k| set.insert(*k));
        set
    }

    #[test]
    fn removing_what_was_added_restores_the_counts() {
        let mut names = Interner::default();
        let (t, u) = (names.intern("T"), names.intern("U"));
        let (p, r) = (names.intern("p"), names.intern("r"));
        let mut s = Summaries::default();
        s.add(&[t], &[(p, kinds(&[AttributeKind::Property]))]);
        let both = kinds(&[AttributeKind::Property, AttributeKind::Relationship]);
        s.add(
            &[t, u],
            &[(p, both), (r, kinds(&[AttributeKind::Relationship]))],
        );

        let types = s.types(&names);
        assert_eq!(
            types
                .iter()
                .map(|t| (t.name.as_str(), t.entity_count))
                .collect::<Vec<_>>(),
            [("T", 2), ("U", 1)]
        );
        assert_eq!(types[0].attributes["p"].len(), 2);
        let attrs = s.attributes(&names);
        assert_eq!(attrs[0].name, "p");
        assert_eq!(attrs[0].attribute_count, 2);
        assert_eq!(attrs[0].types.len(), 2);
        assert_eq!(attrs[1].kinds.len(), 1);

        s.remove(
            &[t, u],
            &[(p, both), (r, kinds(&[AttributeKind::Relationship]))],
        );
        let types = s.types(&names);
        assert_eq!(types.len(), 1);
        assert_eq!(
            types[0].attributes["p"],
            BTreeSet::from([AttributeKindName("Property")])
        );
        let attrs = s.attributes(&names);
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].types, BTreeSet::from(["T".to_owned()]));

        s.remove(&[t], &[(p, kinds(&[AttributeKind::Property]))]);
        assert!(s.types(&names).is_empty() && s.attributes(&names).is_empty());
    }
}
