//! Oxion's `--tls-cert`/`--tls-key`: the broker serves HTTPS itself, with the certificate it
//! is given (made here for 127.0.0.1), and the URLs it creates say `https`.

use serde_json::json;

use crate::{unique, BrokerProcess};

/// A self-signed certificate for 127.0.0.1 and localhost, as PEM files in `dir`.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).expect("a certificate");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let pem = made.cert.pem();
    std::fs::write(&cert, &pem).expect("writing the certificate");
    std::fs::write(&key, made.key_pair.serialize_pem()).expect("writing the key");
    (cert, key, pem)
}

pub(crate) async fn https_is_served_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("a directory");
    let (cert, key, pem) = certificate(dir.path());
    let (cert, key) = (cert.to_string_lossy(), key.to_string_lossy());
    let mut broker =
        BrokerProcess::start(&["--tls-cert", &cert, "--tls-key", &key]).expect("a broker");
    let base = broker.base_url.replace("http://", "https://");
    let root = reqwest::Certificate::from_pem(pem.as_bytes()).expect("the certificate");
    let client = reqwest::Client::builder()
        .add_root_certificate(root)
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("a client");
    let health = client
        .get(format!("{base}/health"))
        .send()
        .await
        .expect("HTTPS");
    assert_eq!(health.status(), 200);
    let id = format!("urn:ngsi-ld:Car:{}", unique("tls"));
    let created = client
        .post(format!("{base}/ngsi-ld/v1/entities"))
        .json(&json!({"id": id, "type": "Car", "speed": {"type": "Property", "value": 1}}))
        .send()
        .await
        .expect("HTTPS");
    assert_eq!(created.status(), 201);
    let got = client
        .get(format!("{base}/ngsi-ld/v1/entities/{id}"))
        .send()
        .await
        .expect("HTTPS");
    assert_eq!(got.status(), 200);
    // An ImplicitlyCreated @context is served from an https URL.
    let inline = json!({"id": format!("{id}-2"), "type": "Car",
        "@context": {"Car": "https://example.org/Car"}});
    let reply = client
        .post(format!("{base}/ngsi-ld/v1/entities"))
        .header("Content-Type", "application/ld+json")
        .body(inline.to_string())
        .send()
        .await
        .expect("HTTPS");
    assert_eq!(reply.status(), 201);
    let listed: serde_json::Value = client
        .get(format!(
            "{base}/ngsi-ld/v1/jsonldContexts?kind=ImplicitlyCreated"
        ))
        .send()
        .await
        .expect("HTTPS")
        .json()
        .await
        .expect("JSON");
    let url = listed[0].as_str().unwrap_or_default();
    assert!(url.starts_with("https://"), "{listed}");
    // A client that does not trust the certificate is refused; so is plain HTTP.
    let untrusting = reqwest::Client::new();
    assert!(untrusting
        .get(format!("{base}/health"))
        .send()
        .await
        .is_err());
    let plain = crate::raw_http::exchange(
        &broker.base_url,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(!plain.starts_with("HTTP/1.1 200"), "{plain}");
    broker.kill_hard();
}

/// A certificate without its key, or a key that is not one, stops the broker at start with
/// what is wrong.
pub(crate) async fn an_incomplete_tls_configuration_stops_the_broker_at_start() {
    let dir = tempfile::tempdir().expect("a directory");
    let (cert, _, _) = certificate(dir.path());
    let cert = cert.to_string_lossy().into_owned();
    let Err(alone) = BrokerProcess::start(&["--tls-cert", &cert]) else {
        panic!("a broker started with a certificate and no key");
    };
    assert!(alone.contains("--tls-key"), "{alone}");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a key").expect("writing");
    let garbage = garbage.to_string_lossy().into_owned();
    let Err(bad) = BrokerProcess::start(&["--tls-cert", &cert, "--tls-key", &garbage]) else {
        panic!("a broker started with a key that is not one");
    };
    assert!(bad.contains("--tls-key"), "{bad}");
}
