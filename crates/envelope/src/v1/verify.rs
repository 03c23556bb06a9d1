//! v1 verification in upstream's check order (§b), failing closed where upstream fails open
//! (G4: no self-check mode; G5: `allow_empty` skips nothing; G6: the policy is enforced).

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::{Signature, VerifyingKey};
use nucleus_lineage::b64;
use nucleus_lineage::cosignature::cosignature_message;
use nucleus_lineage::merkle::{self, Hash};
use nucleus_lineage::quoted::Quoted;
use sha2::{Digest, Sha256};

use super::canonical::{
    binding_message, canonical_edge_bytes, checkpoint_body, edge_hash, payload_bytes, sth_message,
};
use super::model::{BundleV1, CosignatureKindV1, MerkleAnchorV1};
use crate::anchor::ResolvedAnchor;
use crate::error::{BundleError, EdgeFault};
use crate::jwk::kid_for;
use crate::report::{
    BundleFormat, ReportedCosigner, ReportedEdge, ReportedLog, VerificationReport,
};
use crate::rfc3339::Instant;
use crate::{MAX_COSIGNATURES, MAX_EDGES, MAX_PROOF_HASHES};

/// Most tree heads a v1 envelope may carry in `checkpoints`.
const MAX_CHECKPOINTS: usize = 64;

fn decode_sig(s: &str) -> Option<Signature> {
    let bytes = b64::decode_canonical(s).ok()?;
    let bytes: [u8; 64] = bytes.as_slice().try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(s).ok()?;
    bytes.as_slice().try_into().ok()
}

/// The trust domain (authority) of a SPIFFE id.
fn trust_domain(id: &str) -> Option<String> {
    let rest = id.strip_prefix("spiffe://")?;
    let authority = rest.split('/').next()?;
    (!authority.is_empty()).then(|| authority.to_owned())
}

