//! The v1 bundle JSON, field for field (upstream-formats §a.1). Unknown members are errors
//! where upstream rejects them and ignored where upstream ignores them (edges, proofs, JWKs,
//! bindings).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::jwk::Jwks;

/// A v1 bundle.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleV1 {
    /// Opaque agent output.
    pub payload: serde_json::Value,
    /// The signed lineage.
    pub envelope: EnvelopeV1,
    /// Optional DSSE-style payload binding.
    #[serde(default)]
    pub binding: Option<PayloadBindingV1>,
    /// Carried but never verified (upstream ignores it too); not reported.
    #[serde(default)]
    pub attestation: Option<AttestationV1>,
}

/// The envelope: session root, edges, and the log anchor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeV1 {
    /// SPIFFE id of the pod (the root).
    pub session_root: String,
    /// Edges in chain order.
    pub edges: Vec<EdgeV1>,
    /// Producer-supplied keys: never trusted.
    pub jwks: Jwks,
    /// Tree heads carried for information; parsed and capped, never trusted.
    pub checkpoints: Vec<SthV1>,
    /// Inclusion of the edges in a log.
    #[serde(default)]
    pub merkle_anchor: Option<MerkleAnchorV1>,
    /// Schema version and creation time.
    pub meta: MetaV1,
}

/// `meta`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaV1 {
    /// Must be 1.
    pub schema_version: u32,
    /// RFC 3339; must parse, otherwise unused.
    pub created_at: String,
}

/// One v1 edge. Unknown members are ignored (and, as upstream, not signed).
#[derive(Debug, Clone, Deserialize)]
pub struct EdgeV1 {
    /// The id this derivation produced.
    pub child: String,
    /// The ids it was derived from.
    pub parents: Vec<String>,
    /// The kind tag and its (unsigned) variant fields.
    #[serde(flatten)]
    pub kind: KindV1,
    /// Optional content hash, signed as ASCII.
    #[serde(default)]
    pub content_hash_hex: Option<String>,
    /// RFC 3339 timestamp (any offset).
    pub ts: String,
    /// Unsigned attributes (never reported).
    #[serde(default)]
    pub attrs: Option<BTreeMap<String, String>>,
    /// The issuer's signature.
    #[serde(default)]
    pub proof: Option<ProofV1>,
    /// Signed verifier attestation fields.
    #[serde(default)]
    pub verifier_attestation: Option<VerifierAttestationV1>,
}

/// `retrieval source class` of `document_retrieved`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceClassV1 {
    /// A web page.
    Web,
    /// A RAG index.
    RagIndex,
    /// A local file.
    LocalFile,
    /// Agent memory.
    Memory,
}

/// The v1 kind tags; only the tag is signed.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum KindV1 {
    PodAdmit,
    ToolCall {
        tool: String,
    },
    LlmCall {
        provider: String,
        direction: String,
    },
    ArtifactProduced,
    Merge,
    DocumentRetrieved {
        source_url: String,
        content_hash: String,
        retrieval_ts: String,
        source_class: SourceClassV1,
    },
    Bid {
        market_id: String,
    },
    Allocation {
        market_id: String,
        mechanism: String,
    },
    ContractEvaluation {
        contract_id: String,
        step: u32,
    },
    Dispute {
        dispute_id: String,
        target_edge_hash: String,
    },
    MetricClaim {
        metric_name: String,
        window_id: String,
    },
    Settlement {
        tx_ref: String,
        rail: String,
    },
    Externality {
        resource: String,
        oracle_kid: String,
    },
    PigouvianRateUpdate {
        resource: String,
        rate_micro_usd_per_unit: u64,
        window_unix_micros: u64,
    },
    WelfareRebate {
        recipient_kid: String,
        micro_usd: u64,
        source_externality_edge_hash: String,
    },
    Other {
        name: String,
    },
}

impl KindV1 {
    /// The snake_case tag (the only part of the kind that v1 signs).
    pub fn tag(&self) -> &'static str {
        match self {
            KindV1::PodAdmit => "pod_admit",
            KindV1::ToolCall { .. } => "tool_call",
            KindV1::LlmCall { .. } => "llm_call",
            KindV1::ArtifactProduced => "artifact_produced",
            KindV1::Merge => "merge",
            KindV1::DocumentRetrieved { .. } => "document_retrieved",
            KindV1::Bid { .. } => "bid",
            KindV1::Allocation { .. } => "allocation",
            KindV1::ContractEvaluation { .. } => "contract_evaluation",
            KindV1::Dispute { .. } => "dispute",
            KindV1::MetricClaim { .. } => "metric_claim",
            KindV1::Settlement { .. } => "settlement",
            KindV1::Externality { .. } => "externality",
            KindV1::PigouvianRateUpdate { .. } => "pigouvian_rate_update",
            KindV1::WelfareRebate { .. } => "welfare_rebate",
            KindV1::Other { .. } => "other",
        }
    }
}

