//! Every file of the shared SPIFFE test data, with the verdict its README gives.

mod common;

use common::{bundle, bytes, ci, token};
use nucleus_federation::bundle::{BundleError, IgnoredReason};
use nucleus_federation::jwt_svid::{JwtSvidError, UnverifiedJwtSvid};
use nucleus_federation::refresh::RefreshBounds;
use nucleus_federation::{
    FederationStore, Ingested, JwtSvidValidator, Refusal, RollbackPolicy, SpiffeBundle, TrustDomain,
};

type BundleCheck = fn(&BundleError) -> bool;
type TokenCheck = Box<dyn Fn(&JwtSvidError) -> bool>;

/// 2026-11-29, well inside the generated tokens' validity (iat 2026-01-01, exp 2100).
const NOW: u64 = 1_795_910_400;

fn kids(b: &SpiffeBundle) -> Vec<&str> {
    b.jwt_keys().kids().collect()
}

fn parse_err(rel: &str) -> BundleError {
    SpiffeBundle::parse(&bytes(rel)).expect_err(rel)
}

// ---------- upstream/go-spiffe ----------

#[test]
fn go_spiffe_valid_1_has_one_jwt_key_and_no_sequence() {
    let b = SpiffeBundle::parse(&bytes("upstream/go-spiffe/spiffebundle_valid_1.json")).unwrap();
    assert_eq!(kids(&b), ["C6vs25welZOx6WksNYfbMfiw9l96pMnD"]);
    assert_eq!(b.x509_authorities().count(), 1);
    assert_eq!(b.sequence(), None);
    assert_eq!(b.refresh_hint_secs(), None);
    // The no-sequence rule: refused by the strict policy, accepted when allowed.
    let mut strict = nucleus_federation::RollbackGuard::new(RollbackPolicy::default());
    assert_eq!(strict.ingest(b.clone()), Err(Refusal::MissingSequence));
    let mut lax = nucleus_federation::RollbackGuard::new(RollbackPolicy {
        accept_unsequenced: true,
    });
    assert!(matches!(
        lax.ingest(b),
        Ok(Ingested::Accepted { sequence: None, .. })
    ));
}

#[test]
fn go_spiffe_valid_2_has_six_jwt_keys_seq_1_hint_60() {
    let b = SpiffeBundle::parse(&bytes("upstream/go-spiffe/spiffebundle_valid_2.json")).unwrap();
    assert_eq!(b.jwt_keys().len(), 6);
    assert_eq!(b.sequence(), Some(1));
    assert_eq!(b.refresh_hint_secs(), Some(60));
    assert_eq!(
        RefreshBounds::default()
            .interval(b.refresh_hint_secs(), None)
            .as_secs(),
        60
    );
}

#[test]
fn go_spiffe_with_wit_ignores_the_wit_svid_entries() {
    let b = SpiffeBundle::parse(&bytes(
        "upstream/go-spiffe/spiffebundle_valid_with_wit.json",
    ))
    .unwrap();
    assert_eq!(b.jwt_keys().len(), 2);
    let wit: Vec<_> = b
        .ignored()
        .iter()
        .filter(|i| i.reason == IgnoredReason::UnknownUse("wit-svid".into()))
        .collect();
    assert_eq!(wit.len(), 2);
}

#[test]
fn go_spiffe_missing_kid_ignores_that_entry() {
    // Project choice (README lets us pick): ignore the jwt-svid entry without kid.
    let b =
        SpiffeBundle::parse(&bytes("upstream/go-spiffe/spiffebundle_missing_kid.json")).unwrap();
    assert!(b.jwt_keys().is_empty());
    assert_eq!(b.x509_authorities().count(), 1);
    assert!(
        b.ignored()
            .iter()
            .any(|i| i.reason == IgnoredReason::JwtKeyWithoutKid)
    );
}

#[test]
fn go_spiffe_no_keys_is_rejected() {
    assert_eq!(
        parse_err("upstream/go-spiffe/spiffebundle_no_keys.json"),
        BundleError::MissingKeys
    );
}

