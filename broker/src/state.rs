//! What every request handler shares: the services and the configuration.

use std::sync::Arc;

use crate::config::Config;
use crate::contexts::ContextService;
use crate::service::{Entities, SharedDeliveryStatus};

#[derive(Debug, Clone)]
pub struct AppState {
    pub entities: Entities,
    pub contexts: Arc<ContextService>,
    pub subscriptions: subscriptions::EngineHandle,
    pub config: Arc<Config>,
    /// With a store shared by several instances: their delivery statuses, summed on reads.
    pub delivery: Option<Arc<SharedDeliveryStatus>>,
}
