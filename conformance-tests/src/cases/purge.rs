//! Clause 5.6.21 and Table 6.4.3.3-1 (Purge Entities): which requests are too wide, which
//! entities a purge selects, and `drop`/`keep`, which purge attributes instead of entities.

use crate::{enc, entity_path, unique, urn, Client};
use serde_json::{json, Value};

fn purge_path(params: &str) -> String {
    format!("/ngsi-ld/v1/entities?{params}")
}

fn building(id: &str, ty: &str, name: &str) -> Value {
    json!({"id": id, "type": ty,
           "name": {"type": "Property", "value": name},
           "height": {"type": "Property", "value": 30},
           "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}})
}

/// 5.6.21.3-4: ids, an id pattern, or only system attributes do not restrict a purge enough;
/// it is refused before anything is deleted.
pub(crate) async fn purge_by_ids_or_id_pattern_alone_is_too_wide_and_deletes_nothing() {
    let client = Client::shared();
    let id = urn("Purgeable");
    client.create(&building(&id, "Purgeable", "a")).await;
    for params in [
        format!("id={}", enc(&id)),
        "idPattern=.*".to_owned(),
        "attrs=createdAt".to_owned(),
        format!("q={}", enc("modifiedAt>\"2020-01-01T00:00:00Z\"")),
    ] {
        let reply = client.delete(&purge_path(&params)).await;
        reply.assert_error(400, "BadRequestData");
    }
    client.get(&entity_path(&id)).await.assert_status(200);
}

/// 5.6.21.4 c): a query on a non-system attribute selects the entities to delete.
pub(crate) async fn purge_by_q_deletes_only_the_matching_entities() {
    let client = Client::shared();
    let ty = unique("PurgedByQ");
    let (hit, miss) = (urn("Purgeable"), urn("Purgeable"));
    let gone = unique("gone");
    client.create(&building(&hit, &ty, &gone)).await;
    client.create(&building(&miss, &ty, "stays")).await;
    let q = enc(&format!("name==\"{gone}\""));
    client
        .delete(&purge_path(&format!("q={q}")))
        .await
        .assert_status(204);
    client
        .get(&entity_path(&hit))
        .await
        .assert_error(404, "ResourceNotFound");
    client.get(&entity_path(&miss)).await.assert_status(200);
}

/// 5.6.21.4: with a restrictive list (`drop`) only those attributes go, the entity stays.
pub(crate) async fn purge_with_drop_deletes_only_those_attributes() {
    let client = Client::shared();
    let ty = unique("Dropped");
    let (a, b) = (urn("Purgeable"), urn("Purgeable"));
    client.create(&building(&a, &ty, "a")).await;
    client.create(&building(&b, &ty, "b")).await;
    client
        .delete(&purge_path(&format!("type={ty}&drop=name,owner")))
        .await
        .assert_status(204);
    for id in [&a, &b] {
        let got = client.get(&entity_path(id)).await;
        got.assert_status(200);
        assert_eq!(
            got.json,
            json!({"id": id, "type": ty, "height": {"type": "Property", "value": 30}})
        );
    }
}

/// 5.6.21.4: with an exclusionary list (`keep`) every other attribute goes.
pub(crate) async fn purge_with_keep_deletes_every_other_attribute() {
    let client = Client::shared();
    let ty = unique("Kept");
    let id = urn("Purgeable");
    client.create(&building(&id, &ty, "a")).await;
    client
        .delete(&purge_path(&format!("type={ty}&keep=name")))
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(
        got.json,
        json!({"id": id, "type": ty, "name": {"type": "Property", "value": "a"}})
    );
}

/// 5.6.21.3: a purge limited to the local scope needs no other restriction (here: the whole
/// of a tenant of its own).
pub(crate) async fn purge_in_local_scope_alone_deletes_every_entity_of_the_tenant() {
    let client = Client::shared().with_tenant(&unique("purgelocal"));
    let (a, b) = (urn("Purgeable"), urn("Other"));
    client.create(&building(&a, "Purgeable", "a")).await;
    client.create(&building(&b, "Other", "b")).await;
    client
        .delete(&purge_path("local=true"))
        .await
        .assert_status(204);
    for id in [&a, &b] {
        client
            .get(&entity_path(id))
            .await
            .assert_error(404, "ResourceNotFound");
    }
}
