//! v3 verification: edges and chain, the issuer's seal, the log-signed checkpoint, inclusion
//! of every edge, witness cosignatures against the anchor's keys and policy.

use std::collections::BTreeSet;

use ed25519_dalek::Signature;
use nucleus_lineage::b64;
use nucleus_lineage::checkpoint::Checkpoint;
use nucleus_lineage::cosignature::{ED25519_COSIGNATURE_LEN, MAX_TIMESTAMP, cosignature_message};
use nucleus_lineage::merkle::{self, Hash};
use nucleus_lineage::quoted::Quoted;
use nucleus_lineage::signed_note::Note;
use nucleus_lineage::vkey::{KeyType, Vkey, key_id};
use sha2::{Digest, Sha256};

use super::encoding::{SealedPayload, encode_wire, seal_message};
use super::inclusion::InclusionVerifier;
use super::model::{BundleV3, FORMAT_V3};
use crate::anchor::ResolvedAnchor;
use crate::error::{BundleError, EdgeFault};
use crate::payload::sha256_of_base64;
use crate::report::{
    BundleFormat, ReportedCosigner, ReportedEdge, ReportedLog, VerificationReport,
};
use crate::rfc3339::Instant;
use crate::{MAX_COSIGNATURES, MAX_EDGES};

/// A tree of at most 2^64 leaves has inclusion proofs of at most 64 hashes.
const MAX_V3_PROOF_HASHES: usize = 64;

fn decode_sig(s: &str) -> Option<Signature> {
    let bytes = b64::decode_canonical(s).ok()?;
    let bytes: [u8; 64] = bytes.as_slice().try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

/// Lowercase hex digit values; 0xff marks every other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// 32 bytes from exactly 64 lowercase hex digits. A bundle carries about ten proof hashes
/// per edge: a table lookup per digit and no allocation keep decoding them off the profile.
fn lower_hex32(s: &str) -> Option<[u8; 32]> {
    let digits: &[u8; 64] = s.as_bytes().try_into().ok()?;
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (hi, lo) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
        bad |= hi | lo;
        *byte = hi << 4 | lo;
    }
    // A valid digit is below 16; 0xff (not a lowercase hex digit) sets the high bits.
    (bad < 16).then_some(out)
}