#[test]
fn go_spiffe_multiple_x509_uses_the_first_certificate() {
    // The shared README says this leaves no usable JWT keys, but the file does carry one
    // jwt-svid entry with a kid, which is usable; the x509 entry keeps its first x5c cert.
    let b =
        SpiffeBundle::parse(&bytes("upstream/go-spiffe/spiffebundle_multiple_x509.json")).unwrap();
    assert_eq!(b.x509_authorities().count(), 1);
    assert_eq!(kids(&b), ["C6vs25welZOx6WksNYfbMfiw9l96pMnD"]);
}

#[test]
fn plain_jwks_without_use_have_no_usable_keys() {
    for f in [
        "upstream/go-spiffe/jwks_valid_1.json",
        "upstream/go-spiffe/jwks_missing_kid.json",
    ] {
        let b = SpiffeBundle::parse(&bytes(f)).unwrap();
        assert!(b.jwt_keys().is_empty(), "{f}");
        assert!(
            b.ignored().iter().all(|i| i.reason == IgnoredReason::NoUse),
            "{f}"
        );
    }
}

#[test]
fn hs256_jwt_io_token_is_refused_on_alg() {
    let t = String::from_utf8(bytes("upstream/go-spiffe/hs256_not_a_svid.jwt")).unwrap();
    let store = ci_store();
    let err = validator().validate_at(t.trim(), &store, NOW).unwrap_err();
    assert_eq!(err, JwtSvidError::AlgorithmNotAllowed("HS256".into()));
}

// ---------- upstream/spire ----------

#[test]
fn spire_minted_token_parses_but_is_refused() {
    let t = String::from_utf8(bytes("upstream/spire/jwt_svid_es256_expired_2024.jwt")).unwrap();
    let parsed = UnverifiedJwtSvid::parse(t.trim()).unwrap();
    assert_eq!(parsed.alg, jsonwebtoken::Algorithm::ES256);
    assert!(parsed.kid.starts_with("dZDf"));
    assert_eq!(parsed.typ.as_deref(), Some("JWT"));
    assert_eq!(
        parsed.subject.to_string(),
        "spiffe://example.org/agent/dbuser"
    );
    assert_eq!(parsed.audiences(), ["test-audience"]);
    assert_eq!(parsed.expires_at(), Some(1_724_365_731));
    // example.org federated with a bundle that does not hold its key: unknown kid.
    let example = TrustDomain::new("example.org").unwrap();
    let mut store = FederationStore::new();
    store.federate(example.clone(), RollbackPolicy::default());
    store
        .ingest(
            &example,
            SpiffeBundle::parse(&bytes("upstream/go-spiffe/spiffebundle_valid_2.json")).unwrap(),
        )
        .unwrap();
    let v = JwtSvidValidator::new("test-audience").unwrap();
    assert!(matches!(
        v.validate_at(t.trim(), &store, NOW),
        Err(JwtSvidError::UnknownKid { .. })
    ));
}

// ---------- upstream/spire-controller-manager ----------

#[test]
fn cftd_doc_example_bundle_has_one_jwt_key() {
    let b = SpiffeBundle::parse(&bytes(
        "upstream/spire-controller-manager/cftd_doc_example_bundle.json",
    ))
    .unwrap();
    assert_eq!(b.jwt_keys().len(), 1);
    assert!(kids(&b)[0].starts_with("BSZV4bb6"));
    assert_eq!(b.sequence(), None);
}

// ---------- generated bundles ----------

