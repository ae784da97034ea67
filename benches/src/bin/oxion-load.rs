//! `oxion-load`: NGSI-LD load over HTTP against any broker, or two compared, bounded in time and
//! request count.
//!
//! ```text
//! oxion-load --url http://127.0.0.1:1026 --label oxion \
//!            --compare http://127.0.0.1:1027 --compare-label orion-ld \
//!            --entities 20000 --connections 16 --duration 5 --out docs/bench
//! oxion-load --from-json docs/bench/results.json       # table and chart again, no broker
//! ```
//! For each broker in turn (the first, then the one of `--compare`), it preloads `--entities`
//! entities with batch upserts, runs each scenario of `--scenarios` for `--duration` seconds
//! (or `--max-requests`) with `--connections` in flight, and prints the throughput and latency
//! percentiles. Everything it writes is named after the run (`--run`, unique by default) and the
//! broker's label, so it needs no empty broker and leaves the queries of other runs alone.
//!
//! The scenarios: `create`, `get-by-id`, `patch`, `query` (type + q), `query-selective`,
//! `geo-query` (near;maxDistance over a city), `geo-within` (a polygon of the same area),
//! `batch-upsert` (100 per request) and `notify`
//! (fan-out to `--subscriptions` subscriptions with the tool's own receiver, see
//! `benches::notify`). `get`, `geo` and `upsert` are accepted for the longer names.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use benches::chart;
use benches::notify::{self, FanOut};
use benches::results::{BrokerResults, Host, Measurement, Results, WorkloadInfo};
use benches::run::{self, Limits};
use benches::scenario::Scenario;
use benches::target::Target;
use benches::workload::{Workload, BATCH};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    about = "NGSI-LD load generator: measure a broker, or compare two",
    version
)]
struct Args {
    /// Broker base URL.
    #[arg(long, env = "OXION_LOAD_URL", default_value = "http://127.0.0.1:1026")]
    url: String,
    /// Its name in the results (and in the ids of what the run writes).
    #[arg(long, env = "OXION_LOAD_LABEL", default_value = "oxion")]
    label: String,
    /// Its tenant (NGSILD-Tenant); none: the default tenant.
    #[arg(long, env = "OXION_LOAD_TENANT")]
    tenant: Option<String>,
    /// A second broker, measured after the first with the same workload.
    #[arg(long, env = "OXION_LOAD_COMPARE")]
    compare: Option<String>,
    #[arg(long, env = "OXION_LOAD_COMPARE_LABEL", default_value = "compare")]
    compare_label: String,
    #[arg(long, env = "OXION_LOAD_COMPARE_TENANT")]
    compare_tenant: Option<String>,
    /// Scenarios to run, in order.
    #[arg(
        long,
        env = "OXION_LOAD_SCENARIOS",
        value_delimiter = ',',
        default_value = "create,get-by-id,patch,query,geo-query,geo-within,batch-upsert,notify"
    )]
    scenarios: Vec<Scenario>,
    /// Entities to preload (read and written by get-by-id, patch, the queries, batch-upsert).
    #[arg(long, env = "OXION_LOAD_ENTITIES", default_value_t = 20_000)]
    entities: u64,
    /// temporal-*: instances per attribute of each preloaded temporal evolution (3 attributes,
    /// --entities evolutions, spread over 30 days).
    #[arg(long, env = "OXION_LOAD_INSTANCES", default_value_t = 1000)]
    instances: u64,
    /// Concurrent connections (requests in flight).
    #[arg(long, env = "OXION_LOAD_CONNECTIONS", default_value_t = 32)]
    connections: usize,
    /// Seconds per scenario.
    #[arg(long, env = "OXION_LOAD_DURATION", default_value_t = 10)]
    duration: u64,
    /// Stop a scenario after this many requests.
    #[arg(long, env = "OXION_LOAD_MAX_REQUESTS", default_value_t = 10_000_000)]
    max_requests: u64,
    /// Run name, in every id and type the run writes; default: unique per invocation. Reuse one
    /// with --no-preload to skip the preload.
    #[arg(long, env = "OXION_LOAD_RUN")]
    run: Option<String>,
    #[arg(long, env = "OXION_LOAD_NO_PRELOAD")]
    no_preload: bool,
    /// notify: subscriptions to create (0 measures the same writes without any).
    #[arg(long, env = "OXION_LOAD_SUBSCRIPTIONS", default_value_t = 100)]
    subscriptions: u64,
    /// notify: subscriptions notified per write.
    #[arg(long, env = "OXION_LOAD_FANOUT", default_value_t = 1)]
    fanout: u64,
    /// notify: entities written to (at least one per subscription group).
    #[arg(long, env = "OXION_LOAD_NOTIFY_ENTITIES", default_value_t = 1000)]
    notify_entities: u64,
    /// notify: the longest wait, in seconds, for outstanding notifications after the writes.
    #[arg(long, env = "OXION_LOAD_DRAIN", default_value_t = 10)]
    drain: u64,
    /// notify: where the receiver listens (port 0: any free port).
    #[arg(long, env = "OXION_LOAD_RECEIVER", default_value = "127.0.0.1:0")]
    receiver: SocketAddr,
    /// Write results.json and results.svg into this folder.
    #[arg(long, env = "OXION_LOAD_OUT")]
    out: Option<PathBuf>,
    /// Measure nothing: print the table of this results.json and redraw its chart (into --out,
    /// or beside it).
    #[arg(long, env = "OXION_LOAD_FROM_JSON")]
    from_json: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(json) = &args.from_json {
        let results = Results::read(json)?;
        print!("{}", results.table());
        let dir = match &args.out {
            Some(dir) => dir.clone(),
            None => json.parent().unwrap_or(Path::new(".")).to_path_buf(),
        };
        return write_chart(&results, &dir);
    }

    let run = args.run.clone().unwrap_or_else(unique_run);
    let limits = Limits {
        connections: args.connections.max(1),
        duration: Duration::from_secs(args.duration),
        max_requests: args.max_requests,
    };
    let mut targets = vec![(args.label.clone(), args.url.clone(), args.tenant.clone())];
    if let Some(url) = &args.compare {
        targets.push((
            args.compare_label.clone(),
            url.clone(),
            args.compare_tenant.clone(),
        ));
    }
    let mut results = Results {
        tool: "oxion-load".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        command_line: std::env::args().collect(),
        host: Host::this(),
        workload: WorkloadInfo {
            run: run.clone(),
            entities: args.entities,
            connections: limits.connections,
            duration_s: args.duration,
            max_requests: args.max_requests,
            batch_size: BATCH,
            subscriptions: args.subscriptions,
            fanout: args.fanout,
        },
        brokers: Vec::new(),
    };
    for (label, url, tenant) in targets {
        let target = Arc::new(Target::new(&label, &url, tenant, limits.connections)?);
        let broker = measure(&args, &run, &target, limits).await?;
        results.brokers.push(broker);
    }
    println!();
    print!("{}", results.table());
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let json = dir.join("results.json");
        results.write(&json)?;
        println!("wrote {}", json.display());
        write_chart(&results, dir)?;
    }
    Ok(())
}

