//! Clause 5.7.2 (Query Entities), 4.9 (q), 4.17 (type expressions), 4.19 (scopeQ), 4.21
//! (pick/omit), 5.5.9 (pagination) and 6.23 (query by POST).

use std::collections::BTreeSet;

use crate::{enc, fixture, unique, Client, Reply};
use serde_json::{json, Value};

/// The ids of a query reply, in the order of the reply.
pub fn ids_in_order(reply: &Reply) -> Vec<String> {
    reply.assert_status(200);
    reply
        .json
        .as_array()
        .unwrap_or_else(|| panic!("an array: {}", reply.text))
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The ids of a query reply, as a set.
pub fn ids_of(reply: &Reply) -> BTreeSet<String> {
    ids_in_order(reply).into_iter().collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

/// The four vehicles of `fleet.json` under a fresh type (ids `urn:ngsi-ld:{type}:0` to `3`),
/// created in one batch; returns the type and the ids.
async fn fleet(client: &Client) -> (String, [String; 4]) {
    let ty = unique("Fleet");
    let ids = [0, 1, 2, 3].map(|i| format!("urn:ngsi-ld:{ty}:{i}"));
    let mut body = fixture("fleet.json");
    for (item, id) in body.as_array_mut().into_iter().flatten().zip(&ids) {
        item["id"] = json!(id);
        item["type"] = json!(ty);
    }
    client
        .post("/ngsi-ld/v1/entityOperations/create", &body)
        .await
        .assert_status(201);
    (ty, ids)
}

pub(crate) async fn q_supports_every_comparison_operator() {
    let client = Client::shared();
    let (ty, [a, b, c, d]) = fleet(&client).await;
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("speed==80", set(&[&b])),
        ("speed!=80", set(&[&a, &c])),
        ("speed>80", set(&[&c])),
        ("speed>=80", set(&[&b, &c])),
        ("speed<80", set(&[&a])),
        ("speed<=80", set(&[&a, &b])),
        ("speed==60..100", set(&[&b])),
        ("speed==50,120", set(&[&a, &c])),
        (r#"brandName=="Mercedes""#, set(&[&b, &c])),
        (r#"brandName!="Mercedes""#, set(&[&a, &d])),
        (r#"brandName=="Audi","Volvo""#, set(&[&a, &d])),
        (r#"brandName=="A".."N""#, set(&[&a, &b, &c])),
        ("brandName~=^Merc", set(&[&b, &c])),
        ("brandName!~=^Merc", set(&[&a, &d])),
        ("colour", set(&[&c])),
    ];
    for (q, expected) in cases {
        let reply = client
            .get(&format!("/ngsi-ld/v1/entities?type={ty}&q={}", enc(q)))
            .await;
        assert_eq!(ids_of(&reply), expected, "q={q}");
    }
}

pub(crate) async fn q_combines_terms_with_and_or_and_parentheses() {
    let client = Client::shared();
    let (ty, [a, b, c, d]) = fleet(&client).await;
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        (r#"speed>60;brandName=="Mercedes""#, set(&[&b, &c])),
        (r#"speed<60|brandName=="Volvo""#, set(&[&a, &d])),
        (r#"(speed<60|speed>100);brandName=="Mercedes""#, set(&[&c])),
        (
            r#"brandName=="Mercedes";(speed<100|colour)"#,
            set(&[&b, &c]),
        ),
    ];
    for (q, expected) in cases {
        let reply = client
            .get(&format!("/ngsi-ld/v1/entities?type={ty}&q={}", enc(q)))
            .await;
        assert_eq!(ids_of(&reply), expected, "q={q}");
    }
}

pub(crate) async fn q_reaches_sub_attributes_dates_and_compound_members() {
    let client = Client::shared();
    let (ty, [a, b, c, _]) = fleet(&client).await;
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("speed.accuracy>0.6", set(&[&a, &c])),
        ("speed.observedAt>=2024-02-01T00:00:00Z", set(&[&b, &c])),
        ("speed.observedAt<2024-02-01T00:00:00Z", set(&[&a])),
        (r#"address[city]=="Berlin""#, set(&[&a, &c])),
        (r#"address[city]!="Berlin""#, set(&[&b])),
    ];
    for (q, expected) in cases {
        let reply = client
            .get(&format!("/ngsi-ld/v1/entities?type={ty}&q={}", enc(q)))
            .await;
        assert_eq!(ids_of(&reply), expected, "q={q}");
    }
}

pub(crate) async fn invalid_q_is_400() {
    let client = Client::shared();
    for q in ["speed>>50", "speed==", "(speed>1", r#"brandName=="x"#] {
        client
            .get(&format!("/ngsi-ld/v1/entities?type=T&q={}", enc(q)))
            .await
            .assert_error(400, "BadRequestData");
    }
}

pub(crate) async fn scope_q_selects_scopes_and_their_hierarchy() {
    let client = Client::shared();
    let (ty, [a, b, _, d]) = fleet(&client).await;
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("/Spain/Madrid", set(&[&a])),
        ("/Spain/#", set(&[&a, &b])),
        ("/Spain/+", set(&[&a, &b])),
        ("/France,/Spain/Madrid", set(&[&a, &d])),
        ("/Italy", set(&[])),
    ];
    for (scope_q, expected) in cases {
        let reply = client
            .get(&format!(
                "/ngsi-ld/v1/entities?type={ty}&scopeQ={}",
                enc(scope_q)
            ))
            .await;
        assert_eq!(ids_of(&reply), expected, "scopeQ={scope_q}");
    }
    let got = client
        .get(&format!("/ngsi-ld/v1/entities?type={ty}&id={}", enc(&a)))
        .await;
    assert_eq!(got.json[0]["scope"], "/Spain/Madrid");
}

pub(crate) async fn type_expressions_select_or_and_and() {
    let client = Client::shared();
    let (ta, tb) = (unique("TypeA"), unique("TypeB"));
    let (x, y, z) = (crate::urn("X"), crate::urn("X"), crate::urn("X"));
    client.create(&json!({"id": x, "type": ta})).await;
    client.create(&json!({"id": y, "type": tb})).await;
    client.create(&json!({"id": z, "type": [ta, tb]})).await;
    let cases: Vec<(String, BTreeSet<String>)> = vec![
        (ta.clone(), set(&[&x, &z])),
        (format!("{ta},{tb}"), set(&[&x, &y, &z])),
        (format!("{ta};{tb}"), set(&[&z])),
        (format!("{ta}|{tb}"), set(&[&x, &y, &z])),
    ];
    for (types, expected) in cases {
        let reply = client
            .get(&format!("/ngsi-ld/v1/entities?type={}", enc(&types)))
            .await;
        assert_eq!(ids_of(&reply), expected, "type={types}");
    }
}

pub(crate) async fn id_list_and_id_pattern_select_entities() {
    let client = Client::shared();
    let (ty, [a, b, c, d]) = fleet(&client).await;
    let reply = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={ty}&id={},{}",
            enc(&a),
            enc(&c)
        ))
        .await;
    assert_eq!(ids_of(&reply), set(&[&a, &c]));
    let pattern = format!("^urn:ngsi-ld:{ty}:[12]$");
    let reply = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={ty}&idPattern={}",
            enc(&pattern)
        ))
        .await;
    assert_eq!(ids_of(&reply), set(&[&b, &c]));
    let reply = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={ty}&idPattern={}",
            enc(".*:3$")
        ))
        .await;
    assert_eq!(ids_of(&reply), set(&[&d]));
    // A pattern that does not compile, or repeats a repetition (undefined in POSIX, which
    // 6.4.3.2 refers to), is BadRequestData.
    for bad in ["([", "urn**"] {
        client
            .get(&format!(
                "/ngsi-ld/v1/entities?type={ty}&idPattern={}",
                enc(bad)
            ))
            .await
            .assert_error(400, "BadRequestData");
    }
}

pub(crate) async fn id_pattern_matches_anywhere_in_the_id_like_orion_ld() {
    let client = Client::shared();
    let (ty, [a, b, c, d]) = fleet(&client).await;
    let reply = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={ty}&idPattern={}",
            enc(&ty)
        ))
        .await;
    assert_eq!(ids_of(&reply), set(&[&a, &b, &c, &d]));
}

