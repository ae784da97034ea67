//! Which entities a query or a subscription is about: EntitySelectors (clause 5.2.33) and the
//! filters that follow them (type expressions, idPattern, `q`, `scopeQ`, `geoQ`; clause 4.9 -
//! 4.11, 4.17-4.19), as one model that every consumer shares: the stores translate it or
//! evaluate it, and the subscription engine evaluates it on change events and asks the store
//! with it for periodic notifications.
//!
//! Every name in it is expanded. The hints ([`EntityFilter::ids`], [`EntityFilter::any_of_types`])
//! are what a store's indexes can use; they are necessary conditions of the filter, never a
//! part of its meaning.

use super::geo::GeoQuery;
use super::q::Query;
use super::scope::ScopeQuery;
use super::type_expr::{IdPattern, TypeExpr};
use crate::Entity;

/// One EntitySelector (clause 5.2.33): its members must all hold, except that `id` takes
/// precedence over `idPattern`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySelector {
    pub id: Option<String>,
    pub id_pattern: Option<IdPattern>,
    pub types: Option<TypeExpr>,
}

impl EntitySelector {
    pub fn matches(&self, e: &Entity) -> bool {
        let id_ok = match (&self.id, &self.id_pattern) {
            (Some(id), _) => *id == e.id,
            (None, Some(p)) => p.matches(e),
            (None, None) => true,
        };
        id_ok && self.types.as_ref().is_none_or(|t| t.matches(e))
    }

    /// The types every entity this selector matches has one of, when its type expression
    /// says so (an OR of type names).
    fn any_of_types(&self) -> Option<Vec<String>> {
        let types = self.types.as_ref()?.as_any_of()?;
        Some(types.into_iter().map(str::to_owned).collect())
    }
}

/// The exact NGSI-LD filter of a query or a subscription (clause 5.7.2, 5.8.1): every present
/// part must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityFilter {
    /// Alternatives (a Query's or a Subscription's `entities`); empty means no restriction.
    pub selectors: Vec<EntitySelector>,
    /// Only these ids (the `id` parameter of Query Entities).
    pub ids: Option<Vec<String>>,
    pub types: Option<TypeExpr>,
    pub id_pattern: Option<IdPattern>,
    pub q: Option<Query>,
    pub scope_q: Option<ScopeQuery>,
    pub geo_q: Option<GeoQuery>,
}

impl EntityFilter {
    pub fn matches(&self, e: &Entity) -> bool {
        self.selects(e) && self.conditions_hold(e)
    }

    /// The selection part: selectors, ids, type expression and idPattern.
    pub fn selects(&self, e: &Entity) -> bool {
        (self.selectors.is_empty() || self.selectors.iter().any(|s| s.matches(e)))
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&e.id))
            && self.types.as_ref().is_none_or(|t| t.matches(e))
            && self.id_pattern.as_ref().is_none_or(|p| p.matches(e))
    }

    /// The conditions on the entity's content: `scopeQ`, `q` and `geoQ` (the costlier part).
    pub fn conditions_hold(&self, e: &Entity) -> bool {
        self.scope_q.as_ref().is_none_or(|s| s.matches(e))
            && self.q.as_ref().is_none_or(|q| q.matches(e))
            && self.geo_q.as_ref().is_none_or(|g| g.matches_entity(e))
    }

    /// True if the filter restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.selectors.is_empty()
            && self.ids.is_none()
            && self.types.is_none()
            && self.id_pattern.is_none()
            && self.q.is_none()
            && self.scope_q.is_none()
            && self.geo_q.is_none()
    }

    /// Ids of which every match has one: the `id` list, or the ids of the selectors when
    /// every selector names one.
    pub fn only_ids(&self) -> Option<Vec<String>> {
        let from_selectors: Option<Vec<String>> = (!self.selectors.is_empty())
            .then(|| self.selectors.iter().map(|s| s.id.clone()).collect())
            .flatten();
        match (&self.ids, from_selectors) {
            (Some(ids), Some(named)) => {
                Some(named.into_iter().filter(|id| ids.contains(id)).collect())
            }
            (Some(ids), None) => Some(ids.clone()),
            (None, named) => named,
        }
    }

    /// Expanded types of which every match has at least one, when the type expressions say
    /// so (OR-only expressions, on every selector).
    pub fn any_of_types(&self) -> Option<Vec<String>> {
        if let Some(types) = self.types.as_ref().and_then(TypeExpr::as_any_of) {
            return Some(types.into_iter().map(str::to_owned).collect());
        }
        if self.selectors.is_empty() {
            return None;
        }
        let mut all = Vec::new();
        for sel in &self.selectors {
            all.extend(sel.any_of_types()?);
        }
        Some(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(id: &str, ty: &str) -> Entity {
        Entity::new(id.to_owned(), vec![ty.to_owned()])
    }

    fn selector(id: Option<&str>, pattern: Option<&str>, ty: Option<&str>) -> EntitySelector {
        EntitySelector {
            id: id.map(str::to_owned),
            id_pattern: pattern.map(|p| IdPattern::new(p).expect("pattern")),
            types: ty.map(|t| TypeExpr::parse(t).expect("type")),
        }
    }

    #[test]
    fn id_takes_precedence_over_id_pattern() {
        let sel = selector(Some("urn:a:1"), Some("^urn:b:.*"), None);
        assert!(sel.matches(&entity("urn:a:1", "T")));
        assert!(!sel.matches(&entity("urn:b:1", "T")));
    }

    #[test]
    fn selectors_are_alternatives_and_their_hints_cover_them_all() {
        let filter = EntityFilter {
            selectors: vec![
                selector(Some("urn:a:1"), None, Some("A")),
                selector(Some("urn:b:1"), None, Some("B,C")),
            ],
            ..EntityFilter::default()
        };
        assert!(filter.matches(&entity("urn:a:1", "A")));
        assert!(filter.matches(&entity("urn:b:1", "C")));
        assert!(!filter.matches(&entity("urn:b:1", "A")));
        assert_eq!(
            filter.only_ids(),
            Some(vec!["urn:a:1".into(), "urn:b:1".into()])
        );
        assert_eq!(
            filter.any_of_types(),
            Some(vec!["A".into(), "B".into(), "C".into()])
        );
    }

    #[test]
    fn no_hint_where_a_selector_is_unbounded() {
        let filter = EntityFilter {
            selectors: vec![
                selector(Some("urn:a:1"), None, Some("A")),
                selector(None, Some(".*"), Some("A;B")),
            ],
            ..EntityFilter::default()
        };
        assert_eq!(filter.only_ids(), None);
        assert_eq!(filter.any_of_types(), None);
        let with_ids = EntityFilter {
            ids: Some(vec!["urn:a:1".into()]),
            ..filter
        };
        assert_eq!(with_ids.only_ids(), Some(vec!["urn:a:1".into()]));
    }
}
