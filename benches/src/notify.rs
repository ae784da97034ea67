//! The `notify` scenario of `oxion-load`: how fast a broker fans writes out to subscribers.
//!
//! The tool runs its own notification receiver (a minimal HTTP/1.1 server on loopback that
//! answers `204`), creates `S` subscriptions pointing at it, then drives PATCH writes for the
//! duration. Every write carries the time it was sent (`sentAt`, microseconds since the Unix
//! epoch) as an attribute value, so the receiver measures write-to-delivery latency from the
//! notification alone.
//!
//! Fan-out is bounded by construction ([`FanOut`]): entities and subscriptions are split into
//! `G` groups by entity type (`BenchSensor<run>G<g>`); subscription `i` watches group
//! `i mod G`, entity `k` belongs to group `k mod G`. With `G = ceil(S / fanout)` each write
//! notifies exactly `S / G` subscriptions (`fanout`, or fewer for the last rounding), however
//! large `S` is. `S = 0` gives the same writes with no subscription, for comparison.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How subscriptions and entities are grouped so that a write notifies a bounded number of
/// subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOut {
    pub subscriptions: u64,
    /// Groups (entity types); at least 1.
    pub groups: u64,
    /// Entities written to; at least one per group.
    pub entities: u64,
}

impl FanOut {
    /// `S` subscriptions, about `fanout` notified per write, writes spread over at least
    /// `min_entities` entities.
    pub fn new(subscriptions: u64, fanout: u64, min_entities: u64) -> Self {
        let fanout = fanout.max(1);
        let groups = subscriptions.div_ceil(fanout).max(1);
        FanOut {
            subscriptions,
            groups,
            entities: min_entities.max(groups),
        }
    }

    /// Subscriptions notified by a write to entity `k`.
    pub fn notified_by(&self, k: u64) -> u64 {
        let g = k % self.groups;
        // Subscriptions i < S with i mod G == g.
        if g < self.subscriptions % self.groups {
            self.subscriptions / self.groups + 1
        } else {
            self.subscriptions / self.groups
        }
    }

    pub fn entity_type(&self, run: &str, group: u64) -> String {
        format!("BenchSensor{run}G{group}")
    }

    pub fn entity_id(&self, run: &str, k: u64) -> String {
        format!("urn:ngsi-ld:BenchSensor:{run}:{k}")
    }

    /// Entity `k` as created before the run.
    pub fn entity(&self, run: &str, k: u64) -> Value {
        json!({
            "id": self.entity_id(run, k),
            "type": self.entity_type(run, k % self.groups),
            "temperature": {"type": "Property", "value": 20.5, "unitCode": "CEL"},
            "sentAt": {"type": "Property", "value": 0}
        })
    }

    /// Subscription `i`: the entities of its group, attribute updates (the default triggers),
    /// notified to `uri`.
    pub fn subscription(&self, run: &str, i: u64, uri: &str) -> Value {
        json!({
            "id": format!("urn:ngsi-ld:Subscription:bench-{run}-{i}"),
            "type": "Subscription",
            "entities": [{"type": self.entity_type(run, i % self.groups)}],
            "watchedAttributes": ["sentAt"],
            "notification": {"endpoint": {"uri": uri}}
        })
    }
}

/// The body of the PATCH /attrs of a measured write.
pub fn stamped_patch(sent_at_micros: u64) -> Value {
    json!({"sentAt": {"type": "Property", "value": sent_at_micros}})
}

pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// What the receiver saw.
#[derive(Debug)]
pub struct Deliveries {
    pub count: AtomicU64,
    /// Notifications whose `sentAt` could not be read (should stay 0).
    pub unreadable: AtomicU64,
    /// Write-to-delivery, microseconds.
    pub latency: Mutex<Histogram<u64>>,
    /// When the last one arrived, microseconds since the epoch.
    pub last_at: AtomicU64,
}

