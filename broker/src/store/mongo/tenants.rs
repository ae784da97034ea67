//! Which tenants exist, and preparing them: a tenant is a database named after it
//! ([`super::names`]), so it exists once something was written to it, and the tenants are the
//! databases with our prefix. A tenant's indexes ([`super::setup`]) are created once per
//! process: before its first write here, at start-up for the tenants that exist then, and when
//! a tenant another instance created is first seen.

use mongodb::bson::doc;

use super::error::store_error;
use super::{names, setup, MongoStore};
use crate::store::{StoreResult, Tenant};

pub async fn database_exists(store: &MongoStore, tenant: &Tenant) -> StoreResult<bool> {
    let name = names::database(&store.prefix, tenant);
    let found = store
        .client
        .list_database_names()
        .filter(doc! { "name": &name })
        .await
        .map_err(|e| store_error("listing databases", e))?;
    Ok(!found.is_empty())
}

/// Creates the tenant's indexes once per process (idempotent in MongoDB too).
pub async fn ensure(store: &MongoStore, tenant: &Tenant) -> StoreResult<()> {
    if store.setup.is_ready(tenant) {
        return Ok(());
    }
    setup::create_indexes(&store.database(tenant)).await?;
    store.setup.mark_ready(tenant);
    Ok(())
}

/// True if anything was ever written to the tenant (the default tenant always exists).
pub async fn exists(store: &MongoStore, tenant: &Tenant) -> StoreResult<bool> {
    if tenant.is_default() || store.setup.is_ready(tenant) {
        return Ok(true);
    }
    // Another instance created it: prepare it here once (its indexes exist, so this is a
    // no-op for MongoDB), which also spares later requests the database listing.
    if !database_exists(store, tenant).await? {
        return Ok(false);
    }
    ensure(store, tenant).await?;
    Ok(true)
}

/// Every tenant that exists, the default tenant always among them.
pub async fn list(store: &MongoStore) -> StoreResult<Vec<Tenant>> {
    let names = store
        .client
        .list_database_names()
        .await
        .map_err(|e| store_error("listing databases", e))?;
    let mut tenants: Vec<Tenant> = names
        .iter()
        .filter_map(|n| names::tenant_of(&store.prefix, n))
        .collect();
    if !tenants.iter().any(Tenant::is_default) {
        tenants.push(Tenant::default_tenant());
    }
    tenants.sort();
    Ok(tenants)
}
