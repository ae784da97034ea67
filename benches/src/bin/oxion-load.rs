//! `oxion-load`: NGSI-LD load over HTTP against any broker, bounded in time and request count.
//!
//! ```text
//! oxion-load --url http://127.0.0.1:1026 --entities 100000 --connections 32 --duration 10 \
//!            --scenarios create,get,patch,query
//! ```
//! Preloads `--entities` entities with batch upserts (skipped with `--no-preload` when they are
//! there already from the same `--run`), then runs each scenario for `--duration` seconds (or
//! `--max-requests`), and prints requests/s and latency percentiles.
//!
//! The `notify` scenario measures subscription fan-out instead (see `benches::notify`): it
//! starts a receiver, creates `--subscriptions` subscriptions, drives PATCH writes and prints
//! writes/s, notifications/s and write-to-delivery latency. It needs no preload:
//!
//! ```text
//! oxion-load --url http://127.0.0.1:1026 --scenarios notify --subscriptions 100 --duration 10
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use benches::notify::{self, FanOut};
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
    /// notify: subscriptions to create (0 measures the same writes without any).
    #[arg(long, default_value_t = 1)]
    subscriptions: u64,
    /// notify: subscriptions notified per write.
    #[arg(long, default_value_t = 1)]
    fanout: u64,
    /// notify: entities written to (at least one per subscription group).
    #[arg(long, default_value_t = 1000)]
    notify_entities: u64,
    /// notify: the longest wait, in seconds, for outstanding notifications after the writes.
    #[arg(long, default_value_t = 10)]
    drain: u64,
    /// notify: where the receiver listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    receiver: std::net::SocketAddr,
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
    let only_notify = shared.args.scenarios.iter().all(|s| s == "notify");
    if !shared.args.no_preload && !only_notify {
        preload(&shared).await?;
    }
    println!(
        "{:<16} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "scenario", "requests", "req/s", "p50 ms", "p99 ms", "p999 ms", "max ms", "errors"
    );
    for scenario in shared.args.scenarios.clone() {
        if scenario == "notify" {
            run_notify(&shared).await?;
            continue;
        }
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

/// Runs `job(i)` for `i` in `0..count` with `width` in flight; a failed job fails the run.
async fn for_each_concurrent<F, Fut>(count: u64, width: usize, job: F) -> anyhow::Result<()>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..width.max(1) {
        let (job, next) = (job.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), anyhow::Error>(());
                }
                job(i).await?;
            }
        }));
    }
    for t in tasks {
        t.await.context("worker task")??;
    }
    Ok(())
}

