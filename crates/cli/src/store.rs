//! The local log: an append-only list of leaves in SQLite, each session's edges chained by
//! hash, the signed checkpoints and the size each witness last cosigned.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use nucleus_envelope::v3::EdgeV3;
use nucleus_lineage::merkle::Hash;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leaves (
    idx INTEGER PRIMARY KEY,
    leaf_hash BLOB NOT NULL,
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    edge_hash BLOB NOT NULL,
    edge_json TEXT NOT NULL,
    UNIQUE (session, seq)
);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS witnesses (url TEXT PRIMARY KEY, size INTEGER NOT NULL);
";

/// The database file inside a log directory.
pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("log.db")
}

/// An open local log.
pub struct Store {
    pool: SqlitePool,
}

/// One stored edge of a session.
pub struct StoredEdge {
    /// Leaf index in the log.
    pub leaf_index: u64,
    /// The edge as it goes in a bundle.
    pub edge: EdgeV3,
    /// Its chain hash.
    pub edge_hash: Hash,
}

fn hash_of(bytes: Vec<u8>) -> Result<Hash> {
    Hash::try_from(bytes.as_slice()).context("stored hash is not 32 bytes")
}

impl Store {
    /// Opens (and with `create`, creates) the log database in `dir`.
    pub async fn open(dir: &Path, create: bool) -> Result<Store> {
        let path = db_path(dir);
        if !create && !path.exists() {
            bail!(
                "no log in {}: run `nucleus log init --dir {} --origin ORIGIN` first",
                dir.display(),
                dir.display()
            );
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let pool = SqlitePool::connect_with(opts)
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Store { pool })
    }

    /// Reads a meta value.
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<String, _>(0)))
    }

    /// Writes a meta value once; fails if it is already set to something else.
    pub async fn set_meta_once(&self, key: &str, value: &str) -> Result<()> {
        if let Some(existing) = self.meta(key).await? {
            if existing != value {
                bail!("this log's {key} is already {existing:?}, not {value:?}");
            }
            return Ok(());
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?)")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The log origin.
    pub async fn origin(&self) -> Result<String> {
        self.meta("origin")
            .await?
            .context("the log has no origin; run `nucleus log init`")
    }

    /// The last edge of a session (for chaining), if any.
    pub async fn session_tail(&self, session: &str) -> Result<Option<StoredEdge>> {
        Ok(self.session_edges(session).await?.pop())
    }

    /// Appends an edge as the next leaf; fails if its seq is taken (a concurrent append).
    pub async fn append(
        &self,
        session: &str,
        edge: &EdgeV3,
        edge_hash: &Hash,
        leaf_hash: &Hash,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let size: i64 = sqlx::query("SELECT COUNT(*) FROM leaves")
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        sqlx::query(
            "INSERT INTO leaves (idx, leaf_hash, session, seq, edge_hash, edge_json) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(size)
        .bind(leaf_hash.as_slice())
        .bind(session)
        .bind(edge.seq as i64)
        .bind(edge_hash.as_slice())
        .bind(serde_json::to_string(edge)?)
        .execute(&mut *tx)
        .await
        .context("appending the leaf (was the session appended to concurrently?)")?;
        tx.commit().await?;
        Ok(size as u64)
    }

    /// The leaf hashes of the first `size` leaves.
    pub async fn leaf_hashes(&self, size: u64) -> Result<Vec<Hash>> {
        let rows = sqlx::query("SELECT leaf_hash FROM leaves WHERE idx < ? ORDER BY idx")
            .bind(size as i64)
            .fetch_all(&self.pool)
            .await?;
        let hashes = rows
            .into_iter()
            .map(|r| hash_of(r.get(0)))
            .collect::<Result<Vec<_>>>()?;
        if hashes.len() as u64 != size {
            bail!("the log has {} leaves, not {size}", hashes.len());
        }
        Ok(hashes)
    }

    /// The number of leaves.
    pub async fn size(&self) -> Result<u64> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM leaves")
            .fetch_one(&self.pool)
            .await?
            .get(0);
        Ok(n as u64)
    }

    /// A session's edges in seq order.
    pub async fn session_edges(&self, session: &str) -> Result<Vec<StoredEdge>> {
        let rows = sqlx::query(
            "SELECT idx, edge_json, edge_hash FROM leaves WHERE session = ? ORDER BY seq",
        )
        .bind(session)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredEdge {
                    leaf_index: r.get::<i64, _>(0) as u64,
                    edge: EdgeV3::parse(&r.get::<String, _>(1))?,
                    edge_hash: hash_of(r.get(2))?,
                })
            })
            .collect()
    }

    /// Stores (or replaces) the signed note of the checkpoint of `size`.
    pub async fn put_checkpoint(&self, size: u64, note: &str) -> Result<()> {
        sqlx::query("INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)")
            .bind(size as i64)
            .bind(note)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The latest stored checkpoint note and its size.
    pub async fn latest_checkpoint(&self) -> Result<Option<(u64, String)>> {
        let row = sqlx::query("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get::<i64, _>(0) as u64, r.get(1))))
    }

    /// The size a witness last cosigned for us (0 if never).
    pub async fn witness_size(&self, url: &str) -> Result<u64> {
        let row = sqlx::query("SELECT size FROM witnesses WHERE url = ?")
            .bind(url)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map_or(0, |r| r.get::<i64, _>(0) as u64))
    }

    /// Records the size a witness cosigned.
    pub async fn set_witness_size(&self, url: &str, size: u64) -> Result<()> {
        sqlx::query("INSERT OR REPLACE INTO witnesses (url, size) VALUES (?, ?)")
            .bind(url)
            .bind(size as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every witness URL and its last cosigned size.
    pub async fn witness_sizes(&self) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query("SELECT url, size FROM witnesses ORDER BY url")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get::<i64, _>(1) as u64))
            .collect())
    }
}
