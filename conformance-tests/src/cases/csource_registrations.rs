//! Clauses 5.9 (context source registration operations) and 5.10 (discovery), with
//! CSourceRegistration (5.2.9), RegistrationInfo (5.2.10), the proxied registration rules of
//! 4.3.6.3 and the HTTP binding of 6.8 and 6.9. No case expects a request to be forwarded to a
//! registered source.
//!
//! Each case registers entity types of its own (or works in a tenant of its own), so the
//! cases run in parallel against one broker without discovering each other's registrations.

use std::time::{Duration, Instant};

use super::transient::instant_from_now;
use crate::{enc, entity_path, fixture, link, unique, Client, ContextServer};
use reqwest::Method;
use serde_json::{json, Value};

const REGISTRATIONS: &str = "/ngsi-ld/v1/csourceRegistrations";

fn reg_path(id: &str) -> String {
    format!("{REGISTRATIONS}/{}", enc(id))
}

fn fresh_id() -> String {
    format!("urn:ngsi-ld:ContextSourceRegistration:{}", unique("csr"))
}

/// A registration of the entities of type `ty` with a `speed` and a `parkedAt`.
fn registration(id: &str, ty: &str) -> Value {
    json!({
        "id": id,
        "type": "ContextSourceRegistration",
        "information": [{
            "entities": [{"type": ty}],
            "propertyNames": ["speed"],
            "relationshipNames": ["parkedAt"]
        }],
        "endpoint": "http://source.example.org:1026"
    })
}

/// Registers `body`, asserts 201, and returns the Location header.
async fn register(client: &Client, body: &Value) -> String {
    let reply = client.post(REGISTRATIONS, body).await;
    reply.assert_status(201);
    reply
        .header("location")
        .expect("Location header")
        .to_owned()
}

fn ids(reply: &crate::Reply) -> Vec<String> {
    reply
        .json
        .as_array()
        .unwrap_or_else(|| panic!("an array: {}", reply.text))
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

/// GS CIM 009 5.9.2, 6.8.3.1, 5.10.1: 201 with the Location of the registration, which a
/// retrieval renders with the defaults of 5.2.9 (mode inclusive, operations federationOps).
pub(crate) async fn register_is_201_with_location_and_retrieve_renders_it() {
    let client = Client::shared();
    let id = fresh_id();
    let ty = unique("Car");
    let mut body = registration(&id, &ty);
    body["registrationName"] = json!("fleet source");
    body["csourceVendor"] = json!("acme");
    let location = register(&client, &body).await;
    assert_eq!(location, format!("{REGISTRATIONS}/{id}"));
    let reply = client.get(&location).await;
    reply.assert_status(200);
    let got = &reply.json;
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["type"], "ContextSourceRegistration");
    assert_eq!(got["registrationName"], "fleet source");
    assert_eq!(got["endpoint"], "http://source.example.org:1026");
    assert_eq!(got["information"], body["information"], "{}", reply.text);
    assert_eq!(got["csourceVendor"], "acme", "a Context Source Property");
    assert_eq!(got["mode"], "inclusive");
    assert_eq!(got["operations"], json!(["federationOps"]));
    assert!(got.get("createdAt").is_none(), "{}", reply.text);
    let sys = client.get(&format!("{location}?options=sysAttrs")).await;
    assert!(sys.json["createdAt"].is_string(), "{}", sys.text);
    assert!(sys.json["modifiedAt"].is_string(), "{}", sys.text);
    client.delete(&location).await.assert_status(204);
}

/// GS CIM 009 5.9.2.4: a registration without an id gets one generated.
pub(crate) async fn register_without_id_generates_one() {
    let client = Client::shared();
    let mut body = registration("unused", &unique("Car"));
    body.as_object_mut().expect("object").remove("id");
    let location = register(&client, &body).await;
    let prefix = format!("{REGISTRATIONS}/urn:ngsi-ld:ContextSourceRegistration:");
    assert!(location.starts_with(&prefix), "{location}");
    client.get(&location).await.assert_status(200);
    client.delete(&location).await.assert_status(204);
}

/// GS CIM 009 5.9.2.4: an id the broker already has is 409 AlreadyExists.
pub(crate) async fn register_with_an_existing_id_is_409_already_exists() {
    let client = Client::shared();
    let id = fresh_id();
    let body = registration(&id, &unique("Car"));
    let location = register(&client, &body).await;
    client
        .post(REGISTRATIONS, &body)
        .await
        .assert_error(409, "AlreadyExists");
    client.delete(&location).await;
}

