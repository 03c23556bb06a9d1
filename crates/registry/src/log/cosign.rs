//! Getting a checkpoint cosigned by the policy's witnesses over HTTP (C2SP tlog-witness),
//! using the pure protocol steps of [`nucleus_lineage::tlog_witness`].
//!
//! Every witness with a URL is asked (a registry wants as many independent cosignatures
//! as it can get, not just the quorum). A witness's returned lines are kept only if they
//! make that witness count under the policy, so the committed note never carries a line
//! that does not verify.

use std::time::Duration;

use nucleus_lineage::merkle::{self, Hash};
use nucleus_lineage::policy::Policy;
use nucleus_lineage::quorum::{QuorumError, QuorumReport, verify_cosigned_checkpoint};
use nucleus_lineage::tlog_witness::{self, BadCosignatureLine, Outcome};
use nucleus_lineage::{Note, Vkey};

/// Why cosigning could not run at all (a witness refusing is an outcome, not an error).
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Client(reqwest::Error),
    /// The note does not verify under the policy and log key.
    #[error("the checkpoint note does not verify: {0}")]
    Note(#[from] QuorumError),
}

/// What one witness did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessResult {
    /// It cosigned and its cosignature verified.
    Cosigned,
    /// Its earlier cosignature on this checkpoint is already in the note.
    Already,
    /// It has no URL in the policy.
    NoUrl,
    /// It refused, could not be reached, or answered something that does not verify.
    Failed(String),
}

/// The outcome of cosigning.
#[derive(Debug, Clone)]
pub struct Cosigned {
    /// The note with every verified cosignature.
    pub note: Note,
    /// Its quorum report.
    pub report: QuorumReport,
    /// Each policy witness, in policy order, with what it did.
    pub witnesses: Vec<(String, WitnessResult)>,
}

/// Builds the HTTP client (rustls with ring, for https witness URLs).
pub fn http_client() -> Result<reqwest::Client, CosignError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(CosignError::Client)
}

#[derive(Debug, thiserror::Error)]
enum SubmitError {
    #[error("POST {endpoint}: {source}")]
    Http {
        endpoint: String,
        source: reqwest::Error,
    },
    #[error(transparent)]
    Lines(#[from] BadCosignatureLine),
    #[error("consistency proof from {old}: {reason}")]
    Proof { old: u64, reason: String },
}

async fn submit(
    client: &reqwest::Client,
    url: &str,
    old: u64,
    leaves: &[Hash],
    note: &str,
) -> Result<(Outcome, u64), SubmitError> {
    let endpoint = &format!("{}/add-checkpoint", url.trim_end_matches('/'));
    let http = |source| SubmitError::Http {
        endpoint: endpoint.clone(),
        source,
    };
    let proof_from = |old| {
        merkle::consistency_proof(leaves, old).map_err(|e| SubmitError::Proof {
            old,
            reason: e.to_string(),
        })
    };
    tlog_witness::submit(
        old,
        leaves.len() as u64,
        note,
        proof_from,
        move |body| async move {
            let response = client
                .post(endpoint)
                .header("content-type", "text/plain; charset=utf-8")
                .body(body)
                .send()
                .await
                .map_err(http)?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await.map_err(http)?;
            Ok((status, bytes.to_vec()))
        },
    )
    .await
}

/// Asks every policy witness to cosign `note` (a checkpoint of `leaves`, signed by the
/// log). `old_size(witness)` is the size that witness is known to have cosigned.
pub async fn cosign(
    client: &reqwest::Client,
    mut note: Note,
    leaves: &[Hash],
    log_vkey: &Vkey,
    policy: &Policy,
    old_size: impl Fn(&str) -> u64,
) -> Result<Cosigned, CosignError> {
    let log_keys = [log_vkey.clone()];
    let mut report = verify_cosigned_checkpoint(&note.to_bytes(), &log_keys, policy)?;
    // Witnesses get the log-signed note alone, as the producer would send it.
    let log_only = Note {
        text: note.text.clone(),
        signatures: note
            .signatures
            .iter()
            .filter(|s| s.name == log_vkey.name && s.key_id == log_vkey.key_id)
            .cloned()
            .collect(),
    };
    let text = String::from_utf8_lossy(&log_only.to_bytes()).into_owned();
    let mut witnesses = Vec::new();
    for witness in &policy.witnesses {
        if report.counted.contains(&witness.name) {
            witnesses.push((witness.name.clone(), WitnessResult::Already));
            continue;
        }
        let Some(url) = &witness.url else {
            witnesses.push((witness.name.clone(), WitnessResult::NoUrl));
            continue;
        };
        let result = match submit(client, url, old_size(&witness.name), leaves, &text).await {
            Ok((Outcome::Cosigned(lines), _)) => {
                let mut candidate = note.clone();
                for line in lines {
                    if !candidate.signatures.contains(&line) {
                        candidate.signatures.push(line);
                    }
                }
                match verify_cosigned_checkpoint(&candidate.to_bytes(), &log_keys, policy) {
                    Ok(updated) if updated.counted.contains(&witness.name) => {
                        note = candidate;
                        report = updated;
                        WitnessResult::Cosigned
                    }
                    Ok(_) => WitnessResult::Failed(format!(
                        "{url}: the answer holds no valid cosignature by its key"
                    )),
                    Err(e) => WitnessResult::Failed(format!("{url}: {e}")),
                }
            }
            Ok((Outcome::Refused(reason), _)) => WitnessResult::Failed(format!("{url}: {reason}")),
            Err(e) => WitnessResult::Failed(format!("unreachable: {e}")),
        };
        witnesses.push((witness.name.clone(), result));
    }
    Ok(Cosigned {
        note,
        report,
        witnesses,
    })
}
