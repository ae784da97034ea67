//! Background expiry. Transient entities (clause 4.23 of v1.8, `expiresAt`): a task that asks
//! the entity service, on a timer, to delete the entities whose expiry instant has passed. It
//! owns nothing but the timer; the store keeps the expiry index, and deletion goes through the
//! same service path as a client's DELETE, so it is durable and notified like one. Temporal
//! retention: a task that asks the temporal service to drop instances older than the
//! configured retention. Context source registrations past their `expiresAt`: a task that
//! asks the registration service to delete them (reads already leave them out).

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::service::{Entities, Registrations, TemporalEntities};

/// How often the store is asked for expired entities.
const PERIOD: Duration = Duration::from_millis(500);

/// Runs `round` now and then every `period` until `shutdown` turns true.
async fn every<F, Fut>(period: Duration, mut shutdown: watch::Receiver<bool>, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        round().await;
    }
}

/// Runs until `shutdown` turns true.
pub async fn run_expiry(entities: Entities, shutdown: watch::Receiver<bool>) {
    every(PERIOD, shutdown, || async {
        if let Err(e) = entities.delete_expired(Utc::now()).await {
            tracing::warn!(error = %e, "deleting expired entities failed");
        }
    })
    .await;
}

/// How often expired registrations are deleted: reads already ignore them, so this only
/// reclaims their documents.
const REGISTRATION_PERIOD: Duration = Duration::from_secs(30);

/// Deletes the registrations whose `expiresAt` passed (GS CIM 009 5.9.2.4), until `shutdown`
/// turns true.
pub async fn run_registration_expiry(
    registrations: Registrations,
    shutdown: watch::Receiver<bool>,
) {
    every(REGISTRATION_PERIOD, shutdown, || async {
        if let Err(e) = registrations.expire().await {
            tracing::warn!(error = %e, "deleting expired registrations failed");
        }
    })
    .await;
}

/// How often retention runs.
const RETENTION_PERIOD: Duration = Duration::from_secs(60);

/// Temporal retention (`--temporal-retention`): every minute, drops the attribute instances
/// observed (else created) more than `keep` ago. Runs until `shutdown` turns true.
pub async fn run_retention(
    temporal: TemporalEntities,
    keep: Duration,
    shutdown: watch::Receiver<bool>,
) {
    let Ok(keep) = chrono::TimeDelta::from_std(keep) else {
        tracing::warn!("temporal retention too long: nothing is dropped");
        return;
    };
    every(RETENTION_PERIOD, shutdown, || async {
        match temporal.expire(Utc::now() - keep).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(instances = n, "temporal retention dropped old instances"),
            Err(e) => tracing::warn!(error = %e, "temporal retention failed"),
        }
    })
    .await;
}
