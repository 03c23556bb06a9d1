//! Cosignatures (c2sp.org/tlog-cosignature): Ed25519 `cosignature/v1` (type 0x04) signing
//! and verification, and ML-DSA-44 `subtree/v1` (type 0x06) verification.
//!
//! A cosignature line's blob is `key ID[4] ‖ timestamp u64 BE ‖ signature`; in a
//! [`NoteSignature`] the key ID is in `key_id`, so `blob` is `timestamp ‖ signature`
//! (72 bytes for Ed25519, 2428 for ML-DSA-44). The timestamp comes from the caller: this
//! crate has no clock.

use ed25519_dalek::{Signature, Signer as _, SigningKey};
use ml_dsa::{EncodedSignature, EncodedVerifyingKey, MlDsa44};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::signed_note::NoteSignature;
use crate::vkey::{KeyType, Vkey, VkeyError};

/// Length of an Ed25519 cosignature blob after the key ID: timestamp (8) + signature (64).
pub const ED25519_COSIGNATURE_LEN: usize = 8 + 64;
/// Length of an ML-DSA-44 cosignature blob after the key ID: timestamp (8) + signature (2420).
pub const ML_DSA_44_COSIGNATURE_LEN: usize = 8 + 2420;
/// Largest valid timestamp: 2^63 − 1 POSIX seconds.
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Why a cosignature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The line's name or key ID is not the key's.
    #[error(
        "cosignature line {line_name}+{line_key_id:08x} is not from key {key_name}+{key_id:08x}"
    )]
    KeyMismatch {
        /// Name on the line.
        line_name: String,
        /// Key ID on the line.
        line_key_id: u32,
        /// The key's name.
        key_name: String,
        /// The key's (cosignature) key ID.
        key_id: u32,
    },
    /// The blob has the wrong length for the key type.
    #[error("signature blob must be {expected} bytes after the key id, got {got}")]
    BadLength {
        /// Required length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// The timestamp exceeds 2^63 − 1.
    #[error("cosignature timestamp {0} exceeds 2^63-1")]
    TimestampOutOfRange(u64),
    /// The signature does not verify.
    #[error("cosignature does not verify")]
    BadSignature,
    /// The key cannot be used.
    #[error(transparent)]
    Key(#[from] VkeyError),
    /// An ML-DSA-44 cosignature covers origin, size and root, so the text must be a checkpoint.
    #[error("ML-DSA-44 cosignature needs a checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// A `subtree/v1` name or origin is empty or longer than 255 bytes.
    #[error("subtree/v1 {field} must be 1 to 255 bytes, got {len}")]
    FieldLength {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
}

/// The bytes an Ed25519 cosigner signs: `cosignature/v1\ntime <ts>\n` + the checkpoint
/// text (final LF included; no blank line, no signatures).
pub fn cosignature_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

/// The bytes an ML-DSA-44 cosigner signs (`subtree/v1`, TLS presentation language,
/// big-endian): label `subtree/v1\n\0`, u8-length-prefixed cosigner name, u64 timestamp,
/// u8-length-prefixed origin, u64 start, u64 end, 32-byte hash. A checkpoint is the
/// subtree `[0, size)` with its root.
pub fn subtree_message(
    cosigner_name: &str,
    timestamp: u64,
    origin: &str,
    start: u64,
    end: u64,
    hash: &[u8; 32],
) -> Result<Vec<u8>, CosignatureError> {
    let name_len = short_len("cosigner name", cosigner_name)?;
    let origin_len = short_len("origin", origin)?;
    let mut m = Vec::with_capacity(12 + 1 + cosigner_name.len() + 8 + 1 + origin.len() + 48);
    m.extend_from_slice(b"subtree/v1\n\0");
    m.push(name_len);
    m.extend_from_slice(cosigner_name.as_bytes());
    m.extend_from_slice(&timestamp.to_be_bytes());
    m.push(origin_len);
    m.extend_from_slice(origin.as_bytes());
    m.extend_from_slice(&start.to_be_bytes());
    m.extend_from_slice(&end.to_be_bytes());
    m.extend_from_slice(hash);
    Ok(m)
}

fn short_len(field: &'static str, s: &str) -> Result<u8, CosignatureError> {
    match u8::try_from(s.len()) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(CosignatureError::FieldLength {
            field,
            len: s.len(),
        }),
    }
}

/// Verifies a cosignature line against a witness key and returns its timestamp.
///
/// - The line's name and key ID must both be the key's ([`CosignatureError::KeyMismatch`]).
/// - A type 0x01 key is used as its 0x04 form ([`Vkey::to_cosignature`]): the line must carry
///   the 0x04 key ID. This is how Armored Witness keys (published as 0x01) verify.
/// - Type 0x04: strict Ed25519 (`verify_strict`) over [`cosignature_message`].
/// - Type 0x06: ML-DSA-44 (FIPS 204, empty context) over [`subtree_message`] for
///   `[0, size)` of the checkpoint parsed from `checkpoint_text`.
/// - Timestamps above 2^63 − 1 are rejected. Whether a timestamp is too far in the future
///   is the caller's call (no clock here).
pub fn verify_cosignature(
    vkey: &Vkey,
    sig: &NoteSignature,
    checkpoint_text: &str,
) -> Result<u64, CosignatureError> {
    let key = vkey.to_cosignature();
    if sig.name != key.name || sig.key_id != key.key_id {
        return Err(CosignatureError::KeyMismatch {
            line_name: sig.name.clone(),
            line_key_id: sig.key_id,
            key_name: key.name,
            key_id: key.key_id,
        });
    }
    let expected = match key.key_type {
        KeyType::MlDsa44Cosignature => ML_DSA_44_COSIGNATURE_LEN,
        _ => ED25519_COSIGNATURE_LEN,
    };
    if sig.blob.len() != expected {
        return Err(CosignatureError::BadLength {
            expected,
            got: sig.blob.len(),
        });
    }
    let (ts, signature) = sig.blob.split_at(8);
    let timestamp = u64::from_be_bytes(ts.try_into().expect("split at 8"));
    if timestamp > MAX_TIMESTAMP {
        return Err(CosignatureError::TimestampOutOfRange(timestamp));
    }
    match key.key_type {
        KeyType::MlDsa44Cosignature => {
            let cp = Checkpoint::parse(checkpoint_text)?;
            let msg = subtree_message(&key.name, timestamp, &cp.origin, 0, cp.size, &cp.root)?;
            verify_ml_dsa_44(&key.public_key, &msg, signature)?;
        }
        KeyType::Cosignature | KeyType::Ed25519 => {
            let vk = key.ed25519_key()?;
            let s = Signature::from_slice(signature).map_err(|_| CosignatureError::BadSignature)?;
            vk.verify_strict(&cosignature_message(checkpoint_text, timestamp), &s)
                .map_err(|_| CosignatureError::BadSignature)?;
        }
    }
    Ok(timestamp)
}

fn verify_ml_dsa_44(
    public_key: &[u8],
    msg: &[u8],
    signature: &[u8],
) -> Result<(), CosignatureError> {
    let enc_key = EncodedVerifyingKey::<MlDsa44>::try_from(public_key).map_err(|_| {
        CosignatureError::Key(VkeyError::KeyLength {
            key_type: KeyType::MlDsa44Cosignature,
            expected: crate::vkey::ML_DSA_44_PUBLIC_KEY_LEN,
            got: public_key.len(),
        })
    })?;
    let vk = ml_dsa::VerifyingKey::<MlDsa44>::decode(&enc_key);
    let enc_sig = EncodedSignature::<MlDsa44>::try_from(signature)
        .map_err(|_| CosignatureError::BadSignature)?;
    let sig =
        ml_dsa::Signature::<MlDsa44>::decode(&enc_sig).ok_or(CosignatureError::BadSignature)?;
    if vk.verify_with_context(msg, &[], &sig) {
        Ok(())
    } else {
        Err(CosignatureError::BadSignature)
    }
}

/// Produces Ed25519 `cosignature/v1` lines (type 0x04).
#[derive(Debug, Clone)]
pub struct CosignatureSigner {
    vkey: Vkey,
    key: SigningKey,
}

impl CosignatureSigner {
    /// A cosigner named `name`. Fails if the name is not a valid key name.
    pub fn new(name: &str, key: SigningKey) -> Result<CosignatureSigner, VkeyError> {
        let vkey = Vkey::cosignature(name, &key.verifying_key())?;
        Ok(CosignatureSigner { vkey, key })
    }

    /// The type 0x04 vkey that verifies this cosigner's lines.
    pub fn vkey(&self) -> &Vkey {
        &self.vkey
    }

    /// Cosigns `checkpoint_text` at `timestamp` (POSIX seconds from the caller's clock).
    ///
    /// Fails only for a timestamp above 2^63 − 1, which verifiers reject.
    pub fn sign(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, CosignatureError> {
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampOutOfRange(timestamp));
        }
        let sig = self
            .key
            .sign(&cosignature_message(checkpoint_text, timestamp));
        let mut blob = Vec::with_capacity(ED25519_COSIGNATURE_LEN);
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        Ok(NoteSignature {
            name: self.vkey.name.clone(),
            key_id: self.vkey.key_id,
            blob,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::EMPTY_ROOT;

    const TEXT: &str = "example.com/log\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";

    fn cosigner(name: &str, seed: u8) -> CosignatureSigner {
        CosignatureSigner::new(name, SigningKey::from_bytes(&[seed; 32])).unwrap()
    }

    #[test]
    fn message_layout() {
        assert_eq!(
            cosignature_message("o\n1\nAA==\n", 1679315147),
            b"cosignature/v1\ntime 1679315147\no\n1\nAA==\n"
        );
        assert_eq!(
            cosignature_message("x\n", 0),
            b"cosignature/v1\ntime 0\nx\n"
        );
    }

    #[test]
    fn sign_verify_round_trip() {
        let w = cosigner("w1.example", 1);
        let line = w.sign(TEXT, 1_700_000_000).unwrap();
        assert_eq!(line.blob.len(), ED25519_COSIGNATURE_LEN);
        assert_eq!(line.key_id, w.vkey().key_id);
        assert_eq!(verify_cosignature(w.vkey(), &line, TEXT), Ok(1_700_000_000));
        // 76-byte base64 payload on the line: key ID ‖ timestamp ‖ signature.
        let encoded = line.to_line();
        let payload = encoded.trim_end().rsplit(' ').next().unwrap();
        assert_eq!(crate::b64::decode_canonical(payload).unwrap().len(), 76);
    }

    #[test]
    fn type_01_key_verifies_converted() {
        let w = cosigner("w", 2);
        let line = w.sign(TEXT, 7).unwrap();
        let v1 = Vkey::ed25519("w", &w.key.verifying_key()).unwrap();
        assert_eq!(verify_cosignature(&v1, &line, TEXT), Ok(7));
    }

    #[test]
    fn rejections() {
        let w = cosigner("w", 3);
        let line = w.sign(TEXT, 9).unwrap();
        // other text
        assert_eq!(
            verify_cosignature(w.vkey(), &line, "example.com/log\n6\nAA==\n"),
            Err(CosignatureError::BadSignature)
        );
        // other timestamp
        let mut l2 = line.clone();
        l2.blob[7] ^= 1;
        assert_eq!(
            verify_cosignature(w.vkey(), &l2, TEXT),
            Err(CosignatureError::BadSignature)
        );
        // flipped signature bit
        let mut l3 = line.clone();
        l3.blob[40] ^= 0x80;
        assert_eq!(
            verify_cosignature(w.vkey(), &l3, TEXT),
            Err(CosignatureError::BadSignature)
        );
        // renamed line
        let mut l4 = line.clone();
        l4.name = "alias".into();
        assert!(matches!(
            verify_cosignature(w.vkey(), &l4, TEXT),
            Err(CosignatureError::KeyMismatch { .. })
        ));
        // other key, same name
        let other = cosigner("w", 4);
        assert!(matches!(
            verify_cosignature(other.vkey(), &line, TEXT),
            Err(CosignatureError::KeyMismatch { .. })
        ));
        // truncated
        let mut l5 = line.clone();
        l5.blob.pop();
        assert_eq!(
            verify_cosignature(w.vkey(), &l5, TEXT),
            Err(CosignatureError::BadLength {
                expected: 72,
                got: 71
            })
        );
        // plain note signature (64 bytes) from the same key is not a cosignature
        let mut l6 = line;
        l6.blob.drain(..8);
        assert!(verify_cosignature(w.vkey(), &l6, TEXT).is_err());
    }

    #[test]
    fn timestamp_range() {
        let w = cosigner("w", 5);
        assert!(w.sign(TEXT, MAX_TIMESTAMP).is_ok());
        assert_eq!(
            w.sign(TEXT, MAX_TIMESTAMP + 1),
            Err(CosignatureError::TimestampOutOfRange(MAX_TIMESTAMP + 1))
        );
        // Forge a line with the top bit set: rejected before any signature check.
        let mut line = w.sign(TEXT, 0).unwrap();
        line.blob[0] = 0x80;
        assert_eq!(
            verify_cosignature(w.vkey(), &line, TEXT),
            Err(CosignatureError::TimestampOutOfRange(1 << 63))
        );
    }

    #[test]
    fn subtree_message_layout() {
        let m = subtree_message("w", 0, "example.com/mldsa-log", 0, 1, &EMPTY_ROOT).unwrap();
        assert_eq!(&m[..12], b"subtree/v1\n\0");
        assert_eq!(m[12], 1);
        assert_eq!(m.len(), 12 + 1 + 1 + 8 + 1 + 21 + 8 + 8 + 32);
        assert!(subtree_message("", 0, "o", 0, 1, &EMPTY_ROOT).is_err());
        assert!(subtree_message("w", 0, &"o".repeat(256), 0, 1, &EMPTY_ROOT).is_err());
    }
}
