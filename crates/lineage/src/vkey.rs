//! Verifier keys (`vkey`s), key types, key names and key IDs (c2sp.org/signed-note).
//!
//! A vkey is `<name>+<8 lowercase hex key ID>+<base64(type ‖ public key)>`. The key ID is
//! always recomputed as `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]` (big-endian `u32`)
//! and a vkey whose stated ID differs is rejected.

use core::fmt;

use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::b64;
use crate::quoted::Quoted;

/// Length of an Ed25519 public key in bytes.
pub const ED25519_PUBLIC_KEY_LEN: usize = 32;
/// Length of an ML-DSA-44 public key in bytes (FIPS 204).
pub const ML_DSA_44_PUBLIC_KEY_LEN: usize = 1312;

/// The signature types this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum KeyType {
    /// Ed25519 signature over the note text (0x01).
    Ed25519 = 0x01,
    /// Timestamped Ed25519 cosignature, `cosignature/v1` (0x04).
    Cosignature = 0x04,
    /// Timestamped ML-DSA-44 (sub)tree cosignature, `subtree/v1` (0x06).
    MlDsa44Cosignature = 0x06,
}

impl KeyType {
    /// The type byte as it appears in vkeys and key-ID preimages.
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// The type for a type byte, if this crate knows it.
    pub fn from_byte(b: u8) -> Option<KeyType> {
        match b {
            0x01 => Some(KeyType::Ed25519),
            0x04 => Some(KeyType::Cosignature),
            0x06 => Some(KeyType::MlDsa44Cosignature),
            _ => None,
        }
    }

    /// Length of a public key of this type in bytes.
    pub fn public_key_len(self) -> usize {
        match self {
            KeyType::Ed25519 | KeyType::Cosignature => ED25519_PUBLIC_KEY_LEN,
            KeyType::MlDsa44Cosignature => ML_DSA_44_PUBLIC_KEY_LEN,
        }
    }

    /// Whether signatures of this type are timestamped cosignatures.
    pub fn is_cosignature(self) -> bool {
        matches!(self, KeyType::Cosignature | KeyType::MlDsa44Cosignature)
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            KeyType::Ed25519 => "Ed25519 (0x01)",
            KeyType::Cosignature => "Ed25519 cosignature/v1 (0x04)",
            KeyType::MlDsa44Cosignature => "ML-DSA-44 subtree/v1 cosignature (0x06)",
        };
        f.write_str(s)
    }
}

/// Why a vkey, key name or public key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VkeyError {
    /// The key name is empty, contains `+`, whitespace or a control character.
    #[error("invalid key name {}: must be non-empty, without '+', whitespace or control characters", Quoted(.0))]
    InvalidName(String),
    /// The vkey does not have the three `+`-separated fields.
    #[error("malformed vkey: expected <name>+<8 hex key id>+<base64 key>")]
    Malformed,
    /// The key ID field is not exactly 8 lowercase hex digits.
    #[error("malformed vkey key id {}: expected 8 lowercase hex digits", Quoted(.0))]
    BadKeyIdField(String),
    /// The key material is not canonical base64.
    #[error("malformed vkey key material: {0}")]
    Base64(#[from] b64::Base64Error),
    /// The key material is empty (no type byte).
    #[error("vkey key material is empty")]
    Empty,
    /// The type byte is not one this crate knows.
    #[error("unknown key type 0x{0:02x}")]
    UnknownType(u8),
    /// The public key has the wrong length for its type.
    #[error("{key_type} public key must be {expected} bytes, got {got}")]
    KeyLength {
        /// The key type.
        key_type: KeyType,
        /// Required length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// The stated key ID is not the one computed from name, type and key.
    #[error("vkey key id {stated:08x} does not match computed key id {computed:08x}")]
    KeyIdMismatch {
        /// Key ID written in the vkey.
        stated: u32,
        /// Key ID computed from the name, type and key.
        computed: u32,
    },
    /// The bytes are not a valid Ed25519 point.
    #[error("invalid Ed25519 public key")]
    InvalidEd25519Key,
    /// The operation needs an Ed25519 key but the vkey has another type.
    #[error("expected an Ed25519 key (type 0x01 or 0x04), got {0}")]
    NotEd25519(KeyType),
    /// A raw public key was neither 64 hex digits nor a vkey.
    #[error("expected 64 hex digits or a vkey")]
    NotAPublicKey,
}

/// Whether `name` is a valid signed-note key name.
///
/// Non-empty, no `+`, no Unicode whitespace (the `White_Space` property, as Go's
/// `unicode.IsSpace`, which includes U+0085 and U+00A0), and no control characters
/// (they could never appear on a signature line).
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c == '+' || c.is_whitespace() || c.is_control())
}

