//! The named scenarios, and the one request each of them sends per iteration.
//!
//! A scenario is a pure description: given the run's [`Workload`] and a random draw it says
//! which request to send and which statuses count as success. How requests are paced, timed and
//! counted is `run`'s business; `notify` has a life of its own (`notify::scenario`).

use std::fmt;
use std::str::FromStr;

use reqwest::Method;
use serde_json::Value;

use crate::workload::{self, Workload, CITY, TEMPORAL_DAYS, TEMPORAL_START};

/// `maxDistance` of `geo-query`, metres: a few hundred entities per 20 000 in the city box.
pub const GEO_RADIUS_M: u32 = 1000;
/// `limit` of the queries.
pub const QUERY_LIMIT: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// POST /entities, a new entity each time.
    Create,
    /// GET /entities/{id} of a preloaded entity.
    GetById,
    /// PATCH /entities/{id}/attrs of a preloaded entity.
    Patch,
    /// GET /entities?type=..&q=totalSpotNumber>K, K drawn from 200..240: from nearly all to a
    /// fifth of the entities match; the first 20 are returned.
    Query,
    /// GET /entities?type=..&q=availableSpotNumber==K: one entity in a thousand matches.
    QuerySelective,
    /// GET /entities?type=..&georel=near;maxDistance==1000 around a random point of the city.
    GeoQuery,
    /// GET /entities?type=..&georel=within a square polygon of the same area as `geo-query`'s
    /// circle, around a random point of the city.
    GeoWithin,
    /// POST /entityOperations/upsert of 100 preloaded entities.
    BatchUpsert,
    /// PATCH writes fanned out to subscriptions with the tool's own receiver.
    Notify,
    /// GET /temporal/entities/{id}?attrs=speed&lastN=100 of a preloaded evolution.
    TemporalLastN,
    /// An hourly avg and max of one attribute of a preloaded evolution over its 30 days.
    TemporalAggregate,
    /// GET /temporal/entities?type=..&timerel=between one day (drawn from the 30), 100
    /// evolutions.
    TemporalBetween,
}

