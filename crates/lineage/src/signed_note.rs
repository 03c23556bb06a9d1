//! Signed notes (c2sp.org/signed-note): parse, format, sign and verify.
//!
//! A note is `text` + `"\n"` + signature lines `— <name> <base64(key ID ‖ signature)>\n`.
//! Parsing follows the spec byte for byte: the split point is the *last* `"\n\n"`, the
//! whole message is UTF-8 without control bytes other than LF, every line after the split
//! is a signature line, and there are at most [`MAX_SIGNATURES`] of them.

use std::collections::BTreeSet;

use ed25519_dalek::{Signature, Signer as _, SigningKey};

use crate::b64;
use crate::cosignature::{self, CosignatureError};
use crate::quoted::Quoted;
use crate::vkey::{self, KeyType, Vkey, VkeyError};

/// Most signature lines a note may carry. The spec requires accepting at least 16; this
/// is Go's cap, and a note with more lines is malformed.
pub const MAX_SIGNATURES: usize = 100;

/// The signature-line prefix: U+2014 EM DASH and one space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The message is not valid UTF-8.
    #[error("malformed note: not valid UTF-8")]
    NotUtf8,
    /// The message contains a byte below 0x20 other than LF.
    #[error("malformed note: control byte 0x{byte:02x} at offset {offset}")]
    ControlByte {
        /// The offending byte.
        byte: u8,
        /// Its offset in the message.
        offset: usize,
    },
    /// There is no blank line followed by at least one signature line.
    #[error(
        "malformed note: no signature block (expected text, a blank line, then signature lines)"
    )]
    NoSignatures,
    /// The signature block does not end with LF.
    #[error("malformed note: the last signature line must end with a newline")]
    MissingFinalNewline,
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("malformed note: more than {MAX_SIGNATURES} signature lines")]
    TooManySignatures,
    /// A line in the signature block is not a well-formed signature line.
    #[error("malformed note: signature line {line}: {reason}")]
    BadSignatureLine {
        /// 1-based index of the line within the signature block.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A signature line's base64 decodes only leniently (non-zero trailing bits).
    ///
    /// Carries the name and (when at least 5 bytes decode) the key ID, so a witness can tell
    /// a mangled line from a key it trusts (answer 403) from plain garbage (answer 400).
    #[error("malformed note: signature line {line} for {} is not canonical base64", Quoted(.name))]
    NonCanonicalSignature {
        /// 1-based index of the line within the signature block.
        line: usize,
        /// The key name on the line.
        name: String,
        /// The key ID a lenient (Go) decoder would read, if any.
        key_id: Option<u32>,
    },
    /// A line from a known key (name and key ID match) failed verification.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No line came from a known key.
    #[error("no verifiable signatures: no signature line matches a known key")]
    NoVerifiedSignatures,
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoteSignature {
    /// The key name on the line.
    pub name: String,
    /// The first four decoded bytes, big-endian.
    pub key_id: u32,
    /// The decoded bytes after the key ID (at least one byte).
    pub blob: Vec<u8>,
}

impl NoteSignature {
    /// Formats the line, `— <name> <base64(key ID ‖ blob)>\n`, final LF included.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.blob.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.blob);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, b64::encode(&raw))
    }

    /// Parses one signature line, without its final LF.
    pub fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        parse_signature_line(line, 1)
    }
}

/// A signature line that verified against a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// Type of the key that verified it.
    pub key_type: KeyType,
    /// The cosignature timestamp, for cosignature key types.
    pub timestamp: Option<u64>,
}