/// Computes a key ID: `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]` as a big-endian `u32`.
pub fn key_id(name: &str, key_type: KeyType, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', key_type.byte()]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A verifier key: name, key ID, type and public key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vkey {
    /// The key name (for a log, usually the origin; for a witness, its name).
    pub name: String,
    /// The key ID, always equal to [`key_id`] of the other fields.
    pub key_id: u32,
    /// The signature type.
    pub key_type: KeyType,
    /// The raw public key (32 bytes for Ed25519 types, 1312 for ML-DSA-44).
    pub public_key: Vec<u8>,
}

impl Vkey {
    /// Builds a vkey, validating the name and key and computing the key ID.
    pub fn new(name: &str, key_type: KeyType, public_key: &[u8]) -> Result<Vkey, VkeyError> {
        if !is_valid_key_name(name) {
            return Err(VkeyError::InvalidName(name.to_owned()));
        }
        if public_key.len() != key_type.public_key_len() {
            return Err(VkeyError::KeyLength {
                key_type,
                expected: key_type.public_key_len(),
                got: public_key.len(),
            });
        }
        if matches!(key_type, KeyType::Ed25519 | KeyType::Cosignature) {
            ed25519_from_slice(public_key)?;
        }
        Ok(Vkey {
            name: name.to_owned(),
            key_id: key_id(name, key_type, public_key),
            key_type,
            public_key: public_key.to_vec(),
        })
    }

    /// A type 0x01 (signed-note Ed25519) vkey, as logs use.
    pub fn ed25519(name: &str, key: &VerifyingKey) -> Result<Vkey, VkeyError> {
        Vkey::new(name, KeyType::Ed25519, key.as_bytes())
    }

    /// A type 0x04 (Ed25519 cosignature/v1) vkey, as witnesses use.
    pub fn cosignature(name: &str, key: &VerifyingKey) -> Result<Vkey, VkeyError> {
        Vkey::new(name, KeyType::Cosignature, key.as_bytes())
    }

    /// Parses `<name>+<8 lowercase hex>+<base64(type ‖ key)>`.
    ///
    /// Splits on the first two `+` only (the base64 may contain `+`), requires canonical
    /// base64, a known type, the right key length, a valid Ed25519 point for Ed25519 types,
    /// and a key ID equal to the recomputed one.
    pub fn parse(s: &str) -> Result<Vkey, VkeyError> {
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VkeyError::Malformed);
        };
        if !is_valid_key_name(name) {
            return Err(VkeyError::InvalidName(name.to_owned()));
        }
        let stated = parse_key_id_hex(id_hex)?;
        let material = b64::decode_canonical(material)?;
        let (&type_byte, public_key) = material.split_first().ok_or(VkeyError::Empty)?;
        let key_type = KeyType::from_byte(type_byte).ok_or(VkeyError::UnknownType(type_byte))?;
        let vkey = Vkey::new(name, key_type, public_key)?;
        if vkey.key_id != stated {
            return Err(VkeyError::KeyIdMismatch {
                stated,
                computed: vkey.key_id,
            });
        }
        Ok(vkey)
    }

    /// The Ed25519 verifying key, for types 0x01 and 0x04.
    pub fn ed25519_key(&self) -> Result<VerifyingKey, VkeyError> {
        match self.key_type {
            KeyType::Ed25519 | KeyType::Cosignature => ed25519_from_slice(&self.public_key),
            other => Err(VkeyError::NotEd25519(other)),
        }
    }

    /// The cosignature form of this key.
    ///
    /// A type 0x01 key becomes type 0x04 under the same name, with the key ID recomputed
    /// (Armored Witness devices publish 0x01 vkeys but sign `cosignature/v1`). Cosignature
    /// keys (0x04, 0x06) are returned unchanged.
    pub fn to_cosignature(&self) -> Vkey {
        match self.key_type {
            KeyType::Ed25519 => Vkey {
                name: self.name.clone(),
                key_id: key_id(&self.name, KeyType::Cosignature, &self.public_key),
                key_type: KeyType::Cosignature,
                public_key: self.public_key.clone(),
            },
            KeyType::Cosignature | KeyType::MlDsa44Cosignature => self.clone(),
        }
    }
}

