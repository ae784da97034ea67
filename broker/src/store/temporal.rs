//! What the store keeps of the entities' temporal evolution (GS CIM 009 4.5.6-4.5.9), apart
//! from their current state: per entity a *head* (its types, scope and temporal system
//! timestamps) and every recorded attribute instance, each under its `instanceId`.
//!
//! History is written two ways: beside an entity write of the core API ([`super::Write`]'s
//! `history`, applied in the same transaction, so acknowledged means both are durable), and
//! by the temporal API alone ([`super::Store::temporal_commit`]). It is read back as an
//! [`Entity`] whose attributes list the selected instances, oldest first, so that `q`,
//! `geoQ` and `scopeQ` evaluate on it with the multi-attribute rule (one instance matching is
//! enough).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ngsi_types::temporal::{scope_of, TemporalQuery, SCOPE_IRI};
use ngsi_types::{Attribute, Entity};

use super::query::EntityFilter;

/// A recorded attribute instance: the expanded attribute name and the instance, which carries
/// its `instanceId`.
pub type Recorded = (String, Attribute);

/// What a temporal write does to one entity's evolution.
// An op lives only while its write is committed, one per write: the size of `ModifyInstance`'s
// inline instance costs nothing worth a box at every construction site.
#[derive(Debug, Clone, PartialEq)]
pub enum TemporalOp {
    /// Adds instances, creating the evolution where `mode` allows. The head takes the union of
    /// the types, the scope when one is given (`createdAt = at` when created); a deleted
    /// evolution is live again. With `touch` (a write of the temporal API) the head's
    /// `modifiedAt` becomes `at`; without (instances recorded from the entity API) the head is
    /// rewritten only when it changes: a record costs one instance insert per changed instance.
    Record {
        types: Vec<String>,
        scope: Option<Vec<String>>,
        at: DateTime<Utc>,
        instances: Vec<Recorded>,
        mode: RecordMode,
        touch: bool,
    },
    /// The entity was deleted at `at`: its head gets `deletedAt` and the deletion instances
    /// (one per attribute instance it had) are added; the history stays.
    MarkDeleted {
        at: DateTime<Utc>,
        instances: Vec<Recorded>,
    },
    /// Drops the whole evolution, head and instances.
    Delete,
    /// Drops the instances of one attribute: all of them, or those of one datasetId (`None`
    /// is the default instance).
    DeleteAttribute {
        attribute: String,
        dataset_id: Option<Option<String>>,
        at: DateTime<Utc>,
    },
    /// Replaces one instance's content (the caller keeps its `instanceId`).
    ModifyInstance {
        attribute: String,
        instance: Box<Attribute>,
        at: DateTime<Utc>,
    },
    /// Drops one instance.
    DeleteInstance {
        attribute: String,
        instance_id: String,
        at: DateTime<Utc>,
    },
}

/// Whether a [`TemporalOp::Record`] may create the evolution, or must find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordMode {
    /// The evolution must not exist yet (else [`TemporalOutcome::Conflict`]).
    Create,
    /// Created when absent, added to when present.
    Upsert,
    /// The evolution must exist (else [`TemporalOutcome::NotFound`]).
    Existing,
}

/// One write to one entity's evolution.
#[derive(Debug, Clone, PartialEq)]
pub struct TemporalWrite {
    pub id: String,
    pub op: TemporalOp,
}

/// What a [`TemporalWrite`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalOutcome {
    /// The evolution did not exist and was created.
    Created,
    /// Applied to an existing evolution.
    Updated,
    /// The evolution, the attribute or the instance named does not exist: nothing written.
    NotFound,
    /// A creation found the evolution already there: nothing written.
    Conflict,
}

