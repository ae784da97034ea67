//! The CsourceNotification sender (GS CIM 009 5.11.7): one task, fed over a bounded channel by
//! the registrations service (after each registration it created, updated or deleted) and by
//! the csource subscriptions service (the notification of a subscription's creation or
//! update). It reads the tenant's csource subscriptions, decides which the change concerns and
//! with which trigger reason, and delivers through the subscription engine's transports (so
//! the egress policy holds for every connection). A request never waits for it: a full queue
//! drops the change, logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ngsi_types::context::{ActiveContext, ContextSource};
use ngsi_types::registration::CSourceRegistration;
use serde_json::Value;
use subscriptions::csource::{CsourceSubscription, CsourceTrigger};
use subscriptions::delivery::{Envelope, MqttSession, Transports};
use subscriptions::SubscriptionStatus;
use tokio::sync::mpsc;

use super::super::clock::Clock;
use crate::contexts::ContextService;
use crate::store::{DocumentKind, Store, Tenant};

/// Changes waiting to be matched; beyond this, new ones are dropped.
const QUEUE: usize = 1024;
/// Attempts per notification, and the pause before each retry.
const RETRIES: [Duration; 2] = [Duration::from_millis(200), Duration::from_secs(1)];

/// What the notifier is told.
#[derive(Debug)]
enum Job {
    /// A registration was created (`before` is `None`), updated, or deleted (`after` is
    /// `None`).
    Changed {
        tenant: Tenant,
        before: Option<Box<CSourceRegistration>>,
        after: Option<Box<CSourceRegistration>>,
        /// When it was committed: a subscription created later is not told of it (its
        /// creation notification lists the registration already).
        at: chrono::DateTime<chrono::Utc>,
    },
    /// Clause 5.11.2.4, 5.11.3.4: a subscription was created or updated: every registration
    /// it matches now.
    Matching {
        tenant: Tenant,
        subscription: Box<CsourceSubscription>,
        registrations: Vec<CSourceRegistration>,
    },
}

/// Delivery status per tenant and subscription id, kept by this instance.
pub type Statuses = Arc<Mutex<HashMap<(Tenant, String), SubscriptionStatus>>>;

/// The handle: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct CsourceNotifier {
    jobs: mpsc::Sender<Job>,
    statuses: Statuses,
    clock: Clock,
}

impl CsourceNotifier {
    /// Starts the task; it ends when every handle is gone.
    pub fn start(
        store: Arc<dyn Store>,
        contexts: Arc<ContextService>,
        clock: Clock,
        timeout: Duration,
    ) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let statuses = Statuses::default();
        let transports = Transports::new(timeout, contexts.egress().clone());
        let task = Task {
            store,
            contexts,
            clock: clock.clone(),
            transports,
            statuses: statuses.clone(),
            mqtt: HashMap::new(),
        };
        tokio::spawn(task.run(rx));
        Self {
            jobs,
            statuses,
            clock,
        }
    }

    /// A registration changed (after the store committed it).
    pub fn changed(
        &self,
        tenant: &Tenant,
        before: Option<CSourceRegistration>,
        after: Option<CSourceRegistration>,
    ) {
        self.send(Job::Changed {
            tenant: tenant.clone(),
            before: before.map(Box::new),
            after: after.map(Box::new),
            at: self.clock.now(),
        });
    }

    /// Notify `subscription` of the registrations it matches among `registrations`.
    pub fn matching(
        &self,
        tenant: &Tenant,
        subscription: CsourceSubscription,
        registrations: Vec<CSourceRegistration>,
    ) {
        self.send(Job::Matching {
            tenant: tenant.clone(),
            subscription: Box::new(subscription),
            registrations,
        });
    }

    pub fn status(&self, tenant: &Tenant, id: &str) -> Option<SubscriptionStatus> {
        let statuses = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        statuses.get(&(tenant.clone(), id.to_owned())).cloned()
    }

    pub fn forget(&self, tenant: &Tenant, id: &str) {
        let mut statuses = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        statuses.remove(&(tenant.clone(), id.to_owned()));
    }

    fn send(&self, job: Job) {
        if let Err(e) = self.jobs.try_send(job) {
            tracing::warn!(error = %e, "csource notification queue full or stopped: change dropped");
        }
    }
}

