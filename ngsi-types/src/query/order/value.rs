//! The value an entity is sorted by, ranked across datatypes as clause 4.23.2 lists them:
//! numbers, strings, objects, arrays, booleans, times, dates, date-times, null, and last an
//! attribute that does not exist. Ordering by distance puts GeoProperties first, nearest (or
//! farthest) first, then the rest by value.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use icu_collator::CollatorBorrowed;
use serde_json::Value;

use super::OrderTarget;
use crate::attribute::{Attribute, AttributeValue};
use crate::datetime::{parse_date, parse_datetime};
use crate::entity::Entity;
use crate::geojson::Geometry;
use crate::query::geo::geodesic_distance;
use crate::query::q::eval::{member, resolve, Target};

/// A sort key of one entity for one ordering term.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SortValue {
    /// Distance in metres from the reference geometry (distance ordering only).
    Distance(f64),
    Number(f64),
    Text(String),
    /// Objects and arrays compare by their JSON text: 4.23.2 ranks them, no more.
    Object(String),
    Array(String),
    Boolean(bool),
    Time(NaiveTime),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Null,
    Absent,
}

impl SortValue {
    /// The rank of the datatype (4.23.2; distance before every value).
    fn rank(&self) -> u8 {
        match self {
            Self::Distance(_) => 0,
            Self::Number(_) => 1,
            Self::Text(_) => 2,
            Self::Object(_) => 3,
            Self::Array(_) => 4,
            Self::Boolean(_) => 5,
            Self::Time(_) => 6,
            Self::Date(_) => 7,
            Self::DateTime(_) => 8,
            Self::Null => 9,
            Self::Absent => 10,
        }
    }

    /// Compares two keys of one term. `descending` reverses values of one datatype; the
    /// datatype ranks stay, so null and absent values come last either way.
    pub(super) fn compare(
        &self,
        other: &Self,
        collator: &CollatorBorrowed<'_>,
        descending: bool,
    ) -> Ordering {
        let by_rank = self.rank().cmp(&other.rank());
        if by_rank != Ordering::Equal {
            return by_rank;
        }
        let order = match (self, other) {
            (Self::Distance(a), Self::Distance(b)) | (Self::Number(a), Self::Number(b)) => {
                a.total_cmp(b)
            }
            (Self::Text(a), Self::Text(b)) => collator.compare(a, b),
            (Self::Object(a), Self::Object(b)) | (Self::Array(a), Self::Array(b)) => a.cmp(b),
            (Self::Boolean(a), Self::Boolean(b)) => a.cmp(b),
            (Self::Time(a), Self::Time(b)) => a.cmp(b),
            (Self::Date(a), Self::Date(b)) => a.cmp(b),
            (Self::DateTime(a), Self::DateTime(b)) => a.cmp(b),
            _ => Ordering::Equal,
        };
        if descending {
            order.reverse()
        } else {
            order
        }
    }

    /// The value of `target` in `entity`.
    pub(super) fn of(target: &OrderTarget, entity: &Entity) -> Self {
        let time = |t: Option<DateTime<Utc>>| t.map_or(Self::Absent, Self::DateTime);
        match target {
            OrderTarget::Id => Self::Text(entity.id.clone()),
            OrderTarget::Type => entity
                .types
                .first()
                .map_or(Self::Absent, |t| Self::Text(t.clone())),
            OrderTarget::Scope => entity
                .scope
                .first()
                .map_or(Self::Absent, |s| Self::Text(s.clone())),
            OrderTarget::CreatedAt => time(entity.created_at),
            OrderTarget::ModifiedAt => time(entity.modified_at),
            OrderTarget::Attribute(path) => {
                let Some(attr) = instance(entity, &path.names[0]) else {
                    return Self::Absent;
                };
                match resolve(attr, &path.names[1..]) {
                    None => Self::Absent,
                    Some(Target::Time(t)) => Self::DateTime(t),
                    Some(Target::Text(t)) => Self::Text(t.to_owned()),
                    Some(Target::Attribute(a)) => of_attribute(&a.value, &path.members),
                }
            }
        }
    }
}

