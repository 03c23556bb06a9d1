//! Test support shared by the integration tests of several crates (a dev-dependency only).
//!
//! Tests that exercise the witness protocol end to end start real `nucleus-witness`
//! processes; [`witness`] is the one place that knows how. [`command`] runs a crate's own
//! binaries with their output in the test log; [`bytes`] makes reproducible test data.

pub mod bytes;
pub mod command;
pub mod witness;
