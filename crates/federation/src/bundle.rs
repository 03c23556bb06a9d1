//! SPIFFE bundle documents (Trust Domain and Bundle spec §4, JWT-SVID spec §6).
//!
//! A bundle is a JWK Set with optional `spiffe_sequence` and `spiffe_refresh_hint`. The
//! parser refuses a document that is not one (bad JSON, duplicate member names, no `keys`,
//! a sequence or hint that is not a non-negative 64-bit integer, two different keys with
//! the same `kid`) and *ignores*, with a recorded reason, single entries the spec says to
//! skip (no or unknown `use`, unknown `kty`) or that this JWT-SVID-only consumer cannot use
//! (P-521, Ed25519, short RSA keys, a jwt-svid entry without `kid`).
//!
//! Policy choices written down here:
//! * a `jwt-svid` entry without `kid` is ignored (go-spiffe fails the whole bundle);
//! * an `x509-svid` entry keeps its first `x5c` certificate; one without `x5c` is ignored;
//! * RSA keys below 2048 bits are ignored;
//! * an identical key repeated under the same `kid` is kept once; different keys under one
//!   `kid` fail the whole bundle.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
use sha2::{Digest, Sha256};

use crate::json::{self, Json, JsonError};

/// Smallest RSA modulus accepted for JWT-SVID keys, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a bundle document is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not JSON (an HTML error page, truncated body, not UTF-8).
    #[error("bundle is not valid JSON: {0}")]
    NotJson(String),
    /// A JSON object repeats a member name.
    #[error(
        "bundle repeats the JSON member {0:?}; refused because the meaning would depend on which one wins"
    )]
    DuplicateMember(String),
    /// The top level is not a JSON object.
    #[error("bundle must be a JSON object (a JWK Set), found {0}")]
    NotAnObject(&'static str),
    /// No `keys` member.
    #[error("bundle has no \"keys\" member; a SPIFFE bundle MUST carry one (it may be empty)")]
    MissingKeys,
    /// `keys` is not an array.
    #[error("bundle \"keys\" must be an array, found {0}")]
    KeysNotArray(&'static str),
    /// An entry of `keys` is not an object.
    #[error("bundle \"keys\"[{index}] must be a JSON object, found {found}")]
    KeyNotObject {
        /// Position in `keys`.
        index: usize,
        /// What was found instead.
        found: &'static str,
    },
    /// `spiffe_sequence` is not a non-negative integer within 64 bits.
    #[error("\"spiffe_sequence\" must be a non-negative integer that fits in 64 bits, found {0}")]
    BadSequence(&'static str),
    /// `spiffe_refresh_hint` is not a non-negative integer number of seconds.
    #[error("\"spiffe_refresh_hint\" must be a non-negative integer number of seconds, found {0}")]
    BadRefreshHint(&'static str),
    /// Two different keys share one `kid`.
    #[error(
        "two different jwt-svid keys share kid {0:?}; refused because a token naming it would be ambiguous"
    )]
    DuplicateKid(String),
}

impl From<JsonError> for BundleError {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::Syntax(s) => BundleError::NotJson(s),
            JsonError::DuplicateMember(m) => BundleError::DuplicateMember(m),
        }
    }
}

/// Why a single `keys` entry was skipped (the rest of the bundle still counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoredReason {
    /// The entry has no `use` (the spec says to ignore it).
    NoUse,
    /// The `use` is not `x509-svid` or `jwt-svid` (e.g. `wit-svid`).
    UnknownUse(String),
    /// The entry has no string `kty`.
    NoKty,
    /// The `kty` is not one this consumer knows.
    UnknownKty(String),
    /// A `jwt-svid` entry without `kid` (publishers MUST set it).
    JwtKeyWithoutKid,
    /// A key type or curve that cannot verify an allowed JWT-SVID algorithm
    /// (Ed25519/OKP, P-521: ES512 is not supported by the verification backend).
    UnsupportedForJwtSvid(String),
    /// The key material does not decode to a usable public key.
    InvalidKey(String),
    /// An `x509-svid` entry without a usable `x5c` certificate.
    X509WithoutCertificate(String),
}

