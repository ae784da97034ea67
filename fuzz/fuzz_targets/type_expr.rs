//! `cargo fuzz run type_expr`: see `ngsi_types::fuzzing::type_expr`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ngsi_types::fuzzing::type_expr(data));
