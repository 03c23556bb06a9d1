//! Fetch throughput: raw iroh-blobs vs this crate's `fetch` vs the `nucleus bundle fetch`
//! process, from the same publisher, in the same run. Prints figures; asserts nothing.
//!
//! `nucleus bundle fetch` is timed as a whole process (start, connect, size proof, transfer,
//! BLAKE3 re-check, `verify_bundle`, output). Its binary is `$NUCLEUS_BIN`, else
//! `$CARGO_TARGET_DIR/release/nucleus`; build it first with
//! `cargo build --release -p nucleus-cli`. Without it only the in-process figures print.

#[path = "support/bundles.rs"]
mod bundles;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use iroh::endpoint::presets;
use iroh::{Endpoint, RelayMode};
use iroh_blobs::store::mem::MemStore;
use iroh_blobs::ticket::BlobTicket;
use nucleus_bundle_cas::{FetchOptions, PublishOptions, Publisher, fetch};

const MIB: usize = 1024 * 1024;

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
/// connect, fetch, read back.
async fn raw_fetch(ticket: &BlobTicket) -> usize {
    let ep = Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .clear_address_lookup()
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn rate(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

#[tokio::main]
async fn main() {
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
    println!(
        "{:>8} {:>10} {:>12} {:>12} {:>12} {:>9}",
        "target", "bytes", "raw MiB/s", "lib MiB/s", "cli MiB/s", "cli/raw"
    );
    // Payload sizes chosen so the bundle JSON (base64 payload) is about the target size.
    for (label, target, runs) in [
        ("1 MiB", MIB, 9),
        ("16 MiB", 16 * MIB, 5),
        ("64 MiB", 64 * MIB, 3),
    ] {
        let bytes = bundles::bundle(&bundles::issuer(), 3, target / 4 * 3 - 4096);
        let size = bytes.len();
        let publisher = Publisher::start(bytes, PublishOptions::default())
            .await
            .unwrap();
        let ticket: BlobTicket = publisher.ticket().to_string().parse().unwrap();
        let hash = publisher.hash();

        let mut raw = Vec::new();
        let mut lib = Vec::new();
        let mut cli = Vec::new();
        let mut cli_refusal = None;
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

            if let Some(bin) = &bin {
                let t = Instant::now();
                let out = Command::new(bin)
                    .args(["bundle", "fetch"])
                    .arg(publisher.ticket().to_string())
                    .arg(hash.to_hex())
                    .arg("--trust-anchor")
                    .arg(&anchor)
                    .arg("--json")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .output()
                    .unwrap();
                let elapsed = t.elapsed();
                if out.status.success() {
                    cli.push(elapsed);
                } else {
                    cli_refusal = Some(String::from_utf8_lossy(&out.stderr).trim().to_owned());
                }
            }
        }
        let raw = median(raw);
        let lib = median(lib);
        let (cli_rate, ratio) = if cli.is_empty() {
            ("-".to_owned(), "-".to_owned())
        } else {
            let cli = median(cli);
            (
                format!("{:.1}", rate(size, cli)),
                format!("{:.0}%", 100.0 * raw.as_secs_f64() / cli.as_secs_f64()),
            )
        };
        println!(
            "{label:>8} {size:>10} {:>12.1} {:>12.1} {cli_rate:>12} {ratio:>9}",
            rate(size, raw),
            rate(size, lib),
        );
        if let Some(msg) = cli_refusal {
            println!("         nucleus bundle fetch refused this size: {msg}");
        }
        publisher.shutdown().await;
    }
    println!("(median of the runs; raw = connect + fetch + read back, fresh endpoint each run)");
}
