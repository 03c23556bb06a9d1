//! The one entry point that ties the formats together: verify a cosigned checkpoint note
//! against a log key set and a witness [`Policy`], and say whether the quorum holds.
//!
//! Steps of [`verify_cosigned_checkpoint`]:
//! 1. Parse the note (c2sp.org/signed-note) and its text as a checkpoint.
//! 2. Verify the log signature with signed-note rules ([`Note::verify`]) against the log keys:
//!    the caller's `log_keys` plus the policy's `log` lines for this origin
//!    ([`Policy::log_vkeys`]). A hex (Sigsum) policy log key is named after the checkpoint
//!    origin, because a raw key has no name; a log that signs under another key name must
//!    be given as a vkey in `log_keys`. A policy log vkey applies only when its name equals
//!    the origin. A bad signature from a known log key rejects the note, and so does the
//!    absence of any verified log signature.
//! 3. Match every other signature line to the policy's witnesses:
//!    - vkey witness (C2SP tlog-policy): the line's name and key ID must both equal the
//!      vkey's;
//!    - hex witness (Sigsum): the line's name is free, but the key ID recomputed from that
//!      name, type 0x04 and the witness key must equal the line's key ID (so a line renamed
//!      without recomputing its key ID matches nothing, while a witness signing under an
//!      alias name still counts: vector `c13`).
//!
//!    Lines matching no witness are ignored and listed in [`QuorumReport::unknown`].
//! 4. Verify each matched line as a cosignature (`cosignature/v1` for 0x04 keys,
//!    `subtree/v1` ML-DSA-44 for 0x06 keys). A witness counts once however many of its
//!    lines verify.
//! 5. Evaluate the policy over the witnesses that counted.
//!
//! **Invalid cosignatures from known witnesses.** By default ([`InvalidCosignatures::Ignore`],
//! Sigsum's behaviour) such a line does not count and is reported in
//! [`QuorumReport::invalid`], but does not make the note fail: a witness's broken line
//! cannot veto a quorum the other witnesses reach, and every counted witness still had to
//! produce a valid signature. [`InvalidCosignatures::Reject`] applies the strict
//! signed-note reading instead (known key, bad signature: reject the whole note).
//!
//! This module does no I/O and reads no clock: cosignature timestamps are reported in
//! [`QuorumReport::timestamps`] for the caller's freshness policy.

use std::collections::{BTreeMap, BTreeSet};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::cosignature::{CosignatureError, verify_cosignature};
use crate::policy::{Policy, PolicyKey, PolicyWitness};
use crate::quoted::{Quoted, QuotedList};
use crate::signed_note::{Note, NoteError, NoteSignature};
use crate::vkey::{KeyType, Vkey, key_id};

/// What to do with a cosignature line that matches a policy witness but does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidCosignatures {
    /// Do not count it, list the witness in [`QuorumReport::invalid`] (Sigsum behaviour).
    #[default]
    Ignore,
    /// Reject the whole note with [`QuorumError::InvalidCosignature`] (strict signed-note).
    Reject,
}

/// The outcome of verifying a cosigned checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumReport {
    /// The checkpoint, whose log signature verified.
    pub checkpoint: Checkpoint,
    /// Names of the log keys whose signature verified.
    pub log_signatures: Vec<String>,
    /// Policy names of the witnesses with at least one verified cosignature, in policy
    /// order, each once.
    pub counted: Vec<String>,
    /// Policy names of the witnesses with at least one matching line that did not verify,
    /// in policy order (a witness can be both here and in `counted` if it also had a valid
    /// line).
    pub invalid: Vec<String>,
    /// Key names on signature lines that matched neither a log key nor a witness, each once,
    /// in note order.
    pub unknown: Vec<String>,
    /// For each counted witness (policy name), the timestamp of its first verified
    /// cosignature.
    pub timestamps: BTreeMap<String, u64>,
    /// Whether the policy's quorum holds with the counted witnesses.
    pub satisfied: bool,
}

impl QuorumReport {
    /// The report if the quorum holds, [`QuorumError::NotSatisfied`] otherwise.
    pub fn require_satisfied(self) -> Result<QuorumReport, QuorumError> {
        if self.satisfied {
            Ok(self)
        } else {
            Err(QuorumError::NotSatisfied {
                counted: self.counted,
            })
        }
    }
}

/// Why a cosigned checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    /// The note is not a well-formed signed note.
    #[error("malformed note: {0}")]
    Note(NoteError),
    /// The note text is not a checkpoint.
    #[error("note text is not a checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// Neither the caller nor the policy supplied a key for this log.
    #[error("no log key for origin {}; expected a policy `log` line or a log vkey", Quoted(.origin))]
    NoLogKeys {
        /// The checkpoint's origin.
        origin: String,
    },
    /// The log signature is missing or invalid.
    #[error("log signature: {0}")]
    LogSignature(NoteError),
    /// Strict mode: a line matching a policy witness did not verify.
    #[error("invalid cosignature from witness {} (line {line_name}+{key_id:08x}): {reason}", Quoted(.witness))]
    InvalidCosignature {
        /// Policy name of the witness.
        witness: String,
        /// Key name on the line.
        line_name: String,
        /// Key ID on the line.
        key_id: u32,
        /// Why it did not verify.
        reason: CosignatureError,
    },
    /// [`QuorumReport::require_satisfied`] on a report whose quorum does not hold.
    #[error("witness quorum not satisfied (counted: {})", QuotedList(.counted))]
    NotSatisfied {
        /// Policy names of the witnesses that counted.
        counted: Vec<String>,
    },
}

