//! Quorum counting rules of `quorum::verify_cosigned_checkpoint`, each with its negative case.

use ed25519_dalek::SigningKey;
use nucleus_lineage::checkpoint::Checkpoint;
use nucleus_lineage::cosignature::CosignatureSigner;
use nucleus_lineage::policy::Policy;
use nucleus_lineage::quorum::{
    InvalidCosignatures, QuorumError, QuorumReport, verify_cosigned_checkpoint,
    verify_cosigned_checkpoint_with,
};
use nucleus_lineage::signed_note::{Note, NoteError, NoteSignature, NoteSigner};
use nucleus_lineage::vkey::Vkey;

const ORIGIN: &str = "example.com/quorum-test-log";
const LOG_SEED: u8 = 100;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn checkpoint(size: u64) -> String {
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: [7; 32],
        extensions: vec![],
    }
    .to_text()
}

fn log_line(text: &str) -> NoteSignature {
    NoteSigner::new(ORIGIN, key(LOG_SEED)).unwrap().sign(text)
}

/// Witness `n`'s cosignature (key seed n, name `wN.example`) at time 1000 + n.
fn cosig(n: u8, text: &str) -> NoteSignature {
    cosig_as(&format!("w{n}.example"), n, text, 1000 + u64::from(n))
}

fn cosig_as(name: &str, seed: u8, text: &str, ts: u64) -> NoteSignature {
    CosignatureSigner::new(name, key(seed))
        .unwrap()
        .sign(text, ts)
        .unwrap()
}

fn note(text: &str, lines: Vec<NoteSignature>) -> Vec<u8> {
    Note {
        text: text.into(),
        signatures: lines,
    }
    .to_bytes()
}

fn hex_pk(seed: u8) -> String {
    hex::encode(key(seed).verifying_key().as_bytes())
}

fn vkey_pk(seed: u8) -> String {
    Vkey::cosignature(&format!("w{seed}.example"), &key(seed).verifying_key())
        .unwrap()
        .to_string()
}

