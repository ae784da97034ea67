//! Evaluating geo-queries: the relations of clause 4.10 on `geo` geometries, and the search
//! envelope a spatial index pre-filters with.
//!
//! Geometries are GeoJSON's: longitude/latitude with straight edges between positions
//! (RFC 7946 3.1.1), so the topological relations (`within`, `contains`, `intersects`,
//! `disjoint`, `equals`, `overlaps`) are computed in that plane with the DE-9IM matrix of
//! `geo::Relate`, with OGC Simple Features meanings: `within` needs the entity geometry to have
//! at least one interior point inside the reference geometry and none outside (an entity on the
//! boundary only is not within), `equals` is topological equality (same point set, whatever
//! the vertex order), `overlaps` needs geometries of the same dimension that share part of
//! their interiors and neither contains the other.
//!
//! `near` distances are geodesic metres on the WGS84 ellipsoid (`geo::Geodesic`, Karney's
//! algorithm). For a point entity this is exact. For other geometries the distance is to the
//! entity's closest point, which is found in a local equirectangular projection centred on the
//! reference point (longitudes scaled by the cosine of its latitude) and then measured
//! geodesically. The point found always lies on the entity's geometry, so the distance is never
//! under-estimated: at worst, for entities hundreds of kilometres away or near the poles, an
//! entity a little inside `maxDistance` is reported a little outside it. An entity whose
//! geometry contains or touches the reference point is at distance 0.

use geo::{
    Closest, ClosestPoint, Coord, CoordsIter, Distance, Geodesic, Intersects, MapCoords, Point,
    Rect, Relate,
};

use super::{GeoQuery, GeoRel, NearDistance};
use crate::attribute::AttributeValue;
use crate::entity::Entity;
use crate::geojson::Geometry;

/// Smallest radius of curvature of the WGS84 ellipsoid (the meridian radius at the equator is
/// 6 335 439 m), rounded down: no geodesic of length `d` spans more than `d / R` radians of
/// latitude, which makes the `near` envelope conservative.
const MIN_EARTH_RADIUS_M: f64 = 6_335_000.0;

impl GeoQuery {
    /// True if an entity geometry stands in this query's relation to the reference geometry.
    pub fn matches(&self, entity_geometry: &Geometry) -> bool {
        let entity = entity_geometry.as_geo();
        let reference = self.geometry.as_geo();
        if let GeoRel::Near(bound) = self.georel {
            let distance = distance_between(reference, entity);
            return match bound {
                NearDistance::Max(max) => distance <= max,
                NearDistance::Min(min) => distance >= min,
            };
        }
        // Disjoint bounding rectangles settle every relation but `disjoint` cheaply.
        if !entity_geometry
            .bounding_rect()
            .intersects(&self.geometry.bounding_rect())
        {
            return self.georel == GeoRel::Disjoint;
        }
        if self.georel == GeoRel::Equals && entity == reference {
            return true;
        }
        let matrix = entity.relate(reference);
        match self.georel {
            GeoRel::Within => matrix.is_within(),
            GeoRel::Contains => matrix.is_contains(),
            GeoRel::Intersects => matrix.is_intersects(),
            GeoRel::Disjoint => matrix.is_disjoint(),
            // Identical geometries are equal even where the matrix cannot tell (a ring that
            // crosses itself is not a valid polygon).
            GeoRel::Equals => matrix.is_equal_topo(),
            GeoRel::Overlaps => matrix.is_overlaps(),
            GeoRel::Near(_) => false,
        }
    }

    /// True if any instance (any datasetId) of the entity's `geoproperty` GeoProperty matches.
    /// An entity without that GeoProperty never matches, not even `disjoint` or `minDistance`:
    /// a geo-query selects entities by where they are, and it is not known where this one is.
    /// `geoproperty` must have been expanded ([`GeoQuery::expand`]).
    pub fn matches_entity(&self, entity: &Entity) -> bool {
        entity
            .attributes
            .get(&self.geoproperty)
            .is_some_and(|instances| {
                instances.iter().any(|attr| match &attr.value {
                    AttributeValue::GeoProperty(g) => self.matches(g),
                    _ => false,
                })
            })
    }

    /// A longitude/latitude rectangle that intersects the bounding rectangle of every geometry
    /// this query matches, for pre-filtering with a spatial index; `None` when no rectangle
    /// smaller than the world does (`disjoint`, `near;minDistance`).
    ///
    /// For `near;maxDistance` it is the reference point widened by the distance: in latitude by
    /// `d / R` with `R` the smallest radius of curvature of WGS84, in longitude by the spherical
    /// cap's half-width at that latitude (widened further for safety). When the circle reaches a
    /// pole or crosses the antimeridian the rectangle spans all longitudes, since a `Rect` does
    /// not wrap.
    pub fn search_envelope(&self) -> Option<Rect<f64>> {
        match self.georel {
            GeoRel::Disjoint | GeoRel::Near(NearDistance::Min(_)) => None,
            GeoRel::Near(NearDistance::Max(distance)) => match self.geometry.as_geo() {
                geo::Geometry::Point(centre) => Some(near_envelope(*centre, distance)),
                // The buffer of an extended geometry lies within its bounding rectangle
                // widened at each corner (the widest longitude span is at the corner nearest
                // a pole, which is a corner).
                _ => {
                    let rect = self.geometry.bounding_rect();
                    let (lo, hi) = (rect.min(), rect.max());
                    [(lo.x, lo.y), (lo.x, hi.y), (hi.x, lo.y), (hi.x, hi.y)]
                        .into_iter()
                        .map(|(x, y)| near_envelope(Point::new(x, y), distance))
                        .reduce(|a, b| {
                            Rect::new(
                                Coord {
                                    x: a.min().x.min(b.min().x),
                                    y: a.min().y.min(b.min().y),
                                },
                                Coord {
                                    x: a.max().x.max(b.max().x),
                                    y: a.max().y.max(b.max().y),
                                },
                            )
                        })
                }
            },
            GeoRel::Within
            | GeoRel::Contains
            | GeoRel::Intersects
            | GeoRel::Equals
            | GeoRel::Overlaps => Some(self.geometry.bounding_rect()),
        }
    }
}

