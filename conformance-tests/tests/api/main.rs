//! The black-box API suite, one module per area of GS CIM 009 (one test binary, so one build
//! and one shared broker process).

mod entities;
mod subscriptions;
