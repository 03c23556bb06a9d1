//! `nucleus bundle export`: a session as a v3 bundle, with inclusion proofs against the
//! latest (cosigned) checkpoint, sealed by the issuer key.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use nucleus_envelope::kid_for;
use nucleus_envelope::v3::{BundleV3, FORMAT_V3, InclusionV3, LogProofV3, PayloadV3, seal};
use nucleus_lineage::{Note, merkle};

use crate::keys::{self, Role};
use crate::store::Store;

/// `nucleus bundle export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log directory.
    #[arg(long)]
    dir: PathBuf,
    /// The session to export.
    #[arg(long)]
    session: String,
    /// Where to write the bundle.
    #[arg(long)]
    out: PathBuf,
    /// A payload file to carry (its bytes and media type are covered by the seal).
    #[arg(long)]
    payload: Option<PathBuf>,
    /// The payload's media type.
    #[arg(long, default_value = "application/json")]
    media_type: String,
}

/// Exports the bundle.
pub async fn run(args: Args) -> Result<()> {
    let store = Store::open(&args.dir, false).await?;
    let edges = store.session_edges(&args.session).await?;
    if edges.is_empty() {
        bail!("session {:?} has no edges in this log", args.session);
    }
    let (size, note) = store
        .latest_checkpoint()
        .await?
        .context("the log has no checkpoint: run `nucleus log cosign` (or `log checkpoint`)")?;
    let last = edges.iter().map(|e| e.leaf_index).max().unwrap_or(0);
    if last >= size {
        bail!(
            "the latest checkpoint (size {size}) does not cover the session's last leaf \
             ({last}): run `nucleus log cosign` first"
        );
    }
    let cosigners = Note::parse(note.as_bytes())?
        .signatures
        .len()
        .saturating_sub(1);
    let leaves = store.leaf_hashes(size).await?;
    let inclusion = edges
        .iter()
        .map(|e| {
            Ok(InclusionV3 {
                leaf_index: e.leaf_index,
                proof_hex: merkle::inclusion_proof(&leaves, e.leaf_index)?
                    .iter()
                    .map(hex::encode)
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let head = edges.last().map(|e| e.edge_hash).unwrap_or_default();
    let data = match &args.payload {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    let payload = data.as_deref().map(|d| (args.media_type.as_str(), d));
    let issuer = keys::load(Role::Issuer, &args.dir)?;
    let kid = kid_for(&issuer.verifying_key());
    let seal = seal(
        &args.session,
        edges.len() as u64,
        &head,
        payload,
        &kid,
        &issuer,
    );
    let bundle = BundleV3 {
        format: FORMAT_V3.to_owned(),
        session: args.session.clone(),
        edges: edges.into_iter().map(|e| e.edge).collect(),
        log: LogProofV3 {
            checkpoint: note,
            inclusion,
        },
        payload: payload.map(|(media_type, d)| PayloadV3::new(media_type, d)),
        seal,
    };
    let mut bytes = serde_json::to_vec_pretty(&bundle)?;
    bytes.push(b'\n');
    std::fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "exported {} edge(s) of session {:?} at checkpoint size {size} with {cosigners} cosignature(s) to {}",
        bundle.edges.len(),
        args.session,
        args.out.display()
    );
    Ok(())
}
