//! The data of the load scenarios: ~1 KB parking entities that look like Smart Data Models
//! ones, with values spread so queries select predictable subsets, placed over a city-sized box
//! so geo-queries have something to find.
//!
//! Everything a run writes is named after its [`Workload::key`] (the run name and the broker's
//! label): entity ids, and entity *types*, so a query by type sees this run's entities and no
//! other, however full the broker already is. Two brokers compared in one run, or the same
//! broker measured twice, never share data.

use serde_json::{json, Value};

/// The box the entities are spread over: about 17 km × 17 km around central Madrid.
pub const CITY: GeoBox = GeoBox {
    west: -3.80,
    south: 40.34,
    east: -3.60,
    north: 40.49,
};

/// Entities per batch of `batch-upsert` and of the preload.
pub const BATCH: u64 = 100;

/// A longitude/latitude box, degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

impl GeoBox {
    /// The `i`-th of a low-discrepancy sequence of points in the box (R2 sequence): any prefix
    /// of it covers the box evenly, so 1 000 entities or 1 000 000 fill the same city.
    pub fn point(&self, i: u64) -> [f64; 2] {
        // The plastic number's inverses (Roberts 2018).
        const A1: f64 = 0.754_877_666_246_692_7;
        const A2: f64 = 0.569_840_290_998_053_3;
        let u = (0.5 + A1 * i as f64).fract();
        let v = (0.5 + A2 * i as f64).fract();
        let round = |x: f64| (x * 1e6).round() / 1e6;
        [
            round(self.west + u * (self.east - self.west)),
            round(self.south + v * (self.north - self.south)),
        ]
    }
}

/// The names and bodies of one run against one broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Run name + broker label, letters and digits only: it goes into types and ids.
    pub key: String,
    /// Entities preloaded, that `get-by-id`, `patch`, `query`, `geo-query` and `batch-upsert`
    /// address; as many temporal evolutions for the `temporal-*` scenarios.
    pub entities: u64,
    /// Instances per attribute of each temporal evolution (3 attributes each), spread evenly
    /// over the [`TEMPORAL_DAYS`] days from [`TEMPORAL_START`].
    pub instances: u64,
}

/// The first instant of the preloaded temporal evolutions.
pub const TEMPORAL_START: &str = "2024-01-01T00:00:00Z";
/// The days the preloaded temporal evolutions span.
pub const TEMPORAL_DAYS: u64 = 30;
/// Instances per attribute in one preload request.
pub const TEMPORAL_CHUNK: u64 = 250;
/// The attributes of a temporal evolution.
pub const TEMPORAL_ATTRS: [&str; 3] = ["speed", "temperature", "occupancy"];

impl Workload {
    pub fn new(run: &str, label: &str, entities: u64) -> Self {
        let key: String = format!("{run}{label}")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        Workload {
            key,
            entities: entities.max(1),
            instances: 1000,
        }
    }

    /// The same workload with `instances` per attribute of each temporal evolution.
    pub fn with_instances(mut self, instances: u64) -> Self {
        self.instances = instances.max(1);
        self
    }

    /// Type of the temporal evolutions.
    pub fn temporal_type(&self) -> String {
        format!("BenchSensor{}", self.key)
    }

    /// Id of the `i`-th temporal evolution.
    pub fn temporal_id(&self, i: u64) -> String {
        format!("urn:ngsi-ld:BenchSensor:{}:{i}", self.key)
    }

    /// Requests that preload one temporal evolution.
    pub fn temporal_chunks(&self) -> u64 {
        self.instances.div_ceil(TEMPORAL_CHUNK)
    }

    /// Seconds between two instances of one attribute.
    pub fn temporal_step_s(&self) -> u64 {
        (TEMPORAL_DAYS * 86_400 / self.instances).max(1)
    }

    /// Chunk `c` of temporal evolution `i`: instances `c * TEMPORAL_CHUNK..` of every
    /// attribute, as POST /temporal/entities takes them.
    pub fn temporal_chunk(&self, i: u64, c: u64) -> Value {
        let start = c * TEMPORAL_CHUNK;
        let end = (start + TEMPORAL_CHUNK).min(self.instances);
        let step = self.temporal_step_s();
        let t0 = chrono::DateTime::parse_from_rfc3339(TEMPORAL_START)
            .expect("a valid start")
            .with_timezone(&chrono::Utc);
        let mut body = serde_json::Map::new();
        body.insert("id".into(), json!(self.temporal_id(i)));
        body.insert("type".into(), json!(self.temporal_type()));
        for (a, name) in TEMPORAL_ATTRS.iter().enumerate() {
            let instances: Vec<Value> = (start..end)
                .map(|j| {
                    let t = t0 + chrono::TimeDelta::seconds((j * step) as i64);
                    json!({
                        "type": "Property",
                        "value": ((i + j * (a as u64 + 1)) % 100) as f64 / 2.0,
                        "observedAt": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    })
                })
                .collect();
            body.insert((*name).into(), Value::Array(instances));
        }
        Value::Object(body)
    }

    /// Type of the preloaded entities.
    pub fn entity_type(&self) -> String {
        format!("BenchParking{}", self.key)
    }

