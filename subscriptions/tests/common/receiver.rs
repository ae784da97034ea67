//! A real HTTP/1.1 notification receiver on loopback: it records every request and lets a
//! test await the next one, with a bounded wait. Small on purpose: request line, headers,
//! a Content-Length body, keep-alive; it answers `204` (or the status the test sets).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    pub body: Value,
}

#[derive(Debug)]
pub struct Receiver {
    pub addr: SocketAddr,
    requests: Mutex<mpsc::Receiver<Request>>,
    status: Arc<AtomicU16>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        Self::bind("127.0.0.1:0".parse().expect("address")).await
    }

    /// Starts on a given address (to bring a receiver up where one was down).
    pub async fn bind(addr: SocketAddr) -> Receiver {
        let listener = TcpListener::bind(addr).await.expect("bind receiver");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = mpsc::channel(1024);
        let status = Arc::new(AtomicU16::new(204));
        let st = status.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, tx.clone(), st.clone()));
            }
        });
        Receiver {
            addr,
            requests: Mutex::new(rx),
            status,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The status code of the next answers.
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// The next request, or a panic after `wait`.
    pub async fn next(&self, wait: Duration) -> Request {
        self.try_next(wait)
            .await
            .unwrap_or_else(|| panic!("no notification within {wait:?}"))
    }

    /// The next request, or `None` after `wait`.
    pub async fn try_next(&self, wait: Duration) -> Option<Request> {
        let mut rx = self.requests.lock().await;
        tokio::time::timeout(wait, rx.recv()).await.ok().flatten()
    }
}

async fn serve(stream: TcpStream, tx: mpsc::Sender<Request>, status: Arc<AtomicU16>) {
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
        let answer = format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\n\r\n");
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let _ = tx
            .send(Request {
                method,
                path,
                headers,
                body,
            })
            .await;
    }
}
