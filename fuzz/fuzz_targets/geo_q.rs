//! `cargo fuzz run geo_q`: see `ngsi_types::fuzzing::geo_q`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ngsi_types::fuzzing::geo_q(data));