impl Deliveries {
    fn record(&self, body: &[u8]) {
        let now = now_micros();
        let sent = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            v["data"][0]["sentAt"]["value"]
                .as_u64()
                .or_else(|| v["data"][0]["sentAt"].as_u64())
        });
        match sent {
            // `0` is the value at creation: a notification of no measured write.
            Some(sent) if sent > 0 => {
                let micros = now.saturating_sub(sent).clamp(1, 60_000_000);
                if let Ok(mut h) = self.latency.lock() {
                    let _ = h.record(micros);
                }
            }
            _ => {
                self.unreadable.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.last_at.fetch_max(now, Ordering::Relaxed);
    }
}

/// A notification receiver on loopback: HTTP/1.1 with keep-alive, `204` to every request.
#[derive(Debug)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub deliveries: Arc<Deliveries>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start(bind: SocketAddr) -> anyhow::Result<Receiver> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let deliveries = Arc::new(Deliveries {
            count: AtomicU64::new(0),
            unreadable: AtomicU64::new(0),
            latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3)?),
            last_at: AtomicU64::new(0),
        });
        let d = deliveries.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, d.clone()));
            }
        });
        Ok(Receiver {
            addr,
            deliveries,
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}/notify", self.addr)
    }

    pub fn count(&self) -> u64 {
        self.deliveries.count.load(Ordering::Relaxed)
    }

    /// Waits until `expected` notifications arrived, or nothing arrived for `quiet`, or
    /// `limit` passed. Returns how many arrived.
    pub async fn drain(&self, expected: u64, quiet: Duration, limit: Duration) -> u64 {
        let deadline = Instant::now() + limit;
        let mut last = (self.count(), Instant::now());
        while self.count() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let n = self.count();
            if n != last.0 {
                last = (n, Instant::now());
            } else if last.1.elapsed() >= quiet {
                break;
            }
        }
        self.count()
    }
}

async fn serve(stream: TcpStream, deliveries: Arc<Deliveries>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut len = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        body.resize(len, 0);
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        if write
            .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
        deliveries.record(&body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_notifies_a_bounded_number_of_subscriptions() {
        for (s, fanout, min_entities) in [(1, 1, 1000), (100, 1, 1000), (10_000, 1, 1000)] {
            let f = FanOut::new(s, fanout, min_entities);
            assert!(f.entities >= min_entities);
            for k in 0..f.entities.min(20_000) {
                assert_eq!(f.notified_by(k), 1, "S={s} k={k}");
            }
        }
        let all = FanOut::new(100, 100, 1000);
        assert_eq!(all.groups, 1);
        assert_eq!(all.notified_by(7), 100);
        let none = FanOut::new(0, 1, 1000);
        assert_eq!(none.notified_by(3), 0);
        // Uneven: 10 subscriptions in groups of about 3.
        let uneven = FanOut::new(10, 3, 8);
        assert_eq!(uneven.groups, 4);
        let total: u64 = (0..uneven.groups).map(|g| uneven.notified_by(g)).sum();
        assert_eq!(total, 10);
    }

    #[test]
    fn the_receiver_reads_the_write_time_from_normalized_and_key_values() {
        let d = Deliveries {
            count: AtomicU64::new(0),
            unreadable: AtomicU64::new(0),
            latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds")),
            last_at: AtomicU64::new(0),
        };
        let sent = now_micros() - 1000;
        d.record(
            json!({"data": [{"sentAt": {"type": "Property", "value": sent}}]})
                .to_string()
                .as_bytes(),
        );
        d.record(json!({"data": [{"sentAt": sent}]}).to_string().as_bytes());
        d.record(b"not json");
        assert_eq!(d.count.load(Ordering::Relaxed), 3);
        assert_eq!(d.unreadable.load(Ordering::Relaxed), 1);
        let h = d.latency.lock().expect("histogram");
        assert_eq!(h.len(), 2);
        assert!(h.min() >= 1000);
    }
}
