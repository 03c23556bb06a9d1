//! Fetch throughput: `nucleus bundle fetch` versus raw iroh-blobs, from the same publisher,
//! in the same run. Prints figures; asserts nothing about speed.
//!
//! Columns, each the median of the runs for one bundle size:
//! - `raw`: raw iroh-blobs in this process, as in the toolchain recipe (fresh endpoint and
//!   MemStore, connect, fetch, read back);
//! - `lib`: this crate's `fetch` in this process (size proof, bao-verified stream into one
//!   buffer), which is what the CLI runs;
//! - `raw proc`: the raw fetch as its own process (this binary re-executed), so process
//!   start and teardown are in the figure as they are for the CLI;
//! - `cli`: the `nucleus bundle fetch --json` process, end to end (start, connect, size
//!   proof, verified transfer, `verify_bundle`, output);
//! - `verify`: `verify_bundle` alone on the same bytes, in this process (part of `cli`).
//!
//! Both processes bind their endpoint the same way (`0.0.0.0:0`, relays and address lookup
//! off) and fetch from the same in-process publisher, interleaved run by run. The goal
//! (issue 7) is `cli` ≥ 80% of raw throughput: `cli/raw` compares the two processes. The
//! load average is printed with the figures: on a shared machine it explains the spread.
//!
//! The CLI binary is `$NUCLEUS_BIN`, else `$CARGO_TARGET_DIR/release/nucleus`; build it
//! first with `cargo build --release -p nucleus-cli`. Without it the CLI column is skipped.

#[path = "support/bundles.rs"]
mod bundles;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use iroh::endpoint::presets;
use iroh::{Endpoint, RelayMode};
use iroh_blobs::store::mem::MemStore;
use iroh_blobs::ticket::BlobTicket;
use nucleus_bundle_cas::{FetchOptions, PublishOptions, Publisher, fetch};

const MIB: usize = 1024 * 1024;
/// Set (to a ticket) when this binary runs as the raw-fetch child process.
const CHILD_ENV: &str = "FETCH_THROUGHPUT_RAW_CHILD";

fn nucleus_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NUCLEUS_BIN") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let p = target.join("release/nucleus");
    p.exists().then_some(p)
}

/// One raw iroh-blobs fetch, as in the toolchain recipe: fresh endpoint and MemStore,
/// connect, fetch, read back. The endpoint is bound like the CLI's (any interface, any port).
async fn raw_fetch(ticket: &BlobTicket) -> usize {
    let ep = Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .clear_address_lookup()
        .clear_ip_transports()
        .bind_addr("0.0.0.0:0")
        .unwrap()
        .bind()
        .await
        .unwrap();
    let store = MemStore::new();
    let conn = ep
        .connect(ticket.addr().clone(), iroh_blobs::ALPN)
        .await
        .unwrap();
    store
        .remote()
        .fetch(conn.clone(), ticket.hash_and_format())
        .complete()
        .await
        .unwrap();
    let bytes = store.get_bytes(ticket.hash()).await.unwrap();
    conn.close(0u32.into(), b"done");
    ep.close().await;
    bytes.len()
}

