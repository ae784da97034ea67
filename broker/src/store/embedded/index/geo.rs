//! Spatial index: one R-tree per geoproperty name, holding the bounding rectangle of every
//! GeoProperty instance with the creation sequence of its entity.
//!
//! The R-tree only narrows candidates for a geo-query's search envelope; the query's own filter
//! then decides the exact geometric relation on the loaded entity.

use std::collections::HashMap;

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::interner::Sym;

type Entry = GeomWithData<Rectangle<[f64; 2]>, u64>;

/// A geoproperty's extent on one entity: (property, bounding rectangle, creation sequence).
pub type Extent = (Sym, geo::Rect<f64>, u64);

#[derive(Debug, Default)]
pub struct GeoIndex {
    trees: HashMap<Sym, RTree<Entry>>,
}

fn entry(rect: &geo::Rect<f64>, seq: u64) -> Entry {
    let (min, max) = (rect.min(), rect.max());
    GeomWithData::new(Rectangle::from_corners([min.x, min.y], [max.x, max.y]), seq)
}

impl GeoIndex {
    pub fn insert(&mut self, property: Sym, rect: &geo::Rect<f64>, seq: u64) {
        self.trees
            .entry(property)
            .or_default()
            .insert(entry(rect, seq));
    }

    pub fn remove(&mut self, property: Sym, rect: &geo::Rect<f64>, seq: u64) {
        if let Some(tree) = self.trees.get_mut(&property) {
            tree.remove(&entry(rect, seq));
            if tree.size() == 0 {
                self.trees.remove(&property);
            }
        }
    }

    /// Adds many extents at once (the scan at open): bulk loading builds a better-packed tree,
    /// several times faster than inserting one by one.
    pub fn bulk_load(&mut self, extents: Vec<Extent>) {
        let mut by_property: HashMap<Sym, Vec<Entry>> = HashMap::new();
        for (property, rect, seq) in extents {
            by_property
                .entry(property)
                .or_default()
                .push(entry(&rect, seq));
        }
        for (property, mut entries) in by_property {
            if let Some(tree) = self.trees.remove(&property) {
                entries.extend(tree.iter().copied());
            }
            self.trees.insert(property, RTree::bulk_load(entries));
        }
    }

    /// Creation sequences of the entities whose `property` intersects `envelope`, ascending,
    /// without duplicates.
    pub fn intersecting(&self, property: Sym, envelope: &geo::Rect<f64>) -> Vec<u64> {
        let Some(tree) = self.trees.get(&property) else {
            return Vec::new();
        };
        let (min, max) = (envelope.min(), envelope.max());
        let aabb = AABB::from_corners([min.x, min.y], [max.x, max.y]);
        let mut seqs: Vec<u64> = tree
            .locate_in_envelope_intersecting(&aabb)
            .map(|e| e.data)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        seqs
    }
}

#[cfg(test)]
mod tests {
    use geo::{coord, Rect};

    use super::*;
    use crate::store::embedded::index::interner::Interner;

    #[test]
    fn finds_intersecting_extents_and_forgets_removed_ones() {
        let mut names = Interner::default();
        let location = names.intern("location");
        let mut index = GeoIndex::default();
        let point = Rect::new(coord! { x: 2.0, y: 41.0 }, coord! { x: 2.0, y: 41.0 });
        let area = Rect::new(coord! { x: 0.0, y: 40.0 }, coord! { x: 1.0, y: 41.5 });
        index.insert(location, &point, 1);
        index.insert(location, &area, 2);
        index.insert(location, &point, 2);

        let around = Rect::new(coord! { x: 0.5, y: 40.5 }, coord! { x: 3.0, y: 42.0 });
        assert_eq!(index.intersecting(location, &around), [1, 2]);
        let elsewhere = Rect::new(coord! { x: 10.0, y: 10.0 }, coord! { x: 11.0, y: 11.0 });
        assert!(index.intersecting(location, &elsewhere).is_empty());

        index.remove(location, &point, 1);
        index.remove(location, &point, 2);
        assert_eq!(index.intersecting(location, &around), [2]);
        index.remove(location, &area, 2);
        assert!(index.trees.is_empty());

        index.insert(location, &area, 2);
        index.bulk_load(vec![(location, point, 1), (location, point, 3)]);
        assert_eq!(index.intersecting(location, &around), [1, 2, 3]);
    }
}
