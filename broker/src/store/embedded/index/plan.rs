//! Turning a query's hints into candidates: pick the most selective index, then hand out its
//! candidates in creation order, a chunk at a time.
//!
//! Chunks keep the index lock short (the caller loads entities from redb between chunks, with
//! no lock held) and let a query without `count` stop as soon as its page is full. Between two
//! chunks the writer may change the index; resuming "after the last creation sequence seen"
//! keeps the walk ordered and never yields an entity twice.

use std::ops::Bound;
use std::sync::Arc;

use super::interner::Sym;
use super::tenant::{EntityMeta, TenantIndex};
use crate::store::EntityQuery;

/// Entries examined per chunk (bounds the time the read lock is held).
pub const CHUNK: usize = 256;

/// Where candidates come from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// Every entity of the tenant.
    All,
    /// Entities having any of these types.
    Types(Vec<Sym>),
    /// Entities having any of these attributes.
    Attributes(Vec<Sym>),
    /// Exactly these creation sequences (ascending): from an id list or the R-tree.
    Seqs(Vec<u64>),
}

/// A query's candidate source, with the hints checked on index metadata before loading.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    source: Source,
    types: Option<Vec<Sym>>,
    attributes: Option<Vec<Sym>>,
}

impl Plan {
    /// The plan for a query, or `None` if the hints already rule out every entity.
    pub fn new(index: &TenantIndex, query: &EntityQuery) -> Option<Self> {
        let known = |names: &Option<Vec<String>>| -> Option<Option<Vec<Sym>>> {
            let Some(names) = names else {
                return Some(None);
            };
            let syms: Vec<Sym> = names.iter().filter_map(|n| index.names.get(n)).collect();
            // A name never seen on any entity cannot match.
            (!syms.is_empty()).then_some(Some(syms))
        };
        let types = known(&query.any_type)?;
        let attributes = known(&query.any_attribute)?;

        let mut best = (Source::All, index.len());
        let mut consider = |source: Source, size: usize| {
            if size < best.1 {
                best = (source, size);
            }
        };
        if let Some(ids) = &query.ids {
            let mut seqs: Vec<u64> = ids
                .iter()
                .filter_map(|id| index.seq_of.get(id.as_str()).copied())
                .collect();
            seqs.sort_unstable();
            seqs.dedup();
            let size = seqs.len();
            consider(Source::Seqs(seqs), size);
        }
        if let Some(types) = &types {
            let size = types
                .iter()
                .filter_map(|t| index.by_type.get(t))
                .map(|set| set.len())
                .sum();
            consider(Source::Types(types.clone()), size);
        }
        if let Some(attributes) = &attributes {
            let size = attributes
                .iter()
                .filter_map(|a| index.by_attribute.get(a))
                .map(|set| set.len())
                .sum();
            consider(Source::Attributes(attributes.clone()), size);
        }
        if let Some((property, envelope)) = &query.geo_envelope {
            let seqs = index
                .names
                .get(property)
                .map(|p| index.geo.intersecting(p, envelope))
                .unwrap_or_default();
            let size = seqs.len();
            consider(Source::Seqs(seqs), size);
        }
        Some(Self {
            source: best.0,
            types,
            attributes,
        })
    }

    /// Up to [`CHUNK`] candidates after creation sequence `after`, ascending, and where to
    /// resume (`None` when the source is exhausted).
    pub fn chunk(
        &self,
        index: &TenantIndex,
        after: Option<u64>,
    ) -> (Vec<(u64, Arc<str>)>, Option<u64>) {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        let seqs: Vec<u64> = match &self.source {
            Source::All => index
                .entities
                .range((lower, Bound::Unbounded))
                .take(CHUNK)
                .map(|(seq, _)| *seq)
                .collect(),
            Source::Types(syms) => merged(syms.iter().filter_map(|t| index.by_type.get(t)), lower),
            Source::Attributes(syms) => {
                merged(syms.iter().filter_map(|a| index.by_attribute.get(a)), lower)
            }
            Source::Seqs(all) => {
                let start = after.map_or(0, |a| all.partition_point(|s| *s <= a));
                all[start..].iter().take(CHUNK).copied().collect()
            }
        };
        let resume = (seqs.len() == CHUNK)
            .then(|| seqs.last().copied())
            .flatten();
        let candidates = seqs
            .into_iter()
            .filter_map(|seq| index.entities.get(&seq).map(|meta| (seq, meta)))
            .filter(|(_, meta)| self.admits(meta))
            .map(|(seq, meta)| (seq, meta.id.clone()))
            .collect();
        (candidates, resume)
    }