/// Runs `cmd` to completion; its duration when it succeeded, else its stderr.
fn timed(cmd: &mut Command) -> Result<Duration, String> {
    // No backtrace capture or printing in the children: neither side should pay for it.
    let t = Instant::now();
    let out = cmd
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let elapsed = t.elapsed();
    if out.status.success() {
        Ok(elapsed)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The 1, 5 and 15 minute load averages, as `uptime` prints them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn median(mut v: Vec<Duration>) -> Option<Duration> {
    v.sort();
    v.get(v.len() / 2).copied()
}

fn rate(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

fn cell(bytes: usize, d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| format!("{:.1}", rate(bytes, d)))
}

fn ratio(num: Option<Duration>, den: Option<Duration>) -> String {
    match (num, den) {
        // Throughput ratio = inverse time ratio.
        (Some(fast), Some(slow)) => {
            format!("{:.0}%", 100.0 * fast.as_secs_f64() / slow.as_secs_f64())
        }
        _ => "-".to_owned(),
    }
}

struct Row {
    label: &'static str,
    size: usize,
    raw: Option<Duration>,
    lib: Option<Duration>,
    raw_proc: Option<Duration>,
    cli: Option<Duration>,
    verify: Option<Duration>,
    cli_refusal: Option<String>,
}

async fn measure(
    label: &'static str,
    target: usize,
    runs: usize,
    bin: Option<&Path>,
    anchor: &Path,
) -> Row {
    // Payload sized so the bundle JSON (base64 payload) is about the target size.
    let bytes = bundles::bundle(&bundles::issuer(), 3, target / 4 * 3 - 4096);
    let size = bytes.len();
    let anchor_value = bundles::anchor();
    let publisher = Publisher::start(bytes, PublishOptions::default())
        .await
        .unwrap();
    let ticket_text = publisher.ticket().to_string();
    let ticket: BlobTicket = ticket_text.parse().unwrap();
    let hash = publisher.hash();
    let me = std::env::current_exe().unwrap();

    let (mut raw, mut lib, mut raw_proc, mut cli, mut verify) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut cli_refusal = None;
    // Interleaved, so drift on this shared machine hits every column alike.
    for _ in 0..runs {
        let t = Instant::now();
        assert_eq!(raw_fetch(&ticket).await, size);
        raw.push(t.elapsed());

        let t = Instant::now();
        let got = fetch(publisher.ticket(), &hash, &FetchOptions::default())
            .await
            .unwrap();
        assert_eq!(got.bytes.len(), size);
        lib.push(t.elapsed());

        let t = Instant::now();
        if let Err(e) = nucleus_envelope::verify_bundle(&got.bytes, &anchor_value) {
            panic!("test bundle does not verify: {e}");
        }
        verify.push(t.elapsed());

        raw_proc.push(timed(Command::new(&me).env(CHILD_ENV, &ticket_text)).unwrap());

        if let Some(bin) = bin {
            match timed(
                Command::new(bin)
                    .args(["bundle", "fetch", &ticket_text, &hash.to_hex(), "--json"])
                    .arg("--trust-anchor")
                    .arg(anchor),
            ) {
                Ok(d) => cli.push(d),
                Err(msg) => cli_refusal = Some(msg),
            }
        }
    }
    publisher.shutdown().await;
    Row {
        label,
        size,
        raw: median(raw),
        lib: median(lib),
        raw_proc: median(raw_proc),
        cli: median(cli),
        verify: median(verify),
        cli_refusal,
    }
}

#[tokio::main]
async fn main() {
    if let Ok(ticket) = std::env::var(CHILD_ENV) {
        let ticket: BlobTicket = ticket.parse().unwrap();
        raw_fetch(&ticket).await;
        return;
    }
    let bin = nucleus_bin();
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.json");
    std::fs::write(&anchor, bundles::anchor().to_json()).unwrap();
    match &bin {
        Some(b) => println!("nucleus binary: {}", b.display()),
        None => println!(
            "nucleus binary not found (set NUCLEUS_BIN or build with \
             `cargo build --release -p nucleus-cli`): CLI column skipped"
        ),
    }
    println!("load average before: {}", load_average());
    println!(
        "{:>7} {:>9} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>9} | MiB/s, median",
        "bundle", "bytes", "raw", "lib", "lib/raw", "raw proc", "cli", "cli/raw", "verify ms"
    );
    for (label, target, runs) in [
        ("1 MiB", MIB, 15),
        ("16 MiB", 16 * MIB, 7),
        ("64 MiB", 64 * MIB, 5),
    ] {
        let r = measure(label, target, runs, bin.as_deref(), &anchor).await;
        println!(
            "{:>7} {:>9} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>9}",
            r.label,
            r.size,
            cell(r.size, r.raw),
            cell(r.size, r.lib),
            ratio(r.raw, r.lib),
            cell(r.size, r.raw_proc),
            cell(r.size, r.cli),
            ratio(r.raw_proc, r.cli),
            r.verify.map_or_else(
                || "-".to_owned(),
                |d| format!("{:.1}", d.as_secs_f64() * 1000.0)
            ),
        );
        if let Some(msg) = r.cli_refusal {
            let why = msg.lines().collect::<Vec<_>>().join(" ");
            println!("        nucleus bundle fetch failed: {why}");
        }
    }
    println!(
        "raw/lib: in this process; raw proc/cli: whole processes (start to exit); \
         verify: verify_bundle alone, part of cli"
    );
    println!("load average after: {}", load_average());
}
