//! `oxion-load`: NGSI-LD load over HTTP against any broker, bounded in time and request count.
//!
//! ```text
//! oxion-load --url http://127.0.0.1:1026 --entities 100000 --connections 32 --duration 10 \
//!            --scenarios create,get,patch,query
//! ```
//! Preloads `--entities` entities with batch upserts (skipped with `--no-preload` when they are
//! there already from the same `--run`), then runs each scenario for `--duration` seconds (or
//! `--max-requests`), and prints requests/s and latency percentiles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use benches::workload;
use clap::Parser;
use hdrhistogram::Histogram;
use reqwest::Method;
use serde_json::Value;

#[derive(Debug, Parser)]
#[command(about = "NGSI-LD load generator")]
struct Args {
    /// Broker base URL.
    #[arg(long, env = "OXION_LOAD_URL", default_value = "http://127.0.0.1:1026")]
    url: String,
    /// Scenarios to run, in order: create, get, patch, query, query-selective.
    #[arg(long, value_delimiter = ',', default_value = "create,get,patch,query")]
    scenarios: Vec<String>,
    /// Entities to preload (used by get, patch, query).
    #[arg(long, default_value_t = 100_000)]
    entities: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Stop a scenario after this many requests.
    #[arg(long, default_value_t = 10_000_000)]
    max_requests: u64,
    /// Run name: ids are unique per run; reuse one with --no-preload.
    #[arg(long, default_value = "r1")]
    run: String,
    #[arg(long)]
    no_preload: bool,
    /// Tenant to use (NGSILD-Tenant).
    #[arg(long)]
    tenant: Option<String>,
}

struct Shared {
    client: reqwest::Client,
    args: Args,
    counter: AtomicU64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let shared = Arc::new(Shared {
        client,
        args,
        counter: AtomicU64::new(0),
    });
    if !shared.args.no_preload {
        preload(&shared).await?;
    }
    println!(
        "{:<16} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "scenario", "requests", "req/s", "p50 ms", "p99 ms", "p999 ms", "max ms", "errors"
    );
    for scenario in shared.args.scenarios.clone() {
        let report = run_scenario(&shared, &scenario).await?;
        println!("{report}");
    }
    Ok(())
}

async fn send(
    shared: &Shared,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<(u16, usize)> {
    let mut req = shared
        .client
        .request(method, format!("{}{path}", shared.args.url));
    if let Some(t) = &shared.args.tenant {
        req = req.header("NGSILD-Tenant", t);
    }
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await?;
    Ok((status, bytes.len()))
}

/// Loads the entities with batch upserts of 100, 8 batches in flight.
async fn preload(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let started = Instant::now();
    let total = shared.args.entities;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let shared = shared.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let start = next.fetch_add(100, Ordering::Relaxed);
                if start >= total {
                    return Ok::<(), anyhow::Error>(());
                }
                let batch: Vec<Value> = (start..(start + 100).min(total))
                    .map(|i| workload::entity(&workload::entity_id(&shared.args.run, i), i))
                    .collect();
                let (status, _) = send(
                    &shared,
                    Method::POST,
                    "/ngsi-ld/v1/entityOperations/upsert",
                    Some(&Value::Array(batch)),
                )
                .await?;
                if !matches!(status, 201 | 204) {
                    bail!("preload batch at {start}: HTTP {status}");
                }
            }
        }));
    }
    for t in tasks {
        t.await.context("preload task")??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "preloaded {total} entities in {secs:.1} s ({:.0} entities/s)",
        total as f64 / secs
    );
    Ok(())
}

struct Report {
    scenario: String,
    requests: u64,
    errors: u64,
    elapsed: Duration,
    histogram: Histogram<u64>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |q: f64| self.histogram.value_at_quantile(q) as f64 / 1000.0;
        write!(
            f,
            "{:<16} {:>10} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8}",
            self.scenario,
            self.requests,
            self.requests as f64 / self.elapsed.as_secs_f64(),
            ms(0.5),
            ms(0.99),
            ms(0.999),
            self.histogram.max() as f64 / 1000.0,
            self.errors
        )
    }
}

async fn run_scenario(shared: &Arc<Shared>, scenario: &str) -> anyhow::Result<Report> {
    if !["create", "get", "patch", "query", "query-selective"].contains(&scenario) {
        bail!("unknown scenario '{scenario}'");
    }
    let deadline = Instant::now() + Duration::from_secs(shared.args.duration);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..shared.args.connections {
        let shared = shared.clone();
        let issued = issued.clone();
        let scenario = scenario.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut hist =
                Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
            let mut errors = 0u64;
            let mut rng = (worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            while Instant::now() < deadline
                && issued.fetch_add(1, Ordering::Relaxed) < shared.args.max_requests
            {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let i = rng % shared.args.entities.max(1);
                let t0 = Instant::now();
                let ok = match scenario.as_str() {
                    "create" => {
                        let n = shared.counter.fetch_add(1, Ordering::Relaxed);
                        let id =
                            workload::entity_id(&format!("{}-new-{worker}", shared.args.run), n);
                        send(
                            &shared,
                            Method::POST,
                            "/ngsi-ld/v1/entities",
                            Some(&workload::entity(&id, n)),
                        )
                        .await
                        .map(|(s, _)| s == 201)
                    }
                    "get" => {
                        let path = format!(
                            "/ngsi-ld/v1/entities/{}",
                            workload::entity_id(&shared.args.run, i)
                        );
                        send(&shared, Method::GET, &path, None)
                            .await
                            .map(|(s, _)| s == 200)
                    }
                    "patch" => {
                        let path = format!(
                            "/ngsi-ld/v1/entities/{}/attrs",
                            workload::entity_id(&shared.args.run, i)
                        );
                        send(
                            &shared,
                            Method::PATCH,
                            &path,
                            Some(&workload::occupancy_patch(i % 1000)),
                        )
                        .await
                        .map(|(s, _)| s == 204)
                    }
                    "query" => {
                        let path = format!(
                            "/ngsi-ld/v1/entities?type={}&q=totalSpotNumber%3E{}&limit=20",
                            workload::ENTITY_TYPE,
                            200 + i % 40
                        );
                        send(&shared, Method::GET, &path, None)
                            .await
                            .map(|(s, _)| s == 200)
                    }
                    _ => {
                        let path = format!(
                            "/ngsi-ld/v1/entities?type={}&q=availableSpotNumber%3D%3D{}&limit=20",
                            workload::ENTITY_TYPE,
                            i % 1000
                        );
                        send(&shared, Method::GET, &path, None)
                            .await
                            .map(|(s, _)| s == 200)
                    }
                };
                let micros = t0.elapsed().as_micros().min(60_000_000) as u64;
                let _ = hist.record(micros.max(1));
                if !matches!(ok, Ok(true)) {
                    errors += 1;
                }
            }
            (hist, errors)
        }));
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = 0;
    for t in tasks {
        let (h, e) = t.await?;
        histogram.add(h)?;
        errors += e;
    }
    Ok(Report {
        scenario: scenario.to_owned(),
        requests: histogram.len(),
        errors,
        elapsed: started.elapsed(),
        histogram,
    })
}
