//! The time services stamp writes and decide expiry with. A value the services are built
//! with rather than a call to the system clock in each place, so that every timestamp of one
//! operation comes from one reading, and tests can fix the time.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system's UTC clock.
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }

    /// A clock that always reads `at`.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Arc::new(move || at))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}
