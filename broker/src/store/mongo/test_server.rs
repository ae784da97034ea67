//! The MongoDB-wire server tests run against: `OXION_TEST_MONGO_URL`, set by
//! `scripts/services.sh env` after `scripts/services.sh start mongo`. `scripts/test.sh` also
//! sets `OXION_REQUIRE_MONGO=1`, which makes a missing server a failure instead of a skip.
//! Each store a test opens has a database prefix of its own, so tests running at once (in one
//! process or several) never see each other's data.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::{tenants, MongoConfig, MongoStore};

/// The server's URL, or `None` (and the test returns) when none is configured and none is
/// required.
pub fn url() -> Option<String> {
    match std::env::var("OXION_TEST_MONGO_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("OXION_REQUIRE_MONGO").as_deref() != Ok("1"),
                "OXION_REQUIRE_MONGO=1 but OXION_TEST_MONGO_URL is not set (scripts/services.sh start mongo)"
            );
            eprintln!("skipped: no OXION_TEST_MONGO_URL");
            None
        }
    }
}

/// A store on databases no other test uses.
pub async fn fresh_store(url: &str) -> MongoStore {
    static N: AtomicU32 = AtomicU32::new(0);
    let prefix = format!(
        "ut{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    MongoStore::open(MongoConfig {
        url: url.to_owned(),
        db_prefix: prefix,
        timeout: Duration::from_secs(5),
    })
    .await
    .expect("opens")
}

/// Drops the store's databases.
pub async fn drop_all(store: &MongoStore) {
    for tenant in tenants::list(store).await.unwrap_or_default() {
        let _ = store.database(&tenant).drop().await;
    }
}