/// The default instance of an attribute, or its first (clause 4.5.5).
fn instance<'a>(entity: &'a Entity, name: &str) -> Option<&'a Attribute> {
    let instances = entity.attributes.get(name)?;
    instances
        .iter()
        .find(|a| a.dataset_id.is_none())
        .or_else(|| instances.first())
}

fn of_attribute(value: &AttributeValue, members: &[String]) -> SortValue {
    match value {
        AttributeValue::Property(v) | AttributeValue::JsonProperty(v) => {
            member(v, members).map_or(SortValue::Absent, of_json)
        }
        _ if !members.is_empty() => SortValue::Absent,
        AttributeValue::Relationship { object, .. } => SortValue::Text(object.clone()),
        AttributeValue::LanguageProperty(map) => map
            .get("@none")
            .or_else(|| map.values().next())
            .map_or(SortValue::Absent, of_json),
        AttributeValue::VocabProperty { vocab, .. } => vocab
            .first()
            .map_or(SortValue::Absent, |v| SortValue::Text(v.clone())),
        AttributeValue::ListProperty(items) => {
            SortValue::Array(Value::from(items.clone()).to_string())
        }
        AttributeValue::ListRelationship { objects, .. } => {
            SortValue::Array(Value::from(objects.clone()).to_string())
        }
        AttributeValue::GeoProperty(g) => SortValue::Object(g.to_geojson().to_string()),
        AttributeValue::Null(_) => SortValue::Null,
    }
}

fn of_json(v: &Value) -> SortValue {
    match v {
        Value::Number(n) => n.as_f64().map_or(SortValue::Null, SortValue::Number),
        Value::String(s) => SortValue::Text(s.clone()),
        Value::Bool(b) => SortValue::Boolean(*b),
        Value::Null => SortValue::Null,
        Value::Array(_) => SortValue::Array(v.to_string()),
        // A JSON-LD value object: a typed Time, Date or DateTime ranks as its type.
        Value::Object(o) => {
            let typed = o.get("@type").and_then(Value::as_str);
            let text = o.get("@value").and_then(Value::as_str);
            match (typed, text) {
                (Some("DateTime"), Some(t)) => {
                    parse_datetime(t).map_or(SortValue::Text(t.to_owned()), SortValue::DateTime)
                }
                (Some("Date"), Some(t)) => {
                    parse_date(t).map_or(SortValue::Text(t.to_owned()), SortValue::Date)
                }
                (Some("Time"), Some(t)) => NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
                    .map_or(SortValue::Text(t.to_owned()), SortValue::Time),
                _ => SortValue::Object(v.to_string()),
            }
        }
    }
}

/// The distance key of a term: a GeoProperty's distance from `reference` (to its nearest
/// vertex when the reference is not a point), else the value (4.23.2, distance ordering).
pub(super) fn distance_key(
    target: &OrderTarget,
    entity: &Entity,
    reference: &Geometry,
) -> SortValue {
    if let OrderTarget::Attribute(path) = target {
        if path.names.len() == 1 && path.members.is_empty() {
            if let Some(Attribute {
                value: AttributeValue::GeoProperty(g),
                ..
            }) = instance(entity, &path.names[0])
            {
                return SortValue::Distance(distance(reference, g));
            }
        }
    }
    SortValue::of(target, entity)
}

fn distance(reference: &Geometry, to: &Geometry) -> f64 {
    use geo::CoordsIter;
    match reference.as_geo() {
        geo::Geometry::Point(p) => geodesic_distance(*p, to.as_geo()),
        other => other
            .coords_iter()
            .map(|c| geodesic_distance(geo::Point::from(c), to.as_geo()))
            .fold(f64::INFINITY, f64::min),
    }
}
