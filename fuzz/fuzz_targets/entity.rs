//! `cargo fuzz run entity`: see `ngsi_types::fuzzing::entity`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ngsi_types::fuzzing::entity(data));
