//! `FederatesWith` (cluster-scoped): accept another SPIFFE trust domain's bundle, fetched
//! from its bundle endpoint with strict anti-rollback, into a ConfigMap.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Desired federation relationship with one trust domain.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "trust.nucleus.dev",
    version = "v1alpha1",
    kind = "FederatesWith",
    plural = "federateswith",
    singular = "federateswith",
    status = "FederatesWithStatus",
    shortname = "fw",
    category = "nucleus",
    storage = true,
    served = true,
    cel,
    doc = "A federation relationship with another SPIFFE trust domain (cluster-scoped).",
    printcolumn(
        name = "Trust Domain",
        type_ = "string",
        json_path = ".spec.trustDomain"
    ),
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
    printcolumn(name = "Sequence", type_ = "integer", json_path = ".status.sequence"),
    printcolumn(name = "Keys", type_ = "integer", json_path = ".status.keyCount"),
    printcolumn(
        name = "Endpoint URL",
        type_ = "string",
        json_path = ".spec.bundleEndpointURL",
        priority = 1
    ),
    printcolumn(
        name = "Last Refresh",
        type_ = "date",
        json_path = ".status.lastRefresh",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    selectable = ".spec.trustDomain"
)]
#[x_kube(
    validation = Rule::new("self.profile != 'https_spiffe' || has(self.endpointSPIFFEID)")
        .message("endpointSPIFFEID is required when profile is https_spiffe")
        .field_path(".endpointSPIFFEID")
        .reason(Reason::FieldValueRequired),
    validation = Rule::new("self.profile == 'https_spiffe' || !has(self.endpointSPIFFEID)")
        .message("endpointSPIFFEID is only meaningful with profile https_spiffe")
        .field_path(".endpointSPIFFEID")
        .reason(Reason::FieldValueForbidden),
)]
#[serde(rename_all = "camelCase")]
pub struct FederatesWithSpec {
    /// The foreign trust domain name, e.g. `staging.example.org`.
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[a-z0-9._-]+$"))]
    pub trust_domain: String,

    /// The foreign bundle endpoint (https only).
    #[serde(rename = "bundleEndpointURL")]
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("isURL(self) && url(self).getScheme() == 'https'")
        .message("bundleEndpointURL must be an https:// URL")
        .reason(Reason::FieldValueInvalid))]
    pub bundle_endpoint_url: String,

    /// Bundle endpoint profile. Only `https_web` is implemented; `https_spiffe` is accepted
    /// by the schema and reported as unsupported in the Ready condition.
    #[serde(default)]
    pub profile: BundleEndpointProfile,

    /// SPIFFE ID of the bundle endpoint server (profile `https_spiffe` only).
    #[serde(
        default,
        rename = "endpointSPIFFEID",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1, max = 2048), regex(pattern = r"^spiffe://"))]
    pub endpoint_spiffe_id: Option<String>,

    /// PEM CA bundle to validate the endpoint's certificate instead of the Web PKI roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_ref: Option<NamespacedKeyRef>,

    /// Refresh interval override (a Go duration such as `5m`), bounded by the operator's
    /// minimum and maximum; the bundle's `spiffe_refresh_hint` is used when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('10s') && duration(self) <= duration('168h')")
        .message("refreshInterval must be a duration between 10s and 168h")
        .reason(Reason::FieldValueInvalid))]
    pub refresh_interval: Option<String>,

    /// Accept bundles without `spiffe_sequence` (off by default: they cannot be
    /// protected against rollback).
    #[serde(default)]
    pub accept_unsequenced: bool,

    /// A deliberate anti-rollback reset (e.g. the foreign domain was restored from backup):
    /// the next fetched bundle is accepted whatever its sequence, once per distinct `id`.
    /// The applied id is recorded in `status.lastResetId`; never done automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_reset: Option<SequenceReset>,

    /// Where the accepted bundle is written.
    pub target: FederationTarget,
}

/// SPIFFE bundle endpoint profile.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BundleEndpointProfile {
    /// TLS with Web PKI (or a configured CA bundle).
    #[default]
    #[serde(rename = "https_web")]
    HttpsWeb,
    /// TLS authenticated with the foreign domain's own SVID.
    #[serde(rename = "https_spiffe")]
    HttpsSpiffe,
}

/// A key of a ConfigMap in a given namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedKeyRef {
    /// ConfigMap namespace.
    #[schemars(length(min = 1, max = 63))]
    pub namespace: String,
    /// ConfigMap name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key inside the ConfigMap.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// An explicit, one-shot anti-rollback reset.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SequenceReset {
    /// Unique id of this reset request; applied at most once.
    #[schemars(length(min = 1, max = 128))]
    pub id: String,
    /// Why (kept in the event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub reason: Option<String>,
}

/// The ConfigMap receiving `bundle.json` and the per-key listing.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FederationTarget {
    /// Namespace of the ConfigMap.
    #[schemars(length(min = 1, max = 63))]
    pub namespace: String,
    /// ConfigMap name; `federation-<metadata.name>` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub config_map_name: Option<String>,
}

/// Observed state of a federation relationship.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FederatesWithStatus {
    /// The generation this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Stale, RollbackRefused.
    #[serde(default)]
    #[schemars(length(max = 10))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// `spiffe_sequence` of the last accepted bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    /// Keys in the last accepted bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_count: Option<i32>,
    /// x509-svid keys in the last accepted bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_key_count: Option<i32>,
    /// jwt-svid keys in the last accepted bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_key_count: Option<i32>,
    /// When a bundle was last fetched successfully (accepted or a no-op).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<Time>,
    /// When the next fetch is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_refresh: Option<Time>,
    /// The last fetch or validation error (kept until a fetch succeeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The `spec.sequenceReset.id` last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reset_id: Option<String>,
    /// `namespace/name` of the bundle ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
}
