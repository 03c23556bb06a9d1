//! `nucleus bundle publish` and `nucleus bundle fetch` as two processes on loopback.

#[path = "../../bundle-cas/benches/support/bundles.rs"]
mod bundles;
#[path = "../../bundle-cas/tests/support/tampering.rs"]
mod tampering;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tampering::{Relay, Tamper};

const NUCLEUS: &str = env!("CARGO_BIN_EXE_nucleus");

/// A running `nucleus bundle publish`, killed on drop.
struct Publisher {
    child: Child,
    hash: String,
    ticket: String,
}

impl Publisher {
    fn start(file: &Path) -> Publisher {
        let mut child = Command::new(NUCLEUS)
            .args(["bundle", "publish"])
            .arg(file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nucleus bundle publish");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = |prefix: &str| {
            let line = lines.next().expect("publisher output").unwrap();
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
                .to_owned()
        };
        let hash = next("blake3-hash: ");
        let ticket = next("node-ticket: ");
        Publisher {
            child,
            hash,
            ticket,
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("anchor.json"), bundles::anchor().to_json()).unwrap();
        Fixture { dir }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn anchor(&self) -> PathBuf {
        self.dir.path().join("anchor.json")
    }

    fn fetch(&self, ticket: &str, hash: &str, extra: &[&str]) -> Output {
        Command::new(NUCLEUS)
            .args(["bundle", "fetch", ticket, hash, "--trust-anchor"])
            .arg(self.anchor())
            .args(extra)
            .args(["--timeout-secs", "30"])
            .output()
            .expect("run nucleus bundle fetch")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn publish_and_fetch_between_two_processes_verifies_provenance() {
    let fx = Fixture::new();
    let bundle = bundles::bundle(&bundles::issuer(), 3, 2000);
    let file = fx.write("bundle.json", &bundle);
    let publisher = Publisher::start(&file);
    assert_eq!(publisher.hash, blake3::hash(&bundle).to_hex().to_string());
    assert!(publisher.ticket.starts_with("blob"), "{}", publisher.ticket);

    let out = fx.dir.path().join("replica.json");
    let output = fx.fetch(
        &publisher.ticket,
        &publisher.hash,
        &["--json", "--out", out.to_str().unwrap()],
    );
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["blake3_hash"], publisher.hash.as_str());
    assert_eq!(doc["size"], bundle.len());
    assert_eq!(doc["provenance_verified"], true);
    assert_eq!(doc["report"]["edge_count"], 3);
    assert_eq!(doc["report"]["cosigners"].as_array().unwrap().len(), 2);
    assert_eq!(doc["report"]["payload_bound"], true);
    assert_eq!(std::fs::read(&out).unwrap(), bundle);

    // Human output with the payload, from the same publisher (it keeps serving).
    let output = fx.fetch(&publisher.ticket, &publisher.hash, &["--show-payload"]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("provenance: VERIFIED"), "{stdout}");
    assert!(stdout.contains("edges: 3"), "{stdout}");
    assert!(stdout.contains("witnesses counted: 2"), "{stdout}");
    let payload: String = (0..2000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    assert!(stdout.contains(&payload), "payload missing from {stdout}");
}

#[test]
fn hash_perfect_forged_bundle_fails_provenance_and_is_not_written() {
    let fx = Fixture::new();
    // Well-formed, signed, logged and cosigned, but by an issuer the anchor does not trust.
    let forged = bundles::bundle(&bundles::forger(), 2, 100);
    let file = fx.write("forged.json", &forged);
    let publisher = Publisher::start(&file);
    let out = fx.dir.path().join("replica.json");

    let output = fx.fetch(
        &publisher.ticket,
        &publisher.hash,
        &["--out", out.to_str().unwrap()],
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("provenance verification FAILED"),
        "{stderr}"
    );
    assert!(
        stderr.contains("byte integrity is not provenance"),
        "{stderr}"
    );
    assert!(stderr.contains("trust_jwks"), "{stderr}");
    assert!(!out.exists(), "a bundle that failed provenance was written");

    let output = fx.fetch(&publisher.ticket, &publisher.hash, &["--json"]);
    assert!(!output.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["bytes_verified"], true);
    assert_eq!(doc["provenance_verified"], false);
    assert_eq!(doc["blake3_hash"], blake3::hash(&forged).to_hex().as_str());
    assert_eq!(doc["error"]["kind"], "unknown_kid");
}

#[test]
fn ticket_for_other_content_is_refused() {
    let fx = Fixture::new();
    let file = fx.write("a.json", &bundles::bundle(&bundles::issuer(), 1, 10));
    let publisher = Publisher::start(&file);
    let other = blake3::hash(b"some other bundle").to_hex().to_string();
    let output = fx.fetch(&publisher.ticket, &other, &[]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("ticket/hash mismatch"), "{stderr}");
}

#[test]
fn trust_anchor_is_mandatory() {
    let hash = blake3::hash(b"x").to_hex().to_string();
    let output = Command::new(NUCLEUS)
        .args(["bundle", "fetch", "blobticket", &hash])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("--trust-anchor"));
}

#[test]
fn malformed_hash_and_ticket_are_refused() {
    let fx = Fixture::new();
    let output = fx.fetch("blobticket", "ABC", &[]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("64 lowercase hex"));

    let hash = blake3::hash(b"x").to_hex().to_string();
    let output = fx.fetch("not-a-ticket", &hash, &[]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("invalid node ticket"));
}

/// Publishes a ~1 MB bundle with `nucleus bundle publish`, puts a relay that applies `tamper`
/// in front of it, and runs `nucleus bundle fetch --out` against the relay's ticket (right
/// hash, right format, only the served bytes differ). Returns the fetch output and whether
/// the output file was written (and then equals the bundle).
async fn fetch_through_relay(tamper: Tamper) -> (Output, bool) {
    let fx = std::sync::Arc::new(Fixture::new());
    let bundle = bundles::bundle(&bundles::issuer(), 3, 750_000);
    let file = fx.write("bundle.json", &bundle);
    let publisher = Publisher::start(&file);
    let relay = Relay::start(&publisher.ticket, tamper).await;
    let out = fx.dir.path().join("replica.json");
    let (ticket, hash, out_arg, fetcher) = (
        relay.ticket(),
        publisher.hash.clone(),
        out.to_str().unwrap().to_owned(),
        fx.clone(),
    );
    // The fetching process runs while this runtime keeps the relay serving.
    let output =
        tokio::task::spawn_blocking(move || fetcher.fetch(&ticket, &hash, &["--out", &out_arg]))
            .await
            .unwrap();
    relay.shutdown().await;
    let written = out.exists();
    if written {
        assert_eq!(std::fs::read(&out).unwrap(), bundle);
    }
    (output, written)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_without_tampering_delivers_a_verified_bundle() {
    // Control for the two tests below: the relay path itself works.
    let (output, written) = fetch_through_relay(Tamper::Nothing).await;
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    assert!(written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn substituted_blob_is_rejected_and_nothing_written() {
    let (output, written) = fetch_through_relay(Tamper::FlipAt(500_000)).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("verified transfer"), "{stderr}");
    assert!(!stderr.contains("provenance"), "{stderr}");
    assert!(!written, "a substituted blob was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_blob_is_rejected_and_nothing_written() {
    let (output, written) = fetch_through_relay(Tamper::CutAt(600_000)).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("verified transfer"), "{stderr}");
    assert!(!written, "a truncated blob was written");
}
