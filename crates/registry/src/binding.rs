//! A binding: one trust domain's metadata and its SPIFFE bundle, in canonical JSON.
//!
//! Canonical JSON here means: object members sorted by name (byte order of their UTF-8),
//! no insignificant whitespace, strings escaped as serde_json escapes them, integers in
//! plain decimal, and the bundle's `keys` array sorted by each entry's canonical text.
//! Numbers with a fraction or exponent are refused, so every accepted value has exactly
//! one canonical form. Two bundle files that differ only in member order, key order or
//! whitespace therefore give the same binding bytes, and the same leaf in the log.

use nucleus_federation::SpiffeBundle;
use nucleus_federation::json::{self, Json};
use sha2::{Digest, Sha256};

use crate::metadata::DomainMetadata;

/// Why a bundle cannot be put in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleFormError {
    /// Rejected by the SPIFFE bundle parser.
    #[error("bundle.json: {0}")]
    Bundle(String),
    /// `spiffe_sequence` is missing (the registry pins sequenced bundles only).
    #[error("bundle.json: spiffe_sequence is required")]
    MissingSequence,
    /// The bundle has no usable JWT-SVID key and no X.509 authority.
    #[error("bundle.json: no usable key (every entry was ignored)")]
    NoKeys,
    /// A non-integer number somewhere in the document.
    #[error("bundle.json: non-integer number at {0}; canonical form needs integers only")]
    Float(String),
}

/// Why a recorded binding is not a valid binding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingJsonError {
    /// Missing, extra or mistyped members.
    #[error("binding: {0}")]
    Shape(String),
    /// Invalid metadata values.
    #[error("binding: {0}")]
    Metadata(crate::metadata::MetadataError),
    /// Invalid bundle.
    #[error("binding: {0}")]
    Bundle(BundleFormError),
}

/// A validated bundle in canonical form.
#[derive(Debug, Clone, PartialEq)]
pub struct CanonicalBundle {
    /// The canonical document.
    pub document: Json,
    /// `spiffe_sequence`.
    pub sequence: u64,
}

impl CanonicalBundle {
    /// Validates `bytes` with the federation bundle parser and puts them in canonical form.
    pub fn parse(bytes: &[u8]) -> Result<CanonicalBundle, BundleFormError> {
        let parsed =
            SpiffeBundle::parse(bytes).map_err(|e| BundleFormError::Bundle(e.to_string()))?;
        let sequence = parsed.sequence().ok_or(BundleFormError::MissingSequence)?;
        if parsed.jwt_keys().is_empty() && parsed.x509_authorities().next().is_none() {
            return Err(BundleFormError::NoKeys);
        }
        let doc = json::parse(bytes).map_err(|e| BundleFormError::Bundle(e.to_string()))?;
        refuse_floats(&doc, "$")?;
        // Re-read the canonical text so that the tree itself is in canonical member order:
        // two equal bundles are then equal as trees, not only as serialised bytes.
        let canonical = sort_keys_array(doc).to_sorted_string();
        let document = json::parse(canonical.as_bytes())
            .map_err(|e| BundleFormError::Bundle(e.to_string()))?;
        Ok(CanonicalBundle { document, sequence })
    }

    /// The canonical text.
    pub fn to_canonical_string(&self) -> String {
        self.document.to_sorted_string()
    }
}

fn refuse_floats(value: &Json, at: &str) -> Result<(), BundleFormError> {
    match value {
        Json::Number(_) => Err(BundleFormError::Float(at.to_owned())),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| refuse_floats(v, &format!("{at}[{i}]"))),
        Json::Object(members) => members
            .iter()
            .try_for_each(|(k, v)| refuse_floats(v, &format!("{at}.{k}"))),
        _ => Ok(()),
    }
}

fn sort_keys_array(doc: Json) -> Json {
    match doc {
        Json::Object(members) => Json::Object(
            members
                .into_iter()
                .map(|(name, value)| match (name.as_ref(), value) {
                    ("keys", Json::Array(mut keys)) => {
                        keys.sort_by_cached_key(Json::to_sorted_string);
                        (name, Json::Array(keys))
                    }
                    (_, value) => (name, value),
                })
                .collect(),
        ),
        other => other,
    }
}

/// A trust domain's binding: what the registry pins and the log records.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The domain's metadata.
    pub metadata: DomainMetadata,
    /// Its bundle.
    pub bundle: CanonicalBundle,
}