/// GS CIM 009 5.9.2.4 with 5.2.9, 5.2.10, 5.2.34, 4.3.6.6, 4.20: invalid members are 400
/// BadRequestData.
pub(crate) async fn invalid_registrations_are_400_bad_request_data() {
    let client = Client::shared();
    let ty = unique("Car");
    let cases: Vec<(&str, Value)> = vec![
        ("information", json!(null)),
        ("information", json!([])),
        ("information", json!([{}])),
        (
            "information",
            json!([{"entities": [{"id": "urn:ngsi-ld:Car:1"}]}]),
        ),
        ("endpoint", json!("not a uri")),
        ("mode", json!("sometimes")),
        ("operations", json!(["teleport"])),
        ("expiresAt", json!("2001-01-01T00:00:00Z")),
        ("management", json!({"timeout": 0})),
        (
            "contextSourceInfo",
            json!([{"key": "accept", "value": "text/html"}]),
        ),
        ("contextSourceInfo", json!([{"key": "k", "value": 3}])),
        ("type", json!("Subscription")),
    ];
    for (member, value) in cases {
        let mut body = registration(&fresh_id(), &ty);
        body[member] = value.clone();
        let reply = client.post(REGISTRATIONS, &body).await;
        assert_eq!(
            reply.status.as_u16(),
            400,
            "{member}: {value}: {}",
            reply.text
        );
        reply.assert_error(400, "BadRequestData");
    }
    let mut no_endpoint = registration(&fresh_id(), &ty);
    no_endpoint
        .as_object_mut()
        .expect("object")
        .remove("endpoint");
    client
        .post(REGISTRATIONS, &no_endpoint)
        .await
        .assert_error(400, "BadRequestData");
}

/// GS CIM 009 5.9.3, 5.5.8: PATCH merges the fragment (null removes a member), 204; the
/// mandatory members cannot be removed; an unknown registration is 404.
pub(crate) async fn patch_merges_the_fragment_and_keeps_the_rest() {
    let client = Client::shared();
    let id = fresh_id();
    let mut body = registration(&id, &unique("Car"));
    body["expiresAt"] = json!("2099-01-01T00:00:00Z");
    let location = register(&client, &body).await;
    client
        .patch(
            &location,
            &json!({"endpoint": "http://other.example.org", "expiresAt": null}),
        )
        .await
        .assert_status(204);
    let got = client.get(&location).await.json;
    assert_eq!(got["endpoint"], "http://other.example.org");
    assert!(got.get("expiresAt").is_none(), "{got}");
    assert_eq!(got["information"], body["information"]);
    client
        .patch(&location, &json!({"information": null}))
        .await
        .assert_error(400, "BadRequestData");
    client
        .patch(&location, &json!({"type": "Building"}))
        .await
        .assert_error(400, "BadRequestData");
    client
        .patch(
            &reg_path(&fresh_id()),
            &json!({"endpoint": "http://x.example.org"}),
        )
        .await
        .assert_error(404, "ResourceNotFound");
    client.delete(&location).await;
}

/// GS CIM 009 5.9.4, 5.10.1.4: delete is 204 and a deleted or unknown registration is 404;
/// an id that is no URI is 400.
pub(crate) async fn delete_removes_the_registration_and_missing_ones_are_404() {
    let client = Client::shared();
    let location = register(&client, &registration(&fresh_id(), &unique("Car"))).await;
    client.delete(&location).await.assert_status(204);
    client
        .get(&location)
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .delete(&location)
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .get(&format!("{REGISTRATIONS}/not-a-uri"))
        .await
        .assert_error(400, "BadRequestData");
}

