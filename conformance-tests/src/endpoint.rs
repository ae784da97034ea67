//! The one HTTP/1.1 listener that the broker under test calls back: notifications for the
//! [`Receiver`](crate::Receiver)s and @context documents of the
//! [`ContextServer`](crate::ContextServer)s. One listener, so a broker elsewhere (a container,
//! another host) needs one reachable address: `--notify-host` and `--notify-port`.
//!
//! Every receiver and document gets a number, and its URLs start with `/{number}`. The listener
//! runs on a thread of its own with its own runtime, so it outlives the runtime of any one case
//! (the test binary gives each case its own). A number with nothing open behind it (reserved
//! but not bound yet, or closed) gets its connection dropped without an answer, which is what
//! a broker sees of an endpoint that is down.
//!
//! It is small on purpose: request line, headers, a Content-Length body, keep-alive.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::receiver::Received;

/// What a receiver's number leads to: the requests it got, in arrival order.
#[derive(Debug)]
pub(crate) struct Mailbox {
    pub requests: Mutex<Vec<Received>>,
    /// Requests answered with a non-2xx status (failed deliveries the broker will retry).
    pub refused: Mutex<Vec<Received>>,
    pub arrived: Notify,
    /// The status of the next answers (a 2xx is a delivered notification).
    pub status: AtomicU16,
}

impl Default for Mailbox {
    fn default() -> Self {
        Self {
            requests: Mutex::default(),
            refused: Mutex::default(),
            arrived: Notify::new(),
            status: AtomicU16::new(204),
        }
    }
}

/// What a context server's number leads to: one JSON-LD document.
#[derive(Debug)]
pub(crate) struct Document {
    pub body: String,
    pub hits: AtomicUsize,
}

#[derive(Debug, Clone)]
pub(crate) enum Route {
    Mailbox(Arc<Mailbox>),
    Document(Arc<Document>),
}

#[derive(Debug)]
pub(crate) struct Endpoint {
    /// `http://host:port`, as the broker calls it.
    base: String,
    routes: Mutex<HashMap<u64, Route>>,
    next: AtomicU64,
}

/// The endpoint of this process, started on first use where the settings say.
pub(crate) fn endpoint() -> &'static Endpoint {
    static ENDPOINT: OnceLock<Endpoint> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let settings = crate::settings();
        let (host, port) = (settings.notify_host.as_str(), settings.notify_port);
        let listener = std::net::TcpListener::bind((host, port))
            .unwrap_or_else(|e| panic!("binding the callback endpoint on {host}:{port}: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
        let _ = listener.set_nonblocking(true);
        std::thread::Builder::new()
            .name("callback-endpoint".into())
            .spawn(move || accept_loop(listener))
            .expect("starting the callback endpoint thread");
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        Endpoint {
            base: format!("http://{host}:{port}"),
            routes: Mutex::default(),
            next: AtomicU64::new(1),
        }
    })
}

impl Endpoint {
    /// A fresh number with nothing open behind it yet.
    pub fn reserve(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    pub fn open(&self, number: u64, route: Route) {
        self.routes.lock().expect("routes").insert(number, route);
    }

    pub fn close(&self, number: u64) {
        self.routes.lock().expect("routes").remove(&number);
    }

    /// The URL of `path` under `number`.
    pub fn url(&self, number: u64, path: &str) -> String {
        format!("{}/{number}{path}", self.base)
    }

    fn route(&self, number: u64) -> Option<Route> {
        self.routes.lock().expect("routes").get(&number).cloned()
    }
}

fn accept_loop(listener: std::net::TcpListener) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("callback endpoint: no runtime: {e}");
            return;
        }
    };
    runtime.block_on(async move {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
}

/// Serves the requests of one connection until it closes or asks for a closed number.
async fn serve(stream: TcpStream) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
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
        let (number, path) = split_target(&target);
        let Some(route) = number.and_then(|n| endpoint().route(n)) else {
            // Nothing open there: hang up, as an endpoint that is down would.
            return;
        };
        match route {
            Route::Mailbox(mailbox) => {
                let code = mailbox.status.load(Ordering::SeqCst);
                let answer = format!("HTTP/1.1 {code} Receiver\r\ncontent-length: 0\r\n\r\n");
                if write.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                // Only delivered notifications count as arrivals; an error answer is a failure
                // the broker sees, not a notification the case receives.
                let received = Received {
                    method,
                    path: path.to_owned(),
                    headers,
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    at: tokio::time::Instant::now(),
                };
                if (200..300).contains(&code) {
                    mailbox.requests.lock().expect("inbox").push(received);
                } else {
                    mailbox.refused.lock().expect("inbox").push(received);
                }
                mailbox.arrived.notify_waiters();
            }
            Route::Document(document) => {
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/ld+json\r\ncontent-length: {}\r\n\r\n{}",
                    document.body.len(),
                    document.body
                );
                if write.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                document.hits.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// `/12/n?x` into `(Some(12), "/n?x")`.
fn split_target(target: &str) -> (Option<u64>, &str) {
    let rest = target.strip_prefix('/').unwrap_or(target);
    let (number, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    (number.parse().ok(), path)
}

#[cfg(test)]
mod tests {
    use super::split_target;

    #[test]
    fn targets_split_into_number_and_path() {
        assert_eq!(split_target("/12/n"), (Some(12), "/n"));
        assert_eq!(split_target("/3"), (Some(3), ""));
        assert_eq!(split_target("/3?a=b"), (Some(3), "?a=b"));
        assert_eq!(split_target("/x/n"), (None, "/n"));
    }
}
