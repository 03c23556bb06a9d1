//! Which logs this witness cosigns for: origin lines from `--origin` and `--origins-file`.
//!
//! A line is `origin|log_key_name|log_pubkey_hex` (an Ed25519 key as 64 hex digits), or
//! `origin|log_key_name|vkey`, or `origin|vkey`. The log's key name may differ from the
//! origin (sumdb signs `go.sum database tree` with key `sum.golang.org`), so keys are
//! looked up by origin. Several lines for one origin add keys to it.

use std::collections::BTreeMap;

use nucleus_lineage::Vkey;
use nucleus_lineage::vkey::parse_ed25519_public_key;
use sha2::{Digest, Sha256};

/// Why an origin line or file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The line does not have 2 or 3 `|`-separated fields.
    #[error(
        "origin line {line}: expected `origin|log_key_name|log_pubkey_hex` or `origin|vkey`, got {fields} field(s)"
    )]
    FieldCount {
        /// 1-based line number (1 for a `--origin` flag).
        line: usize,
        /// How many fields were found.
        fields: usize,
    },
    /// The origin field is empty.
    #[error("origin line {line}: the origin is empty")]
    EmptyOrigin {
        /// 1-based line number.
        line: usize,
    },
    /// The key is neither 64 hex digits nor a valid Ed25519 vkey.
    #[error("origin line {line}: bad log key: {reason}")]
    BadKey {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// `origin|name|vkey` where the vkey names another key.
    #[error("origin line {line}: key name {given:?} does not match the vkey's name {vkey_name:?}")]
    NameMismatch {
        /// 1-based line number.
        line: usize,
        /// The key name field.
        given: String,
        /// The name inside the vkey.
        vkey_name: String,
    },
    /// The origins file could not be read.
    #[error("reading origins file {path}: {source}")]
    Read {
        /// The file path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One parsed origin line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginLine {
    /// The checkpoint origin (first line of the log's checkpoints).
    pub origin: String,
    /// A key trusted to sign that origin's checkpoints.
    pub key: Vkey,
}

/// Parses one origin line; `line` is its 1-based number, used in errors.
pub fn parse_origin_line(text: &str, line: usize) -> Result<OriginLine, ConfigError> {
    let fields: Vec<&str> = text.trim().split('|').collect();
    let bad_key = |reason: String| ConfigError::BadKey { line, reason };
    let (origin, key) = match fields.as_slice() {
        [origin, vkey] => {
            let key = Vkey::parse(vkey.trim()).map_err(|e| bad_key(e.to_string()))?;
            (*origin, key)
        }
        [origin, name, key] => {
            let (name, key) = (name.trim(), key.trim());
            let vkey = if key.contains('+') {
                let vkey = Vkey::parse(key).map_err(|e| bad_key(e.to_string()))?;
                if vkey.name != name {
                    return Err(ConfigError::NameMismatch {
                        line,
                        given: name.to_owned(),
                        vkey_name: vkey.name,
                    });
                }
                vkey
            } else {
                let pk = parse_ed25519_public_key(key).map_err(|e| bad_key(e.to_string()))?;
                Vkey::ed25519(name, &pk).map_err(|e| bad_key(e.to_string()))?
            };
            (*origin, vkey)
        }
        _ => {
            return Err(ConfigError::FieldCount {
                line,
                fields: fields.len(),
            });
        }
    };
    let origin = origin.trim();
    if origin.is_empty() {
        return Err(ConfigError::EmptyOrigin { line });
    }
    Ok(OriginLine {
        origin: origin.to_owned(),
        key,
    })
}

/// Parses an origins file: one origin line per line; blank lines and `#` comments skipped.
pub fn parse_origins_file(text: &str) -> Result<Vec<OriginLine>, ConfigError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .map(|(i, l)| parse_origin_line(l, i + 1))
        .collect()
}

/// Reads and parses an origins file.
pub fn read_origins_file(path: &std::path::Path) -> Result<Vec<OriginLine>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_origins_file(&text)
}

/// Builds the origin table from `--origin` values and the optional origins file.
pub fn load_origins(
    flags: &[String],
    file: Option<&std::path::Path>,
) -> Result<Origins, ConfigError> {
    let mut lines = flags
        .iter()
        .map(|f| parse_origin_line(f, 1))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(path) = file {
        lines.extend(read_origins_file(path)?);
    }
    Ok(Origins::new(lines))
}

