//! Durable witness state: per origin, the last cosigned (size, root) and the full cosigned
//! checkpoint. The only write is an atomic compare-and-swap, so two requests (or two
//! processes) can never both advance the same origin from the same state.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use nucleus_lineage::Hash;

pub mod postgres;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The state stored for one origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredState {
    /// The tree size last cosigned.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
}

/// What a compare-and-swap did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// The new state is committed (durably, before this value is returned).
    Committed,
    /// The stored state was no longer the expected one; nothing was written.
    Conflict {
        /// The tree size stored now (0 if the origin has no state).
        current_size: u64,
    },
}

/// Why the database could not answer. Every variant means "no cosignature" (HTTP 503).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database driver failed (unreachable, I/O, constraint…).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A group commit (SQLite) failed; none of the swaps in it took effect.
    #[error("database error in a group commit, nothing was written: {0}")]
    GroupCommit(Arc<sqlx::Error>),
    /// The SQLite writer task has stopped (the runtime is shutting down).
    #[error("the database writer has stopped")]
    WriterGone,
    /// Running the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row does not have the shape we write.
    #[error("corrupt witness state for origin {origin:?}: {reason}")]
    Corrupt {
        /// The origin whose row is bad.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// The URL names no supported database.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
}

/// Connection settings shared by both back ends.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Largest connection pool (Postgres; SQLite readers).
    pub max_connections: u32,
    /// How long to wait for a connection before giving up (then: 503).
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// Storage for witness state.
pub trait WitnessStore: Send + Sync {
    /// The state stored for `origin`, `None` if it was never cosigned.
    fn state(
        &self,
        origin: &str,
    ) -> impl Future<Output = Result<Option<StoredState>, StoreError>> + Send;

    /// Atomically replaces `expected` (`None`: no row yet) by `new` and the cosigned
    /// `checkpoint`; committed durably before [`CasOutcome::Committed`] is returned.
    fn compare_and_swap(
        &self,
        origin: &str,
        expected: Option<&StoredState>,
        new: &StoredState,
        checkpoint: &[u8],
        cosigned_at: u64,
    ) -> impl Future<Output = Result<CasOutcome, StoreError>> + Send;

    /// The last cosigned checkpoint of `origin` (log signatures plus our cosignature).
    fn latest_checkpoint(
        &self,
        origin: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Checks that the database answers.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The back end chosen by the database URL.
#[derive(Debug, Clone)]
pub enum Store {
    /// `sqlite://PATH`.
    Sqlite(SqliteStore),
    /// `postgres://…` or `postgresql://…`.
    Postgres(PostgresStore),
}

impl Store {
    /// Connects to `url` and runs the schema migrations.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(SqliteStore::open(url, options).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(PostgresStore::open(url, options).await?))
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    /// `sqlite` or `postgres`, for logs and `/info`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }
}

impl WitnessStore for Store {
    async fn state(&self, origin: &str) -> Result<Option<StoredState>, StoreError> {
        match self {
            Store::Sqlite(s) => s.state(origin).await,
            Store::Postgres(s) => s.state(origin).await,
        }
    }

    async fn compare_and_swap(
        &self,
        origin: &str,
        expected: Option<&StoredState>,
        new: &StoredState,
        checkpoint: &[u8],
        cosigned_at: u64,
    ) -> Result<CasOutcome, StoreError> {
        match self {
            Store::Sqlite(s) => {
                s.compare_and_swap(origin, expected, new, checkpoint, cosigned_at)
                    .await
            }
            Store::Postgres(s) => {
                s.compare_and_swap(origin, expected, new, checkpoint, cosigned_at)
                    .await
            }
        }
    }

    async fn latest_checkpoint(&self, origin: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Sqlite(s) => s.latest_checkpoint(origin).await,
            Store::Postgres(s) => s.latest_checkpoint(origin).await,
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.ping().await,
            Store::Postgres(s) => s.ping().await,
        }
    }
}

/// A database URL with any password replaced by `***`, safe to log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// Stores a u64 size in a signed 64-bit column, bit for bit (only equality is used).
fn size_to_db(size: u64) -> i64 {
    i64::from_ne_bytes(size.to_ne_bytes())
}

/// Reads back a size written by [`size_to_db`].
fn size_from_db(size: i64) -> u64 {
    u64::from_ne_bytes(size.to_ne_bytes())
}

/// Builds a [`StoredState`] from a row's columns.
fn state_from_row(origin: &str, size: i64, root: &[u8]) -> Result<StoredState, StoreError> {
    let root = Hash::try_from(root).map_err(|_| StoreError::Corrupt {
        origin: origin.to_owned(),
        reason: format!("root hash has {} bytes, expected 32", root.len()),
    })?;
    Ok(StoredState {
        size: size_from_db(size),
        root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_trip_through_i64() {
        for s in [0, 1, i64::MAX as u64, u64::MAX, 1 << 63] {
            assert_eq!(size_from_db(size_to_db(s)), s);
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://nucleus:secret@127.0.0.1:5432/db"),
            "postgres://nucleus:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact_url("sqlite://w.db"), "sqlite://w.db");
    }
}
