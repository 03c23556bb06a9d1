//! JWT-SVID time checks and audience configuration, with tokens minted from the test keys.

mod common;

use common::{bundle, ci, mint_es256};
use nucleus_federation::jwt_svid::{JwtSvidError, ValidatorConfigError};
use nucleus_federation::{FederationStore, JwtSvidValidator, RollbackPolicy};
use serde_json::json;

const NOW: u64 = 1_795_910_400;

fn store() -> FederationStore {
    let mut s = FederationStore::new();
    s.federate(ci(), RollbackPolicy::default());
    s.ingest(&ci(), bundle("bundle_seq2_rotated.json")).unwrap();
    s
}

fn claims(extra: serde_json::Value) -> serde_json::Value {
    let mut c = json!({"sub": "spiffe://ci.example.org/w", "aud": "prod-api", "exp": NOW + 300});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

#[test]
fn exp_nbf_iat_honour_a_bounded_leeway() {
    let v = JwtSvidValidator::with_leeway("prod-api", 30).unwrap();
    let s = store();
    let ok = |c| v.validate_at(&mint_es256("k-es256", &c), &s, NOW);
    assert!(ok(claims(json!({}))).is_ok());
    assert!(
        ok(claims(json!({"exp": NOW - 30}))).is_ok(),
        "inside leeway"
    );
    assert!(matches!(
        ok(claims(json!({"exp": NOW - 31}))),
        Err(JwtSvidError::Expired { .. })
    ));
    assert!(ok(claims(json!({"nbf": NOW + 30}))).is_ok());
    assert!(matches!(
        ok(claims(json!({"nbf": NOW + 31}))),
        Err(JwtSvidError::NotYetValid { .. })
    ));
    assert!(ok(claims(json!({"iat": NOW + 30}))).is_ok());
    assert!(matches!(
        ok(claims(json!({"iat": NOW + 31}))),
        Err(JwtSvidError::IssuedInFuture { .. })
    ));
    assert!(matches!(
        ok(claims(json!({"nbf": "soon"}))),
        Err(JwtSvidError::BadNumericDate { claim: "nbf", .. })
    ));
    assert!(matches!(
        ok(claims(json!({"aud": ["prod-api", 7]}))),
        Err(JwtSvidError::BadAud)
    ));
    assert!(
        ok(claims(json!({"exp": (NOW + 10) as f64 + 0.5}))).is_ok(),
        "NumericDate may be fractional"
    );
}

#[test]
fn verified_sub_is_returned_and_paths_are_checked() {
    let v = JwtSvidValidator::new("prod-api").unwrap();
    let s = store();
    let got = v
        .validate_at(&mint_es256("k-es256-2", &claims(json!({}))), &s, NOW)
        .unwrap();
    assert_eq!(got.spiffe_id.to_string(), "spiffe://ci.example.org/w");
    assert_eq!(got.kid, "k-es256-2");
    let bad = claims(json!({"sub": "spiffe://ci.example.org/../admin"}));
    assert!(matches!(
        v.validate_at(&mint_es256("k-es256", &bad), &s, NOW),
        Err(JwtSvidError::BadSub(_))
    ));
}

#[test]
fn a_federated_domain_without_a_bundle_yet_refuses_tokens() {
    let v = JwtSvidValidator::new("prod-api").unwrap();
    let mut s = FederationStore::new();
    s.federate(ci(), RollbackPolicy::default());
    assert_eq!(
        v.validate_at(&mint_es256("k-es256", &claims(json!({}))), &s, NOW),
        Err(JwtSvidError::NoBundleYet(ci()))
    );
    // And once the relationship is removed, tokens of the domain are not federated.
    s.remove(&ci());
    assert_eq!(
        v.validate_at(&mint_es256("k-es256", &claims(json!({}))), &s, NOW),
        Err(JwtSvidError::NotFederated(ci()))
    );
}

#[test]
fn validator_configuration_is_bounded() {
    assert_eq!(
        JwtSvidValidator::new("").unwrap_err(),
        ValidatorConfigError::EmptyAudience
    );
    assert_eq!(
        JwtSvidValidator::with_leeway("a", 301).unwrap_err(),
        ValidatorConfigError::LeewayTooLarge(301)
    );
}

#[test]
fn duplicate_members_in_header_or_claims_are_refused() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let v = JwtSvidValidator::new("prod-api").unwrap();
    let s = store();
    let header = b64(r#"{"alg":"ES256","kid":"k-es256","alg":"ES256"}"#);
    let body = b64(r#"{"sub":"spiffe://ci.example.org/w","aud":"prod-api","exp":4102444800}"#);
    assert!(matches!(
        v.validate_at(&format!("{header}.{body}.AAAA"), &s, NOW),
        Err(JwtSvidError::Json { part: "header", .. })
    ));
    let header = b64(r#"{"alg":"ES256","kid":"k-es256"}"#);
    let body = b64(
        r#"{"sub":"spiffe://ci.example.org/w","sub":"spiffe://prod.example.org/x","aud":"prod-api","exp":4102444800}"#,
    );
    assert!(matches!(
        v.validate_at(&format!("{header}.{body}.AAAA"), &s, NOW),
        Err(JwtSvidError::Json { part: "claims", .. })
    ));
}