impl Binding {
    /// The binding as a JSON object (members are sorted when serialised).
    pub fn to_json(&self) -> Json {
        let m = &self.metadata;
        Json::Object(vec![
            ("bundle".into(), self.bundle.document.clone()),
            (
                "bundle_endpoint_url".into(),
                Json::String(m.bundle_endpoint_url.clone().into()),
            ),
            (
                "owner_github_org".into(),
                Json::String(m.owner_github_org.clone().into()),
            ),
            ("owner_id".into(), Json::Unsigned(m.owner_id)),
            ("profile".into(), Json::String(m.profile.clone().into())),
            (
                "trust_domain".into(),
                Json::String(m.trust_domain.clone().into()),
            ),
        ])
    }

    /// Rebuilds a binding from its JSON form (as recorded in the log), re-running every
    /// validation of the metadata and the bundle.
    pub fn from_json(doc: &Json) -> Result<Binding, BindingJsonError> {
        let Json::Object(members) = doc else {
            return Err(BindingJsonError::Shape("binding is not an object".into()));
        };
        if let Some((name, _)) = members.iter().find(|(k, _)| {
            !matches!(
                k.as_ref(),
                "bundle"
                    | "bundle_endpoint_url"
                    | "owner_github_org"
                    | "owner_id"
                    | "profile"
                    | "trust_domain"
            )
        }) {
            return Err(BindingJsonError::Shape(format!("unknown member {name:?}")));
        }
        let text = |name: &str| match doc.get(name) {
            Some(Json::String(s)) => Ok(s.as_ref()),
            _ => Err(BindingJsonError::Shape(format!("{name} is not a string"))),
        };
        let owner_id = match doc.get("owner_id") {
            Some(Json::Unsigned(n)) => *n,
            _ => return Err(BindingJsonError::Shape("owner_id is not a u64".into())),
        };
        let metadata = DomainMetadata::new(
            text("trust_domain")?,
            text("owner_github_org")?,
            owner_id,
            text("bundle_endpoint_url")?,
            text("profile")?,
        )
        .map_err(BindingJsonError::Metadata)?;
        let bundle = doc
            .get("bundle")
            .ok_or_else(|| BindingJsonError::Shape("bundle is missing".into()))?;
        let bundle = CanonicalBundle::parse(bundle.to_sorted_string().as_bytes())
            .map_err(BindingJsonError::Bundle)?;
        Ok(Binding { metadata, bundle })
    }

    /// The canonical bytes of [`Binding::to_json`].
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.to_json().to_sorted_string().into_bytes()
    }

    /// Lowercase hex SHA-256 of the canonical bytes: how attestations name the exact
    /// content they vouched for.
    pub fn digest_hex(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"{"keys":[{"use":"jwt-svid","kty":"EC","crv":"P-256","kid":"a","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},{"use":"jwt-svid","kty":"EC","crv":"P-256","kid":"b","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}],"spiffe_sequence":3}"#;

    #[test]
    fn member_and_key_order_do_not_change_the_canonical_form() {
        let b = r#"{ "spiffe_sequence": 3,
            "keys": [
              {"kid":"b","crv":"P-256","kty":"EC","use":"jwt-svid","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
              {"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","kid":"a","use":"jwt-svid","kty":"EC","crv":"P-256","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
            ] }"#;
        let a = CanonicalBundle::parse(A.as_bytes()).unwrap();
        let b = CanonicalBundle::parse(b.as_bytes()).unwrap();
        assert_eq!(a.to_canonical_string(), b.to_canonical_string());
        assert_eq!(a, b);
        assert_eq!(a.sequence, 3);
    }

    #[test]
    fn refuses_unsequenced_float_and_keyless_bundles() {
        let unsequenced = A.replace(",\"spiffe_sequence\":3", "");
        assert_eq!(
            CanonicalBundle::parse(unsequenced.as_bytes()),
            Err(BundleFormError::MissingSequence)
        );
        let float = A.replace("}],", r#","extra":1.5}],"#);
        assert!(matches!(
            CanonicalBundle::parse(float.as_bytes()),
            Err(BundleFormError::Float(_))
        ));
        assert_eq!(
            CanonicalBundle::parse(br#"{"keys":[],"spiffe_sequence":1}"#),
            Err(BundleFormError::NoKeys)
        );
        let dup = A.replace(
            "\"spiffe_sequence\":3",
            "\"spiffe_sequence\":3,\"spiffe_sequence\":4",
        );
        assert!(matches!(
            CanonicalBundle::parse(dup.as_bytes()),
            Err(BundleFormError::Bundle(_))
        ));
    }
}