pub(crate) async fn attrs_selects_entities_having_them_and_projects() {
    let client = Client::shared();
    let (ty, [a, b, c, _]) = fleet(&client).await;
    let reply = client
        .get(&format!("/ngsi-ld/v1/entities?type={ty}&attrs=speed"))
        .await;
    assert_eq!(ids_of(&reply), set(&[&a, &b, &c]));
    // Only the attributes asked for (id, type and scope are entity members, not attributes).
    for e in reply.json.as_array().into_iter().flatten() {
        let keys: BTreeSet<&str> = e
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .filter(|k| !["id", "type", "scope"].contains(k))
            .collect();
        assert_eq!(keys, BTreeSet::from(["speed"]), "{e}");
    }
}

pub(crate) async fn pick_and_omit_shape_the_entities() {
    let client = Client::shared();
    let (ty, [a, ..]) = fleet(&client).await;
    let path = format!("/ngsi-ld/v1/entities?type={ty}&id={}", enc(&a));
    let picked = client.get(&format!("{path}&pick=id,speed")).await;
    let entity = &picked.json[0];
    assert_eq!(
        entity
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["id".to_owned(), "speed".to_owned()]),
        "{}",
        picked.text
    );
    let omitted = client.get(&format!("{path}&omit=brandName,address")).await;
    let entity = &omitted.json[0];
    assert_eq!(entity["type"], ty);
    assert!(entity.get("brandName").is_none() && entity.get("address").is_none());
    assert!(entity.get("speed").is_some());
    client
        .get(&format!("{path}&pick=id&omit=speed"))
        .await
        .assert_error(400, "BadRequestData");
    // The same projections on Retrieve Entity.
    let one = client
        .get(&format!("{}?pick=brandName", crate::entity_path(&a)))
        .await;
    assert_eq!(
        one.json,
        json!({"brandName": {"type": "Property", "value": "Audi"}})
    );
}

