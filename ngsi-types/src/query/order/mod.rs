//! Entity ordering (clause 4.23): the `orderBy` language (4.23.3), the reference geometry of
//! ordering by distance (`orderFrom`/`orderGeometry`, or the `coordinates`/`geometry` of an
//! OrderingParams, 5.2.43), and the ICU `collation` strings are compared with (root,
//! "und-x-icu", by default, 4.23.1). Parsed once, then [`EntityOrder::sort`] sorts a result
//! set; which values come first when datatypes differ is the table of 4.23.2 ([`value`]).

mod value;

use std::cmp::Ordering;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use icu_locale_core::Locale;
use serde_json::{json, Value};

use crate::context::ActiveContext;
use crate::entity::Entity;
use crate::error::{NgsiError, Result};
use crate::geojson::Geometry;
use crate::query::q::{AttrPath, Condition, Expr, Query};

use value::{distance_key, SortValue};

/// What an ordering term sorts by: an entity member or an attribute path.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderTarget {
    Id,
    Type,
    Scope,
    CreatedAt,
    ModifiedAt,
    /// An attribute, sub-attribute or metadata path, with an optional trailing path into the
    /// value (`address[city]`), names expanded.
    Attribute(AttrPath),
}

/// The sorting style of an ordering term (4.23.3 `directionOp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
    DistAsc,
    DistDesc,
}

impl Direction {
    fn is_distance(self) -> bool {
        matches!(self, Self::DistAsc | Self::DistDesc)
    }
}

/// One element of `orderBy`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    pub target: OrderTarget,
    pub direction: Direction,
}

/// The raw ordering parameters of a request, from URI parameters or an OrderingParams.
#[derive(Debug, Default, Clone)]
pub struct OrderingParams {
    /// The `orderBy` elements.
    pub order_by: Vec<String>,
    /// Coordinates of the reference geometry, a JSON array.
    pub coordinates: Option<Value>,
    /// The reference geometry's type (`Point` by default).
    pub geometry: Option<String>,
    pub collation: Option<String>,
}

/// A parsed ordering, ready to sort entities.
pub struct EntityOrder {
    keys: Vec<OrderKey>,
    reference: Option<Geometry>,
    collator: CollatorBorrowed<'static>,
}

impl std::fmt::Debug for EntityOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityOrder")
            .field("keys", &self.keys)
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}

fn invalid(param: &str, reason: impl Into<String>) -> NgsiError {
    NgsiError::InvalidParameter {
        param: param.into(),
        reason: reason.into(),
    }
}

impl EntityOrder {
    /// Parses and checks the ordering, expanding attribute names with `ctx` (clause 5.7.2.4:
    /// distance ordering needs a reference geometry, a collation must be a valid ICU tag).
    pub fn parse(params: &OrderingParams, ctx: &ActiveContext) -> Result<Self> {
        if params.order_by.is_empty() {
            return Err(invalid("orderBy", "empty ordering"));
        }
        let keys = params
            .order_by
            .iter()
            .map(|term| parse_key(term, ctx))
            .collect::<Result<Vec<_>>>()?;
        let reference = match (&params.coordinates, &params.geometry) {
            (None, Some(_)) => {
                return Err(invalid(
                    "orderGeometry",
                    "a reference geometry needs its coordinates",
                ))
            }
            (None, None) => None,
            (Some(coordinates), geometry) => {
                let geometry = geometry.as_deref().unwrap_or("Point");
                if geometry == "GeometryCollection" {
                    return Err(invalid(
                        "orderGeometry",
                        "a GeometryCollection cannot be a reference geometry",
                    ));
                }
                Some(Geometry::from_geojson(
                    "orderFrom",
                    &json!({"type": geometry, "coordinates": coordinates}),
                )?)
            }
        };
        if reference.is_none() && keys.iter().any(|k| k.direction.is_distance()) {
            return Err(invalid(
                "orderFrom",
                "ordering by distance needs the coordinates of a reference geometry",
            ));
        }
        Ok(Self {
            keys,
            reference,
            collator: collator(params.collation.as_deref())?,
        })
    }

    /// The ordering terms.
    pub fn keys(&self) -> &[OrderKey] {
        &self.keys
    }

    /// Sorts `entities` by every key in turn (a stable sort: ties keep the store's order).
    pub fn sort(&self, entities: Vec<Entity>) -> Vec<Entity> {
        let mut keyed: Vec<(Vec<SortValue>, Entity)> = entities
            .into_iter()
            .map(|e| (self.keys.iter().map(|k| self.key_of(k, &e)).collect(), e))
            .collect();
        keyed.sort_by(|(a, _), (b, _)| self.compare(a, b));
        keyed.into_iter().map(|(_, e)| e).collect()
    }

    fn key_of(&self, key: &OrderKey, entity: &Entity) -> SortValue {
        match (&self.reference, key.direction.is_distance()) {
            (Some(reference), true) => distance_key(&key.target, entity, reference),
            _ => SortValue::of(&key.target, entity),
        }
    }

    fn compare(&self, a: &[SortValue], b: &[SortValue]) -> Ordering {
        for ((x, y), key) in a.iter().zip(b).zip(&self.keys) {
            let descending = matches!(key.direction, Direction::Desc | Direction::DistDesc);
            let order = x.compare(y, &self.collator, descending);
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

/// One `orderBy` element: `path` or `path;direction`.
fn parse_key(term: &str, ctx: &ActiveContext) -> Result<OrderKey> {
    let (path, direction) = match term.split_once(';') {
        None => (term, Direction::Asc),
        Some((path, style)) => (
            path,
            match style {
                "asc" => Direction::Asc,
                "desc" => Direction::Desc,
                "dist-asc" => Direction::DistAsc,
                "dist-desc" => Direction::DistDesc,
                other => {
                    return Err(invalid(
                        "orderBy",
                        format!("'{other}' is not asc, desc, dist-asc or dist-desc"),
                    ))
                }
            },
        ),
    };
    let target = match path {
        "id" => OrderTarget::Id,
        "type" => OrderTarget::Type,
        "scope" => OrderTarget::Scope,
        "createdAt" => OrderTarget::CreatedAt,
        "modifiedAt" => OrderTarget::ModifiedAt,
        // 4.23.3: an AttrName path as in q (clause 4.9), read by the q parser as a bare term.
        _ => {
            let query = Query::parse(path)
                .map_err(|e| invalid("orderBy", format!("'{path}' is not an attribute path: {e}")))?
                .expand(ctx);
            match query.expr() {
                Expr::Term(t) if t.condition == Condition::Exists => {
                    OrderTarget::Attribute(t.attribute.clone())
                }
                _ => {
                    return Err(invalid(
                        "orderBy",
                        format!("'{path}' is not an attribute path"),
                    ))
                }
            }
        }
    };
    Ok(OrderKey { target, direction })
}

/// The collator of an RFC 6067 tag; root when none is given.
fn collator(tag: Option<&str>) -> Result<CollatorBorrowed<'static>> {
    let locale = match tag {
        None => Locale::UNKNOWN,
        Some(tag) => tag
            .parse::<Locale>()
            .map_err(|_| invalid("collation", format!("'{tag}' is not an ICU collation tag")))?,
    };
    Collator::try_new((&locale).into(), CollatorOptions::default()).map_err(|e| {
        invalid(
            "collation",
            format!("'{}' cannot be honoured: {e}", tag.unwrap_or("und")),
        )
    })
}

#[cfg(test)]
mod tests;
