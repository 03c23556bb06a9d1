//! Load benchmark for `POST /add-checkpoint` on loopback: requests per second and p50/p99
//! latency for nucleus-witness on SQLite and on Postgres, with 1 origin and with 100
//! origins, and the same load against litewitness (FiloSottile/torchwood) in the same run.
//!
//! Run: `cargo bench -p nucleus-witness --bench add_checkpoint`. Settings (environment):
//! - `NUCLEUS_BENCH_REQUESTS` (default 2000): requests per scenario.
//! - `NUCLEUS_TEST_POSTGRES_URL`: a Postgres role with CREATEDB (Postgres rows are skipped
//!   without it).
//! - `LITEWITNESS_BIN`, `WITNESSCTL_BIN` (default `/var/cache/nucleus/go-bin/…`, where
//!   `witness-image/bench.sh` installs them from the Go module proxy): the litewitness rows
//!   are skipped, with the reason printed, if either is absent.
//!
//! The durability column is read back, not assumed: the journal mode from each SQLite
//! file's header after the run, Postgres's `synchronous_commit` and `fsync`. SQLite's
//! `synchronous` is a per-connection setting that a file does not record: ours sets FULL;
//! litewitness sets nothing, so it runs with the compile-time default of its SQLite
//! (modernc.org/sqlite, `SQLITE_DEFAULT_WAL_SYNCHRONOUS=2`, i.e. FULL).
//!
//! Every request is a real, valid step: a log appends one leaf, signs the checkpoint and
//! submits it with the consistency proof from the previous size. Each origin is driven by
//! one sequential client (concurrent steps of one log would conflict), so "1 origin" is
//! latency-bound and "100 origins" shows concurrency. A third scenario offers a fixed rate
//! (`NUCLEUS_BENCH_PACED_RPS`, default 1000 req/s over 100 origins) to compare latency at equal
//! load rather than at each server's saturation. Figures are printed, never asserted.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use nucleus_lineage::merkle::{consistency_proof, leaf_hash, root};
use nucleus_lineage::{Checkpoint, Hash, Note, NoteSigner, b64};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

const WITNESS_SEED_HEX: &str = "31ffc2116ecbe003acaa800ab70757bd7d53206e3febef6a6d0796d95530b34f";

/// One log's pre-built request bodies, in order.
struct LogLoad {
    origin: String,
    vkey: String,
    origin_line: String,
    bodies: Vec<Vec<u8>>,
}

fn build_load(origins: usize, total: usize) -> Vec<LogLoad> {
    let per_origin = total.div_ceil(origins);
    (0..origins)
        .map(|o| {
            let origin = format!("bench.example/log-{o}");
            let key = SigningKey::from_bytes(&leaf_hash(origin.as_bytes()));
            let signer = NoteSigner::new(&origin, key).expect("valid key name");
            let leaves: Vec<Hash> = (0..per_origin)
                .map(|i| leaf_hash(format!("{origin} entry {i}").as_bytes()))
                .collect();
            let bodies = (1..=per_origin)
                .map(|size| {
                    let old = size - 1;
                    let proof = if old == 0 {
                        vec![]
                    } else {
                        consistency_proof(&leaves[..size], old as u64).expect("valid sizes")
                    };
                    let text = Checkpoint {
                        origin: origin.clone(),
                        size: size as u64,
                        root: root(&leaves[..size]),
                        extensions: vec![],
                    }
                    .to_text();
                    let note = Note {
                        signatures: vec![signer.sign(&text)],
                        text,
                    };
                    let mut body = format!("old {old}\n").into_bytes();
                    for h in &proof {
                        body.extend_from_slice(b64::encode(h).as_bytes());
                        body.push(b'\n');
                    }
                    body.push(b'\n');
                    body.extend_from_slice(&note.to_bytes());
                    body
                })
                .collect();
            let pk = hex::encode(&signer.vkey().public_key);
            LogLoad {
                origin_line: format!("{origin}|{origin}|{pk}"),
                vkey: signer.vkey().to_string(),
                origin,
                bodies,
            }
        })
        .collect()
}

