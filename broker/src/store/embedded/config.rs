//! How the embedded store is opened: where its file lives, how hard a commit presses on the disk,
//! and how much the writer may gather into one transaction.
//!
//! The defaults are the safe ones (fsync on every commit), so a broker started with no flags
//! never acknowledges a write it could lose.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Directory used when `--data-dir` is not given.
pub const DEFAULT_DATA_DIR: &str = "./oxion-data";
/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "oxion.redb";

/// What a commit guarantees when it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every transaction is fsynced before any of its writes is acknowledged. An acknowledged
    /// write survives a crash or a power loss.
    #[default]
    Immediate,
    /// Transactions are not fsynced: the writer makes everything durable once every
    /// [`EmbeddedConfig::flush_interval`], and on close or drop. Writes
    /// acknowledged since the last flush are LOST ON ANY CRASH, of the machine or of the broker
    /// process alike (redb keeps non-durable commits in memory). For benchmarks and throw-away
    /// deployments only.
    Eventual,
}

/// Configuration of [`super::EmbeddedStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedConfig {
    /// The database file; its parent directory is created if missing.
    pub path: PathBuf,
    pub durability: Durability,
    /// Most commit requests (calls to `commit`, `put_document`, ...) gathered into one
    /// transaction.
    pub max_batch_requests: usize,
    /// Most entity writes gathered into one transaction. A single request with more writes
    /// than this is still applied whole, alone.
    pub max_batch_writes: usize,
    /// Capacity of the queue in front of the writer; callers wait (asynchronously) when it is
    /// full, which is the back-pressure that keeps memory bounded under overload.
    pub queue_capacity: usize,
    /// Size of redb's page cache. It counts towards the broker's resident memory, next to the
    /// in-memory indexes (a few hundred bytes per entity).
    pub cache_bytes: usize,
    /// With [`Durability::Eventual`]: the longest time a write stays non-durable.
    pub flush_interval: Duration,
}

impl EmbeddedConfig {
    /// The defaults, with the database file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::Immediate,
            max_batch_requests: 512,
            max_batch_writes: 4096,
            queue_capacity: 1024,
            cache_bytes: 256 * 1024 * 1024,
            flush_interval: Duration::from_secs(1),
        }
    }

    /// The defaults, with the database file `oxion.redb` inside `data_dir`.
    pub fn in_data_dir(data_dir: impl AsRef<Path>) -> Self {
        Self::new(data_dir.as_ref().join(DATABASE_FILE))
    }
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self::in_data_dir(DEFAULT_DATA_DIR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_safe_and_under_the_data_dir() {
        let config = EmbeddedConfig::default();
        assert_eq!(config.durability, Durability::Immediate);
        assert_eq!(config.path, Path::new("./oxion-data").join("oxion.redb"));
        assert!(config.max_batch_requests > 0 && config.max_batch_writes > 0);
    }
}
