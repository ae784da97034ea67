//! Clause 5.5.7 and 6.3.5 (the request's @context: core, Link header, inline), 6.3.4 (JSON-LD
//! media rules) and 5.13 (`/jsonldContexts`). User contexts are served by a loopback HTTP
//! server that each case starts.

use crate::{
    closed_port, enc, entity_path, fixture, link, unique, urn, BrokerProcess, Client, ContextServer,
};
use reqwest::Method;
use serde_json::{json, Value};

fn car(id: &str) -> Value {
    json!({"id": id, "type": "Car", "topSpeed": {"type": "Property", "value": 210}})
}

pub(crate) async fn core_context_only_expands_unknown_terms_to_the_default_vocabulary() {
    let client = Client::shared();
    let id = urn("Car");
    client.create(&car(&id)).await;
    // Compacted with the same (core) context, names come back as sent.
    let got = client.get(&entity_path(&id)).await;
    assert_eq!(got.json, car(&id));
    // With a user context that maps the name elsewhere, the default-vocabulary IRI shows.
    let server = ContextServer::serve(fixture("user-context.json"));
    let other = client
        .get_with(
            &entity_path(&id),
            &[("Link", &link(&server.url("ctx.jsonld")))],
        )
        .await;
    other.assert_status(200);
    // Compacted as the full IRI or as a compact IRI of it (`ngsi-ld:default-context/...`).
    assert!(other.json.get("topSpeed").is_none(), "{}", other.text);
    assert!(
        other
            .json
            .as_object()
            .is_some_and(|m| m.keys().any(|k| k.ends_with("default-context/topSpeed"))),
        "{}",
        other.text
    );
}

pub(crate) async fn link_header_context_expands_and_compacts_names() {
    let client = Client::shared();
    let server = ContextServer::serve(fixture("user-context.json"));
    let ctx = server.url(&unique("ctx"));
    let header = link(&ctx);
    let id = urn("Car");
    client
        .json_with(
            Method::POST,
            "/ngsi-ld/v1/entities",
            &car(&id),
            &[("Link", &header)],
        )
        .await
        .assert_status(201);
    assert!(server.hits() >= 1, "the broker fetched the context");

    // Same context: short names, and the Link header echoes it.
    let got = client
        .get_with(&entity_path(&id), &[("Link", &header)])
        .await;
    assert_eq!(got.json, car(&id));
    assert!(
        got.header("link").is_some_and(|l| l.contains(&ctx)),
        "{:?}",
        got.header("link")
    );

    // As JSON-LD, the same context is the body's @context, and no Link comes back.
    let as_ld = client
        .get_with(
            &entity_path(&id),
            &[("Link", &header), ("Accept", "application/ld+json")],
        )
        .await;
    assert_eq!(as_ld.json["@context"], json!(ctx), "{}", as_ld.text);
    assert_eq!(as_ld.json["topSpeed"]["value"], 210);
    assert!(as_ld.header("link").is_none());

    // Core context only: the full IRIs the user context gave.
    let core = client.get(&entity_path(&id)).await;
    assert_eq!(core.json["type"], "https://example.org/vocab/Car");
    assert_eq!(
        core.json["https://example.org/vocab/topSpeed"]["value"],
        210
    );

    // Queries expand the type and q with the Link context too.
    let reply = client
        .get_with(
            &format!(
                "/ngsi-ld/v1/entities?type=Car&q=topSpeed%3E200&id={}",
                enc(&id)
            ),
            &[("Link", &header)],
        )
        .await;
    assert_eq!(reply.json, json!([car(&id)]));
    let by_iri = client
        .get(&format!(
            "/ngsi-ld/v1/entities?type={}&id={}",
            enc("https://example.org/vocab/Car"),
            enc(&id)
        ))
        .await;
    assert_eq!(by_iri.json[0]["id"], id);
}

pub(crate) async fn inline_context_with_json_ld_is_used() {
    let client = Client::shared();
    let id = urn("Car");
    let mut body = car(&id);
    body["@context"] = json!([
        {"Car": "https://example.org/inline/Car", "topSpeed": "https://example.org/inline/topSpeed"},
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    ]);
    client
        .json_ld(Method::POST, "/ngsi-ld/v1/entities", &body)
        .await
        .assert_status(201);
    let core = client.get(&entity_path(&id)).await;
    assert_eq!(core.json["type"], "https://example.org/inline/Car");
    assert_eq!(
        core.json["https://example.org/inline/topSpeed"]["value"],
        210
    );
}

