//! Checking the committed log: every entry canonical, every checkpoint signed by the log
//! key with the root of exactly the first `size` entries, successive checkpoints
//! consistent, and witness quorum by policy.
//!
//! [`inspect`] checks everything except quorum and reports each checkpoint's quorum
//! state; [`verify_log`] also requires the latest checkpoint to hold quorum and to cover
//! every entry (an entry past the latest cosigned checkpoint was not witnessed).
//!
//! Trust comes from the caller's policy only: its `log` line pins the log key (the
//! log's key name is its origin) and its witnesses and quorum decide. The `log.vkey` file
//! in the repository is never used for verification.

use nucleus_lineage::Checkpoint;
use nucleus_lineage::merkle::{self, Hash};
use nucleus_lineage::policy::Policy;
use nucleus_lineage::quorum::{QuorumError, QuorumReport, verify_cosigned_checkpoint};

use super::entry::{EntryError, LogEntry};
use super::files::{FilesError, LogFiles};

/// Why a log fails verification.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Files missing or unreadable, or an unexpected file.
    #[error(transparent)]
    Files(#[from] FilesError),
    /// An entry is invalid.
    #[error("log entry {index}: {source}")]
    Entry {
        /// Its index.
        index: u64,
        /// Why.
        source: EntryError,
    },
    /// A checkpoint note does not verify (bad log signature, not a checkpoint, no log key).
    #[error("checkpoint {size}: {source}")]
    Checkpoint {
        /// The size in its file name.
        size: u64,
        /// Why.
        source: QuorumError,
    },
    /// The file name, origin or size does not match the note.
    #[error("checkpoint {size}: {reason}")]
    Mismatch {
        /// The size in its file name.
        size: u64,
        /// What differs.
        reason: String,
    },
    /// The root is not the root of the first `size` entries: history was rewritten.
    #[error(
        "checkpoint {size}: its root is not the Merkle root of entries 0..{size}; the log's \
         history was rewritten after it was signed"
    )]
    RootMismatch {
        /// The checkpoint size.
        size: u64,
    },
    /// Two successive checkpoints are not consistent.
    #[error("checkpoints {old} and {new} are not consistent: {reason}")]
    Inconsistent {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
        /// Why.
        reason: String,
    },
    /// No checkpoint at all.
    #[error("the log has {0} entries but no checkpoint")]
    NoCheckpoint(u64),
    /// The latest checkpoint lacks quorum.
    #[error("the latest checkpoint (size {size}) is not cosigned to quorum: {reason}")]
    NoQuorum {
        /// Its size.
        size: u64,
        /// The policy's verdict.
        reason: String,
    },
    /// Entries past the latest checkpoint.
    #[error(
        "entries {covered}..{total} are not covered by any cosigned checkpoint (appended \
         out of band or not yet sealed)"
    )]
    Uncovered {
        /// Entries covered by the latest checkpoint.
        covered: u64,
        /// All entries.
        total: u64,
    },
}

/// A checkpoint that passed every check but quorum.
#[derive(Debug, Clone)]
pub struct CheckedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The note bytes as committed.
    pub note: Vec<u8>,
    /// Its quorum report under the caller's policy.
    pub report: QuorumReport,
}

/// The log as read and checked by [`inspect`].
#[derive(Debug, Clone)]
pub struct LogView {
    /// The origin.
    pub origin: String,
    /// The entries, in index order.
    pub entries: Vec<LogEntry>,
    /// Their leaf hashes.
    pub leaves: Vec<Hash>,
    /// The checkpoints, in size order.
    pub checkpoints: Vec<CheckedCheckpoint>,
}

impl LogView {
    /// The latest checkpoint that holds quorum.
    pub fn latest_cosigned(&self) -> Option<&CheckedCheckpoint> {
        self.checkpoints.iter().rev().find(|c| c.report.satisfied)
    }

