//! Clause 5.5.2-5.5.3 and 6.3.2: every error is an `application/json` ProblemDetails with
//! `type`, `title` and `detail`, and its status names the problem; no request yields a 500.

use crate::{entity_fixture, entity_path, unique, urn, BrokerProcess, Client};
use reqwest::Method;
use serde_json::json;

pub(crate) async fn malformed_json_is_400_invalid_request() {
    let client = Client::shared();
    for body in [&b"{not json"[..], b"{\"id\": ", b"[1,2", b"\xff\xfe"] {
        client
            .send(
                Method::POST,
                "/ngsi-ld/v1/entities",
                Some(("application/json", body.to_vec())),
                &[],
            )
            .await
            .assert_error(400, "InvalidRequest");
    }
}

pub(crate) async fn empty_body_is_400_invalid_request() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    for (method, path) in [
        (Method::POST, "/ngsi-ld/v1/entities".to_owned()),
        (Method::PATCH, entity_path(&id)),
        (Method::POST, format!("{}/attrs", entity_path(&id))),
        (
            Method::POST,
            "/ngsi-ld/v1/entityOperations/create".to_owned(),
        ),
    ] {
        client
            .send(method, &path, Some(("application/json", Vec::new())), &[])
            .await
            .assert_error(400, "InvalidRequest");
    }
}

pub(crate) async fn missing_content_type_is_415() {
    let client = Client::shared();
    let body = entity_fixture("vehicle.json", &urn("Vehicle")).to_string();
    let reply = reqwest::Client::new()
        .post(client.url("/ngsi-ld/v1/entities"))
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(reply.status().as_u16(), 415);
}

