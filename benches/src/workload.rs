//! The entities and requests of the load scenarios: ~1 KB parking entities that look like
//! Smart Data Models ones, with values spread so queries select predictable subsets.

use serde_json::{json, Value};

/// Entity type of every benchmark entity.
pub const ENTITY_TYPE: &str = "BenchParking";

/// Id of the `i`-th preloaded entity of a run.
pub fn entity_id(run: &str, i: u64) -> String {
    format!("urn:ngsi-ld:BenchParking:{run}:{i}")
}

/// A ~1 KB normalized entity. `availableSpotNumber` is `i % 1000`, so `q=availableSpotNumber==K`
/// selects one entity in a thousand.
pub fn entity(id: &str, i: u64) -> Value {
    let lon = -3.80 + (i % 1000) as f64 * 0.0002;
    let lat = 40.35 + (i / 1000 % 1000) as f64 * 0.0002;
    json!({
        "id": id,
        "type": ENTITY_TYPE,
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
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}
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
        let e = entity(&entity_id("r", 12345), 12345);
        let size = e.to_string().len();
        assert!((900..1400).contains(&size), "{size} bytes");
        let ctx = ngsi_types::context::ActiveContext::core();
        ngsi_types::format::parse_entity(e.clone(), &ctx).expect("valid NGSI-LD");
    }
}
