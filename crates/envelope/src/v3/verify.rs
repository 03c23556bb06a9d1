//! v2 verification: edges and chain, the log-signed checkpoint, inclusion of every edge,
//! witness cosignatures against the anchor's keys and policy, and the payload binding.

use std::collections::BTreeSet;

use ed25519_dalek::Signature;
use nucleus_lineage::b64;
use nucleus_lineage::checkpoint::Checkpoint;
use nucleus_lineage::cosignature::verify_cosignature;
use nucleus_lineage::merkle::{self, Hash};
use nucleus_lineage::quorum::verify_cosigned_checkpoint;
use nucleus_lineage::signed_note::Note;
use nucleus_lineage::vkey::{KeyType, Vkey, key_id};
use sha2::{Digest, Sha256};

use super::encoding::{binding_message, encode_wire};
use super::model::{BundleV2, FORMAT_V2};
use crate::anchor::ResolvedAnchor;
use crate::error::{BundleError, EdgeFault};
use crate::report::{
    BundleFormat, ReportedCosigner, ReportedEdge, ReportedLog, VerificationReport,
};
use crate::rfc3339::Instant;
use crate::{MAX_COSIGNATURES, MAX_EDGES};

/// A tree of at most 2^64 leaves has inclusion proofs of at most 64 hashes.
const MAX_V2_PROOF_HASHES: usize = 64;

fn decode_sig(s: &str) -> Option<Signature> {
    let bytes = b64::decode_canonical(s).ok()?;
    let bytes: [u8; 64] = bytes.as_slice().try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

fn lower_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(s).ok()?.as_slice().try_into().ok()
}