impl Scenario {
    pub const ALL: [Scenario; 12] = [
        Scenario::Create,
        Scenario::GetById,
        Scenario::Patch,
        Scenario::Query,
        Scenario::QuerySelective,
        Scenario::GeoQuery,
        Scenario::GeoWithin,
        Scenario::BatchUpsert,
        Scenario::Notify,
        Scenario::TemporalLastN,
        Scenario::TemporalAggregate,
        Scenario::TemporalBetween,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Create => "create",
            Scenario::GetById => "get-by-id",
            Scenario::Patch => "patch",
            Scenario::Query => "query",
            Scenario::QuerySelective => "query-selective",
            Scenario::GeoQuery => "geo-query",
            Scenario::GeoWithin => "geo-within",
            Scenario::BatchUpsert => "batch-upsert",
            Scenario::Notify => "notify",
            Scenario::TemporalLastN => "temporal-last-n",
            Scenario::TemporalAggregate => "temporal-aggregate",
            Scenario::TemporalBetween => "temporal-between",
        }
    }

    /// Whether it reads or writes the preloaded entities.
    pub fn needs_preload(self) -> bool {
        !matches!(self, Scenario::Create | Scenario::Notify) && !self.is_temporal()
    }

    /// Whether it reads the preloaded temporal evolutions.
    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            Scenario::TemporalLastN | Scenario::TemporalAggregate | Scenario::TemporalBetween
        )
    }

    /// The request of one iteration; `draw` is a fresh random number, `n` a run-wide counter.
    /// `None` for `notify`, which drives its own requests.
    pub fn request(self, w: &Workload, draw: u64, n: u64) -> Option<Request> {
        let i = draw % w.entities;
        let entities = "/ngsi-ld/v1/entities";
        let request = match self {
            Scenario::Create => Request::new(Method::POST, entities.into())
                .body(w.created(n))
                .expect(&[201]),
            Scenario::GetById => {
                Request::new(Method::GET, format!("{entities}/{}", w.entity_id(i))).expect(&[200])
            }
            Scenario::Patch => Request::new(
                Method::PATCH,
                format!("{entities}/{}/attrs", w.entity_id(i)),
            )
            .body(workload::occupancy_patch(draw % 1000))
            .expect(&[204]),
            Scenario::Query => Request::new(
                Method::GET,
                format!(
                    "{entities}?type={}&q=totalSpotNumber%3E{}&limit={QUERY_LIMIT}",
                    w.entity_type(),
                    200 + draw % 40
                ),
            )
            .expect(&[200]),
            Scenario::QuerySelective => Request::new(
                Method::GET,
                format!(
                    "{entities}?type={}&q=availableSpotNumber%3D%3D{}&limit={QUERY_LIMIT}",
                    w.entity_type(),
                    draw % 1000
                ),
            )
            .expect(&[200]),
            Scenario::GeoQuery => {
                // Any point of the box, not an entity's: the circle may hold none, or hundreds.
                let [lon, lat] = CITY.point(draw % 1_000_003 + 7);
                Request::new(
                    Method::GET,
                    format!(
                        "{entities}?type={}&georel=near%3BmaxDistance%3D%3D{GEO_RADIUS_M}\
                         &geometry=Point&coordinates=%5B{lon},{lat}%5D&limit={QUERY_LIMIT}",
                        w.entity_type(),
                    ),
                )
                .expect(&[200])
            }
            Scenario::GeoWithin => {
                let [lon, lat] = CITY.point(draw % 1_000_003 + 7);
                // Half sides of about 886 m: the square's area is the circle's, pi km².
                let (dlon, dlat) = (0.010_43, 0.007_96);
                let corners = [
                    (-1.0, -1.0),
                    (1.0, -1.0),
                    (1.0, 1.0),
                    (-1.0, 1.0),
                    (-1.0, -1.0),
                ];
                let ring: Vec<String> = corners
                    .iter()
                    .map(|(x, y)| format!("%5B{:.5},{:.5}%5D", lon + x * dlon, lat + y * dlat))
                    .collect();
                Request::new(
                    Method::GET,
                    format!(
                        "{entities}?type={}&georel=within&geometry=Polygon\
                         &coordinates=%5B%5B{}%5D%5D&limit={QUERY_LIMIT}",
                        w.entity_type(),
                        ring.join(","),
                    ),
                )
                .expect(&[200])
            }
            Scenario::BatchUpsert => {
                Request::new(Method::POST, "/ngsi-ld/v1/entityOperations/upsert".into())
                    .body(w.batch(n % w.batches()))
                    // 201 when some were created, 204 when all were there (clause 6.15.3.1).
                    .expect(&[201, 204])
            }
            Scenario::Notify => return None,
            Scenario::TemporalLastN => Request::new(
                Method::GET,
                format!(
                    "/ngsi-ld/v1/temporal/entities/{}?attrs=speed&lastN=100",
                    w.temporal_id(i)
                ),
            )
            .expect(&[200]),
            Scenario::TemporalAggregate => Request::new(
                Method::GET,
                format!(
                    "/ngsi-ld/v1/temporal/entities/{}?attrs=speed&options=aggregatedValues\
                     &aggrMethods=avg,max&aggrPeriodDuration=PT1H&timerel=between\
                     &timeAt={TEMPORAL_START}&endTimeAt={}",
                    w.temporal_id(i),
                    day(TEMPORAL_DAYS)
                ),
            )
            .expect(&[200]),
            Scenario::TemporalBetween => {
                let d = draw % TEMPORAL_DAYS;
                Request::new(
                    Method::GET,
                    format!(
                        "/ngsi-ld/v1/temporal/entities?type={}&timerel=between&timeAt={}\
                         &endTimeAt={}&limit=100",
                        w.temporal_type(),
                        day(d),
                        day(d + 1)
                    ),
                )
                .expect(&[200, 206])
            }
        };
        Some(request)
    }
}

