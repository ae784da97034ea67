//! Tests that need whole processes: a store killed with SIGKILL mid-write, and several `oxion`
//! instances sharing one MongoDB. One test binary, so one build.

mod crash_recovery;
mod many_instances;
mod mongo_outage;
