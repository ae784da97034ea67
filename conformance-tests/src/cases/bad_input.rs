//! A bounded replay of generated bad requests against a broker of its own: mutated entities,
//! fragments and subscriptions, garbage in `q`, `geoQ`, `scopeQ`, `type`, `attrs` and the other
//! parameters, wrong media types, malformed Link headers, odd paths and methods. Whatever comes,
//! the broker answers: never a 5xx (but for 504 LdContextNotAvailable, the right answer when an
//! @context cannot be had), every error a ProblemDetails, `/health` all along, and its memory
//! grows by a bounded amount.
//!
//! The stream is reproducible: `OXION_BAD_INPUT_SEED` picks it (printed when a case fails) and
//! `OXION_BAD_INPUT_REQUESTS` its length (1,500 by default, a few seconds).

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::{entity_fixture, fixture, BrokerProcess, Client, Reply};

const DEFAULT_REQUESTS: usize = 1500;
const DEFAULT_SEED: u64 = 0x0c7e_57ab_1e00_0014;
/// How much the broker's resident memory may grow over the whole stream.
const MAX_RSS_GROWTH_KB: u64 = 96 * 1024;

pub(crate) async fn generated_bad_requests_get_problem_details_and_never_a_5xx() {
    let seed = env_number("OXION_BAD_INPUT_SEED").unwrap_or(DEFAULT_SEED);
    let requests = env_number("OXION_BAD_INPUT_REQUESTS").map_or(DEFAULT_REQUESTS, |n| n as usize);
    let mut broker = BrokerProcess::start(&[]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let mut gen = Generator {
        rng: fastrand::Rng::with_seed(seed),
    };
    // A few valid entities for the generated requests to hit, then the memory baseline.
    for i in 0..20 {
        client
            .create(&entity_fixture(
                "vehicle.json",
                &format!("urn:ngsi-ld:Vehicle:bad{i}"),
            ))
            .await;
    }
    let baseline = rss_kb(broker.pid());
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..requests {
        let request = gen.request();
        let reply = client
            .send(
                request.method.clone(),
                &request.path,
                request.body.clone(),
                &request
                    .headers
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect::<Vec<_>>(),
            )
            .await;
        check(&reply, &request, seed, i);
        *statuses.entry(reply.status.as_u16()).or_default() += 1;
        if i % 100 == 99 {
            client.get("/health").await.assert_status(200);
        }
    }
    client.get("/health").await.assert_status(200);
    // The stream reaches past the first checks: some requests are accepted, and the refusals
    // are of several kinds.
    let accepted: usize = statuses.range(200..300).map(|(_, n)| n).sum();
    assert!(accepted > 0 && statuses.len() >= 5, "statuses {statuses:?}");
    eprintln!("bad input, seed {seed:#x}: statuses {statuses:?}");
    let grown = rss_kb(broker.pid()).saturating_sub(baseline);
    assert!(
        grown <= MAX_RSS_GROWTH_KB,
        "resident memory grew by {grown} KB over {requests} requests (seed {seed:#x})"
    );
    broker.kill_hard();
}

/// No 5xx but LdContextNotAvailable; every error a ProblemDetails (411 excepted: GS CIM 009
/// 6.3.4 asks for no body there).
fn check(reply: &Reply, request: &Generated, seed: u64, index: usize) {
    let status = reply.status.as_u16();
    let what = || {
        format!(
            "request {index} of seed {seed:#x}: {} {} -> {status} {}",
            request.method,
            request.path,
            reply.text.chars().take(300).collect::<String>()
        )
    };
    // A HEAD answer has no body to tell: a 504 there is taken for one when a Link was sent.
    let sent_link = request.headers.iter().any(|(k, _)| *k == "Link");
    let ld_context_unavailable = status == 504
        && (reply.json["type"] == "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable"
            || (request.method == Method::HEAD && sent_link));
    assert!(status < 500 || ld_context_unavailable, "{}", what());
    if status >= 400 && status != 411 && request.method != Method::HEAD {
        let error_type = reply.json["type"].as_str().unwrap_or_default();
        assert!(
            error_type.starts_with("https://uri.etsi.org/ngsi-ld/errors/"),
            "not a ProblemDetails: {}",
            what()
        );
        assert!(reply.json["title"].is_string(), "no title: {}", what());
    }
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// VmRSS of a process, in KB (0 where /proc has no such process).
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

struct Generated {
    method: Method,
    path: String,
    body: Option<(&'static str, Vec<u8>)>,
    headers: Vec<(&'static str, String)>,
}

struct Generator {
    rng: fastrand::Rng,
}

/// Pieces of the query languages, recombined into mostly-invalid expressions.
const Q_ATOMS: &[&str] = &[
    "speed",
    ">",
    "<",
    "==",
    "!=",
    ">=",
    "<=",
    "~=",
    "!~=",
    ";",
    "|",
    "(",
    ")",
    "\"",
    "'",
    "..",
    "1",
    "-0.5e309",
    "1e400",
    "true",
    "null",
    "2024-01-01T00:00:00Z",
    "[",
    "]",
    ".",
    "brand",
    "a.b[c]",
    "%",
    "%zz",
    "é",
    "\u{202e}",
    "\\",
    "*",
    ",",
    " ",
    "",
    "speed.observedAt",
    "@id",
    "urn:ngsi-ld:x",
    "99999999999999999999",
    "\u{0}",
    "/",
    "#",
    "<>",
    "((((((((",
    "))))",
];
const GEOREL: &[&str] = &[
    "near;maxDistance==1000",
    "near;minDistance==-1",
    "near",
    "within",
    "contains",
    "intersects",
    "equals",
    "disjoint",
    "overlaps",
    "near;maxDistance",
    "near;foo==1",
    "",
    "x",
];
const GEOMETRY: &[&str] = &[
    "Point",
    "Polygon",
    "LineString",
    "MultiPolygon",
    "point",
    "Circle",
    "",
    "GeometryCollection",
];
const COORDS: &[&str] = &[
    "[1,2]",
    "[[1,2],[3,4]]",
    "[[[0,0],[0,1],[1,1],[0,0]]]",
    "[1e999,2]",
    "[",
    "[]",
    "[[[]]]",
    "[1,2,3,4,5]",
    "[\"a\",\"b\"]",
    "[[[0,0],[0,1],[1,1]]]",
    "null",
    "[181,91]",
];
const TYPES: &[&str] = &[
    "Vehicle",
    "Vehicle,Car",
    "(Vehicle|Car);Bus",
    "Vehicle;",
    "|",
    "((",
    "a b",
    "http://x/T",
    "é",
    "*",
    ",,",
    "Vehicle|",
    ";Car",
    "urn:x:y",
];
const MEDIA: &[&str] = &[
    "application/json",
    "application/ld+json",
    "application/merge-patch+json",
    "text/plain",
    "application/json; charset=latin-1",
    "application/xml",
    "",
    "*/*",
    "application/geo+json",
    "application/json;;",
    "multipart/form-data; boundary=x",
];
const LINKS: &[&str] = &[
    "<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"",
    "<>; rel=\"http://www.w3.org/ns/json-ld#context\"",
    "https://example.org/no-brackets",
    "<urn:not:fetchable>; rel=\"http://www.w3.org/ns/json-ld#context\"",
    "<http://[::1>; rel=\"http://www.w3.org/ns/json-ld#context\"",
    "<a>, <b>, <c>",
    ";;;",
];
const PATHS: &[&str] = &[
    "/ngsi-ld/v1/entities",
    "/ngsi-ld/v1/entities/{id}",
    "/ngsi-ld/v1/entities/{id}/attrs",
    "/ngsi-ld/v1/entities/{id}/attrs/{attr}",
    "/ngsi-ld/v1/entityOperations/create",
    "/ngsi-ld/v1/entityOperations/upsert",
    "/ngsi-ld/v1/entityOperations/update",
    "/ngsi-ld/v1/entityOperations/delete",
    "/ngsi-ld/v1/entityOperations/merge",
    "/ngsi-ld/v1/entityOperations/query",
    "/ngsi-ld/v1/entityOperations/purge",
    "/ngsi-ld/v1/subscriptions",
    "/ngsi-ld/v1/subscriptions/{id}",
    "/ngsi-ld/v1/temporal/entities",
    "/ngsi-ld/v1/temporal/entities/{id}",
    "/ngsi-ld/v1/temporal/entities/{id}/attrs/{attr}",
    "/ngsi-ld/v1/temporal/entityOperations/query",
    "/ngsi-ld/v1/jsonldContexts",
    "/ngsi-ld/v1/jsonldContexts/{id}",
    "/ngsi-ld/v1/types",
    "/ngsi-ld/v1/types/{attr}",
    "/ngsi-ld/v1/attributes",
    "/ngsi-ld/v1/attributes/{attr}",
    "/ngsi-ld/v1/info/sourceIdentity",
    "/ngsi-ld/v1/nothing/here",
    "/ngsi-ld/v2/entities",
];
const PARAMS: &[&str] = &[
    "q",
    "geoQ",
    "georel",
    "geometry",
    "coordinates",
    "geoproperty",
    "scopeQ",
    "type",
    "attrs",
    "id",
    "idPattern",
    "options",
    "format",
    "limit",
    "offset",
    "count",
    "pick",
    "omit",
    "lang",
    "orderBy",
    "collation",
    "timerel",
    "timeAt",
    "endTimeAt",
    "lastN",
    "aggrMethods",
    "aggrPeriodDuration",
    "datasetId",
    "deleteAll",
    "details",
    "kind",
    "join",
    "joinLevel",
    "csf",
    "local",
    "expandValues",
    "containedBy",
    "bogus",
];

impl Generator {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.usize(..items.len())]
    }

    fn request(&mut self) -> Generated {
        let method = match self.rng.u8(..10) {
            0..=2 => Method::GET,
            3..=5 => Method::POST,
            6 => Method::PATCH,
            7 => Method::PUT,
            8 => Method::DELETE,
            _ => [Method::HEAD, Method::OPTIONS, Method::TRACE][self.rng.usize(..3)].clone(),
        };
        let path = self
            .pick(PATHS)
            .replace("{id}", &self.id())
            .replace("{attr}", &self.name());
        let mut query = Vec::new();
        for _ in 0..self.rng.usize(..4) {
            let param = self.pick(PARAMS);
            let value = self.param_value(param);
            query.push(format!("{param}={}", crate::enc(&value)));
        }
        let path = if query.is_empty() {
            path
        } else {
            format!("{path}?{}", query.join("&"))
        };
        let mut headers = Vec::new();
        if self.rng.u8(..4) == 0 {
            headers.push(("Link", self.pick(LINKS).to_owned()));
        }
        if self.rng.u8(..4) == 0 {
            headers.push(("Accept", self.pick(MEDIA).to_owned()));
        }
        if self.rng.u8(..10) == 0 {
            headers.push((
                "NGSILD-Tenant",
                self.pick(&["a", "", "x y", "ä", "t-1", "_"]).to_owned(),
            ));
        }
        let body = matches!(method, Method::POST | Method::PATCH | Method::PUT)
            .then(|| (self.pick(MEDIA), self.body()));
        Generated {
            method,
            path,
            body,
            headers,
        }
    }

    fn id(&mut self) -> String {
        match self.rng.u8(..6) {
            0 => format!("urn:ngsi-ld:Vehicle:bad{}", self.rng.u8(..20)),
            1 => "urn:ngsi-ld:Vehicle:missing".into(),
            2 => "not a uri".into(),
            3 => "x".repeat(self.rng.usize(1..5000)),
            4 => "%2F%2E%2E".into(),
            _ => self.text(12),
        }
    }

    fn name(&mut self) -> String {
        match self.rng.u8(..4) {
            0 => "speed".into(),
            1 => "https://example.org/speed".into(),
            2 => self.text(8),
            _ => "@id".into(),
        }
    }

    fn param_value(&mut self, param: &str) -> String {
        match param {
            "q" | "scopeQ" | "csf" => self.expression(),
            "georel" => self.pick(GEOREL).into(),
            "geometry" => self.pick(GEOMETRY).into(),
            "coordinates" => self.pick(COORDS).into(),
            "type" => self.pick(TYPES).into(),
            "limit" | "offset" | "lastN" | "joinLevel" => self
                .pick(&["0", "-1", "1", "1000000", "1e3", "x", ""])
                .into(),
            "timeAt" | "endTimeAt" => self
                .pick(&[
                    "2024-01-01T00:00:00Z",
                    "2024-13-01",
                    "now",
                    "",
                    "9999-12-31T23:59:59Z",
                ])
                .into(),
            _ => match self.rng.u8(..3) {
                0 => self.expression(),
                1 => self.text(10),
                _ => self.pick(Q_ATOMS).into(),
            },
        }
    }

    fn expression(&mut self) -> String {
        (0..self.rng.usize(1..12))
            .map(|_| self.pick(Q_ATOMS))
            .collect()
    }

    fn text(&mut self, max: usize) -> String {
        (0..self.rng.usize(..=max))
            .map(|_| match self.rng.u8(..8) {
                0 => self.rng.char('\u{80}'..'\u{2fff}'),
                _ => self.rng.alphanumeric(),
            })
            .collect()
    }

    fn body(&mut self) -> Vec<u8> {
        let base = match self.rng.u8(..6) {
            0 => fixture("all-kinds.json"),
            1 => fixture("sensor-with-datasets.json"),
            2 => json!([fixture("vehicle.json"), fixture("fleet.json")]),
            3 => json!({
                "type": "Subscription",
                "entities": [{"type": "Vehicle"}],
                "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}
            }),
            4 => json!({"speed": {"type": "Property", "value": 1}}),
            _ => entity_fixture("vehicle.json", &self.id()),
        };
        let mut value = base;
        for _ in 0..self.rng.usize(1..4) {
            self.mutate(&mut value, 0);
        }
        let mut bytes = serde_json::to_vec(&value).unwrap_or_default();
        match self.rng.u8(..10) {
            0 => bytes.truncate(self.rng.usize(..=bytes.len())),
            1 => {
                let at = self.rng.usize(..=bytes.len());
                bytes.insert(at, self.rng.u8(..));
            }
            2 => {
                let depth = self.rng.usize(10..400);
                bytes = self.nested(depth);
            }
            _ => {}
        }
        bytes
    }

    /// `[[[...]]]` or `{"a":{"a":...}}`, `depth` deep.
    fn nested(&mut self, depth: usize) -> Vec<u8> {
        let (open, close) = if self.rng.bool() {
            ("[", "]")
        } else {
            ("{\"a\":", "}")
        };
        format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
    }

    fn mutate(&mut self, value: &mut Value, depth: usize) {
        match value {
            Value::Object(map) if !map.is_empty() && depth < 6 => {
                let keys: Vec<String> = map.keys().cloned().collect();
                let key = keys[self.rng.usize(..keys.len())].clone();
                match self.rng.u8(..5) {
                    0 => {
                        map.remove(&key);
                    }
                    1 => {
                        let new = self.odd_value();
                        map.insert(key, new);
                    }
                    2 => {
                        let name = self.pick(&[
                            "type",
                            "value",
                            "object",
                            "@context",
                            "datasetId",
                            "observedAt",
                            "id",
                            "location",
                            "@type",
                            "expiresAt",
                            "languageMap",
                            "json",
                        ]);
                        let new = self.odd_value();
                        map.insert(name.to_owned(), new);
                    }
                    _ => {
                        if let Some(inner) = map.get_mut(&key) {
                            self.mutate(inner, depth + 1);
                        }
                    }
                }
            }
            Value::Array(items) if !items.is_empty() && depth < 6 => {
                let at = self.rng.usize(..items.len());
                if self.rng.bool() {
                    self.mutate(&mut items[at], depth + 1);
                } else {
                    items[at] = self.odd_value();
                }
            }
            other => *other = self.odd_value(),
        }
    }

    fn odd_value(&mut self) -> Value {
        match self.rng.u8(..12) {
            0 => Value::Null,
            1 => json!(-1),
            2 => json!(1e308),
            3 => json!(""),
            4 => json!([]),
            5 => json!({}),
            6 => json!("x".repeat(self.rng.usize(..20_000))),
            7 => json!({"type": "Point", "coordinates": [1e300, -1e300]}),
            8 => json!("urn:ngsi-ld:null"),
            9 => json!({"@value": "x", "@type": "https://x/T"}),
            10 => {
                let mut map = Map::new();
                for i in 0..self.rng.usize(..50) {
                    map.insert(format!("k{i}"), json!(i));
                }
                Value::Object(map)
            }
            _ => json!(self.text(20)),
        }
    }
}
