//! A subscription's worker: the one task that notifies for it, in order.
//!
//! It owns the subscription's delivery state: when it last notified (throttling), the status
//! counters it publishes for the broker (clause 5.2.14), and the ticker of a periodic
//! (`timeInterval`) subscription. A new version of the subscription arrives on a watch
//! channel, so an update keeps the queue and the counters.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ngsi_types::attribute::AttributeValue;
use ngsi_types::format::{Join, LinkedEntities};
use ngsi_types::query::q::Query;
use ngsi_types::Entity;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::mailbox::Mailbox;
use super::{EngineConfig, EngineStats, EntitySource};
use crate::delivery::{Envelope, MqttSession, Transports};
use crate::event::ChangeEvent;
use crate::model::{ActiveSubscription, State, Trigger};
use crate::notification::{EntityRenderer, Notification};

/// Most Linked Entities one notification carries.
const MAX_LINKED_ENTITIES: usize = 1000;
use crate::status::SubscriptionStatus;

/// One change to notify.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) event: Arc<ChangeEvent>,
    pub(crate) trigger: Trigger,
}

/// What every worker shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: EngineConfig,
    pub(crate) transports: Transports,
    pub(crate) source: Arc<dyn EntitySource>,
    pub(crate) stats: Arc<EngineStats>,
}

impl std::fmt::Debug for dyn EntitySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EntitySource")
    }
}

#[derive(Debug)]
pub(crate) struct Worker {
    tenant: Option<String>,
    shared: Arc<Shared>,
    mailbox: Arc<Mailbox<Job>>,
    subscription: watch::Receiver<Arc<ActiveSubscription>>,
    shutdown: watch::Receiver<bool>,
    status: SubscriptionStatus,
    status_tx: watch::Sender<SubscriptionStatus>,
    last_notified: Option<Instant>,
    /// The open session to an MQTT endpoint's broker, if the endpoint is one.
    mqtt: Option<MqttSession>,
}

impl Worker {
    pub(crate) fn new(
        tenant: Option<String>,
        shared: Arc<Shared>,
        mailbox: Arc<Mailbox<Job>>,
        subscription: watch::Receiver<Arc<ActiveSubscription>>,
        shutdown: watch::Receiver<bool>,
        status_tx: watch::Sender<SubscriptionStatus>,
    ) -> Self {
        Worker {
            tenant,
            shared,
            mailbox,
            subscription,
            shutdown,
            status: SubscriptionStatus::default(),
            status_tx,
            last_notified: None,
            mqtt: None,
        }
    }

    pub(crate) async fn run(mut self) {
        let mut ticker = self.ticker();
        let mailbox = self.mailbox.clone();
        let mut shutdown = self.shutdown.clone();
        let mut subscription = self.subscription.clone();
        loop {
            tokio::select! {
                biased;
                _ = stopping(&mut shutdown) => break,
                changed = subscription.changed() => {
                    // The dispatcher dropped the sender: the subscription was removed.
                    if changed.is_err() {
                        break;
                    }
                    ticker = self.ticker();
                }
                job = mailbox.pop() => match job {
                    Some(job) => self.on_change(job).await,
                    None => break,
                },
                _ = tick(&mut ticker) => self.on_tick().await,
            }
        }
    }

    fn current(&self) -> Arc<ActiveSubscription> {
        self.subscription.borrow().clone()
    }

