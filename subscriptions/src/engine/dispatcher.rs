//! The dispatcher: owner of the registry, the one task every event and every control message
//! goes through.
//!
//! Control messages are served before events (`biased` select), so a subscription filed by
//! an awaited `upsert` sees every event sent after it returned.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::mailbox::Mailbox;
use super::worker::{Job, Shared, Worker};
use super::{Control, EngineConfig, EngineStats, EntitySource};
use crate::delivery::Transports;
use crate::event::{tenant_key, ChangeEvent};
use crate::matching::trigger_reason;
use crate::model::ActiveSubscription;
use crate::registry::Registry;
use crate::status::SubscriptionStatus;

/// The dispatcher's view of one subscription's worker.
#[derive(Debug)]
struct WorkerHandle {
    subscription: watch::Sender<Arc<ActiveSubscription>>,
    mailbox: Arc<Mailbox<Job>>,
    status: watch::Receiver<SubscriptionStatus>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
pub(super) struct Dispatcher {
    shared: Arc<Shared>,
    registry: Registry<WorkerHandle>,
    shutdown: watch::Receiver<bool>,
    events: mpsc::Receiver<ChangeEvent>,
    control: mpsc::Receiver<Control>,
}

impl Dispatcher {
    pub(super) fn new(
        config: EngineConfig,
        source: Arc<dyn EntitySource>,
        stats: Arc<EngineStats>,
        shutdown: watch::Receiver<bool>,
        events: mpsc::Receiver<ChangeEvent>,
        control: mpsc::Receiver<Control>,
    ) -> Self {
        let transports = Transports::new(config.http_timeout, config.egress.clone());
        Dispatcher {
            shared: Arc::new(Shared {
                config,
                transports,
                source,
                stats,
            }),
            registry: Registry::default(),
            shutdown,
            events,
            control,
        }
    }

    pub(super) async fn run(mut self) {
        let mut shutdown = self.shutdown.clone();
        loop {
            tokio::select! {
                biased;
                _ = shutdown.wait_for(|stop| *stop) => break,
                msg = self.control.recv() => match msg {
                    Some(msg) => self.on_control(msg),
                    None => break,
                },
                event = self.events.recv() => match event {
                    Some(event) => self.on_event(event),
                    None => break,
                },
            }
        }
        // Every handle is gone or shutdown was asked: stop the workers and wait for them.
        let workers: Vec<WorkerHandle> = self.registry.drain().collect();
        for w in &workers {
            w.mailbox.close();
        }
        for w in workers {
            drop(w.subscription);
            let _ = w.task.await;
        }
    }

    fn on_control(&mut self, msg: Control) {
        match msg {
            Control::Upsert {
                tenant,
                active,
                done,
            } => {
                self.upsert(tenant, *active);
                self.shared.stats.set_subscriptions(self.registry.len());
                let _ = done.send(());
            }
            Control::Remove { tenant, id, done } => {
                let removed = self.registry.remove(&tenant, &id);
                self.shared.stats.set_subscriptions(self.registry.len());
                let found = removed.is_some();
                if let Some(w) = removed {
                    // Closing the mailbox and dropping the watch sender end the worker.
                    w.mailbox.close();
                }
                let _ = done.send(found);
            }
            Control::Statuses { reply } => {
                let all = self
                    .registry
                    .iter()
                    .map(|(tenant, id, w)| (tenant.clone(), id.clone(), w.status.borrow().clone()))
                    .collect();
                let _ = reply.send(all);
            }
            Control::Status { tenant, id, reply } => {
                let status = self
                    .registry
                    .get(&tenant, &id)
                    .map(|w| w.status.borrow().clone());
                let _ = reply.send(status);
            }
        }
    }

    fn upsert(&mut self, tenant: Option<String>, active: ActiveSubscription) {
        let id = active.subscription.id.clone();
        let filed = active.subscription.clone();
        let active = Arc::new(active);
        let handle = match self.registry.remove(&tenant, &id) {
            Some(existing) => {
                existing.subscription.send_replace(active);
                existing
            }
            None => self.spawn_worker(tenant.clone(), active),
        };
        self.registry.insert(tenant, &filed, handle);
    }

    fn spawn_worker(
        &self,
        tenant: Option<String>,
        active: Arc<ActiveSubscription>,
    ) -> WorkerHandle {
        let id = active.subscription.id.clone();
        let (sub_tx, sub_rx) = watch::channel(active);
        let (status_tx, status_rx) = watch::channel(SubscriptionStatus::default());
        let mailbox = Arc::new(Mailbox::new(self.shared.config.queue_capacity));
        let worker = Worker::new(
            tenant.clone(),
            self.shared.clone(),
            mailbox.clone(),
            sub_rx,
            self.shutdown.clone(),
            status_tx,
        );
        let span = tracing::info_span!("subscription-worker", subscription = %id, tenant = ?tenant);
        WorkerHandle {
            subscription: sub_tx,
            mailbox,
            status: status_rx,
            task: tokio::spawn(worker.run().instrument(span)),
        }
    }

    fn on_event(&mut self, event: ChangeEvent) {
        let tenant = tenant_key(event.tenant.as_deref());
        let now = Utc::now();
        let event = Arc::new(event);
        let Some(entity) = event.entity() else {
            return;
        };
        let candidates = self
            .registry
            .candidates(&tenant, entity, event.changes.touched());
        for worker in candidates {
            let trigger = {
                let active = worker.subscription.borrow();
                trigger_reason(&active.subscription, &event, now)
            };
            if let Some(trigger) = trigger {
                let job = Job {
                    event: event.clone(),
                    trigger,
                };
                if worker.mailbox.push(job) {
                    tracing::debug!("subscription queue full: oldest notification dropped");
                }
            }
        }
    }
}
