//! Postgres back end: the compare-and-swap is one conditional statement (`INSERT … ON
//! CONFLICT DO NOTHING` for an origin's first checkpoint, `UPDATE … WHERE tree_size = old
//! AND root_hash = old` after that). Postgres takes the row lock and re-checks the `WHERE`
//! on the newest row version, so among concurrent submissions from any number of witness
//! processes exactly one changes the row; the statement commits (synchronous_commit, the
//! default) before we answer.

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Row, SqlSafeStr};

use super::{
    CasOutcome, StoreError, StoreOptions, StoredState, WitnessStore, size_to_db, state_from_row,
};

/// Witness state in a Postgres database, shareable by several witness processes.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

fn migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        "witness state".into(),
        MigrationType::Simple,
        include_str!("../../migrations/postgres/0001_witness_state.sql").into_sql_str(),
        false,
    )])
}

impl PostgresStore {
    /// Connects to `url` and migrates the schema (migrations take an advisory lock, so
    /// replicas starting together are safe).
    pub async fn open(url: &str, options: StoreOptions) -> Result<PostgresStore, StoreError> {
        let connect: PgConnectOptions = url.parse()?;
        // No ping before each acquire: it would double the round trips of every request, and
        // a dead connection is found by the query itself anyway (503, no cosignature; the
        // pool then discards it).
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .test_before_acquire(false)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        migrator().run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    async fn current_size(&self, origin: &str) -> Result<u64, StoreError> {
        Ok(self.state(origin).await?.map_or(0, |s| s.size))
    }
}

impl WitnessStore for PostgresStore {
    async fn state(&self, origin: &str) -> Result<Option<StoredState>, StoreError> {
        let row = sqlx::query("SELECT tree_size, root_hash FROM witness_state WHERE origin = $1")
            .bind(origin)
            .fetch_optional(&self.pool)
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
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (origin) DO NOTHING",
            )
            .bind(origin)
            .bind(size_to_db(new.size))
            .bind(&new.root[..])
            .bind(checkpoint)
            .bind(size_to_db(cosigned_at))
            .execute(&self.pool)
            .await?,
            Some(old) => {
                sqlx::query(
                    "UPDATE witness_state SET tree_size = $1, root_hash = $2, checkpoint = $3, \
                 cosigned_at = $4 WHERE origin = $5 AND tree_size = $6 AND root_hash = $7",
                )
                .bind(size_to_db(new.size))
                .bind(&new.root[..])
                .bind(checkpoint)
                .bind(size_to_db(cosigned_at))
                .bind(origin)
                .bind(size_to_db(old.size))
                .bind(&old.root[..])
                .execute(&self.pool)
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
        let row = sqlx::query("SELECT checkpoint FROM witness_state WHERE origin = $1")
            .bind(origin)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
