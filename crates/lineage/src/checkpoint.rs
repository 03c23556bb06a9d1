//! Checkpoints (c2sp.org/tlog-checkpoint): the signed text of a transparency log's tree head.
//!
//! ```text
//! <origin>\n
//! <tree size, canonical decimal>\n
//! <base64 of the 32-byte root hash>\n
//! [<extension line>\n]*
//! ```

use crate::b64;
use crate::merkle::Hash;
use crate::quoted::Quoted;

/// Why a checkpoint text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text does not end with LF.
    #[error("malformed checkpoint: text must end with a newline")]
    MissingFinalNewline,
    /// A byte below 0x20 other than LF (CR included).
    #[error("malformed checkpoint: control byte 0x{0:02x}")]
    ControlByte(u8),
    /// Fewer than three lines.
    #[error("malformed checkpoint: expected origin, size and root lines")]
    TooFewLines,
    /// The origin line is empty.
    #[error("malformed checkpoint: empty origin")]
    EmptyOrigin,
    /// The size is not a canonical decimal `u64`.
    #[error("malformed checkpoint: tree size {} is not a canonical decimal u64", Quoted(.0))]
    BadSize(String),
    /// The root is not canonical base64 of 32 bytes.
    #[error("malformed checkpoint: root hash must be canonical base64 of 32 bytes: {0}")]
    BadRoot(b64::Base64LenError),
    /// An extension line is empty.
    #[error("malformed checkpoint: extension line {0} is empty")]
    EmptyExtension(usize),
}

/// A parsed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's origin line (may contain spaces; e.g. `go.sum database tree`).
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The RFC 6962 root hash.
    pub root: Hash,
    /// Extension lines, without their LFs; each non-empty.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Parses a checkpoint text (a note's text, final LF included).
    ///
    /// A size-0 checkpoint is accepted whatever its root; whether the root must be the
    /// empty-tree hash is the caller's rule (a witness answers 422).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        if let Some(&b) = text.as_bytes().iter().find(|&&b| b < 0x20 && b != b'\n') {
            return Err(CheckpointError::ControlByte(b));
        }
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::TooFewLines);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size =
            parse_canonical_u64(size).ok_or_else(|| CheckpointError::BadSize(size.into()))?;
        let root = b64::decode_array::<32>(root).map_err(CheckpointError::BadRoot)?;
        let mut extensions = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(CheckpointError::EmptyExtension(i + 1));
            }
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint text, final LF included (what the log signs and cosigners cosign).
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            b64::encode(&self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }
}

/// Parses a canonical decimal `u64`: ASCII digits only, no sign, no leading zeros
/// (`0` itself is fine), no whitespace, no overflow.
pub fn parse_canonical_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{EMPTY_ROOT, leaf_hash};

    const ROOT_B64: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    #[test]
    fn parse_and_format() {
        let text = format!("example.com/log\n0\n{ROOT_B64}\n");
        let c = Checkpoint::parse(&text).unwrap();
        assert_eq!(c.origin, "example.com/log");
        assert_eq!(c.size, 0);
        assert_eq!(c.root, EMPTY_ROOT);
        assert!(c.extensions.is_empty());
        assert_eq!(c.to_text(), text);
    }

    #[test]
    fn extensions_round_trip() {
        let c = Checkpoint {
            origin: "go.sum database tree".into(),
            size: u64::MAX,
            root: leaf_hash(b"x"),
            extensions: vec!["ext one".into(), "— two".into()],
        };
        assert_eq!(Checkpoint::parse(&c.to_text()).unwrap(), c);
    }

    #[test]
    fn size_zero_with_other_root_parses() {
        let c = Checkpoint {
            origin: "o".into(),
            size: 0,
            root: [1; 32],
            extensions: vec![],
        };
        assert_eq!(Checkpoint::parse(&c.to_text()).unwrap(), c);
    }

    #[test]
    fn strictness() {
        let ok = format!("o\n5\n{ROOT_B64}\n");
        assert!(Checkpoint::parse(&ok).is_ok());
        let bad = [
            format!("o\n5\n{ROOT_B64}"),
            format!("o\r\n5\n{ROOT_B64}\n"),
            format!("o\n5\r\n{ROOT_B64}\n"),
            format!("o\n5\n{ROOT_B64}\r\n"),
            format!("o\n5\n{ROOT_B64}\n\n"),
            format!("o\n5\n{ROOT_B64}\next\n\n"),
            format!("\n5\n{ROOT_B64}\n"),
            format!("o\n05\n{ROOT_B64}\n"),
            format!("o\n+5\n{ROOT_B64}\n"),
            format!("o\n 5\n{ROOT_B64}\n"),
            format!("o\n5 \n{ROOT_B64}\n"),
            format!("o\n0x5\n{ROOT_B64}\n"),
            format!("o\n-1\n{ROOT_B64}\n"),
            format!("o\n18446744073709551616\n{ROOT_B64}\n"),
            format!("o\n\n{ROOT_B64}\n"),
            "o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n".into(),
            "o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n".into(),
            "o\n5\nAAAA\n".into(),
            "o\n5\n".into(),
            "o\n".into(),
            "".into(),
        ];
        for b in bad {
            assert!(Checkpoint::parse(&b).is_err(), "{b:?} must be rejected");
        }
    }

    #[test]
    fn canonical_decimal() {
        assert_eq!(parse_canonical_u64("0"), Some(0));
        assert_eq!(parse_canonical_u64("10"), Some(10));
        assert_eq!(parse_canonical_u64("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "00", "01", "+1", "-0", "1.0", "1e3", "١"] {
            assert_eq!(parse_canonical_u64(bad), None, "{bad:?}");
        }
    }
}
