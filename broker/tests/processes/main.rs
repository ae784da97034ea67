//! Tests that need whole processes: a store killed with SIGKILL mid-write, several `oxion`
//! instances sharing one MongoDB, and MongoDB going away under a running broker. One test
//! binary, so one build.

mod crash_recovery;
mod many_instances;
mod mongo_outage;
mod support;
