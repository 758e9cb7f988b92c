//! Fuzz target: wirecat::fuzzing::is_ip (its properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecat::fuzzing::is_ip(data));