impl fmt::Display for IgnoredReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoredReason::NoUse => f.write_str("no \"use\" member"),
            IgnoredReason::UnknownUse(u) => write!(f, "unknown use {u:?}"),
            IgnoredReason::NoKty => f.write_str("no string \"kty\" member"),
            IgnoredReason::UnknownKty(k) => write!(f, "unknown kty {k:?}"),
            IgnoredReason::JwtKeyWithoutKid => f.write_str("jwt-svid key without \"kid\""),
            IgnoredReason::UnsupportedForJwtSvid(why) => write!(f, "unusable for JWT-SVID: {why}"),
            IgnoredReason::InvalidKey(why) => write!(f, "invalid key material: {why}"),
            IgnoredReason::X509WithoutCertificate(why) => {
                write!(f, "x509-svid entry without a usable certificate: {why}")
            }
        }
    }
}

/// An entry of `keys` that was skipped, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredEntry {
    /// Position in `keys`.
    pub index: usize,
    /// The entry's `kid`, if it had a string one.
    pub kid: Option<String>,
    /// Why it was skipped.
    pub reason: IgnoredReason,
}

/// Elliptic curves usable for JWT-SVID here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EcCurve {
    /// NIST P-256, for ES256.
    P256,
    /// NIST P-384, for ES384.
    P384,
}

impl EcCurve {
    fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
        }
    }

    fn coordinate_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
        }
    }

    fn algorithm(self) -> Algorithm {
        match self {
            EcCurve::P256 => Algorithm::ES256,
            EcCurve::P384 => Algorithm::ES384,
        }
    }
}

/// Public key material in a normalised form, compared when deciding whether two bundles
/// carry the same keys (so member order and encoding details do not matter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyMaterial {
    /// An EC public key.
    Ec {
        /// The curve.
        curve: EcCurve,
        /// The x coordinate, fixed length.
        x: Vec<u8>,
        /// The y coordinate, fixed length.
        y: Vec<u8>,
    },
    /// An RSA public key, big-endian without leading zero bytes.
    Rsa {
        /// The modulus.
        n: Vec<u8>,
        /// The public exponent.
        e: Vec<u8>,
    },
}

impl KeyMaterial {
    /// A short description: `EC P-256` or `RSA 2048`.
    pub fn describe(&self) -> String {
        match self {
            KeyMaterial::Ec { curve, .. } => format!("EC {}", curve.name()),
            KeyMaterial::Rsa { n, .. } => format!("RSA {}", bit_len(n)),
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url).
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            KeyMaterial::Ec { curve, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve.name(),
                URL_SAFE_NO_PAD.encode(x),
                URL_SAFE_NO_PAD.encode(y)
            ),
            KeyMaterial::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                URL_SAFE_NO_PAD.encode(e),
                URL_SAFE_NO_PAD.encode(n)
            ),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// A usable JWT-SVID verification key.
#[derive(Clone)]
pub struct JwtKey {
    kid: String,
    material: KeyMaterial,
    decoding: DecodingKey,
    jwk: Json,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("material", &self.material.describe())
            .field("thumbprint", &self.material.thumbprint())
            .finish()
    }
}

impl JwtKey {
    /// The key ID.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The normalised public key.
    pub fn material(&self) -> &KeyMaterial {
        &self.material
    }

    /// The key ready for signature verification.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Whether `alg` may be used with this key: RS*/PS* need RSA, ES256 needs P-256,
    /// ES384 needs P-384.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        match (&self.material, alg) {
            (
                KeyMaterial::Rsa { .. },
                Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512,
            ) => true,
            (KeyMaterial::Ec { curve, .. }, alg) => curve.algorithm() == alg,
            _ => false,
        }
    }
}

/// The usable JWT-SVID keys of one trust domain, by `kid`. May be empty: the domain then
/// has revoked everything (or never published JWT keys) and every JWT-SVID is refused.
#[derive(Debug, Clone, Default)]
pub struct JwtKeySet {
    keys: BTreeMap<String, JwtKey>,
}

