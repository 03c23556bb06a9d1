//! Format v1: the upstream demo fixtures give the verdicts their README states, and the
//! upstream fail-open gaps (G4–G6) fail closed.

use ed25519_dalek::{Signer, SigningKey};
use nucleus_envelope::v1::canonical::{binding_message, sth_message};
use nucleus_envelope::{BundleFormat, TrustAnchor, verify_bundle};
use serde_json::Value;
use sha2::{Digest, Sha256};

const BASIC: &str = include_str!("../testdata/upstream/bundle.basic.json");
const BASIC_ANCHOR: &str = include_str!("../testdata/upstream/trust-anchor.basic.json");
const ANCHORED: &str = include_str!("../testdata/upstream/bundle.json");
const ANCHORED_ANCHOR: &str = include_str!("../testdata/upstream/trust-anchor.json");

fn anchor(text: &str) -> TrustAnchor {
    TrustAnchor::from_json(text).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// Flips the first base64 character `A`<->`B` (or to `A` otherwise), as upstream's demo does.
fn flip_b64(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    chars[0] = match chars[0] {
        'A' => 'B',
        'B' => 'A',
        _ => 'A',
    };
    chars.into_iter().collect()
}

fn log_key() -> SigningKey {
    SigningKey::from_bytes(&[0x2a; 32])
}

#[test]
fn basic_fixture_passes() {
    let report = verify_bundle(BASIC.as_bytes(), &anchor(BASIC_ANCHOR)).unwrap();
    assert_eq!(report.format, BundleFormat::V1);
    assert_eq!(report.edge_count, 3);
    let kinds: Vec<&str> = report.edges.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["pod_admit", "tool_call", "artifact_produced"]);
    assert_eq!(report.kids, ["0XLRa1I622CSeni9"]);
    assert_eq!(report.trust_domain.as_deref(), Some("prod.example.com"));
    assert!(report.log.is_none());
    assert!(!report.payload_bound);
    // The wire prev_hash of edge 2 is the computed hash of edge 1.
    let b = json(BASIC);
    assert_eq!(
        report.edges[1].edge_hash_hex,
        b["envelope"]["edges"][2]["proof"]["prev_hash"]
            .as_str()
            .unwrap()
    );
    assert_eq!(report.head_hash_hex, report.edges[2].edge_hash_hex);
}

#[test]
fn basic_fixture_fails_with_a_flipped_edge_signature() {
    let mut b = json(BASIC);
    let sig = b["envelope"]["edges"][0]["proof"]["sig"]
        .as_str()
        .unwrap()
        .to_owned();
    b["envelope"]["edges"][0]["proof"]["sig"] = Value::String(flip_b64(&sig));
    let err = verify_bundle(&bytes(&b), &anchor(BASIC_ANCHOR)).unwrap_err();
    assert_eq!(err.kind(), "bad_signature", "{err}");
}

#[test]
fn anchored_fixture_passes() {
    let report = verify_bundle(ANCHORED.as_bytes(), &anchor(ANCHORED_ANCHOR)).unwrap();
    assert_eq!(report.edge_count, 3);
    let log = report.log.unwrap();
    assert_eq!(log.size, 3);
    assert_eq!(
        log.root_hex,
        "dc27833d299ec13ba623235ffa57c5ca22b28e660389d0ac262fe2ea22dcd67a"
    );
    assert_eq!(log.leaf_indices, [0, 1, 2]);
    assert!(report.cosigners.is_empty());
}

#[test]
fn anchored_fixture_fails_with_a_flipped_tree_head_signature() {
    let mut b = json(ANCHORED);
    let sth = &mut b["envelope"]["merkle_anchor"]["sth"];
    let sig = sth["witness_sig"].as_str().unwrap().to_owned();
    sth["witness_sig"] = Value::String(flip_b64(&sig));
    let err = verify_bundle(&bytes(&b), &anchor(ANCHORED_ANCHOR)).unwrap_err();
    assert_eq!(err.kind(), "bad_checkpoint", "{err}");
}

#[test]
fn anchored_fixture_fails_without_the_pinned_log_key() {
    let mut a = json(ANCHORED_ANCHOR);
    a.as_object_mut()
        .unwrap()
        .remove("trust_witness_pubkey_hex");
    let err = verify_bundle(ANCHORED.as_bytes(), &anchor(&a.to_string())).unwrap_err();
    assert_eq!(err.kind(), "missing_log_key", "{err}");
}

