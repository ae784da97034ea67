//! Linked Entity retrieval (clause 4.5.23): the entities that the Relationships of a response
//! target, found level by level up to `joinLevel`, and their two representations, inline (each
//! Linked Entity in an `entity` or `entityList` member of the Relationship that targets it) and
//! flattened (appended to the array of entities).
//!
//! Finding them needs the store, which this crate does not touch, so a [`LinkedEntities`] is
//! driven from outside: it says which ids the next level wants ([`LinkedEntities::wanted`]), the
//! caller fetches those it holds and hands them back ([`LinkedEntities::add_level`]). Every
//! entity is shown once, where it was first encountered, breadth first (clause 5.7.1.5:
//! "unless a URI has been previously encountered"): the responding entities and the
//! `containedBy` ids count as encountered, which ends loops.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::feature::feature_of;
use super::render::{render_entity, RenderOptions};
use super::Format;
use crate::attribute::AttributeValue;
use crate::context::ActiveContext;
use crate::entity::Entity;
use crate::query::projection::Projection;

/// The representation of Linked Entities (`join`, clause 4.5.23).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Join {
    /// Clause 4.5.23.2: inside the Relationships that target them.
    Inline,
    /// Clause 4.5.23.3: after the responding entities, in one array.
    Flat,
}

impl Join {
    /// The `join` parameter: `inline`, `flat`, or `@none` (no Linked Entity retrieval).
    pub fn parse(s: &str) -> Option<Option<Self>> {
        match s {
            "inline" => Some(Some(Self::Inline)),
            "flat" => Some(Some(Self::Flat)),
            "@none" => Some(None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inline => "inline",
            Self::Flat => "flat",
        }
    }
}

/// What a request asks of Linked Entity retrieval: `join`, `joinLevel` and `containedBy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRetrieval {
    pub join: Join,
    /// How many Relationships deep to follow (1: the targets of the responding entities).
    pub level: usize,
    /// Ids encountered before (by the client following the graph), never retrieved again.
    pub contained_by: Vec<String>,
}

/// An entity a Relationship of the response targets, found at some level of the retrieval.
#[derive(Debug)]
struct Linked {
    entity: Entity,
    /// Where it was first encountered: the entity and the (expanded) Relationship that target it.
    parent: String,
    relationship: String,
    projection: Projection,
}

/// A target id the next level looks for.
#[derive(Debug)]
struct Wanted {
    id: String,
    parent: String,
    relationship: String,
    projection: Projection,
}

/// The Linked Entities of one response, as they are found.
#[derive(Debug, Default)]
pub struct LinkedEntities {
    encountered: HashSet<String>,
    wanted: Vec<Wanted>,
    found: Vec<Linked>,
    by_id: HashMap<String, usize>,
}