/// GS CIM 009 5.10.2.4, 5.12: discovery matches entity types, ids against EntityInfo ids and
/// patterns, and attribute names (from attrs and q) against the registered ones; a
/// RegistrationInfo without attributes matches any attribute.
pub(crate) async fn query_matches_entity_info_and_attribute_names() {
    let client = Client::shared();
    let ty = unique("Car");
    let (by_attr, by_id, whole) = (fresh_id(), fresh_id(), fresh_id());
    register(&client, &registration(&by_attr, &ty)).await;
    let mut named = registration(&by_id, &ty);
    named["information"] = json!([{
        "entities": [{"idPattern": "^urn:ngsi-ld:Car:A.*", "type": ty}],
        "propertyNames": ["fuel"]
    }]);
    register(&client, &named).await;
    let mut entities_only = registration(&whole, &ty);
    entities_only["information"] =
        json!([{"entities": [{"id": "urn:ngsi-ld:Car:B1", "type": ty}]}]);
    register(&client, &entities_only).await;

    let found = |query: String| {
        let client = client.clone();
        async move {
            let reply = client.get(&format!("{REGISTRATIONS}?{query}")).await;
            reply.assert_status(200);
            let mut got = ids(&reply);
            got.sort();
            got
        }
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<String>>()
    };
    assert_eq!(
        found(format!("type={ty}")).await,
        sorted(vec![&by_attr, &by_id, &whole])
    );
    assert_eq!(
        found(format!("type={ty}&attrs=speed")).await,
        sorted(vec![&by_attr, &whole])
    );
    assert_eq!(
        found(format!("type={ty}&q=fuel>3")).await,
        sorted(vec![&by_id, &whole])
    );
    assert_eq!(
        found(format!("type={ty}&id=urn:ngsi-ld:Car:A7")).await,
        sorted(vec![&by_attr, &by_id])
    );
    assert_eq!(
        found(format!("type={ty}&id=urn:ngsi-ld:Car:B1")).await,
        sorted(vec![&by_attr, &whole])
    );
    assert!(found(format!("type={}", unique("Bus"))).await.is_empty());
    for id in [by_attr, by_id, whole] {
        client.delete(&reg_path(&id)).await;
    }
}

/// GS CIM 009 5.10.2.4: without a type, attrs, q or geoquery the query is too wide (400); an
/// invalid id, q, geoquery or temporal query is 400 too.
pub(crate) async fn query_without_a_type_attrs_q_or_geoquery_is_400() {
    let client = Client::shared();
    for query in [
        "",
        "?id=urn:ngsi-ld:Car:1",
        "?type=Car&id=not-a-uri",
        "?q=(speed",
        "?georel=within",
        "?type=Car&timerel=before",
    ] {
        client
            .get(&format!("{REGISTRATIONS}{query}"))
            .await
            .assert_error(400, "BadRequestData");
    }
    client
        .get(&format!("{REGISTRATIONS}?type=Car&colour=red"))
        .await
        .assert_error(400, "InvalidRequest");
}

/// GS CIM 009 5.10.2.4: csf filters on the Context Source Properties (and string members),
/// scopeQ on the scope, a geoquery on the location (none: no match), and without a temporal
/// query only registrations without time intervals are discovered.
pub(crate) async fn query_filters_on_csf_scope_location_and_time_intervals() {
    let client = Client::shared();
    let ty = unique("Building");
    let (a, b, timed) = (fresh_id(), fresh_id(), fresh_id());
    let mut ra = registration(&a, &ty);
    ra["scope"] = json!("/Madrid/Centro");
    ra["location"] = json!({"type": "Point", "coordinates": [8.68, 49.41]});
    ra["owner"] = json!("city");
    ra["information"] = json!([{"entities": [{"type": ty}]}]);
    register(&client, &ra).await;
    let mut rb = registration(&b, &ty);
    rb["scope"] = json!("/Berlin");
    rb["endpoint"] = json!("http://b.example.org");
    rb["information"] = json!([{"entities": [{"type": ty}]}]);
    register(&client, &rb).await;
    let mut rt = registration(&timed, &ty);
    rt["observationInterval"] =
        json!({"startAt": "2020-01-01T00:00:00Z", "endAt": "2021-01-01T00:00:00Z"});
    register(&client, &rt).await;

    let found = |query: &str| {
        let client = client.clone();
        let url = match query {
            "" => format!("{REGISTRATIONS}?type={ty}"),
            q => format!("{REGISTRATIONS}?type={ty}&{q}"),
        };
        async move {
            let reply = client.get(&url).await;
            reply.assert_status(200);
            ids(&reply)
        }
    };
    assert_eq!(found("csf=owner==%22city%22").await, vec![a.clone()]);
    assert_eq!(
        found("csf=endpoint==%22http://b.example.org%22").await,
        vec![b.clone()]
    );
    assert_eq!(found("scopeQ=/Madrid/%23").await, vec![a.clone()]);
    assert_eq!(
        found("georel=near;maxDistance==2000&geometry=Point&coordinates=[8.68,49.41]").await,
        vec![a.clone()]
    );
    let mut latest = found("").await;
    latest.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(
        latest, expected,
        "no temporal query: no registration with intervals"
    );
    assert_eq!(
        found("timerel=after&timeAt=2020-06-01T00:00:00Z").await,
        vec![timed.clone()]
    );
    assert!(found("timerel=after&timeAt=2022-06-01T00:00:00Z")
        .await
        .is_empty());
    assert!(
        found("timerel=after&timeAt=2020-06-01T00:00:00Z&timeproperty=createdAt")
            .await
            .is_empty()
    );
    for id in [a, b, timed] {
        client.delete(&reg_path(&id)).await;
    }
}