pub(crate) async fn json_ld_without_context_is_400() {
    let client = Client::shared();
    client
        .json_ld(Method::POST, "/ngsi-ld/v1/entities", &car(&urn("Car")))
        .await
        .assert_error(400, "BadRequestData");
}

pub(crate) async fn json_ld_with_a_link_header_is_400() {
    let client = Client::shared();
    let server = ContextServer::serve(fixture("user-context.json"));
    let mut body = car(&urn("Car"));
    body["@context"] = json!("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld");
    client
        .send(
            Method::POST,
            "/ngsi-ld/v1/entities",
            Some(("application/ld+json", body.to_string().into_bytes())),
            &[("Link", &link(&server.url("ctx.jsonld")))],
        )
        .await
        .assert_error(400, "BadRequestData");
}

pub(crate) async fn context_in_a_json_body_is_400() {
    let client = Client::shared();
    let mut body = car(&urn("Car"));
    body["@context"] = json!("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld");
    client
        .post("/ngsi-ld/v1/entities", &body)
        .await
        .assert_error(400, "BadRequestData");
}

pub(crate) async fn unreachable_remote_context_is_504_ld_context_not_available() {
    let client = Client::shared();
    let url = format!(
        "http://127.0.0.1:{}/{}.jsonld",
        closed_port(),
        unique("gone")
    );
    client
        .json_with(
            Method::POST,
            "/ngsi-ld/v1/entities",
            &car(&urn("Car")),
            &[("Link", &link(&url))],
        )
        .await
        .assert_error(504, "LdContextNotAvailable");
    client
        .get_with("/ngsi-ld/v1/entities?type=Car", &[("Link", &link(&url))])
        .await
        .assert_error(504, "LdContextNotAvailable");
    // The same URL inside an inline @context.
    let mut body = car(&urn("Car"));
    body["@context"] = json!([url]);
    client
        .json_ld(Method::POST, "/ngsi-ld/v1/entities", &body)
        .await
        .assert_error(504, "LdContextNotAvailable");
}

