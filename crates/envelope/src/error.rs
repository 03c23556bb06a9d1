//! The typed verification error and its stable `kind()` strings.

use nucleus_lineage::quoted::{Quoted, QuotedList};
use serde::ser::SerializeStruct;
use thiserror::Error;

/// Why one edge (or the v3 seal) failed its key, signature or chain check.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EdgeFault {
    /// The edge carries no proof.
    #[error("edge is unsigned")]
    Unsigned,
    /// The wire `prev_hash` differs from the hash the verifier computed.
    #[error("prev_hash {found} does not match the computed chain hash {expected}")]
    BrokenChain {
        /// The computed previous hash (hex).
        expected: String,
        /// The hash in the bundle (hex).
        found: String,
    },
    /// The proof or key names an algorithm other than EdDSA.
    #[error("algorithm {} is not supported (expected EdDSA)", Quoted(.0))]
    UnsupportedAlg(String),
    /// The signature is not 64 bytes of canonical base64.
    #[error("signature is not 64 bytes of canonical base64")]
    BadSignatureEncoding,
    /// The issuer key's validity window starts after the edge timestamp.
    #[error("key {} is not yet valid at the edge timestamp", Quoted(.0))]
    KeyNotYetValid(String),
    /// The issuer key's validity window ended before the edge timestamp.
    #[error("key {} has expired at the edge timestamp", Quoted(.0))]
    KeyExpired(String),
    /// No key with this kid is in the trust anchor's JWKS.
    #[error("kid {} is not in the trust anchor's trust_jwks", Quoted(.0))]
    UnknownKid(String),
    /// The trusted key is not an OKP/Ed25519 key.
    #[error("key {} is not an OKP Ed25519 key", Quoted(.0))]
    UnsupportedKey(String),
    /// The trusted key's `x` is not a valid Ed25519 public key.
    #[error("key {} has a malformed or weak public key", Quoted(.0))]
    MalformedKey(String),
    /// The strict Ed25519 check over the canonical bytes (v1 edge, v3 seal) failed.
    #[error("signature does not verify over the canonical bytes")]
    BadSignature,
    /// The key has a validity window but nothing signed says when it was used (the seal
    /// of a v3 bundle without edges).
    #[error("key {} has a validity window and the bundle names no time to check it at", Quoted(.0))]
    UntimedKeyWindow(String),
    /// A field of the edge is malformed (v3: non-canonical timestamp, bad hash hex, wrong seq).
    #[error("malformed edge: {0}")]
    Malformed(String),
}

impl EdgeFault {
    fn kind(&self) -> &'static str {
        match self {
            EdgeFault::Unsigned => "unsigned_edge",
            EdgeFault::BrokenChain { .. } => "broken_chain",
            EdgeFault::UnsupportedAlg(_) => "unsupported_alg",
            EdgeFault::BadSignatureEncoding => "bad_signature_encoding",
            EdgeFault::KeyNotYetValid(_) => "key_not_yet_valid",
            EdgeFault::KeyExpired(_) => "key_expired",
            EdgeFault::UnknownKid(_) => "unknown_kid",
            EdgeFault::UnsupportedKey(_) => "unsupported_key",
            EdgeFault::MalformedKey(_) => "malformed_key",
            EdgeFault::BadSignature => "bad_signature",
            EdgeFault::UntimedKeyWindow(_) => "untimed_key_window",
            EdgeFault::Malformed(_) => "malformed_edge",
        }
    }
}