/// The `notify` scenario (module doc of `benches::notify`).
async fn run_notify(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let args = &shared.args;
    let fan = FanOut::new(args.subscriptions, args.fanout, args.notify_entities);
    let run = args.run.clone();
    let receiver = notify::Receiver::start(args.receiver).await?;
    let uri = receiver.url();

    let batches = fan.entities.div_ceil(100);
    let (s, r) = (shared.clone(), run.clone());
    for_each_concurrent(batches, 8, move |b| {
        let (shared, run) = (s.clone(), r.clone());
        async move {
            let batch: Vec<Value> = (b * 100..((b + 1) * 100).min(fan.entities))
                .map(|k| fan.entity(&run, k))
                .collect();
            let path = "/ngsi-ld/v1/entityOperations/upsert";
            let (status, _) = send(&shared, Method::POST, path, Some(&Value::Array(batch))).await?;
            if !matches!(status, 201 | 204) {
                bail!("creating sensor batch {b}: HTTP {status}");
            }
            Ok(())
        }
    })
    .await?;

    let started = Instant::now();
    let (s, r, u) = (shared.clone(), run.clone(), uri.clone());
    for_each_concurrent(fan.subscriptions, args.connections, move |i| {
        let (shared, run, uri) = (s.clone(), r.clone(), u.clone());
        async move {
            let body = fan.subscription(&run, i, &uri);
            let path = "/ngsi-ld/v1/subscriptions";
            let (status, _) = send(&shared, Method::POST, path, Some(&body)).await?;
            if status != 201 {
                bail!("creating subscription {i}: HTTP {status}");
            }
            Ok(())
        }
    })
    .await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "notify: {} subscriptions created in {secs:.2} s; {} entities in {} groups, {} notified per write",
        fan.subscriptions,
        fan.entities,
        fan.groups,
        fan.notified_by(0)
    );

    // The writes: random entities, each PATCH stamped with its send time.
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let issued = Arc::new(AtomicU64::new(0));
    let expected = Arc::new(AtomicU64::new(0));
    let before = receiver.count();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..args.connections {
        let (shared, issued, expected, run) = (
            shared.clone(),
            issued.clone(),
            expected.clone(),
            run.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut errors = 0u64;
            let mut rng = (worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            while Instant::now() < deadline
                && issued.fetch_add(1, Ordering::Relaxed) < shared.args.max_requests
            {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let k = rng % fan.entities;
                let path = format!("/ngsi-ld/v1/entities/{}/attrs", fan.entity_id(&run, k));
                let t0 = Instant::now();
                let body = notify::stamped_patch(notify::now_micros());
                match send(&shared, Method::PATCH, &path, Some(&body)).await {
                    Ok((204, _)) => {
                        expected.fetch_add(fan.notified_by(k), Ordering::Relaxed);
                    }
                    _ => errors += 1,
                }
                let micros = t0.elapsed().as_micros().min(60_000_000) as u64;
                let _ = hist.record(micros.max(1));
            }
            Ok::<_, anyhow::Error>((hist, errors))
        }));
    }
    let mut writes = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = 0;
    for t in tasks {
        let (h, e) = t.await??;
        writes.add(h)?;
        errors += e;
    }
    let write_secs = started.elapsed().as_secs_f64();
    let in_window = receiver.count() - before;
    let expected = expected.load(Ordering::Relaxed);
    let delivered = receiver
        .drain(
            before + expected,
            Duration::from_secs(2),
            Duration::from_secs(args.drain),
        )
        .await
        - before;
    let started_micros = notify::now_micros() - started.elapsed().as_micros() as u64;
    let last = receiver.deliveries.last_at.load(Ordering::Relaxed);
    let delivery_secs = (last.saturating_sub(started_micros) as f64 / 1e6).max(write_secs);
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{:<16} {:>10} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8}",
        format!("notify-w S={}", fan.subscriptions),
        writes.len(),
        writes.len() as f64 / write_secs,
        ms(&writes, 0.5),
        ms(&writes, 0.99),
        ms(&writes, 0.999),
        writes.max() as f64 / 1000.0,
        errors
    );
    if fan.subscriptions > 0 {
        let latency = receiver
            .deliveries
            .latency
            .lock()
            .map_err(|_| anyhow::anyhow!("latency histogram poisoned"))?
            .clone();
        println!(
            "{:<16} {:>10} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8}   (write-to-delivery; expected {expected}, {in_window} within the write window, {} unreadable)",
            format!("notify-n S={}", fan.subscriptions),
            delivered,
            delivered as f64 / delivery_secs,
            ms(&latency, 0.5),
            ms(&latency, 0.99),
            ms(&latency, 0.999),
            latency.max() as f64 / 1000.0,
            expected.saturating_sub(delivered),
            receiver.deliveries.unreadable.load(Ordering::Relaxed),
        );
    }

    if fan.subscriptions > 0 {
        let (sent, failed) = delivery_counters(shared).await?;
        println!(
            "notify: the broker counts timesSent {sent}, timesFailed {failed} (queue drops included)"
        );
    }

    // Leave the broker as it was: the subscriptions go, the sensors stay (per-run types).
    let (s, r) = (shared.clone(), run.clone());
    for_each_concurrent(fan.subscriptions, args.connections, move |i| {
        let (shared, run) = (s.clone(), r.clone());
        async move {
            let path =
                format!("/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:bench-{run}-{i}");
            let _ = send(&shared, Method::DELETE, &path, None).await?;
            Ok(())
        }
    })
    .await?;
    Ok(())
}

/// The sum of `timesSent` and `timesFailed` over this run's subscriptions (clause 5.2.14).
async fn delivery_counters(shared: &Arc<Shared>) -> anyhow::Result<(u64, u64)> {
    let prefix = format!("urn:ngsi-ld:Subscription:bench-{}-", shared.args.run);
    let (mut sent, mut failed) = (0, 0);
    for page in 0.. {
        let path = format!(
            "/ngsi-ld/v1/subscriptions?limit=1000&offset={}",
            page * 1000
        );
        let mut req = shared.client.get(format!("{}{path}", shared.args.url));
        if let Some(t) = &shared.args.tenant {
            req = req.header("NGSILD-Tenant", t);
        }
        let subs: Vec<Value> = req.send().await?.error_for_status()?.json().await?;
        for sub in subs
            .iter()
            .filter(|s| s["id"].as_str().is_some_and(|id| id.starts_with(&prefix)))
        {
            sent += sub["notification"]["timesSent"].as_u64().unwrap_or(0);
            failed += sub["notification"]["timesFailed"].as_u64().unwrap_or(0);
        }
        if subs.len() < 1000 {
            break;
        }
    }
    Ok((sent, failed))
}
