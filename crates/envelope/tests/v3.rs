//! Format v2: round trip, every signed field bound, witness and policy gates, payload
//! binding, strict parsing.

mod common;

use common::{Spec, anchor, build, policy_anchor, to_bytes};
use ed25519_dalek::SigningKey;
use nucleus_envelope::{BundleFormat, TrustAnchor, kid_for, verify_bundle};
use serde_json::{Value, json};

fn value(spec: &Spec) -> Value {
    serde_json::to_value(build(spec)).unwrap()
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
    assert_eq!(report.format, BundleFormat::V2);
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
    let parsed: nucleus_envelope::v2::BundleV2 = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(to_bytes(&parsed), bytes);
    // The report serializes for JSON consumers.
    let j = serde_json::to_value(&report).unwrap();
    assert_eq!(j["format"], "v2");
}

/// Every member that is signed, changed in turn, makes verification fail.
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
            format!("edge {i} sig"),
            Box::new(move |b| {
                let s = b["edges"][i]["sig"].as_str().unwrap().to_owned();
                let mut c: Vec<char> = s.chars().collect();
                c[0] = if c[0] == 'A' { 'B' } else { 'A' };
                b["edges"][i]["sig"] = json!(c.into_iter().collect::<String>());
            }),
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
        Box::new(|b| b["format"] = json!("nucleus-bundle/v3")),
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
        Box::new(|b| {
            let c = b["log"]["checkpoint"]
                .as_str()
                .unwrap()
                .replacen("\n8\n", "\n9\n", 1);
            b["log"]["checkpoint"] = json!(c);
        }),
    ));
    cases.push((
        "checkpoint origin".into(),
        Box::new(|b| {
            let c = b["log"]["checkpoint"]
                .as_str()
                .unwrap()
                .replacen("test-log", "test-lag", 1);
            b["log"]["checkpoint"] = json!(c);
        }),
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
        "binding kid".into(),
        Box::new(|b| b["binding"]["kid"] = json!("other-kid")),
    ));
    cases.push((
        "binding sig".into(),
        Box::new(|b| {
            let s = b["binding"]["sig"].as_str().unwrap().to_owned();
            let mut c: Vec<char> = s.chars().collect();
            c[0] = if c[0] == 'A' { 'B' } else { 'A' };
            b["binding"]["sig"] = json!(c.into_iter().collect::<String>());
        }),
    ));
    cases.push((
        "binding removed".into(),
        Box::new(|b| {
            b.as_object_mut().unwrap().remove("binding");
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
    assert!(n > 60, "{n} mutations");
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
    let b = value(&Spec {
        cosigners: vec![2],
        ..Spec::default()
    });
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
    let b = value(&Spec {
        cosigners: vec![1, 1, 1],
        ..Spec::default()
    });
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
    let two = value(&Spec {
        cosigners: vec![0, 2],
        ..Spec::default()
    });
    verify_value(&two, &policy_anchor()).unwrap();
    let one = value(&Spec {
        cosigners: vec![2],
        ..Spec::default()
    });
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
    // A bundle signed by another key under the genuine kid.
    let mut b = value(&Spec::default());
    let forger = SigningKey::from_bytes(&[0x99; 32]);
    let kid = kid_for(&common::issuer().verifying_key());
    let (edge, _) = common::edge_fields(0).sign("session-1", &[0u8; 32], &kid, &forger);
    b["edges"][0] = serde_json::to_value(edge).unwrap();
    let err = verify_value(&b, &anchor()).unwrap_err();
    assert_eq!(err.kind(), "bad_signature", "{err}");
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
    let wrong_log = TrustAnchor {
        trust_witness_pubkey_hex: Some(hex::encode(
            SigningKey::from_bytes(&[5; 32]).verifying_key().as_bytes(),
        )),
        ..anchor()
    };
    assert_eq!(
        verify_value(&b, &wrong_log).unwrap_err().kind(),
        "bad_checkpoint"
    );
    let no_log = TrustAnchor {
        trust_witness_pubkey_hex: None,
        ..anchor()
    };
    assert_eq!(
        verify_value(&b, &no_log).unwrap_err().kind(),
        "missing_log_key"
    );
    let other_origin = TrustAnchor {
        origin: Some("example.com/other".into()),
        ..anchor()
    };
    assert_eq!(
        verify_value(&b, &other_origin).unwrap_err().kind(),
        "origin_mismatch"
    );
    let no_origin = TrustAnchor {
        origin: None,
        ..anchor()
    };
    assert_eq!(
        verify_value(&b, &no_origin).unwrap_err().kind(),
        "invalid_trust_anchor"
    );
}

#[test]
fn payload_binding_on_and_off() {
    // No payload: fine by default, refused when the anchor requires a binding.
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
    // A payload without its binding: refused by default, accepted (unbound) only when the
    // anchor explicitly allows it.
    let mut unbound = value(&Spec::default());
    unbound.as_object_mut().unwrap().remove("binding");
    assert_eq!(
        verify_value(&unbound, &anchor()).unwrap_err().kind(),
        "missing_payload_binding"
    );
    let lax = TrustAnchor {
        require_payload_binding: Some(false),
        ..anchor()
    };
    assert!(!verify_value(&unbound, &lax).unwrap().payload_bound);
    // A bound payload passes a strict anchor and reports its hash.
    let bound = value(&Spec::default());
    let report = verify_value(&bound, &required).unwrap();
    assert!(report.payload_bound);
    use sha2::Digest;
    assert_eq!(
        report.payload_sha256_hex.unwrap(),
        hex::encode(sha2::Sha256::digest(br#"{"summary":"done"}"#))
    );
    // A binding without a payload is malformed.
    let mut orphan = value(&Spec::default());
    orphan.as_object_mut().unwrap().remove("payload");
    assert_eq!(
        verify_value(&orphan, &anchor()).unwrap_err().kind(),
        "bad_payload_binding"
    );
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
    let mut b = value(&Spec::default());
    b["extra"] = json!(1);
    assert_eq!(
        verify_value(&b, &anchor()).unwrap_err().kind(),
        "malformed_bundle"
    );
    // Duplicate attribute keys are refused (no last-one-wins parser differential).
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
    // Non-canonical timestamps are refused even if signed that way.
    let kid = kid_for(&common::issuer().verifying_key());
    let mut fields = common::edge_fields(0);
    fields.ts = "2026-11-29T01:00:00.25Z".into();
    let (edge, _) = fields.sign("session-1", &[0u8; 32], &kid, &common::issuer());
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
