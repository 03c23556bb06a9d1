//! Issuer keys as JWKs (OKP / Ed25519), the kid derivation, and key lookup for edge checks.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;
use nucleus_json::{DecodeError, json_object};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::EdgeFault;
use crate::rfc3339::Instant;

/// One JSON Web Key. Only OKP/Ed25519 keys can verify; unknown members are ignored, as JWK
/// sets routinely carry extra members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    /// Key type; must be `OKP` to be usable.
    pub kty: String,
    /// Curve; must be `Ed25519` to be usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Key id that edge proofs name.
    pub kid: String,
    /// base64url (no padding) of the 32-byte public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Algorithm; when present must be `EdDSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use (informational).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Start of the validity window (RFC 3339, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// End of the validity window (RFC 3339, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
}

/// A JWK set: `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

json_object!(
    Jwk {
        kty: required,
        crv: optional,
        kid: required,
        x: optional,
        alg: optional,
        use_ as "use": optional,
        not_before: optional,
        not_after: optional,
    } ignore_rest
);

// Members other than `keys` are ignored, as JWK sets routinely carry extra members.
json_object!(Jwks { keys: required } ignore_rest);

/// The issuer kid of a public key: base64url(SHA-256(key)[0..12]), 16 characters.
pub fn kid_for(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

impl Jwk {
    /// The JWK of an Ed25519 public key, with the derived kid, `alg: EdDSA` and `use: sig`.
    pub fn from_ed25519(key: &VerifyingKey) -> Self {
        Jwk {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            kid: kid_for(key),
            x: Some(URL_SAFE_NO_PAD.encode(key.as_bytes())),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
            not_before: None,
            not_after: None,
        }
    }

    /// Checks the validity window against `at` (bounds inclusive).
    pub fn check_window(&self, at: &Instant) -> Result<(), EdgeFault> {
        if let Some(nb) = &self.not_before {
            let nb = Instant::parse(nb).map_err(|_| EdgeFault::MalformedKey(self.kid.clone()))?;
            if *at < nb {
                return Err(EdgeFault::KeyNotYetValid(self.kid.clone()));
            }
        }
        if let Some(na) = &self.not_after {
            let na = Instant::parse(na).map_err(|_| EdgeFault::MalformedKey(self.kid.clone()))?;
            if *at > na {
                return Err(EdgeFault::KeyExpired(self.kid.clone()));
            }
        }
        Ok(())
    }

    /// The Ed25519 verifying key, after the type, curve and algorithm checks.
    pub fn verifying_key(&self) -> Result<VerifyingKey, EdgeFault> {
        if self.kty != "OKP" || self.crv.as_deref() != Some("Ed25519") {
            return Err(EdgeFault::UnsupportedKey(self.kid.clone()));
        }
        if let Some(alg) = &self.alg {
            if alg != "EdDSA" {
                return Err(EdgeFault::UnsupportedAlg(alg.clone()));
            }
        }
        let malformed = || EdgeFault::MalformedKey(self.kid.clone());
        let x = self.x.as_deref().ok_or_else(malformed)?;
        let bytes = URL_SAFE_NO_PAD.decode(x).map_err(|_| malformed())?;
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| malformed())?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| malformed())?;
        if key.is_weak() {
            return Err(malformed());
        }
        Ok(key)
    }
}

impl Jwks {
    /// Parses a JWK set (`{"keys": [...]}`) from JSON text.
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        nucleus_json::from_slice(text.as_bytes())
    }

    /// The key named `kid`.
    pub fn find(&self, kid: &str) -> Result<&Jwk, EdgeFault> {
        self.keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| EdgeFault::UnknownKid(kid.to_owned()))
    }

    /// Finds the key named `kid`, checks its validity window at `at` (when given) and returns
    /// its verifying key.
    pub fn resolve(&self, kid: &str, at: Option<&Instant>) -> Result<VerifyingKey, EdgeFault> {
        let jwk = self.find(kid)?;
        if let Some(at) = at {
            jwk.check_window(at)?;
        }
        jwk.verifying_key()
    }

    /// Finds the key named `kid` for a use that has no signed time: a key with a validity
    /// window is refused, as there is nothing to check the window against.
    pub fn resolve_untimed(&self, kid: &str) -> Result<VerifyingKey, EdgeFault> {
        let jwk = self.find(kid)?;
        if jwk.not_before.is_some() || jwk.not_after.is_some() {
            return Err(EdgeFault::UntimedKeyWindow(kid.to_owned()));
        }
        jwk.verifying_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn kid_matches_the_upstream_derivation() {
        let key = SigningKey::from_bytes(&[0x2a; 32]).verifying_key();
        assert_eq!(kid_for(&key), "tgAwbPp2cj_ew5Xl");
        let jwk = Jwk::from_ed25519(&key);
        assert_eq!(
            Jwks { keys: vec![jwk] }.resolve("tgAwbPp2cj_ew5Xl", None),
            Ok(key)
        );
    }

    #[test]
    fn validity_window_and_key_type_are_enforced() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let mut jwk = Jwk::from_ed25519(&key);
        jwk.not_before = Some("2026-01-01T00:00:00Z".into());
        jwk.not_after = Some("2026-12-31T23:59:59Z".into());
        let set = Jwks {
            keys: vec![jwk.clone()],
        };
        let kid = jwk.kid.clone();
        let early = Instant::parse("2025-12-31T23:59:59Z").unwrap();
        let late = Instant::parse("2027-01-01T00:00:00Z").unwrap();
        let inside = Instant::parse("2026-12-31T23:59:59Z").unwrap();
        assert_eq!(
            set.resolve(&kid, Some(&early)),
            Err(EdgeFault::KeyNotYetValid(kid.clone()))
        );
        assert_eq!(
            set.resolve(&kid, Some(&late)),
            Err(EdgeFault::KeyExpired(kid.clone()))
        );
        assert_eq!(set.resolve(&kid, Some(&inside)), Ok(key));
        let mut rsa = jwk;
        rsa.kty = "RSA".into();
        assert_eq!(
            Jwks { keys: vec![rsa] }.resolve(&kid, None),
            Err(EdgeFault::UnsupportedKey(kid.clone()))
        );
        assert_eq!(
            set.resolve("nope", None),
            Err(EdgeFault::UnknownKid("nope".into()))
        );
    }
}
