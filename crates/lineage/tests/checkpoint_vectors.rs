//! The checkpoint vectors of `testdata/checkpoint/` (see `testdata/README.md`).

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use nucleus_lineage::checkpoint::Checkpoint;
use nucleus_lineage::merkle::leaf_hash;
use nucleus_lineage::signed_note::{Note, NoteError, NoteSigner};
use nucleus_lineage::vkey::Vkey;
use sha2::{Digest, Sha256};

fn read(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/checkpoint")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn sumdb_checkpoint_origin_differs_from_key_name() {
    let key = Vkey::parse(read("sum.golang.org.vkey").trim_end()).unwrap();
    assert_eq!(key.name, "sum.golang.org");
    let raw = read("sumdb-35225469.checkpoint");
    let note = Note::parse(raw.as_bytes()).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 35225469);
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.to_text(), note.text);
    let v = note.verify(std::slice::from_ref(&key)).unwrap();
    assert_eq!(v[0].name, "sum.golang.org");
    // A key named after the origin is a different key (and the name is not even valid).
    assert!(Vkey::new(&cp.origin, key.key_type, &key.public_key).is_err());
}

#[test]
fn go_formattree_root_is_leaf_hash_of_hello_world() {
    let cp = Checkpoint::parse(&read("go-formattree.txt")).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 123456789012);
    assert_eq!(cp.root, leaf_hash(b"hello world"));
    assert_eq!(cp.to_text(), read("go-formattree.txt"));
}

#[test]
fn sigsum_seed17_checkpoint() {
    let mut seed = [0u8; 32];
    seed[0] = 0x11;
    let sk = SigningKey::from_bytes(&seed);
    let pk = sk.verifying_key();
    assert!(hex::encode(pk.as_bytes()).starts_with("66e0b858"));
    assert!(hex::encode(pk.as_bytes()).ends_with("24a7"));
    let origin = format!(
        "sigsum.org/v1/tree/{}",
        hex::encode(Sha256::digest(pk.as_bytes()))
    );

    let key = Vkey::parse(read("sigsum-seed17.vkey").trim_end()).unwrap();
    assert_eq!(key, Vkey::ed25519(&origin, &pk).unwrap());

    let raw = read("sigsum-seed17.checkpoint");
    let note = Note::parse(raw.as_bytes()).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(cp.origin, origin);
    assert_eq!(cp.size, 10);
    note.verify(std::slice::from_ref(&key)).unwrap();

    let signer = NoteSigner::new(&origin, sk).unwrap();
    assert_eq!(signer.vkey(), &key);
    let resigned = Note {
        text: cp.to_text(),
        signatures: vec![signer.sign(&cp.to_text())],
    };
    assert_eq!(resigned.to_bytes(), raw.as_bytes());
}

#[test]
fn checkpoint_with_altered_size_fails_log_signature() {
    let key = Vkey::parse(read("sigsum-seed17.vkey").trim_end()).unwrap();
    let raw = read("sigsum-seed17.checkpoint").replacen("\n10\n", "\n11\n", 1);
    let note = Note::parse(raw.as_bytes()).unwrap();
    assert!(matches!(
        note.verify(&[key]),
        Err(NoteError::InvalidSignature { .. })
    ));
}
