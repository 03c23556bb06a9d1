//! SQLite back end: WAL journal with `synchronous=FULL`, so a commit is on disk before a
//! cosignature leaves.
//!
//! Writes use group commit. SQLite has one writer, and each commit costs an fsync, so
//! compare-and-swaps from concurrent requests (other origins, usually) queue to one writer
//! task, which runs every queued one inside a single `BEGIN IMMEDIATE … COMMIT` and answers
//! them only after that commit returns. Each swap is still evaluated on its own against the
//! state left by the swaps before it in the batch, so the outcome is what the same swaps
//! would give one by one; only the fsync is shared. A lone request waits for no one: the
//! writer never delays a commit to collect more work. Reads use their own pool and never
//! block on the writer under WAL.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Row, SqlSafeStr};
use tokio::sync::{mpsc, oneshot};

use super::{
    CasOutcome, StoreError, StoreOptions, StoredState, WitnessStore, size_to_db, state_from_row,
};

/// Most swaps one commit carries; a bound on how long one transaction holds the write lock.
const MAX_BATCH: usize = 256;

/// Swaps waiting for the writer; callers wait for room beyond this (backpressure).
const QUEUE_DEPTH: usize = 4096;

/// Witness state in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: mpsc::Sender<SwapJob>,
    reader: SqlitePool,
}

/// One queued compare-and-swap and where its outcome goes.
struct SwapJob {
    origin: String,
    expected: Option<StoredState>,
    new: StoredState,
    checkpoint: Vec<u8>,
    cosigned_at: u64,
    reply: oneshot::Sender<Result<CasOutcome, StoreError>>,
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
    /// Opens (creating if missing) the database at `url`, migrates it and starts the writer
    /// task (on the current Tokio runtime).
    pub async fn open(url: &str, options: StoreOptions) -> Result<SqliteStore, StoreError> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(options.acquire_timeout);
        let mut writer = SqliteConnection::connect_with(&connect).await?;
        migrator().run(&mut writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.max_connections.clamp(1, 8))
            .test_before_acquire(false)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run_writer(writer, rx));
        Ok(SqliteStore { writer: tx, reader })
    }
}

/// The writer task: takes whatever is queued (at least one swap), commits it as one
/// transaction, answers, repeats. Ends when every [`SqliteStore`] handle is dropped.
async fn run_writer(mut conn: SqliteConnection, mut queue: mpsc::Receiver<SwapJob>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match commit_batch(&mut conn, &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    // A caller that gave up (timeout) just misses its answer; the state it
                    // asked for is committed and a retry sees it.
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, swaps = batch.len(), "group commit failed");
                let e = Arc::new(e);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::GroupCommit(e.clone())));
                }
            }
        }
    }
}

/// Runs every swap of `batch` in one transaction and commits it. On any error the
/// transaction is rolled back and no swap took effect.
async fn commit_batch(
    conn: &mut SqliteConnection,
    batch: &[SwapJob],
) -> Result<Vec<CasOutcome>, sqlx::Error> {
    if let [job] = batch {
        // Alone, the statement's own implicit transaction is the same commit with two fewer
        // round trips to SQLite's thread; the conflict read after it cannot race, as this
        // task is the only writer.
        return Ok(vec![swap(conn, job).await?]);
    }
    // IMMEDIATE takes the write lock up front, so the batch cannot fail half-way on a lock
    // upgrade if another process opened the same file.
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        match swap(conn, job).await {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                // The connection may already have rolled back; the rollback error is moot.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                return Err(e);
            }
        }
    }
    if let Err(e) = sqlx::query("COMMIT").execute(&mut *conn).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err(e);
    }
    Ok(outcomes)
}

/// One compare-and-swap (inside the batch's transaction, or alone in its own).
async fn swap(conn: &mut SqliteConnection, job: &SwapJob) -> Result<CasOutcome, sqlx::Error> {
    let done =
        match &job.expected {
            None => sqlx::query(
                "INSERT INTO witness_state (origin, tree_size, root_hash, checkpoint, cosigned_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (origin) DO NOTHING",
            )
            .bind(&job.origin)
            .bind(size_to_db(job.new.size))
            .bind(&job.new.root[..])
            .bind(&job.checkpoint)
            .bind(size_to_db(job.cosigned_at))
            .execute(&mut *conn)
            .await?,
            Some(old) => {
                sqlx::query(
                    "UPDATE witness_state SET tree_size = ?1, root_hash = ?2, checkpoint = ?3, \
                 cosigned_at = ?4 WHERE origin = ?5 AND tree_size = ?6 AND root_hash = ?7",
                )
                .bind(size_to_db(job.new.size))
                .bind(&job.new.root[..])
                .bind(&job.checkpoint)
                .bind(size_to_db(job.cosigned_at))
                .bind(&job.origin)
                .bind(size_to_db(old.size))
                .bind(&old.root[..])
                .execute(&mut *conn)
                .await?
            }
        };
    if done.rows_affected() == 1 {
        return Ok(CasOutcome::Committed);
    }
    // Read before the batch commits: this is the size that will be committed, including
    // swaps earlier in the same batch.
    let current: Option<i64> =
        sqlx::query_scalar("SELECT tree_size FROM witness_state WHERE origin = ?1")
            .bind(&job.origin)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(CasOutcome::Conflict {
        current_size: current.map_or(0, super::size_from_db),
    })
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
        let (reply, outcome) = oneshot::channel();
        let job = SwapJob {
            origin: origin.to_owned(),
            expected: expected.copied(),
            new: *new,
            checkpoint: checkpoint.to_vec(),
            cosigned_at,
            reply,
        };
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        outcome.await.map_err(|_| StoreError::WriterGone)?
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
        if self.writer.is_closed() {
            return Err(StoreError::WriterGone);
        }
        Ok(())
    }
}
