//! What a successful verification reports. Every value here is covered by a signature the
//! verifier checked (issuer, log key or witness) or derived from such values.
//!
//! Its JSON form is written once, by [`VerificationReport::to_json`]; `serde::Serialize`
//! delegates to it, and the browser verifier uses it without serde.

use std::borrow::Cow;
use std::collections::BTreeMap;

use nucleus_json::Json;

/// The bundle format that was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleFormat {
    /// The original implementation's envelope (read-only).
    V1,
    /// `nucleus-bundle/v3`.
    V3,
}

/// One verified edge. For v1 bundles only the signed fields are reported: `attrs` and the
/// kind's variant fields are unsigned there, so they are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub content_hash_hex: Option<String>,
    /// The timestamp as signed (v1: `+00:00` form, v3: `Z` form).
    pub ts: String,
    /// Attributes (v3 only; signed).
    pub attrs: BTreeMap<String, String>,
    /// The issuer key id that signed the edge (its key came from the trust anchor).
    pub kid: String,
    /// The edge's chain hash (hex).
    pub edge_hash_hex: String,
}

/// The log checkpoint the edges are included in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedLog {
    /// The log origin (v3: from the log-signed checkpoint; v1: the anchor's origin if set).
    pub origin: Option<String>,
    /// The tree size.
    pub size: u64,
    /// The root hash (hex).
    pub root_hex: String,
    /// Leaf index of each edge, in edge order.
    pub leaf_indices: Vec<u64>,
}

/// A trusted witness whose cosignature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedCosigner {
    /// The key name on the cosignature line (v3) or the policy name (when the policy names
    /// the key).
    pub name: Option<String>,
    /// The policy name of the witness, when the anchor's policy declares its key.
    pub policy_name: Option<String>,
    /// The witness public key (hex).
    pub key_hex: String,
    /// The signed cosignature timestamp (Unix seconds), when the format signs one.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationReport {
    /// Which format was verified.
    pub format: BundleFormat,
    /// The session: v3 session id, v1 session root.
    pub session: String,
    /// The trust domain of the session root (v1), when it is a SPIFFE id.
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
    pub log: Option<ReportedLog>,
    /// Trusted witnesses whose cosignatures verified (each key once).
    pub cosigners: Vec<ReportedCosigner>,
    /// The anchor's threshold that was met (0 = none required).
    pub cosignature_threshold: usize,
    /// Whether the anchor's quorum policy holds (`None` when the anchor has no policy).
    pub quorum_satisfied: Option<bool>,
    /// Whether the payload is bound by a verified issuer signature.
    pub payload_bound: bool,
    /// SHA-256 of the bound payload bytes (hex), only when `payload_bound`.
    pub payload_sha256_hex: Option<String>,
}

impl BundleFormat {
    /// The format's name in the report: `v1` or `v3`.
    pub fn as_str(&self) -> &'static str {
        match self {
            BundleFormat::V1 => "v1",
            BundleFormat::V3 => "v3",
        }
    }
}

/// An object's members, leaving out the optional ones that are absent. The tree borrows the
/// report's text.
struct ObjectBuilder<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

impl<'a> ObjectBuilder<'a> {
    /// Room for the largest object here (the report's 13 members).
    fn new() -> Self {
        ObjectBuilder(Vec::with_capacity(13))
    }

    fn member(mut self, name: &'static str, value: Json<'a>) -> Self {
        self.0.push((Cow::Borrowed(name), value));
        self
    }

    fn optional(self, name: &'static str, value: Option<Json<'a>>) -> Self {
        match value {
            Some(value) => self.member(name, value),
            None => self,
        }
    }

    fn build(self) -> Json<'a> {
        Json::Object(self.0)
    }
}

fn text(s: &str) -> Json<'_> {
    Json::String(Cow::Borrowed(s))
}

fn texts(items: &[String]) -> Json<'_> {
    Json::Array(items.iter().map(|s| text(s)).collect())
}

fn count(n: usize) -> Json<'static> {
    Json::Unsigned(n as u64)
}

impl ReportedEdge {
    fn to_json(&self) -> Json<'_> {
        ObjectBuilder::new()
            .member("index", count(self.index))
            .member("child", text(&self.child))
            .member("parents", texts(&self.parents))
            .member("kind", text(&self.kind))
            .optional(
                "content_hash_hex",
                self.content_hash_hex.as_deref().map(text),
            )
            .member("ts", text(&self.ts))
            .optional(
                "attrs",
                (!self.attrs.is_empty()).then(|| {
                    Json::Object(
                        self.attrs
                            .iter()
                            .map(|(k, v)| (Cow::Borrowed(k.as_str()), text(v)))
                            .collect(),
                    )
                }),
            )
            .member("kid", text(&self.kid))
            .member("edge_hash_hex", text(&self.edge_hash_hex))
            .build()
    }
}

impl ReportedLog {
    fn to_json(&self) -> Json<'_> {
        ObjectBuilder::new()
            .optional("origin", self.origin.as_deref().map(text))
            .member("size", Json::Unsigned(self.size))
            .member("root_hex", text(&self.root_hex))
            .member(
                "leaf_indices",
                Json::Array(
                    self.leaf_indices
                        .iter()
                        .map(|&i| Json::Unsigned(i))
                        .collect(),
                ),
            )
            .build()
    }
}