    /// A periodic subscription ticks every `timeInterval` seconds, the first time one
    /// interval after it starts (clause 5.2.12 defines no notification at creation).
    fn ticker(&self) -> Option<Interval> {
        let seconds = self.current().subscription.time_interval?;
        let period = Duration::from_secs_f64(seconds);
        let mut interval = tokio::time::interval_at(Instant::now() + period, period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Some(interval)
    }

    async fn on_change(&mut self, job: Job) {
        let active = self.current();
        let sub = &active.subscription;
        // The subscription may have been paused or have expired since the job was queued.
        if sub.state(Utc::now()) != State::Active || sub.is_periodic() {
            return;
        }
        // Throttling (clause 5.2.12): a notification within `throttling` seconds of the
        // previous one is not sent (skipped, as Orion-LD does, not postponed).
        if let (Some(seconds), Some(last)) = (sub.throttling, self.last_notified) {
            if last.elapsed() < Duration::from_secs_f64(seconds) {
                EngineStats::add(&self.shared.stats.notifications_throttled, 1);
                return;
            }
        }
        if let (Some(q), Some(entity)) = (&sub.q, job.event.entity()) {
            if !linked_q_holds(
                self.shared.source.as_ref(),
                self.tenant.as_deref(),
                &q.query,
                entity,
            )
            .await
            {
                return;
            }
        }
        let renderer = EntityRenderer::new(sub, &active.context);
        let notified = renderer.event_entity(&job.event, job.trigger);
        let data = self.with_linked(&renderer, vec![notified]).await;
        let notification = Notification::new(sub, data, Some(job.trigger), Utc::now());
        self.deliver(&active, &notification).await;
    }

    async fn on_tick(&mut self) {
        let active = self.current();
        let sub = &active.subscription;
        if sub.state(Utc::now()) != State::Active {
            return;
        }
        let mut entities = self
            .shared
            .source
            .matching(self.tenant.as_deref(), sub)
            .await;
        if let Some(q) = sub.q.as_ref().filter(|q| q.query.linked_depth() > 0) {
            let mut kept = Vec::with_capacity(entities.len());
            for entity in entities {
                let source = self.shared.source.as_ref();
                if linked_q_holds(source, self.tenant.as_deref(), &q.query, &entity).await {
                    kept.push(entity);
                }
            }
            entities = kept;
        }
        if entities.is_empty() {
            return;
        }
        let renderer = EntityRenderer::new(sub, &active.context);
        let notified = entities
            .into_iter()
            .map(|e| (renderer.entity(&e), Some(e)))
            .collect();
        let data = self.with_linked(&renderer, notified).await;
        let notification = Notification::new(sub, data, None, Utc::now());
        self.deliver(&active, &notification).await;
    }

    /// The notification's `data`: the rendered entities, with their Linked Entities when the
    /// subscription has `notification.join` (clause 5.8.6, 4.5.23), read level by level
    /// through the entity source, at most [`MAX_LINKED_ENTITIES`] of them.
    async fn with_linked(
        &self,
        renderer: &EntityRenderer<'_>,
        notified: Vec<(Value, Option<Entity>)>,
    ) -> Vec<Value> {
        let params = &renderer.subscription().notification;
        let Some(join) = params.join else {
            return notified.into_iter().map(|(data, _)| data).collect();
        };
        let projection = renderer.projection();
        let roots = notified.iter().filter_map(|(_, e)| e.as_ref());
        let mut linked = LinkedEntities::new(roots, &projection, &[]);
        for _ in 0..params.join_level.unwrap_or(1) {
            let wanted = linked.wanted();
            if wanted.is_empty() || linked.len() + wanted.len() > MAX_LINKED_ENTITIES {
                break;
            }
            let tenant = self.tenant.as_deref();
            linked.add_level(self.shared.source.by_ids(tenant, wanted).await);
        }
        let (ctx, opts) = (renderer.context(), renderer.options());
        let mut data: Vec<Value> = Vec::with_capacity(notified.len() + linked.len());
        for (mut value, entity) in notified {
            if let (Join::Inline, Value::Object(out), Some(entity)) = (join, &mut value, &entity) {
                linked.embed_into(out, entity, ctx, &opts);
            }
            data.push(value);
        }
        if join == Join::Flat {
            data.extend(
                linked
                    .render_linked(ctx, &opts)
                    .into_iter()
                    .map(Value::Object),
            );
        }
        data
    }

    /// Sends with retries and exponential backoff, then records the outcome.
    async fn deliver(&mut self, active: &ActiveSubscription, notification: &Notification) {
        let sub = &active.subscription;
        let endpoint = &sub.notification.endpoint;
        let context = sub.notification_context();
        let body: Value = notification.to_json(endpoint.accept, &context);
        // Owned here: `publish_status` below borrows the worker mutably between attempts.
        let tenant = self.tenant.clone();
        let envelope = Envelope {
            endpoint,
            tenant: tenant.as_deref(),
            context: &context,
            body: &body,
        };
        self.last_notified = Some(Instant::now());
        self.status.times_sent += 1;
        self.status.last_notification = Some(Utc::now());

        let config = self.shared.config.clone();
        let mut backoff = config.retry_backoff;
        let mut attempt = 0;
        let outcome = loop {
            match self.shared.transports.send(&envelope, &mut self.mqtt).await {
                Ok(()) => break Ok(()),
                Err(reason) => {
                    // GS CIM 5.2.14: `status` is that of the last attempt and `timesFailed`
                    // counts the notifications that met an unsuccessful response or a timeout;
                    // both show as soon as the first attempt fails, not after every retry.
                    if attempt == 0 {
                        self.status.times_failed += 1;
                    }
                    self.status.last_failure = Some(Utc::now());
                    self.status.ok = Some(false);
                    self.publish_status();
                    if attempt >= config.max_retries {
                        break Err(reason);
                    }
                    tracing::debug!(subscription = %sub.id, %reason, attempt, "notification failed, retrying");
                    attempt += 1;
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stopping(&mut self.shutdown) => break Err("engine shut down".to_owned()),
                    }
                    backoff = (backoff * 2).min(config.max_backoff);
                }
            }
        };
        match outcome {
            Ok(()) => {
                EngineStats::add(&self.shared.stats.notifications_sent, 1);
                self.status.last_success = Some(Utc::now());
                self.status.ok = Some(true);
            }
            Err(reason) => {
                tracing::warn!(subscription = %sub.id, uri = %endpoint.uri, %reason, "notification failed");
                EngineStats::add(&self.shared.stats.notifications_failed, 1);
            }
        }
        self.publish_status();
    }