#[test]
fn anchored_fixture_fails_with_a_flipped_edge_signature() {
    for i in 0..3 {
        let mut b = json(ANCHORED);
        let sig = b["envelope"]["edges"][i]["proof"]["sig"]
            .as_str()
            .unwrap()
            .to_owned();
        b["envelope"]["edges"][i]["proof"]["sig"] = Value::String(flip_b64(&sig));
        let err = verify_bundle(&bytes(&b), &anchor(ANCHORED_ANCHOR)).unwrap_err();
        assert_eq!(err.kind(), "bad_signature", "edge {i}: {err}");
    }
}

#[test]
fn signed_v1_fields_are_bound() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "child",
            Box::new(|b| {
                b["envelope"]["edges"][1]["child"] =
                    "spiffe://prod.example.com/ns/agents/sa/summarizer/x".into()
            }),
        ),
        (
            "kind",
            Box::new(|b| b["envelope"]["edges"][2]["kind"] = "merge".into()),
        ),
        (
            "ts",
            Box::new(|b| b["envelope"]["edges"][1]["ts"] = "2026-06-02T22:34:55.103237Z".into()),
        ),
        (
            "content hash",
            Box::new(|b| b["envelope"]["edges"][1]["content_hash_hex"] = "ab".into()),
        ),
        (
            "parents",
            Box::new(|b| {
                b["envelope"]["edges"][2]["parents"] =
                    serde_json::json!(["spiffe://prod.example.com/ns/agents/sa/summarizer"])
            }),
        ),
        (
            "leaf index",
            Box::new(|b| {
                b["envelope"]["merkle_anchor"]["inclusion_proofs"][0]["leaf_index"] = 1.into()
            }),
        ),
        (
            "tree size",
            Box::new(|b| b["envelope"]["merkle_anchor"]["sth"]["tree_size"] = 4.into()),
        ),
        (
            "timestamp",
            Box::new(|b| {
                b["envelope"]["merkle_anchor"]["sth"]["timestamp_ms"] = 1780439695140u64.into()
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut b = json(ANCHORED);
        mutate(&mut b);
        assert!(
            verify_bundle(&bytes(&b), &anchor(ANCHORED_ANCHOR)).is_err(),
            "changing {what} must fail"
        );
    }
}

#[test]
fn offset_timestamps_are_normalised_before_signing() {
    // The same instant written with a +02:00 offset and a padded fraction still verifies.
    let mut b = json(BASIC);
    b["envelope"]["edges"][1]["ts"] = "2026-06-03T00:34:55.103236000+02:00".into();
    verify_bundle(&bytes(&b), &anchor(BASIC_ANCHOR)).unwrap();
}

#[test]
fn missing_trust_jwks_is_refused_instead_of_self_check() {
    let mut a = json(BASIC_ANCHOR);
    a.as_object_mut().unwrap().remove("trust_jwks");
    let err = TrustAnchor::from_json(&a.to_string()).unwrap_err();
    assert_eq!(err.kind(), "invalid_trust_anchor");
    assert!(err.to_string().contains("trust_jwks is required"), "{err}");
}

#[test]
fn unknown_anchor_fields_are_refused() {
    let mut a = json(BASIC_ANCHOR);
    a["cosign_threshold"] = 2.into();
    let err = TrustAnchor::from_json(&a.to_string()).unwrap_err();
    assert_eq!(err.kind(), "invalid_trust_anchor");
    assert!(err.to_string().contains("cosign_threshold"), "{err}");
}

#[test]
fn a_forged_issuer_with_embedded_keys_is_refused() {
    // The attacker re-signs every edge (correct chain) and embeds its own key under the
    // genuine kid: the embedded JWKS is never consulted.
    let attacker = SigningKey::from_bytes(&[0x66; 32]);
    let mut b = json(BASIC);
    let parsed: nucleus_envelope::v1::BundleV1 =
        nucleus_json::from_slice(BASIC.as_bytes()).unwrap();
    let mut prev: Option<[u8; 32]> = None;
    for (i, edge) in parsed.envelope.edges.iter().enumerate() {
        let ts = nucleus_envelope::rfc3339::Instant::parse(&edge.ts).unwrap();
        let msg = nucleus_envelope::v1::canonical::canonical_edge_bytes(edge, &ts, prev.as_ref());
        b["envelope"]["edges"][i]["proof"]["sig"] =
            nucleus_lineage::b64::encode(&attacker.sign(&msg).to_bytes()).into();
        prev = Some(Sha256::digest(&msg).into());
    }
    b["envelope"]["jwks"]["keys"][0]["x"] = base64_url(attacker.verifying_key().as_bytes()).into();
    let err = verify_bundle(&bytes(&b), &anchor(BASIC_ANCHOR)).unwrap_err();
    assert_eq!(err.kind(), "bad_signature", "{err}");
    // The same forgery passes only for an anchor that trusts the attacker's key.
    let mut a = json(BASIC_ANCHOR);
    a["trust_jwks"]["keys"][0]["x"] = base64_url(attacker.verifying_key().as_bytes()).into();
    verify_bundle(&bytes(&b), &anchor(&a.to_string())).unwrap();
    a["trust_jwks"]["keys"][0]["kid"] = "other".into();
    let err = verify_bundle(&bytes(&b), &anchor(&a.to_string())).unwrap_err();
    assert_eq!(err.kind(), "unknown_kid", "{err}");
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn empty_bundle() -> Value {
    let mut b = json(BASIC);
    b["envelope"]["edges"] = serde_json::json!([]);
    b
}

#[test]
fn allow_empty_does_not_skip_the_other_gates() {
    let b = bytes(&empty_bundle());
    let err = verify_bundle(&b, &anchor(BASIC_ANCHOR)).unwrap_err();
    assert_eq!(err.kind(), "empty_envelope");
    let mut a = json(BASIC_ANCHOR);
    a["allow_empty"] = true.into();
    let report = verify_bundle(&b, &anchor(&a.to_string())).unwrap();
    assert_eq!(report.edge_count, 0);
    assert_eq!(report.head_hash_hex, "");
    // Upstream returned OK before these gates; here they still apply.
    a["require_payload_binding"] = true.into();
    let err = verify_bundle(&b, &anchor(&a.to_string())).unwrap_err();
    assert_eq!(err.kind(), "missing_payload_binding");
    a["require_payload_binding"] = false.into();
    a["trusted_witnesses_hex"] = serde_json::json!([hex::encode(
        SigningKey::from_bytes(&[1; 32]).verifying_key().as_bytes()
    )]);
    a["cosignature_threshold"] = 1.into();
    let err = verify_bundle(&b, &anchor(&a.to_string())).unwrap_err();
    assert_eq!(err.kind(), "insufficient_cosignatures");
}

#[test]
fn policies_with_k_zero_or_unsatisfiable_thresholds_are_refused() {
    let w = hex::encode(SigningKey::from_bytes(&[1; 32]).verifying_key().as_bytes());
    let mut a = json(BASIC_ANCHOR);
    a["policy"] = format!("witness w1 {w}\ngroup g 0 w1\nquorum g\n").into();
    let err = TrustAnchor::from_json(&a.to_string()).unwrap_err();
    assert_eq!(err.kind(), "invalid_trust_anchor", "{err}");
    let mut a = json(BASIC_ANCHOR);
    a["trusted_witnesses_hex"] = serde_json::json!([w, w]);
    a["cosignature_threshold"] = 2.into();
    let err = TrustAnchor::from_json(&a.to_string()).unwrap_err();
    assert!(err.to_string().contains("could never be met"), "{err}");
}

/// Adds cosignatures to the anchored fixture (re-signing its tree head is not needed: the
/// cosignatures sign the same tree head).
fn anchored_with_cosigs(cosigs: Vec<Value>) -> Value {
    let mut b = json(ANCHORED);
    b["envelope"]["merkle_anchor"]["sth"]["cosignatures"] = Value::Array(cosigs);
    b
}

fn witness(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[0x50 + i; 32])
}

fn sth_msg(b: &Value) -> [u8; 48] {
    let sth = &b["envelope"]["merkle_anchor"]["sth"];
    let root: [u8; 32] = hex::decode(sth["root_hash_hex"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    sth_message(
        sth["tree_size"].as_u64().unwrap(),
        sth["timestamp_ms"].as_u64().unwrap(),
        &root,
    )
}

fn nucleus_cosig(key: &SigningKey, msg: &[u8]) -> Value {
    serde_json::json!({
        "witness_kid": "ignored",
        "signature": nucleus_lineage::b64::encode(&key.sign(msg).to_bytes()),
        "timestamp_ms": 1,
    })
}

fn witness_anchor(threshold: usize) -> Value {
    let mut a = json(ANCHORED_ANCHOR);
    a["trusted_witnesses_hex"] = (0..3)
        .map(|i| Value::String(hex::encode(witness(i).verifying_key().as_bytes())))
        .collect();
    a["cosignature_threshold"] = threshold.into();
    a
}

#[test]
fn v1_cosignature_threshold_counts_distinct_trusted_witnesses() {
    let msg = sth_msg(&json(ANCHORED));
    let b = anchored_with_cosigs(vec![
        nucleus_cosig(&witness(0), &msg),
        nucleus_cosig(&witness(1), &msg),
    ]);
    let report = verify_bundle(&bytes(&b), &anchor(&witness_anchor(2).to_string())).unwrap();
    assert_eq!(report.cosigners.len(), 2);
    // The same witness twice counts once.
    let b = anchored_with_cosigs(vec![
        nucleus_cosig(&witness(0), &msg),
        nucleus_cosig(&witness(0), &msg),
    ]);
    let err = verify_bundle(&bytes(&b), &anchor(&witness_anchor(2).to_string())).unwrap_err();
    assert_eq!(err.kind(), "insufficient_cosignatures", "{err}");
    // An untrusted witness does not count.
    let b = anchored_with_cosigs(vec![
        nucleus_cosig(&witness(0), &msg),
        nucleus_cosig(&SigningKey::from_bytes(&[9; 32]), &msg),
    ]);
    let err = verify_bundle(&bytes(&b), &anchor(&witness_anchor(2).to_string())).unwrap_err();
    assert_eq!(err.kind(), "insufficient_cosignatures", "{err}");
}

#[test]
fn v1_c2sp_cosignatures_bare_and_cosignature_v1() {
    let origin = "example.com/v1-log";
    let b0 = json(ANCHORED);
    let sth = &b0["envelope"]["merkle_anchor"]["sth"];
    let root: [u8; 32] = hex::decode(sth["root_hash_hex"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let body = nucleus_envelope::v1::canonical::checkpoint_body(origin, 3, &root);
    let bare = serde_json::json!({
        "witness_kid": "w0", "kind": "c2sp", "timestamp_ms": 0,
        "signature": nucleus_lineage::b64::encode(&witness(0).sign(body.as_bytes()).to_bytes()),
    });
    let ts: u64 = 1_790_000_000;
    let mut blob = ts.to_be_bytes().to_vec();
    blob.extend_from_slice(
        &witness(1)
            .sign(&nucleus_lineage::cosignature_message(&body, ts))
            .to_bytes(),
    );
    let v1line = serde_json::json!({
        "witness_kid": "w1", "kind": "c2sp", "timestamp_ms": 0,
        "signature": nucleus_lineage::b64::encode(&blob),
    });
    let b = anchored_with_cosigs(vec![bare, v1line]);
    // c2sp cosignatures need the origin from the anchor.
    let err = verify_bundle(&bytes(&b), &anchor(&witness_anchor(2).to_string())).unwrap_err();
    assert_eq!(err.kind(), "invalid_trust_anchor", "{err}");
    let mut a = witness_anchor(2);
    a["origin"] = origin.into();
    let report = verify_bundle(&bytes(&b), &anchor(&a.to_string())).unwrap();
    assert_eq!(report.cosigners.len(), 2);
    assert_eq!(report.cosigners[1].timestamp, Some(ts));
    a["origin"] = "example.com/other-log".into();
    let err = verify_bundle(&bytes(&b), &anchor(&a.to_string())).unwrap_err();
    assert_eq!(err.kind(), "insufficient_cosignatures", "{err}");
}

#[test]
fn v1_policy_is_enforced() {
    let msg = sth_msg(&json(ANCHORED));
    let mut policy = String::new();
    for (i, n) in ["wa", "wb", "wc"].iter().enumerate() {
        policy.push_str(&format!(
            "witness {n} {}\n",
            hex::encode(witness(i as u8).verifying_key().as_bytes())
        ));
    }
    policy.push_str("group g 2 wa wb wc\nquorum g\n");
    let mut a = json(ANCHORED_ANCHOR);
    a["policy"] = policy.into();
    let one = anchored_with_cosigs(vec![nucleus_cosig(&witness(2), &msg)]);
    let err = verify_bundle(&bytes(&one), &anchor(&a.to_string())).unwrap_err();
    assert_eq!(err.kind(), "quorum_not_satisfied", "{err}");
    let two = anchored_with_cosigs(vec![
        nucleus_cosig(&witness(2), &msg),
        nucleus_cosig(&witness(0), &msg),
    ]);
    let report = verify_bundle(&bytes(&two), &anchor(&a.to_string())).unwrap();
    assert_eq!(report.quorum_satisfied, Some(true));
    let names: Vec<_> = report
        .cosigners
        .iter()
        .map(|c| c.policy_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["wc", "wa"]);
}

/// A second issuer key the anchor also trusts, to sign payload bindings with (the fixture's
/// issuer key is not ours).
fn binder_anchor() -> (SigningKey, Value) {
    let binder = SigningKey::from_bytes(&[0x77; 32]);
    let mut a = json(BASIC_ANCHOR);
    let jwk =
        serde_json::to_value(nucleus_envelope::Jwk::from_ed25519(&binder.verifying_key())).unwrap();
    a["trust_jwks"]["keys"].as_array_mut().unwrap().push(jwk);
    (binder, a)
}

/// Binds `b`'s payload as upstream does: SHA-256 of serde_json's compact, key-sorted
/// re-serialization (the oracle here is serde_json itself, not our writer).
fn bind_payload(b: &mut Value, binder: &SigningKey, anchor: &TrustAnchor) {
    let head_hex = verify_bundle(&bytes(b), anchor).unwrap().head_hash_hex;
    let head: [u8; 32] = hex::decode(&head_hex).unwrap().try_into().unwrap();
    let ph: [u8; 32] = Sha256::digest(serde_json::to_string(&b["payload"]).unwrap()).into();
    let msg = binding_message("application/vnd.nucleus.bundle+json", &ph, &head, None);
    b["binding"] = serde_json::json!({
        "payload_type": "application/vnd.nucleus.bundle+json",
        "payload_hash_hex": hex::encode(ph),
        "envelope_head_hash_hex": head_hex,
        "keyid": nucleus_envelope::kid_for(&binder.verifying_key()),
        "signature": nucleus_lineage::b64::encode(&binder.sign(&msg).to_bytes()),
    });
}

#[test]
fn v1_payload_binding_on_and_off() {
    let (binder, mut a) = binder_anchor();
    let mut b = json(BASIC);
    bind_payload(&mut b, &binder, &anchor(&a.to_string()));
    a["require_payload_binding"] = true.into();
    let strict = anchor(&a.to_string());
    let report = verify_bundle(&bytes(&b), &strict).unwrap();
    assert!(report.payload_bound);
    // Without the binding, a strict anchor refuses; a lax one accepts but reports unbound.
    let err = verify_bundle(BASIC.as_bytes(), &strict).unwrap_err();
    assert_eq!(err.kind(), "missing_payload_binding");
    // A swapped payload fails.
    let mut swapped = b.clone();
    swapped["payload"]["summary"] = "something else".into();
    let err = verify_bundle(&bytes(&swapped), &strict).unwrap_err();
    assert_eq!(err.kind(), "bad_payload_binding", "{err}");
    // Key order in the payload does not matter (sorted canonical bytes).
    let reordered = BASIC.replacen(
        "\"stats\": {\n      \"input_bytes\": 11,\n      \"output_bytes\": 17\n    },\n    \"summary\": \"summarized output\"",
        "\"summary\": \"summarized output\",\n    \"stats\": {\n      \"output_bytes\": 17,\n      \"input_bytes\": 11\n    }",
        1,
    );
    assert_ne!(reordered, BASIC);
    let mut rb = json(&reordered);
    rb["binding"] = b["binding"].clone();
    verify_bundle(&bytes(&rb), &strict).unwrap();
}

#[test]
fn v1_payload_numbers_hash_as_upstream_or_are_refused() {
    let (binder, mut a) = binder_anchor();
    let lax = anchor(&a.to_string());
    a["require_payload_binding"] = true.into();
    let strict = anchor(&a.to_string());
    // Number spellings that serde_json rewrites (`2.50` → `2.5`, `1e3` → `1000.0`, `1e21` →
    // `1e+21`): the binding, made over serde_json's bytes, verifies.
    let mut b = json(BASIC);
    let payload = r#"{"z":[2.50,1e3,-0.0,1e21,0.000001,12345678901234.5],"a":{"n":-7,"big":18446744073709551615}}"#;
    b["payload"] = serde_json::from_str(payload).unwrap();
    bind_payload(&mut b, &binder, &lax);
    let text = String::from_utf8(bytes(&b))
        .unwrap()
        .replace(&serde_json::to_string(&b["payload"]).unwrap(), payload);
    assert!(
        text.contains("2.50,1e3"),
        "the bundle carries the original spelling"
    );
    assert!(
        verify_bundle(text.as_bytes(), &strict)
            .unwrap()
            .payload_bound
    );

    // A double written with 17 significant digits: its bytes depend on the producer's
    // rounding, so a binding over it is refused, with the reason.
    let mut b = json(BASIC);
    b["payload"] = serde_json::json!({"score": 0.30000000000000004});
    bind_payload(&mut b, &binder, &lax);
    let err = verify_bundle(&bytes(&b), &strict).unwrap_err();
    assert_eq!(err.kind(), "bad_payload_binding");
    assert!(
        err.to_string().contains("more than 15 significant digits"),
        "{err}"
    );
    // Unbound, the payload is never hashed, and the bundle verifies.
    b.as_object_mut().unwrap().remove("binding");
    let report = verify_bundle(&bytes(&b), &lax).unwrap();
    assert!(!report.payload_bound);
}

#[test]
fn v1_duplicate_member_names_are_refused_anywhere() {
    // Upstream's serde_json keeps the last duplicate (in the payload) or errors (in typed
    // members); either way a second reader could disagree, so any duplicate is refused.
    for (find, replace) in [
        (
            "\"summary\": \"summarized output\"",
            "\"summary\": \"x\", \"summary\": \"summarized output\"",
        ),
        (
            "\"session_root\":",
            "\"session_root\": \"spiffe://a/b\", \"session_root\":",
        ),
    ] {
        assert!(BASIC.contains(find), "{find}");
        let text = BASIC.replacen(find, replace, 1);
        let err = verify_bundle(text.as_bytes(), &anchor(BASIC_ANCHOR)).unwrap_err();
        assert_eq!(err.kind(), "malformed_bundle", "{err}");
        assert!(
            err.to_string().contains("duplicate JSON member name"),
            "{err}"
        );
    }
}

#[test]
fn v1_unknown_fields_follow_upstream() {
    // Unknown top-level or envelope members are parse errors.
    let mut b = json(BASIC);
    b["extra"] = 1.into();
    assert_eq!(
        verify_bundle(&bytes(&b), &anchor(BASIC_ANCHOR))
            .unwrap_err()
            .kind(),
        "malformed_bundle"
    );
    // Unknown edge members are ignored (and not signed, so not reported).
    let mut b = json(BASIC);
    b["envelope"]["edges"][1]["note"] = "unsigned".into();
    b["envelope"]["edges"][1]["attrs"] = serde_json::json!({"a": "b"});
    let report = verify_bundle(&bytes(&b), &anchor(BASIC_ANCHOR)).unwrap();
    assert!(report.edges[1].attrs.is_empty());
    // An unknown kind tag is a parse error.
    let mut b = json(BASIC);
    b["envelope"]["edges"][2]["kind"] = "teleport".into();
    assert_eq!(
        verify_bundle(&bytes(&b), &anchor(BASIC_ANCHOR))
            .unwrap_err()
            .kind(),
        "malformed_bundle"
    );
}

#[test]
fn v1_tree_head_signed_by_the_fixture_log_key() {
    // The fixture's tree head verifies under seed 0x2a, as its README says.
    let b = json(ANCHORED);
    let sig = nucleus_lineage::b64::encode(&log_key().sign(&sth_msg(&b)).to_bytes());
    assert_eq!(
        b["envelope"]["merkle_anchor"]["sth"]["witness_sig"]
            .as_str()
            .unwrap(),
        sig
    );
}
