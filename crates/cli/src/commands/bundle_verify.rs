//! `nucleus bundle verify`: verify a bundle against an out-of-band trust anchor.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use nucleus_envelope::{TrustAnchor, VerificationReport, verify_bundle};

/// `nucleus bundle verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle file (v1 or v3).
    bundle: PathBuf,
    /// The trust anchor JSON (e.g. from `nucleus policy anchor`).
    #[arg(long)]
    trust_anchor: PathBuf,
    /// Print the report (or the error) as JSON.
    #[arg(long)]
    json: bool,
}

fn print_summary(report: &VerificationReport) {
    println!(
        "OK: {:?} bundle, session {:?}",
        report.format, report.session
    );
    println!(
        "edges: {} (head {})",
        report.edge_count, report.head_hash_hex
    );
    for e in &report.edges {
        println!(
            "  #{} {} {} -> {} [{}]",
            e.index, e.ts, e.kind, e.child, e.kid
        );
    }
    if let Some(log) = &report.log {
        println!(
            "log: {} size {} root {}",
            log.origin.as_deref().unwrap_or("(origin not pinned)"),
            log.size,
            log.root_hex
        );
    }
    for c in &report.cosigners {
        println!(
            "cosigned by {} ({})",
            c.policy_name
                .as_deref()
                .or(c.name.as_deref())
                .unwrap_or("?"),
            c.key_hex
        );
    }
    match report.quorum_satisfied {
        Some(true) => println!("quorum: satisfied"),
        Some(false) => println!("quorum: not satisfied"),
        None => println!("quorum: no policy in the anchor"),
    }
    println!("payload bound: {}", report.payload_bound);
}

/// Verifies and prints the outcome; a failed verification is an error (exit status 1).
pub async fn run(args: Args) -> Result<()> {
    let bundle = std::fs::read(&args.bundle)
        .with_context(|| format!("reading {}", args.bundle.display()))?;
    let anchor_text = std::fs::read_to_string(&args.trust_anchor)
        .with_context(|| format!("reading {}", args.trust_anchor.display()))?;
    let outcome =
        TrustAnchor::from_json(&anchor_text).and_then(|anchor| verify_bundle(&bundle, &anchor));
    match (outcome, args.json) {
        (Ok(report), true) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"ok": true, "report": report}))?
            );
            Ok(())
        }
        (Ok(report), false) => {
            print_summary(&report);
            Ok(())
        }
        (Err(e), true) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"ok": false, "error": e}))?
            );
            bail!("verification failed: {} ({})", e, e.kind())
        }
        (Err(e), false) => bail!("verification FAILED [{}]: {e}", e.kind()),
    }
}