pub(crate) async fn body_over_the_limit_is_413() {
    let mut broker = BrokerProcess::start(&["--max-body", "1000"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let id = urn("Vehicle");
    let mut big = entity_fixture("vehicle.json", &id);
    big["notes"] = json!({"type": "Property", "value": "x".repeat(2000)});
    client
        .post("/ngsi-ld/v1/entities", &big)
        .await
        .assert_error(413, "InvalidRequest");
    client
        .get(&entity_path(&id))
        .await
        .assert_error(404, "ResourceNotFound");
    // A body under the limit still works.
    client.create(&entity_fixture("vehicle.json", &id)).await;
    broker.kill_hard();
}

pub(crate) async fn unknown_uri_parameter_is_400() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    // GS CIM 009 6.3.20: a parameter the operation does not take is InvalidRequest.
    for path in [
        "/ngsi-ld/v1/entities?tpye=Vehicle".to_owned(),
        format!("{}?colour=red", entity_path(&id)),
        "/ngsi-ld/v1/types?verbose=true".to_owned(),
        "/ngsi-ld/v1/attributes?verbose=true".to_owned(),
    ] {
        client.get(&path).await.assert_error(400, "InvalidRequest");
    }
    // A parameter it takes, repeated or with a malformed value, is BadRequestData.
    for path in [
        "/ngsi-ld/v1/entities?type=Vehicle&type=Car".to_owned(),
        "/ngsi-ld/v1/entities?type=".to_owned(),
        "/ngsi-ld/v1/entities?type=Vehicle&limit=ten".to_owned(),
        "/ngsi-ld/v1/entities?type=Vehicle&limit=-1".to_owned(),
        "/ngsi-ld/v1/entities?type=Vehicle&count=yes".to_owned(),
    ] {
        client.get(&path).await.assert_error(400, "BadRequestData");
    }
    client
        .post(
            "/ngsi-ld/v1/entities?dryRun=true",
            &entity_fixture("vehicle.json", &urn("Vehicle")),
        )
        .await
        .assert_error(400, "InvalidRequest");
}

pub(crate) async fn invalid_ids_in_the_path_are_400() {
    let client = Client::shared();
    for path in [
        "/ngsi-ld/v1/entities/not%20a%20uri",
        "/ngsi-ld/v1/entities/plainword",
        "/ngsi-ld/v1/entities/not%20a%20uri/attrs/speed",
    ] {
        let reply = if path.ends_with("speed") {
            client.delete(path).await
        } else {
            client.get(path).await
        };
        reply.assert_error(400, "BadRequestData");
    }
    client
        .patch(
            "/ngsi-ld/v1/entities/plainword/attrs",
            &json!({"speed": {"type": "Property", "value": 1}}),
        )
        .await
        .assert_error(400, "BadRequestData");
}

pub(crate) async fn unknown_path_is_404() {
    let client = Client::shared();
    for path in [
        "/ngsi-ld/v1/nothing",
        "/ngsi-ld/v2/entities",
        "/favicon.ico",
    ] {
        client.get(path).await.assert_error(404, "ResourceNotFound");
    }
}

pub(crate) async fn wrong_method_is_405() {
    let client = Client::shared();
    let id = urn("Vehicle");
    for (method, path) in [
        (Method::PUT, "/ngsi-ld/v1/subscriptions".to_owned()),
        (Method::POST, entity_path(&id)),
        (
            Method::GET,
            "/ngsi-ld/v1/entityOperations/create".to_owned(),
        ),
        (Method::DELETE, "/ngsi-ld/v1/types".to_owned()),
        (Method::GET, format!("{}/attrs", entity_path(&id))),
    ] {
        let reply = client.send(method.clone(), &path, None, &[]).await;
        assert_eq!(
            reply.status.as_u16(),
            405,
            "{method} {path}: {}",
            reply.text
        );
        reply.assert_error(405, "InvalidRequest");
    }
}

/// Odd requests of every kind: none may produce a 5xx, and every error is ProblemDetails.
pub(crate) async fn no_request_produces_a_server_error() {
    let client = Client::shared();
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let e = entity_path(&id);
    let bodies = [
        json!(null),
        json!(42),
        json!("text"),
        json!([]),
        json!({}),
        json!({"id": id, "type": []}),
        json!({"id": id, "type": [1]}),
        json!({"id": {"x": 1}, "type": "T"}),
        json!({"speed": null}),
        json!({"speed": []}),
        json!({"speed": {"type": "Property", "value": null}}),
        json!({"speed": [{"type": "Property", "value": 1, "datasetId": "urn:a"}, {"type": "Property", "value": 2, "datasetId": "urn:a"}]}),
        json!({"location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [[[0, 0]]]}}}),
        json!({"location": {"type": "GeoProperty", "value": "POINT(1 2)"}}),
        json!({"name": {"type": "LanguageProperty", "languageMap": {"en": 3}}}),
        json!({"r": {"type": "ListRelationship", "objectList": [1]}}),
        json!({"v": {"type": "VocabularyProperty", "vocab": 3}}),
        json!({"@context": 5}),
        json!({"a": {"type": "Property", "value": 1, "b": {"type": "Property", "value": {"type": "Property"}}}}),
    ];
    let mut requests = Vec::new();
    for body in &bodies {
        for (method, path) in [
            (Method::POST, "/ngsi-ld/v1/entities".to_owned()),
            (Method::PATCH, e.clone()),
            (Method::PUT, e.clone()),
            (Method::POST, format!("{e}/attrs")),
            (Method::PATCH, format!("{e}/attrs")),
            (Method::PATCH, format!("{e}/attrs/speed")),
            (Method::PUT, format!("{e}/attrs/speed")),
            (
                Method::POST,
                "/ngsi-ld/v1/entityOperations/upsert".to_owned(),
            ),
            (
                Method::POST,
                "/ngsi-ld/v1/entityOperations/merge".to_owned(),
            ),
            (
                Method::POST,
                "/ngsi-ld/v1/entityOperations/query".to_owned(),
            ),
            (Method::POST, "/ngsi-ld/v1/jsonldContexts".to_owned()),
        ] {
            requests.push((method, path, body.clone()));
        }
    }
    for (method, path, body) in requests {
        let reply = client.json(method.clone(), &path, &body).await;
        assert!(
            reply.status.as_u16() < 500,
            "{method} {path} {body}: {} {}",
            reply.status,
            reply.text
        );
        if !reply.status.is_success() {
            assert!(
                reply.json["type"].is_string(),
                "{method} {path} {body}: {}",
                reply.text
            );
        }
    }
    for query in [
        "q=%28%28%28",
        "q=a%3D%3D%22",
        "q=a[",
        "q=a.b.c.d.e.f%3E1",
        "scopeQ=nope",
        "georel=near%3BmaxDistance%3D%3D1&geometry=Point&coordinates=%5B%5D",
        "georel=within&geometry=Polygon&coordinates=%5B%5B%5B0%2C0%5D%2C%5B1%2C0%5D%2C%5B0%2C0%5D%5D%5D",
        "idPattern=%5C",
        "id=urn:a,,urn:b",
        "attrs=%2C%2C",
        "offset=99999999999999999999999",
        "lang=%3Bq%3D2",
        "type=%28A%3BB",
        "type=A&limit=0",
    ] {
        let reply = client.get(&format!("/ngsi-ld/v1/entities?{query}")).await;
        assert!(reply.status.as_u16() < 500, "{query}: {} {}", reply.status, reply.text);
    }
}

/// Sub-attributes nest recursively: a broker may refuse absurd depths, but whatever it
/// accepts it must serve back, and it must stay up.
pub(crate) async fn deeply_nested_sub_attributes_never_take_the_broker_down() {
    let broker = BrokerProcess::start(&[]).expect("a broker");
    let client = Client::new(&broker.base_url);
    for depth in [20, 100, 126] {
        let mut attr = json!({"type": "Property", "value": 0});
        for level in 1..=depth {
            attr = json!({"type": "Property", "value": level, "sub": attr});
        }
        let id = urn("Deep");
        let reply = client
            .post(
                "/ngsi-ld/v1/entities",
                &json!({"id": id, "type": "Deep", "p": attr}),
            )
            .await;
        assert!(
            matches!(reply.status.as_u16(), 201 | 400),
            "depth {depth}: {} {}",
            reply.status,
            reply.text
        );
        if reply.status.as_u16() == 201 {
            let got = client.get(&entity_path(&id)).await;
            assert_eq!(got.status.as_u16(), 200, "depth {depth}: {}", got.text);
            let listed = client.get("/ngsi-ld/v1/entities?type=Deep").await;
            assert_eq!(listed.status.as_u16(), 200, "depth {depth}");
        } else {
            assert!(reply.json["type"].is_string(), "{}", reply.text);
        }
        client.get("/health").await.assert_status(200);
    }
    let shallow = client
        .get("/ngsi-ld/v1/entities?type=Deep&count=true&limit=0")
        .await;
    assert!(shallow.header("ngsild-results-count").is_some());
}

/// GS CIM 009 6.3.4: a POST, PATCH or PUT whose body has no Content-Length (sent chunked) is
/// "just a 411", with no payload body, decided before anything else (here: an unknown tenant).
pub(crate) async fn chunked_body_without_content_length_is_a_bare_411() {
    let client = Client::shared();
    let body = entity_fixture("vehicle.json", &urn("Vehicle")).to_string();
    for (method, path) in [
        ("POST", "/ngsi-ld/v1/entities".to_owned()),
        ("PATCH", format!("{}/attrs", entity_path(&urn("Vehicle")))),
        ("PUT", entity_path(&urn("Vehicle"))),
    ] {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: oxion\r\nContent-Type: application/json\r\n\
             NGSILD-Tenant: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
             {:x}\r\n{body}\r\n0\r\n\r\n",
            unique("nosuch"),
            body.len()
        );
        let answer = crate::raw_http::exchange(&client.url("/"), request.as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 411"),
            "{method} {path}: {answer}"
        );
        let (_, payload) = answer.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            payload.is_empty(),
            "{method} {path}: a 411 has no body: {answer}"
        );
    }
}
