//! A notification receiver for the subscription cases: an address on the callback endpoint
//! (a real HTTP/1.1 server) that keeps every request it gets, in arrival order, so that a case
//! can await the Nth one with a bounded wait instead of sleeping.
//!
//! It answers `204`, or the status the case sets to play a failing endpoint. A receiver that
//! is "down" is simply one that is not up yet: [`Receiver::reserve`] gives an address where
//! nothing answers, and [`Receiver::bind`] brings a receiver up there later.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::endpoint::{endpoint, Mailbox, Route};

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

/// Where notifications for one case arrive: a number on the callback endpoint.
#[derive(Debug)]
pub struct Receiver {
    number: u64,
    inbox: Arc<Mailbox>,
    /// Requests already handed out by [`Receiver::next`].
    taken: std::sync::atomic::AtomicUsize,
}

/// A receiver's address before it is up: requests to it find nothing listening.
#[derive(Debug)]
pub struct ReservedReceiver {
    number: u64,
}

impl ReservedReceiver {
    pub fn url(&self, path: &str) -> String {
        endpoint().url(self.number, path)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        endpoint().close(self.number);
    }
}

impl Receiver {
    /// Starts receiving at a fresh address.
    pub async fn start() -> Receiver {
        Self::bind(Self::reserve()).await
    }

    /// Starts receiving at a reserved address (to bring up a receiver that was down).
    pub async fn bind(reserved: ReservedReceiver) -> Receiver {
        let inbox = Arc::new(Mailbox::default());
        endpoint().open(reserved.number, Route::Mailbox(inbox.clone()));
        Receiver {
            number: reserved.number,
            inbox,
            taken: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// An address that nothing answers at (yet).
    pub fn reserve() -> ReservedReceiver {
        ReservedReceiver {
            number: endpoint().reserve(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        endpoint().url(self.number, path)
    }

    /// The status code of the next answers (a 2xx is a delivered notification).
    pub fn answer_with(&self, status: u16) {
        self.inbox.status.store(status, Ordering::SeqCst);
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

    /// The first delivered request for which `wanted` holds, awaited for at most `wait`;
    /// `None` if none came.
    pub async fn first_matching(
        &self,
        wanted: impl Fn(&Received) -> bool,
        wait: Duration,
    ) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.inbox.arrived.notified();
            if let Some(r) = self
                .inbox
                .requests
                .lock()
                .expect("inbox")
                .iter()
                .find(|r| wanted(r))
            {
                return Some(r.clone());
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// The first request answered with a non-2xx status (see [`Receiver::answer_with`]),
    /// awaited for at most `wait`.
    pub async fn first_refused(&self, wait: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.inbox.arrived.notified();
            if let Some(r) = self.inbox.refused.lock().expect("inbox").first() {
                return Some(r.clone());
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// The request after the last one `next` or `try_next` returned, awaited for at most
    /// `wait`; `None` if it did not come.
    pub async fn try_next(&self, wait: Duration) -> Option<Received> {
        let n = self.taken.load(Ordering::SeqCst) + 1;
        let received = self.try_nth(n, wait).await?;
        self.taken.store(n, Ordering::SeqCst);
        Some(received)
    }

    /// The request after the last one `next` returned, or a panic after `wait`.
    pub async fn next(&self, wait: Duration) -> Received {
        self.try_next(wait)
            .await
            .unwrap_or_else(|| panic!("no notification within {wait:?}"))
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
