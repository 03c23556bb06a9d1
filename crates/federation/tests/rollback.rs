//! Anti-rollback rules beyond the shared vectors: unsequenced policy, explicit reset,
//! restore after restart, normalised key-set comparison.

mod common;

use common::{bundle, bytes};
use nucleus_federation::{Ingested, Refusal, RollbackGuard, RollbackPolicy, SpiffeBundle};

fn lax() -> RollbackPolicy {
    RollbackPolicy {
        accept_unsequenced: true,
    }
}

#[test]
fn same_sequence_compares_key_sets_not_bytes() {
    let seq1 = bundle("bundle_seq1.json");
    // Same keys, different member and entry order, whitespace, an extra unknown member.
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes("generated/bundle_seq1.json")).unwrap();
    let mut keys = doc["keys"].as_array().unwrap().clone();
    keys.reverse();
    let shuffled = serde_json::json!({"keys": keys, "spiffe_sequence": 1, "x_other": true});
    let shuffled = SpiffeBundle::parse(shuffled.to_string().as_bytes()).unwrap();
    let mut guard = RollbackGuard::new(RollbackPolicy::default());
    guard.ingest(seq1).unwrap();
    assert_eq!(
        guard.ingest(shuffled),
        Ok(Ingested::Unchanged { sequence: Some(1) })
    );
}

#[test]
fn unsequenced_bundles_need_the_switch_and_cannot_follow_a_sequenced_one() {
    let unsequenced = bundle("bundle_no_sequence.json");
    let mut strict = RollbackGuard::new(RollbackPolicy::default());
    assert_eq!(
        strict.ingest(unsequenced.clone()),
        Err(Refusal::MissingSequence)
    );
    assert!(strict.current().is_none());

    let mut guard = RollbackGuard::new(lax());
    assert!(matches!(
        guard.ingest(unsequenced.clone()),
        Ok(Ingested::Accepted { sequence: None, .. })
    ));
    assert_eq!(
        guard.ingest(unsequenced.clone()),
        Ok(Ingested::Unchanged { sequence: None })
    );
    // A sequenced bundle then pins a sequence ...
    guard.ingest(bundle("bundle_seq2_rotated.json")).unwrap();
    assert_eq!(guard.last_sequence(), Some(2));
    // ... after which dropping the sequence is refused, keys kept.
    assert_eq!(
        guard.ingest(unsequenced),
        Err(Refusal::SequenceDropped { last: 2 })
    );
    assert_eq!(guard.current().unwrap().jwt_keys().len(), 4);
}

#[test]
fn reset_is_explicit_one_shot_and_keeps_keys_until_a_new_bundle() {
    let mut guard = RollbackGuard::new(RollbackPolicy::default());
    guard.ingest(bundle("bundle_seq2_rotated.json")).unwrap();
    assert!(guard.ingest(bundle("bundle_seq0_rollback.json")).is_err());
    guard.reset();
    assert!(guard.reset_pending());
    // Keys are not blanked by the reset itself.
    assert_eq!(guard.current().unwrap().jwt_keys().len(), 4);
    // A malformed fetch does not consume the reset (it never reaches the guard) and a
    // missing sequence is still refused.
    assert_eq!(
        guard.ingest(bundle("bundle_no_sequence.json")),
        Err(Refusal::MissingSequence)
    );
    assert!(guard.reset_pending());
    assert!(matches!(
        guard.ingest(bundle("bundle_seq0_rollback.json")),
        Ok(Ingested::Accepted {
            sequence: Some(0),
            previous_sequence: Some(2),
            after_reset: true,
            ..
        })
    ));
    assert!(!guard.reset_pending());
    assert_eq!(guard.last_sequence(), Some(0));
    // The reset was used up: the next lower sequence is a rollback again.
    guard.ingest(bundle("bundle_seq1.json")).unwrap();
    assert_eq!(
        guard.ingest(bundle("bundle_seq0_rollback.json")),
        Err(Refusal::Rollback {
            fetched: 0,
            last: 1
        })
    );
}