    /// The largest checkpoint size this policy witness has a verified cosignature on.
    pub fn witness_size(&self, witness: &str) -> u64 {
        self.checkpoints
            .iter()
            .rev()
            .find(|c| c.report.counted.iter().any(|w| w == witness))
            .map_or(0, |c| c.checkpoint.size)
    }
}

/// Reads and checks the log of the registry at `files`; quorum is reported, not required.
pub fn inspect(files: &LogFiles, policy: &Policy) -> Result<LogView, LogError> {
    let origin = files.origin()?;
    let entries = files
        .entries()?
        .iter()
        .zip(0u64..)
        .map(|(bytes, index)| {
            LogEntry::parse(bytes).map_err(|source| LogError::Entry { index, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leaves: Vec<Hash> = entries.iter().map(LogEntry::leaf_hash).collect();
    let total = leaves.len() as u64;

    let mut checkpoints: Vec<CheckedCheckpoint> = Vec::new();
    for (size, note) in files.checkpoints()? {
        let report = verify_cosigned_checkpoint(&note, &[], policy)
            .map_err(|source| LogError::Checkpoint { size, source })?;
        let checkpoint = report.checkpoint.clone();
        let mismatch = |reason: String| LogError::Mismatch { size, reason };
        if checkpoint.size != size {
            return Err(mismatch(format!("the note says size {}", checkpoint.size)));
        }
        if checkpoint.origin != origin {
            return Err(mismatch(format!(
                "origin {:?} is not the log's origin {origin:?}",
                checkpoint.origin
            )));
        }
        if !checkpoint.extensions.is_empty() {
            return Err(mismatch("unexpected extension lines".into()));
        }
        if size > total {
            return Err(mismatch(format!("the log has only {total} entries")));
        }
        let prefix = &leaves[..size as usize];
        if merkle::root(prefix) != checkpoint.root {
            return Err(LogError::RootMismatch { size });
        }
        if let Some(prev) = checkpoints.last().filter(|p| p.checkpoint.size > 0) {
            let old = prev.checkpoint.size;
            let inconsistent = |reason: String| LogError::Inconsistent {
                old,
                new: size,
                reason,
            };
            let proof =
                merkle::consistency_proof(prefix, old).map_err(|e| inconsistent(e.to_string()))?;
            merkle::verify_consistency(old, size, &prev.checkpoint.root, &checkpoint.root, &proof)
                .map_err(|e| inconsistent(e.to_string()))?;
        }
        checkpoints.push(CheckedCheckpoint {
            checkpoint,
            note,
            report,
        });
    }
    Ok(LogView {
        origin,
        entries,
        leaves,
        checkpoints,
    })
}

/// [`inspect`], then requires the latest checkpoint to hold quorum and cover every entry,
/// and checks each entry's inclusion proof against it.
pub fn verify_log(files: &LogFiles, policy: &Policy) -> Result<LogView, LogError> {
    let view = inspect(files, policy)?;
    let total = view.entries.len() as u64;
    let latest = view
        .checkpoints
        .last()
        .ok_or(LogError::NoCheckpoint(total))?;
    if !latest.report.satisfied {
        return Err(LogError::NoQuorum {
            size: latest.checkpoint.size,
            reason: format!(
                "counted {:?}, policy requires {}",
                latest.report.counted,
                policy.describe_quorum()
            ),
        });
    }
    if latest.checkpoint.size != total {
        return Err(LogError::Uncovered {
            covered: latest.checkpoint.size,
            total,
        });
    }
    // Each binding's own inclusion proof against the cosigned root: what a client that
    // holds only one entry and the checkpoint would check.
    for (index, leaf) in (0u64..).zip(&view.leaves) {
        let proof = merkle::inclusion_proof(&view.leaves, index)
            .and_then(|proof| {
                merkle::verify_inclusion(leaf, index, total, &proof, &latest.checkpoint.root)
            })
            .map_err(|e| LogError::Entry {
                index,
                source: EntryError::Shape(format!("inclusion proof: {e}")),
            });
        proof?;
    }
    Ok(view)
}