impl JwtKeySet {
    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&JwtKey> {
        self.keys.get(kid)
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys in `kid` order.
    pub fn iter(&self) -> impl Iterator<Item = &JwtKey> {
        self.keys.values()
    }

    /// The `kid`s in order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

/// What identifies a bundle's key content: the JWT keys by `kid` and the X.509 authority
/// certificates. Two bundles with equal fingerprints carry the same keys, whatever their
/// member order or formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetFingerprint {
    jwt: BTreeMap<String, KeyMaterial>,
    x509: BTreeSet<Vec<u8>>,
}

/// A parsed, validated SPIFFE bundle. It does not name its trust domain: the caller keeps
/// the `(trust domain, bundle)` pair.
#[derive(Debug, Clone)]
pub struct SpiffeBundle {
    sequence: Option<u64>,
    refresh_hint_secs: Option<u64>,
    jwt_keys: JwtKeySet,
    x509_authorities: Vec<(Vec<u8>, Json)>,
    ignored: Vec<IgnoredEntry>,
}

impl SpiffeBundle {
    /// Parses and validates a bundle document.
    pub fn parse(bytes: &[u8]) -> Result<Self, BundleError> {
        let doc = json::parse(bytes)?;
        let Json::Object(_) = &doc else {
            return Err(BundleError::NotAnObject(doc.kind()));
        };
        let sequence = match doc.get("spiffe_sequence") {
            None => None,
            Some(Json::Unsigned(n)) => Some(*n),
            Some(other) => return Err(BundleError::BadSequence(other.kind())),
        };
        let refresh_hint_secs = match doc.get("spiffe_refresh_hint") {
            None => None,
            Some(Json::Unsigned(n)) => Some(*n),
            Some(other) => return Err(BundleError::BadRefreshHint(other.kind())),
        };
        let entries = match doc.get("keys") {
            None => return Err(BundleError::MissingKeys),
            Some(Json::Array(entries)) => entries,
            Some(other) => return Err(BundleError::KeysNotArray(other.kind())),
        };

        let mut keys: BTreeMap<String, JwtKey> = BTreeMap::new();
        let mut x509_authorities = Vec::new();
        let mut ignored = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let Json::Object(_) = entry else {
                return Err(BundleError::KeyNotObject {
                    index,
                    found: entry.kind(),
                });
            };
            let kid = entry.get("kid").and_then(Json::as_str).map(str::to_owned);
            let skip = |reason| IgnoredEntry {
                index,
                kid: kid.clone(),
                reason,
            };
            match entry.get("use").map(|u| u.as_str()) {
                None => ignored.push(skip(IgnoredReason::NoUse)),
                Some(Some("jwt-svid")) => match parse_jwt_key(entry) {
                    Ok(key) => match keys.get(&key.kid) {
                        Some(existing) if existing.material != key.material => {
                            return Err(BundleError::DuplicateKid(key.kid));
                        }
                        Some(_) => {}
                        None => {
                            keys.insert(key.kid.clone(), key);
                        }
                    },
                    Err(reason) => ignored.push(skip(reason)),
                },
                Some(Some("x509-svid")) => match parse_x509_entry(entry) {
                    Ok(der) => x509_authorities.push((der, entry.clone())),
                    Err(reason) => ignored.push(skip(reason)),
                },
                Some(Some(other)) => {
                    ignored.push(skip(IgnoredReason::UnknownUse(other.to_owned())))
                }
                Some(None) => ignored.push(skip(IgnoredReason::UnknownUse(
                    entry
                        .get("use")
                        .map(Json::kind)
                        .unwrap_or_default()
                        .to_owned(),
                ))),
            }
        }
        // Two different key entries under one kid are refused even if one of them is of a
        // kind we cannot use: a token naming that kid would be ambiguous to other parties.
        let mut seen_kid_entries: BTreeMap<&str, String> = BTreeMap::new();
        for entry in entries {
            if entry.get("use").and_then(Json::as_str) != Some("jwt-svid") {
                continue;
            }
            if let Some(kid) = entry.get("kid").and_then(Json::as_str) {
                let canonical = normalised_entry(entry);
                match seen_kid_entries.get(kid) {
                    Some(prev) if *prev != canonical => {
                        return Err(BundleError::DuplicateKid(kid.to_owned()));
                    }
                    _ => {
                        seen_kid_entries.insert(kid, canonical);
                    }
                }
            }
        }
        Ok(SpiffeBundle {
            sequence,
            refresh_hint_secs,
            jwt_keys: JwtKeySet { keys },
            x509_authorities,
            ignored,
        })
    }

