//! `Witness`: one running `nucleus-witness` per failure domain.

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{KEY_NAME_PATTERN, PUBLIC_KEY_PATTERN, SecretKeyRef};

/// Desired state of a witness: its C2SP name, the logs it cosigns for, where its seed and
/// database URL live, and how it runs.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "trust.nucleus.dev",
    version = "v1alpha1",
    kind = "Witness",
    namespaced,
    status = "WitnessStatus",
    shortname = "wit",
    category = "nucleus",
    storage = true,
    served = true,
    cel,
    doc = "A transparency-log witness (nucleus-witness) run as a Deployment.",
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
    printcolumn(name = "Witness", type_ = "string", json_path = ".spec.witnessName"),
    printcolumn(name = "Key ID", type_ = "string", json_path = ".status.keyId"),
    printcolumn(
        name = "Replicas",
        type_ = "integer",
        json_path = ".status.readyReplicas"
    ),
    printcolumn(
        name = "Endpoint",
        type_ = "string",
        json_path = ".status.endpoint",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    selectable = ".spec.witnessName"
)]
#[serde(rename_all = "camelCase")]
pub struct WitnessSpec {
    /// C2SP key name used in cosignature lines, e.g. `witness.example/aws-use1`.
    #[schemars(length(min = 1, max = 128), regex(pattern = KEY_NAME_PATTERN))]
    pub witness_name: String,

    /// Logs this witness cosigns for (at most one entry per origin).
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["origin".into()]))]
    pub origins: Vec<WitnessOrigin>,

    /// Where the 32-byte Ed25519 seed comes from.
    pub seed: SeedSource,

    /// The durable store. State is never kept in memory only.
    pub database: DatabaseSpec,

    /// Pod replicas (all share the database, so any replica may cosign). A
    /// PodDisruptionBudget is created when greater than 1.
    #[serde(default = "default_replicas")]
    #[schemars(range(min = 1, max = 9))]
    pub replicas: i32,

    /// Container image; the operator's `--witness-image` default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,

    /// Image pull policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,

    /// Container resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// How the witness is exposed.
    #[serde(default)]
    pub service: WitnessService,

    /// Pinned public key (64 hex or a vkey). When set, a seed whose key differs is reported
    /// as `KeyPinned=False` and the witness is not rolled out with the unexpected key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512), regex(pattern = PUBLIC_KEY_PATTERN))]
    pub public_key: Option<String>,
}

fn default_replicas() -> i32 {
    1
}

/// A log the witness cosigns for. Rendered as `origin|keyName|publicKeyHex`, one per line,
/// in the origins ConfigMap (the witness reads it with `--origins-file`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WitnessOrigin {
    /// The checkpoint origin line, e.g. `example.com/log`.
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[^|\n]+$"))]
    pub origin: String,
    /// The log's signed-note key name.
    #[schemars(length(min = 1, max = 128), regex(pattern = KEY_NAME_PATTERN))]
    pub key_name: String,
    /// The log's Ed25519 public key: 64 hex digits or a vkey.
    #[schemars(length(min = 1, max = 512), regex(pattern = PUBLIC_KEY_PATTERN))]
    pub public_key: String,
}

/// Where the witness seed lives.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SeedSource {
    /// The Secret key holding the seed as 64 hex digits.
    pub secret_ref: SecretKeyRef,
    /// Create the Secret (immutable, random seed) when it does not exist. An existing
    /// Secret is never overwritten.
    #[serde(default)]
    pub generate: bool,
    /// Keep a Secret the operator generated when the Witness is deleted (otherwise it is
    /// owned by the Witness and garbage-collected with it). Secrets the operator did not
    /// create are never deleted.
    #[serde(default)]
    pub retain_on_delete: bool,
}

/// The witness database.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseSpec {
    /// Postgres connection settings.
    pub postgres: PostgresSpec,
}

/// Postgres settings.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PostgresSpec {
    /// The Secret key holding the `postgres://` URL (passed as `NUCLEUS_WITNESS_DB_URL`).
    pub url_secret_ref: SecretKeyRef,
}

/// Container image pull policy.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    /// Always pull.
    Always,
    /// Pull when absent.
    IfNotPresent,
    /// Never pull.
    Never,
}

impl PullPolicy {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}

/// Service exposure.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WitnessService {
    /// Service type.
    #[serde(default, rename = "type")]
    pub type_: ServiceType,
    /// Service and container port.
    #[serde(default = "default_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
}

impl Default for WitnessService {
    fn default() -> Self {
        Self {
            type_: ServiceType::default(),
            port: default_port(),
        }
    }
}

fn default_port() -> i32 {
    8080
}

/// Kubernetes Service type.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ServiceType {
    /// Cluster-internal.
    #[default]
    ClusterIP,
    /// Node port.
    NodePort,
    /// Cloud load balancer.
    LoadBalancer,
}

impl ServiceType {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClusterIP => "ClusterIP",
            Self::NodePort => "NodePort",
            Self::LoadBalancer => "LoadBalancer",
        }
    }
}

/// Observed state of a witness.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WitnessStatus {
    /// The generation this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, SeedAvailable, DatabaseConfigured, KeyPinned, Available.
    #[serde(default)]
    #[schemars(length(max = 10))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Ed25519 public key, 64 lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_hex: Option<String>,
    /// Cosignature vkey (`name+keyid+base64`, key type 0x04) to paste into verifiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vkey: Option<String>,
    /// Cosignature key ID, 8 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// In-cluster URL of the witness Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Pods of the Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Ready pods of the Deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    /// Whether the seed Secret was generated by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_generated: Option<bool>,
}