/// Why a bundle failed to verify. Every variant fails closed; [`BundleError::kind`] is a stable
/// machine-readable name (also the `kind` member of the serialized form).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BundleError {
    /// The bundle is not valid JSON of a known shape.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// The `format` member names a format this verifier does not know.
    #[error("unsupported bundle format {} (expected nucleus-bundle/v3 or a v1 envelope)", Quoted(.0))]
    UnsupportedFormat(String),
    /// A v1 `meta.schema_version` greater than 1.
    #[error("unsupported v1 schema_version {0} (expected 1)")]
    UnsupportedSchema(u32),
    /// The trust anchor is malformed or cannot express a safe policy.
    #[error("invalid trust anchor: {0}")]
    InvalidTrustAnchor(String),
    /// A DoS cap was exceeded before any cryptography ran.
    #[error("bundle too large: more than {limit} {what}")]
    TooLarge {
        /// What was counted.
        what: &'static str,
        /// The cap.
        limit: usize,
    },
    /// A v1 session root that is a `/call/` id, not a pod.
    #[error("session_root {} is not a pod id (contains /call/)", Quoted(.0))]
    SessionRootNotPod(String),
    /// The bundle has no edges and the anchor does not allow empty bundles.
    #[error("the bundle has no edges")]
    EmptyEnvelope,
    /// The first v1 edge is not the root's `pod_admit`.
    #[error("bad head edge: {0}")]
    BadHead(String),
    /// An edge endpoint lies outside the session root.
    #[error("edge {index}: {endpoint} {} is outside the session root", Quoted(.id))]
    OutsideRoot {
        /// Edge index.
        index: usize,
        /// `child` or `parent`.
        endpoint: &'static str,
        /// The offending id.
        id: String,
    },
    /// An edge failed its signature or chain check.
    #[error("edge {index}: {fault}")]
    Edge {
        /// Edge index.
        index: usize,
        /// What was wrong.
        fault: EdgeFault,
    },
    /// The v3 seal failed: its key (unknown, out of its window, unusable) or its signature
    /// over the session, edge count, chain head and payload.
    #[error("seal: {0}")]
    Seal(EdgeFault),
    /// The anchor pins no log key although the bundle is anchored in a log.
    #[error("the trust anchor pins no log key (trust_witness_pubkey_hex or a policy log line)")]
    MissingLogKey,
    /// The log's checkpoint or tree head is malformed or not signed by a pinned log key.
    #[error("bad checkpoint: {0}")]
    BadCheckpoint(String),
    /// The checkpoint's origin is not the one the anchor pins.
    #[error("checkpoint origin {} is not the trusted origin {}", Quoted(.found), Quoted(.expected))]
    OriginMismatch {
        /// The anchor's origin.
        expected: String,
        /// The checkpoint's origin.
        found: String,
    },
    /// An edge's inclusion proof does not verify against the checkpoint.
    #[error("inclusion proof of edge {index} failed: {reason}")]
    InclusionFailed {
        /// Edge index.
        index: usize,
        /// What was wrong.
        reason: String,
    },
    /// Fewer distinct trusted witnesses cosigned than the anchor's threshold.
    #[error("{verified} distinct trusted cosignatures verified, {required} required")]
    InsufficientCosignatures {
        /// Distinct trusted witnesses whose cosignatures verified.
        verified: usize,
        /// The anchor's threshold.
        required: usize,
    },
    /// The anchor's quorum policy is not satisfied by the verified cosigners.
    #[error("quorum policy not satisfied (verified cosigners: {})", QuotedList(.counted))]
    QuorumNotSatisfied {
        /// Witness names whose cosignatures verified.
        counted: Vec<String>,
    },
    /// The anchor requires a bound payload (`require_payload_binding`) and the bundle has
    /// none (v3: no payload, which the seal would cover; v1: no verified binding).
    #[error(
        "the trust anchor requires a bound payload (require_payload_binding) and the bundle has none"
    )]
    MissingPayloadBinding,
    /// The v1 payload binding does not verify.
    #[error("bad payload binding: {0}")]
    BadPayloadBinding(String),
}

impl BundleError {
    /// A stable snake_case name of the failure, for programs (JS, JSON output).
    pub fn kind(&self) -> &'static str {
        match self {
            BundleError::Malformed(_) => "malformed_bundle",
            BundleError::UnsupportedFormat(_) => "unsupported_format",
            BundleError::UnsupportedSchema(_) => "unsupported_schema",
            BundleError::InvalidTrustAnchor(_) => "invalid_trust_anchor",
            BundleError::TooLarge { .. } => "too_large",
            BundleError::SessionRootNotPod(_) => "session_root_not_pod",
            BundleError::EmptyEnvelope => "empty_envelope",
            BundleError::BadHead(_) => "bad_head",
            BundleError::OutsideRoot { .. } => "outside_root",
            BundleError::Edge { fault, .. } => fault.kind(),
            BundleError::Seal(EdgeFault::BadSignature) => "bad_seal",
            BundleError::Seal(fault) => fault.kind(),
            BundleError::MissingLogKey => "missing_log_key",
            BundleError::BadCheckpoint(_) => "bad_checkpoint",
            BundleError::OriginMismatch { .. } => "origin_mismatch",
            BundleError::InclusionFailed { .. } => "inclusion_failed",
            BundleError::InsufficientCosignatures { .. } => "insufficient_cosignatures",
            BundleError::QuorumNotSatisfied { .. } => "quorum_not_satisfied",
            BundleError::MissingPayloadBinding => "missing_payload_binding",
            BundleError::BadPayloadBinding(_) => "bad_payload_binding",
        }
    }

    pub(crate) fn edge(index: usize, fault: EdgeFault) -> Self {
        BundleError::Edge { index, fault }
    }
}

impl serde::Serialize for BundleError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("BundleError", 2)?;
        s.serialize_field("kind", self.kind())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}
