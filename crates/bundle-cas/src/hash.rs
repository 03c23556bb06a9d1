//! The content address of a bundle: BLAKE3-256 over its exact bytes.

use std::fmt;
use std::str::FromStr;

use crate::error::HashParseError;

/// BLAKE3-256 digest of a bundle's exact bytes, written as 64 lowercase hex characters.
///
/// This is a transport address, not a CID, and it is unrelated to the envelope's SHA-256
/// canonical hash: it says which bytes were served, never who produced them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundleHash([u8; 32]);

impl BundleHash {
    /// Hashes `bytes` exactly as given (no parsing, no re-serialization).
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// Wraps a raw 32-byte digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32-byte digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase 64-character hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// True when `bytes` hash to this address.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        Self::of(bytes) == *self
    }
}

impl FromStr for BundleHash {
    type Err = HashParseError;

    /// Strict parse: exactly 64 lowercase hex characters, nothing else (no prefix, no
    /// whitespace, no base32), so one hash has exactly one spelling.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 {
            return Err(HashParseError::Length(s.len()));
        }
        if let Some(c) = s.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(HashParseError::Character(c));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError::Length(s.len()))?;
        Ok(Self(out))
    }
}

impl fmt::Display for BundleHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for BundleHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BundleHash({})", self.to_hex())
    }
}

impl From<iroh_blobs::Hash> for BundleHash {
    fn from(h: iroh_blobs::Hash) -> Self {
        Self(*h.as_bytes())
    }
}

impl From<BundleHash> for iroh_blobs::Hash {
    fn from(h: BundleHash) -> Self {
        iroh_blobs::Hash::from_bytes(h.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_exact_bytes_with_blake3() {
        // Reference value: BLAKE3 of the empty input (from the BLAKE3 specification).
        assert_eq!(
            BundleHash::of(b"").to_hex(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        // Whitespace is content: a re-serialized JSON document is a different address.
        assert_ne!(
            BundleHash::of(b"{\"a\":1}"),
            BundleHash::of(b"{ \"a\": 1 }")
        );
    }

    #[test]
    fn hex_round_trip_and_iroh_mapping() {
        let h = BundleHash::of(b"bundle bytes");
        let parsed: BundleHash = h.to_hex().parse().unwrap();
        assert_eq!(parsed, h);
        let iroh: iroh_blobs::Hash = h.into();
        assert_eq!(iroh, iroh_blobs::Hash::new(b"bundle bytes"));
        assert_eq!(BundleHash::from(iroh), h);
        assert!(h.matches(b"bundle bytes"));
        assert!(!h.matches(b"bundle bytes "));
    }

    #[test]
    fn strict_parse_rejects_other_spellings() {
        let h = BundleHash::of(b"x").to_hex();
        assert_eq!(
            h.to_uppercase().parse::<BundleHash>(),
            Err(HashParseError::Character(
                h.to_uppercase()
                    .chars()
                    .find(|c| c.is_ascii_uppercase())
                    .unwrap()
            ))
        );
        assert_eq!(
            format!("{h} ").parse::<BundleHash>(),
            Err(HashParseError::Length(65))
        );
        assert_eq!(
            h[..63].parse::<BundleHash>(),
            Err(HashParseError::Length(63))
        );
        let mut bad = h.clone();
        bad.replace_range(10..11, "g");
        assert_eq!(
            bad.parse::<BundleHash>(),
            Err(HashParseError::Character('g'))
        );
    }
}