pub(crate) async fn pagination_is_stable_and_complete_and_counted() {
    let client = Client::shared();
    let ty = unique("Paged");
    let items: Vec<Value> = (0..7)
        .map(|i| json!({"id": format!("urn:ngsi-ld:{ty}:{i}"), "type": ty}))
        .collect();
    client
        .post("/ngsi-ld/v1/entityOperations/create", &json!(items))
        .await
        .assert_status(201);
    let mut seen = Vec::new();
    for offset in [0, 3, 6] {
        let reply = client
            .get(&format!(
                "/ngsi-ld/v1/entities?type={ty}&limit=3&offset={offset}&count=true"
            ))
            .await;
        reply.assert_status(200);
        assert_eq!(reply.header("ngsild-results-count"), Some("7"));
        let page: Vec<String> = reply
            .json
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(page.len(), if offset == 6 { 1 } else { 3 });
        seen.extend(page);
    }
    let unique_ids: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique_ids.len(), 7, "no duplicates across pages: {seen:?}");
    let again = client
        .get(&format!("/ngsi-ld/v1/entities?type={ty}&limit=7"))
        .await;
    let order: Vec<&str> = again
        .json
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(
        order,
        seen.iter().map(String::as_str).collect::<Vec<_>>(),
        "stable order"
    );

    let past_end = client
        .get(&format!("/ngsi-ld/v1/entities?type={ty}&offset=100"))
        .await;
    assert_eq!(past_end.json, json!([]));
    let count_only = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={ty}&limit=0&count=true"
        ))
        .await;
    count_only.assert_status(200);
    assert_eq!(count_only.json, json!([]));
    assert_eq!(count_only.header("ngsild-results-count"), Some("7"));
    let uncounted = client.get(&format!("/ngsi-ld/v1/entities?type={ty}")).await;
    assert_eq!(uncounted.header("ngsild-results-count"), None);
}

pub(crate) async fn limit_over_the_maximum_is_403_too_many_results() {
    let client = Client::shared();
    client
        .get("/ngsi-ld/v1/entities?type=T&limit=1001")
        .await
        .assert_error(403, "TooManyResults");
}

