//! PLACEHOLDER: the embedded backend.
