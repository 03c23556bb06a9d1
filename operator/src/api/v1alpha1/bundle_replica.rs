//! `BundleReplica`: a disaster-recovery copy of a provenance bundle, fetched by BLAKE3 hash
//! over iroh-blobs, verified against an out-of-band trust anchor, stored in a ConfigMap.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// Desired replica of one bundle.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "trust.nucleus.dev",
    version = "v1alpha1",
    kind = "BundleReplica",
    namespaced,
    status = "BundleReplicaStatus",
    shortname = "br",
    category = "nucleus",
    storage = true,
    served = true,
    cel,
    doc = "A verified in-cluster replica of a provenance bundle addressed by its BLAKE3 hash.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(name = "Size", type_ = "integer", json_path = ".status.size"),
    printcolumn(
        name = "Hash",
        type_ = "string",
        json_path = ".spec.hash",
        priority = 1
    ),
    printcolumn(
        name = "Source",
        type_ = "string",
        json_path = ".status.sourceUsed",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    selectable = ".spec.hash"
)]
#[serde(rename_all = "camelCase")]
pub struct BundleReplicaSpec {
    /// BLAKE3 hash of the exact bundle bytes, 64 lowercase hex digits. Immutable: a
    /// different bundle is a different BundleReplica.
    #[schemars(length(min = 64, max = 64), regex(pattern = r"^[0-9a-f]{64}$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("hash is immutable; create a new BundleReplica"))]
    pub hash: String,

    /// iroh node tickets to fetch from, tried in order.
    #[schemars(length(min = 1, max = 8))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub sources: Vec<Ticket>,

    /// The out-of-band trust anchor (e.g. a QuorumPolicy's rendered ConfigMap, key
    /// `trust-anchor.json`). The bundle's embedded keys are never trusted.
    pub trust_anchor_ref: TrustAnchorRef,

    /// Where the verified bundle is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ReplicaTarget>,
}

/// An iroh node ticket (bounded so CEL cost stays low).
pub type Ticket = String;

/// A ConfigMap key in the replica's namespace holding a trust anchor.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrustAnchorRef {
    /// ConfigMap name.
    #[schemars(length(min = 1, max = 253))]
    pub config_map_name: String,
    /// Key inside the ConfigMap.
    #[serde(default = "default_anchor_key")]
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

fn default_anchor_key() -> String {
    "trust-anchor.json".to_owned()
}

/// The ConfigMap receiving the bundle bytes (`bundle.json`) and the report (`report.json`).
/// Bundles larger than a ConfigMap can hold are refused with a condition.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaTarget {
    /// ConfigMap name; `bundle-<metadata.name>` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub config_map_name: Option<String>,
}

/// Observed state of a replica.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BundleReplicaStatus {
    /// The generation this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, HashMismatch, ProvenanceFailed, SourceUnreachable.
    #[serde(default)]
    #[schemars(length(max = 10))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Size of the stored bundle in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// The ticket the verified bytes came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_used: Option<String>,
    /// Summary of the provenance verification of the stored bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<VerifiedSummary>,
    /// The ConfigMap holding the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// When the last fetch attempt finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<Time>,
}

/// What `verify_bundle` reported for the stored bundle.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedSummary {
    /// Signed edges verified.
    pub edges: i64,
    /// Witnesses whose cosignatures counted.
    #[serde(default)]
    pub witnesses_counted: Vec<String>,
    /// Whether the cosignature quorum was met.
    pub quorum_satisfied: bool,
}