#[test]
fn seq1_keeps_three_keys_and_ignores_the_rest_with_reasons() {
    let b = bundle("bundle_seq1.json");
    assert_eq!(b.sequence(), Some(1));
    assert_eq!(b.refresh_hint_secs(), Some(300));
    assert_eq!(kids(&b), ["k-es256", "k-es384", "k-rsa"]);
    assert_eq!(b.x509_authorities().count(), 1);
    let reason = |kid: &str| {
        b.ignored()
            .iter()
            .find(|i| i.kid.as_deref() == Some(kid))
            .map(|i| i.reason.clone())
    };
    assert!(
        matches!(reason("k-es512"), Some(IgnoredReason::UnsupportedForJwtSvid(m)) if m.contains("P-521"))
    );
    assert!(
        matches!(reason("k-eddsa"), Some(IgnoredReason::UnsupportedForJwtSvid(m)) if m.contains("OKP"))
    );
    assert_eq!(reason("no-use"), Some(IgnoredReason::NoUse));
    assert_eq!(
        reason("wit-use"),
        Some(IgnoredReason::UnknownUse("wit-svid".into()))
    );
    assert_eq!(
        reason("unknown-kty"),
        Some(IgnoredReason::UnknownKty("FUTURE".into()))
    );
    assert_eq!(b.ignored().len(), 5);
}

#[test]
fn the_sequence_story_in_order() {
    let mut store = ci_store_empty();
    let td = ci();
    // seq1 accepted on first fetch.
    assert!(matches!(
        store.ingest(&td, bundle("bundle_seq1.json")),
        Ok(Ingested::Accepted {
            sequence: Some(1),
            previous_sequence: None,
            ..
        })
    ));
    // replay of seq1 while at seq1: same keys, no-op.
    assert_eq!(
        store.ingest(&td, bundle("bundle_seq1_replay_of_seq1.json")),
        Ok(Ingested::Unchanged { sequence: Some(1) })
    );
    // different content at seq1: refused, seq1 keys kept.
    assert_eq!(
        store.ingest(&td, bundle("bundle_seq1_different_content.json")),
        Err(Refusal::SameSequenceDifferentKeys { sequence: 1 }.into())
    );
    assert_eq!(
        kids(store.guard(&td).unwrap().current().unwrap()),
        ["k-es256", "k-es384", "k-rsa"]
    );
    // rotation token is not valid yet.
    assert!(matches!(
        validator().validate_at(&token("ok_after_rotation_es256_2.jwt"), &store, NOW),
        Err(JwtSvidError::UnknownKid { .. })
    ));
    // seq2 rotation accepted, k-es256-2 added.
    match store.ingest(&td, bundle("bundle_seq2_rotated.json")) {
        Ok(Ingested::Accepted {
            sequence: Some(2),
            previous_sequence: Some(1),
            added,
            removed,
            ..
        }) => {
            assert_eq!(added, ["k-es256-2"]);
            assert!(removed.is_empty());
        }
        other => panic!("seq2: {other:?}"),
    }
    let ok = validator()
        .validate_at(&token("ok_after_rotation_es256_2.jwt"), &store, NOW)
        .unwrap();
    assert_eq!(ok.kid, "k-es256-2");
    // replay of seq1 after seq2: rollback refused, seq2 keys kept.
    assert_eq!(
        store.ingest(&td, bundle("bundle_seq1_replay_of_seq1.json")),
        Err(Refusal::Rollback {
            fetched: 1,
            last: 2
        }
        .into())
    );
    // seq0: rollback refused.
    assert_eq!(
        store.ingest(&td, bundle("bundle_seq0_rollback.json")),
        Err(Refusal::Rollback {
            fetched: 0,
            last: 2
        }
        .into())
    );
    assert_eq!(store.guard(&td).unwrap().last_sequence(), Some(2));
    assert!(
        validator()
            .validate_at(&token("ok_after_rotation_es256_2.jwt"), &store, NOW)
            .is_ok()
    );
    // no sequence: refused under the strict policy.
    assert_eq!(
        store.ingest(&td, bundle("bundle_no_sequence.json")),
        Err(Refusal::MissingSequence.into())
    );
    // seq3 revocation: accepted, every token refused.
    match store.ingest(&td, bundle("bundle_seq3_empty_keys_revocation.json")) {
        Ok(Ingested::Accepted {
            sequence: Some(3),
            removed,
            ..
        }) => assert_eq!(removed.len(), 4),
        other => panic!("seq3: {other:?}"),
    }
    assert!(
        store
            .guard(&td)
            .unwrap()
            .current()
            .unwrap()
            .jwt_keys()
            .is_empty()
    );
    assert_eq!(
        validator().validate_at(&token("ok_es256.jwt"), &store, NOW),
        Err(JwtSvidError::NoJwtKeys(td.clone()))
    );
    // a replay of an older, key-bearing bundle cannot undo the revocation.
    assert_eq!(
        store.ingest(&td, bundle("bundle_seq2_rotated.json")),
        Err(Refusal::Rollback {
            fetched: 2,
            last: 3
        }
        .into())
    );
    assert!(
        validator()
            .validate_at(&token("ok_es256.jwt"), &store, NOW)
            .is_err()
    );
}

