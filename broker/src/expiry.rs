//! Transient entities (clause 4.23 of v1.8, `expiresAt`): a named background task that asks
//! the entity service, on a timer, to delete the entities whose expiry instant has passed. It
//! owns nothing but the timer; the store keeps the expiry index, and deletion goes through the
//! same service path as a client's DELETE, so it is durable and notified like one.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::service::Entities;

/// How often the store is asked for expired entities.
const PERIOD: Duration = Duration::from_millis(500);

/// Runs until `shutdown` turns true.
pub async fn run_expiry(entities: Entities, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        if let Err(e) = entities.delete_expired(Utc::now()).await {
            tracing::warn!(error = %e, "deleting expired entities failed");
        }
    }
}
