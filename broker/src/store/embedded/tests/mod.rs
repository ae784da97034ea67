//! The embedded store's own behaviour, on real database files in temporary directories: what
//! survives a close and reopen, durability modes, the file lock, a closed store. What the
//! `Store` trait promises is checked for every backend by the shared suite
//! (`crate::store::tests`), whose builders these tests use.

mod lifecycle;

pub use crate::store::tests::*;
use tempfile::TempDir;

use super::{EmbeddedConfig, EmbeddedStore};

pub fn config(dir: &TempDir) -> EmbeddedConfig {
    EmbeddedConfig::in_data_dir(dir.path())
}

pub fn temp_store() -> (TempDir, EmbeddedStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(config(&dir)).expect("opens");
    (dir, store)
}
