//! The v3 bundle JSON (`crates/envelope/README.md` is the normative description). Unknown
//! members are errors at every level and duplicate member names (attribute keys included)
//! are refused by the parser, so what is parsed is exactly what the seal covers.

use std::collections::BTreeMap;

use nucleus_json::{DecodeError, FromJson, Json, Members, Path};
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

impl FromJson for BundleV3 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let mut m = Members::new(value, path)?;
        let bundle = BundleV3 {
            format: m.required("format")?,
            session: m.required("session")?,
            edges: m.required("edges")?,
            log: m.required("log")?,
            payload: m.optional("payload")?,
            seal: m.required("seal")?,
        };
        m.deny_unknown()?;
        Ok(bundle)
    }
}

impl EdgeV3 {
    /// Parses one edge from JSON text (as the producer stores it).
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        nucleus_json::from_slice(text.as_bytes())
    }
}

impl FromJson for EdgeV3 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let mut m = Members::new(value, path)?;
        let edge = EdgeV3 {
            seq: m.required("seq")?,
            child: m.required("child")?,
            parents: m.required("parents")?,
            kind: m.required("kind")?,
            content_sha256_hex: m.optional("content_sha256_hex")?,
            ts: m.required("ts")?,
            attrs: m.or_default("attrs")?,
            kid: m.required("kid")?,
        };
        m.deny_unknown()?;
        Ok(edge)
    }
}

impl FromJson for LogProofV3 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let mut m = Members::new(value, path)?;
        let log = LogProofV3 {
            checkpoint: m.required("checkpoint")?,
            inclusion: m.required("inclusion")?,
        };
        m.deny_unknown()?;
        Ok(log)
    }
}

impl FromJson for InclusionV3 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let mut m = Members::new(value, path)?;
        let inclusion = InclusionV3 {
            leaf_index: m.required("leaf_index")?,
            proof_hex: m.required("proof_hex")?,
        };
        m.deny_unknown()?;
        Ok(inclusion)
    }
}

impl FromJson for PayloadV3 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let mut m = Members::new(value, path)?;
        let payload = PayloadV3 {
            media_type: m.required("media_type")?,
            data_b64: m.required("data_b64")?,
        };
        m.deny_unknown()?;
        Ok(payload)
    }
}

impl FromJson for SealV3 {
    fn from_json(value: Json<'_>, path: &Path<'_>) -> Result<Self, DecodeError> {
        let mut m = Members::new(value, path)?;
        let seal = SealV3 {
            kid: m.required("kid")?,
            sig: m.required("sig")?,
        };
        m.deny_unknown()?;
        Ok(seal)
    }
}
