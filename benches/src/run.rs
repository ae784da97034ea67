//! Running scenarios against a target: the preload, and the timed loop that every
//! request-response scenario shares.
//!
//! The loop is `connections` workers, each sending one request at a time, until the duration
//! has passed or `max_requests` have been issued, whichever comes first: nothing runs unbounded.
//! Each worker keeps its own latency histogram (microseconds, merged at the end), and a progress
//! bar on stderr shows the throughput so far (hidden when stderr is no terminal).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;

use crate::results::Measurement;
use crate::scenario::Scenario;
use crate::target::Target;
use crate::workload::Workload;

/// How hard and how long each scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connections: usize,
    pub duration: Duration,
    pub max_requests: u64,
}

/// A latency histogram of microseconds, up to a minute.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static bounds are valid")
}

/// Records the time since `t0`.
pub fn record(h: &mut Histogram<u64>, t0: Instant) {
    let micros = t0.elapsed().as_micros().clamp(1, 60_000_000) as u64;
    let _ = h.record(micros);
}

/// A xorshift draw per worker: cheap, and the same sequence for every broker.
#[derive(Debug, Clone)]
pub struct Draw(u64);

impl Draw {
    pub fn new(worker: usize) -> Self {
        Draw((worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The progress bar of a running scenario, fed by counters the workers bump.
#[derive(Debug)]
pub struct Progress {
    pub done: Arc<AtomicU64>,
    pub errors: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Progress {
    pub fn start(prefix: String, duration: Duration) -> Self {
        let bar = ProgressBar::new(duration.as_millis() as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:<28} [{bar:30}] {elapsed:>3} {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(prefix);
        let (done, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, e, s) = (done.clone(), errors.clone(), stop.clone());
        let ticker = tokio::spawn(async move {
            let started = Instant::now();
            while !s.load(Ordering::Relaxed) {
                let secs = started.elapsed().as_secs_f64();
                let n = d.load(Ordering::Relaxed);
                bar.set_position((secs * 1000.0) as u64);
                bar.set_message(format!(
                    "{n} req, {:.0} req/s, {} errors",
                    n as f64 / secs.max(1e-3),
                    e.load(Ordering::Relaxed)
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            bar.finish_and_clear();
        });
        Progress {
            done,
            errors,
            stop,
            ticker,
        }
    }

    pub async fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.ticker.await;
    }
}

/// Runs `job(i)` for `i` in `0..count` with `width` in flight; a failed job fails the run.
pub async fn for_each_concurrent<F, Fut>(count: u64, width: usize, job: F) -> anyhow::Result<()>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
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

/// Loads the workload's entities with batch upserts, 8 batches in flight. Returns the seconds
/// it took.
pub async fn preload(target: &Arc<Target>, w: &Arc<Workload>) -> anyhow::Result<f64> {
    let started = Instant::now();
    let (t, wl) = (target.clone(), w.clone());
    for_each_concurrent(w.batches(), 8, move |b| {
        let (target, w) = (t.clone(), wl.clone());
        async move {
            let path = "/ngsi-ld/v1/entityOperations/upsert";
            let (status, _) = target.send(Method::POST, path, Some(&w.batch(b))).await?;
            if !matches!(status, 201 | 204) {
                bail!("{}: preload batch {b}: HTTP {status}", target.label);
            }
            Ok(())
        }
    })
    .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Loads the workload's temporal evolutions with POST /temporal/entities, one chunk of
/// instances per request, 8 requests in flight. Returns the seconds it took.
pub async fn preload_temporal(target: &Arc<Target>, w: &Arc<Workload>) -> anyhow::Result<f64> {
    let started = Instant::now();
    let (t, wl) = (target.clone(), w.clone());
    let chunks = w.temporal_chunks();
    for_each_concurrent(w.entities * chunks, 8, move |n| {
        let (target, w) = (t.clone(), wl.clone());
        async move {
            // Chunk-major: every evolution exists after the first pass, each grows in turn.
            let (c, i) = (n / w.entities, n % w.entities);
            let path = "/ngsi-ld/v1/temporal/entities";
            let body = w.temporal_chunk(i, c);
            let (status, _) = target.send(Method::POST, path, Some(&body)).await?;
            if !matches!(status, 201 | 204) {
                bail!("{}: temporal preload {i}/{c}: HTTP {status}", target.label);
            }
            Ok(())
        }
    })
    .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Runs a request-response scenario (any but `notify`) and measures it.
pub async fn scenario(
    target: &Arc<Target>,
    w: &Arc<Workload>,
    sc: Scenario,
    limits: Limits,
) -> anyhow::Result<Measurement> {
    if sc.request(w, 0, 0).is_none() {
        bail!("{sc} is not a request-response scenario");
    }
    let progress = Progress::start(format!("{} {sc}", target.label), limits.duration);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + limits.duration;
    let mut tasks = Vec::new();
    for worker in 0..limits.connections {
        let (target, w, issued) = (target.clone(), w.clone(), issued.clone());
        let (done, errors) = (progress.done.clone(), progress.errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = histogram();
            let mut draw = Draw::new(worker);
            // Distinct per worker: new ids for `create`, disjoint batches for `batch-upsert`.
            let mut n = worker as u64;
            while Instant::now() < deadline
                && issued.fetch_add(1, Ordering::Relaxed) < limits.max_requests
            {
                let Some(request) = sc.request(&w, draw.next_u64(), n) else {
                    break;
                };
                n += limits.connections as u64;
                let t0 = Instant::now();
                let ok = target.perform(request).await;
                record(&mut hist, t0);
                done.fetch_add(1, Ordering::Relaxed);
                if !matches!(ok, Ok(true)) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            hist
        }));
    }
    let mut hist = histogram();
    for t in tasks {
        hist.add(t.await.context("worker task")?)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let errors = progress.errors.load(Ordering::Relaxed);
    progress.finish().await;
    Ok(Measurement::new(sc.name(), hist.len(), errors, secs, &hist))
}
