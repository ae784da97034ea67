//! # conformance-tests: black-box checks of an NGSI-LD broker
//!
//! Every case talks HTTP to a broker and checks what a client would see: status, headers, body.
//! By default the cases start a real `oxion` process (from the workspace build) on a free
//! loopback port with a fresh data directory; set `OXION_TEST_BROKER_URL` to run them against
//! any broker instead. Cases isolate themselves with unique entity ids and tenants, so they run
//! in parallel against one broker. Subscription cases receive notifications with a real HTTP
//! [`Receiver`] on loopback.

mod broker;
mod client;
mod receiver;

pub use broker::{BrokerProcess, Target};
pub use client::{enc, Client, Reply, CONTEXT_REL};
pub use receiver::{Received, Receiver};

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
