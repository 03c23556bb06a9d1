//! `nucleus-witness`: a C2SP tlog-witness (c2sp.org/tlog-witness) that never forks.
//!
//! The witness cosigns a log's checkpoint only if the log's key signed it, it extends (by
//! an RFC 6962 consistency proof) the last checkpoint this witness cosigned for that
//! origin, and the new state was committed to the database by an atomic compare-and-swap
//! first. State lives in SQLite (WAL, `synchronous=FULL`) or Postgres (conditional
//! `UPDATE`), so a restart or a second replica can never cosign a rollback.

pub mod cli;
pub mod clock;
pub mod config;
pub mod keys;
pub mod metrics;
pub mod protocol;
pub mod server;
pub mod store;
pub mod witness;
