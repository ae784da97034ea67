//! # benches: measuring Oxion
//!
//! - `benches/ngsi_types.rs`: criterion micro-benchmarks of the pure model (parse, render, q).
//! - `oxion-load` (src/bin): an HTTP load generator speaking NGSI-LD, bounded in time and count,
//!   printing throughput and latency percentiles per scenario. It works against any broker.
//! - `notify`: the receiver and workload of `oxion-load`'s notification fan-out scenario.

pub mod notify;
pub mod workload;