impl fmt::Display for Vkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = Vec::with_capacity(1 + self.public_key.len());
        material.push(self.key_type.byte());
        material.extend_from_slice(&self.public_key);
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            b64::encode(&material)
        )
    }
}

impl core::str::FromStr for Vkey {
    type Err = VkeyError;
    fn from_str(s: &str) -> Result<Vkey, VkeyError> {
        Vkey::parse(s)
    }
}

/// Parses an Ed25519 public key given either as 64 hex digits (either case) or as a vkey of
/// type 0x01 or 0x04 (the vkey's name is not needed for this and is dropped).
pub fn parse_ed25519_public_key(s: &str) -> Result<VerifyingKey, VkeyError> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut raw = [0u8; 32];
        hex::decode_to_slice(s, &mut raw).map_err(|_| VkeyError::NotAPublicKey)?;
        return ed25519_from_slice(&raw);
    }
    if s.contains('+') {
        return Vkey::parse(s)?.ed25519_key();
    }
    Err(VkeyError::NotAPublicKey)
}

/// A signer key in the Go `note` format:
/// `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(type ‖ 32-byte Ed25519 seed)>`.
///
/// Only Ed25519 types (0x01, 0x04) are supported. The key ID must be the one computed
/// from the name, the type and the derived public key.
pub struct PrivateKey {
    /// The key name.
    pub name: String,
    /// The key type byte found in the encoding.
    pub key_type: KeyType,
    /// The Ed25519 signing key derived from the seed.
    pub signing_key: SigningKey,
}

impl PrivateKey {
    /// Parses the Go `PRIVATE+KEY+…` encoding.
    pub fn parse(s: &str) -> Result<PrivateKey, VkeyError> {
        let mut parts = s.splitn(5, '+');
        let (Some("PRIVATE"), Some("KEY"), Some(name), Some(id_hex), Some(material)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(VkeyError::Malformed);
        };
        if !is_valid_key_name(name) {
            return Err(VkeyError::InvalidName(name.to_owned()));
        }
        let stated = parse_key_id_hex(id_hex)?;
        let material = b64::decode_canonical(material)?;
        let (&type_byte, seed) = material.split_first().ok_or(VkeyError::Empty)?;
        let key_type = KeyType::from_byte(type_byte).ok_or(VkeyError::UnknownType(type_byte))?;
        if key_type == KeyType::MlDsa44Cosignature {
            return Err(VkeyError::NotEd25519(key_type));
        }
        let seed: &[u8; 32] = seed.try_into().map_err(|_| VkeyError::KeyLength {
            key_type,
            expected: 32,
            got: seed.len(),
        })?;
        let signing_key = SigningKey::from_bytes(seed);
        let computed = key_id(name, key_type, signing_key.verifying_key().as_bytes());
        if computed != stated {
            return Err(VkeyError::KeyIdMismatch { stated, computed });
        }
        Ok(PrivateKey {
            name: name.to_owned(),
            key_type,
            signing_key,
        })
    }