/// Verifies a parsed v2 bundle against a resolved anchor.
pub(crate) fn verify(
    bundle: &BundleV2,
    anchor: &ResolvedAnchor,
) -> Result<VerificationReport, BundleError> {
    if bundle.format != FORMAT_V2 {
        return Err(BundleError::UnsupportedFormat(bundle.format.clone()));
    }
    if bundle.edges.len() > MAX_EDGES {
        return Err(BundleError::TooLarge {
            what: "edges",
            limit: MAX_EDGES,
        });
    }
    if bundle
        .log
        .inclusion
        .iter()
        .any(|p| p.proof_hex.len() > MAX_V2_PROOF_HASHES)
    {
        return Err(BundleError::TooLarge {
            what: "inclusion proof hashes",
            limit: MAX_V2_PROOF_HASHES,
        });
    }
    let origin = anchor.origin.as_deref().ok_or_else(|| {
        BundleError::InvalidTrustAnchor("origin is required to verify v2 bundles".into())
    })?;
    if bundle.edges.is_empty() && !anchor.allow_empty {
        return Err(BundleError::EmptyEnvelope);
    }

    // Edges: every field signed by a key from the anchor, chained by hash.
    let session = &bundle.session;
    let mut prev = [0u8; 32];
    let mut edges = Vec::with_capacity(bundle.edges.len());
    let mut leaves: Vec<Hash> = Vec::with_capacity(bundle.edges.len());
    for (index, edge) in bundle.edges.iter().enumerate() {
        let fail = |fault| BundleError::edge(index, fault);
        let malformed = |m: String| fail(EdgeFault::Malformed(m));
        if edge.seq != index as u64 {
            return Err(malformed(format!("seq {} at position {index}", edge.seq)));
        }
        let ts = Instant::parse(&edge.ts).map_err(|e| malformed(e.to_string()))?;
        if ts.to_canonical_string() != edge.ts {
            return Err(malformed(format!(
                "ts {:?} is not canonical (expected {:?})",
                edge.ts,
                ts.to_canonical_string()
            )));
        }
        let content = match &edge.content_sha256_hex {
            Some(h) => Some(lower_hex32(h).ok_or_else(|| {
                malformed("content_sha256_hex must be 64 lowercase hex digits".into())
            })?),
            None => None,
        };
        let sig = decode_sig(&edge.sig).ok_or_else(|| fail(EdgeFault::BadSignatureEncoding))?;
        let key = anchor.jwks.resolve(&edge.kid, Some(&ts)).map_err(fail)?;
        let bytes = encode_wire(edge, content.as_ref(), session, &prev);
        key.verify_strict(&bytes, &sig)
            .map_err(|_| fail(EdgeFault::BadSignature))?;
        let hash: [u8; 32] = Sha256::digest(&bytes).into();
        leaves.push(merkle::leaf_hash(&hash));
        edges.push(ReportedEdge {
            index,
            child: edge.child.clone(),
            parents: edge.parents.clone(),
            kind: edge.kind.clone(),
            content_hash_hex: edge.content_sha256_hex.clone(),
            ts: edge.ts.clone(),
            attrs: edge.attrs.clone(),
            kid: edge.kid.clone(),
            edge_hash_hex: hex::encode(hash),
        });
        prev = hash;
    }
    let head = (!edges.is_empty()).then_some(prev);

    // The checkpoint: our origin, signed by a pinned log key.
    let note_bytes = bundle.log.checkpoint.as_bytes();
    let note = Note::parse(note_bytes).map_err(|e| BundleError::BadCheckpoint(e.to_string()))?;
    if note.signatures.len() > MAX_COSIGNATURES + 1 {
        return Err(BundleError::TooLarge {
            what: "checkpoint signatures",
            limit: MAX_COSIGNATURES + 1,
        });
    }
    let checkpoint =
        Checkpoint::parse(&note.text).map_err(|e| BundleError::BadCheckpoint(e.to_string()))?;
    if checkpoint.origin != origin {
        return Err(BundleError::OriginMismatch {
            expected: origin.to_owned(),
            found: checkpoint.origin.clone(),
        });
    }
    let log_keys = anchor.log_vkeys(origin)?;
    if log_keys.is_empty() {
        return Err(BundleError::MissingLogKey);
    }
    let quorum = match &anchor.policy {
        Some(policy) => Some(
            verify_cosigned_checkpoint(note_bytes, &log_keys, policy)
                .map_err(|e| BundleError::BadCheckpoint(e.to_string()))?,
        ),
        None => {
            note.verify(&log_keys).map_err(|e| {
                BundleError::BadCheckpoint(format!("not signed by a pinned log key: {e}"))
            })?;
            None
        }
    };

    // Inclusion of every edge.
    if bundle.log.inclusion.len() != leaves.len() {
        return Err(BundleError::InclusionFailed {
            index: bundle.log.inclusion.len().min(leaves.len()),
            reason: format!(
                "{} inclusion proofs for {} edges",
                bundle.log.inclusion.len(),
                leaves.len()
            ),
        });
    }
    let mut seen = BTreeSet::new();
    for (index, (inc, leaf)) in bundle.log.inclusion.iter().zip(&leaves).enumerate() {
        let fail = |reason: String| BundleError::InclusionFailed { index, reason };
        if inc.leaf_index >= checkpoint.size {
            return Err(fail(format!(
                "leaf_index {} is not below the checkpoint size {}",
                inc.leaf_index, checkpoint.size
            )));
        }
        if !seen.insert(inc.leaf_index) {
            return Err(fail(format!("duplicate leaf_index {}", inc.leaf_index)));
        }
        let path = inc
            .proof_hex
            .iter()
            .map(|h| {
                lower_hex32(h)
                    .ok_or_else(|| fail(format!("proof hash {h:?} is not 64 lowercase hex")))
            })
            .collect::<Result<Vec<Hash>, _>>()?;
        merkle::verify_inclusion(
            leaf,
            inc.leaf_index,
            checkpoint.size,
            &path,
            &checkpoint.root,
        )
        .map_err(|e| fail(e.to_string()))?;
    }

    // Cosignatures from trusted witness keys, each key counted once.
    let mut matched = vec![false; anchor.witnesses.len()];
    let mut cosigners = Vec::new();
    for sig in &note.signatures {
        for (i, w) in anchor.witnesses.iter().enumerate() {
            if matched[i] || key_id(&sig.name, KeyType::Cosignature, w.key.as_bytes()) != sig.key_id
            {
                continue;
            }
            let Ok(vkey) = Vkey::cosignature(&sig.name, &w.key) else {
                continue;
            };
            if let Ok(timestamp) = verify_cosignature(&vkey, sig, &note.text) {
                matched[i] = true;
                cosigners.push(ReportedCosigner {
                    name: Some(sig.name.clone()),
                    policy_name: w.policy_name.clone(),
                    key_hex: hex::encode(w.key.as_bytes()),
                    timestamp: Some(timestamp),
                });
                break;
            }
        }
    }
    if cosigners.len() < anchor.threshold {
        return Err(BundleError::InsufficientCosignatures {
            verified: cosigners.len(),
            required: anchor.threshold,
        });
    }
    let quorum_satisfied = match quorum {
        Some(report) if !report.satisfied => {
            return Err(BundleError::QuorumNotSatisfied {
                counted: report.counted,
            });
        }
        Some(_) => Some(true),
        None => None,
    };

    // Payload binding.
    let payload_sha256_hex = verify_binding(bundle, anchor, head)?;

    let kids: BTreeSet<String> = edges.iter().map(|e| e.kid.clone()).collect();
    Ok(VerificationReport {
        format: BundleFormat::V2,
        session: session.clone(),
        trust_domain: None,
        edge_count: edges.len(),
        edges,
        head_hash_hex: head.map(hex::encode).unwrap_or_default(),
        kids: kids.into_iter().collect(),
        log: Some(ReportedLog {
            origin: Some(checkpoint.origin.clone()),
            size: checkpoint.size,
            root_hex: hex::encode(checkpoint.root),
            leaf_indices: bundle.log.inclusion.iter().map(|i| i.leaf_index).collect(),
        }),
        cosigners,
        cosignature_threshold: anchor.threshold,
        quorum_satisfied,
        payload_bound: payload_sha256_hex.is_some(),
        payload_sha256_hex,
    })
}

