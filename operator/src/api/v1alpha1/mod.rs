//! `trust.nucleus.dev/v1alpha1`: the four kinds, designed together.
//!
//! | kind | scope | reconciled by |
//! |---|---|---|
//! | [`Witness`] | namespaced | `reconcile::witness` |
//! | [`QuorumPolicy`] | namespaced | `reconcile::quorum_policy` |
//! | [`FederatesWith`] | **cluster** | `reconcile::federates_with` (federation work) |
//! | [`BundleReplica`] | namespaced | `reconcile::bundle_replica` (bundle-cas work) |
//!
//! FederatesWith is cluster-scoped, like SPIRE's `ClusterFederatedTrustDomain`: accepting
//! another trust domain's keys is a cluster-wide trust decision, so namespace editors must
//! not be able to add one; the bundle it accepts is written to a ConfigMap in the namespace
//! named by `spec.target` (a cluster-scoped owner may own namespaced objects).
//!
//! Every status carries `observedGeneration` and a `conditions` list (a map keyed by
//! `type`, at most [`conditions::MAX_CONDITIONS`]) with a `Ready` summary condition.

// Several `printcolumn(type_ = ...)` entries in one `#[kube]` attribute are distinct columns,
// not duplicates; clippy's lint cannot tell.
#![allow(clippy::duplicated_attributes)]

pub mod bundle_replica;
pub mod conditions;
pub mod federates_with;
pub mod quorum_policy;
pub mod witness;

pub use bundle_replica::{BundleReplica, BundleReplicaSpec, BundleReplicaStatus};
pub use federates_with::{FederatesWith, FederatesWithSpec, FederatesWithStatus};
pub use quorum_policy::{QuorumPolicy, QuorumPolicySpec, QuorumPolicyStatus};
pub use witness::{Witness, WitnessSpec, WitnessStatus};

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// API group of every kind.
pub const GROUP: &str = "trust.nucleus.dev";
/// API version of this module.
pub const VERSION: &str = "v1alpha1";

/// A key of a Secret in the same namespace as the referring object.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key inside the Secret's data.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// A key of a ConfigMap in the same namespace as the referring object.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapKeyRef {
    /// ConfigMap name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key inside the ConfigMap's data.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// Regex (RE2 and Rust `regex` compatible) for an Ed25519 public key given either as 64 hex
/// digits or as a C2SP vkey `name+keyid+base64`. The operator parses it with
/// `nucleus_lineage::vkey` afterwards; the pattern only rejects obvious garbage early.
pub const PUBLIC_KEY_PATTERN: &str =
    r"^([0-9a-fA-F]{64}|[^\s+]+\+[0-9a-fA-F]{8}\+[A-Za-z0-9+/]+={0,2})$";

/// Regex for a C2SP key name: non-empty, no whitespace, no `+`.
pub const KEY_NAME_PATTERN: &str = r"^[^\s+]+$";
