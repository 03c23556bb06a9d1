//! Builds real v3 bundles (issuer, log and witness keys from fixed seeds) for tests and the
//! benchmark.
#![allow(dead_code)]

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use nucleus_envelope::v3::{
    BundleV3, EdgeFields, FORMAT_V3, InclusionV3, LogProofV3, PayloadV3, seal,
};
use nucleus_envelope::{Jwk, Jwks, TrustAnchor, kid_for};
use nucleus_lineage::merkle::{self, Hash};
use nucleus_lineage::{Checkpoint, CosignatureSigner, Note, NoteSigner};

pub const ORIGIN: &str = "example.com/nucleus/test-log";
pub const WITNESS_NAMES: [&str; 3] = [
    "witness.example/a",
    "witness.example/b",
    "witness.example/c",
];

pub fn issuer() -> SigningKey {
    SigningKey::from_bytes(&[0x11; 32])
}

pub fn log_key() -> SigningKey {
    SigningKey::from_bytes(&[0x22; 32])
}

pub fn witness(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[0x30 + i as u8; 32])
}

/// What to put in a bundle.
pub struct Spec {
    pub edges: usize,
    /// Indices of the witnesses that cosign (repeats give duplicate lines).
    pub cosigners: Vec<usize>,
    pub payload: Option<Vec<u8>>,
    /// Unrelated leaves logged before the session.
    pub filler: usize,
    /// From this seq on, edges name this kid instead of the issuer's (a key rotation).
    pub kid_from: Option<(u64, String)>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            edges: 4,
            cosigners: vec![0, 1, 2],
            payload: Some(br#"{"summary":"done"}"#.to_vec()),
            filler: 3,
            kid_from: None,
        }
    }
}

pub fn edge_fields(seq: u64) -> EdgeFields {
    let mut attrs = BTreeMap::new();
    attrs.insert("model".to_owned(), "m-1".to_owned());
    attrs.insert("step".to_owned(), seq.to_string());
    EdgeFields {
        seq,
        child: format!("spiffe://prod.example/agent/call/{seq}"),
        parents: if seq == 0 {
            vec![]
        } else {
            vec![format!("spiffe://prod.example/agent/call/{}", seq - 1)]
        },
        kind: if seq == 0 { "pod_admit" } else { "tool_call" }.to_owned(),
        content_sha256: Some([seq as u8; 32]),
        ts: format!("2026-11-29T01:{:02}:{:02}.250Z", (seq / 60) % 60, seq % 60),
        attrs,
    }
}

pub fn build(spec: &Spec) -> BundleV3 {
    let session = "session-1";
    let issuer = issuer();
    let kid = kid_for(&issuer.verifying_key());
    let mut leaves: Vec<Hash> = (0..spec.filler)
        .map(|i| merkle::leaf_hash(format!("other {i}").as_bytes()))
        .collect();
    let mut prev = [0u8; 32];
    let mut edges = Vec::new();
    let mut indices = Vec::new();
    for seq in 0..spec.edges as u64 {
        let edge_kid = match &spec.kid_from {
            Some((from, other)) if seq >= *from => other,
            _ => &kid,
        };
        let (edge, hash) = edge_fields(seq).chain(session, &prev, edge_kid);
        indices.push(leaves.len() as u64);
        leaves.push(merkle::leaf_hash(&hash));
        edges.push(edge);
        prev = hash;
    }
    leaves.push(merkle::leaf_hash(b"after the session"));
    let checkpoint = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: leaves.len() as u64,
        root: merkle::root(&leaves),
        extensions: vec![],
    };
    let text = checkpoint.to_text();
    let mut signatures = vec![NoteSigner::new(ORIGIN, log_key()).unwrap().sign(&text)];
    for &w in &spec.cosigners {
        let signer = CosignatureSigner::new(WITNESS_NAMES[w], witness(w)).unwrap();
        signatures.push(signer.sign(&text, 1_790_000_000 + w as u64).unwrap());
    }
    let note = Note { text, signatures };
    let inclusion = indices
        .iter()
        .map(|&i| InclusionV3 {
            leaf_index: i,
            proof_hex: merkle::inclusion_proof(&leaves, i)
                .unwrap()
                .iter()
                .map(hex::encode)
                .collect(),
        })
        .collect();
    let payload = spec
        .payload
        .as_deref()
        .map(|data| ("application/json", data));
    let seal = seal(session, spec.edges as u64, &prev, payload, &kid, &issuer);
    BundleV3 {
        format: FORMAT_V3.to_owned(),
        session: session.to_owned(),
        edges,
        log: LogProofV3 {
            checkpoint: String::from_utf8(note.to_bytes()).unwrap(),
            inclusion,
        },
        payload: payload.map(|(media_type, data)| PayloadV3::new(media_type, data)),
        seal,
    }
}

pub fn to_bytes(bundle: &BundleV3) -> Vec<u8> {
    serde_json::to_vec_pretty(bundle).unwrap()
}

/// The 2-of-3 policy over the three witnesses, with the log key.
pub fn policy_text() -> String {
    let mut out = format!(
        "log {}\n",
        hex::encode(log_key().verifying_key().as_bytes())
    );
    for (i, name) in ["wa", "wb", "wc"].iter().enumerate() {
        out.push_str(&format!(
            "witness {name} {}\n",
            hex::encode(witness(i).verifying_key().as_bytes())
        ));
    }
    out.push_str("group g 2 wa wb wc\nquorum g\n");
    out
}

/// An anchor trusting the issuer, the log key and the three witnesses, threshold 2.
pub fn anchor() -> TrustAnchor {
    TrustAnchor {
        trust_jwks: Some(Jwks {
            keys: vec![Jwk::from_ed25519(&issuer().verifying_key())],
        }),
        trusted_witnesses_hex: (0..3)
            .map(|i| hex::encode(witness(i).verifying_key().as_bytes()))
            .collect(),
        cosignature_threshold: 2,
        require_payload_binding: None,
        policy: None,
        origin: Some(ORIGIN.to_owned()),
        trust_witness_pubkey_hex: Some(hex::encode(log_key().verifying_key().as_bytes())),
        allow_empty: false,
    }
}

/// The same trust expressed by the policy alone (log key and witnesses from the policy).
pub fn policy_anchor() -> TrustAnchor {
    TrustAnchor {
        trusted_witnesses_hex: vec![],
        cosignature_threshold: 0,
        trust_witness_pubkey_hex: None,
        policy: Some(policy_text()),
        ..anchor()
    }
}
