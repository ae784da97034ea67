//! What an entity body may hold: ids that are IRIs (clause 5.2.1, IETF RFC 3987), attribute
//! names that are no core term (4.5.1), no embedded @context (4.5.1, 5.5.7), the members each
//! attribute kind admits (4.5.2-4.5.24), the `@none` dataset (4.5.5.1), and the v1.9 name
//! `VocabProperty`.

use crate::{entity_path, urn, Client};
use serde_json::{json, Value};

async fn create_status(client: &Client, body: &Value) -> u16 {
    client
        .post("/ngsi-ld/v1/entities", body)
        .await
        .status
        .as_u16()
}

/// RFC 3987 clause 2.2 and 4.1: bidi formatting characters, noncharacters and the tag block
/// are no IRI characters; ordinary non-ASCII letters are.
pub(crate) async fn ids_with_characters_no_iri_admits_are_400() {
    let client = Client::shared();
    for c in ['\u{202E}', '\u{200E}', '\u{FDD0}', '\u{FFFE}', '\u{E0100}'] {
        let id = format!("{}A{c}B", urn("Odd"));
        client
            .post("/ngsi-ld/v1/entities", &json!({"id": id, "type": "Odd"}))
            .await
            .assert_error(400, "BadRequestData");
        client
            .get(&entity_path(&id))
            .await
            .assert_error(400, "BadRequestData");
    }
    let id = format!("{}Straße", urn("Odd"));
    client.create(&json!({"id": id, "type": "Odd"})).await;
    client.get(&entity_path(&id)).await.assert_status(200);
}

/// 4.5.1: core terms of non-reified properties (datasetId, instanceId, previousValue, ...)
/// cannot name an attribute; an attribute cannot embed an @context.
pub(crate) async fn core_terms_and_embedded_contexts_are_refused_in_attributes() {
    let client = Client::shared();
    for attrs in [
        json!({"instanceId": {"type": "Property", "value": 1}}),
        json!({"previousValue": {"type": "Property", "value": 1}}),
        json!({"speed": {"type": "Property", "value": 1, "@context": {"speed": "https://example.org/speed"}}}),
    ] {
        let mut body = json!({"id": urn("Odd"), "type": "Odd"});
        if let (Some(b), Some(a)) = (body.as_object_mut(), attrs.as_object()) {
            b.extend(a.clone());
        }
        assert_eq!(create_status(&client, &body).await, 400, "{attrs}");
    }
}

/// 4.5.2-4.5.24: unitCode belongs to Properties only; an observedAt is a DateTime (4.6.3); previous* members are output-only; the
/// `json` of a JsonProperty is an object or an array of objects (4.5.24.2).
pub(crate) async fn members_an_attribute_kind_does_not_admit_are_400() {
    let client = Client::shared();
    for attr in [
        json!({"type": "JsonProperty", "json": 5}),
        // 4.6.3: a DateTime is in UTC, written with Z, with every component.
        json!({"type": "Property", "value": 1, "observedAt": "2026-08-10T12:00:00+02:00"}),
        json!({"type": "Property", "value": 1, "observedAt": "2026-08-10T12:00Z"}),
        json!({"type": "LanguageProperty", "languageMap": {"en": "x"}, "valueType": "xsd:string"}),
        json!({"type": "Relationship", "object": "urn:ngsi-ld:X:1", "valueType": "xsd:anyURI"}),
        json!({"type": "JsonProperty", "json": [{"a": 1}, "b"]}),
        json!({"type": "Relationship", "object": "urn:ngsi-ld:X:1", "unitCode": "MTR"}),
        json!({"type": "JsonProperty", "json": {"a": 1}, "unitCode": "MTR"}),
        json!({"type": "LanguageProperty", "languageMap": {"en": "a"}, "unitCode": "MTR"}),
        json!({"type": "Property", "value": 1, "previousValue": 0}),
        json!({"type": "Relationship", "object": "urn:ngsi-ld:X:1", "previousObject": "urn:ngsi-ld:X:0"}),
    ] {
        let body = json!({"id": urn("Odd"), "type": "Odd", "a": attr});
        assert_eq!(create_status(&client, &body).await, 400, "{attr}");
    }
    let id = urn("Odd");
    client
        .create(&json!({"id": id, "type": "Odd",
                        "a": {"type": "Property", "value": 1, "unitCode": "MTR", "valueType": "https://example.org/Count",
                              "observedAt": "2026-08-10T12:00:00,5Z"},
                        "l": {"type": "LanguageProperty", "languageMap": {"en": "x"}, "valueType": "langString"},
                        "j": {"type": "JsonProperty", "json": [{"a": 1}, {"b": 2}]}}))
        .await;
    // Tables 5.2.5-1, 5.2.32-1: valueType is kept and served back.
    let got = client.get(&crate::entity_path(&id)).await;
    assert_eq!(
        got.json["a"]["valueType"], "https://example.org/Count",
        "{}",
        got.text
    );
    assert_eq!(got.json["l"]["valueType"], "langString", "{}", got.text);
}

