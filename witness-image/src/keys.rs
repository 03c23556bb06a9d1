//! The witness's Ed25519 seed: from hex (flag or env), from a file (a mounted Secret holding
//! hex or the raw 32 bytes), or, only when explicitly asked, an insecure development seed.

use std::path::Path;

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

/// Why no seed could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Neither a seed nor `--insecure-dev-seed` was given.
    #[error(
        "no witness seed: give --witness-seed-file, --witness-seed-hex or NUCLEUS_WITNESS_SEED_HEX \
         (or --insecure-dev-seed for local development only)"
    )]
    Missing,
    /// Both a hex seed and a seed file were given.
    #[error("give either a hex seed or --witness-seed-file, not both")]
    Ambiguous,
    /// The hex seed is not 64 hex digits.
    #[error("witness seed must be 64 hex digits (32 bytes), got {0} character(s)")]
    BadHex(usize),
    /// The seed file holds neither 32 raw bytes nor 64 hex digits.
    #[error("seed file {path}: expected 32 raw bytes or 64 hex digits, got {len} byte(s)")]
    BadFile {
        /// The file path.
        path: String,
        /// Its length.
        len: usize,
    },
    /// The seed file could not be read.
    #[error("reading seed file {path}: {source}")]
    Read {
        /// The file path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where the seed came from (logged at start; never the seed itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOrigin {
    /// `--witness-seed-hex` or `NUCLEUS_WITNESS_SEED_HEX`.
    Hex,
    /// `--witness-seed-file`.
    File,
    /// `--insecure-dev-seed`: derived from the witness name, public knowledge.
    InsecureDev,
}

/// Parses 64 hex digits (surrounding whitespace ignored) into a seed.
pub fn seed_from_hex(s: &str) -> Result<[u8; 32], KeyError> {
    let s = s.trim();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(s, &mut seed).map_err(|_| KeyError::BadHex(s.len()))?;
    Ok(seed)
}

/// Reads a seed file: exactly 32 raw bytes, or 64 hex digits with optional whitespace.
pub fn seed_from_file(path: &Path) -> Result<[u8; 32], KeyError> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
        path: display.clone(),
        source,
    })?;
    if bytes.len() == 32 {
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&bytes);
        Ok(seed)
    } else {
        match std::str::from_utf8(&bytes) {
            Ok(text) => seed_from_hex(text).map_err(|_| KeyError::BadFile {
                path: display,
                len: bytes.len(),
            }),
            Err(_) => Err(KeyError::BadFile {
                path: display,
                len: bytes.len(),
            }),
        }
    }
}

/// The development seed for `name`: SHA-256 of a fixed label and the name. Anyone can
/// compute it, so a witness using it protects nothing.
pub fn insecure_dev_seed(name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"nucleus-witness insecure development seed\n");
    h.update(name.as_bytes());
    h.finalize().into()
}

/// Picks the seed from the configured sources, refusing to start without one unless the
/// insecure development seed was asked for.
pub fn load_signing_key(
    hex_seed: Option<&str>,
    seed_file: Option<&Path>,
    insecure_dev_seed_ok: bool,
    witness_name: &str,
) -> Result<(SigningKey, SeedOrigin), KeyError> {
    let (seed, origin) = match (hex_seed, seed_file) {
        (Some(_), Some(_)) => return Err(KeyError::Ambiguous),
        (Some(h), None) => (seed_from_hex(h)?, SeedOrigin::Hex),
        (None, Some(p)) => (seed_from_file(p)?, SeedOrigin::File),
        (None, None) if insecure_dev_seed_ok => {
            (insecure_dev_seed(witness_name), SeedOrigin::InsecureDev)
        }
        (None, None) => return Err(KeyError::Missing),
    };
    Ok((SigningKey::from_bytes(&seed), origin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const SEED_HEX: &str = "31ffc2116ecbe003acaa800ab70757bd7d53206e3febef6a6d0796d95530b34f";
    const PUB_HEX: &str = "64848ad8abed6e85981b3b3875b252b8767ebb4b02f703aca3b1e71bbd6a8e50";

    #[test]
    fn hex_seed_derives_the_scenario_key() {
        let (k, o) = load_signing_key(Some(SEED_HEX), None, false, "w").unwrap();
        assert_eq!(o, SeedOrigin::Hex);
        assert_eq!(hex::encode(k.verifying_key().as_bytes()), PUB_HEX);
    }

    #[test]
    fn seed_file_accepts_hex_and_raw_bytes() {
        let mut hexfile = tempfile::NamedTempFile::new().unwrap();
        writeln!(hexfile, "{SEED_HEX}").unwrap();
        let mut raw = tempfile::NamedTempFile::new().unwrap();
        raw.write_all(&hex::decode(SEED_HEX).unwrap()).unwrap();
        for f in [hexfile.path(), raw.path()] {
            let (k, o) = load_signing_key(None, Some(f), false, "w").unwrap();
            assert_eq!(o, SeedOrigin::File);
            assert_eq!(hex::encode(k.verifying_key().as_bytes()), PUB_HEX);
        }
        let mut short = tempfile::NamedTempFile::new().unwrap();
        short.write_all(b"abcd").unwrap();
        assert!(matches!(
            load_signing_key(None, Some(short.path()), false, "w"),
            Err(KeyError::BadFile { len: 4, .. })
        ));
    }

    #[test]
    fn no_seed_refuses_unless_insecure_dev_seed() {
        assert!(matches!(
            load_signing_key(None, None, false, "w"),
            Err(KeyError::Missing)
        ));
        let (a, o) = load_signing_key(None, None, true, "w1").unwrap();
        let (b, _) = load_signing_key(None, None, true, "w2").unwrap();
        assert_eq!(o, SeedOrigin::InsecureDev);
        assert_ne!(a.verifying_key(), b.verifying_key());
        assert!(matches!(
            load_signing_key(Some("zz"), None, false, "w"),
            Err(KeyError::BadHex(2))
        ));
        let f = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(
            load_signing_key(Some(SEED_HEX), Some(f.path()), false, "w"),
            Err(KeyError::Ambiguous)
        ));
    }
}
