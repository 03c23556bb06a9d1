//! `compile`: the deterministic federation set.
//!
//! A domain is in the set only if its binding on disk is byte-for-byte the binding of its
//! latest entry within the latest cosigned checkpoint. A domain added or edited out of
//! band (not logged, or logged only past the cosigned size) is left out and listed in
//! [`FederationSet::excluded`]. The output depends on the registry's files only (no
//! clock, no directory order), so the same registry compiles to the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use nucleus_federation::json::Json;
use nucleus_lineage::b64;
use serde::Serialize;

use crate::binding::Binding;
use crate::log::append::latest_by_domain;
use crate::log::verify::LogView;

/// The format tag of the compiled JSON.
pub const SET_TYPE: &str = "nucleus.trust-registry/federation-set/v1";

/// Why a domain on disk is not in the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exclusion {
    /// The log holds no cosigned entry for it.
    NotLogged,
    /// Its files differ from its latest cosigned entry.
    DiffersFromLog {
        /// The index of that entry.
        log_index: u64,
    },
}

impl std::fmt::Display for Exclusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exclusion::NotLogged => f.write_str("not in the cosigned log"),
            Exclusion::DiffersFromLog { log_index } => write!(
                f,
                "differs from its cosigned log entry {log_index} (edited out of band or not yet sealed)"
            ),
        }
    }
}

/// One federated domain of the set.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The binding.
    pub binding: Binding,
    /// The index of the log entry that admitted it.
    pub log_index: u64,
}

/// The compiled set.
#[derive(Debug, Clone, PartialEq)]
pub struct FederationSet {
    /// The log's origin.
    pub origin: String,
    /// The cosigned checkpoint the set was compiled against (0 if none).
    pub size: u64,
    /// Its root.
    pub root: [u8; 32],
    /// Members, sorted by trust domain.
    pub members: Vec<Member>,
    /// Domains on disk left out, sorted by trust domain.
    pub excluded: Vec<(String, Exclusion)>,
}

/// Compiles the set from the domains on disk and the checked log.
pub fn compile(registry: &BTreeMap<String, Binding>, view: &LogView) -> FederationSet {
    let (size, root) = view
        .latest_cosigned()
        .map_or((0, nucleus_lineage::EMPTY_ROOT), |c| {
            (c.checkpoint.size, c.checkpoint.root)
        });
    let cosigned = &view.entries[..size as usize];
    let indexed: BTreeMap<&str, u64> = (0u64..)
        .zip(cosigned)
        .map(|(i, e)| (e.binding.metadata.trust_domain.as_str(), i))
        .collect();
    let latest = latest_by_domain(cosigned);
    let mut members = Vec::new();
    let mut excluded = Vec::new();
    for (domain, binding) in registry {
        match (latest.get(domain.as_str()), indexed.get(domain.as_str())) {
            (Some(entry), Some(&log_index)) if entry.binding == *binding => members.push(Member {
                binding: binding.clone(),
                log_index,
            }),
            (Some(_), Some(&log_index)) => {
                excluded.push((domain.clone(), Exclusion::DiffersFromLog { log_index }))
            }
            _ => excluded.push((domain.clone(), Exclusion::NotLogged)),
        }
    }
    FederationSet {
        origin: view.origin.clone(),
        size,
        root,
        members,
        excluded,
    }
}

#[derive(Serialize)]
struct TomlDoc<'a> {
    federates_with: Vec<TomlRow<'a>>,
}

#[derive(Serialize)]
struct TomlRow<'a> {
    trust_domain: &'a str,
    bundle_endpoint_url: &'a str,
    profile: &'a str,
}

/// A JSON string literal, which is also a valid YAML double-quoted scalar.
fn quoted(s: &str) -> String {
    Json::String(s.to_owned().into()).to_sorted_string()
}

impl FederationSet {
    /// Canonical JSON (sorted members, no whitespace) with a final newline.
    pub fn to_json(&self) -> String {
        let members = self
            .members
            .iter()
            .map(|m| {
                let md = &m.binding.metadata;
                Json::Object(vec![
                    ("bundle".into(), m.binding.bundle.document.clone()),
                    (
                        "bundle_endpoint_url".into(),
                        Json::String(md.bundle_endpoint_url.clone().into()),
                    ),
                    ("log_index".into(), Json::Unsigned(m.log_index)),
                    ("owner_id".into(), Json::Unsigned(md.owner_id)),
                    ("profile".into(), Json::String(md.profile.clone().into())),
                    (
                        "spiffe_sequence".into(),
                        Json::Unsigned(m.binding.bundle.sequence),
                    ),
                    (
                        "trust_domain".into(),
                        Json::String(md.trust_domain.clone().into()),
                    ),
                ])
            })
            .collect();
        let doc = Json::Object(vec![
            ("federates_with".into(), Json::Array(members)),
            (
                "log".into(),
                Json::Object(vec![
                    ("origin".into(), Json::String(self.origin.clone().into())),
                    ("root".into(), Json::String(b64::encode(&self.root).into())),
                    ("size".into(), Json::Unsigned(self.size)),
                ]),
            ),
            ("type".into(), Json::String(SET_TYPE.into())),
        ]);
        let mut out = doc.to_sorted_string();
        out.push('\n');
        out
    }

    /// `[[federates_with]]` rows, as `nucleus_federation::FederationConfig::from_toml`
    /// reads them.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let doc = TomlDoc {
            federates_with: self
                .members
                .iter()
                .map(|m| TomlRow {
                    trust_domain: &m.binding.metadata.trust_domain,
                    bundle_endpoint_url: &m.binding.metadata.bundle_endpoint_url,
                    profile: &m.binding.metadata.profile,
                })
                .collect(),
        };
        toml::to_string(&doc)
    }

    /// `FederatesWith` objects (trust.nucleus.dev/v1alpha1), one YAML document each, writing
    /// the accepted bundles to ConfigMaps in `namespace`. FederatesWith is cluster-scoped, so
    /// the objects themselves carry no `metadata.namespace`. A trust domain holding `_` (not
    /// allowed in object names) keeps its name with `_` replaced by `-`, prefixed `td-` so
    /// it cannot collide with a domain spelled with `-`.
    pub fn to_federateswith_yaml(&self, namespace: &str) -> String {
        let mut out = String::new();
        for m in &self.members {
            let md = &m.binding.metadata;
            let name = if md.trust_domain.contains('_') {
                format!("td-{}", md.trust_domain.replace('_', "-"))
            } else {
                md.trust_domain.clone()
            };
            let _ = write!(
                out,
                "---\napiVersion: trust.nucleus.dev/v1alpha1\nkind: FederatesWith\nmetadata:\n  \
                 name: {name}\n  annotations:\n    \
                 trust.nucleus.dev/registry-origin: {origin}\n    \
                 trust.nucleus.dev/registry-log-index: {index}\n    \
                 trust.nucleus.dev/registry-owner-id: {owner}\nspec:\n  trustDomain: {td}\n  \
                 bundleEndpointURL: {url}\n  profile: {profile}\n  target:\n    namespace: {ns}\n",
                name = quoted(&name),
                ns = quoted(namespace),
                origin = quoted(&self.origin),
                index = quoted(&m.log_index.to_string()),
                owner = quoted(&md.owner_id.to_string()),
                td = quoted(&md.trust_domain),
                url = quoted(&md.bundle_endpoint_url),
                profile = quoted(&md.profile),
            );
        }
        out
    }
}
