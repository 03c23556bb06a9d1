//! Witness quorum policies: the Sigsum policy grammar with Sigsum hex keys or C2SP
//! tlog-policy vkeys (both dialects may be mixed in one file).
//!
//! ```text
//! log     <key> [<url>]
//! witness <name> <key> [<url>]
//! group   <name> all|any|<k> <member>...
//! quorum  <name>|none
//! ```
//!
//! Keys are either 64 hex digits (a raw Ed25519 key, Sigsum) or vkeys (C2SP). Log vkeys are
//! Ed25519 (0x01); witness vkeys are cosignature keys (0x04 Ed25519 or 0x06 ML-DSA-44), and a
//! 0x01 witness vkey is converted to 0x04 (as Armored Witness keys need).
//!
//! Parsing fails closed; every error carries the 1-based line and says what was expected
//! ([`PolicyErrorKind`]):
//! - only tab, LF, 0x20..=0x7E and bytes >= 0x80 are allowed, also inside comments;
//! - comments are whole lines starting with `#`; end-of-line comments are errors;
//! - unknown keywords and wrong field counts are errors;
//! - `group` thresholds satisfy 1 <= k <= members; members are distinct, defined on an
//!   earlier line (so there are no cycles) and not `none`; a name is a member at most once in
//!   the whole file;
//! - exactly one `quorum` line, naming an earlier definition or `none`; `none` cannot be
//!   redefined;
//! - duplicate log keys, witness keys (compared as raw keys: two vkeys wrapping one key are
//!   duplicates) and names are refused. The same key as a log and a witness is allowed.
//!
//! Evaluation ([`Policy::is_satisfied`]) works over policy witness *names*; the mapping from
//! cosignature lines to those names, and their verification, is done by
//! [`crate::quorum::verify_cosigned_checkpoint`]. [`Policy::to_text`] writes the canonical
//! form, which parses back to an equal policy.

mod error;
mod evaluate;
mod model;
mod parse;
mod render;

use sha2::{Digest, Sha256};

pub use error::{PolicyError, PolicyErrorKind};
pub use model::{PolicyGroup, PolicyKey, PolicyLog, PolicyWitness, Quorum, Threshold};

use crate::vkey::{KeyType, Vkey, key_id};

/// The predefined quorum target that needs no cosignatures.
const NONE: &str = "none";

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Accepted logs, in file order.
    pub logs: Vec<PolicyLog>,
    /// Witnesses, in file order.
    pub witnesses: Vec<PolicyWitness>,
    /// Groups, in file order (each member is defined before its group).
    pub groups: Vec<PolicyGroup>,
    /// What must be satisfied.
    pub quorum: Quorum,
}

impl Policy {
    /// Parses policy text; see the module docs for the grammar and the rules enforced.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        parse::parse(text)
    }

    /// Parses policy bytes, which must be UTF-8 (bytes >= 0x80 are compared byte for byte,
    /// without normalisation).
    pub fn parse_bytes(bytes: &[u8]) -> Result<Policy, PolicyError> {
        parse::parse_bytes(bytes)
    }

    /// The witness with this policy name.
    pub fn witness(&self, name: &str) -> Option<&PolicyWitness> {
        self.witnesses.iter().find(|w| w.name == name)
    }

    /// The group with this name.
    pub fn group(&self, name: &str) -> Option<&PolicyGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The note verifier keys of the policy's logs that apply to a checkpoint with this
    /// origin.
    ///
    /// - A hex (Sigsum) log key becomes an Ed25519 vkey whose key name is `origin`: a raw key
    ///   carries no name, and the checkpoint's own origin is the key name logs use by
    ///   convention (for a Sigsum log it is `sigsum.org/v1/tree/<hex SHA-256(key)>`, see
    ///   [`sigsum_log_origin`]). A caller whose log signs under another name passes that
    ///   vkey explicitly instead.
    /// - A log vkey applies only when its name equals `origin` (C2SP tlog-policy: the log
    ///   vkey name MUST be the origin), so one policy can list several logs.
    pub fn log_vkeys(&self, origin: &str) -> Vec<Vkey> {
        self.logs
            .iter()
            .filter_map(|log| match &log.key {
                PolicyKey::Hex(key) => Some(Vkey {
                    name: origin.to_owned(),
                    key_id: key_id(origin, KeyType::Ed25519, key),
                    key_type: KeyType::Ed25519,
                    public_key: key.to_vec(),
                }),
                PolicyKey::Vkey(vkey) if vkey.name == origin => Some(vkey.clone()),
                PolicyKey::Vkey(_) => None,
            })
            .collect()
    }
}

/// The origin (and log key name) of a Sigsum log: `sigsum.org/v1/tree/` followed by the
/// lowercase hex SHA-256 of its raw Ed25519 public key.
pub fn sigsum_log_origin(public_key: &[u8; 32]) -> String {
    format!(
        "sigsum.org/v1/tree/{}",
        hex::encode(Sha256::digest(public_key))
    )
}
