//! Typed parse errors for policy files.

use thiserror::Error;

use crate::quoted::Quoted;

/// A policy file that was rejected, with the 1-based line where the problem was found.
///
/// Errors that concern the file as a whole (no `quorum` line) point just past the last line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("policy line {line}: {kind}")]
pub struct PolicyError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong and what was expected.
    pub kind: PolicyErrorKind,
}

/// Why a policy file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyErrorKind {
    /// The bytes are not UTF-8.
    #[error("invalid UTF-8; expected UTF-8 text")]
    InvalidUtf8,
    /// A byte outside 0x09, 0x0A, 0x20..=0x7E and 0x80..=0xFF.
    #[error("control character 0x{0:02x}; only tab, LF and printable bytes are allowed")]
    ControlCharacter(u8),
    /// The first field of a non-comment line is not a known keyword.
    #[error("unknown keyword {}; expected `log`, `witness`, `group` or `quorum`", Quoted(.0))]
    UnknownKeyword(String),
    /// A field after the first starts with `#`.
    #[error("end-of-line comments are not allowed (found {}); put comments on their own line starting with `#`", Quoted(.0))]
    EndOfLineComment(String),
    /// A line has too few or too many fields.
    #[error("{keyword} line has {found} fields; expected `{expected}`")]
    FieldCount {
        /// The line's keyword.
        keyword: &'static str,
        /// How many whitespace-separated fields the line has.
        found: usize,
        /// The grammar of the line.
        expected: &'static str,
    },
    /// A key that is neither 64 hex digits nor a valid vkey.
    #[error("bad {role} key {}: {reason}", Quoted(.key))]
    BadKey {
        /// `log` or `witness`.
        role: &'static str,
        /// The field as written.
        key: String,
        /// What was wrong and what was expected.
        reason: String,
    },
    /// A URL that does not start with `http://` or `https://`.
    #[error("bad URL {}; expected an http:// or https:// URL", Quoted(.0))]
    BadUrl(String),
    /// Two `log` lines carry the same public key.
    #[error("duplicate log key (first on line {first_line})")]
    DuplicateLogKey {
        /// Line of the first occurrence.
        first_line: usize,
    },
    /// Two `witness` lines carry the same public key.
    #[error(
        "duplicate witness key (first on line {first_line}); one key must not serve two witnesses"
    )]
    DuplicateWitnessKey {
        /// Line of the first occurrence.
        first_line: usize,
    },
    /// A witness or group name defined twice (the two share one namespace).
    #[error("duplicate name: {} (first defined on line {first_line})", Quoted(.name))]
    DuplicateName {
        /// The name.
        name: String,
        /// Line of the first definition.
        first_line: usize,
    },
    /// A witness or group named `none`.
    #[error("duplicate name: \"none\" is predefined (the empty quorum) and cannot be redefined")]
    NoneRedefined,
    /// A threshold that is not `all`, `any` or a canonical decimal.
    #[error("bad threshold {}; expected `all`, `any` or a decimal k with no leading zeros", Quoted(.0))]
    BadThreshold(String),
    /// A numeric threshold outside 1..=members.
    #[error("threshold {k} out of range; expected 1 <= k <= {members} (the number of members)")]
    ThresholdOutOfRange {
        /// The threshold.
        k: usize,
        /// The number of distinct members.
        members: usize,
    },
    /// A group or quorum references a name that is not defined on an earlier line.
    #[error("undefined name {}; members and quorum targets must be defined on an earlier line", Quoted(.0))]
    UndefinedName(String),
    /// `none` listed as a group member.
    #[error("\"none\" cannot be a group member")]
    NoneAsMember,
    /// A name that is already a member of a group (this one or an earlier one).
    #[error("{} is already a member of group {}; a name may be a member only once", Quoted(.name), Quoted(.group))]
    AlreadyMember {
        /// The repeated member.
        name: String,
        /// The group that already holds it.
        group: String,
    },
    /// A second `quorum` line.
    #[error("second quorum line (first on line {first_line}); expected exactly one")]
    DuplicateQuorum {
        /// Line of the first `quorum` line.
        first_line: usize,
    },
    /// The file has no `quorum` line.
    #[error("no quorum line; expected exactly one `quorum <name>|none`")]
    MissingQuorum,
}