/// Verifies a parsed v1 bundle against a resolved anchor.
pub(crate) fn verify(
    bundle: &BundleV1,
    anchor: &ResolvedAnchor,
) -> Result<VerificationReport, BundleError> {
    let env = &bundle.envelope;
    // 0. Caps, before any cryptography.
    if env.edges.len() > MAX_EDGES {
        return Err(BundleError::TooLarge {
            what: "edges",
            limit: MAX_EDGES,
        });
    }
    if env.checkpoints.len() > MAX_CHECKPOINTS {
        return Err(BundleError::TooLarge {
            what: "checkpoints",
            limit: MAX_CHECKPOINTS,
        });
    }
    if let Some(ma) = &env.merkle_anchor {
        if ma
            .inclusion_proofs
            .iter()
            .any(|p| p.audit_path_hex.len() / 64 > MAX_PROOF_HASHES)
        {
            return Err(BundleError::TooLarge {
                what: "inclusion_proof.audit_path hashes",
                limit: MAX_PROOF_HASHES,
            });
        }
        if ma.sth.cosignatures.len() > MAX_COSIGNATURES {
            return Err(BundleError::TooLarge {
                what: "cosignatures",
                limit: MAX_COSIGNATURES,
            });
        }
    }
    // 1. Schema.
    if env.meta.schema_version > 1 {
        return Err(BundleError::UnsupportedSchema(env.meta.schema_version));
    }
    Instant::parse(&env.meta.created_at)
        .map_err(|e| BundleError::Malformed(format!("meta.created_at: {e}")))?;
    // 2. The root is a pod.
    let root = &env.session_root;
    if root.contains("/call/") {
        return Err(BundleError::SessionRootNotPod(root.clone()));
    }
    // 3. Empty envelopes: allowed only explicitly, and every later gate still runs.
    if env.edges.is_empty() && !anchor.allow_empty {
        return Err(BundleError::EmptyEnvelope);
    }
    // 4. Head.
    if let Some(first) = env.edges.first() {
        let prev_on_wire = first.proof.as_ref().is_some_and(|p| p.prev_hash.is_some());
        if first.child != *root {
            return Err(BundleError::BadHead(
                "first edge's child is not the session root".into(),
            ));
        }
        if first.kind.tag() != "pod_admit" {
            return Err(BundleError::BadHead(format!(
                "first edge is {}, expected pod_admit",
                Quoted(first.kind.tag())
            )));
        }
        if !first.parents.is_empty() {
            return Err(BundleError::BadHead("first edge has parents".into()));
        }
        if prev_on_wire {
            return Err(BundleError::BadHead(
                "first edge carries a prev_hash".into(),
            ));
        }
    }
    // 5. Membership (byte prefix, as upstream).
    let prefix = format!("{root}/");
    let inside = |id: &str| id == root || id.starts_with(&prefix);
    for (index, edge) in env.edges.iter().enumerate() {
        if !inside(&edge.child) {
            return Err(BundleError::OutsideRoot {
                index,
                endpoint: "child",
                id: edge.child.clone(),
            });
        }
        if let Some(p) = edge.parents.iter().find(|p| !inside(p)) {
            return Err(BundleError::OutsideRoot {
                index,
                endpoint: "parent",
                id: p.clone(),
            });
        }
    }
    // 6. Chain, against the anchor's keys only.
    let mut prev: Option<[u8; 32]> = None;
    let mut edges = Vec::with_capacity(env.edges.len());
    let mut leaves: Vec<Hash> = Vec::with_capacity(env.edges.len());
    for (index, edge) in env.edges.iter().enumerate() {
        let fail = |fault| BundleError::edge(index, fault);
        let ts =
            Instant::parse(&edge.ts).map_err(|e| fail(EdgeFault::Malformed(format!("ts: {e}"))))?;
        let proof = edge
            .proof
            .as_ref()
            .ok_or_else(|| fail(EdgeFault::Unsigned))?;
        if let Some(wire) = &proof.prev_hash {
            let expected = prev.unwrap_or([0u8; 32]);
            if hex32(wire) != Some(expected) {
                return Err(fail(EdgeFault::BrokenChain {
                    expected: hex::encode(expected),
                    found: wire.clone(),
                }));
            }
        }
        if proof.alg != "EdDSA" {
            return Err(fail(EdgeFault::UnsupportedAlg(proof.alg.clone())));
        }
        let sig = decode_sig(&proof.sig).ok_or_else(|| fail(EdgeFault::BadSignatureEncoding))?;
        let key = anchor.jwks.resolve(&proof.kid, Some(&ts)).map_err(fail)?;
        let bytes = canonical_edge_bytes(edge, &ts, prev.as_ref());
        key.verify_strict(&bytes, &sig)
            .map_err(|_| fail(EdgeFault::BadSignature))?;
        let hash: [u8; 32] = Sha256::digest(&bytes).into();
        leaves.push(edge_hash(edge, &ts, None));
        edges.push(ReportedEdge {
            index,
            child: edge.child.clone(),
            parents: edge.parents.clone(),
            kind: edge.kind.tag().to_owned(),
            content_hash_hex: edge.content_hash_hex.clone(),
            ts: ts.to_v1_string(),
            attrs: BTreeMap::new(),
            kid: proof.kid.clone(),
            edge_hash_hex: hex::encode(hash),
        });
        prev = Some(hash);
    }
    let head_hash_hex = prev.map(hex::encode).unwrap_or_default();

    // 7–8. Log anchor and cosignatures.
    let (log, cosigners, root_hash) = match &env.merkle_anchor {
        Some(ma) => {
            let (log, cosigners, root_hash) = verify_merkle_anchor(ma, &leaves, anchor)?;
            (Some(log), cosigners, Some(root_hash))
        }
        None => (None, Vec::new(), None),
    };
    let quorum_satisfied = anchor.enforce_cosigners(&cosigners)?;

    // 10. Payload binding.
    let mut payload_sha256_hex = None;
    match &bundle.binding {
        Some(binding) => {
            let bad = |m: &str| BundleError::BadPayloadBinding(m.to_owned());
            let payload = payload_bytes(&bundle.payload).map_err(|e| {
                BundleError::BadPayloadBinding(format!("the payload cannot be hashed: {e}"))
            })?;
            let payload_hash: [u8; 32] = Sha256::digest(payload).into();
            if hex32(&binding.payload_hash_hex) != Some(payload_hash) {
                return Err(bad("payload hash does not match the payload"));
            }
            let head = prev.ok_or_else(|| bad("an empty envelope has no head to bind"))?;
            if hex32(&binding.envelope_head_hash_hex) != Some(head) {
                return Err(bad("head hash does not match the edge chain"));
            }
            let bound_root = match (&binding.merkle_root_hex, root_hash) {
                (Some(r), Some(root_hash)) if hex32(r) == Some(root_hash) => Some(root_hash),
                (None, None) => None,
                _ => return Err(bad("merkle root missing, extra or different")),
            };
            let key = anchor
                .jwks
                .resolve(&binding.keyid, None)
                .map_err(|e| BundleError::BadPayloadBinding(e.to_string()))?;
            let sig = decode_sig(&binding.signature)
                .ok_or_else(|| bad("signature is not 64 bytes of canonical base64"))?;
            let msg = binding_message(
                &binding.payload_type,
                &payload_hash,
                &head,
                bound_root.as_ref(),
            );
            key.verify_strict(&msg, &sig)
                .map_err(|_| bad("signature does not verify"))?;
            payload_sha256_hex = Some(hex::encode(payload_hash));
        }
        None if anchor.require_payload_binding == Some(true) => {
            return Err(BundleError::MissingPayloadBinding);
        }
        None => {}
    }

    // Inserted one by one, not collected (see the v3 verifier).
    let mut kids = BTreeSet::new();
    for edge in &edges {
        kids.insert(edge.kid.clone());
    }
    Ok(VerificationReport {
        format: BundleFormat::V1,
        session: root.clone(),
        trust_domain: trust_domain(root),
        edge_count: edges.len(),
        edges,
        head_hash_hex,
        kids: kids.into_iter().collect(),
        log,
        cosigners,
        cosignature_threshold: anchor.threshold,
        quorum_satisfied,
        payload_bound: payload_sha256_hex.is_some(),
        payload_sha256_hex,
    })
}

