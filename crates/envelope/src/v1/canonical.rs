//! The v1 signed byte layouts: canonical edge bytes (§a.3), the tree-head message (§a.4),
//! the payload bytes and the DSSE PAE message (§a.5).

use sha2::{Digest, Sha256};

use nucleus_json::{Json, NumberError};

use super::model::{AttestationModeV1, EdgeV1};
use crate::rfc3339::Instant;

const NUL: u8 = 0;

/// `C(edge, prev)`: what `proof.sig` signs. `ts` is the parsed edge timestamp.
pub fn canonical_edge_bytes(edge: &EdgeV1, ts: &Instant, prev: Option<&[u8; 32]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(edge.child.as_bytes());
    out.push(NUL);
    out.extend_from_slice(edge.kind.tag().as_bytes());
    out.push(NUL);
    for parent in &edge.parents {
        out.extend_from_slice(parent.as_bytes());
        out.push(NUL);
    }
    out.push(NUL);
    match &edge.content_hash_hex {
        Some(h) => out.extend_from_slice(h.as_bytes()),
        None => out.extend_from_slice(&[0u8; 64]),
    }
    out.push(NUL);
    out.extend_from_slice(ts.to_v1_string().as_bytes());
    out.push(NUL);
    out.extend_from_slice(prev.unwrap_or(&[0u8; 32]));
    if let Some(va) = &edge.verifier_attestation {
        out.push(NUL);
        for field in [
            &va.verifier_binary_hash,
            &va.wasmtime_version,
            &va.wasmtime_config_hash,
            &va.vrf_params_hash,
            &va.external_snapshot_root,
            &va.lean_spec_hash,
        ] {
            out.extend_from_slice(field.as_deref().unwrap_or("").as_bytes());
            out.push(NUL);
        }
        for value in [
            &va.ifc_gated_effective_integrity,
            &va.ifc_effective_integrity,
            &va.ifc_effective_confidentiality,
            &va.budget_charged_micro_usd,
            &va.budget_effective_remaining_micro_usd,
            &va.budget_spent_so_far_micro_usd,
        ]
        .into_iter()
        .flatten()
        {
            out.push(NUL);
            out.extend_from_slice(value.as_bytes());
            out.push(NUL);
        }
        match &va.attestation_mode {
            Some(AttestationModeV1::Mediated { handler_id }) => {
                out.extend_from_slice(b"\0mediated\0");
                out.extend_from_slice(handler_id.as_bytes());
                out.push(NUL);
            }
            Some(AttestationModeV1::Attested { attestor_id }) => {
                out.extend_from_slice(b"\0attested\0");
                out.extend_from_slice(attestor_id.as_bytes());
                out.push(NUL);
            }
            None => {}
        }
    }
    out
}

/// `H(edge, prev) = SHA-256(C(edge, prev))`.
pub fn edge_hash(edge: &EdgeV1, ts: &Instant, prev: Option<&[u8; 32]>) -> [u8; 32] {
    Sha256::digest(canonical_edge_bytes(edge, ts, prev)).into()
}

/// The 48-byte tree-head message: `u64be(size) ‖ u64be(timestamp_ms) ‖ root`.
pub fn sth_message(tree_size: u64, timestamp_ms: u64, root: &[u8; 32]) -> [u8; 48] {
    let mut m = [0u8; 48];
    m[..8].copy_from_slice(&tree_size.to_be_bytes());
    m[8..16].copy_from_slice(&timestamp_ms.to_be_bytes());
    m[16..].copy_from_slice(root);
    m
}

/// The C2SP checkpoint body of a v1 tree head: `origin\nsize\nb64(root)\n`.
pub fn checkpoint_body(origin: &str, tree_size: u64, root: &[u8; 32]) -> String {
    format!(
        "{origin}\n{tree_size}\n{}\n",
        nucleus_lineage::b64::encode(root)
    )
}

/// The v1 payload bytes: compact JSON with object keys sorted by bytes at every level,
/// independent of serde_json's `preserve_order` feature (gap G9), strings and numbers
/// written as serde_json writes them. A number with more than 15 significant digits (or
/// below the normal double range) is refused: its bytes depend on how the producer's JSON
/// library rounded it (gap G9 again), see the crate README.
pub fn payload_bytes(payload: &Json<'_>) -> Result<Vec<u8>, NumberError> {
    payload.to_canonical_string().map(String::into_bytes)
}

/// The DSSE-style PAE message the v1 binding signs.
pub fn binding_message(
    payload_type: &str,
    payload_hash: &[u8; 32],
    head: &[u8; 32],
    root: Option<&[u8; 32]>,
) -> Vec<u8> {
    let mut m = Vec::with_capacity(160);
    m.extend_from_slice(b"DSSEv1 ");
    m.extend_from_slice(payload_type.len().to_string().as_bytes());
    m.push(b' ');
    m.extend_from_slice(payload_type.as_bytes());
    m.extend_from_slice(b" 32 ");
    m.extend_from_slice(payload_hash);
    m.extend_from_slice(b" 32 ");
    m.extend_from_slice(head);
    m.push(b' ');
    let root: &[u8] = root.map_or(&[], |r| r.as_slice());
    m.extend_from_slice(root.len().to_string().as_bytes());
    m.push(b' ');
    m.extend_from_slice(root);
    m
}
