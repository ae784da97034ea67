//! How redb's errors become [`StoreError`]s: all of them are backend failures (500), reported
//! with what the store was doing. Corrupt records are detected by the store itself (see
//! [`super::record`]), not here.

use crate::store::{StoreError, StoreResult};

pub trait OrBackend<T> {
    /// The error as [`StoreError::Backend`], prefixed with `what` was being done.
    fn or_backend(self, what: &str) -> StoreResult<T>;
}

impl<T, E: Into<redb::Error>> OrBackend<T> for Result<T, E> {
    fn or_backend(self, what: &str) -> StoreResult<T> {
        self.map_err(|e| StoreError::Backend(format!("{what}: {}", e.into())))
    }
}