    /// The vkey of the matching public key (same name and type).
    pub fn vkey(&self) -> Vkey {
        let pk = self.signing_key.verifying_key();
        Vkey {
            name: self.name.clone(),
            key_id: key_id(&self.name, self.key_type, pk.as_bytes()),
            key_type: self.key_type,
            public_key: pk.as_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("name", &self.name)
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

fn parse_key_id_hex(s: &str) -> Result<u32, VkeyError> {
    let ok = s.len() == 8 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !ok {
        return Err(VkeyError::BadKeyIdField(s.to_owned()));
    }
    u32::from_str_radix(s, 16).map_err(|_| VkeyError::BadKeyIdField(s.to_owned()))
}

fn ed25519_from_slice(bytes: &[u8]) -> Result<VerifyingKey, VkeyError> {
    let arr: &[u8; 32] = bytes.try_into().map_err(|_| VkeyError::KeyLength {
        key_type: KeyType::Ed25519,
        expected: ED25519_PUBLIC_KEY_LEN,
        got: bytes.len(),
    })?;
    VerifyingKey::from_bytes(arr).map_err(|_| VkeyError::InvalidEd25519Key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> VerifyingKey {
        SigningKey::from_bytes(&[seed; 32]).verifying_key()
    }

    #[test]
    fn display_parse_round_trip() {
        for t in [KeyType::Ed25519, KeyType::Cosignature] {
            let v = Vkey::new("example.com/log", t, key(1).as_bytes()).unwrap();
            let s = v.to_string();
            assert_eq!(Vkey::parse(&s).unwrap(), v);
            assert_eq!(v.key_id, key_id("example.com/log", t, key(1).as_bytes()));
        }
    }

    #[test]
    fn key_id_depends_on_name_and_type() {
        let pk = key(2);
        let a = key_id("a", KeyType::Ed25519, pk.as_bytes());
        assert_ne!(a, key_id("b", KeyType::Ed25519, pk.as_bytes()));
        assert_ne!(a, key_id("a", KeyType::Cosignature, pk.as_bytes()));
    }

    #[test]
    fn conversion_to_cosignature_recomputes_key_id() {
        let v = Vkey::ed25519("w", &key(3)).unwrap();
        let c = v.to_cosignature();
        assert_eq!(c, Vkey::cosignature("w", &key(3)).unwrap());
        assert_ne!(c.key_id, v.key_id);
        assert_eq!(c.to_cosignature(), c);
    }

    #[test]
    fn rejects_bad_names() {
        for name in ["", "a+b", "a b", "a\tb", "a\u{85}b", "a\u{a0}b", "a\u{1}b"] {
            assert!(!is_valid_key_name(name), "{name:?}");
            assert!(matches!(
                Vkey::ed25519(name, &key(1)),
                Err(VkeyError::InvalidName(_))
            ));
        }
        assert!(is_valid_key_name("go.sum/database—tree"));
    }

    #[test]
    fn rejects_uppercase_or_short_key_id_and_mismatch() {
        let v = Vkey::ed25519("n", &key(4)).unwrap().to_string();
        let (name, rest) = v.split_once('+').unwrap();
        let (id, material) = rest.split_once('+').unwrap();
        let upper = format!("{name}+{}+{material}", id.to_uppercase());
        if upper != v {
            assert!(matches!(
                Vkey::parse(&upper),
                Err(VkeyError::BadKeyIdField(_))
            ));
        }
        assert!(matches!(
            Vkey::parse(&format!("{name}+{}+{material}", &id[..7])),
            Err(VkeyError::BadKeyIdField(_))
        ));
        let wrong = format!(
            "{name}+{:08x}+{material}",
            u32::from_str_radix(id, 16).unwrap() ^ 1
        );
        assert!(matches!(
            Vkey::parse(&wrong),
            Err(VkeyError::KeyIdMismatch { .. })
        ));
    }

    #[test]
    fn ed25519_public_key_from_hex_or_vkey() {
        let pk = key(5);
        assert_eq!(
            parse_ed25519_public_key(&hex::encode(pk.as_bytes())).unwrap(),
            pk
        );
        assert_eq!(
            parse_ed25519_public_key(&hex::encode_upper(pk.as_bytes())).unwrap(),
            pk
        );
        let v1 = Vkey::ed25519("w", &pk).unwrap().to_string();
        let v4 = Vkey::cosignature("w", &pk).unwrap().to_string();
        assert_eq!(parse_ed25519_public_key(&v1).unwrap(), pk);
        assert_eq!(parse_ed25519_public_key(&v4).unwrap(), pk);
        assert!(parse_ed25519_public_key(&hex::encode(&pk.as_bytes()[..31])).is_err());
        assert!(parse_ed25519_public_key("zz").is_err());
    }
}
