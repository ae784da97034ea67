//! # benches: measuring Oxion, and comparing NGSI-LD brokers
//!
//! - `benches/ngsi_types.rs`: criterion micro-benchmarks of the pure model (parse, render, q).
//! - `oxion-load` (src/bin): an HTTP load generator speaking NGSI-LD to any broker (Oxion,
//!   Orion-LD, ...), or to two of them one after the other with the same workload
//!   (`--compare`). It prints a table and, with `--out`, writes `results.json` and
//!   `results.svg`.
//!
//! The library holds its parts, one concept per module:
//! - [`workload`], the entities a run writes, named after the run and the broker so that a run
//!   never depends on, nor mixes with, data already in the broker;
//! - [`scenario`], the named scenarios and the request each sends;
//! - [`target`], a broker under test (label, URL, tenant) and the HTTP client that talks to it;
//! - [`run`], the preload and the timed loop of a scenario, bounded in time and count, with its
//!   progress bar;
//! - [`notify`], the notification fan-out scenario and its own HTTP receiver;
//! - [`results`], what was measured, as `results.json` and as a table;
//! - [`chart`], which draws `results.svg`.

pub mod chart;
pub mod notify;
pub mod results;
pub mod run;
pub mod scenario;
pub mod target;
pub mod workload;
