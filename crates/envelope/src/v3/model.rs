//! The v3 bundle JSON (`crates/envelope/README.md` is the normative description). Unknown
//! members are errors at every level and duplicate member names (attribute keys included)
//! are refused by the parser, so what is parsed is exactly what the seal covers.

use std::collections::BTreeMap;

use nucleus_json::{DecodeError, json_object};
use serde::Serialize;

/// The `format` value of a v3 bundle.
pub const FORMAT_V3: &str = "nucleus-bundle/v3";

/// A v3 provenance bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleV3 {
    /// Always [`FORMAT_V3`].
    pub format: String,
    /// The session id (inside every edge's encoding and the seal).
    pub session: String,
    /// The session's edges in chain order (`seq` 0, 1, …).
    pub edges: Vec<EdgeV3>,
    /// Where the edges are in the log, and the cosigned checkpoint.
    pub log: LogProofV3,
    /// Optional payload (exact bytes, base64), covered by the seal when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<PayloadV3>,
    /// The issuer's one signature over the session, edge count, chain head and payload.
    pub seal: SealV3,
}

/// One edge. Every member is in the edge encoding, whose hash chains into the sealed head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdgeV3 {
    /// Position in the session chain (0-based, equal to the edge's index).
    pub seq: u64,
    /// The id this derivation produced.
    pub child: String,
    /// The ids it was derived from.
    pub parents: Vec<String>,
    /// The kind (free-form, e.g. `tool_call`).
    pub kind: String,
    /// SHA-256 of the content, 64 lowercase hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_sha256_hex: Option<String>,
    /// Timestamp, canonical RFC 3339 UTC (`Z`, 0/3/6/9 fractional digits).
    pub ts: String,
    /// Attributes (keys unique).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
    /// Issuer key id that recorded the edge, looked up in the trust anchor's `trust_jwks`
    /// (valid at `ts`).
    pub kid: String,
}

/// The log part of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogProofV3 {
    /// The checkpoint as a full signed note: body, blank line, the log's signature line and
    /// the witnesses' cosignature/v1 lines.
    pub checkpoint: String,
    /// One inclusion proof per edge, in edge order.
    pub inclusion: Vec<InclusionV3>,
}

/// An RFC 6962 inclusion proof of one edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InclusionV3 {
    /// The edge's leaf index in the log.
    pub leaf_index: u64,
    /// Sibling hashes, leaf to root, each 64 hex.
    pub proof_hex: Vec<String>,
}

/// The payload, carried as its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadV3 {
    /// Media type of the bytes (covered by the seal).
    pub media_type: String,
    /// Canonical base64 of the payload bytes.
    pub data_b64: String,
}

/// The issuer's seal over the whole bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealV3 {
    /// Issuer key id, looked up in the trust anchor's `trust_jwks` (valid at the head
    /// edge's `ts`).
    pub kid: String,
    /// Canonical base64 of the 64-byte Ed25519 signature over the seal message.
    pub sig: String,
}

impl BundleV3 {
    /// Parses a v3 bundle from JSON bytes (no verification).
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        nucleus_json::from_slice(bytes)
    }
}

json_object!(
    BundleV3 {
        format: required,
        session: required,
        edges: required,
        log: required,
        payload: optional,
        seal: required,
    } deny_unknown
);

impl EdgeV3 {
    /// Parses one edge from JSON text (as the producer stores it).
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        nucleus_json::from_slice(text.as_bytes())
    }
}

json_object!(
    EdgeV3 {
        seq: required,
        child: required,
        parents: required,
        kind: required,
        content_sha256_hex: optional,
        ts: required,
        attrs: or_default,
        kid: required,
    } deny_unknown
);

json_object!(LogProofV3 { checkpoint: required, inclusion: required } deny_unknown);

json_object!(InclusionV3 { leaf_index: required, proof_hex: required } deny_unknown);

json_object!(PayloadV3 { media_type: required, data_b64: required } deny_unknown);

json_object!(SealV3 { kid: required, sig: required } deny_unknown);
