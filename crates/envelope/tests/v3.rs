//! Format v3: round trip, every field bound by the chain and the seal, seal keys, witness and
//! policy gates, the payload rule, strict parsing.

mod common;

use common::{Spec, anchor, build, policy_anchor, to_bytes};
use ed25519_dalek::SigningKey;
use nucleus_envelope::v3::BundleV3;
use nucleus_envelope::{BundleFormat, TrustAnchor, kid_for, verify_bundle};
use serde_json::{Value, json};

fn value(spec: &Spec) -> Value {
    serde_json::to_value(build(spec)).unwrap()
}

/// The default bundle, cosigned by the test witnesses at `indices` (repeats give duplicate
/// lines).
fn cosigned_by(indices: &[usize]) -> Value {
    value(&Spec {
        cosigners: indices.to_vec(),
        ..Spec::default()
    })
}

/// Replaces the bundle's checkpoint text with `edit` of it.
fn edit_checkpoint(b: &mut Value, edit: impl FnOnce(&str) -> String) {
    let edited = edit(b["log"]["checkpoint"].as_str().unwrap());
    b["log"]["checkpoint"] = json!(edited);
}

fn verify_value(
    b: &Value,
    anchor: &TrustAnchor,
) -> Result<nucleus_envelope::VerificationReport, nucleus_envelope::BundleError> {
    verify_bundle(&serde_json::to_vec(b).unwrap(), anchor)
}

#[test]
fn round_trip_reports_every_signed_fact() {
    let bundle = build(&Spec::default());
    let bytes = to_bytes(&bundle);
    let report = verify_bundle(&bytes, &anchor()).unwrap();
    assert_eq!(report.format, BundleFormat::V3);
    assert_eq!(report.session, "session-1");
    assert_eq!(report.edge_count, 4);
    assert_eq!(
        report.edges[2].attrs.get("step").map(String::as_str),
        Some("2")
    );
    assert_eq!(report.edges[0].kind, "pod_admit");
    assert_eq!(
        report.edges[3].parents,
        ["spiffe://prod.example/agent/call/2"]
    );
    assert_eq!(report.head_hash_hex, report.edges[3].edge_hash_hex);
    let log = report.log.as_ref().unwrap();
    assert_eq!(log.origin.as_deref(), Some(common::ORIGIN));
    assert_eq!(log.size, 3 + 4 + 1);
    assert_eq!(log.leaf_indices, [3, 4, 5, 6]);
    assert_eq!(report.cosigners.len(), 3);
    let names: Vec<_> = report
        .cosigners
        .iter()
        .map(|c| c.name.clone().unwrap())
        .collect();
    assert_eq!(names, common::WITNESS_NAMES);
    assert_eq!(report.cosigners[1].timestamp, Some(1_790_000_001));
    assert!(report.payload_bound);
    assert_eq!(report.kids, [kid_for(&common::issuer().verifying_key())]);
    // Parsing and re-serializing the bundle gives the same bytes.
    let parsed = nucleus_envelope::v3::BundleV3::parse(&bytes).unwrap();
    assert_eq!(to_bytes(&parsed), bytes);
    // The report serializes for JSON consumers.
    let j = serde_json::to_value(&report).unwrap();
    assert_eq!(j["format"], "v3");
}

