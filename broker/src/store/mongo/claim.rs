//! Claims ([`Store::claim`](crate::store::Store::claim)): a key is claimed by inserting it as
//! the `_id` of a document in the tenant's `claims` collection, so MongoDB's unique `_id`
//! decides, once for all instances sharing the database, which caller was first: every later
//! insert fails with a duplicate key. A TTL index ([`super::setup`]) removes claims after a day.

use chrono::Utc;
use mongodb::bson::{doc, Document};
use mongodb::Collection;

use super::error::{self, store_error, DUPLICATE_KEY};
use super::{document, setup, MongoStore};
use crate::store::{StoreResult, Tenant};

/// True for the first caller claiming `key`, false for every later one.
pub async fn claim(store: &MongoStore, tenant: &Tenant, key: &str) -> StoreResult<bool> {
    let claims: Collection<Document> = store.database(tenant).collection(setup::CLAIMS);
    let claim = doc! { "_id": key, "at": document::date(Utc::now()) };
    match claims.insert_one(claim).await {
        Ok(_) => Ok(true),
        Err(e) if error::code(&e) == Some(DUPLICATE_KEY) => Ok(false),
        Err(e) => Err(store_error("claiming", e)),
    }
}