/// Verifies a parsed v3 bundle against a resolved anchor.
pub(crate) fn verify(
    bundle: &BundleV3,
    anchor: &ResolvedAnchor,
) -> Result<VerificationReport, BundleError> {
    if bundle.format != FORMAT_V3 {
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
        .any(|p| p.proof_hex.len() > MAX_V3_PROOF_HASHES)
    {
        return Err(BundleError::TooLarge {
            what: "inclusion proof hashes",
            limit: MAX_V3_PROOF_HASHES,
        });
    }
    let origin = anchor.origin.as_deref().ok_or_else(|| {
        BundleError::InvalidTrustAnchor("origin is required to verify v3 bundles".into())
    })?;
    if bundle.edges.is_empty() && !anchor.allow_empty {
        return Err(BundleError::EmptyEnvelope);
    }
    if anchor.require_payload_binding == Some(true) && bundle.payload.is_none() {
        return Err(BundleError::MissingPayloadBinding);
    }

    // Edges: every field in the encoding, chained by hash; each kid a trusted key valid at
    // the edge's time. No per-edge signature: the seal covers the head, hence every edge.
    let session = &bundle.session;
    let mut prev = [0u8; 32];
    let mut edges = Vec::with_capacity(bundle.edges.len());
    let mut leaves: Vec<Hash> = Vec::with_capacity(bundle.edges.len());
    let mut head_ts = None;
    // Kids whose key already decoded: decoding an Ed25519 point costs a field square root,
    // so each kid's key is decoded once, while its window is checked at every edge.
    let mut usable: Vec<&str> = Vec::new();
    for (index, edge) in bundle.edges.iter().enumerate() {
        let fail = |fault| BundleError::edge(index, fault);
        let malformed = |m: String| fail(EdgeFault::Malformed(m));
        if edge.seq != index as u64 {
            return Err(malformed(format!("seq {} at position {index}", edge.seq)));
        }
        let ts = Instant::parse(&edge.ts).map_err(|e| malformed(e.to_string()))?;
        if ts.to_canonical_string() != edge.ts {
            return Err(malformed(format!(
                "ts {} is not canonical (expected {})",
                Quoted(&edge.ts),
                Quoted(&ts.to_canonical_string())
            )));
        }
        let content = match &edge.content_sha256_hex {
            Some(h) => Some(lower_hex32(h).ok_or_else(|| {
                malformed("content_sha256_hex must be 64 lowercase hex digits".into())
            })?),
            None => None,
        };
        let jwk = anchor.jwks.find(&edge.kid).map_err(fail)?;
        jwk.check_window(&ts).map_err(fail)?;
        if !usable.contains(&edge.kid.as_str()) {
            jwk.verifying_key().map_err(fail)?;
            usable.push(&edge.kid);
        }
        let hash: [u8; 32] =
            Sha256::digest(encode_wire(edge, content.as_ref(), session, &prev)).into();
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
        head_ts = Some(ts);
    }

    let payload_sha256 = verify_seal(bundle, anchor, &prev, head_ts.as_ref())?;

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
    verify_log_signature(&note, &log_keys)?;

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
    let mut proofs = InclusionVerifier::new(checkpoint.size, &checkpoint.root);
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
                lower_hex32(h).ok_or_else(|| {
                    fail(format!("proof hash {} is not 64 lowercase hex", Quoted(h)))
                })
            })
            .collect::<Result<Vec<Hash>, _>>()?;
        proofs.verify(leaf, inc.leaf_index, &path).map_err(fail)?;
    }

    let cosigners = verify_cosignatures(&note, anchor);
    let quorum_satisfied = anchor.enforce_cosigners(&cosigners)?;

    // Inserted one by one: `collect` into a set sorts a Vec first, and each sort
    // instantiation costs the browser module kilobytes.
    let mut kids = BTreeSet::new();
    for edge in &edges {
        kids.insert(edge.kid.clone());
    }
    kids.insert(bundle.seal.kid.clone());
    Ok(VerificationReport {
        format: BundleFormat::V3,
        session: session.clone(),
        trust_domain: None,
        edge_count: edges.len(),
        edges,
        head_hash_hex: head_ts.map(|_| hex::encode(prev)).unwrap_or_default(),
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
        payload_bound: payload_sha256.is_some(),
        payload_sha256_hex: payload_sha256.map(hex::encode),
    })
}

/// Checks the seal over the session, edge count, `head` (zeros without edges) and payload;
/// returns the sealed payload's SHA-256 when there is a payload.
///
/// The seal's key must be valid at `head_ts`, the head edge's time. A bundle without edges
/// names no time, so its seal key must have no validity window at all.
fn verify_seal(
    bundle: &BundleV3,
    anchor: &ResolvedAnchor,
    head: &[u8; 32],
    head_ts: Option<&Instant>,
) -> Result<Option<[u8; 32]>, BundleError> {
    let seal = &bundle.seal;
    let key = match head_ts {
        Some(ts) => anchor.jwks.resolve(&seal.kid, Some(ts)),
        None => anchor.jwks.resolve_untimed(&seal.kid),
    }
    .map_err(BundleError::Seal)?;
    let sig = decode_sig(&seal.sig).ok_or(BundleError::Seal(EdgeFault::BadSignatureEncoding))?;
    let payload = match &bundle.payload {
        Some(p) => Some(SealedPayload {
            media_type: &p.media_type,
            sha256: sha256_of_base64(&p.data_b64)
                .map_err(|e| BundleError::Malformed(format!("payload data_b64: {e}")))?,
        }),
        None => None,
    };
    let msg = seal_message(
        &bundle.session,
        bundle.edges.len() as u64,
        head,
        &seal.kid,
        payload,
    );
    key.verify_strict(&msg, &sig)
        .map_err(|_| BundleError::Seal(EdgeFault::BadSignature))?;
    Ok(payload.map(|p| p.sha256))
}

