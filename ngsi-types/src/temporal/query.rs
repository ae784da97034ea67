//! The temporal query (clause 4.11): `timerel`, `timeAt`, `endTimeAt` and `timeproperty`.

use chrono::{DateTime, Utc};

use crate::attribute::Attribute;
use crate::datetime::parse_datetime_member;
use crate::error::{NgsiError, Result};

/// The temporal relation (clause 4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRel {
    Before,
    After,
    Between,
}

/// The Temporal Property a temporal query applies to (clause 4.8, 4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeProperty {
    #[default]
    ObservedAt,
    CreatedAt,
    ModifiedAt,
    DeletedAt,
}

impl TimeProperty {
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "observedAt" => Self::ObservedAt,
            "createdAt" => Self::CreatedAt,
            "modifiedAt" => Self::ModifiedAt,
            "deletedAt" => Self::DeletedAt,
            other => {
                return Err(NgsiError::InvalidParameter {
                    param: "timeproperty".into(),
                    reason: format!(
                        "'{other}' is none of observedAt, createdAt, modifiedAt, deletedAt"
                    ),
                })
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ObservedAt => "observedAt",
            Self::CreatedAt => "createdAt",
            Self::ModifiedAt => "modifiedAt",
            Self::DeletedAt => "deletedAt",
        }
    }

    /// The instant this property gives an instance, if it has one.
    pub fn of(self, attr: &Attribute) -> Option<DateTime<Utc>> {
        match self {
            Self::ObservedAt => attr.observed_at,
            Self::CreatedAt => attr.created_at,
            Self::ModifiedAt => attr.modified_at,
            Self::DeletedAt => attr.deleted_at,
        }
    }
}

/// A temporal query: the instances whose `property` lies in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TemporalQuery {
    pub timerel: Option<TimeRel>,
    pub property: TimeProperty,
    /// Inclusive lower bound (`after`, and `between`'s timeAt).
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound (`before`, and `between`'s endTimeAt).
    pub to: Option<DateTime<Utc>>,
}

impl TemporalQuery {
    /// From the raw parameters (or the members of a TemporalQuery object, clause 5.2.21).
    /// With no `timerel`, every instance matches (Retrieve Temporal Evolution, 5.7.3.3, makes
    /// the temporal query optional); a `timerel` needs `timeAt`, and `between` `endTimeAt`
    /// after it.
    pub fn parse(
        timerel: Option<&str>,
        time_at: Option<&str>,
        end_time_at: Option<&str>,
        timeproperty: Option<&str>,
    ) -> Result<Self> {
        let property = timeproperty
            .map(TimeProperty::parse)
            .transpose()?
            .unwrap_or_default();
        let invalid = |reason: &str| NgsiError::InvalidParameter {
            param: "timerel".into(),
            reason: reason.into(),
        };
        let time = |name: &str, value: Option<&str>| -> Result<Option<DateTime<Utc>>> {
            value.map(|v| parse_datetime_member(name, v)).transpose()
        };
        let at = time("timeAt", time_at)?;
        let end = time("endTimeAt", end_time_at)?;
        let Some(rel) = timerel else {
            if at.is_some() || end.is_some() {
                return Err(invalid("timeAt and endTimeAt need a timerel"));
            }
            return Ok(Self {
                property,
                ..Self::default()
            });
        };
        let rel = match rel {
            "before" => TimeRel::Before,
            "after" => TimeRel::After,
            "between" => TimeRel::Between,
            other => {
                return Err(invalid(&format!(
                    "'{other}' is none of before, after, between"
                )))
            }
        };
        let at = at.ok_or_else(|| invalid("a timerel needs timeAt"))?;
        let (from, to) = match rel {
            TimeRel::Before => (None, Some(at)),
            TimeRel::After => (Some(at), None),
            TimeRel::Between => {
                let end = end.ok_or_else(|| invalid("timerel=between needs endTimeAt"))?;
                if end <= at {
                    return Err(invalid("endTimeAt must be after timeAt"));
                }
                (Some(at), Some(end))
            }
        };
        Ok(Self {
            timerel: Some(rel),
            property,
            from,
            to,
        })
    }

    /// True if the instance's time property lies in the interval. An instance without the
    /// property matches only a query without timerel (clause 4.11: not conveying the target
    /// Temporal Property is not matching).
    pub fn matches(&self, attr: &Attribute) -> bool {
        if self.timerel.is_none() {
            return true;
        }
        let Some(t) = self.property.of(attr) else {
            return false;
        };
        self.from.is_none_or(|from| t >= from) && self.to.is_none_or(|to| t < to)
    }

    /// The instant that orders instances for `lastN` and the rendering: the queried property,
    /// or when an instance lacks it, its creation.
    pub fn instant(&self, attr: &Attribute) -> Option<DateTime<Utc>> {
        self.property.of(attr).or(attr.created_at)
    }
}
