//! The v1 bundle JSON, field for field (upstream-formats §a.1). Unknown members are errors
//! where upstream rejects them and ignored where upstream ignores them (edges, proofs, JWKs,
//! bindings). Unlike upstream, a duplicate member name anywhere (the payload included) is
//! refused rather than resolved by whichever copy a parser keeps.

use std::collections::BTreeMap;

use nucleus_json::{DecodeError, FromJson, Json, Members, Path, json_object};
use nucleus_lineage::quoted::Quoted;

use crate::jwk::Jwks;

/// A v1 bundle.
#[derive(Debug, Clone)]
pub struct BundleV1 {
    /// Opaque agent output.
    pub payload: Json<'static>,
    /// The signed lineage.
    pub envelope: EnvelopeV1,
    /// Optional DSSE-style payload binding.
    pub binding: Option<PayloadBindingV1>,
    /// Carried but never verified (upstream ignores it too); not reported.
    pub attestation: Option<AttestationV1>,
}

/// The envelope: session root, edges, and the log anchor.
#[derive(Debug, Clone)]
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
    pub merkle_anchor: Option<MerkleAnchorV1>,
    /// Schema version and creation time.
    pub meta: MetaV1,
}

/// `meta`.
#[derive(Debug, Clone)]
pub struct MetaV1 {
    /// Must be 1.
    pub schema_version: u32,
    /// RFC 3339; must parse, otherwise unused.
    pub created_at: String,
}

/// One v1 edge. Unknown members are ignored (and, as upstream, not signed).
#[derive(Debug, Clone)]
pub struct EdgeV1 {
    /// The id this derivation produced.
    pub child: String,
    /// The ids it was derived from.
    pub parents: Vec<String>,
    /// The kind tag and its (unsigned) variant fields.
    pub kind: KindV1,
    /// Optional content hash, signed as ASCII.
    pub content_hash_hex: Option<String>,
    /// RFC 3339 timestamp (any offset).
    pub ts: String,
    /// Unsigned attributes (never reported).
    pub attrs: Option<BTreeMap<String, String>>,
    /// The issuer's signature.
    pub proof: Option<ProofV1>,
    /// Signed verifier attestation fields.
    pub verifier_attestation: Option<VerifierAttestationV1>,
}

/// `retrieval source class` of `document_retrieved`.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
pub struct ProofV1 {
    /// Issuer key id, looked up in the anchor's `trust_jwks`.
    pub kid: String,
    /// Must be `EdDSA`.
    pub alg: String,
    /// base64 of the 64-byte signature.
    pub sig: String,
    /// Optional wire copy of the previous chain hash; must match the computed one.
    pub prev_hash: Option<String>,
}

/// `attestation_mode` (externally tagged).
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum AttestationModeV1 {
    Mediated { handler_id: String },
    Attested { attestor_id: String },
}

/// `verifier_attestation`: every member optional.
#[derive(Debug, Clone, Default)]
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
#[derive(Debug, Clone)]
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
    pub cosignatures: Vec<CosignatureV1>,
}

/// Which message a v1 cosignature signs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CosignatureKindV1 {
    /// The 48-byte tree-head message.
    #[default]
    Nucleus,
    /// The C2SP checkpoint body (bare 64-byte signature) or, as we also accept, a real
    /// cosignature/v1 (8-byte timestamp ‖ signature).
    C2sp,
}

/// A v1 cosignature.
#[derive(Debug, Clone)]
pub struct CosignatureV1 {
    /// Informational, never used for matching.
    pub witness_kid: String,
    /// base64 of the signature bytes.
    pub signature: String,
    /// Unsigned, ignored.
    pub timestamp_ms: u64,
    /// The signed message's kind.
    pub kind: CosignatureKindV1,
}

/// Inclusion of every edge in the tree head.
#[derive(Debug, Clone)]
pub struct MerkleAnchorV1 {
    /// The signed tree head.
    pub sth: SthV1,
    /// One proof per edge, in edge order.
    pub inclusion_proofs: Vec<InclusionProofV1>,
}

/// One inclusion proof.
#[derive(Debug, Clone)]
pub struct InclusionProofV1 {
    /// Leaf index.
    pub leaf_index: u64,
    /// Concatenated 32-byte sibling hashes, leaf to root, hex.
    pub audit_path_hex: String,
}

