//! The derived quorum vectors (testdata/quorum, copied from shared/testdata/c2sp/derived/quorum
//! with their README credit): all 14 checkpoints x 4 policies x both policy syntaxes, in both
//! invalid-cosignature modes; plus the Sigsum seed17 checkpoint and real Armored Witness and
//! ML-DSA-44 cosignatures.

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use nucleus_lineage::policy::Policy;
use nucleus_lineage::quorum::{
    InvalidCosignatures, QuorumError, verify_cosigned_checkpoint, verify_cosigned_checkpoint_with,
};
use nucleus_lineage::signed_note::{Note, NoteSigner};
use nucleus_lineage::vkey::Vkey;
use serde_json::Value;

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(testdata(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const POLICIES: [&str; 4] = ["p1-3of5", "p2-nested", "p3-single-w1", "p4-none"];
/// (file extension, expected.json key for that matching mode)
const SYNTAXES: [(&str, &str); 2] = [
    ("tlog-policy", "quorum_tlog_policy_vkey"),
    ("sigsum-policy", "quorum_sigsum_hexkey"),
];

/// Policy witness `WN` is vector witness `wN.example`.
fn key_name(policy_name: &str) -> String {
    format!("w{}.example", &policy_name[1..])
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn derived_quorum_matrix() {
    let expected: Value = serde_json::from_str(&read("quorum/expected.json")).unwrap();
    let cases = expected["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 14);
    let origin = Vkey::parse(expected["log_vkey"].as_str().unwrap())
        .unwrap()
        .name;
    let mut checked = 0;
    for (case, exp) in cases {
        let note = std::fs::read(testdata(&format!("quorum/{case}.checkpoint"))).unwrap();
        let verified = strings(&exp["verified_known_witnesses"]);
        let bad = strings(&exp["known_witness_with_bad_signature"]);
        let strict_rejects = exp["strict_signed_note_semantics"]
            .as_str()
            .unwrap()
            .starts_with("REJECT");
        assert_eq!(strict_rejects, !bad.is_empty(), "{case}");
        for (ext, mode_key) in SYNTAXES {
            for policy_name in POLICIES {
                let ctx = format!("{case} {policy_name}.{ext}");
                let policy = Policy::parse(&read(&format!("quorum/policies/{policy_name}.{ext}")))
                    .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                let report = verify_cosigned_checkpoint(&note, &[], &policy)
                    .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                assert_eq!(report.checkpoint.origin, origin, "{ctx}");
                assert_eq!(report.checkpoint.size, 5, "{ctx}");
                assert_eq!(report.log_signatures, vec![origin.clone()], "{ctx}");
                assert_eq!(
                    report.satisfied,
                    exp[mode_key][policy_name].as_bool().unwrap(),
                    "{ctx}"
                );

                let in_policy = |names: &[String]| -> Vec<String> {
                    policy
                        .witnesses
                        .iter()
                        .map(|w| w.name.clone())
                        .filter(|n| names.contains(&key_name(n)))
                        .collect()
                };
                let mut expected_counted = verified.clone();
                // c13: W3's key signs under the name alias.example. Sigsum hex matching
                // recomputes the key ID from the line's name and counts it; vkey matching
                // requires the vkey's name and does not (README, derived/quorum).
                if case == "c13-w1-w2-w3alias" && ext == "sigsum-policy" {
                    expected_counted.push("w3.example".into());
                }
                assert_eq!(report.counted, in_policy(&expected_counted), "{ctx}");
                assert_eq!(report.invalid, in_policy(&bad), "{ctx}");
                for (i, name) in report.counted.iter().enumerate() {
                    let n: u64 = name[1..].parse().unwrap();
                    assert_eq!(report.timestamps[name], 1_700_000_000 + n, "{ctx} {i}");
                }

                // Lines that match no policy witness are reported, not counted.
                let unknown_expected: &[&str] = match case.as_str() {
                    "c10-w1-w2-unknown" => &["w9.example"],
                    "c11-w1-w2-w3renamed" => &["w3-renamed.example"],
                    "c13-w1-w2-w3alias" if ext == "tlog-policy" => &["alias.example"],
                    _ => &[],
                };
                for name in unknown_expected {
                    assert!(report.unknown.iter().any(|u| u == name), "{ctx}: {name}");
                }

                // Strict mode: rejects exactly when a policy witness has a bad line;
                // otherwise it agrees with the default mode.
                let strict = verify_cosigned_checkpoint_with(
                    &note,
                    &[],
                    &policy,
                    InvalidCosignatures::Reject,
                );
                if report.invalid.is_empty() {
                    assert_eq!(strict.as_ref(), Ok(&report), "{ctx}");
                } else {
                    match strict {
                        Err(QuorumError::InvalidCosignature { witness, .. }) => {
                            assert!(report.invalid.contains(&witness), "{ctx}")
                        }
                        other => panic!("{ctx}: strict mode gave {other:?}"),
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 14 * 4 * 2);
}

/// The log key can also come from the caller instead of the policy.
#[test]
fn derived_log_key_from_caller() {
    let expected: Value = serde_json::from_str(&read("quorum/expected.json")).unwrap();
    let log = Vkey::parse(expected["log_vkey"].as_str().unwrap()).unwrap();
    let note = std::fs::read(testdata("quorum/c07-all5.checkpoint")).unwrap();
    let text = read("quorum/policies/p1-3of5.tlog-policy");
    let without_log: String = text
        .lines()
        .filter(|l| !l.starts_with("log "))
        .map(|l| format!("{l}\n"))
        .collect();
    let policy = Policy::parse(&without_log).unwrap();
    assert!(matches!(
        verify_cosigned_checkpoint(&note, &[], &policy),
        Err(QuorumError::NoLogKeys { .. })
    ));
    let report = verify_cosigned_checkpoint(&note, &[log], &policy).unwrap();
    assert!(report.satisfied);
    assert_eq!(report.counted, ["W1", "W2", "W3", "W4", "W5"]);
}

#[test]
fn sigsum_seed17_checkpoint() {
    let note = std::fs::read(testdata("sigsum/checkpoint/seed17-size10.checkpoint")).unwrap();
    let vkeys = read("sigsum/vkey/vkeys.txt");
    let value = |prefix: &str| -> String {
        vkeys
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap()
            .split('\t')
            .nth(1)
            .unwrap()
            .to_owned()
    };
    for log_line in [value("seed17 log hex"), value("seed17 log vkey")] {
        let policy = Policy::parse(&format!("log {log_line}\nquorum none\n")).unwrap();
        let report = verify_cosigned_checkpoint(&note, &[], &policy).unwrap();
        assert!(report.satisfied);
        assert_eq!(report.checkpoint.size, 10);
        assert!(report.counted.is_empty() && report.invalid.is_empty());
    }
    // A different log key (the litewitness test log) does not verify it.
    let other = Policy::parse(&format!(
        "log {}\nquorum none\n",
        value("litewitness-test-log hex")
    ))
    .unwrap();
    assert!(matches!(
        verify_cosigned_checkpoint(&note, &[], &other),
        Err(QuorumError::LogSignature(_))
    ));
}

/// Adds an Ed25519 log line (key seed 0x42, named after the origin) to a real note whose
/// own log line we cannot or do not want to use; cosignatures do not cover log lines.
fn with_our_log_line(path: &str) -> (Vec<u8>, String) {
    let mut note = Note::parse(&std::fs::read(testdata(path)).unwrap()).unwrap();
    let origin = note.text.lines().next().unwrap().to_owned();
    let log = NoteSigner::new(&origin, SigningKey::from_bytes(&[0x42; 32])).unwrap();
    note.signatures.insert(0, log.sign(&note.text));
    let log_hex = hex::encode(&log.vkey().public_key);
    (note.to_bytes(), log_hex)
}

/// Armored Witness devices publish 0x01 vkeys; the policy converts them and their real
/// production cosignatures count, under vkey and under Sigsum hex matching.
#[test]
fn armored_witness_real_cosignatures() {
    let (note, log_hex) = with_our_log_line("quorum/real/pixel-armoredwitness.checkpoint");
    let small = read("quorum/real/armoredwitness-small-breeze.vkey");
    let autumn = read("quorum/real/armoredwitness-autumn-wood.vkey");
    let (small, autumn) = (small.trim(), autumn.trim());
    let hex_of = |v: &str| hex::encode(Vkey::parse(v).unwrap().public_key);
    for (a, b) in [
        (small.to_owned(), autumn.to_owned()),
        (hex_of(small), hex_of(autumn)),
    ] {
        let policy = Policy::parse(&format!(
            "log {log_hex}\nwitness sb {a}\nwitness aw {b}\ngroup both all sb aw\nquorum both\n"
        ))
        .unwrap();
        let report = verify_cosigned_checkpoint(&note, &[], &policy).unwrap();
        assert!(report.satisfied, "{report:?}");
        assert_eq!(report.counted, ["sb", "aw"]);
        assert_eq!(report.timestamps["sb"], 1_738_713_836);
        assert_eq!(report.timestamps["aw"], 1_738_713_829);
        // The ECDSA log line is an unknown line, ignored.
        assert_eq!(report.unknown, ["pixel_transparency_log"]);
    }
}

/// A 0x06 (ML-DSA-44) witness key counts when its subtree/v1 cosignature verifies.
#[test]
fn ml_dsa_witness_cosignature_counts() {
    let (note, log_hex) = with_our_log_line("quorum/real/mldsa44-log-signed.checkpoint");
    let vkey = read("quorum/real/mldsa44-log.vkey");
    let policy = Policy::parse(&format!(
        "log {log_hex}\nwitness M {}\nquorum M\n",
        vkey.trim()
    ))
    .unwrap();
    let report = verify_cosigned_checkpoint(&note, &[], &policy).unwrap();
    assert!(report.satisfied, "{report:?}");
    assert_eq!(report.counted, ["M"]);
    assert_eq!(report.timestamps["M"], 0);

    // The same line over another checkpoint (size changed) is invalid and does not count.
    let mut parsed = Note::parse(&note).unwrap();
    parsed.text = parsed.text.replacen("\n1\n", "\n2\n", 1);
    let log = NoteSigner::new(
        parsed.text.lines().next().unwrap(),
        SigningKey::from_bytes(&[0x42; 32]),
    )
    .unwrap();
    parsed.signatures[0] = log.sign(&parsed.text);
    let report = verify_cosigned_checkpoint(&parsed.to_bytes(), &[], &policy).unwrap();
    assert!(!report.satisfied);
    assert_eq!(report.invalid, ["M"]);
    assert!(report.counted.is_empty());
}
