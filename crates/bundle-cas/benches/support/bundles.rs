//! Real v3 provenance bundles for the transfer tests and the fetch benchmark: edges chained by
//! hash and sealed by an issuer with their payload, included in a log checkpoint signed by the
//! log key and cosigned by witnesses. Shared by `crates/cli/tests/bundle_transfer.rs`
//! and `crates/bundle-cas/benches/fetch_throughput.rs` (included with `#[path]`).

#![allow(dead_code)] // each includer uses a different subset

use ed25519_dalek::SigningKey;
use nucleus_envelope::v3::{
    BundleV3, EdgeFields, FORMAT_V3, InclusionV3, LogProofV3, PayloadV3, seal,
};
use nucleus_envelope::{Jwk, Jwks, TrustAnchor, kid_for};
use nucleus_lineage::merkle::{self, Hash};
use nucleus_lineage::{Checkpoint, CosignatureSigner, Note, NoteSigner};

/// Log origin of the test log.
pub const ORIGIN: &str = "replica.example/nucleus/test-log";

/// The issuer the anchor trusts.
pub fn issuer() -> SigningKey {
    SigningKey::from_bytes(&[0x41; 32])
}

/// An issuer nobody trusts (a forger with a well-formed key of its own).
pub fn forger() -> SigningKey {
    SigningKey::from_bytes(&[0x66; 32])
}

fn log_key() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

fn witness(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[0x50 + i; 32])
}

/// A bundle of `edges` edges sealed by `signer`, cosigned by witnesses 0 and 1 of 3, whose
/// sealed payload is `payload_len` bytes (so the JSON is about 4/3 of that).
pub fn bundle(signer: &SigningKey, edges: u64, payload_len: usize) -> Vec<u8> {
    let session = "replica-session";
    let kid = kid_for(&signer.verifying_key());
    let mut leaves: Vec<Hash> = vec![merkle::leaf_hash(b"an earlier session")];
    let mut prev = [0u8; 32];
    let mut wire = Vec::new();
    let mut indices = Vec::new();
    for seq in 0..edges {
        let fields = EdgeFields {
            seq,
            child: format!("spiffe://prod.example/agent/step/{seq}"),
            parents: if seq == 0 {
                vec![]
            } else {
                vec![format!("spiffe://prod.example/agent/step/{}", seq - 1)]
            },
            kind: if seq == 0 { "pod_admit" } else { "tool_call" }.to_owned(),
            content_sha256: Some([seq as u8; 32]),
            ts: format!("2026-11-29T02:00:{:02}.500Z", seq % 60),
            attrs: Default::default(),
        };
        let (edge, hash) = fields.chain(session, &prev, &kid);
        indices.push(leaves.len() as u64);
        leaves.push(merkle::leaf_hash(&hash));
        wire.push(edge);
        prev = hash;
    }
    let checkpoint = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: leaves.len() as u64,
        root: merkle::root(&leaves),
        extensions: vec![],
    };
    let text = checkpoint.to_text();
    let mut signatures = vec![NoteSigner::new(ORIGIN, log_key()).unwrap().sign(&text)];
    for w in 0..2u8 {
        let signer = CosignatureSigner::new(&format!("witness.example/{w}"), witness(w)).unwrap();
        signatures.push(signer.sign(&text, 1_790_000_000 + u64::from(w)).unwrap());
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
    let data: Vec<u8> = (0..payload_len).map(|i| b'a' + (i % 26) as u8).collect();
    let seal = seal(
        session,
        edges,
        &prev,
        Some(("text/plain", &data)),
        &kid,
        signer,
    );
    let bundle = BundleV3 {
        format: FORMAT_V3.to_owned(),
        session: session.to_owned(),
        edges: wire,
        log: LogProofV3 {
            checkpoint: String::from_utf8(note.to_bytes()).unwrap(),
            inclusion,
        },
        payload: Some(PayloadV3::new("text/plain", &data)),
        seal,
    };
    serde_json::to_vec_pretty(&bundle).unwrap()
}

/// The out-of-band anchor: the issuer, the log key, the three witnesses, threshold 2.
pub fn anchor() -> TrustAnchor {
    TrustAnchor {
        trust_jwks: Some(Jwks {
            keys: vec![Jwk::from_ed25519(&issuer().verifying_key())],
        }),
        trusted_witnesses_hex: (0..3)
            .map(|i| hex::encode(witness(i).verifying_key().as_bytes()))
            .collect(),
        cosignature_threshold: 2,
        origin: Some(ORIGIN.to_owned()),
        trust_witness_pubkey_hex: Some(hex::encode(log_key().verifying_key().as_bytes())),
        ..TrustAnchor::default()
    }
}
