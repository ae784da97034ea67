//! The one tenancy rule every service applies (GS CIM 009 clause 4.14, 6.3.14): a tenant
//! exists once something was written to it; reading from, updating or deleting in a tenant
//! that does not exist is NonexistentTenant, while operations that create (an entity, a
//! subscription, an @context) create their tenant.

use crate::error::{BrokerError, BrokerResult};
use crate::store::{Store, Tenant};

/// Fails with NonexistentTenant unless the tenant exists (the default tenant always does).
pub async fn require_tenant(store: &dyn Store, tenant: &Tenant) -> BrokerResult<()> {
    if store.tenant_exists(tenant).await? {
        Ok(())
    } else {
        Err(BrokerError::NonexistentTenant(format!(
            "tenant '{tenant}' does not exist"
        )))
    }
}
