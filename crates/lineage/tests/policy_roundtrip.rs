//! Property tests: `Policy::to_text` re-parses to an equal policy, for random valid policies
//! written in random (but valid) layouts; arbitrary input never panics the parser.

use ed25519_dalek::SigningKey;
use nucleus_lineage::policy::Policy;
use nucleus_lineage::vkey::{KeyType, Vkey};
use proptest::prelude::*;

/// The shape of a random policy; `build` turns it into valid text.
#[derive(Debug, Clone)]
struct Spec {
    logs: Vec<(u8, bool)>,
    witnesses: Vec<(u8, bool)>,
    groups: Vec<(u8, Vec<u8>)>,
    quorum: u8,
    layout: Vec<u8>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec((any::<u8>(), any::<bool>()), 0..4),
        prop::collection::vec((any::<u8>(), any::<bool>()), 0..9),
        prop::collection::vec(
            (any::<u8>(), prop::collection::vec(any::<u8>(), 1..5)),
            0..6,
        ),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 64),
    )
        .prop_map(|(logs, witnesses, groups, quorum, layout)| Spec {
            logs,
            witnesses,
            groups,
            quorum,
            layout,
        })
}

fn public_key(seed: u8) -> [u8; 32] {
    SigningKey::from_bytes(&[seed; 32])
        .verifying_key()
        .to_bytes()
}

/// Key text in one of the accepted syntaxes, chosen by `style`.
fn key_text(seed: u8, style: u8, name: &str, log: bool) -> String {
    let pk = public_key(seed);
    match style % 4 {
        0 => hex::encode(pk),
        1 => hex::encode_upper(pk),
        2 => Vkey::new(name, KeyType::Ed25519, &pk).unwrap().to_string(),
        _ if log => Vkey::new(name, KeyType::Ed25519, &pk).unwrap().to_string(),
        _ => Vkey::new(name, KeyType::Cosignature, &pk)
            .unwrap()
            .to_string(),
    }
}

struct Layout<'a> {
    bytes: &'a [u8],
    next: usize,
}

impl Layout<'_> {
    fn pick(&mut self) -> u8 {
        let b = self.bytes[self.next % self.bytes.len()];
        self.next += 1;
        b
    }
    fn sep(&mut self) -> &'static str {
        [" ", "  ", "\t", " \t "][usize::from(self.pick() % 4)]
    }
    fn line(&mut self, fields: &[String]) -> String {
        let indent = ["", " ", "\t", "  \t"][usize::from(self.pick() % 4)];
        let mut out = indent.to_owned();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push_str(self.sep());
            }
            out.push_str(f);
        }
        if self.pick() % 4 == 0 {
            out.push_str(self.sep());
        }
        out.push('\n');
        if self.pick() % 5 == 0 {
            out.push_str(
                ["\n", "# a comment #\n", "   # indented\n", "\t\n"][usize::from(self.pick() % 4)],
            );
        }
        out
    }
}

/// Valid policy text for `spec`: every rule holds by construction.
fn build(spec: &Spec) -> String {
    let mut layout = Layout {
        bytes: &spec.layout,
        next: 0,
    };
    let mut head = String::new();
    let mut tail = String::new();
    // Names: ASCII, URL-like, and non-ASCII (compared byte for byte).
    let name = |i: usize| -> String {
        match i % 3 {
            0 => format!("W{i}"),
            1 => format!("witness.example/{i}"),
            _ => format!("t\u{e9}moin-{i}"),
        }
    };
    for (i, (style, url)) in spec.logs.iter().enumerate() {
        let mut fields = vec![
            "log".to_owned(),
            key_text(100 + i as u8, *style, &format!("log{i}.example/tree"), true),
        ];
        if *url {
            fields.push(format!("https://log{i}.example/"));
        }
        let line = layout.line(&fields);
        // Log lines may come after the quorum line.
        if layout.pick() % 2 == 0 {
            head.push_str(&line)
        } else {
            tail.push_str(&line)
        }
    }
    let mut available: Vec<String> = Vec::new();
    let mut defined: Vec<String> = Vec::new();
    for (i, (style, url)) in spec.witnesses.iter().enumerate() {
        let n = name(i);
        let mut fields = vec![
            "witness".to_owned(),
            n.clone(),
            key_text(1 + i as u8, *style, &format!("w{i}.example"), false),
        ];
        if *url {
            fields.push(format!("http://w{i}.example:8443/prefix"));
        }
        head.push_str(&layout.line(&fields));
        available.push(n.clone());
        defined.push(n);
    }
    for (g, (rule, picks)) in spec.groups.iter().enumerate() {
        let mut members = Vec::new();
        for pick in picks {
            if available.is_empty() {
                break;
            }
            members.push(available.remove(usize::from(*pick) % available.len()));
        }
        if members.is_empty() {
            continue;
        }
        let threshold = match rule % 3 {
            0 => "all".to_owned(),
            1 => "any".to_owned(),
            _ => (1 + usize::from(*rule) % members.len()).to_string(),
        };
        let group = format!("G{g}");
        let mut fields = vec!["group".to_owned(), group.clone(), threshold];
        fields.extend(members);
        head.push_str(&layout.line(&fields));
        available.push(group.clone());
        defined.push(group);
    }
    let target = if defined.is_empty() || spec.quorum % 5 == 0 {
        "none".to_owned()
    } else {
        defined[usize::from(spec.quorum) % defined.len()].clone()
    };
    head.push_str(&layout.line(&["quorum".to_owned(), target]));
    head + &tail
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn to_text_round_trips(spec in spec()) {
        let text = build(&spec);
        let policy = Policy::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(policy.logs.len(), spec.logs.len());
        prop_assert_eq!(policy.witnesses.len(), spec.witnesses.len());
        let canonical = policy.to_text();
        let reparsed = Policy::parse(&canonical).map_err(|e| TestCaseError::fail(format!("{e}\n{canonical}")))?;
        prop_assert_eq!(&reparsed, &policy);
        prop_assert_eq!(reparsed.to_text(), canonical.clone());
        prop_assert_eq!(Policy::parse_bytes(canonical.as_bytes()), Ok(policy));
    }

    #[test]
    fn arbitrary_input_never_panics_and_accepted_input_round_trips(
        bytes in prop::collection::vec(
            prop_oneof![
                Just(b'\n'), Just(b' '), Just(b'\t'), Just(b'#'),
                any::<u8>(),
                prop::sample::select(b"logwitnesgrupqanyl0123456789abcdef".to_vec()),
            ],
            0..200,
        ),
        prefix in prop::sample::select(vec!["", "quorum none\n", "witness A 8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\n"]),
    ) {
        let mut input = prefix.as_bytes().to_vec();
        input.extend(bytes);
        if let Ok(policy) = Policy::parse_bytes(&input) {
            prop_assert_eq!(Policy::parse(&policy.to_text()), Ok(policy));
        }
    }
}