/// GS CIM 009 5.10.2.4, 5.5.9, 6.3.10, 6.3.13: discovery pages with limit and offset, counts
/// with count=true, and links the neighbouring pages.
pub(crate) async fn query_pages_with_limit_offset_and_count() {
    let client = Client::shared().with_tenant(&unique("csrpages"));
    let ty = unique("Car");
    let mut all = Vec::new();
    for n in 0..3 {
        let id = format!("urn:ngsi-ld:ContextSourceRegistration:page{n}");
        register(&client, &registration(&id, &ty)).await;
        all.push(id);
    }
    let page = client
        .get(&format!("{REGISTRATIONS}?type={ty}&limit=2&count=true"))
        .await;
    page.assert_status(200);
    assert_eq!(ids(&page), all[..2].to_vec());
    assert_eq!(page.header("ngsild-results-count"), Some("3"));
    let links: Vec<String> = page
        .headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.contains("rel=\"next\""))
        .map(str::to_owned)
        .collect();
    assert_eq!(links.len(), 1, "{:?}", page.headers);
    assert!(links[0].contains("offset=2"), "{}", links[0]);
    let rest = client
        .get(&format!("{REGISTRATIONS}?type={ty}&limit=2&offset=2"))
        .await;
    assert_eq!(ids(&rest), all[2..].to_vec());
}

/// GS CIM 009 5.10.1.4, 5.5.7: entity types and attribute names are expanded with the
/// registering request's @context and compacted with the reader's.
pub(crate) async fn names_are_compacted_with_the_readers_context() {
    let client = Client::shared();
    let server = ContextServer::serve(fixture("user-context.json"));
    let link = link(&server.url("registrations.jsonld"));
    let id = fresh_id();
    let mut body = registration(&id, "Car");
    body["information"][0]["propertyNames"] = json!(["topSpeed"]);
    let reply = client
        .json_with(Method::POST, REGISTRATIONS, &body, &[("Link", &link)])
        .await;
    reply.assert_status(201);
    let plain = client.get(&reg_path(&id)).await;
    assert_eq!(
        plain.json["information"][0]["entities"][0]["type"],
        "https://example.org/vocab/Car"
    );
    assert_eq!(
        plain.json["information"][0]["propertyNames"][0],
        "https://example.org/vocab/topSpeed"
    );
    let linked = client.get_with(&reg_path(&id), &[("Link", &link)]).await;
    assert_eq!(linked.json["information"][0]["entities"][0]["type"], "Car");
    assert_eq!(
        linked.json["information"][0]["propertyNames"][0],
        "topSpeed"
    );
    let found = client
        .get_with(
            &format!("{REGISTRATIONS}?type=Car&attrs=topSpeed"),
            &[("Link", &link)],
        )
        .await;
    assert!(ids(&found).contains(&id), "{}", found.text);
    client.delete(&reg_path(&id)).await;
}

