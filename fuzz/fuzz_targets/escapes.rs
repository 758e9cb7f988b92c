//! Fuzz target: wirecat::fuzzing::escapes (its properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecat::fuzzing::escapes(data));