pub(crate) async fn query_without_any_filter_is_400() {
    let client = Client::shared();
    // GS CIM 009 5.7.2.4: a type, attrs or q naming a non-system attribute, a geoQ or
    // local=true; ids, an idPattern or a scopeQ alone do not narrow a query enough.
    for path in [
        "/ngsi-ld/v1/entities".to_owned(),
        "/ngsi-ld/v1/entities?limit=5&count=true".to_owned(),
        "/ngsi-ld/v1/entities?id=urn:ngsi-ld:T:1,urn:ngsi-ld:T:2".to_owned(),
        format!("/ngsi-ld/v1/entities?idPattern={}", enc(".*")),
        "/ngsi-ld/v1/entities?scopeQ=/Spain".to_owned(),
        "/ngsi-ld/v1/entities?attrs=createdAt".to_owned(),
        format!(
            "/ngsi-ld/v1/entities?q={}",
            enc("modifiedAt>\"2020-01-01T00:00:00Z\"")
        ),
        // 6.4.3.2: type=* implies local=true, which cannot then be false.
        "/ngsi-ld/v1/entities?type=*&local=false".to_owned(),
    ] {
        client.get(&path).await.assert_error(400, "BadRequestData");
    }
    for path in [
        "/ngsi-ld/v1/entities?attrs=createdAt,speed",
        "/ngsi-ld/v1/entities?type=*",
        "/ngsi-ld/v1/entities?idPattern=x&local=true",
    ] {
        client.get(path).await.assert_status(200);
    }
}

pub(crate) async fn query_matching_nothing_is_an_empty_array() {
    let client = Client::shared();
    let reply = client
        .get(&format!("/ngsi-ld/v1/entities?type={}", unique("Nothing")))
        .await;
    reply.assert_status(200);
    assert_eq!(reply.json, json!([]));
}

pub(crate) async fn post_query_takes_a_query_body() {
    let client = Client::shared();
    let (ty, [_, b, c, _]) = fleet(&client).await;
    let body = json!({
        "type": "Query",
        "entities": [{"type": ty}],
        "q": "speed>60",
        "attrs": ["speed"]
    });
    let reply = client
        .post("/ngsi-ld/v1/entityOperations/query?count=true", &body)
        .await;
    assert_eq!(ids_of(&reply), set(&[&b, &c]));
    assert_eq!(reply.header("ngsild-results-count"), Some("2"));
    for e in reply.json.as_array().into_iter().flatten() {
        assert!(e.get("brandName").is_none(), "projected: {e}");
    }
    client
        .post(
            "/ngsi-ld/v1/entityOperations/query",
            &json!({"entities": [{"type": ty}]}),
        )
        .await
        .assert_error(400, "BadRequestData");
}

pub(crate) async fn post_query_entity_selectors_are_alternatives() {
    let client = Client::shared();
    let (ty, [a, b, c, d]) = fleet(&client).await;
    let other = unique("Other");
    let stranger = format!("urn:ngsi-ld:{other}:x");
    client.create(&json!({"id": stranger, "type": other})).await;
    let query = |entities: Value| {
        let client = client.clone();
        async move {
            let reply = client
                .post(
                    "/ngsi-ld/v1/entityOperations/query",
                    &json!({"type": "Query", "entities": entities}),
                )
                .await;
            ids_of(&reply)
        }
    };
    // Each selector's members hold together ...
    assert_eq!(
        query(json!([{"type": ty, "idPattern": ".*:[01]$"}])).await,
        set(&[&a, &b])
    );
    assert_eq!(query(json!([{"type": other, "id": a}])).await, set(&[]));
    // ... and an entity matching any selector is in.
    assert_eq!(
        query(json!([{"type": ty, "idPattern": ".*:[01]$"}, {"type": other}])).await,
        set(&[&a, &b, &stranger])
    );
    assert_eq!(
        query(json!([{"type": ty, "id": c}, {"type": other}])).await,
        set(&[&c, &stranger])
    );
    assert_eq!(
        query(json!([{"type": ty, "id": d}, {"type": other, "id": stranger}])).await,
        set(&[&d, &stranger])
    );
    // 5.2.33: id may be an array, any of whose entities matches.
    assert_eq!(
        query(json!([{"type": ty, "id": [a, d, stranger]}])).await,
        set(&[&a, &d])
    );
}

