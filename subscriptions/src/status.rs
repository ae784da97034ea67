//! The read-only delivery members of a subscription (NotificationParams, clause 5.2.14):
//! owned by the subscription's worker task, read by the broker to render the subscription.

use chrono::{DateTime, Utc};

/// Delivery counters and times of one subscription.
///
/// `times_sent` counts notifications attempted (each once, however many retries it took);
/// `times_failed` counts those whose first attempt met an unsuccessful answer or a timeout
/// (each once, whether a retry then succeeded or not). Notifications dropped from a full queue
/// were never sent and count in neither.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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

impl SubscriptionStatus {
    /// Adds what another broker instance reports for the same subscription (instances sharing
    /// a database each send some of its notifications): counts add up, the latest times win,
    /// and `ok` is that of the latest notification.
    pub fn absorb(&mut self, other: &SubscriptionStatus) {
        self.times_sent += other.times_sent;
        self.times_failed += other.times_failed;
        if other.last_notification > self.last_notification {
            self.last_notification = other.last_notification;
            self.ok = other.ok;
        }
        self.last_success = self.last_success.max(other.last_success);
        self.last_failure = self.last_failure.max(other.last_failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn statuses_of_two_instances_add_up() {
        let t = |s| Some(Utc.timestamp_opt(s, 0).single().expect("time"));
        let mut a = SubscriptionStatus {
            times_sent: 3,
            times_failed: 1,
            last_notification: t(10),
            last_success: t(9),
            last_failure: t(10),
            ok: Some(false),
        };
        let b = SubscriptionStatus {
            times_sent: 2,
            times_failed: 0,
            last_notification: t(20),
            last_success: t(20),
            last_failure: None,
            ok: Some(true),
        };
        a.absorb(&b);
        assert_eq!(
            a,
            SubscriptionStatus {
                times_sent: 5,
                times_failed: 1,
                last_notification: t(20),
                last_success: t(20),
                last_failure: t(10),
                ok: Some(true),
            }
        );
        let mut none = SubscriptionStatus::default();
        none.absorb(&b);
        assert_eq!(none, b);
    }
}
