//! `QuorumPolicy`: the k-of-n policy every verifier enforces, rendered into a ConfigMap.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::PUBLIC_KEY_PATTERN;

/// Regex for a policy name (witness or group): what the Sigsum grammar accepts as a token.
pub const POLICY_NAME_PATTERN: &str = r"^[A-Za-z0-9._/:-]+$";

/// Desired policy: either structured (`log`, `witnesses`, `groups`, `quorum`) or the text
/// of a Sigsum policy (`policyText`), never both.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "trust.nucleus.dev",
    version = "v1alpha1",
    kind = "QuorumPolicy",
    namespaced,
    status = "QuorumPolicyStatus",
    shortname = "qp",
    category = "nucleus",
    storage = true,
    served = true,
    cel,
    doc = "A k-of-n witness quorum policy, rendered to policy.txt and trust-anchor.json.",
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
    printcolumn(name = "Quorum", type_ = "string", json_path = ".status.threshold"),
    printcolumn(
        name = "Resolved",
        type_ = "integer",
        json_path = ".status.resolvedCount"
    ),
    printcolumn(
        name = "ConfigMap",
        type_ = "string",
        json_path = ".status.configMap",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(
    validation = Rule::new("has(self.policyText) != (has(self.witnesses) || has(self.groups) || has(self.quorum))")
        .message("set either policyText or the structured fields (witnesses, groups, quorum), not both")
        .reason(Reason::FieldValueForbidden),
    validation = Rule::new("has(self.policyText) || (has(self.witnesses) && has(self.quorum))")
        .message("a structured policy needs witnesses and a quorum")
        .reason(Reason::FieldValueRequired),
    validation = Rule::new("!has(self.quorum) || (has(self.witnesses) && self.witnesses.exists(w, w.name == self.quorum)) || (has(self.groups) && self.groups.exists(g, g.name == self.quorum))")
        .message("quorum must name a witness or a group of this policy")
        .field_path(".quorum"),
)]
#[serde(rename_all = "camelCase")]
pub struct QuorumPolicySpec {
    /// The log whose checkpoints the policy is about (`log` line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PolicyLog>,

    /// Named witnesses: a reference to a Witness in this cluster, or a raw key (and URL)
    /// for a witness elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub witnesses: Option<Vec<PolicyWitness>>,

    /// Groups over witnesses and other groups (nesting allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub groups: Option<Vec<PolicyGroup>>,

    /// The witness or group that must be satisfied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = POLICY_NAME_PATTERN))]
    pub quorum: Option<String>,

    /// A whole policy in the Sigsum grammar (`log`, `witness`, `group`, `quorum` lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 65536))]
    pub policy_text: Option<String>,

    /// The log origin written into `trust-anchor.json` (verifiers match checkpoints to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub origin: Option<String>,

    /// The issuers' JWKS (JSON text, public keys only) copied into `trust-anchor.json` as
    /// `trust_jwks`. Verifiers require it to check bundle edges; without it the anchor only
    /// carries the witness part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 65536))]
    pub trust_jwks: Option<String>,

    /// Name of the rendered ConfigMap; `<metadata.name>-policy` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub config_map_name: Option<String>,
}

/// The log line of a structured policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyLog {
    /// The log's Ed25519 public key: 64 hex digits or a vkey.
    #[schemars(length(min = 1, max = 512), regex(pattern = PUBLIC_KEY_PATTERN))]
    pub public_key: String,
    /// The log's submission URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub url: Option<String>,
}

/// One named witness of a structured policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.witnessRef) != has(self.publicKey)")
        .message("set exactly one of witnessRef or publicKey")
        .reason(Reason::FieldValueInvalid),
    validation = Rule::new("!has(self.url) || isURL(self.url)")
        .message("url must be an absolute URL")
        .field_path(".url"),
)]
pub struct PolicyWitness {
    /// The name used in groups and quorum.
    #[schemars(length(min = 1, max = 128), regex(pattern = POLICY_NAME_PATTERN))]
    pub name: String,
    /// A Witness in this cluster; its key is read from its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_ref: Option<WitnessRef>,
    /// A raw Ed25519 key (64 hex or vkey) for a witness outside this cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512), regex(pattern = PUBLIC_KEY_PATTERN))]
    pub public_key: Option<String>,
    /// The witness URL (defaults to a referenced Witness's endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub url: Option<String>,
}

/// A reference to a Witness object.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WitnessRef {
    /// Witness name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Witness namespace; the policy's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// A group: `all`, `any`, or at least `k` distinct members.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.threshold in ['all', 'any'] || int(self.threshold) <= size(self.members)")
        .message("a numeric threshold must not exceed the number of members")
        .field_path(".threshold")
        .reason(Reason::FieldValueInvalid),
)]
pub struct PolicyGroup {
    /// Group name.
    #[schemars(length(min = 1, max = 128), regex(pattern = POLICY_NAME_PATTERN))]
    pub name: String,
    /// `all`, `any`, or a positive decimal k.
    #[schemars(
        length(min = 1, max = 4),
        regex(pattern = r"^(all|any|[1-9][0-9]{0,2})$")
    )]
    pub threshold: String,
    /// Witness or group names.
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub members: Vec<MemberName>,
}

/// A group member: a witness or group name.
pub type MemberName = String;

/// Observed state of a policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuorumPolicyStatus {
    /// The generation this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, PolicyValid, WitnessesResolved.
    #[serde(default)]
    #[schemars(length(max = 10))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Witnesses whose keys are known.
    #[serde(default)]
    pub resolved: Vec<ResolvedWitness>,
    /// Number of resolved witnesses (a printer column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_count: Option<i32>,
    /// Referenced Witnesses that do not exist or have no key yet.
    #[serde(default)]
    pub missing: Vec<String>,
    /// The quorum, e.g. `2 of 3` or `all of 2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    /// The rendered ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    /// SHA-256 (hex) of the rendered `policy.txt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_sha256: Option<String>,
}

/// A witness whose key went into the rendered policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedWitness {
    /// Policy name.
    pub name: String,
    /// Ed25519 public key, 64 hex digits.
    pub public_key_hex: String,
    /// `namespace/name` of the Witness, or `raw` for a key given inline.
    pub source: String,
}