#[test]
fn malformed_bundles_are_rejected_and_keep_last_good() {
    let cases: &[(&str, BundleCheck)] = &[
        ("bundle_missing_keys_member.json", |e| {
            *e == BundleError::MissingKeys
        }),
        ("bundle_duplicate_kid.json", |e| {
            *e == BundleError::DuplicateKid("k-es256".into())
        }),
        ("bundle_duplicate_member_spiffe_sequence.json", |e| {
            *e == BundleError::DuplicateMember("spiffe_sequence".into())
        }),
        ("bundle_sequence_over_u64.json", |e| {
            matches!(e, BundleError::BadSequence(_))
        }),
        ("bundle_seq_is_string.json", |e| {
            *e == BundleError::BadSequence("a string")
        }),
        ("bundle_seq_negative.json", |e| {
            *e == BundleError::BadSequence("a negative integer")
        }),
        ("bundle_seq_float.json", |e| {
            matches!(e, BundleError::BadSequence(_))
        }),
        ("bundle_not_json.json", |e| {
            matches!(e, BundleError::NotJson(_))
        }),
    ];
    let mut store = ci_store_empty();
    store.ingest(&ci(), bundle("bundle_seq1.json")).unwrap();
    for (name, check) in cases {
        let err = parse_err(&format!("generated/{name}"));
        assert!(check(&err), "{name}: {err:?}");
        // Nothing reached the store: last good keys still validate.
        assert!(
            validator()
                .validate_at(&token("ok_es256.jwt"), &store, NOW)
                .is_ok(),
            "{name}"
        );
        assert_eq!(store.guard(&ci()).unwrap().last_sequence(), Some(1));
    }
}

#[test]
fn refresh_hints_absent_and_zero() {
    let no_hint = bundle("bundle_no_refresh_hint.json");
    assert_eq!(no_hint.sequence(), Some(3));
    assert_eq!(no_hint.refresh_hint_secs(), None);
    assert_eq!(
        RefreshBounds::default()
            .interval(no_hint.refresh_hint_secs(), None)
            .as_secs(),
        300
    );
    let zero = bundle("bundle_refresh_hint_zero.json");
    assert_eq!(zero.refresh_hint_secs(), Some(0));
    assert_eq!(
        RefreshBounds::default()
            .interval(zero.refresh_hint_secs(), None)
            .as_secs(),
        60
    );
    let mut store = ci_store_empty();
    store
        .ingest(&ci(), bundle("bundle_seq2_rotated.json"))
        .unwrap();
    assert!(store.ingest(&ci(), no_hint).is_ok());
    let mut store = ci_store_empty();
    assert!(store.ingest(&ci(), zero).is_ok());
}

#[test]
fn only_unusable_keys_means_every_token_is_refused() {
    let b = bundle("bundle_only_unusable_keys.json");
    assert!(b.jwt_keys().is_empty());
    assert_eq!(b.ignored().len(), 5);
    let mut store = ci_store_empty();
    store.ingest(&ci(), b).unwrap();
    assert_eq!(
        validator().validate_at(&token("ok_es256.jwt"), &store, NOW),
        Err(JwtSvidError::NoJwtKeys(ci()))
    );
}

#[test]
fn jwt_key_missing_kid_is_ignored_and_k_es256_kept() {
    let b = bundle("bundle_jwt_key_missing_kid.json");
    assert_eq!(kids(&b), ["k-es256"]);
    assert_eq!(b.ignored().len(), 1);
    assert_eq!(b.ignored()[0].reason, IgnoredReason::JwtKeyWithoutKid);
}

