//! Oxion's egress policy (`--egress-allow`, `--egress-deny`): the destinations the broker
//! connects to on a client's behalf (remote @contexts, notification endpoints) are checked,
//! names by the addresses they resolve to, redirects again at every hop; and a failed fetch
//! does not tell a closed port from a silent one or from an HTTP error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::subscriptions::{subscribe, subscription};
use crate::{closed_port, link, unique, urn, BrokerProcess, Client, ContextServer, Reply};

/// A loopback HTTP server at `ip` answering every request with `response` (a whole HTTP/1.1
/// message; `None` holds the connection open without answering); counts the connections it
/// accepted. Stops when dropped.
struct RawServer {
    port: u16,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    async fn start(ip: &str, response: Option<String>) -> Self {
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .unwrap_or_else(|e| panic!("binding {ip}: {e}"));
        let port = listener.local_addr().expect("an address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            // Bounded: a case makes a handful of requests.
            while held.len() < 64 {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                match &response {
                    Some(text) => {
                        let mut head = [0u8; 4096];
                        let _ = stream.read(&mut head).await;
                        let _ = stream.write_all(text.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    }
                    None => held.push(stream),
                }
            }
        });
        Self {
            port,
            accepted,
            task,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn context_response() -> String {
    let body = json!({"@context": {"Car": "https://example.org/Car"}}).to_string();
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/ld+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn redirect_to(location: &str) -> String {
    format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

async fn query_with_link(client: &Client, url: &str) -> Reply {
    client
        .get_with("/ngsi-ld/v1/entities?type=Car", &[("Link", &link(url))])
        .await
}

/// A denied network is never connected to: not by address, not by a name resolving into it,
/// not through a redirect from an allowed server; the refusal is LdContextNotAvailable.
pub(crate) async fn denied_networks_are_not_reached_for_contexts() {
    let mut broker =
        BrokerProcess::start(&["--egress-deny", "127.0.0.2/32,::1/128"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    // 127.0.0.2 is loopback too (all of 127/8 is), denied here; 127.0.0.1 stays allowed.
    let target = RawServer::start("127.0.0.2", Some(context_response())).await;
    let denied = format!("http://127.0.0.2:{}/{}.jsonld", target.port, unique("d"));
    let reply = query_with_link(&client, &denied).await;
    reply.assert_error(504, "LdContextNotAvailable");
    assert!(reply.text.contains("egress policy"), "{}", reply.text);

    let redirector = RawServer::start("127.0.0.1", Some(redirect_to(&denied))).await;
    let via = format!(
        "http://127.0.0.1:{}/{}.jsonld",
        redirector.port,
        unique("r")
    );
    query_with_link(&client, &via)
        .await
        .assert_error(504, "LdContextNotAvailable");
    assert_eq!(redirector.accepted(), 1, "the allowed server is asked");
    assert_eq!(target.accepted(), 0, "the denied one never is");

    // Without the policy the same redirect is followed: the case above can fail.
    let mut open = BrokerProcess::start(&["--egress-deny", ""]).expect("a broker");
    let open_client = Client::new(&open.base_url);
    query_with_link(&open_client, &via).await.assert_status(200);
    assert_eq!(target.accepted(), 1, "followed without the policy");
    open.kill_hard();
    broker.kill_hard();
}

/// A name is judged by the addresses it resolves to: `localhost` resolves into the denied
/// loopback networks, so nothing is fetched; an allow list admits only what it names.
pub(crate) async fn names_are_judged_by_their_addresses_and_allow_lists_admit_only_theirs() {
    let server = ContextServer::serve(json!({"@context": {"Car": "https://e.org/Car"}}));
    let by_address = server.url(&unique("a"));
    let by_name = by_address.replace("127.0.0.1", "localhost");

    let mut denying =
        BrokerProcess::start(&["--egress-deny", "127.0.0.0/8,::1/128"]).expect("a broker");
    let client = Client::new(&denying.base_url);
    query_with_link(&client, &by_name)
        .await
        .assert_error(504, "LdContextNotAvailable");
    query_with_link(&client, &by_address)
        .await
        .assert_error(504, "LdContextNotAvailable");
    assert_eq!(server.hits(), 0, "nothing fetched");
    denying.kill_hard();

    let mut allowing =
        BrokerProcess::start(&["--egress-allow", "ctx.example.org,127.0.0.1"]).expect("a broker");
    let client = Client::new(&allowing.base_url);
    query_with_link(&client, &by_address)
        .await
        .assert_status(200);
    assert_eq!(server.hits(), 1, "the allowed address is fetched");
    let other = format!("http://127.0.0.3:{}/{}.jsonld", closed_port(), unique("o"));
    let reply = query_with_link(&client, &other).await;
    reply.assert_error(504, "LdContextNotAvailable");
    assert!(reply.text.contains("egress policy"), "{}", reply.text);
    allowing.kill_hard();
}

/// What a failed fetch says does not depend on what is behind the URL: a closed port, a
/// server that never answers and one answering 404 get the same detail, but for the URL.
pub(crate) async fn failed_fetches_do_not_tell_what_is_behind_them() {
    let mut broker = BrokerProcess::start(&["--context-timeout-ms", "500"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let silent = RawServer::start("127.0.0.1", None).await;
    let not_found = RawServer::start(
        "127.0.0.1",
        Some("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()),
    )
    .await;
    let mut details = Vec::new();
    for port in [closed_port(), silent.port, not_found.port] {
        let url = format!("http://127.0.0.1:{port}/ctx.jsonld");
        let reply = query_with_link(&client, &url).await;
        reply.assert_error(504, "LdContextNotAvailable");
        let detail = reply.json["detail"].as_str().unwrap_or_default().to_owned();
        details.push(detail.replace(&url, "URL"));
    }
    assert_eq!(details[0], details[1], "closed port and silent server");
    assert_eq!(details[0], details[2], "closed port and HTTP 404");
    assert!(silent.accepted() >= 1 && not_found.accepted() >= 1);
    broker.kill_hard();
}

/// A notification endpoint the policy refuses by its URL (an address in a denied network) is
/// 400 at creation, HTTP and MQTT alike; one whose name resolves into a denied network is
/// created, and its notifications fail without reaching it.
pub(crate) async fn denied_notification_endpoints_are_refused_or_fail() {
    let mut broker =
        BrokerProcess::start(&["--egress-deny", "127.0.0.0/8,::1/128"]).expect("a broker");
    let client = Client::new(&broker.base_url);
    let receiver = RawServer::start(
        "127.0.0.1",
        Some("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()),
    )
    .await;
    let ty = unique("Egress");
    for uri in [
        format!("http://127.0.0.1:{}/n", receiver.port),
        "mqtt://127.0.0.1:1883/oxion/egress".to_owned(),
    ] {
        client
            .post("/ngsi-ld/v1/subscriptions", &subscription(&ty, &uri))
            .await
            .assert_error(400, "BadRequestData");
    }
    let by_name = format!("http://localhost:{}/n", receiver.port);
    let sub = subscribe(&client, &subscription(&ty, &by_name)).await;
    client
        .create(&json!({"id": urn(&ty), "type": ty, "speed": {"type": "Property", "value": 1}}))
        .await;
    let path = format!("/ngsi-ld/v1/subscriptions/{sub}");
    // Bounded: 5 s for the first attempt to fail.
    let mut last = Value::Null;
    for _ in 0..100 {
        last = client.get(&path).await.json;
        if last["notification"]["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(last["notification"]["status"], "failed", "{last}");
    assert_eq!(receiver.accepted(), 0, "the receiver is never reached");
    broker.kill_hard();
}
