//! Rendering a temporal evolution (clauses 4.5.7-4.5.9, 4.5.19): normalized instances,
//! the simplified `temporalValues` pairs, or `aggregatedValues` per period.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::aggregate::{self, Aggregation};
use super::options::{TemporalFormat, TemporalOptions};
use super::query::TemporalQuery;
use crate::attribute::{Attribute, AttributeKind, AttributeValue};
use crate::context::ActiveContext;
use crate::datetime::format_datetime;
use crate::entity::Entity;
use crate::format::{render_attribute, Format, RenderOptions};
use crate::query::projection::{LangFilter, Projection};

/// At most this many aggregation periods per attribute (an hour over ten years is 87,600).
pub const MAX_PERIODS: usize = 100_000;

/// How to render a temporal evolution.
#[derive(Debug, Clone, Copy)]
pub struct TemporalRender<'a> {
    pub options: TemporalOptions,
    pub query: &'a TemporalQuery,
    pub aggregation: Option<&'a Aggregation>,
    pub lang: Option<&'a LangFilter>,
    pub projection: Option<&'a Projection>,
}

/// Renders an entity whose attributes hold the selected instances, in the order to show.
pub fn render_temporal_entity(
    entity: &Entity,
    ctx: &ActiveContext,
    r: &TemporalRender<'_>,
) -> Map<String, Value> {
    let keeps = |member: &str| r.projection.is_none_or(|p| p.keeps_member(member));
    let mut out = Map::new();
    if keeps("id") {
        out.insert("id".into(), json!(entity.id));
    }
    if keeps("type") {
        let types: Vec<Value> = entity
            .types
            .iter()
            .map(|t| json!(ctx.compact_iri(t)))
            .collect();
        out.insert(
            "type".into(),
            match types.as_slice() {
                [one] => one.clone(),
                _ => Value::Array(types),
            },
        );
    }
    // The scope's evolution, when there is one, is shown as its instances (below).
    let scope_evolution = entity.attributes.contains_key(super::SCOPE_IRI);
    if !entity.scope.is_empty() && keeps("scope") && !scope_evolution {
        out.insert(
            "scope".into(),
            match entity.scope.as_slice() {
                [one] => json!(one),
                many => json!(many),
            },
        );
    }
    if r.options.sys_attrs {
        for (member, t) in [
            ("createdAt", entity.created_at),
            ("modifiedAt", entity.modified_at),
            ("deletedAt", entity.deleted_at),
        ] {
            if let Some(t) = t {
                out.insert(member.into(), json!(format_datetime(&t)));
            }
        }
    }
    let range = r.aggregation.map(|_| time_range(entity, r.query));
    for (name, instances) in &entity.attributes {
        // An attribute with no instance is one that temporal pagination emptied (clause
        // 6.3.10): shown empty, so that the client sees it is part of the answer.
        let kept = if name == super::SCOPE_IRI {
            keeps("scope")
        } else {
            r.projection.is_none_or(|p| p.keeps_attribute(name))
        };
        if !kept {
            continue;
        }
        let rendered = match (r.options.format, r.aggregation, range.flatten()) {
            (TemporalFormat::AggregatedValues, Some(aggregation), Some((from, to))) => {
                aggregated(instances, r.query, aggregation, from, to)
            }
            (TemporalFormat::AggregatedValues, _, _) => continue,
            (TemporalFormat::TemporalValues, _, _) => simplified_groups(instances, ctx, r),
            (format, _, _) => {
                let opts = RenderOptions {
                    format: if format == TemporalFormat::Concise {
                        Format::Concise
                    } else {
                        Format::Normalized
                    },
                    sys_attrs: r.options.sys_attrs,
                    lang: r.lang,
                    projection: None,
                };
                Value::Array(
                    instances
                        .iter()
                        .map(|a| render_attribute(a, ctx, &opts))
                        .collect(),
                )
            }
        };
        let member = if name == super::SCOPE_IRI {
            "scope".to_owned()
        } else {
            ctx.compact_iri(name).into_owned()
        };
        out.insert(member, rendered);
    }
    out
}

/// The simplified representation of an attribute: one object per datasetId (clause 4.5.5),
/// in the order their first instances come, an array of them when there are several.
fn simplified_groups(
    instances: &[Attribute],
    ctx: &ActiveContext,
    r: &TemporalRender<'_>,
) -> Value {
    let mut groups: Vec<(Option<&str>, Vec<&Attribute>)> = Vec::new();
    for a in instances {
        let key = a.dataset_id.as_deref();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(a),
            None => groups.push((key, vec![a])),
        }
    }
    let mut rendered: Vec<Value> = groups
        .into_iter()
        .map(|(dataset_id, list)| simplified(dataset_id, &list, ctx, r))
        .collect();
    match rendered.len() {
        0 => json!({ "type": AttributeKind::Property.as_str(), "values": [] }),
        1 => rendered.remove(0),
        _ => Value::Array(rendered),
    }
}

