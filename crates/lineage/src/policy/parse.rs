//! The line parser: Sigsum policy grammar with Sigsum hex keys or C2SP tlog-policy vkeys.
//! The fail-closed rules it enforces are listed in the module docs of [`super`].

use std::collections::BTreeMap;

use super::error::{PolicyError, PolicyErrorKind};
use super::model::{PolicyGroup, PolicyKey, PolicyLog, PolicyWitness, Quorum, Threshold};
use super::{NONE, Policy};
use crate::vkey::{KeyType, Vkey};

const LOG_GRAMMAR: &str = "log <key> [<url>]";
const WITNESS_GRAMMAR: &str = "witness <name> <key> [<url>]";
const GROUP_GRAMMAR: &str = "group <name> all|any|<k> <member>...";
const QUORUM_GRAMMAR: &str = "quorum <name>|none";

/// Parses raw bytes: they must be UTF-8 (names are compared byte for byte, never normalised).
pub(super) fn parse_bytes(bytes: &[u8]) -> Result<Policy, PolicyError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            // The control-character check applies to the valid prefix first, so a file gets
            // the same error whichever entry point reads it.
            if let Err(err) = parse(&String::from_utf8_lossy(valid)) {
                if matches!(err.kind, PolicyErrorKind::ControlCharacter(_)) {
                    return Err(err);
                }
            }
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
            Err(PolicyError {
                line,
                kind: PolicyErrorKind::InvalidUtf8,
            })
        }
    }
}

/// Parses policy text.
pub(super) fn parse(text: &str) -> Result<Policy, PolicyError> {
    let mut parser = Parser::default();
    for (index, line) in text.split('\n').enumerate() {
        parser.line(line).map_err(|kind| PolicyError {
            line: index + 1,
            kind,
        })?;
    }
    // Whole-file errors point just past the last line (a final LF ends a line, it does not
    // start one).
    let lines = text.matches('\n').count() + usize::from(!text.is_empty() && !text.ends_with('\n'));
    parser.finish().map_err(|kind| PolicyError {
        line: lines + 1,
        kind,
    })
}

#[derive(Default)]
struct Parser {
    line_no: usize,
    logs: Vec<(PolicyLog, usize)>,
    witnesses: Vec<(PolicyWitness, usize)>,
    groups: Vec<PolicyGroup>,
    quorum: Option<(Quorum, usize)>,
    /// Every witness and group name with the line defining it.
    names: BTreeMap<String, usize>,
    /// Every name that is a group member, with the group holding it.
    member_of: BTreeMap<String, String>,
}

impl Parser {
    fn line(&mut self, line: &str) -> Result<(), PolicyErrorKind> {
        self.line_no += 1;
        if let Some(&b) = line
            .as_bytes()
            .iter()
            .find(|&&b| (b < 0x20 && b != b'\t') || b == 0x7f)
        {
            return Err(PolicyErrorKind::ControlCharacter(b));
        }
        let fields: Vec<&str> = line.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
        let Some(keyword) = fields.first() else {
            return Ok(());
        };
        if keyword.starts_with('#') {
            return Ok(());
        }
        if let Some(comment) = fields[1..].iter().find(|f| f.starts_with('#')) {
            return Err(PolicyErrorKind::EndOfLineComment((*comment).to_owned()));
        }
        match *keyword {
            "log" => self.log(&fields),
            "witness" => self.witness(&fields),
            "group" => self.group(&fields),
            "quorum" => self.quorum(&fields),
            other => Err(PolicyErrorKind::UnknownKeyword(other.to_owned())),
        }
    }

    fn log(&mut self, fields: &[&str]) -> Result<(), PolicyErrorKind> {
        check_count("log", fields, 2, Some(3), LOG_GRAMMAR)?;
        let key = parse_log_key(fields[1])?;
        let url = fields.get(2).map(|u| parse_url(u)).transpose()?;
        if let Some((_, first_line)) = self
            .logs
            .iter()
            .find(|(log, _)| log.key.public_key() == key.public_key())
        {
            return Err(PolicyErrorKind::DuplicateLogKey {
                first_line: *first_line,
            });
        }
        self.logs.push((PolicyLog { key, url }, self.line_no));
        Ok(())
    }

    fn witness(&mut self, fields: &[&str]) -> Result<(), PolicyErrorKind> {
        check_count("witness", fields, 3, Some(4), WITNESS_GRAMMAR)?;
        let name = fields[1];
        self.define(name)?;
        let key = parse_witness_key(fields[2])?;
        let url = fields.get(3).map(|u| parse_url(u)).transpose()?;
        if let Some((_, first_line)) = self
            .witnesses
            .iter()
            .find(|(w, _)| w.key.public_key() == key.public_key())
        {
            return Err(PolicyErrorKind::DuplicateWitnessKey {
                first_line: *first_line,
            });
        }
        self.names.insert(name.to_owned(), self.line_no);
        self.witnesses.push((
            PolicyWitness {
                name: name.to_owned(),
                key,
                url,
            },
            self.line_no,
        ));
        Ok(())
    }