/// Every scenario against one broker. A scenario that cannot run (the broker refused its
/// set-up) is reported and skipped; the others still run.
async fn measure(
    args: &Args,
    run: &str,
    target: &Arc<Target>,
    limits: Limits,
) -> anyhow::Result<BrokerResults> {
    let w =
        Arc::new(Workload::new(run, &target.label, args.entities).with_instances(args.instances));
    let mut preload_s = None;
    if !args.no_preload && args.scenarios.iter().any(|s| s.is_temporal()) {
        let secs = run::preload_temporal(target, &w).await?;
        let total = w.entities * w.instances * 3;
        println!(
            "{}: preloaded {total} temporal instances ({} evolutions) in {secs:.1} s ({:.0} instances/s)",
            target.label,
            w.entities,
            total as f64 / secs
        );
    }
    if !args.no_preload && args.scenarios.iter().any(|s| s.needs_preload()) {
        let secs = run::preload(target, &w).await?;
        println!(
            "{}: preloaded {} entities in {secs:.1} s ({:.0} entities/s)",
            target.label,
            w.entities,
            w.entities as f64 / secs
        );
        preload_s = Some(secs);
    }
    let mut scenarios = Vec::new();
    for &sc in &args.scenarios {
        let measured = match sc {
            Scenario::Notify => {
                let setup = notify::Setup {
                    fan: FanOut::new(args.subscriptions, args.fanout, args.notify_entities),
                    receiver: args.receiver,
                    drain: Duration::from_secs(args.drain),
                };
                notify::run(target, &w.key, setup, limits).await
            }
            _ => run::scenario(target, &w, sc, limits).await.map(|m| vec![m]),
        };
        match measured {
            Ok(ms) => {
                for m in ms {
                    println!("{}", line(&target.label, &m));
                    scenarios.push(m);
                }
            }
            Err(e) => eprintln!("{} {sc}: skipped: {e:#}", target.label),
        }
    }
    Ok(BrokerResults {
        label: target.label.clone(),
        url: target.url.clone(),
        tenant: target.tenant.clone(),
        preload_s,
        scenarios,
    })
}

fn line(label: &str, m: &Measurement) -> String {
    let l = m.latency_ms;
    format!(
        "{label} {}: {} requests, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        m.scenario, m.requests, m.throughput, l.p50, l.p99, m.errors
    )
}

fn write_chart(results: &Results, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let svg = dir.join("results.svg");
    std::fs::write(&svg, chart::render(results)?)
        .with_context(|| format!("writing {}", svg.display()))?;
    println!("wrote {}", svg.display());
    Ok(())
}

/// `r` and the time in base 36: short, and new for every invocation a second apart.
fn unique_run() -> String {
    let mut secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut digits = Vec::new();
    while secs > 0 {
        digits.push(char::from_digit((secs % 36) as u32, 36).unwrap_or('0'));
        secs /= 36;
    }
    digits.push('r');
    digits.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent_and_takes_old_scenario_names() {
        Args::command().debug_assert();
        let args = Args::try_parse_from([
            "oxion-load",
            "--scenarios",
            "get,geo-query,batch-upsert",
            "--compare",
            "http://127.0.0.1:1027",
            "--compare-label",
            "orion-ld",
        ])
        .expect("valid arguments");
        assert_eq!(
            args.scenarios,
            [Scenario::GetById, Scenario::GeoQuery, Scenario::BatchUpsert]
        );
        assert_eq!(args.compare_label, "orion-ld");
        assert!(Args::try_parse_from(["oxion-load", "--scenarios", "nope"]).is_err());
    }

    #[test]
    fn run_names_are_letters_and_digits() {
        let run = unique_run();
        assert!(run.starts_with('r') && run.len() > 4, "{run}");
        assert!(run.chars().all(|c| c.is_ascii_alphanumeric()), "{run}");
    }
}