    /// The type and attribute hints, checked without loading the entity.
    fn admits(&self, meta: &EntityMeta) -> bool {
        self.types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| meta.types.contains(t)))
            && self
                .attributes
                .as_ref()
                .is_none_or(|attrs| attrs.iter().any(|a| meta.attributes.contains(a)))
    }
}

/// The first [`CHUNK`] members (after `lower`) of the union of ordered sets. Taking `CHUNK`
/// from each set suffices: each set contributes its `CHUNK` smallest, so the union's `CHUNK`
/// smallest are all among them.
fn merged<'a>(
    sets: impl Iterator<Item = &'a std::collections::BTreeSet<u64>>,
    lower: Bound<u64>,
) -> Vec<u64> {
    let mut seqs: Vec<u64> = sets
        .flat_map(|set| set.range((lower, Bound::Unbounded)).take(CHUNK).copied())
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    seqs.truncate(CHUNK);
    seqs
}

#[cfg(test)]
mod tests {
    use geo::{coord, Rect};

    use super::*;
    use crate::store::embedded::index::facts::{EntityFacts, KindSet};

    fn index_of(n: u64) -> TenantIndex {
        let mut index = TenantIndex::default();
        for seq in 1..=n {
            let ty = if seq % 2 == 0 { "Even" } else { "Odd" };
            let point = Rect::new(
                coord! { x: seq as f64, y: 0.0 },
                coord! { x: seq as f64, y: 0.0 },
            );
            let facts = EntityFacts {
                types: vec![ty.into()],
                attributes: vec![(format!("a{}", seq % 3), KindSet::default())],
                geo: vec![("location".into(), point)],
                expires_at: None,
            };
            index.add(seq, &format!("urn:{seq}"), &facts);
        }
        index
    }

    fn all_candidates(plan: &Plan, index: &TenantIndex) -> Vec<u64> {
        let mut out = Vec::new();
        let mut after = None;
        for _ in 0..1_000 {
            let (chunk, resume) = plan.chunk(index, after);
            out.extend(chunk.iter().map(|(seq, _)| *seq));
            match resume {
                Some(next) => after = Some(next),
                None => return out,
            }
        }
        panic!("chunks never ended");
    }

    #[test]
    fn picks_the_smallest_source_and_walks_it_in_order() {
        let index = index_of(1_000);
        let query = EntityQuery {
            any_type: Some(vec!["Even".into(), "Odd".into()]),
            any_attribute: Some(vec!["a0".into()]),
            ..EntityQuery::default()
        };
        let plan = Plan::new(&index, &query).expect("possible");
        assert!(matches!(plan.source, Source::Attributes(_)));
        let seqs = all_candidates(&plan, &index);
        assert_eq!(seqs, (1..=1_000).filter(|s| s % 3 == 0).collect::<Vec<_>>());

        let union = Plan::new(
            &index,
            &EntityQuery {
                any_type: Some(vec!["Even".into(), "Odd".into(), "Nothing".into()]),
                ..EntityQuery::default()
            },
        )
        .expect("possible");
        assert_eq!(
            all_candidates(&union, &index),
            (1..=1_000).collect::<Vec<_>>()
        );
    }

    #[test]
    fn ids_and_geo_envelopes_give_exact_candidates() {
        let index = index_of(600);
        let query = EntityQuery {
            ids: Some(vec!["urn:500".into(), "urn:7".into(), "urn:none".into()]),
            any_type: Some(vec!["Odd".into()]),
            ..EntityQuery::default()
        };
        let plan = Plan::new(&index, &query).expect("possible");
        // urn:500 is Even: the type hint drops it before loading.
        assert_eq!(all_candidates(&plan, &index), [7]);

        let envelope = Rect::new(coord! { x: 10.5, y: -1.0 }, coord! { x: 300.0, y: 1.0 });
        let query = EntityQuery {
            geo_envelope: Some(("location".into(), envelope)),
            ..EntityQuery::default()
        };
        let plan = Plan::new(&index, &query).expect("possible");
        assert_eq!(
            all_candidates(&plan, &index),
            (11..=300).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unknown_names_rule_everything_out() {
        let index = index_of(10);
        let query = EntityQuery {
            any_type: Some(vec!["Nothing".into()]),
            ..EntityQuery::default()
        };
        assert_eq!(Plan::new(&index, &query), None);
    }
}