/// GS CIM 009 4.3.6.3, 5.9.2.4: an exclusive registration names entity ids and attributes,
/// may not overlap another exclusive or a redirect registration, nor attributes the broker
/// holds; a redirect registration may not cover an entity the broker holds; redirect
/// registrations may overlap each other.
pub(crate) async fn proxied_registrations_that_overlap_are_409_conflict() {
    let client = Client::shared();
    let ty = unique("Car");
    let car = format!("urn:ngsi-ld:{ty}:1");
    let proxied = |mode: &str, entity: Value, attrs: Option<Value>| {
        let mut info = json!({"entities": [entity]});
        if let Some(attrs) = attrs {
            info["propertyNames"] = attrs;
        }
        json!({
            "id": fresh_id(),
            "type": "ContextSourceRegistration",
            "information": [info],
            "endpoint": "http://source.example.org",
            "mode": mode
        })
    };
    let by_id = json!({"id": car, "type": ty});
    for invalid in [
        proxied("exclusive", by_id.clone(), None),
        proxied("exclusive", json!({"type": ty}), Some(json!(["speed"]))),
        proxied(
            "exclusive",
            json!({"idPattern": ".*", "type": ty}),
            Some(json!(["speed"])),
        ),
        proxied("auxiliary", by_id.clone(), None),
    ] {
        client
            .post(REGISTRATIONS, &invalid)
            .await
            .assert_error(400, "BadRequestData");
    }
    let first = register(
        &client,
        &proxied("exclusive", by_id.clone(), Some(json!(["speed"]))),
    )
    .await;
    for overlapping in [
        proxied("exclusive", by_id.clone(), Some(json!(["speed", "fuel"]))),
        proxied("redirect", by_id.clone(), None),
        proxied("redirect", json!({"type": ty}), Some(json!(["speed"]))),
    ] {
        client
            .post(REGISTRATIONS, &overlapping)
            .await
            .assert_error(409, "Conflict");
    }
    let other_attr = register(
        &client,
        &proxied("exclusive", by_id.clone(), Some(json!(["fuel"]))),
    )
    .await;
    client.delete(&first).await.assert_status(204);
    client.delete(&other_attr).await.assert_status(204);
    let r1 = register(&client, &proxied("redirect", by_id.clone(), None)).await;
    let r2 = register(&client, &proxied("redirect", by_id.clone(), None)).await;
    client.delete(&r1).await;
    client.delete(&r2).await;

    // Data the broker holds.
    let held = format!("urn:ngsi-ld:{ty}:held");
    client
        .create(&json!({"id": held, "type": ty, "speed": {"type": "Property", "value": 3}}))
        .await
        .assert_status(201);
    let held_by_id = json!({"id": held, "type": ty});
    client
        .post(
            REGISTRATIONS,
            &proxied("exclusive", held_by_id.clone(), Some(json!(["speed"]))),
        )
        .await
        .assert_error(409, "Conflict");
    client
        .post(
            REGISTRATIONS,
            &proxied("redirect", json!({"type": ty}), None),
        )
        .await
        .assert_error(409, "Conflict");
    let fuel = register(
        &client,
        &proxied("exclusive", held_by_id, Some(json!(["fuel"]))),
    )
    .await;
    client.delete(&fuel).await;
    client.delete(&entity_path(&held)).await;
}

/// GS CIM 009 4.14: registrations live in the tenant of the request that made them.
pub(crate) async fn registrations_are_scoped_by_tenant() {
    let a = Client::shared().with_tenant(&unique("csra"));
    let b = Client::shared().with_tenant(&unique("csrb"));
    let ty = unique("Car");
    let id = fresh_id();
    let location = register(&a, &registration(&id, &ty)).await;
    a.get(&location).await.assert_status(200);
    // b's tenant exists once something is written to it.
    register(&b, &registration(&fresh_id(), &unique("Bus"))).await;
    b.get(&location).await.assert_error(404, "ResourceNotFound");
    let found = b.get(&format!("{REGISTRATIONS}?type={ty}")).await;
    assert!(ids(&found).is_empty(), "{}", found.text);
    Client::shared()
        .with_tenant(&unique("csrnone"))
        .get(&location)
        .await
        .assert_error(404, "NonexistentTenant");
}

/// GS CIM 009 5.9.2.4: a registration whose expiresAt has passed is no longer served.
pub(crate) async fn an_expired_registration_is_no_longer_served() {
    let client = Client::shared();
    let id = fresh_id();
    let ty = unique("Car");
    let mut body = registration(&id, &ty);
    body["expiresAt"] = json!(instant_from_now(Duration::from_millis(1500)));
    let location = register(&client, &body).await;
    client.get(&location).await.assert_status(200);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = client.get(&location).await;
        if reply.status.as_u16() == 404 {
            reply.assert_error(404, "ResourceNotFound");
            break;
        }
        assert!(Instant::now() < deadline, "still there: {}", reply.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let found = client.get(&format!("{REGISTRATIONS}?type={ty}")).await;
    assert!(ids(&found).is_empty(), "{}", found.text);
}

/// GS CIM 009 6.8, 6.9 with IETF RFC 9110 15.5.6: other methods are 405 with an Allow header.
pub(crate) async fn other_methods_are_405_with_allow() {
    let client = Client::shared();
    for (method, path, allow) in [
        (Method::PUT, REGISTRATIONS.to_owned(), "GET, POST"),
        (Method::POST, reg_path(&fresh_id()), "GET, PATCH, DELETE"),
    ] {
        let reply = client.send(method, &path, None, &[]).await;
        reply.assert_error(405, "InvalidRequest");
        assert_eq!(reply.header("allow"), Some(allow));
    }
}