struct Figures {
    requests: usize,
    non_200: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Sends every origin's bodies in order. Closed loop (`pace` `None`): each origin's client
/// sends its next request when the previous one is answered, so req/s is the maximum
/// throughput. Open loop (`pace` = the total offered rate in req/s): request `i` of origin `o`
/// is due at `start + (i * origins + o) / rate`, and its latency counts from when it was due,
/// so time spent queued behind a slow answer is not hidden (no coordinated omission).
async fn drive(base: &str, load: &[LogLoad], pace: Option<f64>) -> Figures {
    let origins = load.len();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("http client");
    let start = Instant::now();
    let tasks: Vec<_> = load
        .iter()
        .enumerate()
        .map(|(o, l)| {
            let client = client.clone();
            let url = format!("{base}/add-checkpoint");
            let bodies = l.bodies.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(bodies.len());
                let mut bad = 0;
                for (i, body) in bodies.into_iter().enumerate() {
                    let t = match pace {
                        Some(rate) => {
                            let due =
                                start + Duration::from_secs_f64((i * origins + o) as f64 / rate);
                            tokio::time::sleep_until(due.into()).await;
                            due
                        }
                        None => Instant::now(),
                    };
                    let ok = match client.post(&url).body(body).send().await {
                        Ok(r) => {
                            let status = r.status();
                            let _ = r.bytes().await;
                            status == 200
                        }
                        Err(_) => false,
                    };
                    lat.push(t.elapsed());
                    if !ok {
                        bad += 1;
                    }
                }
                (lat, bad)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut non_200 = 0;
    for t in tasks {
        let (lat, bad) = t.await.expect("load task");
        all.extend(lat);
        non_200 += bad;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1000.0
    };
    Figures {
        requests: all.len(),
        non_200,
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_up(server: &mut Server, path: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("server exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {} never answered", server.base);
}

async fn start_nucleus(dir: &Path, db_url: &str, load: &[LogLoad]) -> Server {
    let origins = dir.join("origins.txt");
    let lines: Vec<&str> = load.iter().map(|l| l.origin_line.as_str()).collect();
    std::fs::write(&origins, lines.join("\n")).expect("write origins");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nucleus-witness"))
        .args(["--witness-name", "bench.example/witness"])
        .args(["--witness-seed-hex", WITNESS_SEED_HEX])
        .args(["--db-url", db_url])
        .arg("--origins-file")
        .arg(&origins)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn nucleus-witness");
    let mut s = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    wait_up(&mut s, "/healthz").await;
    s
}

/// Starts litewitness with its key in a private ssh-agent and the logs registered with
/// `witnessctl add-log` / `add-key`, as its documentation describes.
async fn start_litewitness(tools: &LiteWitness, dir: &Path, load: &[LogLoad]) -> (Server, Child) {
    let key = dir.join("witness_key");
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(ok.success());
    let sock = dir.join("agent.sock");
    let agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(Stdio::null())
        .spawn()
        .expect("ssh-agent");
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let ok = Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &sock)
        .stderr(Stdio::null())
        .status()
        .expect("ssh-add");
    assert!(ok.success());
    let fp = Command::new("ssh-keygen")
        .args(["-E", "sha256", "-l", "-f"])
        .arg(key.with_extension("pub"))
        .output()
        .expect("fingerprint");
    let fingerprint = String::from_utf8_lossy(&fp.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_owned();

    let db = dir.join("litewitness.db");
    for l in load {
        witnessctl(&tools.witnessctl, &db, &["add-log", "-origin", &l.origin]);
        witnessctl(
            &tools.witnessctl,
            &db,
            &["add-key", "-origin", &l.origin, "-key", &l.vkey],
        );
    }

    let port = free_port();
    let child = Command::new(&tools.litewitness)
        .arg("-db")
        .arg(&db)
        .args(["-name", "bench.example/litewitness"])
        .arg("-ssh-agent")
        .arg(&sock)
        .args(["-key", &fingerprint])
        .args(["-listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn litewitness");
    let mut s = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    wait_up(&mut s, "/").await;
    (s, agent)
}

async fn fresh_postgres(admin: &str) -> (String, String) {
    let name = format!("nw_bench_{}", std::process::id());
    let mut conn = PgConnection::connect(admin).await.expect("postgres");
    conn.execute(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .await
    .expect("drop");
    conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create");
    let (scheme, rest) = admin.split_once("://").expect("url");
    let authority = rest.split('/').next().expect("authority");
    (format!("{scheme}://{authority}/{name}"), name)
}

async fn drop_postgres(admin: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::connect(admin).await {
        let _ = conn
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
    }
}

/// Runs `witnessctl <args> -db <db>` and fails the bench if it fails.
fn witnessctl(bin: &Path, db: &Path, args: &[&str]) {
    let out = Command::new(bin)
        .args(&args[..1])
        .arg("-db")
        .arg(db)
        .args(&args[1..])
        .output()
        .expect("running witnessctl");
    assert!(
        out.status.success(),
        "witnessctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The litewitness and witnessctl binaries (both from `filippo.io/torchwood`).
struct LiteWitness {
    litewitness: PathBuf,
    witnessctl: PathBuf,
}

impl LiteWitness {
    /// The binaries from `LITEWITNESS_BIN` / `WITNESSCTL_BIN`, by default in
    /// `/var/cache/nucleus/go-bin` (where `witness-image/bench.sh` installs them); `Err`
    /// names the one that is missing.
    fn locate() -> Result<Self, String> {
        let path = |var: &str, name: &str| {
            PathBuf::from(
                std::env::var(var).unwrap_or_else(|_| format!("/var/cache/nucleus/go-bin/{name}")),
            )
        };
        let tools = LiteWitness {
            litewitness: path("LITEWITNESS_BIN", "litewitness"),
            witnessctl: path("WITNESSCTL_BIN", "witnessctl"),
        };
        for bin in [&tools.litewitness, &tools.witnessctl] {
            if !bin.exists() {
                return Err(format!("{} not found", bin.display()));
            }
        }
        Ok(tools)
    }
}

/// The journal mode recorded in an SQLite file's header (bytes 18 and 19 are 2 in WAL
/// mode, 1 with a rollback journal): read from the file, so it is what the server used.
fn sqlite_journal(db: &Path) -> String {
    match std::fs::read(db) {
        Ok(bytes) if bytes.len() >= 20 => match (bytes[18], bytes[19]) {
            (2, 2) => "WAL".to_owned(),
            (1, 1) => "rollback journal".to_owned(),
            (w, r) => format!("unknown header versions {w}/{r}"),
        },
        _ => format!("{} unreadable", db.display()),
    }
}

/// Postgres's commit durability settings, as the server reports them.
async fn postgres_durability(url: &str) -> String {
    let Ok(mut conn) = PgConnection::connect(url).await else {
        return "unknown (connect failed)".to_owned();
    };
    let mut parts = Vec::new();
    for setting in ["synchronous_commit", "fsync"] {
        let value: Result<(String,), _> = sqlx::query_as(AssertSqlSafe(format!("SHOW {setting}")))
            .fetch_one(&mut conn)
            .await;
        parts.push(match value {
            Ok((v,)) => format!("{setting}={v}"),
            Err(_) => format!("{setting}=?"),
        });
    }
    parts.join(" ")
}

fn row(target: &str, origins: usize, load: &str, f: &Figures, durability: &str) {
    println!(
        "{target:<22} {origins:>7} {load:>8} {:>8} {:>9.0} {:>8.2} {:>8.2} {:>7}  {durability}",
        f.requests, f.rps, f.p50_ms, f.p99_ms, f.non_200
    );
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let total: usize = std::env::var("NUCLEUS_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let paced_rate: f64 = std::env::var("NUCLEUS_BENCH_PACED_RPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000.0);
    let postgres = std::env::var("NUCLEUS_TEST_POSTGRES_URL").ok();
    let lite = LiteWitness::locate();

    println!(
        "add-checkpoint on loopback, {total} requests per row, one sequential client per origin; \
         load \"closed\": each client sends when answered (max req/s), \"N/s\": N req/s offered \
         in total, latency counted from when each request was due"
    );
    println!(
        "{:<22} {:>7} {:>8} {:>8} {:>9} {:>8} {:>8} {:>7}  durability",
        "target", "origins", "load", "requests", "req/s", "p50 ms", "p99 ms", "non-200"
    );
    let mut ratios = Vec::new();
    for (origins, pace) in [(1usize, None), (100, None), (100, Some(paced_rate))] {
        let load_label = pace.map_or("closed".to_owned(), |r| format!("{r:.0}/s"));
        let load = build_load(origins, total);
        let mut ours = Vec::new();

        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("witness.db");
        let server = start_nucleus(dir.path(), &format!("sqlite://{}", db.display()), &load).await;
        let f = drive(&server.base, &load, pace).await;
        drop(server);
        let durability = format!(
            "{}, synchronous=FULL (set by the store)",
            sqlite_journal(&db)
        );
        row(
            "nucleus-witness sqlite",
            origins,
            &load_label,
            &f,
            &durability,
        );
        ours.push(("nucleus-witness sqlite", f));

        if let Some(admin) = &postgres {
            let dir = tempfile::tempdir().expect("tempdir");
            let (url, name) = fresh_postgres(admin).await;
            let server = start_nucleus(dir.path(), &url, &load).await;
            let f = drive(&server.base, &load, pace).await;
            drop(server);
            row(
                "nucleus-witness pg",
                origins,
                &load_label,
                &f,
                &postgres_durability(&url).await,
            );
            ours.push(("nucleus-witness pg", f));
            drop_postgres(admin, &name).await;
        } else {
            println!("nucleus-witness pg     skipped: NUCLEUS_TEST_POSTGRES_URL is unset");
        }

        match &lite {
            Ok(tools) => {
                let dir = tempfile::tempdir().expect("tempdir");
                let (server, mut agent) = start_litewitness(tools, dir.path(), &load).await;
                let f = drive(&server.base, &load, pace).await;
                drop(server);
                let _ = agent.kill();
                let _ = agent.wait();
                let durability = format!(
                    "{}, synchronous=FULL (SQLite default)",
                    sqlite_journal(&dir.path().join("litewitness.db"))
                );
                row("litewitness", origins, &load_label, &f, &durability);
                for (target, ours) in &ours {
                    ratios.push(match pace {
                        None => format!(
                            "{target} / litewitness, {origins} origin(s), closed: \
                             {:.2}x the req/s",
                            ours.rps / f.rps
                        ),
                        Some(_) => format!(
                            "{target} / litewitness, {origins} origin(s), {load_label}: \
                             p99 {:.2} ms vs {:.2} ms",
                            ours.p99_ms, f.p99_ms
                        ),
                    });
                }
            }
            Err(reason) => println!("litewitness            skipped: {reason}"),
        }
    }
    for ratio in ratios {
        println!("ratio {ratio}");
    }
}