#[test]
fn restored_state_still_refuses_rollbacks() {
    // As after a restart: the persisted sequence (2) is higher than the stored copy's (1);
    // the higher one wins.
    let guard = RollbackGuard::restore(
        RollbackPolicy::default(),
        Some(2),
        Some(bundle("bundle_seq1.json")),
    );
    assert_eq!(guard.last_sequence(), Some(2));
    let mut guard = guard;
    assert_eq!(
        guard.ingest(bundle("bundle_seq1_replay_of_seq1.json")),
        Err(Refusal::Rollback {
            fetched: 1,
            last: 2
        })
    );
    // Sequence only, no stored copy: still pinned.
    let mut bare = RollbackGuard::restore(RollbackPolicy::default(), Some(2), None);
    assert_eq!(
        bare.ingest(bundle("bundle_seq0_rollback.json")),
        Err(Refusal::Rollback {
            fetched: 0,
            last: 2
        })
    );
    // Same sequence with no stored keys to compare: cannot prove sameness, refused.
    assert_eq!(
        bare.ingest(bundle("bundle_seq2_rotated.json")),
        Err(Refusal::SameSequenceDifferentKeys { sequence: 2 })
    );
}

#[test]
fn normalised_output_round_trips() {
    for name in [
        "bundle_seq1.json",
        "bundle_seq2_rotated.json",
        "bundle_seq3_empty_keys_revocation.json",
    ] {
        let b = bundle(name);
        let again = SpiffeBundle::parse(b.to_json().as_bytes()).unwrap();
        assert!(b.same_keys_as(&again), "{name}");
        assert_eq!(b.sequence(), again.sequence());
        assert_eq!(b.refresh_hint_secs(), again.refresh_hint_secs());
        assert!(
            again.ignored().is_empty(),
            "{name}: only usable entries are written"
        );
    }
}

#[test]
fn rotation_of_material_under_the_same_kid_needs_a_new_sequence() {
    // seq 1 with k-es256; the same kid with other material at seq 1 is refused.
    let a = br#"{"spiffe_sequence":5,"keys":[{"use":"jwt-svid","kty":"EC","crv":"P-256","kid":"k","x":"QgIXsq0pFxmCl2EJOHbqzixnR24h2zC9pvYkVxex-v0","y":"POvYb89DO_0a8-1mgP9zeC45-FexA1bofSFQJ6orT2M"}]}"#;
    let b = br#"{"spiffe_sequence":5,"keys":[{"use":"jwt-svid","kty":"EC","crv":"P-256","kid":"k","x":"2d7lQzVJ2nGXvSV2lXOl2dsxT-ukX5HqE2OMG70_F7s","y":"hE72bmf1qAFPizvYgdeQej0keVh4sq9mLShewTuE43c"}]}"#;
    let mut guard = RollbackGuard::new(RollbackPolicy::default());
    guard.ingest(SpiffeBundle::parse(a).unwrap()).unwrap();
    assert_eq!(
        guard.ingest(SpiffeBundle::parse(b).unwrap()),
        Err(Refusal::SameSequenceDifferentKeys { sequence: 5 })
    );
}

#[test]
fn malformed_entries_and_shapes() {
    use nucleus_federation::BundleError;
    let err = |doc: &str| SpiffeBundle::parse(doc.as_bytes()).unwrap_err();
    assert_eq!(err("[]"), BundleError::NotAnObject("an array"));
    assert_eq!(
        err(r#"{"keys":{}}"#),
        BundleError::KeysNotArray("an object")
    );
    assert_eq!(
        err(r#"{"keys":[1]}"#),
        BundleError::KeyNotObject {
            index: 0,
            found: "a non-negative integer"
        }
    );
    assert_eq!(
        err(r#"{"keys":[],"spiffe_refresh_hint":-5}"#),
        BundleError::BadRefreshHint("a negative integer")
    );
    // An off-curve point and a short RSA key are ignored with a reason, not trusted.
    let b = SpiffeBundle::parse(br#"{"keys":[
        {"use":"jwt-svid","kty":"EC","crv":"P-256","kid":"off","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        {"use":"jwt-svid","kty":"RSA","kid":"short","n":"AQAB","e":"AQAB"},
        {"use":"jwt-svid","kty":"oct","kid":"hmac","k":"c2VjcmV0"}
    ]}"#).unwrap();
    assert!(b.jwt_keys().is_empty());
    assert_eq!(b.ignored().len(), 3);
}