#[test]
fn u64_max_is_accepted_and_nothing_after_it() {
    let mut store = ci_store_empty();
    store
        .ingest(&ci(), bundle("bundle_sequence_u64_max.json"))
        .unwrap();
    assert_eq!(store.guard(&ci()).unwrap().last_sequence(), Some(u64::MAX));
    assert!(matches!(
        store.ingest(&ci(), bundle("bundle_seq2_rotated.json")),
        Err(nucleus_federation::store::IngestError::Refused(
            Refusal::Rollback { .. }
        ))
    ));
    // Only an explicit re-pin gets out.
    store.guard_mut(&ci()).unwrap().reset();
    assert!(matches!(
        store.ingest(&ci(), bundle("bundle_seq2_rotated.json")),
        Ok(Ingested::Accepted {
            sequence: Some(2),
            after_reset: true,
            ..
        })
    ));
}

// ---------- generated tokens ----------

fn validator() -> JwtSvidValidator {
    JwtSvidValidator::new("prod-api").unwrap()
}

fn ci_store_empty() -> FederationStore {
    let mut store = FederationStore::new();
    store.federate(ci(), RollbackPolicy::default());
    store
}

/// bundle_seq1 plus k-es256-2, i.e. bundle_seq2_rotated.
fn ci_store() -> FederationStore {
    let mut store = ci_store_empty();
    store
        .ingest(&ci(), bundle("bundle_seq2_rotated.json"))
        .unwrap();
    store
}

#[test]
fn accepted_tokens() {
    let store = ci_store();
    for name in [
        "ok_es256.jwt",
        "ok_es384.jwt",
        "ok_rs256.jwt",
        "ok_rs512.jwt",
        "ok_ps256.jwt",
        "ok_ps384.jwt",
        "ok_aud_string.jwt",
        "ok_aud_multi_one_matches.jwt",
        "ok_typ_jose.jwt",
        "ok_no_typ.jwt",
        "ok_after_rotation_es256_2.jwt",
    ] {
        let ok = validator()
            .validate_at(&token(name), &store, NOW)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            ok.spiffe_id.to_string(),
            "spiffe://ci.example.org/workload/builder",
            "{name}"
        );
        assert!(ok.audiences.iter().any(|a| a == "prod-api"));
        assert_eq!(ok.expires_at, 4_102_444_800);
    }
}