struct Task {
    store: Arc<dyn Store>,
    contexts: Arc<ContextService>,
    clock: Clock,
    transports: Transports,
    statuses: Statuses,
    /// One MQTT session per subscription, kept between notifications.
    mqtt: HashMap<(Tenant, String), Option<MqttSession>>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        while let Some(job) = rx.recv().await {
            match job {
                Job::Changed {
                    tenant,
                    before,
                    after,
                    at,
                } => {
                    self.changed(&tenant, before.as_deref(), after.as_deref(), at)
                        .await
                }
                Job::Matching {
                    tenant,
                    subscription,
                    registrations,
                } => self.matching(&tenant, &subscription, &registrations).await,
            }
        }
    }

    async fn changed(
        &mut self,
        tenant: &Tenant,
        before: Option<&CSourceRegistration>,
        after: Option<&CSourceRegistration>,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        let docs = match self
            .store
            .list_documents(tenant, DocumentKind::CsourceSubscription)
            .await
        {
            Ok(docs) => docs,
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "csource subscriptions unreadable: change not notified");
                return;
            }
        };
        let now = self.clock.now();
        for (id, doc) in docs {
            let sub = match serde_json::from_value::<CsourceSubscription>(doc) {
                Ok(sub) => sub,
                Err(e) => {
                    tracing::error!(%tenant, %id, error = %e, "stored csource subscription does not decode");
                    continue;
                }
            };
            // Clause 5.11.2.4: a periodic subscription notifies on its interval, not on
            // changes (periodic csource notifications are not sent yet).
            let newer = sub.subscription.created_at.is_some_and(|c| c > at);
            if newer || !sub.is_live(now) || sub.subscription.time_interval.is_some() {
                continue;
            }
            let Some(ctx) = self.context(&sub).await else {
                continue;
            };
            let was = before.is_some_and(|r| sub.matches(r, &ctx));
            let is = after.is_some_and(|r| sub.matches(r, &ctx));
            let Some(reason) = CsourceTrigger::of_change(was, is) else {
                continue;
            };
            // A registration that no longer matches is shown as it was when it matched.
            let shown = match reason {
                CsourceTrigger::NoLongerMatching => before,
                _ => after,
            };
            let Some(reg) = shown else { continue };
            let body = sub.notification(&[reg], reason, &ctx, self.clock.now());
            self.deliver(tenant, &sub, &body).await;
        }
    }

    async fn matching(
        &mut self,
        tenant: &Tenant,
        sub: &CsourceSubscription,
        registrations: &[CSourceRegistration],
    ) {
        if !sub.is_live(self.clock.now()) {
            return;
        }
        let Some(ctx) = self.context(sub).await else {
            return;
        };
        let matching: Vec<&CSourceRegistration> = registrations
            .iter()
            .filter(|r| sub.matches(r, &ctx))
            .collect();
        if matching.is_empty() {
            return;
        }
        let body = sub.notification(
            &matching,
            CsourceTrigger::NewlyMatching,
            &ctx,
            self.clock.now(),
        );
        self.deliver(tenant, sub, &body).await;
    }

    /// The @context the subscription's notifications are compacted with (5.11.7 as 5.8.6).
    async fn context(&self, sub: &CsourceSubscription) -> Option<Arc<ActiveContext>> {
        let source = match sub.subscription.notification_context() {
            Value::String(url) => ContextSource::Link(url),
            Value::Null => ContextSource::Core,
            other => ContextSource::Inline(other),
        };
        match self.contexts.resolve(source, "").await {
            Ok((ctx, _)) => Some(ctx.active),
            Err(e) => {
                tracing::warn!(id = %sub.id(), error = %e, "csource subscription @context unresolvable: not notified");
                None
            }
        }
    }

    /// Sends one notification, retrying a few times, and records the outcome (5.11.7).
    async fn deliver(&mut self, tenant: &Tenant, sub: &CsourceSubscription, body: &Value) {
        let context = sub.subscription.notification_context();
        let env = Envelope {
            endpoint: &sub.subscription.notification.endpoint,
            tenant: tenant.name(),
            context: &context,
            body: &with_context(body, &context, &sub.subscription.notification.endpoint),
        };
        let key = (tenant.clone(), sub.id().to_owned());
        // Counted when sent, so that a reader told of the notification sees it counted.
        self.record(&key, |status, now| {
            status.times_sent += 1;
            status.last_notification = Some(now);
        });
        let mqtt = self.mqtt.entry(key.clone()).or_default();
        let mut outcome = self.transports.send(&env, mqtt).await;
        let first_failed = outcome.is_err();
        for pause in RETRIES {
            if outcome.is_ok() {
                break;
            }
            tokio::time::sleep(pause).await;
            outcome = self.transports.send(&env, mqtt).await;
        }
        self.record(&key, |status, now| {
            if first_failed {
                status.times_failed += 1;
            }
            match &outcome {
                Ok(()) => {
                    status.last_success = Some(now);
                    status.ok = Some(true);
                }
                Err(_) => {
                    status.last_failure = Some(now);
                    status.ok = Some(false);
                }
            }
        });
        if let Err(reason) = outcome {
            tracing::warn!(%tenant, id = %sub.id(), %reason, "csource notification failed");
        }
    }

    fn record(
        &self,
        key: &(Tenant, String),
        change: impl FnOnce(&mut SubscriptionStatus, chrono::DateTime<chrono::Utc>),
    ) {
        let now = self.clock.now();
        let mut statuses = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        change(statuses.entry(key.clone()).or_default(), now);
    }
}

/// An `application/ld+json` notification carries its @context in the body (clause 6.3.5).
fn with_context(body: &Value, context: &Value, endpoint: &subscriptions::Endpoint) -> Value {
    let mut body = body.clone();
    if endpoint.accept == subscriptions::Accept::JsonLd {
        if let Some(obj) = body.as_object_mut() {
            obj.insert("@context".into(), context.clone());
        }
    }
    body
}