/// The log's signature on the checkpoint, by the signed-note rules for Ed25519 (0x01) keys:
/// every line whose name and key ID are a pinned log key's must verify (strict Ed25519 over
/// the note text), and at least one must. Done here rather than with `Note::verify`, whose
/// other key types (cosignature, ML-DSA) a log key never has: that keeps the lineage crate's
/// ML-DSA verifier out of the browser module. A pinned key of another type verifies nothing.
fn verify_log_signature(note: &Note, log_keys: &[Vkey]) -> Result<(), BundleError> {
    let mut verified = false;
    for sig in &note.signatures {
        let mut known = log_keys
            .iter()
            .filter(|k| k.name == sig.name && k.key_id == sig.key_id)
            .peekable();
        if known.peek().is_none() {
            continue;
        }
        let ok = Signature::from_slice(&sig.blob).is_ok_and(|signature| {
            known.any(|k| {
                k.key_type == KeyType::Ed25519
                    && k.ed25519_key().is_ok_and(|key| {
                        key.verify_strict(note.text.as_bytes(), &signature).is_ok()
                    })
            })
        });
        if !ok {
            return Err(BundleError::BadCheckpoint(format!(
                "not signed by a pinned log key: the signature of {}+{:08x} does not verify",
                sig.name, sig.key_id
            )));
        }
        verified = true;
    }
    if verified {
        Ok(())
    } else {
        Err(BundleError::BadCheckpoint(
            "not signed by a pinned log key: no signature line is a pinned log key's".into(),
        ))
    }
}

/// The trusted witnesses with a valid `cosignature/v1` line, each counted once, in line
/// order. Each line is matched by key ID first (a hash, no signature check), so a trusted
/// witness's line is verified at most once and an untrusted line never is.
///
/// The check is `cosignature/v1` as the lineage crate states it (72-byte blob: big-endian
/// timestamp ≤ 2^63 − 1, then a strict Ed25519 signature over [`cosignature_message`]), done
/// here with the anchor's already decoded keys: it decodes no key per line, and keeps the
/// lineage crate's ML-DSA verifier out of the browser module (ML-DSA witnesses never count
/// in v3).
fn verify_cosignatures(note: &Note, anchor: &ResolvedAnchor) -> Vec<ReportedCosigner> {
    let mut matched = vec![false; anchor.witnesses.len()];
    let mut cosigners = Vec::new();
    for sig in &note.signatures {
        let Some(i) = anchor.witnesses.iter().enumerate().position(|(i, w)| {
            !matched[i] && key_id(&sig.name, KeyType::Cosignature, w.key.as_bytes()) == sig.key_id
        }) else {
            continue;
        };
        let w = &anchor.witnesses[i];
        if sig.blob.len() != ED25519_COSIGNATURE_LEN {
            continue;
        }
        let (ts, signature) = sig.blob.split_at(8);
        let Ok(ts) = <[u8; 8]>::try_from(ts) else {
            continue;
        };
        let timestamp = u64::from_be_bytes(ts);
        let Ok(signature) = Signature::from_slice(signature) else {
            continue;
        };
        if timestamp <= MAX_TIMESTAMP
            && w.key
                .verify_strict(&cosignature_message(&note.text, timestamp), &signature)
                .is_ok()
        {
            matched[i] = true;
            cosigners.push(ReportedCosigner {
                name: Some(sig.name.clone()),
                policy_name: w.policy_name.clone(),
                key_hex: hex::encode(w.key.as_bytes()),
                timestamp: Some(timestamp),
            });
        }
    }
    cosigners
}

#[cfg(test)]
mod tests {
    use super::lower_hex32;

    #[test]
    fn lower_hex32_takes_exactly_64_lowercase_hex_digits() {
        let bytes: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37)).collect();
        let text = hex::encode(&bytes);
        assert_eq!(lower_hex32(&text).map(|b| b.to_vec()), Some(bytes));
        assert_eq!(lower_hex32(&"0".repeat(64)), Some([0; 32]));
        assert_eq!(lower_hex32(&"f".repeat(64)), Some([0xff; 32]));
        assert_eq!(lower_hex32(&text.to_uppercase()), None);
        for bad in ["g", "A", " ", "\u{0}", "/", ":", "`"] {
            let mut t = text.clone();
            t.replace_range(10..11, bad);
            assert_eq!(lower_hex32(&t), None, "{bad:?}");
        }
        assert_eq!(lower_hex32(&text[..62]), None);
        assert_eq!(lower_hex32(&format!("{text}00")), None);
        assert_eq!(lower_hex32(&format!("{}é", &text[..62])), None);
    }
}