/// Verifies a cosigned checkpoint note against log keys and a witness policy, ignoring (and
/// reporting) invalid cosignatures from known witnesses. See the module docs.
///
/// An `Ok` report may still say `satisfied: false`; use
/// [`QuorumReport::require_satisfied`] to turn that into an error.
pub fn verify_cosigned_checkpoint(
    note: &[u8],
    log_keys: &[Vkey],
    policy: &Policy,
) -> Result<QuorumReport, QuorumError> {
    verify_cosigned_checkpoint_with(note, log_keys, policy, InvalidCosignatures::Ignore)
}

/// [`verify_cosigned_checkpoint`] with an explicit choice for invalid cosignatures.
pub fn verify_cosigned_checkpoint_with(
    note: &[u8],
    log_keys: &[Vkey],
    policy: &Policy,
    invalid_mode: InvalidCosignatures,
) -> Result<QuorumReport, QuorumError> {
    let note = Note::parse(note).map_err(QuorumError::Note)?;
    let checkpoint = Checkpoint::parse(&note.text)?;

    let mut keys = log_keys.to_vec();
    keys.extend(policy.log_vkeys(&checkpoint.origin));
    if keys.is_empty() {
        return Err(QuorumError::NoLogKeys {
            origin: checkpoint.origin,
        });
    }
    let log_signatures = note
        .verify(&keys)
        .map_err(QuorumError::LogSignature)?
        .into_iter()
        .map(|v| v.name)
        .collect();
    let is_log_line = |sig: &NoteSignature| {
        keys.iter()
            .any(|k| k.name == sig.name && k.key_id == sig.key_id)
    };

    let mut timestamps: BTreeMap<String, u64> = BTreeMap::new();
    let mut invalid: BTreeSet<&str> = BTreeSet::new();
    let mut unknown: Vec<String> = Vec::new();
    for sig in note.signatures.iter().filter(|s| !is_log_line(s)) {
        let candidates: Vec<(&PolicyWitness, Vkey)> = policy
            .witnesses
            .iter()
            .filter_map(|w| witness_vkey_for_line(w, sig).map(|v| (w, v)))
            .collect();
        if candidates.is_empty() {
            if !unknown.contains(&sig.name) {
                unknown.push(sig.name.clone());
            }
            continue;
        }
        let mut failures = Vec::new();
        let mut verified = false;
        for (witness, vkey) in &candidates {
            match verify_cosignature(vkey, sig, &note.text) {
                Ok(timestamp) => {
                    verified = true;
                    timestamps.entry(witness.name.clone()).or_insert(timestamp);
                }
                Err(reason) => failures.push((*witness, reason)),
            }
        }
        if verified {
            continue;
        }
        for (witness, reason) in failures {
            if invalid_mode == InvalidCosignatures::Reject {
                return Err(QuorumError::InvalidCosignature {
                    witness: witness.name.clone(),
                    line_name: sig.name.clone(),
                    key_id: sig.key_id,
                    reason,
                });
            }
            invalid.insert(witness.name.as_str());
        }
    }

    let counted_set: BTreeSet<String> = timestamps.keys().cloned().collect();
    let in_policy_order = |set: &dyn Fn(&str) -> bool| -> Vec<String> {
        policy
            .witnesses
            .iter()
            .filter(|w| set(&w.name))
            .map(|w| w.name.clone())
            .collect()
    };
    Ok(QuorumReport {
        satisfied: policy.is_satisfied(&counted_set),
        counted: in_policy_order(&|n| counted_set.contains(n)),
        invalid: in_policy_order(&|n| invalid.contains(n)),
        unknown,
        timestamps,
        log_signatures,
        checkpoint,
    })
}

/// The cosignature vkey under which `sig` would come from `witness`, if the line is the
/// witness's by the matching rule of the key's syntax (see the module docs).
fn witness_vkey_for_line(witness: &PolicyWitness, sig: &NoteSignature) -> Option<Vkey> {
    match &witness.key {
        PolicyKey::Vkey(vkey) => {
            (vkey.name == sig.name && vkey.key_id == sig.key_id).then(|| vkey.clone())
        }
        PolicyKey::Hex(public_key) => {
            let id = key_id(&sig.name, KeyType::Cosignature, public_key);
            (id == sig.key_id).then(|| Vkey {
                name: sig.name.clone(),
                key_id: id,
                key_type: KeyType::Cosignature,
                public_key: public_key.to_vec(),
            })
        }
    }
}