/// Every member, changed in turn, makes verification fail: edges are bound through the
/// chain to the sealed head, the log part by the log key and the witnesses.
#[test]
fn every_signed_field_flipped_in_turn_fails() {
    let good = value(&Spec::default());
    verify_value(&good, &anchor()).unwrap();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let flip_hex = |s: &str| -> String {
        let mut c: Vec<char> = s.chars().collect();
        c[10] = if c[10] == '0' { '1' } else { '0' };
        c.into_iter().collect()
    };
    let mut cases: Vec<(String, Mutation)> = Vec::new();
    for i in 0..4usize {
        cases.push((
            format!("edge {i} seq"),
            Box::new(move |b| b["edges"][i]["seq"] = json!(i + 7)),
        ));
        cases.push((
            format!("edge {i} child"),
            Box::new(move |b| b["edges"][i]["child"] = json!("spiffe://evil/x")),
        ));
        cases.push((
            format!("edge {i} parents added"),
            Box::new(move |b| {
                b["edges"][i]["parents"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("spiffe://evil/p"))
            }),
        ));
        cases.push((
            format!("edge {i} kind"),
            Box::new(move |b| b["edges"][i]["kind"] = json!("llm_call")),
        ));
        cases.push((
            format!("edge {i} content hash"),
            Box::new(move |b| {
                let h = b["edges"][i]["content_sha256_hex"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                b["edges"][i]["content_sha256_hex"] = json!(flip_hex(&h));
            }),
        ));
        cases.push((
            format!("edge {i} content hash removed"),
            Box::new(move |b| {
                b["edges"][i]
                    .as_object_mut()
                    .unwrap()
                    .remove("content_sha256_hex");
            }),
        ));
        cases.push((
            format!("edge {i} ts"),
            Box::new(move |b| b["edges"][i]["ts"] = json!("2026-11-29T02:00:00.250Z")),
        ));
        cases.push((
            format!("edge {i} attr value"),
            Box::new(move |b| b["edges"][i]["attrs"]["model"] = json!("m-2")),
        ));
        cases.push((
            format!("edge {i} attr added"),
            Box::new(move |b| b["edges"][i]["attrs"]["extra"] = json!("x")),
        ));
        cases.push((
            format!("edge {i} attr removed"),
            Box::new(move |b| {
                b["edges"][i]["attrs"]
                    .as_object_mut()
                    .unwrap()
                    .remove("model");
            }),
        ));
        cases.push((
            format!("edge {i} kid"),
            Box::new(move |b| b["edges"][i]["kid"] = json!("other-kid")),
        ));
        cases.push((
            format!("edge {i} leaf index"),
            Box::new(move |b| b["log"]["inclusion"][i]["leaf_index"] = json!(i)),
        ));
        cases.push((
            format!("edge {i} proof hash"),
            Box::new(move |b| {
                let h = b["log"]["inclusion"][i]["proof_hex"][0]
                    .as_str()
                    .unwrap()
                    .to_owned();
                b["log"]["inclusion"][i]["proof_hex"][0] = json!(flip_hex(&h));
            }),
        ));
        cases.push((
            format!("edge {i} proof truncated"),
            Box::new(move |b| {
                b["log"]["inclusion"][i]["proof_hex"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            }),
        ));
    }
    cases.push((
        "session".into(),
        Box::new(|b| b["session"] = json!("session-2")),
    ));
    cases.push((
        "format".into(),
        Box::new(|b| b["format"] = json!("nucleus-bundle/v4")),
    ));
    cases.push((
        "edge removed".into(),
        Box::new(|b| {
            b["edges"].as_array_mut().unwrap().remove(1);
            b["log"]["inclusion"].as_array_mut().unwrap().remove(1);
        }),
    ));
    cases.push((
        "edges swapped".into(),
        Box::new(|b| {
            b["edges"].as_array_mut().unwrap().swap(1, 2);
            b["log"]["inclusion"].as_array_mut().unwrap().swap(1, 2);
        }),
    ));
    cases.push((
        "last edge dropped".into(),
        Box::new(|b| {
            b["edges"].as_array_mut().unwrap().pop();
            b["log"]["inclusion"].as_array_mut().unwrap().pop();
        }),
    ));
    cases.push((
        "checkpoint size".into(),
        Box::new(|b| edit_checkpoint(b, |c| c.replacen("\n8\n", "\n9\n", 1))),
    ));
    cases.push((
        "checkpoint origin".into(),
        Box::new(|b| edit_checkpoint(b, |c| c.replacen("test-log", "test-lag", 1))),
    ));
    cases.push((
        "checkpoint root".into(),
        Box::new(|b| {
            let c = b["log"]["checkpoint"].as_str().unwrap().to_owned();
            let lines: Vec<&str> = c.split('\n').collect();
            let root = lines[2];
            let mut r: Vec<char> = root.chars().collect();
            r[0] = if r[0] == 'A' { 'B' } else { 'A' };
            let flipped: String = r.into_iter().collect();
            b["log"]["checkpoint"] = json!(c.replacen(root, &flipped, 1));
        }),
    ));
    cases.push((
        "log signature".into(),
        Box::new(|b| {
            let c = b["log"]["checkpoint"].as_str().unwrap().to_owned();
            let at = c.find("\n\n\u{2014} ").unwrap();
            let line_end = at + 2 + c[at + 2..].find('\n').unwrap();
            let mut bytes = c.into_bytes();
            bytes[line_end - 3] = if bytes[line_end - 3] == b'A' {
                b'B'
            } else {
                b'A'
            };
            b["log"]["checkpoint"] = json!(String::from_utf8(bytes).unwrap());
        }),
    ));
    cases.push((
        "payload data".into(),
        Box::new(|b| {
            b["payload"]["data_b64"] =
                json!(nucleus_lineage::b64::encode(br#"{"summary":"forged"}"#))
        }),
    ));
    cases.push((
        "payload media type".into(),
        Box::new(|b| b["payload"]["media_type"] = json!("text/plain")),
    ));
    cases.push((
        "seal kid".into(),
        Box::new(|b| b["seal"]["kid"] = json!("other-kid")),
    ));
    cases.push((
        "seal sig".into(),
        Box::new(|b| {
            let s = b["seal"]["sig"].as_str().unwrap().to_owned();
            let mut c: Vec<char> = s.chars().collect();
            c[0] = if c[0] == 'A' { 'B' } else { 'A' };
            b["seal"]["sig"] = json!(c.into_iter().collect::<String>());
        }),
    ));
    cases.push((
        "seal removed".into(),
        Box::new(|b| {
            b.as_object_mut().unwrap().remove("seal");
        }),
    ));
    cases.push((
        "payload removed".into(),
        Box::new(|b| {
            b.as_object_mut().unwrap().remove("payload");
        }),
    ));
    cases.push((
        "unknown member".into(),
        Box::new(|b| b["edges"][0]["note"] = json!("unsigned")),
    ));
    let n = cases.len();
    for (what, mutate) in cases {
        let mut b = good.clone();
        mutate(&mut b);
        assert_ne!(b, good, "{what}: the mutation changed nothing");
        let err = verify_value(&b, &anchor());
        assert!(err.is_err(), "{what}: a changed bundle verified");
    }
    assert!(n > 55, "{n} mutations");
}

#[test]
fn cosignature_line_tampering_drops_the_witness() {
    let good = value(&Spec::default());
    // Corrupt one witness's cosignature: with threshold 3 it no longer verifies.
    let c = good["log"]["checkpoint"].as_str().unwrap().to_owned();
    let marker = format!("\u{2014} {} ", common::WITNESS_NAMES[1]);
    let at = c.find(&marker).unwrap() + marker.len() + 12;
    let mut bytes = c.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let mut b = good.clone();
    b["log"]["checkpoint"] = json!(String::from_utf8(bytes).unwrap());
    let strict = TrustAnchor {
        cosignature_threshold: 3,
        ..anchor()
    };
    let err = verify_value(&b, &strict).unwrap_err();
    assert_eq!(err.kind(), "insufficient_cosignatures", "{err}");
    let report = verify_value(&b, &anchor()).unwrap();
    assert_eq!(report.cosigners.len(), 2);
}

#[test]
fn wrong_witness_keys_do_not_count() {
    let b = value(&Spec::default());
    let other = TrustAnchor {
        trusted_witnesses_hex: (0..3)
            .map(|i| {
                hex::encode(
                    SigningKey::from_bytes(&[0x90 + i; 32])
                        .verifying_key()
                        .as_bytes(),
                )
            })
            .collect(),
        ..anchor()
    };
    let err = verify_value(&b, &other).unwrap_err();
    assert_eq!(err.kind(), "insufficient_cosignatures");
    assert_eq!(
        err,
        nucleus_envelope::BundleError::InsufficientCosignatures {
            verified: 0,
            required: 2
        }
    );
}

#[test]
fn threshold_not_met() {
    let b = cosigned_by(&[2]);
    let err = verify_value(&b, &anchor()).unwrap_err();
    assert_eq!(
        err,
        nucleus_envelope::BundleError::InsufficientCosignatures {
            verified: 1,
            required: 2
        }
    );
    let one = TrustAnchor {
        cosignature_threshold: 1,
        ..anchor()
    };
    verify_value(&b, &one).unwrap();
}

#[test]
fn duplicate_cosigner_counts_once() {
    let b = cosigned_by(&[1, 1, 1]);
    let err = verify_value(&b, &anchor()).unwrap_err();
    assert_eq!(
        err,
        nucleus_envelope::BundleError::InsufficientCosignatures {
            verified: 1,
            required: 2
        }
    );
    let err = verify_value(&b, &policy_anchor()).unwrap_err();
    assert_eq!(err.kind(), "quorum_not_satisfied", "{err}");
    // The same key in trusted_witnesses_hex twice is one witness.
    let dup = TrustAnchor {
        trusted_witnesses_hex: vec![
            hex::encode(common::witness(1).verifying_key().as_bytes()),
            hex::encode(common::witness(1).verifying_key().as_bytes()).to_uppercase(),
        ],
        cosignature_threshold: 1,
        ..anchor()
    };
    assert_eq!(verify_value(&b, &dup).unwrap().cosigners.len(), 1);
}

#[test]
fn policy_quorum_is_enforced() {
    let b = value(&Spec::default());
    let report = verify_value(&b, &policy_anchor()).unwrap();
    assert_eq!(report.quorum_satisfied, Some(true));
    let policy_names: Vec<_> = report
        .cosigners
        .iter()
        .map(|c| c.policy_name.clone().unwrap())
        .collect();
    assert_eq!(policy_names, ["wa", "wb", "wc"]);
    let two = cosigned_by(&[0, 2]);
    verify_value(&two, &policy_anchor()).unwrap();
    let one = cosigned_by(&[2]);
    let err = verify_value(&one, &policy_anchor()).unwrap_err();
    assert_eq!(
        err,
        nucleus_envelope::BundleError::QuorumNotSatisfied {
            counted: vec!["wc".into()]
        }
    );
}

#[test]
fn forged_issuer_is_refused() {
    // A bundle sealed by another key under the genuine kid.
    let mut b = build(&Spec::default());
    let forger = SigningKey::from_bytes(&[0x99; 32]);
    b.seal = reseal(&b, &b.seal.kid.clone(), &forger);
    let err = verify_bundle(&to_bytes(&b), &anchor()).unwrap_err();
    assert_eq!(err.kind(), "bad_seal", "{err}");
    // A bundle entirely produced by another issuer fails against our anchor.
    let forger_anchor = TrustAnchor {
        trust_jwks: Some(nucleus_envelope::Jwks {
            keys: vec![nucleus_envelope::Jwk::from_ed25519(&forger.verifying_key())],
        }),
        ..anchor()
    };
    let err = verify_value(&value(&Spec::default()), &forger_anchor).unwrap_err();
    assert_eq!(err.kind(), "unknown_kid", "{err}");
}

#[test]
fn wrong_log_key_or_origin_is_refused() {
    let b = value(&Spec::default());
    let other_log_key = hex::encode(SigningKey::from_bytes(&[5; 32]).verifying_key().as_bytes());
    let cases = [
        (
            "another log key pinned",
            TrustAnchor {
                trust_witness_pubkey_hex: Some(other_log_key),
                ..anchor()
            },
            "bad_checkpoint",
        ),
        (
            "no log key pinned",
            TrustAnchor {
                trust_witness_pubkey_hex: None,
                ..anchor()
            },
            "missing_log_key",
        ),
        (
            "another origin",
            TrustAnchor {
                origin: Some("example.com/other".into()),
                ..anchor()
            },
            "origin_mismatch",
        ),
        (
            "no origin",
            TrustAnchor {
                origin: None,
                ..anchor()
            },
            "invalid_trust_anchor",
        ),
    ];
    for (case, anchor, kind) in cases {
        assert_eq!(
            verify_value(&b, &anchor).unwrap_err().kind(),
            kind,
            "{case}"
        );
    }
}

#[test]
fn payload_is_sealed_and_required_only_when_the_anchor_says_so() {
    // No payload: fine by default and with `false`, refused with `true`.
    let bare = value(&Spec {
        payload: None,
        ..Spec::default()
    });
    let report = verify_value(&bare, &anchor()).unwrap();
    assert!(!report.payload_bound);
    assert!(report.payload_sha256_hex.is_none());
    let required = TrustAnchor {
        require_payload_binding: Some(true),
        ..anchor()
    };
    assert_eq!(
        verify_value(&bare, &required).unwrap_err().kind(),
        "missing_payload_binding"
    );
    let lax = TrustAnchor {
        require_payload_binding: Some(false),
        ..anchor()
    };
    verify_value(&bare, &lax).unwrap();
    // A payload is always sealed: it verifies under every setting and reports its hash.
    let bound = value(&Spec::default());
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(br#"{"summary":"done"}"#));
    for a in [anchor(), required, lax.clone()] {
        let report = verify_value(&bound, &a).unwrap();
        assert!(report.payload_bound);
        assert_eq!(report.payload_sha256_hex.as_deref(), Some(digest.as_str()));
    }
    // Removing the payload or adding one breaks the seal, even when the anchor does not
    // require a payload.
    let mut stripped = bound.clone();
    stripped.as_object_mut().unwrap().remove("payload");
    assert_eq!(
        verify_value(&stripped, &lax).unwrap_err().kind(),
        "bad_seal"
    );
    let mut added = bare.clone();
    added["payload"] = bound["payload"].clone();
    assert_eq!(verify_value(&added, &lax).unwrap_err().kind(), "bad_seal");
    // Payload bytes that are not canonical base64 are malformed.
    let mut garbled = bound.clone();
    garbled["payload"]["data_b64"] = json!("not base64!");
    assert_eq!(
        verify_value(&garbled, &anchor()).unwrap_err().kind(),
        "malformed_bundle"
    );
}

/// Re-signs the seal of `b` (as is) with `key` under `kid`.
fn reseal(b: &BundleV3, kid: &str, key: &SigningKey) -> nucleus_envelope::v3::SealV3 {
    let head = b.edges.iter().fold([0u8; 32], |prev, e| {
        let fields = nucleus_envelope::v3::EdgeFields {
            seq: e.seq,
            child: e.child.clone(),
            parents: e.parents.clone(),
            kind: e.kind.clone(),
            content_sha256: e
                .content_sha256_hex
                .as_ref()
                .map(|h| hex::decode(h).unwrap().try_into().unwrap()),
            ts: e.ts.clone(),
            attrs: e.attrs.clone(),
        };
        fields.chain(&b.session, &prev, &e.kid).1
    });
    let data = b
        .payload
        .as_ref()
        .map(|p| nucleus_lineage::b64::decode_canonical(&p.data_b64).unwrap());
    let payload = b
        .payload
        .as_ref()
        .zip(data.as_deref())
        .map(|(p, d)| (p.media_type.as_str(), d));
    nucleus_envelope::v3::seal(&b.session, b.edges.len() as u64, &head, payload, kid, key)
}

fn windowed(key: &SigningKey, not_before: &str, not_after: &str) -> nucleus_envelope::Jwk {
    let mut jwk = nucleus_envelope::Jwk::from_ed25519(&key.verifying_key());
    jwk.not_before = Some(not_before.into());
    jwk.not_after = Some(not_after.into());
    jwk
}

#[test]
fn seal_key_must_be_valid_at_the_head_edge() {
    // The default bundle's edges are at 2026-11-29T01:00:00.250Z .. 01:00:03.250Z.
    let b = value(&Spec::default());
    let at = |nb: &str, na: &str| TrustAnchor {
        trust_jwks: Some(nucleus_envelope::Jwks {
            keys: vec![windowed(&common::issuer(), nb, na)],
        }),
        ..anchor()
    };
    verify_value(
        &b,
        &at("2026-11-29T01:00:00.250Z", "2026-11-29T01:00:03.250Z"),
    )
    .unwrap();
    // Expired before the head edge: every edge but the head is fine, the seal is not.
    // (The head edge's own kid fails first, as edges are checked before the seal.)
    let err = verify_value(&b, &at("2026-01-01T00:00:00Z", "2026-11-29T01:00:03Z")).unwrap_err();
    assert_eq!(
        err,
        nucleus_envelope::BundleError::Edge {
            index: 3,
            fault: nucleus_envelope::EdgeFault::KeyExpired(
                b["seal"]["kid"].as_str().unwrap().into()
            )
        }
    );
    // Edges recorded under an old key, sealed by its successor: each key is checked at its
    // own time.
    let old = common::issuer();
    let new = SigningKey::from_bytes(&[0x12; 32]);
    let mut rotated = build(&Spec::default());
    let new_kid = kid_for(&new.verifying_key());
    rotated.seal = reseal(&rotated, &new_kid, &new);
    let both = |new_nb: &str| TrustAnchor {
        trust_jwks: Some(nucleus_envelope::Jwks {
            keys: vec![
                windowed(&old, "2026-01-01T00:00:00Z", "2026-11-29T01:00:03.250Z"),
                windowed(&new, new_nb, "2027-01-01T00:00:00Z"),
            ],
        }),
        ..anchor()
    };
    let report = verify_bundle(&to_bytes(&rotated), &both("2026-11-29T01:00:03Z")).unwrap();
    assert_eq!(report.kids.len(), 2);
    let err = verify_bundle(&to_bytes(&rotated), &both("2026-11-29T01:00:04Z")).unwrap_err();
    assert_eq!(err.kind(), "key_not_yet_valid", "{err}");
    assert!(
        matches!(err, nucleus_envelope::BundleError::Seal(_)),
        "{err}"
    );
    // A seal key missing from the anchor.
    let only_old = TrustAnchor {
        trust_jwks: Some(nucleus_envelope::Jwks {
            keys: vec![nucleus_envelope::Jwk::from_ed25519(&old.verifying_key())],
        }),
        ..anchor()
    };
    let err = verify_bundle(&to_bytes(&rotated), &only_old).unwrap_err();
    assert_eq!(
        err,
        nucleus_envelope::BundleError::Seal(nucleus_envelope::EdgeFault::UnknownKid(new_kid))
    );
}

#[test]
fn edge_kid_must_be_trusted_and_valid_at_its_ts() {
    // Edges 2 and 3 recorded under another key; the genuine issuer seals.
    let other = SigningKey::from_bytes(&[0x13; 32]);
    let other_kid = kid_for(&other.verifying_key());
    let b = build(&Spec {
        kid_from: Some((2, other_kid.clone())),
        ..Spec::default()
    });
    let err = verify_bundle(&to_bytes(&b), &anchor()).unwrap_err();
    assert_eq!(
        err,
        nucleus_envelope::BundleError::Edge {
            index: 2,
            fault: nucleus_envelope::EdgeFault::UnknownKid(other_kid.clone())
        }
    );
    let mut keys = vec![nucleus_envelope::Jwk::from_ed25519(
        &common::issuer().verifying_key(),
    )];
    keys.push(windowed(
        &other,
        "2026-11-29T01:00:03Z",
        "2027-01-01T00:00:00Z",
    ));
    let trusting = TrustAnchor {
        trust_jwks: Some(nucleus_envelope::Jwks { keys: keys.clone() }),
        ..anchor()
    };
    // Edge 2 (01:00:02.250) is before the other key's window.
    let err = verify_bundle(&to_bytes(&b), &trusting).unwrap_err();
    assert_eq!(err.kind(), "key_not_yet_valid", "{err}");
    keys[1] = windowed(&other, "2026-11-29T01:00:02Z", "2027-01-01T00:00:00Z");
    let trusting = TrustAnchor {
        trust_jwks: Some(nucleus_envelope::Jwks { keys }),
        ..anchor()
    };
    let report = verify_bundle(&to_bytes(&b), &trusting).unwrap();
    assert_eq!(report.edges[3].kid, other_kid);
}

#[test]
fn unknown_anchor_fields_are_errors() {
    let mut a = serde_json::to_value(anchor()).unwrap();
    a["cosignature_treshold"] = json!(3);
    let err = TrustAnchor::from_json(&a.to_string()).unwrap_err();
    assert_eq!(err.kind(), "invalid_trust_anchor");
    // The anchor round-trips through JSON.
    let text = anchor().to_json();
    assert_eq!(TrustAnchor::from_json(&text).unwrap(), anchor());
    // Bad keys and origins are refused up front.
    let mut a = serde_json::to_value(anchor()).unwrap();
    a["trusted_witnesses_hex"][0] = json!("abcd");
    assert!(TrustAnchor::from_json(&a.to_string()).is_err());
    let mut a = serde_json::to_value(anchor()).unwrap();
    a["origin"] = json!("bad+origin");
    assert!(TrustAnchor::from_json(&a.to_string()).is_err());
    let mut a = serde_json::to_value(anchor()).unwrap();
    a["policy"] = json!("witness w1 nothex\nquorum w1\n");
    assert!(TrustAnchor::from_json(&a.to_string()).is_err());
}

#[test]
fn strict_parsing() {
    // Unknown members are refused at every level, and the error says where.
    for (edit, path) in [
        ((&["extra"][..]), "extra"),
        (&["edges", "0", "extra"][..], "edges[0].extra"),
        (
            &["log", "inclusion", "1", "extra"][..],
            "log.inclusion[1].extra",
        ),
        (&["seal", "extra"][..], "seal.extra"),
    ] {
        let mut b = value(&Spec::default());
        let (last, parents) = edit.split_last().unwrap();
        let mut target = &mut b;
        for step in parents {
            target = match step.parse::<usize>() {
                Ok(i) => &mut target[i],
                Err(_) => &mut target[*step],
            };
        }
        target[*last] = json!(1);
        let err = verify_value(&b, &anchor()).unwrap_err();
        assert_eq!(err.kind(), "malformed_bundle");
        assert!(
            err.to_string().contains(&format!("{path}: unknown member")),
            "{err}"
        );
    }
    // A wrong type names the member and what was expected.
    let mut b = value(&Spec::default());
    b["edges"][1]["seq"] = json!("1");
    let err = verify_value(&b, &anchor()).unwrap_err();
    assert!(
        err.to_string()
            .contains("edges[1].seq: expected a non-negative integer, found a string"),
        "{err}"
    );
    // Duplicate member names are refused anywhere (no last-one-wins parser differential),
    // attribute keys included.
    let text = String::from_utf8(to_bytes(&build(&Spec::default()))).unwrap();
    let dup = text.replacen(
        "\"model\": \"m-1\",",
        "\"model\": \"m-1\",\n        \"model\": \"m-1\",",
        1,
    );
    assert_ne!(dup, text);
    assert_eq!(
        verify_bundle(dup.as_bytes(), &anchor()).unwrap_err().kind(),
        "malformed_bundle"
    );
    let dup_seal = text.replacen("\"seal\": {", "\"seal\": {\"kid\": \"other\",", 1);
    assert_ne!(dup_seal, text);
    let err = verify_bundle(dup_seal.as_bytes(), &anchor()).unwrap_err();
    assert_eq!(err.kind(), "malformed_bundle");
    assert!(
        err.to_string()
            .contains("duplicate JSON member name \"kid\""),
        "{err}"
    );
    // Non-canonical timestamps are refused even if encoded that way.
    let kid = kid_for(&common::issuer().verifying_key());
    let mut fields = common::edge_fields(0);
    fields.ts = "2026-11-29T01:00:00.25Z".into();
    let (edge, _) = fields.chain("session-1", &[0u8; 32], &kid);
    let mut b = value(&Spec::default());
    b["edges"][0] = serde_json::to_value(edge).unwrap();
    assert_eq!(
        verify_value(&b, &anchor()).unwrap_err().kind(),
        "malformed_edge"
    );
    assert_eq!(
        verify_bundle(b"not json", &anchor()).unwrap_err().kind(),
        "malformed_bundle"
    );
}

#[test]
fn empty_sessions_need_allow_empty() {
    let b = value(&Spec {
        edges: 0,
        payload: None,
        ..Spec::default()
    });
    assert_eq!(
        verify_value(&b, &anchor()).unwrap_err().kind(),
        "empty_envelope"
    );
    let allow = TrustAnchor {
        allow_empty: true,
        ..anchor()
    };
    let report = verify_value(&b, &allow).unwrap();
    assert_eq!(report.edge_count, 0);
    assert_eq!(report.head_hash_hex, "");
    // The seal still covers the (all-zero) head and the edge count.
    let mut unsealed = b.clone();
    unsealed["seal"]["sig"] = value(&Spec::default())["seal"]["sig"].clone();
    assert_eq!(
        verify_value(&unsealed, &allow).unwrap_err().kind(),
        "bad_seal"
    );
    // Nothing says when an empty bundle was sealed: a seal key with a validity window is
    // refused rather than checked against no time.
    let windowed_allow = TrustAnchor {
        trust_jwks: Some(nucleus_envelope::Jwks {
            keys: vec![windowed(
                &common::issuer(),
                "2020-01-01T00:00:00Z",
                "2030-01-01T00:00:00Z",
            )],
        }),
        ..allow.clone()
    };
    assert_eq!(
        verify_value(&b, &windowed_allow).unwrap_err().kind(),
        "untimed_key_window"
    );
    // The cosignature gate still runs.
    let b = value(&Spec {
        edges: 0,
        payload: None,
        cosigners: vec![],
        ..Spec::default()
    });
    assert_eq!(
        verify_value(&b, &allow).unwrap_err().kind(),
        "insufficient_cosignatures"
    );
}

#[test]
fn errors_serialize_with_their_kind() {
    let err = verify_bundle(b"{}", &anchor()).unwrap_err();
    let j = serde_json::to_value(&err).unwrap();
    assert_eq!(j["kind"], "malformed_bundle");
    assert!(j["message"].as_str().unwrap().contains("malformed"));
}

#[test]
fn the_log_signature_is_required_and_every_line_under_a_log_key_must_verify() {
    let good = value(&Spec::default());
    let note = good["log"]["checkpoint"].as_str().unwrap().to_owned();
    let (body, sigs) = note.split_once("\n\n").unwrap();
    let lines: Vec<&str> = sigs.lines().collect();
    let log_line = format!("\u{2014} {} ", common::ORIGIN);
    let at = lines.iter().position(|l| l.starts_with(&log_line)).unwrap();
    let rebuild = |lines: &[String]| {
        let mut b = good.clone();
        b["log"]["checkpoint"] = json!(format!("{body}\n\n{}\n", lines.join("\n")));
        b
    };
    let owned: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    verify_value(&rebuild(&owned), &anchor()).unwrap();
    for a in [anchor(), policy_anchor()] {
        // Only the witnesses' lines: no log signature.
        let mut without = owned.clone();
        without.remove(at);
        let err = verify_value(&rebuild(&without), &a).unwrap_err();
        assert_eq!(err.kind(), "bad_checkpoint", "{err}");
        // The good log line plus a second line under the same key that does not verify.
        let mut extra = owned.clone();
        let mut forged: Vec<char> = owned[at].chars().collect();
        let i = forged.len() - 5;
        forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
        extra.push(forged.into_iter().collect());
        let err = verify_value(&rebuild(&extra), &a).unwrap_err();
        assert_eq!(err.kind(), "bad_checkpoint", "{err}");
    }
}
