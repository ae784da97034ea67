//! MongoDB driver errors as [`StoreError`]s: an unreachable database is `Unavailable` (503, the
//! client may retry; the driver reconnects by itself), anything else a backend failure (500).
//! A [`StoreError`] raised where the driver's error type is expected (inside a transaction's
//! callback) travels [`carried`] and comes out unchanged.

use std::sync::Arc;

use mongodb::error::{Error, ErrorKind, WriteFailure};

use crate::store::StoreError;

/// MongoDB's duplicate key error: an insert found the `_id` taken.
pub const DUPLICATE_KEY: i32 = 11000;

pub fn store_error(context: &str, e: Error) -> StoreError {
    if let Some(inner) = e.get_custom::<Arc<StoreError>>() {
        return match &**inner {
            StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
            StoreError::Backend(m) => StoreError::Backend(m.clone()),
            StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
        };
    }
    let unreachable = is_unreachable(&e)
        || e.contains_label("RetryableWriteError")
        || e.contains_label("NetworkError");
    if unreachable {
        StoreError::Unavailable(format!("MongoDB is not reachable ({context}): {e}"))
    } else {
        StoreError::Backend(format!("MongoDB {context} failed: {e}"))
    }
}

/// True if the error says no MongoDB server could be reached (or the client shut down).
pub fn is_unreachable(e: &Error) -> bool {
    matches!(
        *e.kind,
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
            | ErrorKind::Shutdown
    )
}

/// A [`StoreError`] as a driver error, for [`store_error`] to give back. It carries no error
/// label, so a transaction failing with it is aborted, not retried.
pub fn carried(e: StoreError) -> Error {
    Error::custom(Arc::new(e))
}

/// The server's code of a failed write or command, if it is one.
pub fn code(e: &Error) -> Option<i32> {
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Command(c) => Some(c.code),
        _ => None,
    }
}

/// True for the errors MongoDB reports when a GeoJSON value cannot go into a 2dsphere index
/// (`Can't extract geo keys`, codes 16755 and 16572): the entity is then stored without that
/// index field.
pub fn is_geo_key_error(e: &Error) -> bool {
    matches!(code(e), Some(16755 | 16572)) || e.to_string().contains("Can't extract geo keys")
}