/// The instant `d` days after [`TEMPORAL_START`].
fn day(d: u64) -> String {
    let t0 = chrono::DateTime::parse_from_rfc3339(TEMPORAL_START)
        .expect("a valid start")
        .with_timezone(&chrono::Utc);
    (t0 + chrono::TimeDelta::days(d as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            // The names of earlier versions of the tool.
            "get" => return Ok(Scenario::GetById),
            "geo" => return Ok(Scenario::GeoQuery),
            "upsert" => return Ok(Scenario::BatchUpsert),
            _ => {}
        }
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Scenario::ALL.iter().map(|sc| sc.name()).collect();
                format!("unknown scenario '{s}' (one of {})", names.join(", "))
            })
    }
}

/// One HTTP request of a scenario.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// Path and query, from `/ngsi-ld/v1`.
    pub path: String,
    pub body: Option<Value>,
    /// Statuses that count as success.
    pub ok: &'static [u16],
}

impl Request {
    fn new(method: Method, path: String) -> Self {
        Request {
            method,
            path,
            body: None,
            ok: &[],
        }
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn expect(mut self, ok: &'static [u16]) -> Self {
        self.ok = ok;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_old_names_are_aliases() {
        for sc in Scenario::ALL {
            assert_eq!(sc.name().parse::<Scenario>(), Ok(sc));
        }
        assert_eq!("get".parse::<Scenario>(), Ok(Scenario::GetById));
        assert!("nope".parse::<Scenario>().is_err());
    }

    #[test]
    fn requests_address_this_runs_entities_only() {
        let w = Workload::new("r1", "oxion", 1000);
        for sc in Scenario::ALL.into_iter().filter(|s| *s != Scenario::Notify) {
            let r = sc.request(&w, 123_456_789, 5).expect("a request");
            assert!(!r.ok.is_empty(), "{sc}");
            let text = format!(
                "{} {}",
                r.path,
                r.body.map(|b| b.to_string()).unwrap_or_default()
            );
            assert!(text.contains(&w.key), "{sc}: {text}");
        }
    }

    #[test]
    fn geo_query_is_a_near_query_inside_the_city() {
        let w = Workload::new("r1", "oxion", 1000);
        let r = Scenario::GeoQuery.request(&w, 42, 0).expect("a request");
        assert!(
            r.path.contains("georel=near%3BmaxDistance%3D%3D1000"),
            "{}",
            r.path
        );
        assert!(
            r.path.contains("geometry=Point&coordinates=%5B-3."),
            "{}",
            r.path
        );
    }

    #[test]
    fn geo_within_sends_a_closed_ring() {
        let w = Workload::new("r1", "oxion", 1000);
        let r = Scenario::GeoWithin.request(&w, 42, 0).expect("a request");
        let coords = r.path.split("coordinates=").nth(1).expect("coordinates");
        let coords = coords
            .split('&')
            .next()
            .expect("coordinates")
            .replace("%5B", "[")
            .replace("%5D", "]");
        let ring: Vec<Vec<Vec<f64>>> = serde_json::from_str(&coords).expect("a polygon");
        assert_eq!(ring[0].len(), 5);
        assert_eq!(ring[0][0], ring[0][4]);
        assert!(
            r.path.contains("georel=within&geometry=Polygon"),
            "{}",
            r.path
        );
    }

    #[test]
    fn batch_upsert_sends_a_hundred_entities() {
        let w = Workload::new("r1", "oxion", 20_000);
        let r = Scenario::BatchUpsert.request(&w, 0, 7).expect("a request");
        let batch = r.body.expect("a body");
        assert_eq!(batch.as_array().map(Vec::len), Some(100));
        assert_eq!(batch[0]["id"], w.entity_id(700));
    }
}
