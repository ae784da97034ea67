//! Temporal pagination (clause 6.3.10): when an answer would hold more attribute instances
//! than the broker sends at once, it keeps a time range of them and says which in a
//! `Content-Range` header: forwards from the least recent instance without `lastN`, backwards
//! from the most recent with it.

use chrono::{DateTime, Utc};

use super::query::{TemporalQuery, TimeRel};
use crate::datetime::format_datetime;
use crate::entity::Entity;

/// The range of a partial temporal answer (clause 6.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The `lastN` asked for; `None` is `*` (forwards).
    pub size: Option<usize>,
}

impl ContentRange {
    /// The header value: unit `DateTime`, `range-start-range-end/size`.
    pub fn header_value(&self) -> String {
        let size = self.size.map_or_else(|| "*".to_owned(), |n| n.to_string());
        format!(
            "DateTime {}-{}/{size}",
            format_datetime(&self.start),
            format_datetime(&self.end)
        )
    }

    /// The range covering both (several entities of one answer): the part every entity has
    /// complete.
    pub fn narrowest(self, other: Self) -> Self {
        if self.size.is_some() {
            // Backwards: complete from start down to the latest of the ends.
            Self {
                end: self.end.max(other.end),
                ..self
            }
        } else {
            Self {
                end: self.end.min(other.end),
                ..self
            }
        }
    }
}

/// Keeps at most `max` instances of `entity` (over all its attributes): the least recent ones,
/// or with `last_n` the most recent ones; attributes left with none stay, empty. Returns the
/// range kept, or `None` when everything fits.
pub fn paginate(
    entity: &mut Entity,
    query: &TemporalQuery,
    last_n: Option<usize>,
    max: usize,
) -> Option<ContentRange> {
    let total: usize = entity.attributes.values().map(Vec::len).sum();
    if total <= max {
        return None;
    }
    let mut times: Vec<Option<DateTime<Utc>>> = entity
        .attributes
        .values()
        .flatten()
        .map(|a| query.instant(a))
        .collect();
    times.sort();
    let backwards = last_n.is_some();
    // The instant of the last instance kept, and how many at exactly that instant may stay
    // (ties are kept in recording order).
    let (cut, mut ties) = if backwards {
        let cut = times[total - max];
        let after = times[total - max..].iter().filter(|t| **t == cut).count();
        (cut, after)
    } else {
        let cut = times[max - 1];
        let before = times[..max].iter().filter(|t| **t == cut).count();
        (cut, before)
    };
    let keep = |t: Option<DateTime<Utc>>, ties: &mut usize| {
        let inside = if backwards { t > cut } else { t < cut };
        if inside {
            true
        } else if t == cut && *ties > 0 {
            *ties -= 1;
            true
        } else {
            false
        }
    };
    for instances in entity.attributes.values_mut() {
        if backwards {
            // The ties nearest the range's end are the most recent recorded ones.
            let mut kept: Vec<_> = std::mem::take(instances)
                .into_iter()
                .rev()
                .filter(|a| keep(query.instant(a), &mut ties))
                .collect();
            kept.reverse();
            *instances = kept;
        } else {
            instances.retain(|a| keep(query.instant(a), &mut ties));
        }
    }
    let kept: Vec<DateTime<Utc>> = entity
        .attributes
        .values()
        .flatten()
        .filter_map(|a| query.instant(a))
        .collect();
    let least = kept.iter().min().copied()?;
    let most = kept.iter().max().copied()?;
    Some(if backwards {
        let start = match query.timerel {
            Some(TimeRel::Before | TimeRel::Between) => query.to.unwrap_or(most),
            _ => most,
        };
        ContentRange {
            start,
            end: least,
            size: last_n,
        }
    } else {
        let start = match query.timerel {
            Some(TimeRel::After | TimeRel::Between) => query.from.unwrap_or(least),
            _ => least,
        };
        ContentRange {
            start,
            end: most,
            size: None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::Attribute;
    use crate::datetime::parse_datetime;

    fn evolution() -> Entity {
        let mut e = Entity::new("urn:ngsi-ld:V:1", vec!["https://example.org/V".into()]);
        for (name, minutes) in [
            ("https://example.org/a", 0..5),
            ("https://example.org/b", 3..8),
        ] {
            let list = e.attributes.entry(name.to_owned()).or_default();
            for m in minutes {
                let mut a = Attribute::property(m);
                a.observed_at = Some(parse_datetime(&format!("2020-01-01T00:0{m}:00Z")).unwrap());
                list.push(a);
            }
        }
        e
    }

    fn values(e: &Entity, name: &str) -> Vec<serde_json::Value> {
        e.attributes[name]
            .iter()
            .map(|a| match &a.value {
                crate::attribute::AttributeValue::Property(v) => v.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn forwards_keeps_the_least_recent_and_backwards_the_most_recent() {
        let query =
            TemporalQuery::parse(Some("after"), Some("2019-01-01T00:00:00Z"), None, None).unwrap();
        let mut e = evolution();
        let range = paginate(&mut e, &query, None, 4).expect("partial");
        assert_eq!(values(&e, "https://example.org/a").len(), 4);
        assert!(values(&e, "https://example.org/b").is_empty());
        assert_eq!(
            range.header_value(),
            "DateTime 2019-01-01T00:00:00Z-2020-01-01T00:03:00Z/*"
        );

        let mut e = evolution();
        let range = paginate(&mut e, &query, Some(10), 3).expect("partial");
        assert!(values(&e, "https://example.org/a").is_empty());
        assert_eq!(values(&e, "https://example.org/b"), [5, 6, 7]);
        assert_eq!(
            range.header_value(),
            "DateTime 2020-01-01T00:07:00Z-2020-01-01T00:05:00Z/10"
        );

        let mut e = evolution();
        assert_eq!(paginate(&mut e, &query, None, 10), None);
    }

    #[test]
    fn ties_at_the_cut_fill_the_page_exactly() {
        let query = TemporalQuery::default();
        let mut e = evolution();
        // Instants 0,1,2,3,3,4,4,5,6,7: five kept are 0,1,2 and both at 3.
        paginate(&mut e, &query, None, 5).expect("partial");
        assert_eq!(values(&e, "https://example.org/a"), [0, 1, 2, 3]);
        assert_eq!(values(&e, "https://example.org/b"), [3]);
    }
}
