//! Strict, canonical standard base64 (RFC 4648 §4, `=` padding).
//!
//! Every base64 field in the transparency formats is decoded here. Go's decoder accepts
//! non-zero trailing pad bits, which lets one value have several encodings; we accept only
//! the encoding [`encode`] would produce, so a byte string has exactly one text form.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

/// Why a base64 string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base64Error {
    /// Not standard base64 at all (bad alphabet, bad length or bad padding).
    #[error("invalid base64: {0}")]
    Invalid(base64::DecodeError),
    /// Decodes, but is not the canonical encoding (non-zero trailing bits).
    #[error("non-canonical base64: trailing bits must be zero")]
    NonCanonical,
}

/// Lenient engine: same alphabet and padding rules, but non-zero trailing bits allowed.
/// Used only to learn what a non-canonical string would mean (for error reports).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Encodes `bytes` as standard base64 with padding.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard padded base64, accepting only the canonical encoding.
pub fn decode_canonical(s: &str) -> Result<Vec<u8>, Base64Error> {
    match STANDARD.decode(s) {
        Ok(bytes) => {
            // The strict engine already rejects trailing bits; the round trip is a second,
            // engine-independent guarantee that the text form is unique.
            if STANDARD.encode(&bytes) == s {
                Ok(bytes)
            } else {
                Err(Base64Error::NonCanonical)
            }
        }
        Err(base64::DecodeError::InvalidLastSymbol(..)) if LENIENT.decode(s).is_ok() => {
            Err(Base64Error::NonCanonical)
        }
        Err(e) => Err(Base64Error::Invalid(e)),
    }
}

/// Decodes base64 the way Go's `encoding/base64.StdEncoding` does: padded, standard
/// alphabet, but non-zero trailing bits tolerated.
///
/// Never use the result as accepted input; it only helps describe an input that
/// [`decode_canonical`] rejected (for example, which key a malformed signature line names).
pub fn decode_lenient(s: &str) -> Result<Vec<u8>, Base64Error> {
    LENIENT.decode(s).map_err(Base64Error::Invalid)
}

/// Decodes canonical base64 into exactly `N` bytes.
pub fn decode_array<const N: usize>(s: &str) -> Result<[u8; N], Base64LenError> {
    let bytes = decode_canonical(s).map_err(Base64LenError::Base64)?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| Base64LenError::Length {
        expected: N,
        got: bytes.len(),
    })
}

/// Why a fixed-length base64 value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base64LenError {
    /// The base64 itself was rejected.
    #[error(transparent)]
    Base64(Base64Error),
    /// It decoded to the wrong number of bytes.
    #[error("expected {expected} bytes, got {got}")]
    Length {
        /// Required length in bytes.
        expected: usize,
        /// Decoded length in bytes.
        got: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for n in 0..40u8 {
            let data: Vec<u8> = (0..n).collect();
            assert_eq!(decode_canonical(&encode(&data)).unwrap(), data);
        }
    }

    #[test]
    fn rejects_non_zero_trailing_bits() {
        // "AA==" is the canonical encoding of [0]; "AB==" sets trailing bits.
        assert_eq!(decode_canonical("AA==").unwrap(), vec![0]);
        assert_eq!(decode_canonical("AB=="), Err(Base64Error::NonCanonical));
        assert_eq!(decode_canonical("AAB="), Err(Base64Error::NonCanonical));
        assert_eq!(decode_lenient("AB==").unwrap(), vec![0]);
    }

    #[test]
    fn rejects_missing_padding_whitespace_and_url_alphabet() {
        for bad in [
            "AA", "AA=", "AA==\n", " AA==", "A A=", "-_8=", "AA===", "====", "A",
        ] {
            assert!(
                matches!(decode_canonical(bad), Err(Base64Error::Invalid(_))),
                "{bad:?} must be invalid"
            );
        }
    }

    #[test]
    fn empty_string_is_empty_bytes() {
        assert_eq!(decode_canonical("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn fixed_length() {
        let h = [7u8; 32];
        assert_eq!(decode_array::<32>(&encode(&h)).unwrap(), h);
        assert_eq!(
            decode_array::<32>(&encode(&[7u8; 31])),
            Err(Base64LenError::Length {
                expected: 32,
                got: 31
            })
        );
    }
}
