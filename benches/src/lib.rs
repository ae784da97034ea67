//! # benches: measuring Oxion
//!
//! - `benches/ngsi_types.rs`: criterion micro-benchmarks of the pure model (parse, render, q).
//! - `oxion-load` (src/bin): an HTTP load generator speaking NGSI-LD, bounded in time and count,
//!   printing throughput and latency percentiles per scenario. It works against any broker.

pub mod workload;
