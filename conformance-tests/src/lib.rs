//! # conformance-tests: black-box checks of an NGSI-LD broker
//!
//! Every case talks HTTP to a broker and checks what a client would see: status, headers, body.
//! The cases are library code, so that two runners share them:
//!
//! - the test binary `tests/api.rs` (`cargo test` / `cargo nextest run -p conformance-tests`)
//!   runs each case as a test named `area::case` against an `oxion` it starts from the
//!   workspace build on a free loopback port with a fresh data directory (`OXION_BIN` points
//!   to another binary; `OXION_TEST_BROKER_URL=http://host:port` points the shared cases at a
//!   running broker; `OXION_TEST_STORE=mongodb` with `OXION_TEST_MONGO_URL` starts every
//!   `oxion` on MongoDB, see [`BrokerProcess::start`]);
//! - the `ngsi-conformance` binary checks any broker URL and reports by clause, with JUnit
//!   XML for CI (see its `--help`).
//!
//! The cases live in [`cases`], one module per area of GS CIM 009 (entities, attrs, batch,
//! query, geo, formats, context, tenancy, types, transient, errors, durability, meta,
//! subscriptions), registered in one table with the clauses each checks and what it needs
//! beyond a broker URL ([`cases::Needs`]: a broker the run starts, an MQTT broker). A case
//! fails by panicking, like a test; [`run::run_case`] runs it on a task of its own, catches
//! the panic and turns it into a [`run::Failure`] that shows the assertion (expected and
//! actual), where it failed, and the last request with its response, which every [`Client`]
//! call writes to the case's [`journal`]. [`report`] renders the results.
//!
//! Cases isolate themselves with made-up ids, types and tenants that start with the run id
//! ([`unique`], [`urn`]), so they run in parallel against one broker, and [`cleanup`] deletes
//! what they created on someone else's broker. Payloads they start from are JSON fixtures
//! built into the crate ([`fixture`]). Cases that need a broker of their own (a body limit,
//! SIGKILL and restart) start one with [`BrokerProcess::start`]. The broker calls back one
//! listener of this process (`endpoint`): subscription cases receive notifications at a
//! [`Receiver`], and user @contexts are served by a [`ContextServer`]; where it listens is
//! part of the [`Settings`].

mod broker;
pub mod cases;
pub mod cleanup;
mod client;
mod context_server;
mod endpoint;
pub mod journal;
mod raw_http;
mod receiver;
pub mod report;
pub mod run;
mod settings;

pub use broker::{closed_port, BrokerProcess, Target};
pub use client::{enc, link, Client, Reply, CONTEXT_REL};
pub use context_server::ContextServer;
pub use receiver::{Received, Receiver, ReservedReceiver};
pub use settings::{configure, fresh_run_id, settings, Settings};

use serde_json::Value;

/// A unique name for ids, types and tenants of one case: `prefix`, the run id, a counter
/// (letters and digits only, so it is a valid tenant and type name everywhere).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}x{n}", settings().run_id)
}

/// A unique entity id `urn:ngsi-ld:{kind}:{run id}x{n}`.
pub fn urn(kind: &str) -> String {
    format!("urn:ngsi-ld:{kind}:{}", unique(""))
}

/// The path of an entity.
pub fn entity_path(id: &str) -> String {
    format!("/ngsi-ld/v1/entities/{}", enc(id))
}

/// A JSON fixture of `src/cases/fixtures/`, built into the crate so that the
/// `ngsi-conformance` binary runs from anywhere.
pub fn fixture(name: &str) -> Value {
    macro_rules! fixtures {
        ($($file:literal),*) => {
            match name {
                $($file => include_str!(concat!("cases/fixtures/", $file)),)*
                _ => panic!("no fixture {name}"),
            }
        };
    }
    let text = fixtures!(
        "all-kinds.json",
        "fleet.json",
        "parking-with-sub-attributes.json",
        "sensor-with-datasets.json",
        "user-context.json",
        "vehicle.json"
    );
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A fixture entity with its `id` set to `id`.
pub fn entity_fixture(name: &str, id: &str) -> Value {
    let mut entity = fixture(name);
    entity["id"] = Value::String(id.to_owned());
    entity
}
