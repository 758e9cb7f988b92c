//! Fuzz target: wirecat::fuzzing::durations (its properties are asserted there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wirecat::fuzzing::durations(data));