    /// `spiffe_sequence`, if present.
    pub fn sequence(&self) -> Option<u64> {
        self.sequence
    }

    /// `spiffe_refresh_hint` in seconds, if present.
    pub fn refresh_hint_secs(&self) -> Option<u64> {
        self.refresh_hint_secs
    }

    /// The usable JWT-SVID keys.
    pub fn jwt_keys(&self) -> &JwtKeySet {
        &self.jwt_keys
    }

    /// The X.509 authorities (DER of each entry's first certificate).
    pub fn x509_authorities(&self) -> impl Iterator<Item = &[u8]> {
        self.x509_authorities.iter().map(|(der, _)| der.as_slice())
    }

    /// Entries that were skipped, with reasons.
    pub fn ignored(&self) -> &[IgnoredEntry] {
        &self.ignored
    }

    /// The normalised key content, for "same keys?" comparisons.
    pub fn fingerprint(&self) -> KeySetFingerprint {
        KeySetFingerprint {
            jwt: self
                .jwt_keys
                .keys
                .iter()
                .map(|(kid, k)| (kid.clone(), k.material.clone()))
                .collect(),
            x509: self
                .x509_authorities
                .iter()
                .map(|(der, _)| der.clone())
                .collect(),
        }
    }

    /// Whether this bundle carries the same keys as `other`.
    pub fn same_keys_as(&self, other: &SpiffeBundle) -> bool {
        self.fingerprint() == other.fingerprint()
    }

    /// Serialises the accepted content: the sequence, the hint, the x509-svid entries and the
    /// usable jwt-svid keys (ignored entries are dropped). The output parses back to a bundle
    /// with the same fingerprint, sequence and hint.
    pub fn to_json(&self) -> String {
        let mut doc = serde_json::Map::new();
        if let Some(seq) = self.sequence {
            doc.insert("spiffe_sequence".into(), seq.into());
        }
        if let Some(hint) = self.refresh_hint_secs {
            doc.insert("spiffe_refresh_hint".into(), hint.into());
        }
        let keys: Vec<serde_json::Value> = self
            .x509_authorities
            .iter()
            .map(|(_, jwk)| json::to_value(jwk))
            .chain(self.jwt_keys.keys.values().map(|k| json::to_value(&k.jwk)))
            .collect();
        doc.insert("keys".into(), keys.into());
        serde_json::to_string_pretty(&serde_json::Value::Object(doc))
            .expect("a JSON value always serialises")
    }
}

fn normalised_entry(entry: &Json) -> String {
    entry.to_sorted_string()
}

fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(b) => n.len() * 8 - b.leading_zeros() as usize,
    }
}

fn b64url_member(entry: &Json, name: &str) -> Result<Vec<u8>, IgnoredReason> {
    let text = entry
        .get(name)
        .and_then(Json::as_str)
        .ok_or_else(|| IgnoredReason::InvalidKey(format!("missing string member {name:?}")))?;
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| IgnoredReason::InvalidKey(format!("{name:?} is not unpadded base64url: {e}")))
}

