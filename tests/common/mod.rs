//! Helpers shared by the integration tests (each test file says `mod common;`).

pub mod certs;
