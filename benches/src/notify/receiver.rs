//! The notification receiver of the `notify` scenario: a minimal HTTP/1.1 server on loopback
//! that answers `204` to everything and reads, from each notification, when the write that
//! caused it was sent.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::now_micros;

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
    use serde_json::json;

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
