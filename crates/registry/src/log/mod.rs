//! The registry's append-only, witness-cosigned log, kept as files in the repository.
//!
//! * [`files`]: the layout on disk;
//! * [`entry`]: the canonical entry bytes (the leaf data);
//! * [`verify`]: `verify-log` (inclusion, consistency, quorum);
//! * [`append`]: which bindings `log-append` adds;
//! * [`cosign`]: submitting checkpoints to witnesses.
//!
//! [`append_and_cosign`] is `log-append`: check the committed log, append the new
//! entries, sign a checkpoint of the whole tree with the log key, have it cosigned, and
//! write the cosigned note. Entries are never removed: if the quorum is not reached the
//! entries and the log-signed checkpoint stay (the witnesses that did cosign have seen
//! them, so dropping them would fork the log), and the next run retries cosigning.

pub mod append;
pub mod cosign;
pub mod entry;
pub mod files;
pub mod verify;

use std::collections::BTreeMap;
use std::path::Path;

use ed25519_dalek::SigningKey;
use nucleus_lineage::policy::Policy;
use nucleus_lineage::{Checkpoint, Note, NoteSigner, Vkey, merkle};

use crate::binding::Binding;
use crate::github_oidc::Attestation;
use append::PlanError;
use cosign::{CosignError, Cosigned};
use files::{FilesError, LogFiles};
use verify::LogError;

/// Why `log-append` failed before or while writing.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The committed log does not verify.
    #[error("the committed log does not verify: {0}")]
    Log(#[from] LogError),
    /// Files could not be written.
    #[error(transparent)]
    Files(#[from] FilesError),
    /// The new entries could not be formed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The log key does not match the log (its name is the origin).
    #[error("log key: {0}")]
    Key(String),
    /// The log does not exist and no origin was given to create it.
    #[error("the registry has no log yet; pass --origin to create it")]
    NoOrigin,
    /// An origin was given that differs from the log's.
    #[error("--origin {given:?} differs from the log's origin {logged:?}")]
    OriginMismatch {
        /// Given.
        given: String,
        /// In the log.
        logged: String,
    },
    /// The pending checkpoint note cannot be re-read.
    #[error("the pending checkpoint note: {0}")]
    PendingNote(String),
    /// Cosigning could not run.
    #[error(transparent)]
    Cosign(#[from] CosignError),
}

/// What `log-append` did.
#[derive(Debug, Clone)]
pub struct AppendReport {
    /// Trust domains appended, in order, with their leaf index.
    pub appended: Vec<(String, u64)>,
    /// The checkpoint size now committed.
    pub size: u64,
    /// The cosigning outcome (`None` when nothing needed cosigning).
    pub cosigned: Option<Cosigned>,
    /// Whether the latest checkpoint holds quorum.
    pub satisfied: bool,
}

/// `log-append`; see the module docs. `origin` is needed only to create the log.
pub async fn append_and_cosign(
    registry_root: &Path,
    registry: &BTreeMap<String, Binding>,
    attestations: &[Attestation],
    log_key: &SigningKey,
    origin: Option<&str>,
    policy: &Policy,
    client: &reqwest::Client,
) -> Result<AppendReport, AppendError> {
    let files = LogFiles::new(registry_root);
    let origin = match (files.exists(), origin) {
        (true, given) => {
            let logged = files.origin()?;
            if let Some(given) = given.filter(|g| *g != logged) {
                return Err(AppendError::OriginMismatch {
                    given: given.to_owned(),
                    logged,
                });
            }
            logged
        }
        (false, Some(origin)) => origin.to_owned(),
        (false, None) => return Err(AppendError::NoOrigin),
    };
    let vkey = Vkey::ed25519(&origin, &log_key.verifying_key())
        .map_err(|e| AppendError::Key(e.to_string()))?;
    // The policy must pin this very key, or verify-log could never accept the result.
    if !policy
        .log_vkeys(&origin)
        .iter()
        .any(|k| k.public_key == vkey.public_key)
    {
        return Err(AppendError::Key(format!(
            "the policy has no `log` line with this log key's public key ({})",
            hex::encode(&vkey.public_key)
        )));
    }
    if !files.exists() {
        files.create(&origin, &vkey.to_string())?;
    }
    let view = verify::inspect(&files, policy)?;

    let new_entries = append::plan(registry, &view.entries, attestations)?;
    let mut leaves = view.leaves.clone();
    let mut appended = Vec::new();
    for entry in &new_entries {
        let index = leaves.len() as u64;
        files.write_entry(index, &entry.to_bytes())?;
        leaves.push(entry.leaf_hash());
        appended.push((entry.binding.metadata.trust_domain.clone(), index));
    }
    let size = leaves.len() as u64;
    let latest = view.checkpoints.last();
    if size == 0 || latest.is_some_and(|c| c.checkpoint.size == size && c.report.satisfied) {
        return Ok(AppendReport {
            appended,
            size,
            cosigned: None,
            satisfied: size == 0 || latest.is_some_and(|c| c.report.satisfied),
        });
    }
    let note = match latest.filter(|c| c.checkpoint.size == size) {
        Some(pending) => {
            Note::parse(&pending.note).map_err(|e| AppendError::PendingNote(e.to_string()))?
        }
        None => {
            let text = Checkpoint {
                origin: origin.clone(),
                size,
                root: merkle::root(&leaves),
                extensions: vec![],
            }
            .to_text();
            let signer = NoteSigner::new(&origin, log_key.clone())
                .map_err(|e| AppendError::Key(e.to_string()))?;
            let note = Note {
                signatures: vec![signer.sign(&text)],
                text,
            };
            files.write_checkpoint(size, &note.to_bytes())?;
            note
        }
    };
    let cosigned = cosign::cosign(client, note, &leaves, &vkey, policy, |w| {
        view.witness_size(w)
    })
    .await?;
    files.write_checkpoint(size, &cosigned.note.to_bytes())?;
    Ok(AppendReport {
        appended,
        size,
        satisfied: cosigned.report.satisfied,
        cosigned: Some(cosigned),
    })
}
