//! Evaluating an expanded query against an entity (GS CIM 009 clause 4.9, "semantics").
//!
//! A term finds its *target element* (the attribute, a sub-attribute or a metadata member such
//! as `observedAt`), then the *target values* inside it, and the condition holds when the values
//! meet it. Every instance of a multi-instance attribute (datasetId) is tried, and one matching
//! instance is enough. Arrays are sets: `==` holds when any element is equal, `!=` when none is.
//! A value of another data type never matches (and is unequal for `!=`): type mismatches are not
//! errors. Evaluation walks borrowed data only; nothing is allocated.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::ast::{Condition, Expr, Operand, Operator, QueryTerm, Value};
use super::parser::parse_time;
use crate::attribute::{Attribute, AttributeValue};
use crate::datetime::{parse_date, parse_datetime};
use crate::entity::Entity;

/// Metadata members a dotted path may end with (`temperature.observedAt`). They are members of
/// every attribute, not sub-attributes, and are never expanded.
pub const METADATA_MEMBERS: &[&str] = &[
    "observedAt",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "unitCode",
    "datasetId",
];

pub(crate) fn matches(expr: &Expr, entity: &Entity) -> bool {
    match expr {
        Expr::Term(term) => term_matches(term, entity),
        Expr::And(operands) => operands.iter().all(|e| matches(e, entity)),
        Expr::Or(operands) => operands.iter().any(|e| matches(e, entity)),
    }
}

/// The element a dotted path arrives at.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    Attribute(&'a Attribute),
    Time(DateTime<Utc>),
    Text(&'a str),
}

/// One value inside a target. Arrays are never scalars: their elements are.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    /// A JSON number, boolean, null or object.
    Json(&'a Json),
    /// A string value, a Relationship object or a URI member.
    Text(&'a str),
    /// An expanded IRI of a VocabProperty.
    Vocab(&'a str),
    Time(DateTime<Utc>),
}

fn term_matches(term: &QueryTerm, entity: &Entity) -> bool {
    // A term through a Relationship is decided on the entities it targets, which an entity
    // alone does not hold: the caller replaces it first (`Query::with_linked_targets`).
    if term.attribute.linked.is_some() {
        return false;
    }
    let names = &term.attribute.names;
    let Some(instances) = names.first().and_then(|n| entity.attributes.get(n)) else {
        return false;
    };
    instances
        .iter()
        .filter_map(|instance| resolve(instance, &names[1..]))
        .any(|target| condition_holds(term, target))
}

/// Follows the sub-attribute names of a dotted path; the last name may be a metadata member.
pub(crate) fn resolve<'a>(mut attr: &'a Attribute, rest: &[String]) -> Option<Target<'a>> {
    for (i, name) in rest.iter().enumerate() {
        if let Some(sub) = attr.sub_attributes.get(name) {
            attr = sub;
            continue;
        }
        if i + 1 != rest.len() {
            return None;
        }
        return match name.as_str() {
            "observedAt" => attr.observed_at.map(Target::Time),
            "createdAt" => attr.created_at.map(Target::Time),
            "modifiedAt" => attr.modified_at.map(Target::Time),
            "deletedAt" => attr.deleted_at.map(Target::Time),
            "unitCode" => attr.unit_code.as_deref().map(Target::Text),
            "datasetId" => attr.dataset_id.as_deref().map(Target::Text),
            _ => None,
        };
    }
    (!attr.value.is_null()).then_some(Target::Attribute(attr))
}

fn condition_holds(term: &QueryTerm, target: Target<'_>) -> bool {
    let members = &term.attribute.members[..];
    match &term.condition {
        Condition::Exists => exists(target, members),
        Condition::Compare { op, operand } => {
            let is_relationship = matches!(
                target,
                Target::Attribute(Attribute {
                    value: AttributeValue::Relationship { .. }
                        | AttributeValue::ListRelationship { .. },
                    ..
                })
            );
            let equal = |s: Scalar<'_>| equals(s, operand, &term.vocab_values);
            match op {
                Operator::Equal => any_scalar(target, members, &mut |s| equal(s)),
                Operator::Unequal => {
                    exists(target, members) && !any_scalar(target, members, &mut |s| equal(s))
                }
                // Clause 4.9: a Relationship with an operator other than == or != never matches.
                _ if is_relationship => false,
                _ => {
                    let Operand::Single(value) = operand else {
                        return false;
                    };
                    any_scalar(target, members, &mut |s| {
                        order(s, value).is_some_and(|o| ordered(*op, o))
                    })
                }
            }
        }
        Condition::Pattern { regex, negated } => {
            let mut saw_text = false;
            let found = any_scalar(target, members, &mut |s| match s {
                Scalar::Text(t) | Scalar::Vocab(t) => {
                    saw_text = true;
                    regex.is_match(t)
                }
                _ => false,
            });
            // Clause 4.9: a target value that is not a string matches neither ~= nor !~=.
            if *negated {
                saw_text && !found
            } else {
                found
            }
        }
    }
}

fn ordered(op: Operator, o: Ordering) -> bool {
    match op {
        Operator::Equal => o.is_eq(),
        Operator::Unequal => o.is_ne(),
        Operator::Greater => o.is_gt(),
        Operator::GreaterEq => o.is_ge(),
        Operator::Less => o.is_lt(),
        Operator::LessEq => o.is_le(),
    }
}