/// The simplified representation of one attribute's instances of one datasetId (clause
/// 4.5.9): its type and one member of [value, time] pairs, the member and the value's form
/// set by the attribute's kind.
fn simplified(
    dataset_id: Option<&str>,
    instances: &[&Attribute],
    ctx: &ActiveContext,
    r: &TemporalRender<'_>,
) -> Value {
    let kind = instances
        .iter()
        .find(|a| !a.value.is_null())
        .unwrap_or(&instances[0])
        .kind();
    let member = match kind {
        AttributeKind::Property | AttributeKind::GeoProperty => "values",
        AttributeKind::Relationship => "objects",
        AttributeKind::LanguageProperty => "languageMaps",
        AttributeKind::ListProperty => "valueLists",
        AttributeKind::ListRelationship => "objectLists",
        AttributeKind::JsonProperty => "jsons",
        AttributeKind::VocabProperty => "vocabs",
    };
    let opts = RenderOptions {
        format: Format::KeyValues,
        sys_attrs: false,
        lang: r.lang,
        projection: None,
    };
    let pairs: Vec<Value> = instances
        .iter()
        .map(|a| {
            let value = render_attribute(a, ctx, &opts);
            // The simplified value of a LanguageProperty, JsonProperty or VocabProperty comes
            // with its member (4.5.4); one seen through `lang` is a string, wrapped here.
            let value = match (&a.value, kind, &value) {
                (AttributeValue::Null(_), _, _) => value,
                (_, AttributeKind::LanguageProperty, Value::String(_)) => {
                    json!({ "languageMap": value })
                }
                _ => value,
            };
            let time = r.query.instant(a).map(|t| format_datetime(&t));
            json!([value, time])
        })
        .collect();
    let mut out = Map::new();
    out.insert("type".into(), json!(kind.as_str()));
    if let Some(d) = dataset_id {
        out.insert("datasetId".into(), json!(d));
    }
    out.insert(member.into(), Value::Array(pairs));
    Value::Object(out)
}

/// The aggregated representation of one attribute (clause 4.5.19): per method, one
/// [value, start, end] per period that holds instances.
fn aggregated(
    instances: &[Attribute],
    query: &TemporalQuery,
    aggregation: &Aggregation,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Value {
    let mut values: Vec<(DateTime<Utc>, &Attribute)> = instances
        .iter()
        .filter(|a| !a.value.is_null())
        .filter_map(|a| Some((query.instant(a)?, a)))
        .collect();
    // One sweep over instances in time order, period after period: linear in both.
    values.sort_by_key(|(t, _)| *t);
    let kind = values
        .first()
        .map_or(AttributeKind::Property, |(_, a)| a.kind());
    let periods = aggregate::periods(from, to, &aggregation.period, MAX_PERIODS);
    let mut out = Map::new();
    out.insert("type".into(), json!(kind.as_str()));
    let mut rows: Vec<Vec<Value>> = vec![Vec::new(); aggregation.methods.len()];
    let mut next = values.partition_point(|(t, _)| *t < from);
    for (start, end) in &periods {
        while next < values.len() && values[next].0 < *start {
            next += 1;
        }
        let first = next;
        while next < values.len() && values[next].0 < *end {
            next += 1;
        }
        let inside: Vec<&Attribute> = values[first..next].iter().map(|(_, a)| *a).collect();
        if inside.is_empty() {
            continue;
        }
        for (method, rows) in aggregation.methods.iter().zip(rows.iter_mut()) {
            if !aggregate::applies_to(*method, &inside[0].value) {
                continue;
            }
            if let Some(value) = aggregate::apply(*method, &inside) {
                rows.push(json!([value, format_datetime(start), format_datetime(end)]));
            }
        }
    }
    for (method, rows) in aggregation.methods.iter().zip(rows) {
        out.insert(method.as_str().into(), Value::Array(rows));
    }
    Value::Object(out)
}

/// The time range the periods divide: the query's bounds, else from the earliest instance
/// of the entity to just after the latest (so that the latest falls inside a period).
fn time_range(entity: &Entity, query: &TemporalQuery) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let instants = entity
        .attributes
        .values()
        .flatten()
        .filter_map(|a| query.instant(a));
    let (mut first, mut last) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
    for t in instants {
        first = Some(first.map_or(t, |f| f.min(t)));
        last = Some(last.map_or(t, |l| l.max(t)));
    }
    let from = query.from.or(first)?;
    let to = query
        .to
        .or_else(|| last.map(|l| l + chrono::TimeDelta::milliseconds(1)))?;
    Some((from, to.max(from)))
}
