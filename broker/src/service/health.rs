//! Whether this instance can serve requests now, for load balancers and container checks:
//! the store answers.

use std::sync::Arc;

use crate::error::BrokerResult;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct Health {
    store: Arc<dyn Store>,
}

impl Health {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Fails (503) when the store cannot serve: the database is unreachable, or closing.
    pub async fn check(&self) -> BrokerResult<()> {
        Ok(self.store.check().await?)
    }
}