    fn group(&mut self, fields: &[&str]) -> Result<(), PolicyErrorKind> {
        check_count("group", fields, 4, None, GROUP_GRAMMAR)?;
        let name = fields[1];
        self.define(name)?;
        let threshold = parse_threshold(fields[2])?;
        let members = &fields[3..];
        for (i, &member) in members.iter().enumerate() {
            if member == NONE {
                return Err(PolicyErrorKind::NoneAsMember);
            }
            if !self.names.contains_key(member) {
                return Err(PolicyErrorKind::UndefinedName(member.to_owned()));
            }
            if let Some(group) = self.member_of.get(member) {
                return Err(PolicyErrorKind::AlreadyMember {
                    name: member.to_owned(),
                    group: group.clone(),
                });
            }
            if members[..i].contains(&member) {
                return Err(PolicyErrorKind::AlreadyMember {
                    name: member.to_owned(),
                    group: name.to_owned(),
                });
            }
        }
        if let Threshold::AtLeast(k) = threshold {
            if k == 0 || k > members.len() {
                return Err(PolicyErrorKind::ThresholdOutOfRange {
                    k,
                    members: members.len(),
                });
            }
        }
        for &member in members {
            self.member_of.insert(member.to_owned(), name.to_owned());
        }
        self.names.insert(name.to_owned(), self.line_no);
        self.groups.push(PolicyGroup {
            name: name.to_owned(),
            threshold,
            members: members.iter().map(|m| (*m).to_owned()).collect(),
        });
        Ok(())
    }

    fn quorum(&mut self, fields: &[&str]) -> Result<(), PolicyErrorKind> {
        check_count("quorum", fields, 2, Some(2), QUORUM_GRAMMAR)?;
        if let Some((_, first_line)) = self.quorum {
            return Err(PolicyErrorKind::DuplicateQuorum { first_line });
        }
        let target = fields[1];
        let quorum = if target == NONE {
            Quorum::None
        } else if self.names.contains_key(target) {
            Quorum::Name(target.to_owned())
        } else {
            return Err(PolicyErrorKind::UndefinedName(target.to_owned()));
        };
        self.quorum = Some((quorum, self.line_no));
        Ok(())
    }

    /// Checks that `name` can be defined here (it is not `none` and not yet taken).
    fn define(&self, name: &str) -> Result<(), PolicyErrorKind> {
        if name == NONE {
            return Err(PolicyErrorKind::NoneRedefined);
        }
        if let Some(&first_line) = self.names.get(name) {
            return Err(PolicyErrorKind::DuplicateName {
                name: name.to_owned(),
                first_line,
            });
        }
        Ok(())
    }

    fn finish(self) -> Result<Policy, PolicyErrorKind> {
        let Some((quorum, _)) = self.quorum else {
            return Err(PolicyErrorKind::MissingQuorum);
        };
        Ok(Policy {
            logs: self.logs.into_iter().map(|(log, _)| log).collect(),
            witnesses: self.witnesses.into_iter().map(|(w, _)| w).collect(),
            groups: self.groups,
            quorum,
        })
    }
}

fn check_count(
    keyword: &'static str,
    fields: &[&str],
    min: usize,
    max: Option<usize>,
    expected: &'static str,
) -> Result<(), PolicyErrorKind> {
    let found = fields.len();
    if found < min || max.is_some_and(|max| found > max) {
        return Err(PolicyErrorKind::FieldCount {
            keyword,
            found,
            expected,
        });
    }
    Ok(())
}

/// 64 hex digits (either case), or `None` when the field is not of that shape.
fn parse_hex_key(field: &str) -> Option<[u8; 32]> {
    if field.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    hex::decode_to_slice(field, &mut key).ok()?;
    Some(key)
}

fn bad_key(role: &'static str, field: &str, reason: impl Into<String>) -> PolicyErrorKind {
    PolicyErrorKind::BadKey {
        role,
        key: field.to_owned(),
        reason: reason.into(),
    }
}

/// Parses the field as hex or, when it contains `+`, as a vkey.
fn parse_key(role: &'static str, field: &str) -> Result<PolicyKey, PolicyErrorKind> {
    if let Some(key) = parse_hex_key(field) {
        return Ok(PolicyKey::Hex(key));
    }
    if field.contains('+') {
        return Vkey::parse(field)
            .map(PolicyKey::Vkey)
            .map_err(|e| bad_key(role, field, e.to_string()));
    }
    Err(bad_key(
        role,
        field,
        "expected 64 hex digits (Sigsum) or a vkey <name>+<keyid>+<base64> (C2SP)",
    ))
}

fn parse_log_key(field: &str) -> Result<PolicyKey, PolicyErrorKind> {
    let key = parse_key("log", field)?;
    if key.key_type() != KeyType::Ed25519 {
        return Err(bad_key(
            "log",
            field,
            "expected an Ed25519 (type 0x01) log vkey",
        ));
    }
    Ok(key)
}

fn parse_witness_key(field: &str) -> Result<PolicyKey, PolicyErrorKind> {
    match parse_key("witness", field)? {
        // Armored Witness devices publish 0x01 vkeys but sign cosignature/v1 lines, whose key
        // ID is the 0x04 variant; the converted key matches those lines.
        PolicyKey::Vkey(vkey) if vkey.key_type == KeyType::Ed25519 => {
            Ok(PolicyKey::Vkey(vkey.to_cosignature()))
        }
        key => Ok(key),
    }
}

fn parse_threshold(field: &str) -> Result<Threshold, PolicyErrorKind> {
    match field {
        "all" => Ok(Threshold::All),
        "any" => Ok(Threshold::Any),
        _ => {
            let canonical = !field.is_empty()
                && field.bytes().all(|b| b.is_ascii_digit())
                && (field == "0" || !field.starts_with('0'));
            match field.parse::<usize>() {
                Ok(k) if canonical => Ok(Threshold::AtLeast(k)),
                _ => Err(PolicyErrorKind::BadThreshold(field.to_owned())),
            }
        }
    }
}

fn parse_url(field: &str) -> Result<String, PolicyErrorKind> {
    let rest = field
        .strip_prefix("https://")
        .or_else(|| field.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() => Ok(field.to_owned()),
        _ => Err(PolicyErrorKind::BadUrl(field.to_owned())),
    }
}
