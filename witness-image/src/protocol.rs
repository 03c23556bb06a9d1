//! Parsing the `POST /add-checkpoint` body (c2sp.org/tlog-witness):
//!
//! ```text
//! old <N>\n
//! <base64 hash>\n      × 0..=63 (consistency proof)
//! \n
//! <checkpoint note>
//! ```
//!
//! Everything here is a 400 when it fails; the status decisions that need keys or state
//! live in [`crate::witness`].

use nucleus_lineage::checkpoint::parse_canonical_u64;
use nucleus_lineage::signed_note::NoteError;
use nucleus_lineage::{Checkpoint, Hash, Note, b64};

/// The most proof lines a request may carry (the spec's bound).
pub const MAX_PROOF_LINES: usize = 63;

/// Why a body is malformed (always HTTP 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MalformedRequest {
    /// The first line is not `old <canonical decimal>`.
    #[error("first line must be `old <N>` with N a canonical decimal, got {0:?}")]
    BadOldLine(String),
    /// The header has no LF at all.
    #[error("body must start with an `old <N>` line ending in LF")]
    NoOldLine,
    /// A proof line is not canonical base64 of 32 bytes.
    #[error("proof line {line}: expected canonical base64 of a 32-byte hash")]
    BadProofLine {
        /// 1-based index of the proof line.
        line: usize,
    },
    /// More than [`MAX_PROOF_LINES`] proof hashes.
    #[error("more than {MAX_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
    /// No blank line separates the proof from the checkpoint.
    #[error("missing blank line between the proof and the checkpoint")]
    MissingBlankLine,
    /// The note is not a valid signed note.
    #[error("malformed signed note: {0}")]
    BadNote(String),
    /// A signature line's base64 has non-zero trailing bits (Go would decode it). If the
    /// line names a key trusted for the origin, the witness answers 403, not 400: a
    /// trusted key's signature failed.
    #[error("signature line for {name:?} is not canonical base64")]
    NonCanonicalSignature {
        /// The note's first line (the would-be origin).
        origin: String,
        /// The key name on the line.
        name: String,
        /// The key ID a lenient decoder reads.
        key_id: u32,
    },
    /// The note text is not a valid checkpoint.
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(String),
}

/// A parsed add-checkpoint request.
#[derive(Debug, Clone)]
pub struct AddCheckpointRequest {
    /// The tree size the client believes this witness last cosigned (0 if unknown).
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The checkpoint note (signatures not yet verified).
    pub note: Note,
    /// The checkpoint parsed from the note's text.
    pub checkpoint: Checkpoint,
}

/// Parses a request body. Never panics, whatever the bytes.
pub fn parse_add_checkpoint(body: &[u8]) -> Result<AddCheckpointRequest, MalformedRequest> {
    let (old_line, mut rest) = split_line(body).ok_or(MalformedRequest::NoOldLine)?;
    let old = std::str::from_utf8(old_line)
        .ok()
        .and_then(|l| l.strip_prefix("old "))
        .and_then(parse_canonical_u64)
        .ok_or_else(|| MalformedRequest::BadOldLine(String::from_utf8_lossy(old_line).into()))?;

    let mut proof = Vec::new();
    loop {
        let (line, next) = split_line(rest).ok_or(MalformedRequest::MissingBlankLine)?;
        rest = next;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(MalformedRequest::TooManyProofLines);
        }
        let hash = std::str::from_utf8(line)
            .ok()
            .and_then(|l| b64::decode_canonical(l).ok())
            .and_then(|raw| Hash::try_from(raw.as_slice()).ok())
            .ok_or(MalformedRequest::BadProofLine {
                line: proof.len() + 1,
            })?;
        proof.push(hash);
    }

    let note = Note::parse(rest).map_err(|e| match e {
        NoteError::NonCanonicalSignature {
            name,
            key_id: Some(key_id),
            ..
        } => MalformedRequest::NonCanonicalSignature {
            origin: String::from_utf8_lossy(split_line(rest).map_or(rest, |(l, _)| l)).into(),
            name,
            key_id,
        },
        other => MalformedRequest::BadNote(other.to_string()),
    })?;
    let checkpoint = Checkpoint::parse(&note.text)
        .map_err(|e| MalformedRequest::BadCheckpoint(e.to_string()))?;
    Ok(AddCheckpointRequest {
        old,
        proof,
        note,
        checkpoint,
    })
}

