//! Transient entities (GS CIM 009 v1.8 clause 4.23, `expiresAt`): an entity whose expiry
//! instant has passed is gone, one with a later instant stays.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{entity_fixture, entity_path, urn, Client};
use serde_json::json;

/// `now + ahead` as an NGSI-LD DateTime (UTC, milliseconds).
pub(super) fn instant_from_now(ahead: Duration) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + ahead;
    let (secs, millis) = (t.as_secs() as i64, t.subsec_millis());
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub(crate) async fn an_entity_is_removed_once_its_expiry_has_passed() {
    let client = Client::shared();
    let (soon, later) = (urn("Vehicle"), urn("Vehicle"));
    let mut entity = entity_fixture("vehicle.json", &soon);
    entity["expiresAt"] = json!(instant_from_now(Duration::from_millis(1500)));
    client.create(&entity).await;
    let mut kept = entity_fixture("vehicle.json", &later);
    kept["expiresAt"] = json!(instant_from_now(Duration::from_secs(3600)));
    client.create(&kept).await;

    let got = client.get(&entity_path(&soon)).await;
    got.assert_status(200);
    // GS CIM 009 6.3.11: expiresAt is a system temporal attribute, shown with sysAttrs.
    assert!(got.json.get("expiresAt").is_none(), "{}", got.text);
    let sys = client
        .get(&format!("{}?options=sysAttrs", entity_path(&soon)))
        .await;
    assert_eq!(sys.json["expiresAt"], entity["expiresAt"]);

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = client.get(&entity_path(&soon)).await;
        if reply.status.as_u16() == 404 {
            reply.assert_error(404, "ResourceNotFound");
            break;
        }
        assert!(Instant::now() < deadline, "still there: {}", reply.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.get(&entity_path(&later)).await.assert_status(200);
}

pub(crate) async fn an_invalid_expiry_is_400() {
    let client = Client::shared();
    let mut entity = entity_fixture("vehicle.json", &urn("Vehicle"));
    entity["expiresAt"] = json!("tomorrow");
    client
        .post("/ngsi-ld/v1/entities", &entity)
        .await
        .assert_error(400, "BadRequestData");
}

/// GS CIM 009 4.22: once its expiresAt has passed an entity is not served, not even before the
/// broker's background expiry has deleted it.
pub(crate) async fn an_entity_merged_to_a_past_expiry_is_not_served_at_once() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let mut vehicle = entity_fixture("vehicle.json", &id);
    vehicle["expiresAt"] = json!(instant_from_now(Duration::from_secs(60)));
    client.create(&vehicle).await;
    client.get(&entity_path(&id)).await.assert_status(200);
    client
        .json(
            reqwest::Method::PATCH,
            &entity_path(&id),
            &json!({"expiresAt": "2020-01-01T00:00:00Z"}),
        )
        .await
        .assert_status(204);
    client
        .get(&entity_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
}

/// GS CIM 009 5.5.4, 4.22: in a merge fragment the NGSI-LD Null removes `expiresAt`: the entity
/// is permanent again.
pub(crate) async fn merging_a_null_expiry_makes_the_entity_permanent() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let mut vehicle = entity_fixture("vehicle.json", &id);
    vehicle["expiresAt"] = json!(instant_from_now(Duration::from_secs(3600)));
    client.create(&vehicle).await;
    client
        .patch(&entity_path(&id), &json!({"expiresAt": "urn:ngsi-ld:null"}))
        .await
        .assert_status(204);
    let got = client
        .get(&format!("{}?options=sysAttrs", entity_path(&id)))
        .await;
    got.assert_status(200);
    assert!(got.json.get("createdAt").is_some(), "{}", got.text);
    assert!(got.json.get("expiresAt").is_none(), "{}", got.text);
    // The Null is no value for a creation.
    let mut refused = entity_fixture("vehicle.json", &urn("Vehicle"));
    refused["expiresAt"] = json!("urn:ngsi-ld:null");
    client
        .post("/ngsi-ld/v1/entities", &refused)
        .await
        .assert_error(400, "BadRequestData");
}

/// GS CIM 009 4.22, Tables 5.2.5-1 and 5.2.6-1: a Property or Relationship instance may be
/// transient: past its expiresAt the instance is gone, its durable siblings (another
/// datasetId of the same attribute among them) and the entity stay. A whole-attribute update
/// without expiresAt makes the attribute durable; a partial update keeps the expiry.
pub(crate) async fn a_transient_attribute_expires_and_the_entity_stays() {
    let client = Client::shared();
    let id = urn("Vehicle");
    let soon = instant_from_now(Duration::from_millis(1500));
    let entity = json!({
        "id": id, "type": "Vehicle",
        "speed": [
            {"type": "Property", "value": 10},
            {"type": "Property", "value": 20, "datasetId": "urn:ngsi-ld:d:gps", "expiresAt": soon}
        ],
        "driver": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1", "expiresAt": soon},
        "brand": {"type": "Property", "value": "Volvo", "expiresAt": soon},
        "fuel": {"type": "Property", "value": 40, "expiresAt": soon}
    });
    client.create(&entity).await;
    let path = entity_path(&id);
    let sys = client.get(&format!("{path}?options=sysAttrs")).await;
    assert_eq!(sys.json["driver"]["expiresAt"], json!(soon), "{}", sys.text);
    let plain = client.get(&path).await;
    assert!(!plain.text.contains("expiresAt"), "{}", plain.text);
    // brand becomes durable (update replaces the attribute), fuel stays transient.
    client
        .patch(
            &format!("{path}/attrs"),
            &json!({"brand": {"type": "Property", "value": "Saab"}}),
        )
        .await
        .assert_status(204);
    client
        .patch(
            &format!("{path}/attrs/fuel"),
            &json!({"type": "Property", "value": 39}),
        )
        .await
        .assert_status(204);

    let deadline = Instant::now() + Duration::from_secs(15);
    let got = loop {
        let got = client.get(&path).await;
        got.assert_status(200);
        if got.json.get("driver").is_none() {
            break got;
        }
        assert!(Instant::now() < deadline, "still there: {}", got.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(got.json["speed"]["value"], 10, "{}", got.text);
    assert!(got.json["speed"].get("datasetId").is_none(), "{}", got.text);
    assert_eq!(got.json["brand"]["value"], "Saab");
    assert!(got.json.get("fuel").is_none(), "{}", got.text);
    // Gone from storage too, not only hidden: a query on it finds nothing.
    let q = format!(
        "/ngsi-ld/v1/entities?type=Vehicle&q={}",
        crate::enc("fuel==39")
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = client.get(&q).await;
        found.assert_status(200);
        let hit = found
            .json
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["id"] == id.as_str()));
        if !hit {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a query still finds it: {}",
            found.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
