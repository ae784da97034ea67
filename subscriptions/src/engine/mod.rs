//! The engine: the tasks that match change events against subscriptions and deliver the
//! notifications, and the handle the broker drives them with.
//!
//! ```text
//!  broker write path ──try_send──▶ [events: bounded] ──▶ dispatcher ──push──▶ [mailbox] ──▶ worker ──▶ endpoint
//!  broker handlers ───send──────▶ [control: bounded] ─┘   (registry)         one per subscription
//! ```
//!
//! - The **dispatcher** (task `subscriptions-dispatcher`) owns the [`Registry`]: it files
//!   subscriptions, and for each event checks the candidate subscriptions and queues a job in
//!   the mailbox of each that matches. It never waits on the network.
//! - A **worker** (task `subscription-worker`) per subscription owns that subscription's
//!   delivery state: throttling, retries, status counters, the `timeInterval` ticker. It
//!   delivers in order, one notification at a time, so a slow endpoint delays only its own
//!   subscription.
//!
//! Bounds: the event channel holds `event_capacity` events; when it is full
//! [`EngineHandle::notify`] drops the event and says so (the write path never waits). Each
//! mailbox holds `queue_capacity` jobs and drops its oldest when full (see `mailbox`).

mod dispatcher;
mod mailbox;
mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ngsi_types::context::ActiveContext;
use ngsi_types::Entity;
use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::event::{tenant_key, ChangeEvent};
use crate::model::{ActiveSubscription, Subscription};
use crate::status::SubscriptionStatus;

/// Engine settings; the defaults work without configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Change events buffered between the write path and the dispatcher.
    pub event_capacity: usize,
    /// Notifications buffered per subscription (oldest dropped beyond).
    pub queue_capacity: usize,
    /// Timeout of one delivery attempt, unless the endpoint sets its own `timeout`.
    pub http_timeout: Duration,
    /// Retries after a failed attempt (so at most `1 + max_retries` attempts).
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further one, capped at `max_backoff`.
    pub retry_backoff: Duration,
    pub max_backoff: Duration,
    /// Where notifications may go (HTTP and MQTT endpoints alike).
    pub egress: Arc<crate::egress::EgressPolicy>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            event_capacity: 4096,
            queue_capacity: 64,
            http_timeout: Duration::from_secs(5),
            max_retries: 3,
            retry_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            egress: Arc::new(crate::egress::EgressPolicy::default_deny()),
        }
    }
}

/// Access to the current entities, for periodic (`timeInterval`) notifications and the
/// Linked Entities of notifications (`notification.join`). The broker implements it over its
/// store; [`Subscription::matches_entity`] applies the subscription's selectors and filters
/// to a candidate.
#[async_trait]
pub trait EntitySource: Send + Sync + 'static {
    /// The entities of `tenant` that the subscription currently selects.
    async fn matching(&self, tenant: Option<&str>, subscription: &Subscription) -> Vec<Entity>;

    /// The entities of `tenant` with these ids, those that exist (in any order).
    async fn by_ids(&self, tenant: Option<&str>, ids: Vec<String>) -> Vec<Entity>;
}

/// An [`EntitySource`] with no entities: periodic subscriptions never notify.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEntities;

#[async_trait]
impl EntitySource for NoEntities {
    async fn matching(&self, _: Option<&str>, _: &Subscription) -> Vec<Entity> {
        Vec::new()
    }

    async fn by_ids(&self, _: Option<&str>, _: Vec<String>) -> Vec<Entity> {
        Vec::new()
    }
}

/// Counters over the whole engine (for metrics and benchmarks).
#[derive(Debug, Default)]
pub struct EngineStats {
    events_received: AtomicU64,
    events_dropped: AtomicU64,
    notifications_sent: AtomicU64,
    notifications_failed: AtomicU64,
    notifications_dropped: AtomicU64,
    notifications_throttled: AtomicU64,
    /// Subscriptions filed (a gauge, kept by the dispatcher).
    subscriptions: AtomicU64,
}

/// A snapshot of [`EngineStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Subscriptions filed now (active or paused).
    pub subscriptions: u64,
    /// Events accepted by `notify`.
    pub events_received: u64,
    /// Events refused by `notify` because the event channel was full.
    pub events_dropped: u64,
    /// Notifications delivered (2xx, or MQTT publish completed).
    pub notifications_sent: u64,
    /// Notifications that failed after every retry.
    pub notifications_failed: u64,
    /// Notifications dropped from a full subscription queue.
    pub notifications_dropped: u64,
    /// Notifications skipped by throttling.
    pub notifications_throttled: u64,
}

