//! What a successful verification reports. Every value here is covered by a signature the
//! verifier checked (issuer, log key or witness) or derived from such values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The bundle format that was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BundleFormat {
    /// The original implementation's envelope (read-only).
    V1,
    /// `nucleus-bundle/v3`.
    V3,
}

/// One verified edge. For v1 bundles only the signed fields are reported: `attrs` and the
/// kind's variant fields are unsigned there, so they are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedEdge {
    /// Position in the chain.
    pub index: usize,
    /// The id this derivation produced.
    pub child: String,
    /// The ids it was derived from.
    pub parents: Vec<String>,
    /// The kind tag.
    pub kind: String,
    /// SHA-256 of the content (hex), when the edge carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_hash_hex: Option<String>,
    /// The timestamp as signed (v1: `+00:00` form, v3: `Z` form).
    pub ts: String,
    /// Attributes (v3 only; signed).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
    /// The issuer key id that signed the edge (its key came from the trust anchor).
    pub kid: String,
    /// The edge's chain hash (hex).
    pub edge_hash_hex: String,
}

/// The log checkpoint the edges are included in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedLog {
    /// The log origin (v3: from the log-signed checkpoint; v1: the anchor's origin if set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The tree size.
    pub size: u64,
    /// The root hash (hex).
    pub root_hex: String,
    /// Leaf index of each edge, in edge order.
    pub leaf_indices: Vec<u64>,
}

/// A trusted witness whose cosignature verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedCosigner {
    /// The key name on the cosignature line (v3) or the policy name (when the policy names
    /// the key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The policy name of the witness, when the anchor's policy declares its key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// The witness public key (hex).
    pub key_hex: String,
    /// The signed cosignature timestamp (Unix seconds), when the format signs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
}

impl ReportedCosigner {
    /// How to name this witness to a person: its policy name, else the key name on its
    /// cosignature line, else its key (hex).
    pub fn label(&self) -> &str {
        self.policy_name
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.key_hex)
    }
}

/// The result of a successful [`crate::verify_bundle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// Which format was verified.
    pub format: BundleFormat,
    /// The session: v3 session id, v1 session root.
    pub session: String,
    /// The trust domain of the session root (v1), when it is a SPIFFE id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_domain: Option<String>,
    /// Number of edges.
    pub edge_count: usize,
    /// The verified edges, in chain order.
    pub edges: Vec<ReportedEdge>,
    /// Hex of the last edge's chain hash (`""` when there are no edges).
    pub head_hash_hex: String,
    /// Sorted, de-duplicated issuer key ids.
    pub kids: Vec<String>,
    /// The checkpoint / tree head, when the bundle is anchored in a log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<ReportedLog>,
    /// Trusted witnesses whose cosignatures verified (each key once).
    pub cosigners: Vec<ReportedCosigner>,
    /// The anchor's threshold that was met (0 = none required).
    pub cosignature_threshold: usize,
    /// Whether the anchor's quorum policy holds (`None` when the anchor has no policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum_satisfied: Option<bool>,
    /// Whether the payload is bound by a verified issuer signature.
    pub payload_bound: bool,
    /// SHA-256 of the bound payload bytes (hex), only when `payload_bound`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_sha256_hex: Option<String>,
}