/// Which evolutions, and which of their instances, a temporal read selects.
#[derive(Debug, Clone, Default)]
pub struct TemporalSelection {
    /// Only these entity ids.
    pub ids: Option<Vec<String>>,
    /// Only entities having one of these expanded types (the filter decides expressions).
    pub any_type: Option<Vec<String>>,
    /// Only instances of these expanded attributes; an entity with none of them is left out.
    pub attrs: Option<Vec<String>>,
    /// Only instances of these datasetIds (`@none`: the default instance).
    pub dataset_ids: Option<Vec<String>>,
    /// Only instances in this interval. With a `timerel`, an entity none of whose selected
    /// instances lies in it is left out (5.7.4.4).
    pub time: TemporalQuery,
    /// The entity filter (type expressions, idPattern, q, geoQ, scopeQ), evaluated on the
    /// entity holding the selected instances.
    pub filter: Option<Arc<EntityFilter>>,
    /// Per attribute, only the `n` instances latest by the time property.
    pub last_n: Option<usize>,
    /// Read at most this many instances per attribute (the broker's answer budget, clause
    /// 6.3.10): the earliest by the time property, or with `last_n` the latest.
    pub per_attribute: Option<usize>,
    /// Keep an entity none of whose instances is selected (Retrieve, 5.7.3).
    pub keep_empty: bool,
    /// Entities in descending id order (`orderBy=id;desc`).
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
    pub count: bool,
}

/// One page of a temporal read: evolutions in id order (descending if asked), each with its instances oldest first
/// (by the selection's time property, then by recording).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemporalPage {
    pub entities: Vec<Entity>,
    pub total: Option<u64>,
}

/// The head of an evolution: the entity with no attributes.
pub fn head_of(id: &str, types: &[String], scope: &[String]) -> Entity {
    let mut head = Entity::new(id.to_owned(), types.to_vec());
    head.scope = scope.to_vec();
    head
}

/// What a [`TemporalOp::Record`] does to an evolution's head, as every backend applies it.
#[derive(Debug)]
pub struct RecordPlan {
    pub outcome: TemporalOutcome,
    /// The head after the record.
    pub head: Entity,
    /// Whether the head changed and must be written.
    pub rewrite: bool,
}

/// Plans a [`TemporalOp::Record`] on the evolution `id`, whose stored head is `stored`: its
/// outcome and the head to write, or `Err` with the outcome of a record that writes nothing
/// (a creation finding the evolution, an addition not finding it; any other operation).
pub fn plan_record(
    stored: Option<Entity>,
    id: &str,
    op: &TemporalOp,
) -> Result<RecordPlan, TemporalOutcome> {
    let TemporalOp::Record {
        types,
        scope,
        at,
        instances,
        mode,
        touch,
    } = op
    else {
        return Err(TemporalOutcome::NotFound);
    };
    let outcome = match (&stored, mode) {
        (Some(_), RecordMode::Create) => return Err(TemporalOutcome::Conflict),
        (None, RecordMode::Existing) => return Err(TemporalOutcome::NotFound),
        (Some(_), _) => TemporalOutcome::Updated,
        (None, _) => TemporalOutcome::Created,
    };
    let created = stored.is_none();
    let mut head = stored.unwrap_or_else(|| head_of(id, &[], &[]));
    let mut changed = created || *touch || head.deleted_at.is_some();
    if created {
        head.created_at = Some(*at);
    }
    for ty in types {
        if !head.types.contains(ty) {
            head.types.push(ty.clone());
            changed = true;
        }
    }
    if let Some(scope) = scope {
        if head.scope != *scope {
            head.scope = scope.clone();
            changed = true;
        }
    }
    changed |= list_attributes(&mut head, instances);
    head.deleted_at = None;
    if changed {
        head.modified_at = Some(*at);
    }
    Ok(RecordPlan {
        outcome,
        head,
        rewrite: changed,
    })
}

/// Lists the attributes of `recorded` among the head's attributes (as empty instance lists),
/// so that a read knows which attributes have instances; true if one was new.
pub fn list_attributes(head: &mut Entity, recorded: &[Recorded]) -> bool {
    let mut added = false;
    for (name, _) in recorded {
        if !head.attributes.contains_key(name) {
            head.attributes.insert(name.clone(), Vec::new());
            added = true;
        }
    }
    added
}

impl TemporalSelection {
    /// True if the instance of `attribute` is selected by attrs, datasetId and time.
    pub fn keeps_instance(&self, attribute: &str, instance: &Attribute) -> bool {
        self.attrs
            .as_ref()
            .is_none_or(|a| a.iter().any(|n| n == attribute))
            && self.dataset_ids.as_ref().is_none_or(|ids| {
                let id = instance.dataset_id.as_deref().unwrap_or("@none");
                ids.iter().any(|d| d == id)
            })
            && self.time.matches(instance)
    }

