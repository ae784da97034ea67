//! A notification receiver for the subscription cases: a real HTTP/1.1 server on loopback
//! that keeps every request it gets, in arrival order, so that a case can await the Nth one
//! with a bounded wait instead of sleeping.
//!
//! It is small on purpose (request line, headers, a Content-Length body, keep-alive) and
//! answers `204`, or the status the case sets to play a failing endpoint. A receiver that is
//! "down" is simply one that is not running yet: [`Receiver::reserve_addr`] gives an address
//! nothing listens on, and [`Receiver::bind`] brings a receiver up there later.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub body: Value,
    /// When it arrived.
    pub at: tokio::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The first entity of the notification's `data`.
    pub fn entity(&self) -> &Value {
        &self.body["data"][0]
    }
}

/// What the server task and the cases share.
#[derive(Debug, Default)]
struct Inbox {
    requests: Mutex<Vec<Received>>,
    arrived: Notify,
}

#[derive(Debug)]
pub struct Receiver {
    pub addr: SocketAddr,
    inbox: Arc<Inbox>,
    status: Arc<AtomicU16>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Starts on a free loopback port.
    pub async fn start() -> Receiver {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on a given address (to bring up a receiver where none was listening).
    pub async fn bind(addr: SocketAddr) -> Receiver {
        let listener = TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("binding the receiver on {addr}: {e}"));
        let addr = listener.local_addr().expect("receiver address");
        let inbox = Arc::new(Inbox::default());
        let status = Arc::new(AtomicU16::new(204));
        let (inbox2, status2) = (inbox.clone(), status.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, inbox2.clone(), status2.clone()));
            }
        });
        Receiver {
            addr,
            inbox,
            status,
            task,
        }
    }

    /// A loopback address that nothing listens on (yet).
    pub fn reserve_addr() -> SocketAddr {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The status code of the next answers (a 2xx is a delivered notification).
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        self.inbox.requests.lock().expect("inbox").len()
    }

    /// Every request so far, in arrival order.
    pub fn all(&self) -> Vec<Received> {
        self.inbox.requests.lock().expect("inbox").clone()
    }

    /// The `n`th request (1-based), awaited for at most `wait`; `None` if it did not come.
    pub async fn try_nth(&self, n: usize, wait: Duration) -> Option<Received> {
        assert!(n >= 1, "requests are counted from 1");
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so an arrival between the look and the wait wakes us.
            let arrived = self.inbox.arrived.notified();
            if let Some(r) = self.inbox.requests.lock().expect("inbox").get(n - 1) {
                return Some(r.clone());
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// The `n`th request (1-based), or a panic after `wait`.
    #[track_caller]
    pub fn nth(
        &self,
        n: usize,
        wait: Duration,
    ) -> impl std::future::Future<Output = Received> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            self.try_nth(n, wait).await.unwrap_or_else(|| {
                panic!(
                    "{caller}: notification #{n} did not arrive within {wait:?} ({} arrived: {:?})",
                    self.count(),
                    self.all().iter().map(|r| &r.body).collect::<Vec<_>>()
                )
            })
        }
    }
}

async fn serve(stream: TcpStream, inbox: Arc<Inbox>, status: Arc<AtomicU16>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let code = status.load(Ordering::SeqCst);
        let answer = format!("HTTP/1.1 {code} Receiver\r\ncontent-length: 0\r\n\r\n");
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
        // Only delivered notifications count as arrivals; an error answer is a failure the
        // broker sees, not a notification the case receives.
        if (200..300).contains(&code) {
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            inbox.requests.lock().expect("inbox").push(Received {
                method,
                path,
                headers,
                body,
                at: tokio::time::Instant::now(),
            });
            inbox.arrived.notify_waiters();
        }
    }
}