fn parse_jwt_key(entry: &Json) -> Result<JwtKey, IgnoredReason> {
    let kty = match entry.get("kty") {
        Some(Json::String(k)) => k.as_ref(),
        _ => return Err(IgnoredReason::NoKty),
    };
    // kty first: an unknown kty is ignored even without kid (spec: ignore that entry).
    if !matches!(kty, "EC" | "RSA" | "OKP" | "oct") {
        return Err(IgnoredReason::UnknownKty(kty.to_owned()));
    }
    let kid = match entry.get("kid") {
        Some(Json::String(k)) if !k.is_empty() => k.to_string(),
        _ => return Err(IgnoredReason::JwtKeyWithoutKid),
    };
    let (material, decoding) = match kty {
        "EC" => {
            let curve = match entry.get("crv").and_then(Json::as_str) {
                Some("P-256") => EcCurve::P256,
                Some("P-384") => EcCurve::P384,
                Some("P-521") => {
                    return Err(IgnoredReason::UnsupportedForJwtSvid(
                        "curve P-521 (ES512) is not supported by the verification backend".into(),
                    ));
                }
                Some(other) => {
                    return Err(IgnoredReason::UnsupportedForJwtSvid(format!(
                        "curve {other:?}"
                    )));
                }
                None => return Err(IgnoredReason::InvalidKey("EC key without \"crv\"".into())),
            };
            let x = b64url_member(entry, "x")?;
            let y = b64url_member(entry, "y")?;
            let want = curve.coordinate_len();
            if x.len() != want || y.len() != want {
                return Err(IgnoredReason::InvalidKey(format!(
                    "{} coordinates must be {want} bytes each, found {} and {}",
                    curve.name(),
                    x.len(),
                    y.len()
                )));
            }
            let mut sec1 = Vec::with_capacity(1 + 2 * want);
            sec1.push(0x04);
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            let decoding = DecodingKey::from_ec_der(&sec1);
            // Building a verifier parses the point; an off-curve point fails here rather than
            // at the first token.
            if jsonwebtoken::crypto::verify("AA", b"probe", &decoding, curve.algorithm()).is_err() {
                return Err(IgnoredReason::InvalidKey(format!(
                    "not a valid {} public point",
                    curve.name()
                )));
            }
            (KeyMaterial::Ec { curve, x, y }, decoding)
        }
        "RSA" => {
            let n = strip_leading_zeros(b64url_member(entry, "n")?);
            let e = strip_leading_zeros(b64url_member(entry, "e")?);
            let bits = bit_len(&n);
            if bits < MIN_RSA_BITS {
                return Err(IgnoredReason::UnsupportedForJwtSvid(format!(
                    "RSA modulus of {bits} bits; at least {MIN_RSA_BITS} required"
                )));
            }
            if e.is_empty() || e.len() > 8 || e.last().is_some_and(|b| b & 1 == 0) || e == [1] {
                return Err(IgnoredReason::InvalidKey(
                    "RSA exponent must be odd, > 1 and at most 64 bits".into(),
                ));
            }
            let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
            (KeyMaterial::Rsa { n, e }, decoding)
        }
        "OKP" => {
            return Err(IgnoredReason::UnsupportedForJwtSvid(
                "OKP (EdDSA) keys are outside the JWT-SVID algorithm set".into(),
            ));
        }
        _ => {
            return Err(IgnoredReason::UnsupportedForJwtSvid(
                "symmetric (oct) keys are outside the JWT-SVID algorithm set".into(),
            ));
        }
    };
    Ok(JwtKey {
        kid,
        material,
        decoding,
        jwk: entry.clone(),
    })
}

fn strip_leading_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros);
    v
}

fn parse_x509_entry(entry: &Json) -> Result<Vec<u8>, IgnoredReason> {
    let certs = match entry.get("x5c") {
        Some(Json::Array(certs)) if !certs.is_empty() => certs,
        Some(Json::Array(_)) => {
            return Err(IgnoredReason::X509WithoutCertificate("empty x5c".into()));
        }
        Some(other) => {
            return Err(IgnoredReason::X509WithoutCertificate(format!(
                "x5c is {}, not an array",
                other.kind()
            )));
        }
        None => return Err(IgnoredReason::X509WithoutCertificate("no x5c".into())),
    };
    // The spec: use the first certificate, ignore the rest.
    let first = certs[0]
        .as_str()
        .ok_or_else(|| IgnoredReason::X509WithoutCertificate("x5c[0] is not a string".into()))?;
    let der = STANDARD
        .decode(first)
        .map_err(|e| IgnoredReason::X509WithoutCertificate(format!("x5c[0] is not base64: {e}")))?;
    if der.first() != Some(&0x30) {
        return Err(IgnoredReason::X509WithoutCertificate(
            "x5c[0] is not a DER certificate".into(),
        ));
    }
    Ok(der)
}