/// DSSE-style payload binding.
#[derive(Debug, Clone)]
pub struct PayloadBindingV1 {
    /// Payload type; part of the signed message.
    pub payload_type: String,
    /// SHA-256 of the payload bytes, hex.
    pub payload_hash_hex: String,
    /// The chain head, hex.
    pub envelope_head_hash_hex: String,
    /// The Merkle root, hex; present iff the bundle has a merkle anchor.
    pub merkle_root_hex: Option<String>,
    /// Signing key id, looked up in the anchor's JWKS.
    pub keyid: String,
    /// base64 signature.
    pub signature: String,
}

/// The never-verified envelope attestation.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct AttestationV1 {
    pub issuer_url: String,
    pub key_thumbprint: String,
    pub signed_attestation_jws: String,
}

json_object!(
    BundleV1 {
        payload: required,
        envelope: required,
        binding: optional,
        attestation: optional,
    } deny_unknown
);

json_object!(
    EnvelopeV1 {
        session_root: required,
        edges: required,
        jwks: required,
        checkpoints: required,
        merkle_anchor: optional,
        meta: required,
    } deny_unknown
);

json_object!(MetaV1 { schema_version: required, created_at: required } deny_unknown);

/// The edge's own members first; the `kind` tag and its variant's members come from what
/// is left (upstream flattens the kind into the edge); anything else is ignored.
impl FromJson for EdgeV1 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let mut m = Members::new(value, path)?;
        let edge = EdgeV1 {
            child: m.required("child")?,
            parents: m.required("parents")?,
            content_hash_hex: m.optional("content_hash_hex")?,
            ts: m.required("ts")?,
            attrs: m.optional("attrs")?,
            proof: m.optional("proof")?,
            verifier_attestation: m.optional("verifier_attestation")?,
            kind: KindV1::from_members(&mut m, path)?,
        };
        m.ignore_rest()?;
        Ok(edge)
    }
}

impl KindV1 {
    fn from_members(m: &mut Members<'_, '_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let tag: String = m.required("kind")?;
        Ok(match tag.as_str() {
            "pod_admit" => KindV1::PodAdmit,
            "tool_call" => KindV1::ToolCall {
                tool: m.required("tool")?,
            },
            "llm_call" => KindV1::LlmCall {
                provider: m.required("provider")?,
                direction: m.required("direction")?,
            },
            "artifact_produced" => KindV1::ArtifactProduced,
            "merge" => KindV1::Merge,
            "document_retrieved" => KindV1::DocumentRetrieved {
                source_url: m.required("source_url")?,
                content_hash: m.required("content_hash")?,
                retrieval_ts: m.required("retrieval_ts")?,
                source_class: m.required("source_class")?,
            },
            "bid" => KindV1::Bid {
                market_id: m.required("market_id")?,
            },
            "allocation" => KindV1::Allocation {
                market_id: m.required("market_id")?,
                mechanism: m.required("mechanism")?,
            },
            "contract_evaluation" => KindV1::ContractEvaluation {
                contract_id: m.required("contract_id")?,
                step: m.required("step")?,
            },
            "dispute" => KindV1::Dispute {
                dispute_id: m.required("dispute_id")?,
                target_edge_hash: m.required("target_edge_hash")?,
            },
            "metric_claim" => KindV1::MetricClaim {
                metric_name: m.required("metric_name")?,
                window_id: m.required("window_id")?,
            },
            "settlement" => KindV1::Settlement {
                tx_ref: m.required("tx_ref")?,
                rail: m.required("rail")?,
            },
            "externality" => KindV1::Externality {
                resource: m.required("resource")?,
                oracle_kid: m.required("oracle_kid")?,
            },
            "pigouvian_rate_update" => KindV1::PigouvianRateUpdate {
                resource: m.required("resource")?,
                rate_micro_usd_per_unit: m.required("rate_micro_usd_per_unit")?,
                window_unix_micros: m.required("window_unix_micros")?,
            },
            "welfare_rebate" => KindV1::WelfareRebate {
                recipient_kid: m.required("recipient_kid")?,
                micro_usd: m.required("micro_usd")?,
                source_externality_edge_hash: m.required("source_externality_edge_hash")?,
            },
            "other" => KindV1::Other {
                name: m.required("name")?,
            },
            unknown => {
                return Err(DecodeError::invalid(
                    &path.member("kind"),
                    format!("unknown edge kind {}", Quoted(unknown)),
                ));
            }
        })
    }
}