impl LinkedEntities {
    /// Starts from the responding entities, rendered with `projection`; `contained_by` holds
    /// the ids encountered before this request (the `containedBy` parameter).
    pub fn new<'e>(
        roots: impl IntoIterator<Item = &'e Entity>,
        projection: &Projection,
        contained_by: &[String],
    ) -> Self {
        let mut linked = Self {
            encountered: contained_by.iter().cloned().collect(),
            ..Self::default()
        };
        let roots: Vec<&Entity> = roots.into_iter().collect();
        linked
            .encountered
            .extend(roots.iter().map(|e| e.id.clone()));
        for root in roots {
            want_targets_of(
                &mut linked.encountered,
                &mut linked.wanted,
                root,
                projection,
            );
        }
        linked
    }

    /// The ids the next level looks for, in the order encountered; empty when the retrieval
    /// has nowhere left to go.
    pub fn wanted(&self) -> Vec<String> {
        self.wanted.iter().map(|w| w.id.clone()).collect()
    }

    /// How many Linked Entities were found.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// Takes the entities of the wanted ids that exist (in any order; others are ignored) and
    /// makes their Relationships the next level's wants.
    pub fn add_level(&mut self, fetched: Vec<Entity>) {
        let mut fetched: HashMap<String, Entity> =
            fetched.into_iter().map(|e| (e.id.clone(), e)).collect();
        let start = self.found.len();
        for wanted in std::mem::take(&mut self.wanted) {
            if let Some(entity) = fetched.remove(&wanted.id) {
                self.by_id.insert(wanted.id, self.found.len());
                self.found.push(Linked {
                    entity,
                    parent: wanted.parent,
                    relationship: wanted.relationship,
                    projection: wanted.projection,
                });
            }
        }
        for linked in &self.found[start..] {
            want_targets_of(
                &mut self.encountered,
                &mut self.wanted,
                &linked.entity,
                &linked.projection,
            );
        }
    }

    /// The flattened representation (clause 4.5.23.3): the responding entities, then every
    /// Linked Entity, each with its own projection.
    pub fn render_flat(
        &self,
        roots: &[Entity],
        ctx: &ActiveContext,
        opts: &RenderOptions<'_>,
    ) -> Vec<Map<String, Value>> {
        let mut out: Vec<Map<String, Value>> =
            roots.iter().map(|e| render_entity(e, ctx, opts)).collect();
        out.extend(self.found.iter().map(|linked| {
            let opts = RenderOptions {
                projection: Some(&linked.projection),
                ..*opts
            };
            render_entity(&linked.entity, ctx, &opts)
        }));
        out
    }

    /// The flattened representation as GeoJSON Features.
    pub fn render_flat_features(
        &self,
        roots: &[Entity],
        ctx: &ActiveContext,
        opts: &RenderOptions<'_>,
        geometry_property: &str,
    ) -> Vec<Value> {
        let linked = self.found.iter().map(|l| (&l.entity, &l.projection));
        let root_projection = opts.projection.cloned().unwrap_or_default();
        roots
            .iter()
            .map(|e| (e, &root_projection))
            .chain(linked)
            .map(|(entity, projection)| {
                let opts = RenderOptions {
                    projection: Some(projection),
                    ..*opts
                };
                let properties = render_entity(entity, ctx, &opts);
                feature_of(entity, properties, geometry_property)
            })
            .collect()
    }

    /// The inline representation (clause 4.5.23.2) of one responding entity.
    pub fn render_inline(
        &self,
        root: &Entity,
        ctx: &ActiveContext,
        opts: &RenderOptions<'_>,
    ) -> Map<String, Value> {
        let projection = opts.projection.cloned().unwrap_or_default();
        self.inline(root, &projection, ctx, opts)
    }

    /// The inline representation of a responding entity as a GeoJSON Feature.
    pub fn render_inline_feature(
        &self,
        root: &Entity,
        ctx: &ActiveContext,
        opts: &RenderOptions<'_>,
        geometry_property: &str,
    ) -> Value {
        feature_of(root, self.render_inline(root, ctx, opts), geometry_property)
    }

    fn inline(
        &self,
        entity: &Entity,
        projection: &Projection,
        ctx: &ActiveContext,
        opts: &RenderOptions<'_>,
    ) -> Map<String, Value> {
        let here = RenderOptions {
            projection: Some(projection),
            ..*opts
        };
        let mut out = render_entity(entity, ctx, &here);
        self.embed_linked(&mut out, entity, projection, ctx, opts);
        out
    }

    /// Adds the Linked Entities of `entity` to `out`, its rendering (with the projection of
    /// `opts`) made elsewhere: a notification's, which carries more than the entity (clause
    /// 5.8.6).
    pub fn embed_into(
        &self,
        out: &mut Map<String, Value>,
        entity: &Entity,
        ctx: &ActiveContext,
        opts: &RenderOptions<'_>,
    ) {
        let projection = opts.projection.cloned().unwrap_or_default();
        self.embed_linked(out, entity, &projection, ctx, opts);
    }

    /// The Linked Entities alone, flattened (the responding entities rendered elsewhere).
    pub fn render_linked(
        &self,
        ctx: &ActiveContext,
        opts: &RenderOptions<'_>,
    ) -> Vec<Map<String, Value>> {
        self.render_flat(&[], ctx, opts)
    }

    fn embed_linked(
        &self,
        out: &mut Map<String, Value>,
        entity: &Entity,
        projection: &Projection,
        ctx: &ActiveContext,
        opts: &RenderOptions<'_>,
    ) {
        for (name, instances) in &entity.attributes {
            if !projection.keeps_attribute(name) {
                continue;
            }
            // The Linked Entities first encountered through this Relationship of this entity.
            let child = |id: &str| {
                let linked = &self.found[*self.by_id.get(id)?];
                (linked.parent == entity.id && linked.relationship == *name).then(|| {
                    Value::Object(self.inline(&linked.entity, &linked.projection, ctx, opts))
                })
            };
            let Some(slot) = out.get_mut(ctx.compact_iri(name).as_ref()) else {
                continue;
            };
            match (opts.format, slot) {
                // In keyValues a Relationship is its target: the Linked Entity takes its place.
                (Format::KeyValues, slot) if instances.len() == 1 => {
                    if let Some(value) = inline_key_values(&instances[0].value, &child) {
                        *slot = value;
                    }
                }
                (Format::KeyValues, _) => {}
                (_, Value::Object(object)) => {
                    if let Some(instance) = instances.first() {
                        embed(object, &instance.value, &child);
                    }
                }
                (_, Value::Array(objects)) => {
                    for (object, instance) in objects.iter_mut().zip(instances) {
                        if let Value::Object(object) = object {
                            embed(object, &instance.value, &child);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Records the targets of the Relationships of `entity` that `projection` keeps, those not
/// encountered yet.
fn want_targets_of(
    encountered: &mut HashSet<String>,
    wanted: &mut Vec<Wanted>,
    entity: &Entity,
    projection: &Projection,
) {
    for (name, instances) in &entity.attributes {
        if !projection.keeps_attribute(name) {
            continue;
        }
        for instance in instances {
            for id in targets(&instance.value) {
                if encountered.insert(id.to_owned()) {
                    wanted.push(Wanted {
                        id: id.to_owned(),
                        parent: entity.id.clone(),
                        relationship: name.clone(),
                        projection: projection.of_linked(name),
                    });
                }
            }
        }
    }
}

/// The ids a Relationship or ListRelationship targets; none for other attributes.
fn targets(value: &AttributeValue) -> Vec<&str> {
    match value {
        AttributeValue::Relationship { object, .. } => vec![object.as_str()],
        AttributeValue::ListRelationship { objects, .. } => {
            objects.iter().map(String::as_str).collect()
        }
        _ => Vec::new(),
    }
}

/// Adds `entity` (a Relationship) or `entityList` (a ListRelationship) to a rendered
/// attribute, when one of its targets is a Linked Entity shown here (annex C.2.2).
fn embed(
    object: &mut Map<String, Value>,
    value: &AttributeValue,
    child: &dyn Fn(&str) -> Option<Value>,
) {
    let children: Vec<Value> = targets(value).into_iter().filter_map(child).collect();
    if children.is_empty() {
        return;
    }
    match value {
        AttributeValue::ListRelationship { .. } => {
            object.insert("entityList".into(), Value::Array(children));
        }
        _ => {
            let entity = match <[Value; 1]>::try_from(children) {
                Ok([one]) => one,
                Err(many) => Value::Array(many),
            };
            object.insert("entity".into(), entity);
        }
    }
}

/// A Relationship in keyValues with its Linked Entities in place of the target ids (annex
/// C.2.2, simplified representation); a target not shown stays an id.
fn inline_key_values(
    value: &AttributeValue,
    child: &dyn Fn(&str) -> Option<Value>,
) -> Option<Value> {
    let ids = targets(value);
    let shown: Vec<Value> = ids
        .iter()
        .map(|id| child(id).unwrap_or_else(|| Value::String((*id).to_owned())))
        .collect();
    if shown.iter().all(Value::is_string) {
        return None;
    }
    match value {
        AttributeValue::ListRelationship { .. } => Some(Value::Array(shown)),
        _ => Some(match <[Value; 1]>::try_from(shown) {
            Ok([one]) => one,
            Err(many) => Value::Array(many),
        }),
    }
}

#[cfg(test)]
mod tests;