#[test]
fn refused_tokens_with_their_reasons() {
    let store = ci_store();
    let td = ci();
    let unknown = move |kid: &str| JwtSvidError::UnknownKid {
        trust_domain: td.clone(),
        kid: kid.into(),
    };
    let cases: Vec<(&str, TokenCheck)> = vec![
        (
            "policy_no_kid.jwt",
            Box::new(|e| *e == JwtSvidError::MissingKid),
        ),
        (
            "bad_alg_none.jwt",
            Box::new(|e| *e == JwtSvidError::AlgorithmNotAllowed("none".into())),
        ),
        (
            "bad_alg_hs256_confusion.jwt",
            Box::new(|e| *e == JwtSvidError::AlgorithmNotAllowed("HS256".into())),
        ),
        (
            "bad_alg_eddsa.jwt",
            Box::new(|e| *e == JwtSvidError::AlgorithmNotAllowed("EdDSA".into())),
        ),
        (
            "bad_alg_es512_p521.jwt",
            Box::new(|e| *e == JwtSvidError::Es512Unsupported),
        ),
        (
            "bad_alg_key_mismatch_rs256_on_ec_kid.jwt",
            Box::new(
                |e| matches!(e, JwtSvidError::AlgKeyMismatch { alg, kid, .. } if alg == "RS256" && kid == "k-es256"),
            ),
        ),
        (
            "bad_alg_es384_on_p256_kid.jwt",
            Box::new(|e| matches!(e, JwtSvidError::AlgKeyMismatch { alg, .. } if alg == "ES384")),
        ),
        (
            "bad_unknown_kid.jwt",
            Box::new(move |e| *e == unknown("k-foreign")),
        ),
        (
            "bad_signed_by_foreign_key_claiming_known_kid.jwt",
            Box::new(|e| *e == JwtSvidError::BadSignature),
        ),
        (
            "bad_tampered_payload.jwt",
            Box::new(|e| *e == JwtSvidError::BadSignature),
        ),
        (
            "bad_expired.jwt",
            Box::new(|e| {
                matches!(
                    e,
                    JwtSvidError::Expired {
                        exp: 1_700_000_000,
                        ..
                    }
                )
            }),
        ),
        (
            "bad_missing_exp.jwt",
            Box::new(|e| *e == JwtSvidError::MissingExp),
        ),
        (
            "bad_exp_as_string.jwt",
            Box::new(|e| {
                *e == JwtSvidError::BadNumericDate {
                    claim: "exp",
                    found: "a string",
                }
            }),
        ),
        (
            "bad_nbf_future.jwt",
            Box::new(|e| matches!(e, JwtSvidError::NotYetValid { .. })),
        ),
        (
            "bad_missing_aud.jwt",
            Box::new(|e| *e == JwtSvidError::MissingAud),
        ),
        (
            "bad_empty_aud.jwt",
            Box::new(|e| *e == JwtSvidError::BadAud),
        ),
        (
            "bad_wrong_aud.jwt",
            Box::new(|e| matches!(e, JwtSvidError::WrongAudience { .. })),
        ),
        (
            "bad_missing_sub.jwt",
            Box::new(|e| *e == JwtSvidError::MissingSub),
        ),
        (
            "bad_sub_not_spiffe.jwt",
            Box::new(|e| matches!(e, JwtSvidError::BadSub(_))),
        ),
        (
            "bad_sub_with_query.jwt",
            Box::new(|e| matches!(e, JwtSvidError::BadSub(_))),
        ),
        (
            "bad_sub_uppercase_td.jwt",
            Box::new(|e| matches!(e, JwtSvidError::BadSub(_))),
        ),
        (
            "bad_sub_other_trust_domain.jwt",
            Box::new(|e| {
                *e == JwtSvidError::NotFederated(TrustDomain::new("prod.example.org").unwrap())
            }),
        ),
        (
            "bad_typ_at_jwt.jwt",
            Box::new(|e| *e == JwtSvidError::BadTyp("at+jwt".into())),
        ),
        (
            "bad_extra_header_jku.jwt",
            Box::new(|e| *e == JwtSvidError::UnexpectedHeader("jku".into())),
        ),
        (
            "bad_crit_header.jwt",
            Box::new(|e| *e == JwtSvidError::UnexpectedHeader("crit".into())),
        ),
        (
            "bad_truncated_two_segments.jwt",
            Box::new(|e| *e == JwtSvidError::SegmentCount(2)),
        ),
        (
            "bad_jws_json_serialization.json",
            Box::new(|e| *e == JwtSvidError::JsonSerialization),
        ),
    ];
    for (name, check) in cases {
        let err = validator()
            .validate_at(&token(name), &store, NOW)
            .expect_err(name);
        assert!(check(&err), "{name}: got {err:?}");
    }
}

#[test]
fn other_trust_domain_sub_uses_only_that_domains_keys() {
    // prod.example.org is federated too, with keys that do not include k-es256: the token
    // signed by ci's k-es256 but claiming a prod sub must not be checked against ci's keys.
    let mut store = ci_store();
    let prod = TrustDomain::new("prod.example.org").unwrap();
    store.federate(prod.clone(), RollbackPolicy::default());
    store
        .ingest(
            &prod,
            SpiffeBundle::parse(&bytes("upstream/go-spiffe/spiffebundle_valid_2.json")).unwrap(),
        )
        .unwrap();
    assert_eq!(
        validator().validate_at(&token("bad_sub_other_trust_domain.jwt"), &store, NOW),
        Err(JwtSvidError::UnknownKid {
            trust_domain: prod,
            kid: "k-es256".into()
        })
    );
}