impl FromJson for SourceClassV1 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        match String::from_json(value, path)?.as_str() {
            "web" => Ok(SourceClassV1::Web),
            "rag_index" => Ok(SourceClassV1::RagIndex),
            "local_file" => Ok(SourceClassV1::LocalFile),
            "memory" => Ok(SourceClassV1::Memory),
            other => Err(DecodeError::invalid(
                path,
                format!(
                    "unknown source class {} (expected web, rag_index, local_file or memory)",
                    Quoted(other)
                ),
            )),
        }
    }
}

json_object!(
    ProofV1 {
        kid: required,
        alg: required,
        sig: required,
        prev_hash: optional,
    } ignore_rest
);

/// Externally tagged, as upstream writes it: `{"Mediated": {"handler_id": …}}`.
impl FromJson for AttestationModeV1 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let mut variants = match value {
            Json::Object(members) if members.len() == 1 => members,
            other => {
                return Err(DecodeError::wrong_type(
                    path,
                    "an object with one member, Mediated or Attested",
                    &other,
                ));
            }
        };
        let (name, body) = variants.remove(0);
        let body_path = path.member(&name);
        let mut m = Members::new(body, &body_path)?;
        let mode = match &*name {
            "Mediated" => AttestationModeV1::Mediated {
                handler_id: m.required("handler_id")?,
            },
            "Attested" => AttestationModeV1::Attested {
                attestor_id: m.required("attestor_id")?,
            },
            other => {
                return Err(DecodeError::invalid(
                    path,
                    format!(
                        "unknown attestation mode {} (expected Mediated or Attested)",
                        Quoted(other)
                    ),
                ));
            }
        };
        m.ignore_rest()?;
        Ok(mode)
    }
}

json_object!(
    VerifierAttestationV1 {
        verifier_binary_hash: optional,
        wasmtime_version: optional,
        wasmtime_config_hash: optional,
        vrf_params_hash: optional,
        external_snapshot_root: optional,
        lean_spec_hash: optional,
        ifc_gated_effective_integrity: optional,
        ifc_effective_integrity: optional,
        ifc_effective_confidentiality: optional,
        budget_charged_micro_usd: optional,
        budget_effective_remaining_micro_usd: optional,
        budget_spent_so_far_micro_usd: optional,
        attestation_mode: optional,
    } ignore_rest
);

json_object!(
    SthV1 {
        tree_size: required,
        timestamp_ms: required,
        root_hash_hex: required,
        witness_kid: required,
        witness_sig: required,
        cosignatures: or_default,
    } deny_unknown
);

impl FromJson for CosignatureKindV1 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        match String::from_json(value, path)?.as_str() {
            "nucleus" => Ok(CosignatureKindV1::Nucleus),
            "c2sp" => Ok(CosignatureKindV1::C2sp),
            other => Err(DecodeError::invalid(
                path,
                format!(
                    "unknown cosignature kind {} (expected nucleus or c2sp)",
                    Quoted(other)
                ),
            )),
        }
    }
}

json_object!(
    CosignatureV1 {
        witness_kid: required,
        signature: required,
        timestamp_ms: required,
        kind: or_default,
    } deny_unknown
);

json_object!(MerkleAnchorV1 { sth: required, inclusion_proofs: required } ignore_rest);

json_object!(InclusionProofV1 { leaf_index: required, audit_path_hex: required } ignore_rest);

json_object!(
    PayloadBindingV1 {
        payload_type: required,
        payload_hash_hex: required,
        envelope_head_hash_hex: required,
        merkle_root_hex: optional,
        keyid: required,
        signature: required,
    } ignore_rest
);

json_object!(
    AttestationV1 {
        issuer_url: required,
        key_thumbprint: required,
        signed_attestation_jws: required,
    } deny_unknown
);
