//! The signed-note vectors of `testdata/signed-note/` (see `testdata/README.md`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use nucleus_lineage::b64::Base64Error;
use nucleus_lineage::signed_note::{Note, NoteError, NoteSigner};
use nucleus_lineage::vkey::{KeyType, PrivateKey, Vkey, VkeyError};

fn read(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/signed-note")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn vkey(rel: &str) -> Vkey {
    Vkey::parse(String::from_utf8(read(rel)).unwrap().trim_end()).unwrap()
}

fn peter() -> Vkey {
    vkey("peterneumann.vkey")
}

fn enoch() -> Vkey {
    vkey("enochroot.vkey")
}

#[test]
fn vkeys_parse_with_expected_ids() {
    let p = peter();
    assert_eq!(p.name, "PeterNeumann");
    assert_eq!(p.key_id, 0xc74f20a3);
    assert_eq!(p.key_type, KeyType::Ed25519);
    assert_eq!(p.public_key.len(), 32);
    assert_eq!(
        p.to_string(),
        String::from_utf8(read("peterneumann.vkey"))
            .unwrap()
            .trim_end()
    );
    assert_eq!(enoch().key_id, 0xaf0cfe78);
    let c = vkey("c2sp-example.vkey");
    assert_eq!(c.key_id, 0x530d903a);
}

#[test]
fn private_key_derives_the_public_vkey() {
    let skey = PrivateKey::parse(
        String::from_utf8(read("peterneumann.skey"))
            .unwrap()
            .trim_end(),
    )
    .unwrap();
    assert_eq!(skey.name, "PeterNeumann");
    assert_eq!(skey.vkey(), peter());
}

#[test]
fn peter_signed_verifies_and_resigning_reproduces_the_file() {
    let bytes = read("peter-signed.note");
    let note = Note::parse(&bytes).unwrap();
    let lines: Vec<&str> = note.text.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 2);
    let verified = note.verify(&[peter()]).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name, "PeterNeumann");
    assert_eq!(verified[0].key_id, 0xc74f20a3);

    let skey = PrivateKey::parse(
        String::from_utf8(read("peterneumann.skey"))
            .unwrap()
            .trim_end(),
    )
    .unwrap();
    let signer = NoteSigner::new(&skey.name, skey.signing_key).unwrap();
    let resigned = Note {
        text: note.text.clone(),
        signatures: vec![signer.sign(&note.text)],
    };
    assert_eq!(resigned.to_bytes(), bytes);
}

#[test]
fn peter_and_enoch() {
    let note = Note::parse(&read("peter-and-enoch.note")).unwrap();
    assert_eq!(note.signatures.len(), 2);
    let only_peter = note.verify(&[peter()]).unwrap();
    assert_eq!(only_peter.len(), 1);
    assert_eq!(only_peter[0].name, "PeterNeumann");
    assert_eq!(note.verify(&[]), Err(NoteError::NoVerifiedSignatures));
    let both = note.verify(&[peter(), enoch()]).unwrap();
    let names: Vec<&str> = both.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["PeterNeumann", "EnochRoot"]);
}

#[test]
fn invalid_signature_from_known_key_rejects_the_note() {
    let note = Note::parse(&read("peter-invalid-sig.note")).unwrap();
    let peter_line = note
        .signatures
        .iter()
        .find(|s| s.name == "PeterNeumann")
        .unwrap();
    assert_eq!(peter_line.blob.len(), 71 - 4);
    let err = note.verify(&[peter()]).unwrap_err();
    assert_eq!(
        err,
        NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        }
    );
    assert_eq!(
        err.to_string(),
        "invalid signature for key PeterNeumann+c74f20a3"
    );
}

#[test]
fn duplicated_signatures() {
    let note = Note::parse(&read("duplicated-sigs.note")).unwrap();
    let keys = [peter()];
    let verified = note.verify(&keys).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name, "PeterNeumann");
    // Exact duplicates collapse; two distinct lines from unknown keys remain (Enoch and a
    // corrupted Enoch), neither of which is an error.
    let unknown: BTreeSet<_> = note
        .signatures
        .iter()
        .filter(|s| {
            !keys
                .iter()
                .any(|k| k.name == s.name && k.key_id == s.key_id)
        })
        .collect();
    assert_eq!(unknown.len(), 2);
    assert!(unknown.iter().all(|s| s.name == "EnochRoot"));
    assert!(note.signatures.len() > 1 + unknown.len());
}

#[test]
fn more_than_100_signatures_is_malformed() {
    assert_eq!(
        Note::parse(&read("peter-101-sigs.note")),
        Err(NoteError::TooManySignatures)
    );
}

#[test]
fn malformed_notes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/signed-note/malformed");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 7);
    for name in &names {
        let err = Note::parse(&read(&format!("malformed/{name}"))).unwrap_err();
        let ok = match &name[..2] {
            "01" | "02" => err == NoteError::NoSignatures,
            "03" => err == NoteError::MissingFinalNewline,
            "04" => matches!(err, NoteError::ControlByte { byte: 1, .. }),
            "05" => err == NoteError::NotUtf8,
            // The file also lacks its final LF; with one added, the name is what fails.
            "06" => {
                let mut fixed = read(&format!("malformed/{name}"));
                fixed.push(b'\n');
                err == NoteError::MissingFinalNewline
                    && matches!(Note::parse(&fixed), Err(NoteError::BadSignatureLine { .. }))
            }
            "07" => matches!(err, NoteError::BadSignatureLine { .. }),
            _ => false,
        };
        assert!(ok, "{name}: unexpected error {err:?}");
    }
}

#[test]
fn invalid_vkeys() {
    let text = String::from_utf8(read("invalid-vkeys.txt")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(lines.len(), 5);
    let errs: Vec<VkeyError> = lines.iter().map(|l| Vkey::parse(l).expect_err(l)).collect();
    // Its base64 has non-zero trailing bits, so our strict decoder stops before the
    // length check that catches it in Go.
    assert!(matches!(
        errs[0],
        VkeyError::KeyLength { .. } | VkeyError::Base64(Base64Error::NonCanonical)
    ));
    assert_eq!(errs[1], VkeyError::UnknownType(0x65));
    assert!(matches!(errs[2], VkeyError::KeyIdMismatch { .. }));
    assert_eq!(errs[3], VkeyError::Malformed);
    assert!(matches!(errs[4], VkeyError::Base64(_)));
}

#[test]
fn c2sp_example_verifies() {
    let note = Note::parse(&read("c2sp-example.note")).unwrap();
    let key = vkey("c2sp-example.vkey");
    let v = note.verify(std::slice::from_ref(&key)).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].key_id, 0x530d903a);
    // Same text, one byte changed: the known key's line now fails.
    let mut tampered = note.clone();
    tampered.text.insert(0, 'x');
    assert!(matches!(
        tampered.verify(&[key]),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn every_note_round_trips_byte_exact() {
    for f in [
        "peter-signed.note",
        "peter-and-enoch.note",
        "peter-invalid-sig.note",
        "duplicated-sigs.note",
        "c2sp-example.note",
    ] {
        let bytes = read(f);
        assert_eq!(Note::parse(&bytes).unwrap().to_bytes(), bytes, "{f}");
    }
}
