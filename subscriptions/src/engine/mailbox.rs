//! A subscription's queue of pending notifications: bounded, and when full it drops the
//! *oldest* entry to make room. A notification describes an entity's state at one write, so
//! when a receiver falls behind the newest states are the ones worth keeping; the drops are
//! counted in the engine's statistics (`notifications_dropped`), not as the subscription's
//! failures: a dropped notification was never sent.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

#[derive(Debug)]
pub(crate) struct Mailbox<T> {
    state: Mutex<State<T>>,
    ready: Notify,
    capacity: usize,
}

#[derive(Debug)]
struct State<T> {
    queue: VecDeque<T>,
    evicted: u64,
    closed: bool,
}

impl<T> Mailbox<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Mailbox {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(capacity.min(64)),
                evicted: 0,
                closed: false,
            }),
            ready: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // The lock is never held across a panic point that leaves the queue inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item`; returns true if the oldest entry was dropped to make room.
    pub(crate) fn push(&self, item: T) -> bool {
        let evicted = {
            let mut s = self.lock();
            if s.closed {
                return false;
            }
            let evicted = s.queue.len() >= self.capacity;
            if evicted {
                s.queue.pop_front();
                s.evicted += 1;
            }
            s.queue.push_back(item);
            evicted
        };
        self.ready.notify_one();
        evicted
    }

    /// The next entry; `None` once closed and empty.
    pub(crate) async fn pop(&self) -> Option<T> {
        loop {
            {
                let mut s = self.lock();
                if let Some(item) = s.queue.pop_front() {
                    return Some(item);
                }
                if s.closed {
                    return None;
                }
            }
            self.ready.notified().await;
        }
    }

    /// The number of entries dropped since the last call.
    pub(crate) fn take_evicted(&self) -> u64 {
        std::mem::take(&mut self.lock().evicted)
    }

    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_mailbox_drops_the_oldest() {
        let m = Mailbox::new(2);
        assert!(!m.push(1));
        assert!(!m.push(2));
        assert!(m.push(3));
        assert_eq!(m.take_evicted(), 1);
        assert_eq!(m.take_evicted(), 0);
        assert_eq!(m.pop().await, Some(2));
        assert_eq!(m.pop().await, Some(3));
        m.close();
        assert_eq!(m.pop().await, None);
    }
}
