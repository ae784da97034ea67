//! The catalog of a tenant (clause 5.7.5-5.7.10): which entity types and attributes exist,
//! with their counts, from the store's summaries.

use std::sync::Arc;

use super::tenancy::require_tenant;
use crate::error::{BrokerError, BrokerResult};
use crate::store::{AttributeSummary, Store, Tenant, TypeSummary};

#[derive(Debug, Clone)]
pub struct Catalog {
    store: Arc<dyn Store>,
}

impl Catalog {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Retrieve Available Entity Types (5.7.5, 5.7.6).
    pub async fn types(&self, tenant: &Tenant) -> BrokerResult<Vec<TypeSummary>> {
        require_tenant(self.store.as_ref(), tenant).await?;
        Ok(self.store.types(tenant).await?)
    }

    /// Retrieve Entity Type Information (5.7.7) of an expanded type name.
    pub async fn entity_type(&self, tenant: &Tenant, name: &str) -> BrokerResult<TypeSummary> {
        self.types(tenant)
            .await?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| BrokerError::NotFound(format!("no entity of type '{name}'")))
    }

    /// Retrieve Available Attributes (5.7.8, 5.7.9).
    pub async fn attributes(&self, tenant: &Tenant) -> BrokerResult<Vec<AttributeSummary>> {
        require_tenant(self.store.as_ref(), tenant).await?;
        Ok(self.store.attributes(tenant).await?)
    }

    /// Retrieve Attribute Information (5.7.10) of an expanded attribute name.
    pub async fn attribute(&self, tenant: &Tenant, name: &str) -> BrokerResult<AttributeSummary> {
        self.attributes(tenant)
            .await?
            .into_iter()
            .find(|a| a.name == name)
            .ok_or_else(|| BrokerError::NotFound(format!("no attribute '{name}'")))
    }
}
