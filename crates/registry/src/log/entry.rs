//! A log entry: one binding and the attestation that admitted it, as canonical JSON.
//!
//! ```text
//! {"attestation":{…},"binding":{…},"type":"nucleus.trust-registry/binding/v1"}
//! ```
//!
//! The entry's bytes (canonical JSON as defined in [`crate::binding`], no final newline)
//! are the Merkle leaf data: the tree leaf hash is SHA-256(0x00 ‖ bytes). Parsing refuses
//! any entry whose bytes are not exactly the canonical form of what they hold, so an
//! entry has one byte representation and one leaf hash.

use nucleus_federation::json::{self, Json};
use nucleus_lineage::merkle::{self, Hash};

use crate::binding::{Binding, BindingJsonError};
use crate::github_oidc::Attestation;

/// The entry type tag.
pub const ENTRY_TYPE: &str = "nucleus.trust-registry/binding/v1";

/// Why an entry's bytes are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Not JSON, duplicate members, or not an object of the expected members.
    #[error("log entry: {0}")]
    Shape(String),
    /// The bytes are valid but not canonical.
    #[error("log entry is not in canonical form")]
    NotCanonical,
    /// The binding is invalid.
    #[error("log entry: {0}")]
    Binding(#[from] BindingJsonError),
}

/// A parsed log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// The binding recorded.
    pub binding: Binding,
    /// Who attested it, and how.
    pub attestation: Attestation,
}

fn attestation_json(attestation: &Attestation) -> Json {
    let bytes = serde_json::to_vec(attestation).expect("attestation serialises");
    json::parse(&bytes).expect("serde_json output parses")
}

impl LogEntry {
    /// The canonical bytes (the leaf data).
    pub fn to_bytes(&self) -> Vec<u8> {
        Json::Object(vec![
            ("attestation".into(), attestation_json(&self.attestation)),
            ("binding".into(), self.binding.to_json()),
            ("type".into(), Json::String(ENTRY_TYPE.into())),
        ])
        .to_sorted_string()
        .into_bytes()
    }

    /// The Merkle leaf hash of [`LogEntry::to_bytes`].
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.to_bytes())
    }

    /// Parses entry bytes; they must be canonical.
    pub fn parse(bytes: &[u8]) -> Result<LogEntry, EntryError> {
        let doc = json::parse(bytes).map_err(|e| EntryError::Shape(e.to_string()))?;
        let Json::Object(members) = &doc else {
            return Err(EntryError::Shape("not an object".into()));
        };
        if members.len() != 3 {
            return Err(EntryError::Shape(
                "expected exactly attestation, binding and type".into(),
            ));
        }
        match doc.get("type") {
            Some(Json::String(t)) if t == ENTRY_TYPE => {}
            _ => return Err(EntryError::Shape(format!("type is not {ENTRY_TYPE:?}"))),
        }
        let binding = Binding::from_json(
            doc.get("binding")
                .ok_or_else(|| EntryError::Shape("binding is missing".into()))?,
        )?;
        let attestation = doc
            .get("attestation")
            .ok_or_else(|| EntryError::Shape("attestation is missing".into()))?;
        let attestation: Attestation = serde_json::from_value(json::to_value(attestation))
            .map_err(|e| EntryError::Shape(format!("attestation: {e}")))?;
        let entry = LogEntry {
            binding,
            attestation,
        };
        if entry.to_bytes() != bytes {
            return Err(EntryError::NotCanonical);
        }
        Ok(entry)
    }
}
