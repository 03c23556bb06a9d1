//! Every policy vector in testdata/sigsum (copied from shared/testdata/sigsum, see its
//! README.md for credit) produces what that README and expected.json say.

use std::collections::BTreeSet;
use std::path::PathBuf;

use nucleus_lineage::policy::{
    Policy, PolicyErrorKind, PolicyKey, Quorum, Threshold, sigsum_log_origin,
};
use nucleus_lineage::vkey::{KeyType, Vkey, key_id};
use serde_json::Value;

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/sigsum")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(testdata(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_bytes(path: &str) -> Vec<u8> {
    std::fs::read(testdata(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn expected() -> Value {
    serde_json::from_str(&read("policy/cases/expected.json")).unwrap()
}

fn names(prefix: &str, indices: &Value) -> BTreeSet<String> {
    indices
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{prefix}{}", i.as_u64().unwrap()))
        .collect()
}

#[test]
fn valid_nested_counts_and_quorum_table() {
    let policy = Policy::parse(&read("policy/cases/valid-nested.policy")).unwrap();
    let exp = &expected()["valid-nested.policy"];
    assert_eq!(policy.logs.len() as u64, exp["logs"].as_u64().unwrap());
    assert_eq!(
        policy.witnesses.len() as u64,
        exp["witnesses"].as_u64().unwrap()
    );
    let logs_with_url = policy.logs.iter().filter(|l| l.url.is_some()).count();
    let witnesses_with_url = policy.witnesses.iter().filter(|w| w.url.is_some()).count();
    assert_eq!(logs_with_url as u64, exp["logs_with_url"].as_u64().unwrap());
    assert_eq!(
        witnesses_with_url as u64,
        exp["witnesses_with_url"].as_u64().unwrap()
    );
    // The witness index of expected.json: index N is witness WN with the key letter given.
    for (index, label) in exp["witness_index"].as_object().unwrap() {
        let label = label.as_str().unwrap();
        let letter = label.split('(').nth(1).unwrap().chars().next().unwrap();
        let witness = policy.witness(&format!("W{index}")).unwrap();
        assert_eq!(
            witness.key,
            PolicyKey::Hex(
                hex::decode(letter.to_string().repeat(64))
                    .unwrap()
                    .try_into()
                    .unwrap()
            ),
            "{label}"
        );
    }
    assert_eq!(policy.quorum, Quorum::Name("G3".into()));
    let table = exp["quorum_table"].as_array().unwrap();
    assert_eq!(table.len(), 9);
    for row in table {
        let set = names("W", &row[0]);
        assert_eq!(
            policy.is_satisfied(&set),
            row[1].as_bool().unwrap(),
            "{set:?}"
        );
    }
}

#[test]
fn valid_numeric_threshold_quorum_table() {
    let policy = Policy::parse(&read("policy/cases/valid-numeric-threshold.policy")).unwrap();
    let exp = &expected()["valid-numeric-threshold.policy"];
    assert_eq!(policy.logs.len() as u64, exp["logs"].as_u64().unwrap());
    assert_eq!(
        policy.witnesses.len() as u64,
        exp["witnesses"].as_u64().unwrap()
    );
    assert_eq!(
        policy.group("B-group").unwrap().threshold,
        Threshold::AtLeast(2)
    );
    let table = exp["quorum_table_A_B"].as_array().unwrap();
    assert_eq!(table.len(), 14);
    for row in table {
        let mut set = names("A", &row[0]);
        set.extend(names("B", &row[1]));
        assert_eq!(
            policy.is_satisfied(&set),
            row[2].as_bool().unwrap(),
            "{set:?}"
        );
    }
}

/// Checks an error kind.
type KindCheck = fn(&PolicyErrorKind) -> bool;

/// Each invalid case fails at the expected line with the expected kind; where our wording
/// covers the upstream error, the upstream substring from expected.json appears in ours.
#[test]
fn invalid_cases_fail_with_line_and_reason() {
    let exp = expected();
    let invalid = exp["invalid"].as_object().unwrap();
    let cases: &[(&str, usize, KindCheck)] = &[
        ("invalid-empty.policy", 1, |k| {
            matches!(k, PolicyErrorKind::MissingQuorum)
        }),
        ("invalid-formfeed.policy", 1, |k| {
            matches!(k, PolicyErrorKind::ControlCharacter(0x0c))
        }),
        ("invalid-del.policy", 1, |k| {
            matches!(k, PolicyErrorKind::ControlCharacter(0x7f))
        }),
        ("invalid-duplicate-log.policy", 3, |k| {
            matches!(k, PolicyErrorKind::DuplicateLogKey { first_line: 2 })
        }),
        (
            "invalid-eol-comment.policy",
            2,
            |k| matches!(k, PolicyErrorKind::EndOfLineComment(c) if c == "#comment"),
        ),
        ("invalid-duplicate-witness-key.policy", 3, |k| {
            matches!(k, PolicyErrorKind::DuplicateWitnessKey { first_line: 2 })
        }),
        (
            "invalid-duplicate-name.policy",
            3,
            |k| matches!(k, PolicyErrorKind::DuplicateName { name, first_line: 2 } if name == "W1"),
        ),
        ("invalid-witness-named-none.policy", 2, |k| {
            matches!(k, PolicyErrorKind::NoneRedefined)
        }),
        (
            "invalid-undefined-member.policy",
            4,
            |k| matches!(k, PolicyErrorKind::UndefinedName(n) if n == "W3"),
        ),
        ("invalid-missing-quorum.policy", 5, |k| {
            matches!(k, PolicyErrorKind::MissingQuorum)
        }),
        (
            "invalid-repeated-member.policy",
            4,
            |k| matches!(k, PolicyErrorKind::AlreadyMember { name, group } if name == "W1" && group == "G"),
        ),
        (
            "invalid-member-in-two-groups.policy",
            6,
            |k| matches!(k, PolicyErrorKind::AlreadyMember { name, group } if name == "W2" && group == "G1"),
        ),
        ("invalid-none-as-member.policy", 4, |k| {
            matches!(k, PolicyErrorKind::NoneAsMember)
        }),
    ];
    assert_eq!(
        cases.len(),
        invalid.len(),
        "every invalid vector is covered"
    );
    for (file, line, kind_ok) in cases {
        let text = read(&format!("policy/cases/{file}"));
        let err = Policy::parse(&text).expect_err(file);
        assert_eq!(err.line, *line, "{file}: {err}");
        assert!(kind_ok(&err.kind), "{file}: {err:?}");
        // Same result through the bytes entry point.
        assert_eq!(
            Policy::parse_bytes(text.as_bytes()).unwrap_err(),
            err,
            "{file}"
        );
        let upstream = invalid[*file].as_str().unwrap();
        if *file != "invalid-eol-comment.policy" {
            assert!(
                err.to_string().contains(upstream),
                "{file}: {err} lacks {upstream:?}"
            );
        }
    }
}

#[test]
fn builtin_policies_parse() {
    let generic = Policy::parse(&read("policy/builtin/sigsum-generic-2025-1.builtin-policy"))
        .expect("generic");
    assert_eq!((generic.logs.len(), generic.witnesses.len()), (2, 3));
    assert_eq!(generic.logs.iter().filter(|l| l.url.is_some()).count(), 2);
    assert_eq!(generic.quorum, Quorum::Name("quorum-rule".into()));
    assert_eq!(
        generic.describe_quorum(),
        "2 of (witness.glasklar.is, witness.mullvad.net, tillitis.se/tillitis-witness-1)"
    );
    let two: BTreeSet<String> = ["witness.glasklar.is", "tillitis.se/tillitis-witness-1"]
        .map(String::from)
        .into();
    assert!(generic.is_satisfied(&two));
    assert!(!generic.is_satisfied(&["witness.mullvad.net".to_owned()].into()));

    let test3_text = read("policy/builtin/sigsum-test-2025-3.builtin-policy");
    let test3 = Policy::parse(&test3_text).expect("test-2025-3");
    // The README says 9 witnesses; the file has 8 `witness` lines (all group members), and
    // every one of them is parsed.
    let witness_lines = test3_text
        .lines()
        .filter(|l| l.starts_with("witness "))
        .count();
    assert_eq!(witness_lines, 8);
    assert_eq!(
        (test3.logs.len(), test3.witnesses.len()),
        (2, witness_lines)
    );
    let sub = test3.group("glasklar-test-witnesses").unwrap();
    assert_eq!(
        (sub.threshold, sub.members.len()),
        (Threshold::AtLeast(2), 3)
    );
    let top = test3.group("quorum-rule").unwrap();
    assert_eq!(
        (top.threshold, top.members.len()),
        (Threshold::AtLeast(4), 6)
    );
    // The 2-of-3 subgroup counts as one member of the 4-of-6 group.
    let mut set: BTreeSet<String> = [
        "remora.n621.de",
        "witness.stagemole.eu",
        "tillitis.se/test-witness-1",
        "poc.sigsum.org/nisse",
    ]
    .map(String::from)
    .into();
    assert!(!test3.is_satisfied(&set));
    set.insert("rgdd.se/poc-witness".into());
    assert!(test3.is_satisfied(&set));

    for (file, witnesses) in [
        ("sigsum-test1-2025.builtin-policy", 3),
        ("sigsum-test2-2025.builtin-policy", 7),
    ] {
        let p = Policy::parse(&read(&format!("policy/builtin/{file}"))).expect(file);
        assert_eq!(p.witnesses.len(), witnesses, "{file}");
        assert_eq!(p.logs.len(), 1, "{file}");
        // Comments contain UTF-8 (Niels Möller): the bytes entry point agrees.
        assert_eq!(
            Policy::parse_bytes(&read_bytes(&format!("policy/builtin/{file}"))).unwrap(),
            p
        );
    }
}

fn vkey_key(policy: &Policy, name: &str) -> Vkey {
    match &policy.witness(name).unwrap().key {
        PolicyKey::Vkey(v) => v.clone(),
        other => panic!("{name}: expected a vkey, got {other:?}"),
    }
}

/// Our dialect choice for the transparency-dev/formats flavour: vkeys are accepted and 0x01
/// witness vkeys are converted to 0x04, but inline comments and duplicate keys are refused.
#[test]
fn formats_flavour_tidy_parses_with_converted_keys() {
    let tidy = Policy::parse(&read("policy/formats-flavour/tidy.policy")).unwrap();
    let g1 = tidy.group("g1").unwrap();
    assert_eq!(g1.threshold.required(g1.members.len()), 2);
    assert_eq!(g1.members.len(), 2);
    let w1 = vkey_key(&tidy, "w1");
    assert_eq!(
        (w1.name.as_str(), w1.key_type, w1.key_id),
        ("sigsum.org", KeyType::Cosignature, 0x8dc3_9d42)
    );
    let w2 = vkey_key(&tidy, "w2");
    assert_eq!(
        (w2.name.as_str(), w2.key_type, w2.key_id),
        ("example.com", KeyType::Cosignature, 0x2013_a75c)
    );
    assert_eq!(
        tidy.witness("w1").unwrap().url.as_deref(),
        Some("https://sigsum.org/witness/")
    );
}

#[test]
fn formats_flavour_inline_comments_are_refused() {
    let text = read("policy/formats-flavour/whitespace-and-inline-comments.policy");
    let err = Policy::parse(&text).unwrap_err();
    assert_eq!(err.line, 4);
    assert!(matches!(err.kind, PolicyErrorKind::EndOfLineComment(_)));
    // Without the inline comment the odd whitespace is fine and means the same as tidy.
    let stripped: String = text
        .lines()
        .map(|l| match l.find(" #") {
            Some(i) if !l.trim_start().starts_with('#') => &l[..i],
            _ => l,
        })
        .flat_map(|l| [l, "\n"])
        .collect();
    let tidy = Policy::parse(&read("policy/formats-flavour/tidy.policy")).unwrap();
    assert_eq!(Policy::parse(&stripped).unwrap(), tidy);
}

#[test]
fn formats_flavour_mixed_key_types() {
    let text = read("policy/formats-flavour/mixed-key-types.policy");
    // w2 and w3 wrap the same key: refused here (formats accepts it).
    let err = Policy::parse(&text).unwrap_err();
    assert_eq!(err.line, 4);
    assert_eq!(
        err.kind,
        PolicyErrorKind::DuplicateWitnessKey { first_line: 3 }
    );
    // Without the duplicate, the mix of 0x01 and 0x04 vkeys parses.
    let fixed: String = text
        .lines()
        .filter(|l| !l.starts_with("witness w3 "))
        .map(|l| l.replace("2 w1 w2 w3 w4", "2 w1 w2 w4") + "\n")
        .collect();
    let policy = Policy::parse(&fixed).unwrap();
    let g1 = policy.group("g1").unwrap();
    assert_eq!((g1.threshold, g1.members.len()), (Threshold::AtLeast(2), 3));
    let w4 = vkey_key(&policy, "w4");
    assert_eq!(
        (w4.name.as_str(), w4.key_type, w4.key_id),
        ("remora.n621.de", KeyType::Cosignature, 0xda77_ade7)
    );
    assert_eq!(vkey_key(&policy, "w1").key_id, 0x8dc3_9d42);
    assert_eq!(vkey_key(&policy, "w2").key_id, 0x2013_a75c);
}

/// vkeys.txt: hex keys, Sigsum origins and vkeys describe the same keys.
#[test]
fn vkeys_txt_mapping() {
    let text = read("vkey/vkeys.txt");
    let value = |prefix: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}"))
            .split('\t')
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let raw = |h: &str| -> [u8; 32] { hex::decode(h).unwrap().try_into().unwrap() };

    for (hex_line, origin_line, vkey_line) in [
        (
            "litewitness-test-log hex",
            Some("litewitness-test-log origin"),
            "litewitness-test-log vkey",
        ),
        ("seed17 log hex", None, "seed17 log vkey"),
    ] {
        let key = raw(&value(hex_line));
        let origin = sigsum_log_origin(&key);
        if let Some(origin_line) = origin_line {
            assert_eq!(origin, value(origin_line));
        }
        let vkey = Vkey::parse(&value(vkey_line)).unwrap();
        assert_eq!(vkey, Vkey::new(&origin, KeyType::Ed25519, &key).unwrap());
        // A Sigsum-syntax policy log line yields exactly this vkey for the log's origin...
        let policy = Policy::parse(&format!("log {}\nquorum none\n", value(hex_line))).unwrap();
        assert_eq!(policy.log_vkeys(&origin), vec![vkey.clone()]);
        // ...and a tlog-policy line applies only to its own origin.
        let policy = Policy::parse(&format!("log {vkey}\nquorum none\n")).unwrap();
        assert_eq!(policy.log_vkeys(&origin), vec![vkey]);
        assert!(policy.log_vkeys("example.com/other").is_empty());
    }

    let remora_hex = raw(&value("remora witness hex"));
    let remora = Vkey::parse(&value("remora witness vkey")).unwrap();
    assert_eq!(remora.key_type, KeyType::Cosignature);
    assert_eq!(remora.public_key, remora_hex);
    assert_eq!(
        key_id("remora.n621.de", KeyType::Cosignature, &remora_hex),
        remora.key_id
    );
    // The hex key in the Sigsum test policy is that witness.
    let test3 = Policy::parse(&read("policy/builtin/sigsum-test-2025-3.builtin-policy")).unwrap();
    assert_eq!(
        test3.witness("remora.n621.de").unwrap().key,
        PolicyKey::Hex(remora_hex)
    );
}
