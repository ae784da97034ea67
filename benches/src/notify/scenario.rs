//! The run of the `notify` scenario: sensors and subscriptions first, then the timed writes,
//! then the wait for the notifications still on their way. It yields two measurements:
//! `notify` (the PATCH writes, as any scenario) and `notify-delivery` (notifications received,
//! per second, and their write-to-delivery latency; its errors are the ones that never came).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use reqwest::Method;
use serde_json::Value;

use super::{now_micros, stamped_patch, FanOut, Receiver};
use crate::results::Measurement;
use crate::run::{for_each_concurrent, histogram, record, Draw, Limits, Progress};
use crate::target::Target;
use crate::workload::BATCH;

/// What `notify` needs besides the common limits.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub fan: FanOut,
    /// Where the receiver listens (port 0: any free port).
    pub receiver: SocketAddr,
    /// The longest wait for outstanding notifications after the writes.
    pub drain: Duration,
}

/// Runs `notify` against `target`, naming everything after `key`.
pub async fn run(
    target: &Arc<Target>,
    key: &str,
    setup: Setup,
    limits: Limits,
) -> anyhow::Result<Vec<Measurement>> {
    let fan = setup.fan;
    let receiver = Receiver::start(setup.receiver).await?;
    create_sensors(target, key, fan).await?;
    create_subscriptions(target, key, fan, &receiver.url(), limits.connections).await?;

    let progress = Progress::start(format!("{} notify", target.label), limits.duration);
    let issued = Arc::new(AtomicU64::new(0));
    let expected = Arc::new(AtomicU64::new(0));
    let before = receiver.count();
    let started = Instant::now();
    let started_micros = now_micros();
    let deadline = started + limits.duration;
    let mut tasks = Vec::new();
    for worker in 0..limits.connections {
        let (target, issued, expected) = (target.clone(), issued.clone(), expected.clone());
        let (done, errors) = (progress.done.clone(), progress.errors.clone());
        let key = key.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut hist = histogram();
            let mut draw = Draw::new(worker);
            while Instant::now() < deadline
                && issued.fetch_add(1, Ordering::Relaxed) < limits.max_requests
            {
                let k = draw.next_u64() % fan.entities;
                let path = format!("/ngsi-ld/v1/entities/{}/attrs", fan.entity_id(&key, k));
                let t0 = Instant::now();
                let body = stamped_patch(now_micros());
                match target.send(Method::PATCH, &path, Some(&body)).await {
                    Ok((204, _)) => {
                        expected.fetch_add(fan.notified_by(k), Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                record(&mut hist, t0);
                done.fetch_add(1, Ordering::Relaxed);
            }
            hist
        }));
    }
    let mut writes = histogram();
    for t in tasks {
        writes.add(t.await.context("worker task")?)?;
    }
    let write_secs = started.elapsed().as_secs_f64();
    let errors = progress.errors.load(Ordering::Relaxed);
    progress.finish().await;
    let mut measured = vec![Measurement::new(
        "notify",
        writes.len(),
        errors,
        write_secs,
        &writes,
    )];

    if fan.subscriptions > 0 {
        let in_window = receiver.count() - before;
        let expected = expected.load(Ordering::Relaxed);
        let quiet = Duration::from_secs(2);
        let delivered = receiver.drain(before + expected, quiet, setup.drain).await - before;
        let last = receiver.deliveries.last_at.load(Ordering::Relaxed);
        let delivery_secs = (last.saturating_sub(started_micros) as f64 / 1e6).max(write_secs);
        let latency = receiver
            .deliveries
            .latency
            .lock()
            .map_err(|_| anyhow::anyhow!("latency histogram poisoned"))?
            .clone();
        let (sent, failed) = delivery_counters(target, key).await.unwrap_or((0, 0));
        let mut m = Measurement::new(
            "notify-delivery",
            delivered,
            expected.saturating_sub(delivered),
            delivery_secs,
            &latency,
        );
        m.note = Some(format!(
            "{} subscriptions, {} notified per write; expected {expected}, {in_window} within \
             the write window, {} unreadable; the broker counts timesSent {sent}, timesFailed \
             {failed}",
            fan.subscriptions,
            fan.notified_by(0),
            receiver.deliveries.unreadable.load(Ordering::Relaxed),
        ));
        measured.push(m);
    }

    // The subscriptions go, so later runs are not slowed by them; the sensors stay.
    let (t, k) = (target.clone(), key.to_owned());
    for_each_concurrent(fan.subscriptions, limits.connections, move |i| {
        let (target, key) = (t.clone(), k.clone());
        async move {
            let path = format!("/ngsi-ld/v1/subscriptions/{}", subscription_id(&key, i));
            target.send(Method::DELETE, &path, None).await?;
            Ok(())
        }
    })
    .await?;
    Ok(measured)
}

/// As [`FanOut::subscription`] names it.
fn subscription_id(key: &str, i: u64) -> String {
    format!("urn:ngsi-ld:Subscription:bench-{key}-{i}")
}

async fn create_sensors(target: &Arc<Target>, key: &str, fan: FanOut) -> anyhow::Result<()> {
    let (t, k) = (target.clone(), key.to_owned());
    for_each_concurrent(fan.entities.div_ceil(BATCH), 8, move |b| {
        let (target, key) = (t.clone(), k.clone());
        async move {
            let batch: Vec<Value> = (b * BATCH..((b + 1) * BATCH).min(fan.entities))
                .map(|k| fan.entity(&key, k))
                .collect();
            let path = "/ngsi-ld/v1/entityOperations/upsert";
            let (status, _) = target
                .send(Method::POST, path, Some(&Value::Array(batch)))
                .await?;
            if !matches!(status, 201 | 204) {
                bail!("{}: creating sensor batch {b}: HTTP {status}", target.label);
            }
            Ok(())
        }
    })
    .await
}

async fn create_subscriptions(
    target: &Arc<Target>,
    key: &str,
    fan: FanOut,
    uri: &str,
    width: usize,
) -> anyhow::Result<()> {
    let (t, k, u) = (target.clone(), key.to_owned(), uri.to_owned());
    for_each_concurrent(fan.subscriptions, width, move |i| {
        let (target, key, uri) = (t.clone(), k.clone(), u.clone());
        async move {
            let body = fan.subscription(&key, i, &uri);
            let path = "/ngsi-ld/v1/subscriptions";
            let (status, _) = target.send(Method::POST, path, Some(&body)).await?;
            if status != 201 {
                bail!("{}: creating subscription {i}: HTTP {status}", target.label);
            }
            Ok(())
        }
    })
    .await
}

/// The sum of `timesSent` and `timesFailed` over this run's subscriptions (clause 5.2.14).
async fn delivery_counters(target: &Target, key: &str) -> anyhow::Result<(u64, u64)> {
    let prefix = subscription_id(key, 0);
    let prefix = prefix.trim_end_matches('0');
    let (mut sent, mut failed) = (0, 0);
    // Bounded: a broker that ignored `offset` would otherwise page forever.
    for page in 0..1000 {
        let path = format!(
            "/ngsi-ld/v1/subscriptions?limit=1000&offset={}",
            page * 1000
        );
        let subs = target.get_json(&path).await?;
        let subs = subs.as_array().map(Vec::as_slice).unwrap_or_default();
        for sub in subs
            .iter()
            .filter(|s| s["id"].as_str().is_some_and(|id| id.starts_with(prefix)))
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