pub(crate) async fn malformed_link_header_is_400() {
    let client = Client::shared();
    for value in [
        "http://example.org/ctx.jsonld".to_owned(),
        format!(r#"<not a url>; rel="{}""#, crate::CONTEXT_REL),
    ] {
        client
            .get_with("/ngsi-ld/v1/entities?type=Car", &[("Link", &value)])
            .await
            .assert_error(400, "BadRequestData");
    }
}

pub(crate) async fn hosted_contexts_are_stored_served_listed_used_and_deleted() {
    let client = Client::shared().with_tenant(&unique("ctx"));
    let document = fixture("user-context.json");
    let created = client.post("/ngsi-ld/v1/jsonldContexts", &document).await;
    created.assert_status(201);
    // GS CIM 009 6.29.3.1: Location is the local relative path of the added @context.
    let path = created.header("location").expect("Location").to_owned();
    assert!(path.starts_with("/ngsi-ld/v1/jsonldContexts/"), "{path}");
    let local_id = path.rsplit('/').next().unwrap_or_default().to_owned();

    let served = client.get(&path).await;
    served.assert_status(200);
    assert_eq!(served.header("content-type"), Some("application/json"));
    assert_eq!(served.json, document);

    let details = client
        .get("/ngsi-ld/v1/jsonldContexts?details=true&kind=Hosted")
        .await;
    let entry = details
        .json
        .as_array()
        .and_then(|l| l.iter().find(|e| e["localId"] == local_id.as_str()))
        .unwrap_or_else(|| panic!("{local_id} in {}", details.text))
        .clone();
    assert_eq!(entry["kind"], "Hosted");
    let url = entry["URL"].as_str().unwrap_or_default().to_owned();
    assert!(url.ends_with(&path), "{url} is where {path} is served");
    let listed = client.get("/ngsi-ld/v1/jsonldContexts").await;
    assert!(
        listed
            .json
            .as_array()
            .is_some_and(|l| l.contains(&json!(url))),
        "{}",
        listed.text
    );

    // The hosted URL works as a Link context.
    let id = urn("Car");
    client
        .json_with(
            Method::POST,
            "/ngsi-ld/v1/entities",
            &car(&id),
            &[("Link", &link(&url))],
        )
        .await
        .assert_status(201);
    let core = client.get(&entity_path(&id)).await;
    assert_eq!(core.json["type"], "https://example.org/vocab/Car");
    let same = client
        .get_with(&entity_path(&id), &[("Link", &link(&url))])
        .await;
    assert_eq!(same.json, car(&id));

    client.delete(&path).await.assert_status(204);
    client
        .get(&path)
        .await
        .assert_error(404, "ResourceNotFound");
    client
        .delete(&path)
        .await
        .assert_error(404, "ResourceNotFound");
}

pub(crate) async fn hosting_a_body_without_context_is_400() {
    let client = Client::shared();
    client
        .post(
            "/ngsi-ld/v1/jsonldContexts",
            &json!({"Car": "https://e.org/Car"}),
        )
        .await
        .assert_error(400, "InvalidRequest");
    client
        .post("/ngsi-ld/v1/jsonldContexts", &json!({"@context": 42}))
        .await
        .assert_error(400, "BadRequestData");
    client
        .get("/ngsi-ld/v1/jsonldContexts/no-such-context")
        .await
        .assert_error(404, "ResourceNotFound");
}

/// GS CIM 009 5.5.6: a remote @context that was retrieved but is invalid (not JSON, no
/// `@context` member, not a context) is BadRequestData, not LdContextNotAvailable.
pub(crate) async fn an_invalid_remote_context_is_400() {
    let client = Client::shared();
    let mut documents: Vec<String> = [
        json!({"@context": 5}),
        json!({"@context": {"Car": {"@id": 5}}}),
        json!({"@context": [{"Car": "https://example.org/Car"}, 7]}),
        json!(["not", "a", "context"]),
        json!({"Car": "https://example.org/Car"}),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    documents.push("<html>not JSON</html>".to_owned());
    for document in documents {
        let server = ContextServer::serve_text(document.clone());
        client
            .get_with(
                "/ngsi-ld/v1/entities?type=Car",
                &[("Link", &link(&server.url(&unique("bad"))))],
            )
            .await
            .assert_error(400, "BadRequestData");
    }
}

/// GS CIM 009 5.13.2 with JSON-LD 1.1 context processing: a context array holds IRIs, objects
/// or null; one with a number is rejected at once, before the URLs in it are fetched.
pub(crate) async fn a_context_with_a_number_in_its_array_is_400_before_any_fetch() {
    let client = Client::shared();
    let server = ContextServer::serve(json!({"@context": {"Car": "https://e.org/Car"}}));
    let body = json!({"@context": [server.url(&unique("ctx")), 7]});
    client
        .post("/ngsi-ld/v1/jsonldContexts", &body)
        .await
        .assert_error(400, "BadRequestData");
    assert_eq!(
        server.hits(),
        0,
        "nothing is fetched for an invalid context"
    );
}

/// GS CIM 009 5.13.4: a Cached @context is found by its local id or by the URL it came from;
/// its details are served, its content is not (OperationNotSupported); 5.13.5 deletes it by URL.
pub(crate) async fn cached_contexts_are_found_by_their_url_and_only_described() {
    let client = Client::shared();
    let server = ContextServer::serve(json!({"@context": {"Car": "https://e.org/Car"}}));
    let url = server.url(&unique("cached"));
    client
        .get_with("/ngsi-ld/v1/entities?type=Car", &[("Link", &link(&url))])
        .await
        .assert_status(200);
    let path = format!("/ngsi-ld/v1/jsonldContexts/{}", enc(&url));
    let details = client.get(&format!("{path}?details=true")).await;
    details.assert_status(200);
    assert_eq!(details.json["kind"], "Cached", "{}", details.text);
    assert_eq!(details.json["URL"], url.as_str());
    let by_local_id = format!(
        "/ngsi-ld/v1/jsonldContexts/{}?details=true",
        details.json["localId"].as_str().unwrap_or_default()
    );
    assert_eq!(client.get(&by_local_id).await.json["URL"], url.as_str());
    client
        .get(&path)
        .await
        .assert_error(422, "OperationNotSupported");
    // Every request that uses it is a hit (5.13.3.5).
    client
        .get_with("/ngsi-ld/v1/entities?type=Car", &[("Link", &link(&url))])
        .await
        .assert_status(200);
    let details = client.get(&format!("{path}?details=true")).await;
    assert_eq!(details.json["numberOfHits"], 2, "{}", details.text);
    assert!(details.json["lastUsage"].is_string(), "{}", details.text);
    // 5.13.5.4: a reload fetches it again; when that fails, it stays as it was.
    let reload = format!("{path}?reload=true");
    client.delete(&reload).await.assert_status(204);
    drop(server);
    client
        .delete(&reload)
        .await
        .assert_error(504, "LdContextNotAvailable");
    client
        .get(&format!("{path}?details=true"))
        .await
        .assert_status(200);
    client.delete(&path).await.assert_status(204);
    client
        .get(&format!("{path}?details=true"))
        .await
        .assert_error(404, "ResourceNotFound");
}

/// GS CIM 009 5.13.5.4: only a Cached @context can be reloaded; asking it of a Hosted one is
/// BadRequestData and leaves it in place.
pub(crate) async fn only_cached_contexts_can_be_reloaded() {
    let client = Client::shared();
    let created = client
        .post("/ngsi-ld/v1/jsonldContexts", &fixture("user-context.json"))
        .await;
    created.assert_status(201);
    let path = created.header("location").expect("Location").to_owned();
    client
        .delete(&format!("{path}?reload=true"))
        .await
        .assert_error(400, "BadRequestData");
    client.get(&path).await.assert_status(200);
    client.delete(&path).await.assert_status(204);
}

/// GS CIM 009 5.13.3/5.13.5 (CR 174, "protect core context"): the core @context is listed as
/// Cached under its URL; deleting it is BadRequestData, reloading it keeps the built-in one.
pub(crate) async fn the_core_context_is_listed_and_protected() {
    let client = Client::shared();
    let core = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
    let listed = client
        .get("/ngsi-ld/v1/jsonldContexts?details=true&kind=Cached")
        .await;
    assert!(
        listed
            .json
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e["URL"] == core)),
        "{}",
        listed.text
    );
    let path = format!("/ngsi-ld/v1/jsonldContexts/{}", enc(core));
    client
        .delete(&path)
        .await
        .assert_error(400, "BadRequestData");
    client
        .delete(&format!("{path}?reload=true"))
        .await
        .assert_status(204);
    client
        .get(&format!("{path}?details=true"))
        .await
        .assert_status(200);
}

