//! The read-only delivery members of a subscription (NotificationParams, clause 5.2.14):
//! owned by the subscription's worker task, read by the broker to render the subscription.

use chrono::{DateTime, Utc};

/// Delivery counters and times of one subscription.
///
/// `times_sent` counts notifications attempted (each once, however many retries it took);
/// `times_failed` counts those that failed after every retry, plus those dropped because the
/// subscription's queue was full.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscriptionStatus {
    pub times_sent: u64,
    pub times_failed: u64,
    pub last_notification: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    /// `notification.status`: `Some(true)` "ok", `Some(false)` "failed", `None` before the
    /// first notification.
    pub ok: Option<bool>,
}
