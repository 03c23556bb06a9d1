//! `nucleus bundle fetch <node_ticket> <blake3_hash> --trust-anchor FILE`: fetch a bundle by
//! its BLAKE3 hash, then verify its provenance against an out-of-band trust anchor.
//!
//! Two separate checks, in this order: the bytes must be exactly the ones the hash names
//! (the bao-verified transfer checks every chunk against it), and then `verify_bundle`
//! must accept them against the anchor. A hash-perfect bundle can still fail the second
//! check. The bytes are held once, verified once, and written only after both checks.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nucleus_bundle_cas::{
    BundleHash, FetchOptions, FetchProgress, Fetched, NodeTicket, fetch_with_progress,
};
use nucleus_envelope::{Jwks, TrustAnchor, VerificationReport, verify_bundle};
use serde_json::json;

/// Fetches at least this big get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 1024 * 1024;

/// Arguments of `nucleus bundle fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The iroh ticket printed by `nucleus bundle publish` (carries the peer's address).
    pub node_ticket: String,
    /// The BLAKE3 hash of the bundle bytes, 64 lowercase hex digits.
    pub blake3_hash: String,
    /// Out-of-band trust anchor: a trust-anchor JSON (as a QuorumPolicy renders it) or a
    /// plain JWKS. The bundle's embedded keys are never trusted.
    #[arg(long)]
    pub trust_anchor: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also print the bundle's payload (after it verified).
    #[arg(long)]
    pub show_payload: bool,
    /// Write the bundle bytes here, only once both checks passed.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
}

/// Loads a trust anchor file: a trust-anchor JSON object, or a bare JWKS (`{"keys":[…]}`),
/// which becomes an anchor trusting exactly those issuer keys.
pub fn load_trust_anchor(path: &Path) -> anyhow::Result<TrustAnchor> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading trust anchor {}", path.display()))?;
    let value = nucleus_json::parse(text.as_bytes())
        .with_context(|| format!("trust anchor {} is not JSON", path.display()))?;
    if value.get("keys").is_some() {
        let jwks = Jwks::parse(&text)
            .with_context(|| format!("trust anchor {} is not a valid JWKS", path.display()))?;
        let anchor = TrustAnchor {
            trust_jwks: Some(jwks),
            ..TrustAnchor::default()
        };
        return Ok(anchor);
    }
    TrustAnchor::from_json(&text)
        .with_context(|| format!("trust anchor {} is not valid", path.display()))
}