/// Oxion's `--public-url`: the @context URLs the broker creates name the address clients use
/// (behind a load balancer or a proxy), not the address it listens on.
pub(crate) async fn hosted_context_urls_use_the_public_url() {
    let mut broker =
        BrokerProcess::start(&["--public-url", "https://broker.example.org/"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let created = client
        .post("/ngsi-ld/v1/jsonldContexts", &fixture("user-context.json"))
        .await;
    created.assert_status(201);
    let path = created.header("location").expect("Location").to_owned();
    let listed = client.get("/ngsi-ld/v1/jsonldContexts").await;
    let expected = format!("https://broker.example.org{path}");
    assert!(
        listed
            .json
            .as_array()
            .is_some_and(|l| l.contains(&json!(expected))),
        "{expected} in {}",
        listed.text
    );
    broker.kill_hard();
}

/// The @context URLs one tenant's listing holds (`/jsonldContexts?details=true`).
async fn listed_urls(client: &Client) -> Vec<String> {
    let listed = client.get("/ngsi-ld/v1/jsonldContexts?details=true").await;
    listed.assert_status(200);
    listed
        .json
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|e| e["URL"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A client of a fresh tenant that exists (it holds one entity, created with the core context).
async fn fresh_tenant(prefix: &str) -> Client {
    let client = Client::shared().with_tenant(&unique(prefix));
    client.create(&car(&urn("Car"))).await;
    client
}

/// GS CIM 009 5.13.1 (ImplicitlyCreated contexts are made for requests the broker serves):
/// a request that is refused leaves no ImplicitlyCreated context behind for its inline
/// @context; the same @context in a successful request is registered and served.
pub(crate) async fn a_refused_request_registers_no_context() {
    let client = fresh_tenant("refused").await;
    let before = listed_urls(&client).await;
    let inline = json!({"Car": format!("https://example.org/{}/Car", unique("v"))});
    let mut bad = car("not a URI");
    bad["@context"] = inline.clone();
    client
        .json_ld(Method::POST, "/ngsi-ld/v1/entities", &bad)
        .await
        .assert_error(400, "BadRequestData");
    assert_eq!(listed_urls(&client).await, before, "nothing registered");

    let mut good = car(&urn("Car"));
    good["@context"] = inline;
    client
        .json_ld(Method::POST, "/ngsi-ld/v1/entities", &good)
        .await
        .assert_status(201);
    let after = client
        .get("/ngsi-ld/v1/jsonldContexts?details=true&kind=ImplicitlyCreated")
        .await
        .json;
    let urls: Vec<&str> = after
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["URL"].as_str())
        .collect();
    assert_eq!(urls.len(), 1, "{after}");
    let path = &urls[0][urls[0].find("/ngsi-ld/").unwrap_or(0)..];
    assert_eq!(client.get(path).await.json["@context"], good["@context"]);
}

/// GS CIM 009 5.13 with 6.3.14 (tenants): the Cached and ImplicitlyCreated @contexts a tenant's
/// requests used and the Hosted ones it stored are its own: another tenant neither lists, reads
/// the details of, nor deletes them; the core @context is everyone's, and an ImplicitlyCreated
/// document is served by its URL. A Cached context two tenants use is each
/// one's: one tenant's DELETE leaves it to the other.
pub(crate) async fn contexts_are_kept_apart_by_tenant() {
    let a = fresh_tenant("ctxa").await;
    let b = fresh_tenant("ctxb").await;
    let server = ContextServer::serve(json!({"@context": {"Car": "https://e.org/Car"}}));
    let cached = server.url(&unique("shared"));
    a.get_with("/ngsi-ld/v1/entities?type=Car", &[("Link", &link(&cached))])
        .await
        .assert_status(200);
    let mut inline = car(&urn("Car"));
    inline["@context"] = json!({"Car": format!("https://example.org/{}/Car", unique("v"))});
    a.json_ld(Method::POST, "/ngsi-ld/v1/entities", &inline)
        .await
        .assert_status(201);
    let hosted = a
        .post("/ngsi-ld/v1/jsonldContexts", &fixture("user-context.json"))
        .await;
    hosted.assert_status(201);

    let a_urls = listed_urls(&a).await;
    assert_eq!(
        a_urls.len(),
        4,
        "core, Cached, ImplicitlyCreated, Hosted: {a_urls:?}"
    );
    let core = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
    assert_eq!(listed_urls(&b).await, vec![core.to_owned()]);
    for url in a_urls.iter().filter(|u| *u != core) {
        let path = match url.find("/ngsi-ld/v1/jsonldContexts/") {
            Some(at) => url[at..].to_owned(),
            None => format!("/ngsi-ld/v1/jsonldContexts/{}", enc(url)),
        };
        b.get(&format!("{path}?details=true"))
            .await
            .assert_error(404, "ResourceNotFound");
        b.delete(&path).await.assert_error(404, "ResourceNotFound");
        a.get(&format!("{path}?details=true"))
            .await
            .assert_status(200);
    }
    assert_eq!(
        listed_urls(&a).await,
        a_urls,
        "B's deletes took nothing of A's"
    );
    // An ImplicitlyCreated document is served to whoever has its URL: a notification's
    // receiver fetches the @context it names without a tenant. A Hosted one only to A.
    let no_tenant = Client::shared();
    let details = a.get("/ngsi-ld/v1/jsonldContexts?details=true").await.json;
    for entry in details.as_array().into_iter().flatten() {
        let url = entry["URL"].as_str().unwrap_or_default();
        let Some(at) = url.find("/ngsi-ld/v1/jsonldContexts/") else {
            continue;
        };
        let served = no_tenant.get(&url[at..]).await;
        match entry["kind"].as_str() {
            Some("ImplicitlyCreated") => served.assert_status(200),
            _ => served.assert_status(404),
        };
    }

    // B uses the Cached one too: B sees it, with its own count; B's DELETE leaves A's.
    b.get_with("/ngsi-ld/v1/entities?type=Car", &[("Link", &link(&cached))])
        .await
        .assert_status(200);
    let path = format!("/ngsi-ld/v1/jsonldContexts/{}", enc(&cached));
    let seen_by_b = b.get(&format!("{path}?details=true")).await;
    assert_eq!(seen_by_b.json["numberOfHits"], 1, "{}", seen_by_b.text);
    b.delete(&path).await.assert_status(204);
    b.get(&format!("{path}?details=true"))
        .await
        .assert_error(404, "ResourceNotFound");
    a.get(&format!("{path}?details=true"))
        .await
        .assert_status(200);
}

/// Oxion's `--max-inline-context-bytes`: an inline @context larger than the cap is refused with
/// 413 (and registers nothing); one within it is used.
pub(crate) async fn an_inline_context_over_the_cap_is_413() {
    let mut broker =
        BrokerProcess::start(&["--max-inline-context-bytes", "10000"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let terms = |n: usize| -> serde_json::Map<String, Value> {
        (0..n)
            .map(|i| {
                (
                    format!("term{i}"),
                    json!(format!("https://example.org/term{i}")),
                )
            })
            .collect()
    };
    let mut big = car(&urn("Car"));
    big["@context"] = Value::Object(terms(500));
    client
        .json_ld(Method::POST, "/ngsi-ld/v1/entities", &big)
        .await
        .assert_error(413, "InvalidRequest");
    let mut small = car(&urn("Car"));
    small["@context"] = Value::Object(terms(20));
    client
        .json_ld(Method::POST, "/ngsi-ld/v1/entities", &small)
        .await
        .assert_status(201);
    let implicit = client
        .get("/ngsi-ld/v1/jsonldContexts?kind=ImplicitlyCreated")
        .await;
    assert_eq!(
        implicit.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        implicit.text
    );
    broker.kill_hard();
}

/// The value of the gauge `name{cache="cache"}` in a `/metrics` text.
fn gauge(metrics: &str, name: &str, cache: &str) -> usize {
    let series = format!("{name}{{cache=\"{cache}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{series} in {metrics}"))
}

/// Oxion's `--context-cache-bytes`: many large distinct @contexts, linked and inline, keep the
/// caches within the budget (as `/metrics` shows), the least recently used giving way, while
/// the newest are still served.
pub(crate) async fn context_caches_stay_within_their_budget() {
    const BUDGET: usize = 4_000_000;
    let budget = BUDGET.to_string();
    let mut broker = BrokerProcess::start(&["--context-cache-bytes", &budget]).expect("a broker");
    let client = Client::new(&broker.base_url);
    // About 100 KB of JSON text per context, 40 of each kind: ten times the budget or more.
    let terms = |tag: &str| -> Value {
        let map: serde_json::Map<String, Value> = (0..1500)
            .map(|i| {
                (
                    format!("t{i}"),
                    json!(format!("https://example.org/{tag}/t{i}")),
                )
            })
            .collect();
        Value::Object(map)
    };
    let mut last_link = String::new();
    for i in 0..40 {
        let tag = unique(&format!("linked{i}"));
        let server = ContextServer::serve(json!({ "@context": terms(&tag) }));
        last_link = server.url(&tag);
        client
            .get_with(
                "/ngsi-ld/v1/entities?type=Car",
                &[("Link", &link(&last_link))],
            )
            .await
            .assert_status(200);
    }
    // The newest Cached one is listed (the inline ones below will push it out in turn).
    client
        .get(&format!(
            "/ngsi-ld/v1/jsonldContexts/{}?details=true",
            enc(&last_link)
        ))
        .await
        .assert_status(200);
    let mut last_inline = Value::Null;
    for i in 0..40 {
        let mut entity = car(&urn("Car"));
        entity["@context"] = terms(&unique(&format!("inline{i}")));
        client
            .json_ld(Method::POST, "/ngsi-ld/v1/entities", &entity)
            .await
            .assert_status(201);
        last_inline = entity["@context"].clone();
    }
    let metrics = client.get("/metrics").await.text;
    let share = [
        ("contexts", BUDGET / 2),
        ("documents", BUDGET / 4),
        ("registry", BUDGET / 4),
    ];
    for (cache, bytes) in share {
        let held = gauge(&metrics, "oxion_context_cache_bytes", cache);
        assert!(held <= bytes, "{cache}: {held} bytes over its {bytes}");
        assert!(held > 0, "{cache} holds something");
    }
    let implicit = client
        .get("/ngsi-ld/v1/jsonldContexts?kind=ImplicitlyCreated&details=true")
        .await
        .json;
    let held = implicit.as_array().map_or(0, Vec::len);
    assert!((1..40).contains(&held), "{held} ImplicitlyCreated held");
    // The newest ImplicitlyCreated one is still served.
    let mut served = Vec::new();
    for entry in implicit.as_array().into_iter().flatten() {
        let id = entry["localId"].as_str().unwrap_or_default();
        let got = client
            .get(&format!("/ngsi-ld/v1/jsonldContexts/{id}"))
            .await;
        served.push(got.json["@context"].clone());
    }
    assert!(
        served.contains(&last_inline),
        "the newest inline @context is served"
    );
    broker.kill_hard();
}