/// A parsed signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, final LF included (blank line and signatures excluded).
    pub text: String,
    /// The signature lines in order, exactly as they appeared (duplicates kept).
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a note without verifying any signature.
    pub fn parse(msg: &[u8]) -> Result<Note, NoteError> {
        let msg = core::str::from_utf8(msg).map_err(|_| NoteError::NotUtf8)?;
        if let Some((offset, &byte)) = msg
            .as_bytes()
            .iter()
            .enumerate()
            .find(|&(_, &b)| b < 0x20 && b != b'\n')
        {
            return Err(NoteError::ControlByte { byte, offset });
        }
        let split = msg.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let text = &msg[..=split];
        let block = &msg[split + 2..];
        if block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let block = block
            .strip_suffix('\n')
            .ok_or(NoteError::MissingFinalNewline)?;
        let mut signatures = Vec::new();
        for (i, line) in block.split('\n').enumerate() {
            if i == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(parse_signature_line(line, i + 1)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Formats the note: text, a blank line, then every signature line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out.into_bytes()
    }

    /// Verifies the note against `keys` with the signed-note rules.
    ///
    /// - A line is *known* iff some key has both its name and key ID; other lines are
    ///   ignored (they may be anything well-formed).
    /// - Every known line is verified, duplicates included; any failure rejects the whole
    ///   note ([`NoteError::InvalidSignature`]). (Go skips repeated known lines unverified;
    ///   we check them, which can only turn an accept into a reject.)
    /// - At least one known line must verify ([`NoteError::NoVerifiedSignatures`]).
    ///
    /// Type 0x01 keys verify Ed25519 over the text; type 0x04 keys verify `cosignature/v1`
    /// over the text (so it must be a checkpoint) and report the timestamp; type 0x06 keys
    /// verify ML-DSA-44 `subtree/v1` when the `ml-dsa` feature is on and fail otherwise.
    /// Each key is reported once, in order of first appearance.
    pub fn verify(&self, keys: &[Vkey]) -> Result<Vec<VerifiedSignature>, NoteError> {
        let mut verified = Vec::new();
        let mut seen = BTreeSet::new();
        for sig in &self.signatures {
            let mut matching = keys
                .iter()
                .filter(|k| k.name == sig.name && k.key_id == sig.key_id)
                .peekable();
            if matching.peek().is_none() {
                continue;
            }
            let ok = matching.find_map(|k| {
                verify_with_key(k, sig, &self.text)
                    .ok()
                    .map(|ts| (k.key_type, ts))
            });
            let Some((key_type, timestamp)) = ok else {
                return Err(NoteError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            };
            if seen.insert((sig.name.clone(), sig.key_id)) {
                verified.push(VerifiedSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                    key_type,
                    timestamp,
                });
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoVerifiedSignatures);
        }
        Ok(verified)
    }
}

/// Verifies one line against one key whose name and key ID already match.
fn verify_with_key(
    key: &Vkey,
    sig: &NoteSignature,
    text: &str,
) -> Result<Option<u64>, CosignatureError> {
    match key.key_type {
        KeyType::Ed25519 => {
            let vk = key.ed25519_key()?;
            let s = Signature::from_slice(&sig.blob).map_err(|_| CosignatureError::BadLength {
                expected: 64,
                got: sig.blob.len(),
            })?;
            vk.verify_strict(text.as_bytes(), &s)
                .map_err(|_| CosignatureError::BadSignature)?;
            Ok(None)
        }
        KeyType::Cosignature | KeyType::MlDsa44Cosignature => {
            cosignature::verify_cosignature(key, sig, text).map(Some)
        }
    }
}

fn parse_signature_line(line: &str, index: usize) -> Result<NoteSignature, NoteError> {
    let bad = |reason| NoteError::BadSignatureLine {
        line: index,
        reason,
    };
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(bad("does not start with an em dash and a space"))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or(bad("expected a key name, a space and base64"))?;
    if !vkey::is_valid_key_name(name) {
        return Err(bad("invalid key name"));
    }
    let raw = match b64::decode_canonical(encoded) {
        Ok(raw) => raw,
        Err(b64::Base64Error::NonCanonical) => {
            let key_id = b64::decode_lenient(encoded)
                .ok()
                .filter(|raw| raw.len() >= 5)
                .map(|raw| u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]));
            return Err(NoteError::NonCanonicalSignature {
                line: index,
                name: name.to_owned(),
                key_id,
            });
        }
        Err(b64::Base64Error::Invalid(_)) => return Err(bad("invalid base64")),
    };
    if raw.len() < 5 {
        return Err(bad("signature shorter than 5 bytes"));
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
        blob: raw[4..].to_vec(),
    })
}

/// Signs note texts with an Ed25519 key (signature type 0x01).
#[derive(Debug, Clone)]
pub struct NoteSigner {
    vkey: Vkey,
    key: SigningKey,
}

impl NoteSigner {
    /// A signer for key `name`. Fails if the name is not a valid key name.
    pub fn new(name: &str, key: SigningKey) -> Result<NoteSigner, VkeyError> {
        let vkey = Vkey::ed25519(name, &key.verifying_key())?;
        Ok(NoteSigner { vkey, key })
    }

    /// The type 0x01 vkey that verifies this signer's lines.
    pub fn vkey(&self) -> &Vkey {
        &self.vkey
    }

