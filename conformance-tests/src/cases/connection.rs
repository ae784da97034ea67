//! Clause 6.3.2 at the level of HTTP itself: requests the HTTP parser refuses (a malformed or
//! oversized head, one that never completes, a body that trickles) are answered with a
//! ProblemDetails like every other error; raw characters clients put in targets are accepted;
//! HEAD is answered like GET without a body.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{entity_fixture, entity_path, unique, urn, BrokerProcess, Client};

/// Status, headers (lower-cased names) and body of a raw HTTP answer.
fn split_answer(answer: &str) -> (u16, String, String) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// Asserts that `answer` is a `status` with an `application/json` ProblemDetails body.
fn assert_problem(what: &str, answer: &str, status: u16) {
    let (got, head, body) = split_answer(answer);
    assert_eq!(got, status, "{what}: {answer}");
    assert!(
        head.contains("content-type: application/json"),
        "{what}: not JSON: {answer}"
    );
    let json: serde_json::Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{what}: body is no JSON ({e}): {answer}"));
    let ty = json["type"].as_str().unwrap_or_default();
    assert!(
        ty.starts_with("https://uri.etsi.org/ngsi-ld/errors/"),
        "{what}: no ETSI error type: {answer}"
    );
    assert!(json["title"].is_string(), "{what}: no title: {answer}");
}

/// Every malformed request head the HTTP parser refuses gets a ProblemDetails with the status
/// that names the problem; raw `"`, `<`, `>`, a backtick and UTF-8 in a query are accepted.
pub(crate) async fn refused_request_heads_are_problem_details() {
    let client = Client::shared();
    let id = urn("Quoted");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    let raw = format!(
        "GET /ngsi-ld/v1/entities?id={id}&q=brandName==\"a<b>`c`é\" HTTP/1.1\r\n\
         Host: oxion\r\nConnection: close\r\n\r\n"
    );
    let answer = crate::raw_http::exchange(&client.url("/"), raw.as_bytes()).await;
    assert_eq!(split_answer(&answer).0, 200, "raw characters: {answer}");

    let long = format!(
        "GET /ngsi-ld/v1/entities?type={} HTTP/1.1\r\nHost: oxion\r\nConnection: close\r\n\r\n",
        "T".repeat(70 * 1024)
    );
    let many: String = (0..120).map(|i| format!("X-Header-{i}: {i}\r\n")).collect();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("a 70 KB URL", long.into_bytes(), 414),
        (
            "too many headers",
            format!("GET /version HTTP/1.1\r\nHost: oxion\r\n{many}Connection: close\r\n\r\n")
                .into_bytes(),
            431,
        ),
        (
            "NUL in a header value",
            b"GET /version HTTP/1.1\r\nHost: oxion\r\nX-Bad: a\0b\r\nConnection: close\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            "CR in a header value",
            b"GET /version HTTP/1.1\r\nHost: oxion\r\nX-Bad: a\rb\r\nConnection: close\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            "no header colon",
            b"GET /version HTTP/1.1\r\nHost oxion\r\nConnection: close\r\n\r\n".to_vec(),
            400,
        ),
        (
            "a garbage request line",
            b"GARBAGE\r\nConnection: close\r\n\r\n".to_vec(),
            400,
        ),
        (
            "two Content-Lengths",
            b"POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: oxion\r\nContent-Length: 2\r\n\
              Content-Length: 3\r\nConnection: close\r\n\r\n{}"
                .to_vec(),
            400,
        ),
    ];
    for (what, request, status) in cases {
        let answer = crate::raw_http::exchange(&client.url("/"), &request).await;
        assert_problem(what, &answer, status);
    }
    client.get("/health").await.assert_status(200);
}

/// A request head that does not complete in time is a 408 ProblemDetails, and so is a body
/// that trickles in slower than the body timeout allows.
pub(crate) async fn slow_heads_and_trickled_bodies_are_408() {
    let mut broker =
        BrokerProcess::start(&["--head-timeout-ms", "500", "--body-timeout-ms", "1500"])
            .expect("a broker");
    let client = Client::new(&broker.base_url);

    let incomplete = b"GET /version HTTP/1.1\r\nHost: oxion\r\n";
    let started = Instant::now();
    let answer = crate::raw_http::exchange(&client.url("/"), incomplete).await;
    assert_problem("an incomplete head", &answer, 408);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    let body = entity_fixture("vehicle.json", &urn("Vehicle")).to_string();
    let address = client
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let stream = TcpStream::connect(&address).await.expect("connect");
    let (mut from_broker, mut to_broker) = stream.into_split();
    let head = format!(
        "POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: oxion\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    to_broker.write_all(head.as_bytes()).await.expect("head");
    let started = Instant::now();
    // One byte every 200 ms: the whole body would take over a minute; the broker must answer
    // after its 1.5 s body timeout. Bounded by the body's length, and ended by the answer.
    let trickle = tokio::spawn(async move {
        for byte in body.into_bytes() {
            if to_broker.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_secs(20),
        from_broker.read_to_end(&mut answer),
    );
    let _ = read.await;
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_problem("a trickled body", &answer, 408);
    broker.kill_hard();
}

/// RFC 9110 9.3.2: HEAD is GET without the body, on every resource GET answers.
pub(crate) async fn head_is_answered_like_get_without_a_body() {
    let client = Client::shared().with_tenant(&unique("head"));
    let id = urn("Vehicle");
    client.create(&entity_fixture("vehicle.json", &id)).await;
    for path in [
        entity_path(&id),
        "/ngsi-ld/v1/entities?type=Vehicle".to_owned(),
        "/version".to_owned(),
    ] {
        let get = client.get(&path).await;
        get.assert_status(200);
        let head = client.send(reqwest::Method::HEAD, &path, None, &[]).await;
        assert_eq!(head.status.as_u16(), 200, "HEAD {path}: {}", head.text);
        assert!(
            head.text.is_empty(),
            "HEAD {path} has a body: {}",
            head.text
        );
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {path}"
        );
    }
    let missing = client
        .send(
            reqwest::Method::HEAD,
            &entity_path(&urn("Missing")),
            None,
            &[],
        )
        .await;
    assert_eq!(missing.status.as_u16(), 404);
}