pub(crate) async fn invalid_or_too_broad_query_bodies_are_400() {
    let client = Client::shared();
    let cases = [
        json!({"type": "Query"}),
        json!({"type": "Query", "entities": []}),
        json!({"type": "Query", "entities": [{}]}),
        // 5.2.33: type is the mandatory member of an EntitySelector.
        json!({"type": "Query", "entities": [{"id": "urn:ngsi-ld:T:1"}]}),
        json!({"type": "Query", "entities": [{"type": "T", "id": 5}]}),
        // 5.2.23: temporalQ is for the temporal query; joinLevel is a positive integer.
        json!({"type": "Query", "entities": [{"type": "T"}], "temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}}),
        json!({"type": "Query", "entities": [{"type": "T"}], "join": "inline", "joinLevel": 0}),
        json!({"type": "Query", "entities": [{"type": "T"}], "attrs": ["a"], "pick": ["b"]}),
        json!({"type": "Query", "attrs": ["createdAt"]}),
        json!({"type": "Query", "entities": [{"type": 5}]}),
        json!({"type": "Query", "entities": {"type": "T"}}),
        json!({"type": "Query", "entities": ["T"]}),
        json!({"type": "Query", "entities": [{"type": "T"}], "attrs": []}),
        json!({"type": "Query", "entities": [{"type": "T"}], "q": "speed>>1"}),
        json!({"type": "Query", "entities": [{"type": "T"}], "geoQ": {"georel": "near"}}),
        json!({"type": "Entity", "entities": [{"type": "T"}]}),
        json!([{"type": "Query", "entities": [{"type": "T"}]}]),
    ];
    for body in cases {
        let reply = client
            .post("/ngsi-ld/v1/entityOperations/query", &body)
            .await;
        assert_eq!(reply.status.as_u16(), 400, "{body}: {}", reply.text);
        reply.assert_error(400, "BadRequestData");
    }
}

pub(crate) async fn q_matches_every_attribute_kind() {
    let client = Client::shared();
    let ty = unique("Kinds");
    let id = format!("urn:ngsi-ld:{ty}:1");
    let mut thing = crate::entity_fixture("all-kinds.json", &id);
    thing["type"] = json!(ty);
    thing["when"] = json!({"type": "Property", "value": {"@type": "DateTime", "@value": "2024-05-01T10:00:00Z"}});
    client.create(&thing).await;
    let hit = set(&[&id]);
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        (r#"owner=="urn:ngsi-ld:Person:alice""#, hit.clone()),
        (r#"owner=="urn:ngsi-ld:Person:bob""#, set(&[])),
        (r#"name[fr]=="Pont""#, hit.clone()),
        (r#"name[fr]=="Bridge""#, set(&[])),
        (r#"neighbours=="urn:ngsi-ld:Thing:b""#, hit.clone()),
        ("readings==2", hit.clone()),
        ("readings==7", set(&[])),
        ("temperature.observedAt>2024-02-01T00:00:00Z", hit.clone()),
        ("when>2024-04-01T00:00:00Z", hit.clone()),
        ("when<2024-04-01T00:00:00Z", set(&[])),
        ("temperature>=21.5;temperature<21.6", hit.clone()),
    ];
    for (q, expected) in cases {
        let reply = client
            .get(&format!("/ngsi-ld/v1/entities?type={ty}&q={}", enc(q)))
            .await;
        assert_eq!(ids_of(&reply), expected, "q={q}");
    }
}

/// GS CIM 009 4.9 (CR 169r1, "allow forbidden characters"): a q written as curl sends it
/// without URL-encoding (`>`, `"`, spaces, UTF-8 raw in the request line) is the same query
/// as its encoded form, on a kept-alive connection as on a fresh one.
pub(crate) async fn raw_operators_quotes_and_spaces_in_the_query_string_work() {
    let client = Client::shared();
    let kind = unique("RawQ");
    let id = format!("urn:ngsi-ld:{kind}:1");
    let entity = json!({
        "id": id, "type": kind,
        "speed": {"type": "Property", "value": 80},
        "name": {"type": "Property", "value": "Tour Eiffel à Paris"},
    });
    client.create(&entity).await;
    // Two requests pipelined on one connection: a POST whose body holds the same characters
    // (left alone), then the raw query.
    let query_body = json!({"type": "Query", "entities": [{"type": kind}], "q": "speed>50"});
    let query_body = query_body.to_string();
    let request = format!(
        "POST /ngsi-ld/v1/entityOperations/query HTTP/1.1\r\nHost: oxion\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{query_body}\
         GET /ngsi-ld/v1/entities?type={kind}&q=speed>50;name==\"Tour Eiffel à Paris\" \
         HTTP/1.1\r\nHost: oxion\r\nConnection: close\r\n\r\n",
        query_body.len()
    );
    let answer = crate::raw_http::exchange(&client.url("/"), request.as_bytes()).await;
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
    assert_eq!(
        answer.matches(&id).count(),
        2,
        "each answer holds the entity: {answer}"
    );
    let miss = format!(
        "GET /ngsi-ld/v1/entities?type={kind}&q=speed<50 HTTP/1.1\r\nHost: oxion\r\n\
         Connection: close\r\n\r\n"
    );
    let answer = crate::raw_http::exchange(&client.url("/"), miss.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains(&id), "speed<50 matches nothing: {answer}");
}

/// Parameters that are well-formed one by one but wrong for the request are BadRequestData:
/// geometryProperty without GeoJSON (5.7.1.4, 5.7.2.4), attrs with pick or omit or naming an
/// entity member (6.4.3.2, 6.5.3.1), a zero distance (4.10 PositiveNumber), a joinLevel that
/// is not a positive integer, a context source filter that does not parse (5.7.2.4).
pub(crate) async fn contradictory_or_malformed_query_parameters_are_400() {
    let client = Client::shared();
    let (ty, [a, ..]) = fleet(&client).await;
    let entity = format!("/ngsi-ld/v1/entities/{}", enc(&a));
    for path in [
        format!("/ngsi-ld/v1/entities?type={ty}&geometryProperty=location"),
        format!("{entity}?geometryProperty=location"),
        format!("/ngsi-ld/v1/entities?type={ty}&attrs=speed&pick=speed"),
        format!("{entity}?attrs=speed&omit=brandName"),
        "/ngsi-ld/v1/entities?attrs=id,type".to_owned(),
        format!(
            "/ngsi-ld/v1/entities?type={ty}&georel={}&geometry=Point&coordinates={}",
            enc("near;maxDistance==0"),
            enc("[8,40]")
        ),
        format!("/ngsi-ld/v1/entities?type={ty}&join=inline&joinLevel=0"),
        format!("{entity}?join=sideways"),
        format!("/ngsi-ld/v1/entities?type={ty}&csf={}", enc("))bad((")),
    ] {
        client.get(&path).await.assert_error(400, "BadRequestData");
    }
    let geo = [("Accept", "application/geo+json")];
    client
        .get_with(&format!("{entity}?geometryProperty=location"), &geo)
        .await
        .assert_status(200);
}

/// GS CIM 009 4.21: `|` separates projected names as `,` does.
pub(crate) async fn pick_takes_pipes_as_commas() {
    let client = Client::shared();
    let (ty, [a, ..]) = fleet(&client).await;
    let entity = format!("/ngsi-ld/v1/entities/{}", enc(&a));
    let piped = client
        .get(&format!("{entity}?pick={}", enc("id|speed")))
        .await;
    let commas = client.get(&format!("{entity}?pick=id,speed")).await;
    piped.assert_status(200);
    assert_eq!(piped.json, commas.json);
    let keys: BTreeSet<&str> = piped
        .json
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["id", "speed"]),
        "{ty}: {}",
        piped.text
    );
}

/// GS CIM 009 5.2.23: the Query body's pick and omit shape the entities as the URI
/// parameters do.
pub(crate) async fn post_query_body_pick_and_omit_project() {
    let client = Client::shared();
    let (ty, [a, ..]) = fleet(&client).await;
    let query = |extra: Value| {
        let client = client.clone();
        let ty = ty.clone();
        let a = a.clone();
        async move {
            let mut body = json!({"type": "Query", "entities": [{"type": ty, "id": a}]});
            for (k, v) in extra.as_object().into_iter().flatten() {
                body[k] = v.clone();
            }
            let reply = client
                .post("/ngsi-ld/v1/entityOperations/query", &body)
                .await;
            reply.assert_status(200);
            let keys: BTreeSet<String> = reply.json[0]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .collect();
            keys
        }
    };
    let picked = query(json!({"pick": ["id", "speed"]})).await;
    assert_eq!(picked, ["id", "speed"].map(str::to_owned).into());
    let omitted = query(json!({"omit": ["speed"]})).await;
    assert!(
        omitted.contains("id") && !omitted.contains("speed"),
        "{omitted:?}"
    );
}

/// GS CIM 009 5.5.9, 6.3.10: a page links to the previous and next ones (rel="prev",
/// rel="next"), with the request's media type, and the links lead to those pages.
pub(crate) async fn query_pages_link_to_their_neighbours() {
    let client = Client::shared();
    let (ty, ids) = fleet(&client).await;
    let page = |offset: usize| {
        let client = client.clone();
        let path = format!("/ngsi-ld/v1/entities?type={ty}&limit=2&offset={offset}&count=true");
        async move { client.get(&path).await }
    };
    let links = |reply: &Reply, rel: &str| -> Vec<String> {
        reply
            .headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| {
                v.split(',')
                    .map(str::trim)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|l| l.contains(&format!(r#"rel="{rel}""#)))
            .collect()
    };
    let first = page(0).await;
    assert!(links(&first, "prev").is_empty(), "{:?}", first.headers);
    let next = links(&first, "next");
    assert_eq!(next.len(), 1, "{next:?}");
    assert!(next[0].contains("offset=2") && next[0].contains(r#"type="application/json""#));
    // The target is a request that answers the next page.
    let target = next[0]
        .split(['<', '>'])
        .nth(1)
        .unwrap_or_else(|| panic!("a target: {}", next[0]))
        .to_owned();
    let followed = client.get(&target).await;
    let mut seen = ids_of(&first);
    seen.extend(ids_of(&followed));
    assert_eq!(seen, ids.iter().cloned().collect());
    let last = page(2).await;
    assert!(links(&last, "next").is_empty());
    assert!(links(&last, "prev")[0].contains("offset=0"));
}

/// GS CIM 009 5.7.2.4: with a projection Attribute list, a matching entity holds at least one of
/// its Attributes: `pick=name` over entities with and without `name` returns only those with it
/// (and counts only them), while `pick=id,name` leaves every entity its id.
pub(crate) async fn pick_of_attributes_selects_the_entities_that_have_one() {
    let client = Client::shared();
    let ty = format!("Place{}", unique("p"));
    let named = format!("urn:ngsi-ld:Place:{}", unique("n"));
    let unnamed = format!("urn:ngsi-ld:Place:{}", unique("u"));
    client
        .create(&json!({"id": named, "type": ty, "name": {"type": "Property", "value": "Pisa"}}))
        .await;
    client
        .create(&json!({"id": unnamed, "type": ty, "height": {"type": "Property", "value": 3}}))
        .await;
    let picked = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={ty}&pick=name&count=true"
        ))
        .await;
    picked.assert_status(200);
    assert_eq!(
        picked.json,
        json!([{"name": {"type": "Property", "value": "Pisa"}}])
    );
    assert_eq!(picked.header("ngsild-results-count"), Some("1"));
    let with_id = client
        .get(&format!("/ngsi-ld/v1/entities?type={ty}&pick=id,name"))
        .await;
    assert_eq!(
        with_id.json.as_array().map(Vec::len),
        Some(2),
        "{}",
        with_id.text
    );
}