/// 4.5.5.1: `"datasetId": "@none"` is the default instance, as if no datasetId were given.
pub(crate) async fn none_dataset_id_is_the_default_instance() {
    let client = Client::shared();
    let id = urn("Odd");
    client
        .create(&json!({"id": id, "type": "Odd",
            "a": [{"type": "Property", "value": 1, "datasetId": "@none"},
                  {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:x"}]}))
        .await;
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(
        got.json["a"],
        json!([{"type": "Property", "value": 1},
               {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:x"}])
    );
}

/// GS CIM 009 v1.9.1 names the kind VocabProperty (annex I, 1.8.16); the earlier name is
/// still read, and rendered as the new one.
pub(crate) async fn vocabulary_property_is_rendered_as_vocab_property() {
    let client = Client::shared();
    let id = urn("Odd");
    client
        .create(&json!({"id": id, "type": "Odd",
            "v": {"type": "VocabularyProperty", "vocab": "https://example.org/x"}}))
        .await;
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json["v"]["type"], "VocabProperty");
}

/// 4.6.2: a type or attribute name starts with a letter (`name = unicodeLetter *nameChar`).
pub(crate) async fn names_not_starting_with_a_letter_are_400() {
    let client = Client::shared();
    let digit_type = json!({"id": urn("Odd"), "type": "1Odd"});
    assert_eq!(create_status(&client, &digit_type).await, 400);
    let id = urn("Odd");
    client.create(&json!({"id": id, "type": "Odd"})).await;
    client
        .put(
            &format!("{}/attrs/@odd", entity_path(&id)),
            &json!({"type": "Property", "value": 1}),
        )
        .await
        .assert_error(400, "BadRequestData");
}

/// 5.6.17.4, 5.6.18.4: Merge and Replace Entity without an entity id are BadRequestData.
pub(crate) async fn merge_and_replace_without_an_entity_id_are_400() {
    let client = Client::shared();
    let body = json!({"speed": {"type": "Property", "value": 1}});
    client
        .patch("/ngsi-ld/v1/entities/", &body)
        .await
        .assert_error(400, "BadRequestData");
    client
        .put("/ngsi-ld/v1/entities/", &body)
        .await
        .assert_error(400, "BadRequestData");
}

/// 5.5.8: a datasetId cannot be deleted by setting it to the NGSI-LD Null; a fragment with a
/// new datasetId adds an instance beside the default one (5.6.2.4).
pub(crate) async fn dataset_id_is_never_the_ngsi_ld_null_and_a_new_one_adds_an_instance() {
    let client = Client::shared();
    let id = urn("Odd");
    client
        .create(&json!({"id": id, "type": "Odd", "t": {"type": "Property", "value": 25}}))
        .await;
    client
        .patch(
            &format!("{}/attrs/t", entity_path(&id)),
            &json!({"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:null"}),
        )
        .await
        .assert_error(400, "BadRequestData");
    // Also in a fragment of the datasetId alone.
    client
        .patch(
            &format!("{}/attrs/t", entity_path(&id)),
            &json!({"datasetId": "urn:ngsi-ld:null"}),
        )
        .await
        .assert_error(400, "BadRequestData");
    client
        .patch(
            &format!("{}/attrs", entity_path(&id)),
            &json!({"t": {"type": "Property", "value": 30, "datasetId": "urn:ngsi-ld:Dataset:x"}}),
        )
        .await
        .assert_status(204);
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(
        got.json["t"],
        json!([{"type": "Property", "value": 25},
               {"type": "Property", "value": 30, "datasetId": "urn:ngsi-ld:Dataset:x"}])
    );
}

/// GS CIM 009 5.5.4: outside update and merge fragments, the NGSI-LD Null is no first-level
/// member value, and no member value of a Property's compound value; such an entity is not
/// created.
pub(crate) async fn the_ngsi_ld_null_outside_fragments_is_400() {
    let client = Client::shared();
    for extra in [
        json!({"scope": "urn:ngsi-ld:null"}),
        json!({"address": {"type": "Property", "value": {"city": "urn:ngsi-ld:null", "street": "Gran Via"}}}),
        json!({"address": {"type": "Property", "value": {"parts": [{"city": "urn:ngsi-ld:null"}]}}}),
    ] {
        let id = urn("Odd");
        let mut body = json!({"id": id, "type": "Odd"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        client
            .post("/ngsi-ld/v1/entities", &body)
            .await
            .assert_error(400, "BadRequestData");
        client
            .get(&crate::entity_path(&id))
            .await
            .assert_error(404, "ResourceNotFound");
    }
}