/// The same policy in Sigsum hex syntax and in vkey syntax: witnesses W<n> for each seed,
/// then `tail` (group and quorum lines).
fn policies(seeds: &[u8], tail: &str) -> [(&'static str, Policy); 2] {
    let build = |key_of: &dyn Fn(u8) -> String| -> Policy {
        let mut text = format!("log {}\n", hex_pk(LOG_SEED));
        for &s in seeds {
            text.push_str(&format!("witness W{s} {}\n", key_of(s)));
        }
        text.push_str(tail);
        Policy::parse(&text).unwrap()
    };
    [("hex", build(&hex_pk)), ("vkey", build(&vkey_pk))]
}

fn verify(bytes: &[u8], policy: &Policy) -> QuorumReport {
    verify_cosigned_checkpoint(bytes, &[], policy).unwrap()
}

fn strict(bytes: &[u8], policy: &Policy) -> Result<QuorumReport, QuorumError> {
    verify_cosigned_checkpoint_with(bytes, &[], policy, InvalidCosignatures::Reject)
}

#[test]
fn a_witness_that_cosigns_twice_counts_once() {
    let text = checkpoint(5);
    let twice = note(
        &text,
        vec![
            log_line(&text),
            cosig_as("w1.example", 1, &text, 11),
            cosig_as("w1.example", 1, &text, 12),
            cosig(1, &text),
        ],
    );
    for (syntax, policy) in policies(&[1, 2], "group G 2 W1 W2\nquorum G\n") {
        let report = verify(&twice, &policy);
        assert_eq!(report.counted, ["W1"], "{syntax}");
        assert!(!report.satisfied, "{syntax}");
        assert_eq!(report.timestamps["W1"], 11, "{syntax}: first verified line");
        assert_eq!(strict(&twice, &policy), Ok(report), "{syntax}");
    }
    // With the second witness it holds.
    let both = note(
        &text,
        vec![log_line(&text), cosig(1, &text), cosig(2, &text)],
    );
    for (syntax, policy) in policies(&[1, 2], "group G 2 W1 W2\nquorum G\n") {
        assert!(verify(&both, &policy).satisfied, "{syntax}");
    }
}

#[test]
fn an_unknown_witness_is_ignored() {
    let text = checkpoint(5);
    let mut garbage = cosig(9, &text);
    garbage.blob[20] ^= 1;
    let bytes = note(
        &text,
        vec![log_line(&text), cosig(1, &text), cosig(8, &text), garbage],
    );
    for (syntax, policy) in policies(&[1, 2], "group G 2 W1 W2\nquorum G\n") {
        let report = verify(&bytes, &policy);
        assert_eq!(report.counted, ["W1"], "{syntax}");
        assert!(report.invalid.is_empty(), "{syntax}");
        assert_eq!(report.unknown, ["w8.example", "w9.example"], "{syntax}");
        assert!(!report.satisfied, "{syntax}");
        // Unknown lines with bad signatures are not errors even in strict mode.
        assert_eq!(strict(&bytes, &policy), Ok(report), "{syntax}");
    }
}

#[test]
fn a_line_renamed_without_recomputing_its_key_id_does_not_count() {
    let text = checkpoint(5);
    let mut renamed = cosig(2, &text);
    renamed.name = "w2-renamed.example".into();
    let bytes = note(&text, vec![log_line(&text), cosig(1, &text), renamed]);
    for (syntax, policy) in policies(&[1, 2], "group G all W1 W2\nquorum G\n") {
        let report = verify(&bytes, &policy);
        assert_eq!(report.counted, ["W1"], "{syntax}");
        assert!(report.invalid.is_empty(), "{syntax}");
        assert_eq!(report.unknown, ["w2-renamed.example"], "{syntax}");
        assert!(!report.satisfied, "{syntax}");
    }
}

#[test]
fn an_alias_counts_under_sigsum_hex_matching_only() {
    let text = checkpoint(5);
    // Witness 2's key signing under another name, key ID computed for that name.
    let alias = cosig_as("alias.example", 2, &text, 77);
    let bytes = note(&text, vec![log_line(&text), cosig(1, &text), alias]);
    let [(_, hex), (_, vkey)] = policies(&[1, 2], "group G all W1 W2\nquorum G\n");
    let report = verify(&bytes, &hex);
    assert_eq!(report.counted, ["W1", "W2"]);
    assert_eq!(report.timestamps["W2"], 77);
    assert!(report.satisfied);
    let report = verify(&bytes, &vkey);
    assert_eq!(report.counted, ["W1"]);
    assert_eq!(report.unknown, ["alias.example"]);
    assert!(!report.satisfied);
}

#[test]
fn an_invalid_cosignature_from_a_known_witness_is_ignored_or_rejected() {
    let text = checkpoint(5);
    let other = checkpoint(6);
    // Witness 2 signed another checkpoint; witness 3's signature bytes are corrupted.
    let mut corrupted = cosig(3, &text);
    corrupted.blob[40] ^= 0x80;
    let bytes = note(
        &text,
        vec![
            log_line(&text),
            cosig(1, &text),
            cosig(2, &other),
            corrupted,
        ],
    );
    for (syntax, policy) in policies(&[1, 2, 3], "group G any W1 W2 W3\nquorum G\n") {
        let report = verify(&bytes, &policy);
        assert_eq!(report.counted, ["W1"], "{syntax}");
        assert_eq!(report.invalid, ["W2", "W3"], "{syntax}");
        assert!(report.satisfied, "{syntax}: W1 alone reaches any-of");
        match strict(&bytes, &policy) {
            Err(QuorumError::InvalidCosignature {
                witness, line_name, ..
            }) => {
                assert_eq!((witness.as_str(), line_name.as_str()), ("W2", "w2.example"))
            }
            other => panic!("{syntax}: {other:?}"),
        }
    }
    // An invalid line does not count toward a threshold it would otherwise meet.
    for (syntax, policy) in policies(&[1, 2, 3], "group G 2 W1 W2 W3\nquorum G\n") {
        assert!(!verify(&bytes, &policy).satisfied, "{syntax}");
    }
}

#[test]
fn a_valid_and_an_invalid_line_from_one_witness() {
    let text = checkpoint(5);
    let mut bad = cosig(1, &text);
    bad.blob[0] ^= 1; // timestamp changed: the signature no longer matches
    let bytes = note(&text, vec![log_line(&text), bad, cosig(1, &text)]);
    for (syntax, policy) in policies(&[1], "quorum W1\n") {
        let report = verify(&bytes, &policy);
        assert_eq!(report.counted, ["W1"], "{syntax}");
        assert_eq!(report.invalid, ["W1"], "{syntax}");
        assert!(report.satisfied, "{syntax}");
        assert!(
            matches!(
                strict(&bytes, &policy),
                Err(QuorumError::InvalidCosignature { .. })
            ),
            "{syntax}"
        );
    }
}

#[test]
fn a_signature_by_one_witness_under_another_witness_name_is_invalid() {
    let text = checkpoint(5);
    let mut stolen = cosig(1, &text);
    let w2 = cosig(2, &text);
    stolen.name = w2.name;
    stolen.key_id = w2.key_id;
    let bytes = note(&text, vec![log_line(&text), stolen]);
    for (syntax, policy) in policies(&[1, 2], "group G any W1 W2\nquorum G\n") {
        let report = verify(&bytes, &policy);
        assert!(report.counted.is_empty(), "{syntax}");
        assert_eq!(report.invalid, ["W2"], "{syntax}");
        assert!(!report.satisfied, "{syntax}");
    }
}

#[test]
fn a_plain_note_signature_by_a_witness_key_is_not_a_cosignature() {
    let text = checkpoint(5);
    // Type 0x01 signature over the text: its key ID is the 0x01 one, which no cosignature
    // rule matches.
    let plain = NoteSigner::new("w1.example", key(1)).unwrap().sign(&text);
    let bytes = note(&text, vec![log_line(&text), plain]);
    for (syntax, policy) in policies(&[1], "quorum W1\n") {
        let report = verify(&bytes, &policy);
        assert!(report.counted.is_empty(), "{syntax}");
        assert_eq!(report.unknown, ["w1.example"], "{syntax}");
        assert!(!report.satisfied, "{syntax}");
    }
}

#[test]
fn the_log_signature_is_required_and_must_verify() {
    let text = checkpoint(5);
    let [(_, policy), _] = policies(&[1], "quorum none\n");
    // No log line at all, only a cosignature.
    let bytes = note(&text, vec![cosig(1, &text)]);
    assert_eq!(
        verify_cosigned_checkpoint(&bytes, &[], &policy),
        Err(QuorumError::LogSignature(NoteError::NoVerifiedSignatures))
    );
    // A corrupted log line rejects the note, whatever the quorum.
    let mut bad = log_line(&text);
    bad.blob[3] ^= 4;
    let bytes = note(&text, vec![bad.clone(), cosig(1, &text)]);
    assert_eq!(
        verify_cosigned_checkpoint(&bytes, &[], &policy),
        Err(QuorumError::LogSignature(NoteError::InvalidSignature {
            name: ORIGIN.into(),
            key_id: bad.key_id
        }))
    );
    // A log line by another key.
    let other = NoteSigner::new(ORIGIN, key(101)).unwrap().sign(&text);
    let bytes = note(&text, vec![other]);
    assert!(matches!(
        verify_cosigned_checkpoint(&bytes, &[], &policy),
        Err(QuorumError::LogSignature(_))
    ));
    // A good log signature and `quorum none`: satisfied with no witness.
    let bytes = note(&text, vec![log_line(&text)]);
    let report = verify(&bytes, &policy);
    assert!(report.satisfied && report.counted.is_empty());
    assert_eq!(report.log_signatures, [ORIGIN]);
}

#[test]
fn log_keys_come_from_the_policy_for_this_origin_or_from_the_caller() {
    let text = checkpoint(5);
    let bytes = note(&text, vec![log_line(&text), cosig(1, &text)]);
    let log_vkey = Vkey::ed25519(ORIGIN, &key(LOG_SEED).verifying_key()).unwrap();
    // No log key anywhere.
    let bare = Policy::parse(&format!("witness W1 {}\nquorum W1\n", hex_pk(1))).unwrap();
    assert!(matches!(
        verify_cosigned_checkpoint(&bytes, &[], &bare),
        Err(QuorumError::NoLogKeys { origin }) if origin == ORIGIN
    ));
    // From the caller.
    let report = verify_cosigned_checkpoint(&bytes, std::slice::from_ref(&log_vkey), &bare)
        .unwrap()
        .require_satisfied()
        .unwrap();
    assert_eq!(report.counted, ["W1"]);
    // A policy log vkey for another origin does not apply, even with the right key.
    let other_origin = Vkey::ed25519("example.com/other", &key(LOG_SEED).verifying_key()).unwrap();
    let p = Policy::parse(&format!(
        "log {other_origin}\nwitness W1 {}\nquorum W1\n",
        hex_pk(1)
    ))
    .unwrap();
    assert!(matches!(
        verify_cosigned_checkpoint(&bytes, &[], &p),
        Err(QuorumError::NoLogKeys { .. })
    ));
    // A policy log vkey named after the origin applies.
    let p = Policy::parse(&format!(
        "log {log_vkey}\nwitness W1 {}\nquorum W1\n",
        hex_pk(1)
    ))
    .unwrap();
    assert!(verify(&bytes, &p).satisfied);
}

#[test]
fn a_hex_log_key_is_named_after_the_origin() {
    let text = checkpoint(5);
    // The log signs under a key name other than its origin (as sumdb does).
    let named = NoteSigner::new("log-key-name", key(LOG_SEED)).unwrap();
    let bytes = note(&text, vec![named.sign(&text), cosig(1, &text)]);
    let [(_, policy), _] = policies(&[1], "quorum W1\n");
    assert_eq!(
        verify_cosigned_checkpoint(&bytes, &[], &policy),
        Err(QuorumError::LogSignature(NoteError::NoVerifiedSignatures))
    );
    // The caller passes the vkey with that name instead.
    let report = verify_cosigned_checkpoint(&bytes, &[named.vkey().clone()], &policy).unwrap();
    assert!(report.satisfied);
    assert_eq!(report.log_signatures, ["log-key-name"]);
}

#[test]
fn a_key_that_is_both_log_and_witness_counts_only_as_witness_for_its_cosignatures() {
    let text = checkpoint(5);
    let p = Policy::parse(&format!(
        "log {}\nwitness W {}\nquorum W\n",
        hex_pk(LOG_SEED),
        hex_pk(LOG_SEED)
    ))
    .unwrap();
    // The log line alone does not satisfy the witness.
    let only_log = note(&text, vec![log_line(&text)]);
    let report = verify(&only_log, &p);
    assert!(report.counted.is_empty() && !report.satisfied);
    let cosigned = note(
        &text,
        vec![log_line(&text), cosig_as("w.example", LOG_SEED, &text, 5)],
    );
    assert_eq!(verify(&cosigned, &p).counted, ["W"]);
}

#[test]
fn malformed_input_is_rejected() {
    let [(_, policy), _] = policies(&[1], "quorum W1\n");
    let text = checkpoint(5);
    let good = note(&text, vec![log_line(&text), cosig(1, &text)]);
    // Truncated (no final LF), CRLF, and no signature block.
    for bytes in [
        good[..good.len() - 1].to_vec(),
        String::from_utf8(good.clone())
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes(),
        text.clone().into_bytes(),
    ] {
        assert!(matches!(
            verify_cosigned_checkpoint(&bytes, &[], &policy),
            Err(QuorumError::Note(_))
        ));
    }
    // A signed note whose text is not a checkpoint.
    let not_checkpoint = "hello\n";
    let bytes = note(not_checkpoint, vec![log_line(not_checkpoint)]);
    assert!(matches!(
        verify_cosigned_checkpoint(&bytes, &[], &policy),
        Err(QuorumError::Checkpoint(_))
    ));
    // Unsatisfied reports become errors on request.
    let bytes = note(&text, vec![log_line(&text)]);
    assert_eq!(
        verify(&bytes, &policy).require_satisfied(),
        Err(QuorumError::NotSatisfied { counted: vec![] })
    );
}
