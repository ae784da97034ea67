//! The subscriptions crate through its public API: the model, the registry's indexes,
//! matching, and the engine end to end over HTTP and MQTT. One test binary, so one build and
//! one link (each module was a binary of its own before).

mod fixtures;
mod matching;
mod model;
mod notify_http;
mod notify_mqtt;
mod registry;
