//! The store side of Linked Entity retrieval (clause 4.5.23) and of queries through
//! Relationships (clause 4.9, `rel{attr}==value`): both read the entities that Relationships
//! target, one store query per level, each bounded.

use std::future::Future;
use std::pin::Pin;

use ngsi_types::format::{LinkedEntities, LinkedRetrieval};
use ngsi_types::query::projection::Projection;
use ngsi_types::query::type_expr::{TypeExpr, TypeNode};
use ngsi_types::Entity;

use super::entities::Entities;
use super::tenancy::require_tenant;
use crate::error::{BrokerError, BrokerResult};
use crate::store::{EntityFilter, EntityQuery, Tenant};

/// Most Linked Entities one response carries, all levels together.
pub const MAX_LINKED_ENTITIES: usize = 10_000;
/// Most entities one term through a Relationship may match in the targeted entities: the
/// ids become a list the outer query compares Relationship objects with.
pub const MAX_LINKED_MATCHES: usize = 10_000;

impl Entities {
    /// The Linked Entities of `roots` (the responding entities, rendered with `projection`),
    /// read level by level up to `join.level`; only entities held here are found. With
    /// `dataset_ids`, only those attribute instances of each are kept.
    pub async fn linked(
        &self,
        tenant: &Tenant,
        roots: &[Entity],
        projection: &Projection,
        join: &LinkedRetrieval,
        dataset_ids: Option<&[String]>,
    ) -> BrokerResult<LinkedEntities> {
        let mut linked = LinkedEntities::new(roots, projection, &join.contained_by);
        let now = self.clock.now();
        for _ in 0..join.level {
            let wanted = linked.wanted();
            if wanted.is_empty() {
                break;
            }
            if linked.len() + wanted.len() > MAX_LINKED_ENTITIES {
                return Err(BrokerError::TooManyResults(format!(
                    "linked entity retrieval reaches more than {MAX_LINKED_ENTITIES} entities; \
                     lower joinLevel or narrow the query"
                )));
            }
            let query = EntityQuery {
                limit: wanted.len(),
                ..EntityQuery::filtered(EntityFilter {
                    ids: Some(wanted),
                    ..EntityFilter::default()
                })
            };
            let mut fetched = self.store.query(tenant, &query).await?.entities;
            // GS CIM 4.22: an entity past its expiresAt is no longer served.
            fetched.retain(|e| e.expires_at.is_none_or(|at| at > now));
            for entity in &mut fetched {
                entity.drop_expired_attributes(now);
            }
            if let Some(ids) = dataset_ids {
                for entity in &mut fetched {
                    entity.retain_datasets(ids);
                }
            }
            linked.add_level(fetched);
        }
        Ok(linked)
    }

    /// Replaces every term of the filter's `q` that follows a Relationship (`rel{path}`, with
    /// an optional type hint) by the ids of the entities where the rest of the term holds: the
    /// term then holds when `rel` targets one of them (clause 4.9, EXAMPLE 13 and 14).
    /// Nested paths resolve from the inside out.
    pub fn resolve_linked_terms<'a>(
        &'a self,
        tenant: &'a Tenant,
        filter: &'a mut EntityFilter,
    ) -> Pin<Box<dyn Future<Output = BrokerResult<()>> + Send + 'a>> {
        Box::pin(async move {
            let Some(q) = &filter.q else {
                return Ok(());
            };
            let subqueries = q.linked_subqueries();
            if subqueries.is_empty() {
                return Ok(());
            }
            require_tenant(self.store.as_ref(), tenant).await?;
            let mut targets = Vec::with_capacity(subqueries.len());
            for sub in subqueries {
                let types = match sub.types.as_slice() {
                    [] => None,
                    [one] => Some(TypeExpr::from_node(TypeNode::Type(one.clone()))),
                    many => Some(TypeExpr::from_node(TypeNode::Or(
                        many.iter().cloned().map(TypeNode::Type).collect(),
                    ))),
                };
                let mut inner = EntityFilter {
                    types,
                    q: Some(sub.inner),
                    ..EntityFilter::default()
                };
                self.resolve_linked_terms(tenant, &mut inner).await?;
                let query = EntityQuery {
                    limit: MAX_LINKED_MATCHES + 1,
                    ..EntityQuery::filtered(inner)
                };
                let matched = self.store.query(tenant, &query).await?.entities;
                if matched.len() > MAX_LINKED_MATCHES {
                    return Err(BrokerError::TooManyResults(format!(
                        "q: the entities that {} may target match more than \
                         {MAX_LINKED_MATCHES} times; give a type hint (rel{{Type:attr}}) or \
                         narrow the term",
                        sub.relationship
                    )));
                }
                targets.push(matched.into_iter().map(|e| e.id).collect());
            }
            filter.q = Some(q.with_linked_targets(targets));
            Ok(())
        })
    }
}
