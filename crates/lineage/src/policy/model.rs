//! The parsed form of a policy file.

use core::fmt;

use crate::vkey::{KeyType, Vkey};

/// A public key as written in a policy file. The syntax is kept so that
/// [`Policy::to_text`](super::Policy::to_text) writes the file back in the same dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyKey {
    /// Sigsum syntax: a raw 32-byte Ed25519 public key written as 64 hex digits.
    Hex([u8; 32]),
    /// C2SP tlog-policy syntax: a vkey. Witness vkeys are always a cosignature type
    /// (0x04 or 0x06); a 0x01 witness vkey is converted to 0x04 when parsed.
    Vkey(Vkey),
}

impl PolicyKey {
    /// The raw public key bytes (what duplicate detection compares).
    pub fn public_key(&self) -> &[u8] {
        match self {
            PolicyKey::Hex(key) => key,
            PolicyKey::Vkey(vkey) => &vkey.public_key,
        }
    }

    /// The signature type of the key: hex keys are Ed25519; for vkeys, the vkey's type.
    pub fn key_type(&self) -> KeyType {
        match self {
            PolicyKey::Hex(_) => KeyType::Ed25519,
            PolicyKey::Vkey(vkey) => vkey.key_type,
        }
    }
}

impl fmt::Display for PolicyKey {
    /// The key as a policy file writes it: lowercase hex or the vkey.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyKey::Hex(key) => f.write_str(&hex::encode(key)),
            PolicyKey::Vkey(vkey) => vkey.fmt(f),
        }
    }
}

/// A `log <key> [<url>]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLog {
    /// The log's public key (Ed25519).
    pub key: PolicyKey,
    /// Optional URL of the log.
    pub url: Option<String>,
}

/// A `witness <name> <key> [<url>]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWitness {
    /// The witness's name in this policy (the namespace shared with groups).
    pub name: String,
    /// The witness's cosigning key.
    pub key: PolicyKey,
    /// Optional URL: the witness's submission prefix.
    pub url: Option<String>,
}

/// How many members of a group must be satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// `all`: every member.
    All,
    /// `any`: at least one member.
    Any,
    /// `<k>`: at least k members, 1 <= k <= members.
    AtLeast(usize),
}

impl Threshold {
    /// The number of satisfied members required out of `members`.
    pub fn required(self, members: usize) -> usize {
        match self {
            Threshold::All => members,
            Threshold::Any => 1,
            Threshold::AtLeast(k) => k,
        }
    }
}

impl fmt::Display for Threshold {
    /// `all`, `any` or the decimal k, as a policy file writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::All => f.write_str("all"),
            Threshold::Any => f.write_str("any"),
            Threshold::AtLeast(k) => write!(f, "{k}"),
        }
    }
}

/// A `group <name> all|any|<k> <member>...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGroup {
    /// The group's name (shared namespace with witnesses).
    pub name: String,
    /// How many members must be satisfied.
    pub threshold: Threshold,
    /// Witness or group names, each defined on an earlier line, distinct.
    pub members: Vec<String>,
}

/// The `quorum` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quorum {
    /// `quorum none`: no cosignature is required.
    None,
    /// `quorum <name>`: the named witness or group must be satisfied.
    Name(String),
}