/// Checks the payload binding; returns the bound payload's SHA-256 (hex) when one verified.
fn verify_binding(
    bundle: &BundleV2,
    anchor: &ResolvedAnchor,
    head: Option<[u8; 32]>,
) -> Result<Option<String>, BundleError> {
    let bad = |m: String| BundleError::BadPayloadBinding(m);
    match (&bundle.payload, &bundle.binding) {
        (Some(payload), Some(binding)) => {
            let head =
                head.ok_or_else(|| bad("a bundle without edges has no head to bind".into()))?;
            let data = b64::decode_canonical(&payload.data_b64)
                .map_err(|e| bad(format!("payload data_b64: {e}")))?;
            let digest: [u8; 32] = Sha256::digest(&data).into();
            let key = anchor
                .jwks
                .resolve(&binding.kid, None)
                .map_err(|e| bad(e.to_string()))?;
            let sig = decode_sig(&binding.sig)
                .ok_or_else(|| bad("signature is not 64 bytes of canonical base64".into()))?;
            let msg = binding_message(
                &bundle.session,
                &payload.media_type,
                &digest,
                &head,
                &binding.kid,
            );
            key.verify_strict(&msg, &sig)
                .map_err(|_| bad("signature does not verify".into()))?;
            Ok(Some(hex::encode(digest)))
        }
        (None, Some(_)) => Err(bad("a binding without a payload".into())),
        (payload, None) => {
            let required = anchor.require_payload_binding.unwrap_or(payload.is_some());
            if required {
                Err(BundleError::MissingPayloadBinding)
            } else {
                Ok(None)
            }
        }
    }
}