fn equals(s: Scalar<'_>, operand: &Operand, vocab_values: &[String]) -> bool {
    let one = |v: &Value| {
        if let (Scalar::Vocab(iri), Some(text)) = (s, v.as_text()) {
            return iri == text || vocab_values.iter().any(|e| e == iri);
        }
        order(s, v).is_some_and(Ordering::is_eq)
    };
    match operand {
        Operand::Single(v) => one(v),
        Operand::List(values) => values.iter().any(one),
        Operand::Range(lo, hi) => {
            order(s, lo).is_some_and(Ordering::is_ge) && order(s, hi).is_some_and(Ordering::is_le)
        }
    }
}

/// The target element exists, and so does the member a trailing path names.
fn exists(target: Target<'_>, members: &[String]) -> bool {
    let Target::Attribute(attr) = target else {
        return members.is_empty();
    };
    if members.is_empty() {
        return true;
    }
    match &attr.value {
        AttributeValue::Property(v) | AttributeValue::JsonProperty(v) => {
            member(v, members).is_some()
        }
        AttributeValue::ListProperty(items) => items.iter().any(|v| member(v, members).is_some()),
        AttributeValue::LanguageProperty(map) => match members {
            [lang] if lang == "*" => !map.is_empty(),
            [lang] => map.contains_key(lang),
            _ => false,
        },
        _ => false,
    }
}

/// Calls `f` on every target value until it returns true; returns whether it did.
fn any_scalar<'a>(
    target: Target<'a>,
    members: &[String],
    f: &mut dyn FnMut(Scalar<'a>) -> bool,
) -> bool {
    let attr = match target {
        Target::Time(t) => return members.is_empty() && f(Scalar::Time(t)),
        Target::Text(s) => return members.is_empty() && f(Scalar::Text(s)),
        Target::Attribute(attr) => attr,
    };
    match &attr.value {
        AttributeValue::Property(v) | AttributeValue::JsonProperty(v) => {
            member(v, members).is_some_and(|v| any_json(v, f))
        }
        AttributeValue::ListProperty(items) => items
            .iter()
            .filter_map(|v| member(v, members))
            .any(|v| any_json(v, f)),
        AttributeValue::LanguageProperty(map) => match members {
            [] => map.values().any(|v| any_json(v, f)),
            [lang] if lang == "*" => map.values().any(|v| any_json(v, f)),
            [lang] => map.get(lang).is_some_and(|v| any_json(v, f)),
            _ => false,
        },
        _ if !members.is_empty() => false,
        AttributeValue::Relationship { object, .. } => f(Scalar::Text(object)),
        AttributeValue::ListRelationship { objects, .. } => {
            objects.iter().any(|o| f(Scalar::Text(o)))
        }
        AttributeValue::VocabProperty { vocab, .. } => vocab.iter().any(|v| f(Scalar::Vocab(v))),
        AttributeValue::GeoProperty(_) | AttributeValue::Null(_) => false,
    }
}

/// Clause 4.9: the trailing path is a member expression in dot notation on the value; an
/// undefined member makes the target non-existent.
pub(crate) fn member<'a>(mut v: &'a Json, members: &[String]) -> Option<&'a Json> {
    for m in members {
        v = v.as_object()?.get(m)?;
    }
    Some(v)
}

fn any_json<'a>(v: &'a Json, f: &mut dyn FnMut(Scalar<'a>) -> bool) -> bool {
    match v {
        Json::Array(items) => items.iter().any(|item| any_json(item, f)),
        Json::String(s) => f(Scalar::Text(s)),
        // A JSON-LD value object (`{"@type": "DateTime", "@value": "..."}`) compares as its
        // value.
        Json::Object(obj) => match obj.get("@value") {
            Some(inner) => any_json(inner, f),
            None => f(Scalar::Json(v)),
        },
        _ => f(Scalar::Json(v)),
    }
}

/// How a target value compares to a query value; `None` when their data types differ.
fn order(s: Scalar<'_>, v: &Value) -> Option<Ordering> {
    match (s, v) {
        (Scalar::Json(Json::Number(n)), Value::Number(x)) => n.as_f64()?.partial_cmp(x),
        (Scalar::Json(Json::Bool(b)), Value::Bool(x)) => Some(b.cmp(x)),
        (Scalar::Text(t) | Scalar::Vocab(t), Value::Text(x) | Value::Uri(x)) => {
            // Clause 4.9: date-times written as strings compare in time order, not as text.
            if looks_like_datetime(t) && looks_like_datetime(x) {
                if let (Some(a), Some(b)) = (parse_datetime(t), parse_datetime(x)) {
                    return Some(a.cmp(&b));
                }
            }
            Some(t.cmp(x.as_str()))
        }
        (Scalar::Text(t), Value::DateTime(x)) => Some(parse_datetime(t)?.cmp(x)),
        (Scalar::Text(t), Value::Date(x)) => match parse_date(t) {
            Some(d) => Some(d.cmp(x)),
            None => Some(parse_datetime(t)?.date_naive().cmp(x)),
        },
        (Scalar::Text(t), Value::Time(x)) => Some(parse_time(t)?.cmp(x)),
        (Scalar::Time(t), Value::DateTime(x)) => Some(t.cmp(x)),
        (Scalar::Time(t), Value::Date(x)) => Some(t.date_naive().cmp(x)),
        (Scalar::Time(t), Value::Text(x)) => Some(t.cmp(&parse_datetime(x)?)),
        _ => None,
    }
}

/// A cheap test before trying to parse: `YYYY-MM-DDT...`.
fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 16 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T'
}