fn verify_merkle_anchor(
    ma: &MerkleAnchorV1,
    leaves: &[Hash],
    anchor: &ResolvedAnchor,
) -> Result<(ReportedLog, Vec<ReportedCosigner>, [u8; 32]), BundleError> {
    let sth = &ma.sth;
    let bad = |m: String| BundleError::BadCheckpoint(m);
    if anchor.log_keys.is_empty() {
        return Err(BundleError::MissingLogKey);
    }
    let log_key: &VerifyingKey = anchor
        .log_keys
        .iter()
        .find(|k| kid_for(k) == sth.witness_kid)
        .ok_or_else(|| {
            bad(format!(
                "tree head witness_kid {} is not the kid of a pinned log key",
                Quoted(&sth.witness_kid)
            ))
        })?;
    let root = hex32(&sth.root_hash_hex)
        .ok_or_else(|| bad("root_hash_hex is not 32 bytes of hex".into()))?;
    let sig = decode_sig(&sth.witness_sig)
        .ok_or_else(|| bad("witness_sig is not 64 bytes of canonical base64".into()))?;
    log_key
        .verify_strict(&sth_message(sth.tree_size, sth.timestamp_ms, &root), &sig)
        .map_err(|_| bad("tree head signature does not verify under the pinned log key".into()))?;
    if ma.inclusion_proofs.len() != leaves.len() {
        return Err(BundleError::InclusionFailed {
            index: ma.inclusion_proofs.len().min(leaves.len()),
            reason: format!(
                "{} inclusion proofs for {} edges",
                ma.inclusion_proofs.len(),
                leaves.len()
            ),
        });
    }
    let mut seen = BTreeSet::new();
    for (index, (proof, leaf)) in ma.inclusion_proofs.iter().zip(leaves).enumerate() {
        let fail = |reason: String| BundleError::InclusionFailed { index, reason };
        if proof.leaf_index >= sth.tree_size {
            return Err(fail(format!(
                "leaf_index {} is not below tree_size {}",
                proof.leaf_index, sth.tree_size
            )));
        }
        if !seen.insert(proof.leaf_index) {
            return Err(fail(format!("duplicate leaf_index {}", proof.leaf_index)));
        }
        let path = hex::decode(&proof.audit_path_hex)
            .map_err(|_| fail("audit_path_hex is not hex digits".into()))?;
        if path.len() % 32 != 0 {
            return Err(fail("audit path length is not a multiple of 32".into()));
        }
        let path: Vec<Hash> = path
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap_or([0u8; 32]))
            .collect();
        merkle::verify_inclusion(
            &merkle::leaf_hash(leaf),
            proof.leaf_index,
            sth.tree_size,
            &path,
            &root,
        )
        .map_err(|e| fail(e.to_string()))?;
    }

    // Cosignatures: each trusted key matches at most once.
    let needs_origin = sth
        .cosignatures
        .iter()
        .any(|c| c.kind == CosignatureKindV1::C2sp);
    let body = match (&anchor.origin, needs_origin) {
        (Some(origin), _) => Some(checkpoint_body(origin, sth.tree_size, &root)),
        (None, true) => {
            return Err(BundleError::InvalidTrustAnchor(
                "the bundle carries c2sp cosignatures; the anchor must set origin".into(),
            ));
        }
        (None, false) => None,
    };
    let sth_msg = sth_message(sth.tree_size, sth.timestamp_ms, &root);
    let mut matched = vec![false; anchor.witnesses.len()];
    let mut cosigners = Vec::new();
    for cosig in &sth.cosignatures {
        let Ok(bytes) = b64::decode_canonical(&cosig.signature) else {
            continue;
        };
        let (message, sig_bytes, timestamp): (Vec<u8>, &[u8], Option<u64>) =
            match (cosig.kind, bytes.len(), &body) {
                (CosignatureKindV1::Nucleus, 64, _) => (sth_msg.to_vec(), &bytes[..], None),
                (CosignatureKindV1::C2sp, 64, Some(body)) => {
                    (body.as_bytes().to_vec(), &bytes[..], None)
                }
                (CosignatureKindV1::C2sp, 72, Some(body)) => {
                    let ts = u64::from_be_bytes(bytes[..8].try_into().unwrap_or_default());
                    if ts == 0 {
                        continue;
                    }
                    (cosignature_message(body, ts), &bytes[8..], Some(ts))
                }
                _ => continue,
            };
        let Ok(sig_arr) = <[u8; 64]>::try_from(sig_bytes) else {
            continue;
        };
        let sig = Signature::from_bytes(&sig_arr);
        for (i, w) in anchor.witnesses.iter().enumerate() {
            if !matched[i] && w.key.verify_strict(&message, &sig).is_ok() {
                matched[i] = true;
                cosigners.push(ReportedCosigner {
                    name: w.policy_name.clone(),
                    policy_name: w.policy_name.clone(),
                    key_hex: hex::encode(w.key.as_bytes()),
                    timestamp,
                });
                break;
            }
        }
    }
    let log = ReportedLog {
        origin: anchor.origin.clone(),
        size: sth.tree_size,
        root_hex: hex::encode(root),
        leaf_indices: ma.inclusion_proofs.iter().map(|p| p.leaf_index).collect(),
    };
    Ok((log, cosigners, root))
}
