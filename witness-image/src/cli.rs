//! Command-line flags (each also settable from the environment where noted).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `nucleus-witness`: a C2SP tlog-witness that never forks, on SQLite or Postgres.
#[derive(Debug, Clone, Parser)]
#[command(name = "nucleus-witness", version, about, long_about = None)]
pub struct Cli {
    /// Listen address.
    #[arg(long, env = "NUCLEUS_WITNESS_BIND", default_value = "0.0.0.0:8443")]
    pub bind: SocketAddr,

    /// The witness name: the key name on its cosignature lines. Give each witness a
    /// distinct one.
    #[arg(
        long,
        env = "NUCLEUS_WITNESS_NAME",
        default_value = "nucleus.witness/local"
    )]
    pub witness_name: String,

    /// A log to cosign for: `origin|log_key_name|log_pubkey_hex` (or a vkey instead of the
    /// hex key, or `origin|vkey`). Repeatable.
    #[arg(long = "origin", value_name = "ORIGIN|LOG_KEY_NAME|LOG_PUBKEY_HEX")]
    pub origins: Vec<String>,

    /// A file of origin lines (one per line, `#` comments), re-read on SIGHUP.
    #[arg(long, env = "NUCLEUS_WITNESS_ORIGINS_FILE", value_name = "PATH")]
    pub origins_file: Option<PathBuf>,

    /// The 32-byte Ed25519 seed, hex. Prefer the environment variable or a seed file: a
    /// flag is visible in the process list.
    #[arg(long, env = "NUCLEUS_WITNESS_SEED_HEX", hide_env_values = true)]
    pub witness_seed_hex: Option<String>,

    /// A file holding the seed (a mounted Secret): 64 hex digits or the raw 32 bytes.
    #[arg(long, env = "NUCLEUS_WITNESS_SEED_FILE", value_name = "PATH")]
    pub witness_seed_file: Option<PathBuf>,

    /// Without a seed, derive a publicly known one from the witness name. For local
    /// development only: anyone can forge this witness's cosignatures.
    #[arg(long)]
    pub insecure_dev_seed: bool,

    /// Where state lives: `sqlite://PATH` or `postgres://…`. Migrations run at start.
    #[arg(
        long,
        env = "NUCLEUS_WITNESS_DB_URL",
        default_value = "sqlite://nucleus-witness.db",
        hide_env_values = true
    )]
    pub db_url: String,

    /// Largest database connection pool (Postgres; SQLite readers).
    #[arg(long, env = "NUCLEUS_WITNESS_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// Seconds to wait for the database before answering 503.
    #[arg(long, env = "NUCLEUS_WITNESS_DB_TIMEOUT_SECS", default_value_t = 3)]
    pub db_timeout_secs: u64,

    /// Log format.
    #[arg(
        long,
        env = "NUCLEUS_WITNESS_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}
