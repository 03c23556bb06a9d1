//! SQLite back end: WAL journal with `synchronous=FULL`, so a commit is on disk before a
//! cosignature leaves. All writes go through a one-connection pool (SQLite has one
//! writer anyway; queueing in the pool avoids busy-waiting on the file lock); reads use
//! their own pool and never block on the writer under WAL.

use std::str::FromStr;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, SqlSafeStr};

use super::{
    CasOutcome, StoreError, StoreOptions, StoredState, WitnessStore, size_to_db, state_from_row,
};

/// Witness state in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

fn migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        "witness state".into(),
        MigrationType::Simple,
        include_str!("../../migrations/sqlite/0001_witness_state.sql").into_sql_str(),
        false,
    )])
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and migrates it.
    pub async fn open(url: &str, options: StoreOptions) -> Result<SqliteStore, StoreError> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(options.acquire_timeout);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        migrator().run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.max_connections.clamp(1, 8))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        Ok(SqliteStore { writer, reader })
    }

    async fn current_size(&self, origin: &str) -> Result<u64, StoreError> {
        Ok(self.state(origin).await?.map_or(0, |s| s.size))
    }
}

impl WitnessStore for SqliteStore {
    async fn state(&self, origin: &str) -> Result<Option<StoredState>, StoreError> {
        let row = sqlx::query("SELECT tree_size, root_hash FROM witness_state WHERE origin = ?1")
            .bind(origin)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| state_from_row(origin, r.get(0), r.get::<&[u8], _>(1)))
            .transpose()
    }

    async fn compare_and_swap(
        &self,
        origin: &str,
        expected: Option<&StoredState>,
        new: &StoredState,
        checkpoint: &[u8],
        cosigned_at: u64,
    ) -> Result<CasOutcome, StoreError> {
        let done = match expected {
            None => sqlx::query(
                "INSERT INTO witness_state (origin, tree_size, root_hash, checkpoint, cosigned_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (origin) DO NOTHING",
            )
            .bind(origin)
            .bind(size_to_db(new.size))
            .bind(&new.root[..])
            .bind(checkpoint)
            .bind(size_to_db(cosigned_at))
            .execute(&self.writer)
            .await?,
            Some(old) => {
                sqlx::query(
                    "UPDATE witness_state SET tree_size = ?1, root_hash = ?2, checkpoint = ?3, \
                 cosigned_at = ?4 WHERE origin = ?5 AND tree_size = ?6 AND root_hash = ?7",
                )
                .bind(size_to_db(new.size))
                .bind(&new.root[..])
                .bind(checkpoint)
                .bind(size_to_db(cosigned_at))
                .bind(origin)
                .bind(size_to_db(old.size))
                .bind(&old.root[..])
                .execute(&self.writer)
                .await?
            }
        };
        if done.rows_affected() == 1 {
            Ok(CasOutcome::Committed)
        } else {
            Ok(CasOutcome::Conflict {
                current_size: self.current_size(origin).await?,
            })
        }
    }

    async fn latest_checkpoint(&self, origin: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT checkpoint FROM witness_state WHERE origin = ?1")
            .bind(origin)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
}
