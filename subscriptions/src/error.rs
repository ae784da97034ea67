//! The one error enum of the subscription engine.
//!
//! Validation errors are [`NgsiError`]s: they carry the member name and map to the NGSI-LD
//! error type (BadRequestData, ...) in the broker's single ProblemDetails conversion. The
//! engine adds only the errors of its own life cycle, which are the broker's to map (an
//! overloaded or stopped engine is a server-side condition, not a client error).

use ngsi_types::NgsiError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A subscription, or a fragment of one, breaks a rule of clause 5.2.12.
    #[error(transparent)]
    Invalid(#[from] NgsiError),
    /// The change-event queue is full: the event was dropped (see `EngineHandle::notify`).
    #[error("the subscription engine is overloaded: change event dropped")]
    Overloaded,
    /// The engine has shut down.
    #[error("the subscription engine is not running")]
    Stopped,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
