//! Fuzz target: wirecat::fuzzing::argv (its properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecat::fuzzing::argv(data));