impl EngineStats {
    /// Sets the number of filed subscriptions (the dispatcher, after each change).
    pub(crate) fn set_subscriptions(&self, n: usize) {
        self.subscriptions.store(n as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            subscriptions: get(&self.subscriptions),
            events_received: get(&self.events_received),
            events_dropped: get(&self.events_dropped),
            notifications_sent: get(&self.notifications_sent),
            notifications_failed: get(&self.notifications_failed),
            notifications_dropped: get(&self.notifications_dropped),
            notifications_throttled: get(&self.notifications_throttled),
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The messages of the control channel.
#[derive(Debug)]
enum Control {
    Upsert {
        tenant: Option<String>,
        active: Box<ActiveSubscription>,
        done: oneshot::Sender<()>,
    },
    Remove {
        tenant: Option<String>,
        id: String,
        done: oneshot::Sender<bool>,
    },
    Status {
        tenant: Option<String>,
        id: String,
        reply: oneshot::Sender<Option<SubscriptionStatus>>,
    },
    Statuses {
        reply: oneshot::Sender<Vec<(Option<String>, String, SubscriptionStatus)>>,
    },
}

/// Starts the engine.
#[derive(Debug)]
pub struct Engine;

impl Engine {
    /// Spawns the dispatcher on the current tokio runtime and returns its handle.
    pub fn start(config: EngineConfig, source: Arc<dyn EntitySource>) -> EngineHandle {
        let (events_tx, events_rx) = mpsc::channel(config.event_capacity.max(1));
        let (control_tx, control_rx) = mpsc::channel(64);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let stats = Arc::new(EngineStats::default());
        let dispatcher = dispatcher::Dispatcher::new(
            config,
            source,
            stats.clone(),
            shutdown_rx,
            events_rx,
            control_rx,
        );
        // Tasks are named by their tracing span (tokio's task names need tokio_unstable).
        let task = tokio::spawn(
            dispatcher
                .run()
                .instrument(tracing::info_span!("subscriptions-dispatcher")),
        );
        EngineHandle {
            events: events_tx,
            control: control_tx,
            stats,
            shutdown: Arc::new(shutdown_tx),
            task: Arc::new(Mutex::new(Some(task))),
        }
    }
}

/// The broker's handle on the engine; cheap to clone.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    events: mpsc::Sender<ChangeEvent>,
    control: mpsc::Sender<Control>,
    stats: Arc<EngineStats>,
    shutdown: Arc<watch::Sender<bool>>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl EngineHandle {
    /// True when no subscription is filed: the broker can skip building change events.
    /// (A subscription filed by `upsert` is counted before `upsert` returns.)
    pub fn is_idle(&self) -> bool {
        self.stats.subscriptions.load(Ordering::Relaxed) == 0
    }

    /// Hands a change event to the engine without waiting. When the event channel is full
    /// the event is dropped, counted, and `Error::Overloaded` returned: the write has
    /// happened, only its notifications are lost.
    pub fn notify(&self, event: ChangeEvent) -> Result<()> {
        match self.events.try_send(event) {
            Ok(()) => {
                EngineStats::add(&self.stats.events_received, 1);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                EngineStats::add(&self.stats.events_dropped, 1);
                Err(Error::Overloaded)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Error::Stopped),
        }
    }

    /// Adds or replaces a subscription. `context` is the @context its notifications are
    /// compacted with. Returns once the subscription is filed: events sent after this see it.
    /// A replaced subscription keeps its worker, its queue and its status counters.
    pub async fn upsert(
        &self,
        tenant: Option<&str>,
        subscription: Subscription,
        context: Arc<ActiveContext>,
    ) -> Result<()> {
        let (done, wait) = oneshot::channel();
        let active = Box::new(ActiveSubscription {
            subscription,
            context,
        });
        self.control
            .send(Control::Upsert {
                tenant: tenant_key(tenant),
                active,
                done,
            })
            .await
            .map_err(|_| Error::Stopped)?;
        wait.await.map_err(|_| Error::Stopped)
    }

    /// Removes a subscription; false if there was none with that id in that tenant.
    pub async fn remove(&self, tenant: Option<&str>, id: &str) -> Result<bool> {
        let (done, wait) = oneshot::channel();
        self.control
            .send(Control::Remove {
                tenant: tenant_key(tenant),
                id: id.to_owned(),
                done,
            })
            .await
            .map_err(|_| Error::Stopped)?;
        wait.await.map_err(|_| Error::Stopped)
    }

    /// The delivery status of a subscription, for rendering it.
    pub async fn status(&self, tenant: Option<&str>, id: &str) -> Option<SubscriptionStatus> {
        let (reply, wait) = oneshot::channel();
        self.control
            .send(Control::Status {
                tenant: tenant_key(tenant),
                id: id.to_owned(),
                reply,
            })
            .await
            .ok()?;
        wait.await.ok().flatten()
    }

    /// The delivery status of every subscription, with its tenant and id.
    pub async fn statuses(&self) -> Vec<(Option<String>, String, SubscriptionStatus)> {
        let (reply, wait) = oneshot::channel();
        if self
            .control
            .send(Control::Statuses { reply })
            .await
            .is_err()
        {
            return Vec::new();
        }
        wait.await.unwrap_or_default()
    }

    /// Engine-wide counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Stops every task: queued notifications are dropped, an attempt in flight ends at its
    /// timeout at the latest. Returns when every task has ended.
    pub async fn shutdown(&self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}