impl ReportedCosigner {
    fn to_json(&self) -> Json<'_> {
        ObjectBuilder::new()
            .optional("name", self.name.as_deref().map(text))
            .optional("policy_name", self.policy_name.as_deref().map(text))
            .member("key_hex", text(&self.key_hex))
            .optional("timestamp", self.timestamp.map(Json::Unsigned))
            .build()
    }
}

impl VerificationReport {
    /// The report as JSON: optional members are left out when absent (and `attrs` when
    /// empty). `verifier-wasm`'s TypeScript types describe this shape.
    pub fn to_json(&self) -> Json<'_> {
        ObjectBuilder::new()
            .member("format", text(self.format.as_str()))
            .member("session", text(&self.session))
            .optional("trust_domain", self.trust_domain.as_deref().map(text))
            .member("edge_count", count(self.edge_count))
            .member(
                "edges",
                Json::Array(self.edges.iter().map(ReportedEdge::to_json).collect()),
            )
            .member("head_hash_hex", text(&self.head_hash_hex))
            .member("kids", texts(&self.kids))
            .optional("log", self.log.as_ref().map(ReportedLog::to_json))
            .member(
                "cosigners",
                Json::Array(
                    self.cosigners
                        .iter()
                        .map(ReportedCosigner::to_json)
                        .collect(),
                ),
            )
            .member("cosignature_threshold", count(self.cosignature_threshold))
            .optional("quorum_satisfied", self.quorum_satisfied.map(Json::Bool))
            .member("payload_bound", Json::Bool(self.payload_bound))
            .optional(
                "payload_sha256_hex",
                self.payload_sha256_hex.as_deref().map(text),
            )
            .build()
    }
}

impl serde::Serialize for VerificationReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(full: bool) -> VerificationReport {
        VerificationReport {
            format: BundleFormat::V3,
            session: "s\"1".into(),
            trust_domain: full.then(|| "example.org".into()),
            edge_count: 1,
            edges: vec![ReportedEdge {
                index: 0,
                child: "c".into(),
                parents: vec!["p".into()],
                kind: "tool_call".into(),
                content_hash_hex: full.then(|| "ab".into()),
                ts: "2026-01-01T00:00:00Z".into(),
                attrs: if full {
                    BTreeMap::from([("k".into(), "v".into())])
                } else {
                    BTreeMap::new()
                },
                kid: "kid1".into(),
                edge_hash_hex: "ee".into(),
            }],
            head_hash_hex: "ee".into(),
            kids: vec!["kid1".into()],
            log: full.then(|| ReportedLog {
                origin: Some("log.example/1".into()),
                size: 7,
                root_hex: "rr".into(),
                leaf_indices: vec![6],
            }),
            cosigners: vec![ReportedCosigner {
                name: full.then(|| "w1".into()),
                policy_name: full.then(|| "w-one".into()),
                key_hex: "kk".into(),
                timestamp: full.then_some(1_700_000_000),
            }],
            cosignature_threshold: 1,
            quorum_satisfied: full.then_some(true),
            payload_bound: full,
            payload_sha256_hex: full.then(|| "pp".into()),
        }
    }

    #[test]
    fn json_shape_leaves_out_only_absent_optionals() {
        assert_eq!(
            report(true).to_json().to_compact_string(),
            concat!(
                r#"{"format":"v3","session":"s\"1","trust_domain":"example.org","edge_count":1,"#,
                r#""edges":[{"index":0,"child":"c","parents":["p"],"kind":"tool_call","#,
                r#""content_hash_hex":"ab","ts":"2026-01-01T00:00:00Z","attrs":{"k":"v"},"#,
                r#""kid":"kid1","edge_hash_hex":"ee"}],"head_hash_hex":"ee","kids":["kid1"],"#,
                r#""log":{"origin":"log.example/1","size":7,"root_hex":"rr","leaf_indices":[6]},"#,
                r#""cosigners":[{"name":"w1","policy_name":"w-one","key_hex":"kk","timestamp":1700000000}],"#,
                r#""cosignature_threshold":1,"quorum_satisfied":true,"payload_bound":true,"#,
                r#""payload_sha256_hex":"pp"}"#
            )
        );
        assert_eq!(
            report(false).to_json().to_compact_string(),
            concat!(
                r#"{"format":"v3","session":"s\"1","edge_count":1,"#,
                r#""edges":[{"index":0,"child":"c","parents":["p"],"kind":"tool_call","#,
                r#""ts":"2026-01-01T00:00:00Z","kid":"kid1","edge_hash_hex":"ee"}],"#,
                r#""head_hash_hex":"ee","kids":["kid1"],"cosigners":[{"key_hex":"kk"}],"#,
                r#""cosignature_threshold":1,"payload_bound":false}"#
            )
        );
    }

    #[test]
    fn serde_output_is_the_same_document() {
        let report = report(true);
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            report.to_json().to_compact_string()
        );
    }
}
