//! Aggregation of attribute instances over periods (clause 4.5.19): the methods, their
//! semantics per JSON type (Tables 4.5.19.1-1 to -3), and the periods of a time range.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::duration::IsoDuration;
use crate::attribute::{Attribute, AttributeValue};
use crate::datetime::parse_datetime;
use crate::error::{NgsiError, Result};

/// An aggregation method (clause 4.5.19.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    TotalCount,
    DistinctCount,
    Sum,
    Avg,
    Min,
    Max,
    Stddev,
    Sumsq,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::TotalCount,
        Method::DistinctCount,
        Method::Sum,
        Method::Avg,
        Method::Min,
        Method::Max,
        Method::Stddev,
        Method::Sumsq,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TotalCount => "totalCount",
            Self::DistinctCount => "distinctCount",
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Min => "min",
            Self::Max => "max",
            Self::Stddev => "stddev",
            Self::Sumsq => "sumsq",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| NgsiError::InvalidParameter {
                param: "aggrMethods".into(),
                reason: format!("'{s}' is not an aggregation method"),
            })
    }

    /// A comma-separated list (`aggrMethods`), without duplicates.
    pub fn parse_list(s: &str) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        for token in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let m = Self::parse(token)?;
            if !out.contains(&m) {
                out.push(m);
            }
        }
        if out.is_empty() {
            return Err(NgsiError::InvalidParameter {
                param: "aggrMethods".into(),
                reason: "no aggregation method given".into(),
            });
        }
        Ok(out)
    }
}

/// How the instances of a time range are aggregated: methods and period length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregation {
    pub methods: Vec<Method>,
    pub period: IsoDuration,
}

/// The periods `[start, end)` that divide `[from, to)`: one when the duration is zero, else
/// whole periods from `from` until one reaches `to` (the last is not cut short, so each
/// period spans the asked duration), at most `max`.
pub fn periods(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: &IsoDuration,
    max: usize,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    if duration.is_zero() || from >= to {
        return vec![(from, to)];
    }
    let mut out = Vec::new();
    let mut start = from;
    while start < to && out.len() < max {
        let end = duration.after(start).filter(|e| *e > start).unwrap_or(to);
        out.push((start, end));
        start = end;
    }
    out
}

/// One method applied to instances: the JSON value, or `None` where the method does not apply
/// to the values (N/A in the tables).
pub fn apply(method: Method, instances: &[&Attribute]) -> Option<Value> {
    match method {
        Method::TotalCount => return Some(json!(instances.len())),
        Method::DistinctCount => {
            let distinct: HashSet<String> = instances
                .iter()
                .map(|a| comparable(&a.value).to_string())
                .collect();
            return Some(json!(distinct.len()));
        }
        _ => {}
    }
    let values: Vec<Value> = instances.iter().map(|a| comparable(&a.value)).collect();
    if values.is_empty() {
        return None;
    }
    // Strings and date-times take min and max (lexicographic, or in time); date-times also
    // take avg (Table 4.5.19.1-2).
    if values.iter().all(Value::is_string) {
        let times: Option<Vec<DateTime<Utc>>> = values
            .iter()
            .map(|v| v.as_str().and_then(parse_datetime))
            .collect();
        return match (method, times) {
            (Method::Min, Some(t)) => t
                .iter()
                .min()
                .map(|t| json!(crate::datetime::format_datetime(t))),
            (Method::Max, Some(t)) => t
                .iter()
                .max()
                .map(|t| json!(crate::datetime::format_datetime(t))),
            (Method::Avg, Some(t)) => {
                let sum: i128 = t.iter().map(|t| i128::from(t.timestamp_micros())).sum();
                let avg = (sum / t.len() as i128) as i64;
                DateTime::from_timestamp_micros(avg)
                    .map(|t| json!(crate::datetime::format_datetime(&t)))
            }
            (Method::Min, None) => values
                .iter()
                .filter_map(Value::as_str)
                .min()
                .map(|s| json!(s)),
            (Method::Max, None) => values
                .iter()
                .filter_map(Value::as_str)
                .max()
                .map(|s| json!(s)),
            _ => None,
        };
    }
    // Numbers, booleans (true is 1) and arrays (their sizes).
    let numbers: Option<Vec<f64>> = values
        .iter()
        .map(|v| match v {
            Value::Number(n) => n.as_f64(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Array(items) => Some(items.len() as f64),
            _ => None,
        })
        .collect();
    let numbers = numbers?;
    let arrays = values.iter().all(Value::is_array);
    let n = numbers.len() as f64;
    let sum: f64 = numbers.iter().sum();
    // Results of numeric methods are JSON numbers with a fraction (80.0), whatever the
    // inputs were: an average or a sum is not an integer datum.
    let number = |x: f64| json!(x);
    Some(match method {
        Method::Sum => number(sum),
        Method::Avg => json!(sum / n),
        Method::Min => number(numbers.iter().copied().fold(f64::INFINITY, f64::min)),
        Method::Max => number(numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        Method::Stddev if !arrays => {
            let mean = sum / n;
            let var = numbers.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            json!(var.sqrt())
        }
        Method::Sumsq if !arrays => number(numbers.iter().map(|x| x * x).sum()),
        _ => return None,
    })
}

/// The value an instance contributes: a Property's value, a Relationship's target(s), a
/// LanguageProperty's map; a deletion contributes nothing comparable.
fn comparable(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::Property(v) | AttributeValue::JsonProperty(v) => v.clone(),
        AttributeValue::Relationship { object, .. } => json!(object),
        AttributeValue::ListRelationship { objects, .. } => json!(objects),
        AttributeValue::ListProperty(items) => Value::Array(items.clone()),
        AttributeValue::LanguageProperty(map) => json!(map),
        AttributeValue::VocabProperty { vocab, .. } => json!(vocab),
        AttributeValue::GeoProperty(g) => g.to_geojson(),
        AttributeValue::Null(_) => Value::Null,
    }
}

/// True if the method can apply to instances of this kind (Relationships take only counts).
pub fn applies_to(method: Method, value: &AttributeValue) -> bool {
    match value {
        AttributeValue::Relationship { .. } | AttributeValue::ListRelationship { .. } => {
            matches!(method, Method::TotalCount | Method::DistinctCount)
        }
        _ => true,
    }
}