    /// True if the head passes the ids and types hints.
    pub fn keeps_head(&self, head: &Entity) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&head.id))
            && self
                .any_type
                .as_ref()
                .is_none_or(|types| types.iter().any(|t| head.has_type(t)))
    }

    /// Orders an entity's selected instances oldest first, keeps the last `n` of each
    /// attribute, and decides whether the entity is part of the answer.
    ///
    /// The scope's own evolution (clause 4.18, read whole, whatever the interval) is judged by
    /// validity: each scope instance holds from its observedAt (else createdAt) until the next
    /// one. It is shown when its validity meets the queried interval; with a scopeQ, the entity
    /// is answered only if a matching scope was valid within the interval, and with only the
    /// instances observed while one was (clause 5.7.4.4).
    pub fn finish(&self, mut entity: Entity) -> Option<Entity> {
        let scope = entity.attributes.swap_remove(SCOPE_IRI);
        for instances in entity.attributes.values_mut() {
            instances.sort_by_key(|a| self.time.instant(a));
            if let Some(n) = self.last_n {
                let skip = instances.len().saturating_sub(n);
                instances.drain(..skip);
            }
        }
        entity
            .attributes
            .retain(|_, instances| !instances.is_empty());
        if self.drops_empty() && entity.attributes.is_empty() {
            return None;
        }
        let scope_q = self.filter.as_ref().and_then(|f| f.scope_q.as_ref());
        let mut rest = self.filter.clone();
        if let Some(mut scope) = scope {
            scope.sort_by_key(|a| a.observed_at.or(a.created_at));
            let starts: Vec<_> = scope
                .iter()
                .map(|a| a.observed_at.or(a.created_at))
                .collect();
            let (from, to) = if self.time.timerel.is_some() {
                (self.time.from, self.time.to)
            } else {
                (None, None)
            };
            // Instance i is valid over [starts[i], starts[i + 1]).
            let validity = |i: usize| (starts[i], starts.get(i + 1).copied().flatten());
            let meets = |(start, end): (Option<chrono::DateTime<chrono::Utc>>, Option<_>)| {
                to.is_none_or(|to| start.is_none_or(|s| s < to))
                    && from.is_none_or(|from| end.is_none_or(|e| e > from))
            };
            if let Some(q) = scope_q {
                let valid: Vec<_> = (0..scope.len())
                    .filter(|&i| {
                        meets(validity(i)) && q.expr().matches_scopes(&scope_of(&scope[i]))
                    })
                    .map(validity)
                    .collect();
                if valid.is_empty() {
                    return None;
                }
                let during = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    valid.iter().any(|(start, end)| {
                        start.is_none_or(|s| t.is_some_and(|t| t >= s))
                            && end.is_none_or(|e| t.is_none_or(|t| t < e))
                    })
                };
                for instances in entity.attributes.values_mut() {
                    instances.retain(|a| during(self.time.instant(a)));
                }
                entity
                    .attributes
                    .retain(|_, instances| !instances.is_empty());
                if self.drops_empty() && entity.attributes.is_empty() {
                    return None;
                }
                // The scope was decided here, over its evolution, not on the latest scope.
                rest = rest.map(|f| {
                    Arc::new(EntityFilter {
                        scope_q: None,
                        ..(*f).clone()
                    })
                });
            }
            let shown: Vec<_> = (0..scope.len())
                .filter(|&i| meets(validity(i)))
                .map(|i| scope[i].clone())
                .collect();
            if !shown.is_empty() {
                entity.attributes.insert(SCOPE_IRI.to_owned(), shown);
            }
        }
        if rest.as_ref().is_some_and(|f| !f.matches(&entity)) {
            return None;
        }
        Some(entity)
    }

    /// True if [`Self::finish`] may leave an entity out: there is an entity filter, or an
    /// entity none of whose instances is selected is dropped. When false, every head passing
    /// [`Self::keeps_head`] is part of the answer, and a backend may page and count the heads
    /// alone.
    pub fn may_leave_out(&self) -> bool {
        self.filter.is_some() || self.drops_empty()
    }

    /// Whether an entity none of whose instances is selected is left out.
    fn drops_empty(&self) -> bool {
        let narrowed = self.attrs.is_some() || self.time.timerel.is_some();
        narrowed && !self.keep_empty
    }
}