    /// Signs `text` (the note text, final LF included; see [`Note::text`]).
    ///
    /// Ed25519 is deterministic: the same key and text always give the same line.
    pub fn sign(&self, text: &str) -> NoteSignature {
        NoteSignature {
            name: self.vkey.name.clone(),
            key_id: self.vkey.key_id,
            blob: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(name: &str, seed: u8) -> NoteSigner {
        NoteSigner::new(name, SigningKey::from_bytes(&[seed; 32])).unwrap()
    }

    fn note_with(text: &str, lines: &[NoteSignature]) -> Vec<u8> {
        Note {
            text: text.to_owned(),
            signatures: lines.to_vec(),
        }
        .to_bytes()
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        let s = signer("example.com/log", 1);
        let text = "hello\nworld\n";
        let bytes = note_with(text, &[s.sign(text)]);
        let note = Note::parse(&bytes).unwrap();
        assert_eq!(note.text, text);
        assert_eq!(note.to_bytes(), bytes);
        let v = note.verify(&[s.vkey().clone()]).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name, "example.com/log");
        assert_eq!(v[0].key_type, KeyType::Ed25519);
        assert_eq!(v[0].timestamp, None);
    }

    #[test]
    fn text_with_blank_lines_splits_at_last_blank_line() {
        let s = signer("k", 1);
        let text = "a\n\nb\n\n\nc\n";
        let note = Note::parse(&note_with(text, &[s.sign(text)])).unwrap();
        assert_eq!(note.text, text);
        note.verify(&[s.vkey().clone()]).unwrap();
    }

    #[test]
    fn wrong_key_same_name_and_id_rejects() {
        let good = signer("k", 1);
        let text = "t\n";
        let mut forged = signer("k", 2).sign(text);
        forged.key_id = good.vkey().key_id;
        let note = Note::parse(&note_with(text, &[good.sign(text), forged])).unwrap();
        assert_eq!(
            note.verify(&[good.vkey().clone()]),
            Err(NoteError::InvalidSignature {
                name: "k".into(),
                key_id: good.vkey().key_id
            })
        );
    }

    #[test]
    fn key_matching_needs_name_and_key_id() {
        let s = signer("k", 1);
        let text = "t\n";
        let mut renamed = s.sign(text);
        renamed.name = "other".into();
        let note = Note::parse(&note_with(text, &[renamed])).unwrap();
        assert_eq!(
            note.verify(&[s.vkey().clone()]),
            Err(NoteError::NoVerifiedSignatures)
        );
    }

    #[test]
    fn repeated_known_line_counts_once() {
        let s = signer("k", 1);
        let text = "t\n";
        let line = s.sign(text);
        let note = Note::parse(&note_with(text, &[line.clone(), line])).unwrap();
        assert_eq!(note.signatures.len(), 2);
        assert_eq!(note.verify(&[s.vkey().clone()]).unwrap().len(), 1);
    }

    #[test]
    fn modified_text_fails() {
        let s = signer("k", 1);
        let note = Note::parse(&note_with("u\n", &[s.sign("t\n")])).unwrap();
        assert!(matches!(
            note.verify(&[s.vkey().clone()]),
            Err(NoteError::InvalidSignature { .. })
        ));
    }

    #[test]
    fn signature_cap() {
        let s = signer("k", 1);
        let text = "t\n";
        let at_cap = vec![s.sign(text); MAX_SIGNATURES];
        assert!(Note::parse(&note_with(text, &at_cap)).is_ok());
        let over = vec![s.sign(text); MAX_SIGNATURES + 1];
        assert_eq!(
            Note::parse(&note_with(text, &over)),
            Err(NoteError::TooManySignatures)
        );
    }

    #[test]
    fn malformed_inputs() {
        let line = signer("k", 1).sign("t\n").to_line();
        let cases: Vec<(String, &str)> = vec![
            ("t\n".into(), "no blank line"),
            ("t\n\n".into(), "empty block"),
            (format!("t\n\n{}", line.trim_end()), "no final LF"),
            (format!("t\r\n\n{line}"), "CR"),
            (format!("t\n\n{line}\n"), "blank line after sigs"),
            (format!("t\n\n{line}junk\n"), "trailing garbage"),
            (
                format!("t\n\n{}", line.replacen('\u{2014}', "-", 1)),
                "ascii dash",
            ),
            (
                format!("t\n\n{}", line.replacen(' ', "  ", 1)),
                "two spaces",
            ),
            ("t\n\n\u{2014} k AAAA\n".into(), "3-byte signature"),
            ("t\n\n\u{2014} k AAAAAA==\n".into(), "4-byte signature"),
            ("t\n\n\u{2014} k+x AAAAAAA=\n".into(), "plus in name"),
            ("t\n\n\u{2014}  AAAAAAA=\n".into(), "empty name"),
            ("t\n\n\u{2014} k\n".into(), "no base64"),
            ("t\n\n\u{2014} k \n".into(), "empty base64"),
            ("t\n\n\u{2014} k AAAAAAA\n".into(), "unpadded"),
        ];
        for (msg, why) in cases {
            assert!(
                Note::parse(msg.as_bytes()).is_err(),
                "{why} must be malformed"
            );
        }
        assert_eq!(
            Note::parse(b"t\xff\n\n"),
            Err(NoteError::NotUtf8),
            "invalid UTF-8"
        );
    }

    #[test]
    fn non_canonical_signature_reports_key() {
        // 5 bytes 0x01 0x02 0x03 0x04 0x05 -> "AQIDBAU=" canonical; "AQIDBAV=" sets trailing bits.
        let err = Note::parse("t\n\n\u{2014} k AQIDBAV=\n".as_bytes()).unwrap_err();
        assert_eq!(
            err,
            NoteError::NonCanonicalSignature {
                line: 1,
                name: "k".into(),
                key_id: Some(0x01020304)
            }
        );
    }

    #[test]
    fn smallest_valid_note() {
        let note = Note::parse("t\n\n\u{2014} k AQIDBAU=\n".as_bytes()).unwrap();
        assert_eq!(
            note.signatures,
            vec![NoteSignature {
                name: "k".into(),
                key_id: 0x01020304,
                blob: vec![5]
            }]
        );
    }
}
