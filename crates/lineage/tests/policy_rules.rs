//! One negative test (at least) per policy rule, plus the positive edges of the grammar.

use std::collections::BTreeSet;

use ed25519_dalek::SigningKey;
use nucleus_lineage::policy::{
    Policy, PolicyError, PolicyErrorKind, PolicyGroup, PolicyKey, PolicyWitness, Quorum, Threshold,
};
use nucleus_lineage::vkey::{KeyType, Vkey};

/// Deterministic Ed25519 public key number `n`.
fn pk(n: u8) -> [u8; 32] {
    SigningKey::from_bytes(&[n; 32]).verifying_key().to_bytes()
}

fn hex_key(n: u8) -> String {
    hex::encode(pk(n))
}

fn vkey(name: &str, key_type: KeyType, n: u8) -> String {
    Vkey::new(name, key_type, &pk(n)).unwrap().to_string()
}

/// A policy with witnesses A, B, C (keys 1, 2, 3) followed by `rest`.
fn with_abc(rest: &str) -> String {
    format!(
        "witness A {}\nwitness B {}\nwitness C {}\n{rest}",
        hex_key(1),
        hex_key(2),
        hex_key(3)
    )
}

fn err(text: &str) -> PolicyError {
    match Policy::parse(text) {
        Ok(p) => panic!("accepted {text:?} as {p:?}"),
        Err(e) => {
            // Every message says what was expected or why, and names its line.
            assert!(
                e.to_string()
                    .starts_with(&format!("policy line {}: ", e.line))
            );
            e
        }
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn threshold_must_be_between_one_and_member_count() {
    let e = err(&with_abc("group G 0 A B\nquorum G\n"));
    assert_eq!(
        (e.line, e.kind),
        (4, PolicyErrorKind::ThresholdOutOfRange { k: 0, members: 2 })
    );
    let e = err(&with_abc("group G 3 A B\nquorum G\n"));
    assert_eq!(
        e.kind,
        PolicyErrorKind::ThresholdOutOfRange { k: 3, members: 2 }
    );
    for k in [
        "02",
        "+1",
        "-1",
        "1.0",
        "one",
        "ALL",
        "Any",
        "99999999999999999999999",
    ] {
        let e = err(&with_abc(&format!("group G {k} A B\nquorum G\n")));
        assert_eq!(e.kind, PolicyErrorKind::BadThreshold(k.into()), "{k}");
        assert!(e.to_string().contains("expected `all`, `any`"), "{k}");
    }
    for (k, threshold) in [
        ("1", Threshold::AtLeast(1)),
        ("2", Threshold::AtLeast(2)),
        ("all", Threshold::All),
        ("any", Threshold::Any),
    ] {
        let p = Policy::parse(&with_abc(&format!("group G {k} A B\nquorum G\n"))).unwrap();
        assert_eq!(p.group("G").unwrap().threshold, threshold);
    }
}

#[test]
fn groups_need_at_least_one_member() {
    let e = err(&with_abc("group G all\nquorum G\n"));
    assert!(matches!(
        e.kind,
        PolicyErrorKind::FieldCount {
            keyword: "group",
            found: 3,
            ..
        }
    ));
}

#[test]
fn a_name_may_be_a_member_only_once_in_the_whole_file() {
    let e = err(&with_abc("group G all A B A\nquorum G\n"));
    assert_eq!(
        e.kind,
        PolicyErrorKind::AlreadyMember {
            name: "A".into(),
            group: "G".into()
        }
    );
    let e = err(&with_abc("group G any A B\ngroup H any C A\nquorum H\n"));
    assert_eq!(e.line, 5);
    assert_eq!(
        e.kind,
        PolicyErrorKind::AlreadyMember {
            name: "A".into(),
            group: "G".into()
        }
    );
    // A group used as a member twice is refused the same way.
    let e = err(&with_abc(
        "group G any A B\ngroup H all G C\ngroup I any G\nquorum H\n",
    ));
    assert!(matches!(e.kind, PolicyErrorKind::AlreadyMember { name, .. } if name == "G"));
}

#[test]
fn names_must_be_defined_before_use_so_no_cycles() {
    // Member defined later.
    let e = err(&format!(
        "group G any A\nwitness A {}\nquorum G\n",
        hex_key(1)
    ));
    assert_eq!(
        (e.line, e.kind),
        (1, PolicyErrorKind::UndefinedName("A".into()))
    );
    // A group naming itself.
    let e = err(&with_abc("group G any A G\nquorum G\n"));
    assert_eq!(e.kind, PolicyErrorKind::UndefinedName("G".into()));
    // Mutual reference: the first group cannot mention the second.
    let e = err(&with_abc("group G any A H\ngroup H any B G\nquorum G\n"));
    assert_eq!(
        (e.line, e.kind),
        (4, PolicyErrorKind::UndefinedName("H".into()))
    );
    // Quorum target defined later.
    let e = err(&format!("quorum A\nwitness A {}\n", hex_key(1)));
    assert_eq!(
        (e.line, e.kind),
        (1, PolicyErrorKind::UndefinedName("A".into()))
    );
    // Quorum target never defined.
    let e = err(&with_abc("quorum Z\n"));
    assert_eq!(e.kind, PolicyErrorKind::UndefinedName("Z".into()));
}

#[test]
fn exactly_one_quorum_line() {
    let e = err(&with_abc(""));
    assert_eq!((e.line, e.kind), (4, PolicyErrorKind::MissingQuorum));
    // A last line without LF still counts as a line.
    let e = err(&with_abc("group G any A"));
    assert_eq!((e.line, e.kind), (5, PolicyErrorKind::MissingQuorum));
    let p = Policy::parse(&with_abc("quorum none")).unwrap();
    assert_eq!(p.quorum, Quorum::None);
    let e = err(&with_abc("quorum A\nquorum B\n"));
    assert_eq!(
        (e.line, e.kind),
        (5, PolicyErrorKind::DuplicateQuorum { first_line: 4 })
    );
    let e = err(&with_abc("quorum A\nquorum A\n"));
    assert_eq!(e.kind, PolicyErrorKind::DuplicateQuorum { first_line: 4 });
    let e = err(&with_abc("quorum A B\n"));
    assert!(matches!(
        e.kind,
        PolicyErrorKind::FieldCount {
            keyword: "quorum",
            found: 3,
            ..
        }
    ));
    let e = err(&with_abc("quorum\n"));
    assert!(matches!(
        e.kind,
        PolicyErrorKind::FieldCount {
            keyword: "quorum",
            found: 1,
            ..
        }
    ));
}

#[test]
fn none_is_predefined_not_redefinable_and_not_a_member() {
    let e = err(&format!("witness none {}\nquorum none\n", hex_key(1)));
    assert_eq!((e.line, e.kind), (1, PolicyErrorKind::NoneRedefined));
    let e = err(&with_abc("group none any A\nquorum none\n"));
    assert_eq!(e.kind, PolicyErrorKind::NoneRedefined);
    let e = err(&with_abc("group G any A none\nquorum G\n"));
    assert_eq!(e.kind, PolicyErrorKind::NoneAsMember);
    assert!(e.to_string().contains("cannot be a group member"));
    // `quorum none` needs nothing, even with no cosignature at all.
    let p = Policy::parse("quorum none\n").unwrap();
    assert!(p.is_satisfied(&set(&[])));
    assert_eq!(p.describe_quorum(), "none (no cosignatures required)");
}

#[test]
fn duplicate_log_keys_are_refused_whatever_the_syntax() {
    let e = err(&format!(
        "log {}\nlog {}\nquorum none\n",
        hex_key(1),
        hex_key(1)
    ));
    assert_eq!(
        (e.line, e.kind),
        (2, PolicyErrorKind::DuplicateLogKey { first_line: 1 })
    );
    // Upper-case hex is the same key.
    let e = err(&format!(
        "log {}\nlog {}\nquorum none\n",
        hex_key(1),
        hex_key(1).to_uppercase()
    ));
    assert_eq!(e.kind, PolicyErrorKind::DuplicateLogKey { first_line: 1 });
    // A hex key and a vkey wrapping it, or two vkeys with different names, are duplicates.
    let e = err(&format!(
        "log {}\nlog {}\nquorum none\n",
        hex_key(1),
        vkey("example.com/log", KeyType::Ed25519, 1)
    ));
    assert_eq!(e.kind, PolicyErrorKind::DuplicateLogKey { first_line: 1 });
    let e = err(&format!(
        "log {}\nlog {}\nquorum none\n",
        vkey("a.example/log", KeyType::Ed25519, 1),
        vkey("b.example/log", KeyType::Ed25519, 1)
    ));
    assert_eq!(e.kind, PolicyErrorKind::DuplicateLogKey { first_line: 1 });
}

#[test]
fn duplicate_witness_keys_are_refused_whatever_the_syntax() {
    let cases = [
        (hex_key(1), hex_key(1)),
        (hex_key(1), vkey("w.example", KeyType::Cosignature, 1)),
        (
            vkey("w.example", KeyType::Cosignature, 1),
            vkey("other.example", KeyType::Cosignature, 1),
        ),
        // A 0x01 vkey (converted to 0x04) and a 0x04 vkey of the same key.
        (
            vkey("w.example", KeyType::Ed25519, 1),
            vkey("w.example", KeyType::Cosignature, 1),
        ),
    ];
    for (a, b) in cases {
        let e = err(&format!("witness X {a}\nwitness Y {b}\nquorum X\n"));
        assert_eq!(
            (e.line, e.kind),
            (2, PolicyErrorKind::DuplicateWitnessKey { first_line: 1 }),
            "{a} / {b}"
        );
    }
    // The same key as a log and as a witness is allowed (Sigsum's valid-nested case).
    Policy::parse(&format!(
        "log {}\nwitness X {}\nquorum X\n",
        hex_key(1),
        hex_key(1)
    ))
    .unwrap();
}

#[test]
fn duplicate_names_are_refused_in_the_shared_namespace() {
    let e = err(&format!(
        "witness A {}\nwitness A {}\nquorum A\n",
        hex_key(1),
        hex_key(2)
    ));
    assert_eq!(
        (e.line, e.kind),
        (
            2,
            PolicyErrorKind::DuplicateName {
                name: "A".into(),
                first_line: 1
            }
        )
    );
    let e = err(&with_abc("group A any B\nquorum A\n"));
    assert_eq!(
        e.kind,
        PolicyErrorKind::DuplicateName {
            name: "A".into(),
            first_line: 1
        }
    );
    let e = err(&with_abc("group G any A\ngroup G any B\nquorum G\n"));
    assert!(matches!(
        e.kind,
        PolicyErrorKind::DuplicateName { first_line: 4, .. }
    ));
    let e = err(&with_abc(&format!(
        "group G any A\nwitness G {}\nquorum G\n",
        hex_key(4)
    )));
    assert!(matches!(
        e.kind,
        PolicyErrorKind::DuplicateName { first_line: 4, .. }
    ));
    // Names are compared byte for byte: no case folding or Unicode normalisation.
    let p = Policy::parse(&format!(
        "witness caf\u{e9} {}\nwitness cafe\u{301} {}\nwitness CAFE {}\ngroup G all caf\u{e9} cafe\u{301} CAFE\nquorum G\n",
        hex_key(1),
        hex_key(2),
        hex_key(3)
    ))
    .unwrap();
    assert_eq!(p.witnesses.len(), 3);
}

#[test]
fn unknown_keywords_are_errors() {
    for line in ["witnesses A x", "Log abc", "policy x", "quorum-rule G", "-"] {
        let e = err(&with_abc(&format!("{line}\nquorum A\n")));
        assert_eq!(e.line, 4, "{line}");
        assert!(
            matches!(e.kind, PolicyErrorKind::UnknownKeyword(_)),
            "{line}"
        );
        assert!(
            e.to_string()
                .contains("expected `log`, `witness`, `group` or `quorum`")
        );
    }
}

#[test]
fn end_of_line_comments_are_errors_on_every_keyword() {
    let lines = [
        format!("log {} #c", hex_key(9)),
        format!("log {} https://log.example #c", hex_key(9)),
        format!("witness D {} #c", hex_key(4)),
        "group G any A #c".to_owned(),
        "group G any A B #".to_owned(),
        "quorum A #c".to_owned(),
        "quorum A#c".to_owned(),
    ];
    for line in &lines[..6] {
        let e = err(&with_abc(&format!("{line}\nquorum B\n")));
        assert_eq!(e.line, 4, "{line}");
        assert!(
            matches!(e.kind, PolicyErrorKind::EndOfLineComment(_)),
            "{line}: {e}"
        );
    }
    // `#` inside a field is not a comment: the name `A#c` is simply undefined.
    let e = err(&with_abc(&format!("{}\n", lines[6])));
    assert_eq!(e.kind, PolicyErrorKind::UndefinedName("A#c".into()));
    // Whole-line comments, indented or not, are fine.
    Policy::parse(&with_abc("# c\n   # c\n\t#c #c\nquorum A\n")).unwrap();
}

#[test]
fn control_characters_are_errors_even_in_comments() {
    for (byte, ch) in [
        (0x0c, '\x0c'),
        (0x7f, '\x7f'),
        (0x0d, '\r'),
        (0x00, '\0'),
        (0x0b, '\x0b'),
        (0x1b, '\x1b'),
    ] {
        for text in [
            format!("# comment {ch}\nquorum none\n"),
            format!("quorum none{ch}\n"),
            format!("\n\nquorum{ch}none\n"),
        ] {
            let e = err(&text);
            assert_eq!(e.kind, PolicyErrorKind::ControlCharacter(byte), "{text:?}");
            assert!(
                e.to_string()
                    .contains(&format!("control character 0x{byte:02x}"))
            );
        }
    }
    // CRLF line endings are refused at the first line.
    let e = err("quorum none\r\n");
    assert_eq!(
        (e.line, e.kind),
        (1, PolicyErrorKind::ControlCharacter(0x0d))
    );
    // Tabs separate fields; bytes >= 0x80 are allowed.
    Policy::parse(&format!(
        "\twitness\t\u{e9}t\u{e9}\t{}\t\nquorum\t\u{e9}t\u{e9}\n",
        hex_key(1)
    ))
    .unwrap();
}

#[test]
fn invalid_utf8_is_an_error_with_its_line() {
    let e = Policy::parse_bytes(b"quorum none\n# \xff\n").unwrap_err();
    assert_eq!((e.line, e.kind), (2, PolicyErrorKind::InvalidUtf8));
    // An earlier control character is reported first, as parse would.
    let e = Policy::parse_bytes(b"#\x0c\n# \xff\n").unwrap_err();
    assert_eq!(
        (e.line, e.kind),
        (1, PolicyErrorKind::ControlCharacter(0x0c))
    );
}

#[test]
fn field_counts_are_checked() {
    for (line, keyword, found) in [
        ("log".to_owned(), "log", 1),
        (format!("log {} https://a https://b", hex_key(9)), "log", 4),
        ("witness D".to_owned(), "witness", 2),
        (
            format!("witness D {} https://a https://b", hex_key(4)),
            "witness",
            5,
        ),
        ("group G".to_owned(), "group", 2),
    ] {
        let e = err(&with_abc(&format!("{line}\nquorum A\n")));
        assert_eq!(e.line, 4, "{line}");
        match e.kind {
            PolicyErrorKind::FieldCount {
                keyword: k,
                found: f,
                expected,
            } => {
                assert_eq!((k, f), (keyword, found), "{line}");
                assert!(expected.starts_with(keyword));
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn bad_keys_and_urls_are_errors() {
    let short = &hex_key(1)[..62];
    let long = format!("{}00", hex_key(1));
    let not_hex = format!("{}zz", &hex_key(1)[..62]);
    let good = vkey("w.example", KeyType::Cosignature, 1);
    let mut id_flipped = good.clone();
    let at = good.find('+').unwrap() + 1;
    id_flipped.replace_range(at..at + 1, if &good[at..at + 1] == "0" { "1" } else { "0" });
    for key in [short, &long, &not_hex, "w.example+1234", &id_flipped, "x"] {
        let e = err(&format!("witness W {key}\nquorum W\n"));
        assert!(
            matches!(&e.kind, PolicyErrorKind::BadKey { role: "witness", key: k, .. } if k == key),
            "{key}: {e}"
        );
        let e = err(&format!("log {key}\nquorum none\n"));
        assert!(
            matches!(e.kind, PolicyErrorKind::BadKey { role: "log", .. }),
            "{key}"
        );
    }
    // Log vkeys must be Ed25519 (0x01).
    let e = err(&format!("log {good}\nquorum none\n"));
    assert!(matches!(
        e.kind,
        PolicyErrorKind::BadKey { role: "log", .. }
    ));
    for url in ["ftp://x", "w.example", "https://", "HTTPS://x"] {
        let e = err(&format!("witness W {} {url}\nquorum W\n", hex_key(1)));
        assert_eq!(e.kind, PolicyErrorKind::BadUrl(url.into()));
        let e = err(&format!("log {} {url}\nquorum none\n", hex_key(1)));
        assert_eq!(e.kind, PolicyErrorKind::BadUrl(url.into()));
    }
}

#[test]
fn witness_vkey_types() {
    // 0x01 is converted to 0x04 with the key ID recomputed; 0x04 is kept.
    let p = Policy::parse(&format!(
        "witness X {}\nwitness Y {}\ngroup G all X Y\nquorum G\n",
        vkey("x.example", KeyType::Ed25519, 1),
        vkey("y.example", KeyType::Cosignature, 2)
    ))
    .unwrap();
    assert_eq!(
        p.witness("X").unwrap().key,
        PolicyKey::Vkey(Vkey::new("x.example", KeyType::Cosignature, &pk(1)).unwrap())
    );
    assert_eq!(p.witness("Y").unwrap().key.key_type(), KeyType::Cosignature);
    // Hex keys are Ed25519 (their cosignature type is 0x04).
    let p = Policy::parse(&format!("witness X {}\nquorum X\n", hex_key(1))).unwrap();
    assert_eq!(p.witness("X").unwrap().key, PolicyKey::Hex(pk(1)));
}

#[test]
fn log_and_witness_lines_may_follow_quorum() {
    let p = Policy::parse(&format!(
        "witness A {}\nquorum A\nlog {} https://log.example\nwitness B {}\n",
        hex_key(1),
        hex_key(9),
        hex_key(2)
    ))
    .unwrap();
    assert_eq!((p.logs.len(), p.witnesses.len()), (1, 2));
    assert_eq!(p.logs[0].url.as_deref(), Some("https://log.example"));
}

#[test]
fn evaluation_follows_thresholds_and_nesting() {
    let p = Policy::parse(&format!(
        "{}witness D {}\nwitness E {}\ngroup EU 2 A B C\ngroup US any D E\ngroup Q all EU US\nquorum Q\n",
        with_abc(""),
        hex_key(4),
        hex_key(5)
    ))
    .unwrap();
    assert_eq!(
        p.describe_quorum(),
        "all of (2 of (A, B, C), any of (D, E))"
    );
    assert!(p.is_satisfied(&set(&["A", "B", "D"])));
    assert!(p.is_satisfied(&set(&["A", "C", "E", "D"])));
    assert!(!p.is_satisfied(&set(&["A", "D", "E"])));
    assert!(!p.is_satisfied(&set(&["A", "B", "C"])));
    // Names outside the policy, and group names, do not count as witnesses.
    assert!(!p.is_satisfied(&set(&["A", "X", "D"])));
    assert!(!p.is_satisfied(&set(&["EU", "US", "Q"])));
    // A single-witness quorum.
    let p = Policy::parse(&with_abc("quorum B\n")).unwrap();
    assert!(p.is_satisfied(&set(&["B"])));
    assert!(!p.is_satisfied(&set(&["A", "C"])));
}

/// A `Policy` built by hand (bypassing the parser) still evaluates fail-closed.
#[test]
fn hand_built_policies_evaluate_fail_closed() {
    let witness = |name: &str, n: u8| PolicyWitness {
        name: name.into(),
        key: PolicyKey::Hex(pk(n)),
        url: None,
    };
    let group = |name: &str, threshold, members: &[&str]| PolicyGroup {
        name: name.into(),
        threshold,
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    };
    let all = set(&["A", "B"]);
    // A cycle: G refers to H, defined after it; H refers to G.
    let p = Policy {
        logs: vec![],
        witnesses: vec![witness("A", 1), witness("B", 2)],
        groups: vec![
            group("G", Threshold::Any, &["H"]),
            group("H", Threshold::Any, &["G"]),
        ],
        quorum: Quorum::Name("G".into()),
    };
    assert!(!p.is_satisfied(&all));
    // Threshold 0, or an empty group, still needs one satisfied member.
    for g in [
        group("G", Threshold::AtLeast(0), &["A"]),
        group("G", Threshold::All, &[]),
        group("G", Threshold::AtLeast(0), &[]),
    ] {
        let p = Policy {
            logs: vec![],
            witnesses: vec![witness("A", 1)],
            groups: vec![g],
            quorum: Quorum::Name("G".into()),
        };
        assert!(!p.is_satisfied(&set(&[])), "{p:?}");
    }
    // A repeated member counts once.
    let p = Policy {
        logs: vec![],
        witnesses: vec![witness("A", 1), witness("B", 2)],
        groups: vec![group("G", Threshold::AtLeast(2), &["A", "A", "B"])],
        quorum: Quorum::Name("G".into()),
    };
    assert!(!p.is_satisfied(&set(&["A"])));
    assert!(p.is_satisfied(&all));
    // An undefined quorum target is never satisfied.
    let p = Policy {
        logs: vec![],
        witnesses: vec![witness("A", 1)],
        groups: vec![],
        quorum: Quorum::Name("Z".into()),
    };
    assert!(!p.is_satisfied(&set(&["A", "Z"])));
}

#[test]
fn to_text_is_canonical() {
    let source = format!(
        "log {} https://log.example\n\n# w\nwitness   A\t{}  https://a.example/\nwitness B {}\ngroup G 1 A B\nquorum G\nlog {}\n",
        hex_key(9).to_uppercase(),
        hex_key(1),
        vkey("b.example", KeyType::Ed25519, 2),
        hex_key(8),
    );
    let p = Policy::parse(&source).unwrap();
    let canonical = format!(
        "log {} https://log.example\nlog {}\nwitness A {} https://a.example/\nwitness B {}\ngroup G 1 A B\nquorum G\n",
        hex_key(9),
        hex_key(8),
        hex_key(1),
        vkey("b.example", KeyType::Cosignature, 2),
    );
    assert_eq!(p.to_text(), canonical);
    assert_eq!(Policy::parse(&canonical).unwrap(), p);
}
