//! # conformance-tests: black-box checks of an NGSI-LD broker
//!
//! Every case talks HTTP to a broker and checks what a client would see: status, headers, body.
//! By default the cases start a real `oxion` process (from the workspace build) on a free
//! loopback port with a fresh data directory; set `OXION_TEST_BROKER_URL` to run them against
//! any broker instead. Cases isolate themselves with unique entity ids and tenants, so they run
//! in parallel against one broker.
//!
//! The cases live in `tests/api/`, one module per area of GS CIM 009 (entities, attrs, batch,
//! query, geo, formats, context, tenancy, types, transient, errors, durability, meta), all in
//! one test binary so one build and one shared broker serve them. Payloads they start from are
//! JSON files in `tests/fixtures/`. Cases that need a broker of their own (a body limit,
//! SIGKILL and restart) start one with [`BrokerProcess::start`]; cases that need a user
//! @context serve it from a [`ContextServer`] on loopback. Subscription cases receive
//! notifications with a real HTTP [`Receiver`] on loopback.
//!
//! `cargo test -p conformance-tests` finds `oxion` next to the test binary (build it first with
//! `cargo build -p broker`); `OXION_BIN` points to another binary, and
//! `OXION_TEST_BROKER_URL=http://host:port` runs the shared cases against a running broker.

mod broker;
mod client;
mod context_server;
mod receiver;

pub use broker::{closed_port, BrokerProcess, Target};
pub use client::{enc, link, Client, Reply, CONTEXT_REL};
pub use context_server::ContextServer;
pub use receiver::{Received, Receiver};

use serde_json::Value;

/// A unique suffix for ids and tenant names of one test.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{}x{nanos:x}x{n}", std::process::id())
}

/// A unique entity id `urn:ngsi-ld:{kind}:...`.
pub fn urn(kind: &str) -> String {
    format!("urn:ngsi-ld:{kind}:{}", unique(""))
}

/// The path of an entity.
pub fn entity_path(id: &str) -> String {
    format!("/ngsi-ld/v1/entities/{}", enc(id))
}

/// A JSON fixture from `tests/fixtures/{name}`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture entity with its `id` set to `id`.
pub fn entity_fixture(name: &str, id: &str) -> Value {
    let mut entity = fixture(name);
    entity["id"] = Value::String(id.to_owned());
    entity
}