/// Splits off the first LF-terminated line (without its LF).
fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..i], &bytes[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &str = "example.com/log\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} example.com/log UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=\n";
    const HASH: &str = "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    fn body(header: &str) -> Vec<u8> {
        format!("{header}{NOTE}").into_bytes()
    }

    #[test]
    fn parses_old_proof_and_note() {
        let r = parse_add_checkpoint(&body(&format!("old 7\n{HASH}\n{HASH}\n\n"))).unwrap();
        assert_eq!(r.old, 7);
        assert_eq!(r.proof.len(), 2);
        assert_eq!(r.checkpoint.origin, "example.com/log");
        assert_eq!(r.checkpoint.size, 1);
        assert_eq!(r.note.signatures.len(), 1);
    }

    #[test]
    fn rejects_non_canonical_old() {
        for h in [
            "old 07\n\n",
            "old +7\n\n",
            "old  7\n\n",
            "old 0x7\n\n",
            "old\n\n",
            "new 7\n\n",
        ] {
            assert!(
                matches!(
                    parse_add_checkpoint(&body(h)),
                    Err(MalformedRequest::BadOldLine(_))
                ),
                "{h:?}"
            );
        }
        assert_eq!(
            parse_add_checkpoint(b"old 1").unwrap_err(),
            MalformedRequest::NoOldLine
        );
    }

    #[test]
    fn rejects_crlf_and_missing_blank_line() {
        assert!(matches!(
            parse_add_checkpoint(&body("old 7\r\n\n")),
            Err(MalformedRequest::BadOldLine(_))
        ));
        assert!(matches!(
            parse_add_checkpoint(&body(&format!("old 7\n{HASH}\r\n\n"))),
            Err(MalformedRequest::BadProofLine { line: 1 })
        ));
        let crlf_note = format!("old 0\n\n{}", NOTE.replace('\n', "\r\n"));
        assert!(matches!(
            parse_add_checkpoint(crlf_note.as_bytes()),
            Err(MalformedRequest::BadNote(_))
        ));
        // Without the blank line the note's first line is read as a proof hash.
        assert!(matches!(
            parse_add_checkpoint(&body("old 0\n")),
            Err(MalformedRequest::BadProofLine { line: 1 })
        ));
        assert_eq!(
            parse_add_checkpoint(format!("old 0\n{HASH}\n").as_bytes()).unwrap_err(),
            MalformedRequest::MissingBlankLine
        );
    }

    #[test]
    fn rejects_bad_base64_and_wrong_lengths() {
        for bad in [
            "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", // non-zero pad bits
            "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",     // 30 bytes
            "not base64!",
            "",
        ] {
            let h = format!("old 1\n{HASH}\n{bad}x\n\n");
            assert!(parse_add_checkpoint(&body(&h)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn proof_line_cap_is_63() {
        let ok = format!("old 1\n{}\n", format!("{HASH}\n").repeat(63));
        assert_eq!(parse_add_checkpoint(&body(&ok)).unwrap().proof.len(), 63);
        let too_many = format!("old 1\n{}\n", format!("{HASH}\n").repeat(64));
        assert_eq!(
            parse_add_checkpoint(&body(&too_many)).unwrap_err(),
            MalformedRequest::TooManyProofLines
        );
    }

    #[test]
    fn rejects_bad_notes_and_checkpoints() {
        assert!(matches!(
            parse_add_checkpoint(b"old 0\n\nexample.com/log\n1\n"),
            Err(MalformedRequest::BadNote(_))
        ));
        let not_checkpoint = format!(
            "old 0\n\njust one line\n\n\u{2014} k {}\n",
            "UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY="
        );
        assert!(matches!(
            parse_add_checkpoint(not_checkpoint.as_bytes()),
            Err(MalformedRequest::BadCheckpoint(_))
        ));
        assert!(parse_add_checkpoint(&[0xff, 0xfe, b'\n', b'\n']).is_err());
        assert!(parse_add_checkpoint(b"").is_err());
    }
}