/// An edge's signature.
#[derive(Debug, Clone, Deserialize)]
pub struct ProofV1 {
    /// Issuer key id, looked up in the anchor's `trust_jwks`.
    pub kid: String,
    /// Must be `EdDSA`.
    pub alg: String,
    /// base64 of the 64-byte signature.
    pub sig: String,
    /// Optional wire copy of the previous chain hash; must match the computed one.
    #[serde(default)]
    pub prev_hash: Option<String>,
}

/// `attestation_mode` (externally tagged).
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub enum AttestationModeV1 {
    Mediated { handler_id: String },
    Attested { attestor_id: String },
}

/// `verifier_attestation`: every member optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[allow(missing_docs)]
pub struct VerifierAttestationV1 {
    pub verifier_binary_hash: Option<String>,
    pub wasmtime_version: Option<String>,
    pub wasmtime_config_hash: Option<String>,
    pub vrf_params_hash: Option<String>,
    pub external_snapshot_root: Option<String>,
    pub lean_spec_hash: Option<String>,
    pub ifc_gated_effective_integrity: Option<String>,
    pub ifc_effective_integrity: Option<String>,
    pub ifc_effective_confidentiality: Option<String>,
    pub budget_charged_micro_usd: Option<String>,
    pub budget_effective_remaining_micro_usd: Option<String>,
    pub budget_spent_so_far_micro_usd: Option<String>,
    pub attestation_mode: Option<AttestationModeV1>,
}

/// A signed tree head.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SthV1 {
    /// Tree size.
    pub tree_size: u64,
    /// Unix milliseconds.
    pub timestamp_ms: u64,
    /// Root hash, hex.
    pub root_hash_hex: String,
    /// Must equal the kid derived from the pinned log key.
    pub witness_kid: String,
    /// base64 Ed25519 signature over `u64be(size) ‖ u64be(ts) ‖ root`.
    pub witness_sig: String,
    /// Witness cosignatures.
    #[serde(default)]
    pub cosignatures: Vec<CosignatureV1>,
}

/// Which message a v1 cosignature signs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CosignatureKindV1 {
    /// The 48-byte tree-head message.
    #[default]
    Nucleus,
    /// The C2SP checkpoint body (bare 64-byte signature) or, as we also accept, a real
    /// cosignature/v1 (8-byte timestamp ‖ signature).
    C2sp,
}

/// A v1 cosignature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignatureV1 {
    /// Informational, never used for matching.
    pub witness_kid: String,
    /// base64 of the signature bytes.
    pub signature: String,
    /// Unsigned, ignored.
    pub timestamp_ms: u64,
    /// The signed message's kind.
    #[serde(default)]
    pub kind: CosignatureKindV1,
}

/// Inclusion of every edge in the tree head.
#[derive(Debug, Clone, Deserialize)]
pub struct MerkleAnchorV1 {
    /// The signed tree head.
    pub sth: SthV1,
    /// One proof per edge, in edge order.
    pub inclusion_proofs: Vec<InclusionProofV1>,
}

/// One inclusion proof.
#[derive(Debug, Clone, Deserialize)]
pub struct InclusionProofV1 {
    /// Leaf index.
    pub leaf_index: u64,
    /// Concatenated 32-byte sibling hashes, leaf to root, hex.
    pub audit_path_hex: String,
}

/// DSSE-style payload binding.
#[derive(Debug, Clone, Deserialize)]
pub struct PayloadBindingV1 {
    /// Payload type; part of the signed message.
    pub payload_type: String,
    /// SHA-256 of the payload bytes, hex.
    pub payload_hash_hex: String,
    /// The chain head, hex.
    pub envelope_head_hash_hex: String,
    /// The Merkle root, hex; present iff the bundle has a merkle anchor.
    #[serde(default)]
    pub merkle_root_hex: Option<String>,
    /// Signing key id, looked up in the anchor's JWKS.
    pub keyid: String,
    /// base64 signature.
    pub signature: String,
}

/// The never-verified envelope attestation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct AttestationV1 {
    pub issuer_url: String,
    pub key_thumbprint: String,
    pub signed_attestation_jws: String,
}