    /// Type of the entities that `create` adds, kept apart so the queries' subset stays fixed.
    pub fn created_type(&self) -> String {
        format!("BenchNewParking{}", self.key)
    }

    /// Id of the `i`-th preloaded entity.
    pub fn entity_id(&self, i: u64) -> String {
        format!("urn:ngsi-ld:BenchParking:{}:{i}", self.key)
    }

    /// Id of the `n`-th entity created by `create`.
    pub fn created_id(&self, n: u64) -> String {
        format!("urn:ngsi-ld:BenchParking:{}:new-{n}", self.key)
    }

    /// The `i`-th preloaded entity.
    pub fn entity(&self, i: u64) -> Value {
        entity(&self.entity_id(i), &self.entity_type(), i)
    }

    /// The `n`-th created entity.
    pub fn created(&self, n: u64) -> Value {
        entity(&self.created_id(n), &self.created_type(), n)
    }

    /// Batch `b` of the preloaded entities (the last one may be short).
    pub fn batch(&self, b: u64) -> Value {
        let start = (b * BATCH) % self.entities;
        let end = (start + BATCH).min(self.entities);
        Value::Array((start..end).map(|i| self.entity(i)).collect())
    }

    /// Batches that cover the preloaded entities.
    pub fn batches(&self) -> u64 {
        self.entities.div_ceil(BATCH)
    }
}

/// A ~1 KB normalized entity. `availableSpotNumber` is `i % 1000`, so `q=availableSpotNumber==K`
/// selects one entity in a thousand; `totalSpotNumber` is `200 + i % 50`.
pub fn entity(id: &str, entity_type: &str, i: u64) -> Value {
    json!({
        "id": id,
        "type": entity_type,
        "name": {"type": "Property", "value": format!("Car park number {i}")},
        "description": {"type": "Property", "value": "Underground public car park with electric vehicle chargers"},
        "address": {"type": "Property", "value": {"streetAddress": format!("Calle Mayor {i}"), "addressLocality": "Madrid", "postalCode": "28013"}},
        "availableSpotNumber": {
            "type": "Property", "value": i % 1000, "observedAt": "2024-05-01T12:00:04Z",
            "reliability": {"type": "Property", "value": 0.9},
            "providedBy": {"type": "Relationship", "object": format!("urn:ngsi-ld:Camera:{}", i % 97)}
        },
        "totalSpotNumber": {"type": "Property", "value": 200 + i % 50},
        "maximumAllowedHeight": {"type": "Property", "value": 2.1, "unitCode": "MTR"},
        "category": {"type": "Property", "value": ["underground", "public", "feeCharged"]},
        "openingHours": {"type": "Property", "value": "Mo-Su 00:00-24:00"},
        "refDevice": {"type": "Relationship", "object": format!("urn:ngsi-ld:Device:{i}")},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": CITY.point(i)}}
    })
}

/// The body of a PATCH /attrs that changes the occupancy.
pub fn occupancy_patch(value: u64) -> Value {
    json!({"availableSpotNumber": {"type": "Property", "value": value, "observedAt": "2024-05-01T12:05:00Z"}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_entities_are_about_one_kilobyte_and_valid() {
        let w = Workload::new("r1", "oxion", 20_000);
        let e = w.entity(12345);
        let size = e.to_string().len();
        assert!((900..1400).contains(&size), "{size} bytes");
        let ctx = ngsi_types::context::ActiveContext::core();
        ngsi_types::format::parse_entity(e.clone(), &ctx).expect("valid NGSI-LD");
        ngsi_types::format::parse_entity(w.created(3), &ctx).expect("valid NGSI-LD");
    }

    #[test]
    fn runs_and_brokers_do_not_share_types_or_ids() {
        let a = Workload::new("r-1", "oxion", 10);
        let b = Workload::new("r-1", "orion-ld", 10);
        assert_eq!(a.key, "r1oxion");
        assert_ne!(a.entity_type(), b.entity_type());
        assert_ne!(a.entity_id(0), b.entity_id(0));
        assert_ne!(a.entity_type(), a.created_type());
        assert_ne!(a.entity_id(0), a.created_id(0));
    }

    #[test]
    fn entities_cover_the_city_box_evenly() {
        let mut quadrants = [0u32; 4];
        for i in 0..4000 {
            let [lon, lat] = CITY.point(i);
            assert!((CITY.west..=CITY.east).contains(&lon), "{lon}");
            assert!((CITY.south..=CITY.north).contains(&lat), "{lat}");
            let east = lon > (CITY.west + CITY.east) / 2.0;
            let north = lat > (CITY.south + CITY.north) / 2.0;
            quadrants[usize::from(east) * 2 + usize::from(north)] += 1;
        }
        assert!(
            quadrants.iter().all(|&q| (900..1100).contains(&q)),
            "{quadrants:?}"
        );
    }

    #[test]
    fn batches_wrap_around_the_preloaded_entities() {
        let w = Workload::new("r", "x", 250);
        assert_eq!(w.batches(), 3);
        assert_eq!(w.batch(0).as_array().map(Vec::len), Some(100));
        assert_eq!(w.batch(2).as_array().map(Vec::len), Some(50));
        assert_eq!(w.batch(3)[0]["id"], w.entity_id(50));
    }
}