    /// Publishes the counters for `EngineHandle::status`, and counts the queue's drops in the
    /// engine's statistics. A dropped notification was never sent, so it is no failure of the
    /// subscription's (`timesFailed` counts answers received, 5.2.14).
    fn publish_status(&mut self) {
        let dropped = self.mailbox.take_evicted();
        if dropped > 0 {
            EngineStats::add(&self.shared.stats.notifications_dropped, dropped);
        }
        self.status_tx.send_replace(self.status.clone());
    }
}

/// Resolves once shutdown is asked, at once if it already was (or the engine is gone).
/// Decides a `q` on `entity`, its terms through Relationships (`rel{Type:path}`, clause 4.9)
/// on the entities that `rel` targets, read through the entity source (nested paths one
/// level further each). A query without such terms is decided on the entity alone.
fn linked_q_holds<'a>(
    source: &'a dyn EntitySource,
    tenant: Option<&'a str>,
    q: &'a Query,
    entity: &'a Entity,
) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
    Box::pin(async move {
        let subqueries = q.linked_subqueries();
        if subqueries.is_empty() {
            return q.matches(entity);
        }
        let mut targets = Vec::with_capacity(subqueries.len());
        for sub in subqueries {
            let ids: Vec<String> = entity
                .attributes
                .get(&sub.relationship)
                .into_iter()
                .flatten()
                .flat_map(|instance| match &instance.value {
                    AttributeValue::Relationship { object, .. } => vec![object.clone()],
                    AttributeValue::ListRelationship { objects, .. } => objects.clone(),
                    _ => Vec::new(),
                })
                .collect();
            let mut matched = Vec::new();
            if !ids.is_empty() {
                for target in source.by_ids(tenant, ids).await {
                    let typed =
                        sub.types.is_empty() || sub.types.iter().any(|t| target.has_type(t));
                    if typed && linked_q_holds(source, tenant, &sub.inner, &target).await {
                        matched.push(target.id);
                    }
                }
            }
            targets.push(matched);
        }
        q.with_linked_targets(targets).matches(entity)
    })
}

async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}
