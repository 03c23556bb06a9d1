//! Helpers shared by the integration tests: test-data access and token minting.

#![allow(dead_code)]

pub mod https;

use std::path::PathBuf;

use nucleus_federation::{SpiffeBundle, TrustDomain};

/// Path of a file under `testdata/`.
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Bytes of a file under `testdata/`.
pub fn bytes(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// A generated bundle, parsed.
pub fn bundle(name: &str) -> SpiffeBundle {
    SpiffeBundle::parse(&bytes(&format!("generated/{name}")))
        .unwrap_or_else(|e| panic!("{name} should parse: {e}"))
}

/// A generated token's text.
pub fn token(name: &str) -> String {
    String::from_utf8(bytes(&format!("generated/{name}")))
        .unwrap()
        .trim()
        .to_owned()
}

/// The generated vectors' trust domain.
pub fn ci() -> TrustDomain {
    TrustDomain::new("ci.example.org").unwrap()
}

/// The PEM private key with this kid from `TEST_ONLY_private_keys.pem`.
pub fn private_key_pem(kid: &str) -> String {
    let text = String::from_utf8(bytes("generated/TEST_ONLY_private_keys.pem")).unwrap();
    let marker = format!("# kid={kid}\n");
    let start = text.find(&marker).unwrap_or_else(|| panic!("no key {kid}")) + marker.len();
    let rest = &text[start..];
    let end = rest.find("-----END PRIVATE KEY-----").unwrap() + "-----END PRIVATE KEY-----".len();
    rest[..end].to_owned()
}

/// Signs `claims` with test key `kid` (ES256 over P-256 keys) and the given header extras.
pub fn mint_es256(kid: &str, claims: &serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_pem(private_key_pem(kid).as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}