fn near_envelope(centre: Point<f64>, distance: f64) -> Rect<f64> {
    let world = Rect::new(
        Coord {
            x: -180.0,
            y: -90.0,
        },
        Coord { x: 180.0, y: 90.0 },
    );
    // Angular radius, with a relative margin for rounding and the geodetic/geocentric latitude
    // difference the spherical formulas ignore.
    let radius = (distance / MIN_EARTH_RADIUS_M) * 1.01 + 1e-9;
    if radius >= std::f64::consts::PI {
        return world;
    }
    let radius_deg = radius.to_degrees();
    let (x, y) = (centre.x(), centre.y());
    let south = (y - radius_deg).max(-90.0);
    let north = (y + radius_deg).min(90.0);
    let (west, east) = if north >= 90.0 || south <= -90.0 {
        (-180.0, 180.0)
    } else {
        // Half-width of a spherical cap centred at latitude y; evaluated 0.2 degrees
        // poleward of it (wider) to cover the ellipsoid's flattening.
        let lat = (y.abs() + 0.2).min(89.999).to_radians();
        let ratio = radius.sin() / lat.cos();
        if ratio >= 1.0 {
            (-180.0, 180.0)
        } else {
            let half_width = ratio.asin().to_degrees();
            if x - half_width < -180.0 || x + half_width > 180.0 {
                (-180.0, 180.0)
            } else {
                (x - half_width, x + half_width)
            }
        }
    };
    Rect::new(Coord { x: west, y: south }, Coord { x: east, y: north })
}

/// Geodesic distance in metres from a point to a geometry: to its closest point, 0 when the
/// geometry contains or touches the point (see the module documentation for how the closest
/// point of a line or polygon is found).
pub fn geodesic_distance(from: Point<f64>, to: &geo::Geometry<f64>) -> f64 {
    match to {
        geo::Geometry::Point(p) => Geodesic.distance(from, *p),
        geo::Geometry::MultiPoint(points) => points
            .iter()
            .map(|p| Geodesic.distance(from, *p))
            .fold(f64::INFINITY, f64::min),
        geo::Geometry::GeometryCollection(members) => members
            .iter()
            .map(|g| geodesic_distance(from, g))
            .fold(f64::INFINITY, f64::min),
        other if other.intersects(&from) => 0.0,
        other => Geodesic.distance(from, closest_point(from, other)),
    }
}

/// Geodesic metres between the closest points of two geometries (clause 4.10: `near` measures
/// from the reference geometry, whatever it is). Two that intersect are at 0. Otherwise the
/// closest pair has a vertex of one of them as one end (two segments that do not cross are
/// closest at an endpoint of one), so it is the least distance from a vertex of either to the
/// other geometry.
pub fn distance_between(reference: &geo::Geometry<f64>, entity: &geo::Geometry<f64>) -> f64 {
    match (reference, entity) {
        (geo::Geometry::Point(p), other) | (other, geo::Geometry::Point(p)) => {
            geodesic_distance(*p, other)
        }
        (a, b) if a.intersects(b) => 0.0,
        (a, b) => {
            let from = |x: &geo::Geometry<f64>, to: &geo::Geometry<f64>| {
                x.coords_iter()
                    .map(|c| geodesic_distance(Point::from(c), to))
                    .fold(f64::INFINITY, f64::min)
            };
            from(a, b).min(from(b, a))
        }
    }
}

/// The point of `geometry` closest to `from` in an equirectangular projection centred on
/// `from`: longitude differences are taken the short way round and scaled by cos(latitude).
fn closest_point(from: Point<f64>, geometry: &geo::Geometry<f64>) -> Point<f64> {
    let scale = from.y().to_radians().cos().max(1e-9);
    let project = |c: Coord<f64>| Coord {
        x: wrap(c.x - from.x()) * scale,
        y: c.y - from.y(),
    };
    let projected = geometry.map_coords(project);
    let origin = Point::new(0.0, 0.0);
    let found = match projected.closest_point(&origin) {
        Closest::Intersection(p) | Closest::SinglePoint(p) => p,
        // Several equally close points (or none found): any vertex still lies on the geometry.
        Closest::Indeterminate => projected.coords_iter().next().map_or(origin, Point::from),
    };
    Point::new(wrap(from.x() + found.x() / scale), from.y() + found.y())
}

/// A longitude difference or value brought into [-180, 180].
fn wrap(lon: f64) -> f64 {
    if (-180.0..=180.0).contains(&lon) {
        lon
    } else {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    }
}