/// Fetches, checks bytes, verifies provenance, prints the result.
pub async fn run(args: FetchArgs) -> anyhow::Result<()> {
    let hash: BundleHash = args
        .blake3_hash
        .parse()
        .context("the <blake3_hash> argument")?;
    let ticket: NodeTicket = args
        .node_ticket
        .parse()
        .context("the <node_ticket> argument")?;
    // Load the anchor before touching the network: a fetch without a usable anchor is
    // pointless, since fetched bytes are never trusted by themselves.
    let anchor = load_trust_anchor(&args.trust_anchor)?;
    let options = FetchOptions {
        max_size: Some(nucleus_envelope::MAX_BUNDLE_BYTES as u64),
        timeout: Duration::from_secs(args.timeout_secs),
        ..FetchOptions::default()
    };

    let progress = Progress::new(!args.json && std::io::stderr().is_terminal());
    let fetched = fetch_with_progress(&ticket, &hash, &options, |p| progress.update(p))
        .await
        .with_context(|| format!("fetching bundle {hash}"));
    progress.finish();
    let fetched = fetched?;

    match verify_bundle(&fetched.bytes, &anchor) {
        Ok(report) => {
            if let Some(out) = &args.out {
                write_atomically(out, &fetched.bytes)?;
            }
            print_verified(&args, &fetched, &report)
        }
        Err(err) => {
            if args.json {
                let doc = json!({
                    "ok": false,
                    "blake3_hash": fetched.hash.to_hex(),
                    "size": fetched.bytes.len(),
                    "bytes_verified": true,
                    "provenance_verified": false,
                    "error": err,
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            }
            bail!(
                "provenance verification FAILED: {err}\n\
                 The {} bytes fetched are exactly the bytes addressed by BLAKE3 {} (transport \
                 integrity verified), but byte integrity is not provenance: the bundle is not \
                 trusted by the anchor in {}. Nothing was written.",
                fetched.bytes.len(),
                fetched.hash,
                args.trust_anchor.display()
            )
        }
    }
}

fn print_verified(
    args: &FetchArgs,
    fetched: &Fetched,
    report: &VerificationReport,
) -> anyhow::Result<()> {
    let payload = if args.show_payload {
        Some(payload_bytes(&fetched.bytes)?)
    } else {
        None
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut doc = json!({
            "ok": true,
            "blake3_hash": fetched.hash.to_hex(),
            "size": fetched.bytes.len(),
            "bytes_verified": true,
            "provenance_verified": true,
            "report": report,
        });
        if let Some(p) = &payload {
            doc["payload"] = match p {
                Some(bytes) => json!(String::from_utf8_lossy(bytes)),
                None => serde_json::Value::Null,
            };
        }
        if let Some(path) = &args.out {
            doc["out"] = json!(path.display().to_string());
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "blake3-hash: {} ({} bytes, transport integrity verified)",
        fetched.hash,
        fetched.bytes.len()
    )?;
    writeln!(
        out,
        "provenance: VERIFIED against {}",
        args.trust_anchor.display()
    )?;
    writeln!(out, "  format: {:?}", report.format)?;
    writeln!(out, "  session: {}", report.session)?;
    writeln!(out, "  edges: {}", report.edge_count)?;
    writeln!(out, "  issuer kids: {}", report.kids.join(", "))?;
    if let Some(log) = &report.log {
        writeln!(
            out,
            "  log: {} size {} root {}",
            log.origin.as_deref().unwrap_or("-"),
            log.size,
            log.root_hex
        )?;
    }
    let cosigners: Vec<String> = report
        .cosigners
        .iter()
        .map(|c| c.label().to_owned())
        .collect();
    writeln!(
        out,
        "  witnesses counted: {} [{}] (threshold {})",
        cosigners.len(),
        cosigners.join(", "),
        report.cosignature_threshold
    )?;
    if let Some(q) = report.quorum_satisfied {
        writeln!(out, "  quorum satisfied: {q}")?;
    }
    writeln!(out, "  payload bound: {}", report.payload_bound)?;
    if let Some(path) = &args.out {
        writeln!(out, "  written to: {}", path.display())?;
    }
    if let Some(p) = payload {
        match p {
            Some(bytes) => {
                writeln!(out, "payload:")?;
                out.write_all(&bytes)?;
                writeln!(out)?;
            }
            None => writeln!(out, "payload: (none)")?,
        }
    }
    Ok(())
}

/// The payload of an already verified bundle: v3 carries exact bytes in base64, v1 a JSON
/// value (printed compactly).
fn payload_bytes(bundle: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
    let value: serde_json::Value = serde_json::from_slice(bundle)?;
    if value.get("format").is_some() {
        let Some(data) = value.pointer("/payload/data_b64").and_then(|v| v.as_str()) else {
            return Ok(None);
        };
        let bytes = nucleus_lineage::b64::decode_canonical(data)
            .map_err(|e| anyhow::anyhow!("payload data_b64: {e}"))?;
        return Ok(Some(bytes));
    }
    match value.get("payload") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(p) => Ok(Some(serde_json::to_vec(p)?)),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// A progress bar on stderr for large fetches on a terminal; inert otherwise.
struct Progress {
    enabled: bool,
    bar: ProgressBar,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            bar: ProgressBar::hidden(),
        }
    }

    fn update(&self, p: FetchProgress) {
        if !self.enabled {
            return;
        }
        match p {
            FetchProgress::Size(size) if size >= PROGRESS_MIN_BYTES => {
                self.bar.set_length(size);
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} fetching {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec} {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                self.bar
                    .set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            FetchProgress::Size(_) => {}
            FetchProgress::Received(n) => self.bar.set_position(n),
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
