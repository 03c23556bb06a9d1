//! Helpers shared by the witness integration tests: a test log that signs checkpoints and
//! builds proofs, in-process and spawned witnesses, and fresh Postgres databases.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use nucleus_lineage::merkle::{consistency_proof, leaf_hash, root};
use nucleus_lineage::{Checkpoint, CosignatureSigner, Hash, Note, NoteSigner, b64};
use nucleus_witness::clock::{Clock, FixedClock, SystemClock};
use nucleus_witness::config::{OriginLine, Origins, parse_origin_line};
use nucleus_witness::metrics::Metrics;
use nucleus_witness::server::{AppState, router};
use nucleus_witness::store::{Store, StoreOptions};
use nucleus_witness::witness::Witness;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

/// The scenario witness's seed (also used for our own witnesses).
pub const WITNESS_SEED_HEX: &str =
    "31ffc2116ecbe003acaa800ab70757bd7d53206e3febef6a6d0796d95530b34f";

pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

pub fn witness_key() -> SigningKey {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(WITNESS_SEED_HEX, &mut seed).unwrap();
    SigningKey::from_bytes(&seed)
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A log we control: Ed25519 key, origin, leaves.
#[derive(Clone)]
pub struct TestLog {
    pub origin: String,
    pub signer: NoteSigner,
    pub leaves: Vec<Hash>,
}

impl TestLog {
    /// A log whose key is seeded with `seed` repeated and whose leaves are `tag ‖ i`.
    pub fn new(origin: &str, seed: u8, tag: &str, size: usize) -> TestLog {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let signer = NoteSigner::new(origin, key).unwrap();
        let leaves = (0..size)
            .map(|i| leaf_hash(format!("{tag} {i}").as_bytes()))
            .collect();
        TestLog {
            origin: origin.to_owned(),
            signer,
            leaves,
        }
    }

    /// The `origin|log_key_name|log_pubkey_hex` line for this log.
    pub fn origin_line(&self) -> String {
        format!(
            "{}|{}|{}",
            self.origin,
            self.signer.vkey().name,
            hex::encode(&self.signer.vkey().public_key)
        )
    }

    pub fn parsed_origin_line(&self) -> OriginLine {
        parse_origin_line(&self.origin_line(), 1).unwrap()
    }

    pub fn root(&self, size: usize) -> Hash {
        root(&self.leaves[..size])
    }

    /// The checkpoint text at `size`.
    pub fn checkpoint_text(&self, size: usize) -> String {
        Checkpoint {
            origin: self.origin.clone(),
            size: size as u64,
            root: self.root(size),
            extensions: vec![],
        }
        .to_text()
    }

    /// The signed checkpoint note at `size`.
    pub fn checkpoint(&self, size: usize) -> Vec<u8> {
        let text = self.checkpoint_text(size);
        Note {
            signatures: vec![self.signer.sign(&text)],
            text,
        }
        .to_bytes()
    }

    /// A well-formed request from `old` to `size` with the correct proof.
    pub fn request(&self, old: usize, size: usize) -> Vec<u8> {
        let proof = if old == 0 || old == size {
            vec![]
        } else {
            consistency_proof(&self.leaves[..size], old as u64).unwrap()
        };
        request_bytes(old as u64, &proof, &self.checkpoint(size))
    }
}

/// `old N\n` + proof lines + `\n` + note.
pub fn request_bytes(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    let mut out = format!("old {old}\n").into_bytes();
    for h in proof {
        out.extend_from_slice(b64::encode(h).as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(note);
    out
}

/// Which database a test runs on.
#[derive(Debug)]
pub enum Db {
    Sqlite(tempfile::TempDir),
    Postgres {
        admin_url: String,
        url: String,
        name: String,
    },
}

impl Db {
    pub fn url(&self) -> String {
        match self {
            Db::Sqlite(dir) => format!("sqlite://{}", dir.path().join("witness.db").display()),
            Db::Postgres { url, .. } => url.clone(),
        }
    }

    pub fn sqlite() -> Db {
        Db::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A fresh database on the test Postgres, or `None` (test skipped) when
    /// `NUCLEUS_TEST_POSTGRES_URL` is unset — except under `CI=true`, where that fails.
    pub async fn postgres(test: &str) -> Option<Db> {
        let Ok(admin_url) = std::env::var("NUCLEUS_TEST_POSTGRES_URL") else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: NUCLEUS_TEST_POSTGRES_URL is unset under CI=true");
            }
            eprintln!("SKIP {test}: NUCLEUS_TEST_POSTGRES_URL is unset");
            return None;
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "nw_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let mut conn = PgConnection::connect(&admin_url).await.unwrap();
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        let url = replace_db_name(&admin_url, &name);
        Some(Db::Postgres {
            admin_url,
            url,
            name,
        })
    }

    /// Drops a Postgres test database (closing whatever still uses it).
    pub async fn cleanup(&self) {
        if let Db::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut conn) = PgConnection::connect(admin_url).await
        {
            let _ = conn
                .execute(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}

/// `scheme://auth@host:port/db?query` with the database name replaced.
pub fn replace_db_name(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = before_query.split('/').next().unwrap();
    format!("{scheme}://{authority}/{name}{query}")
}

/// A witness served in-process on an ephemeral port.
pub struct InProcess {
    pub base: String,
    pub state: Arc<AppState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start_in_process(
    db_url: &str,
    origins: Vec<OriginLine>,
    clock: Option<u64>,
    name: &str,
) -> InProcess {
    let store = Store::open(db_url, StoreOptions::default()).await.unwrap();
    let clock: Arc<dyn Clock> = match clock {
        Some(t) => Arc::new(FixedClock(t)),
        None => Arc::new(SystemClock),
    };
    let signer = CosignatureSigner::new(name, witness_key()).unwrap();
    let witness = Witness::new(
        signer,
        Origins::new(origins),
        store,
        clock,
        Duration::from_secs(3),
    );
    let state = Arc::new(AppState {
        witness,
        metrics: Metrics::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    InProcess { base, state, task }
}

pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A spawned `nucleus-witness` process, SIGKILLed on drop.
pub struct Spawned {
    pub child: Child,
    pub base: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Spawned {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// Spawns the built binary with `args` (plus `--bind`), waiting until `/healthz` answers.
pub async fn spawn_witness(args: &[String]) -> Spawned {
    let addr = free_addr();
    let child = Command::new(env!("CARGO_BIN_EXE_nucleus-witness"))
        .args(args)
        .arg("--bind")
        .arg(addr.to_string())
        .env_remove("NUCLEUS_WITNESS_SEED_HEX")
        .env_remove("NUCLEUS_WITNESS_DB_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut spawned = Spawned {
        child,
        base: format!("http://{addr}"),
    };
    let client = http();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/healthz", spawned.base)).send().await
            && r.status() == 200
        {
            return spawned;
        }
        if let Some(status) = spawned.child.try_wait().unwrap() {
            panic!("nucleus-witness exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    spawned.kill9();
    panic!("nucleus-witness did not become healthy");
}

/// The standard args for a spawned witness with the scenario seed.
pub fn witness_args(db_url: &str, origins_file: &Path) -> Vec<String> {
    vec![
        "--witness-name".into(),
        "example.com/witness".into(),
        "--witness-seed-hex".into(),
        WITNESS_SEED_HEX.into(),
        "--db-url".into(),
        db_url.into(),
        "--origins-file".into(),
        origins_file.display().to_string(),
    ]
}

/// POSTs a body to `/add-checkpoint`; returns (status, content type, body).
pub async fn post(client: &reqwest::Client, base: &str, body: Vec<u8>) -> (u16, String, String) {
    let r = client
        .post(format!("{base}/add-checkpoint"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}
