//! `cargo fuzz run q`: see `ngsi_types::fuzzing::q`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ngsi_types::fuzzing::q(data));
