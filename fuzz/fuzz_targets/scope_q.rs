//! `cargo fuzz run scope_q`: see `ngsi_types::fuzzing::scope_q`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ngsi_types::fuzzing::scope_q(data));