/// The configured origins and their trusted keys.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    by_origin: BTreeMap<String, Vec<Vkey>>,
    by_hash: BTreeMap<String, String>,
}

impl Origins {
    /// Builds the table; keys for a repeated origin are merged, exact duplicates dropped.
    pub fn new(lines: impl IntoIterator<Item = OriginLine>) -> Origins {
        let mut by_origin: BTreeMap<String, Vec<Vkey>> = BTreeMap::new();
        for l in lines {
            let keys = by_origin.entry(l.origin).or_default();
            if !keys.contains(&l.key) {
                keys.push(l.key);
            }
        }
        let by_hash = by_origin
            .keys()
            .map(|o| (origin_hash_hex(o), o.clone()))
            .collect();
        Origins { by_origin, by_hash }
    }

    /// The keys trusted for `origin`, if it is configured.
    pub fn keys(&self, origin: &str) -> Option<&[Vkey]> {
        self.by_origin.get(origin).map(Vec::as_slice)
    }

    /// The origin whose lowercase hex SHA-256 is `hash` (the monitoring path).
    pub fn by_hash(&self, hash: &str) -> Option<&str> {
        self.by_hash.get(hash).map(String::as_str)
    }

    /// Every configured origin with its keys, in origin order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Vkey])> {
        self.by_origin
            .iter()
            .map(|(o, k)| (o.as_str(), k.as_slice()))
    }

    /// How many origins are configured.
    pub fn len(&self) -> usize {
        self.by_origin.len()
    }

    /// True when no origin is configured (every submission then gets 404).
    pub fn is_empty(&self) -> bool {
        self.by_origin.is_empty()
    }
}

/// Lowercase hex of SHA-256(origin): the path segment of the monitoring endpoint.
pub fn origin_hash_hex(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG_HEX: &str = "ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f";
    const ORIGIN: &str =
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562";
    const VKEY: &str = "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562+5202289b+Af/cLU2Y5BJNP+r3iMDC+av9eWCD0fBJVDfzAux5zxAP";

    #[test]
    fn hex_and_vkey_forms_give_the_same_key() {
        let a = parse_origin_line(&format!("{ORIGIN}|{ORIGIN}|{LOG_HEX}"), 1).unwrap();
        let b = parse_origin_line(&format!("{ORIGIN}|{VKEY}"), 1).unwrap();
        let c = parse_origin_line(&format!("{ORIGIN}|{ORIGIN}|{VKEY}"), 1).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.key.to_string(), VKEY);
    }

    #[test]
    fn origin_may_differ_from_key_name_and_contain_spaces() {
        let l = parse_origin_line(&format!("go.sum database tree|sum.golang.org|{LOG_HEX}"), 1)
            .unwrap();
        assert_eq!(l.origin, "go.sum database tree");
        assert_eq!(l.key.name, "sum.golang.org");
    }

    #[test]
    fn bad_lines_are_rejected_with_their_line_number() {
        assert!(matches!(
            parse_origin_line("only-origin", 3),
            Err(ConfigError::FieldCount { line: 3, .. })
        ));
        assert!(matches!(
            parse_origin_line(&format!("|name|{LOG_HEX}"), 1),
            Err(ConfigError::EmptyOrigin { .. })
        ));
        assert!(matches!(
            parse_origin_line("o|name|abcd", 1),
            Err(ConfigError::BadKey { .. })
        ));
        assert!(matches!(
            parse_origin_line(&format!("o|other-name|{VKEY}"), 1),
            Err(ConfigError::NameMismatch { .. })
        ));
        let file = format!("# comment\n\n{ORIGIN}|{VKEY}\nbroken\n");
        assert!(matches!(
            parse_origins_file(&file),
            Err(ConfigError::FieldCount { line: 4, .. })
        ));
    }

    #[test]
    fn file_merges_keys_and_indexes_by_hash() {
        let file = format!(
            "# logs\n{ORIGIN}|{VKEY}\n  {ORIGIN}|{ORIGIN}|{LOG_HEX}  \nother|k|{LOG_HEX}\n"
        );
        let origins = Origins::new(parse_origins_file(&file).unwrap());
        assert_eq!(origins.len(), 2);
        assert_eq!(origins.keys(ORIGIN).unwrap().len(), 1);
        assert_eq!(origins.by_hash(&origin_hash_hex(ORIGIN)), Some(ORIGIN));
        assert!(origins.keys("unknown").is_none());
    }
}
