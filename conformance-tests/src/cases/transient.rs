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
    assert_eq!(got.json["expiresAt"], entity["expiresAt"]);

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
    let got = client.get(&entity_path(&id)).await;
    got.assert_status(200);
    assert!(got.json.get("expiresAt").is_none(), "{}", got.text);
    // The Null is no value for a creation.
    let mut refused = entity_fixture("vehicle.json", &urn("Vehicle"));
    refused["expiresAt"] = json!("urn:ngsi-ld:null");
    client
        .post("/ngsi-ld/v1/entities", &refused)
        .await
        .assert_error(400, "BadRequestData");
}
