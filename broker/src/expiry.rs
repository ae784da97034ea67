//! Transient entities (clause 4.23 of v1.8, `expiresAt`): a named background task that deletes
//! entities once their expiry instant has passed. It owns nothing but a timer; the store keeps
//! the expiry index, and deletion goes through the same service path as a client's DELETE so
//! it is durable and (later) notified like one.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::service::{Entities, Planned};

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
        let now = Utc::now();
        let expired = match entities.store().expired(now).await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "listing expired entities failed");
                continue;
            }
        };
        for (tenant, id) in expired {
            // Re-checked under the write's precondition: an entity whose expiresAt was moved
            // meanwhile stays.
            let plan = Box::new(move |current: Option<&ngsi_types::Entity>| match current {
                Some(e) if e.expires_at.is_some_and(|t| t <= now) => Ok(Planned::Delete),
                _ => Err(crate::error::BrokerError::NotFound(
                    "no longer expired".into(),
                )),
            });
            match entities.execute_one(&tenant, &id, plan).await {
                Ok(_) => tracing::debug!(%tenant, %id, "transient entity expired"),
                Err(crate::error::BrokerError::NotFound(_)) => {}
                Err(e) => {
                    tracing::warn!(%tenant, %id, error = %e, "deleting an expired entity failed")
                }
            }
        }
    }
}
