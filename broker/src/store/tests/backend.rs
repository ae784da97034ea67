//! The backends a case runs on, each opened fresh for the case and removed after it: the
//! embedded store in a temporary directory, the MongoDB store on databases no other test uses
//! (a prefix of its own, see [`test_server`]). Without `OXION_TEST_MONGO_URL` the MongoDB runs
//! are skipped, unless `OXION_REQUIRE_MONGO=1` makes that a failure.

use std::future::Future;
use std::sync::Arc;

use crate::store::embedded::{EmbeddedConfig, EmbeddedStore};
pub use crate::store::mongo::test_server;
use crate::store::Store;

pub async fn on_embedded<F, Fut>(case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(EmbeddedConfig::in_data_dir(dir.path())).expect("opens");
    case(Arc::new(store)).await;
}

pub async fn on_mongo<F, Fut>(case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = test_server::url() else {
        return;
    };
    let store = test_server::fresh_store(&url).await;
    case(Arc::new(store.clone())).await;
    test_server::drop_all(&store).await;
}
