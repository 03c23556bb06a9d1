//! The cosignature vectors of `testdata/cosignature/` (see `testdata/README.md`).

use std::path::PathBuf;

use nucleus_lineage::checkpoint::Checkpoint;
use nucleus_lineage::cosignature::{CosignatureError, cosignature_message, verify_cosignature};
use nucleus_lineage::signed_note::{Note, NoteError};
use nucleus_lineage::vkey::{KeyType, Vkey, VkeyError};

fn read(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/cosignature")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn vkey(rel: &str) -> Vkey {
    Vkey::parse(read(rel).trim_end()).unwrap()
}

#[test]
fn armored_witness_keys_are_type_01_and_convert_to_04() {
    let small = vkey("armoredwitness-small-breeze.vkey");
    let autumn = vkey("armoredwitness-autumn-wood.vkey");
    assert_eq!(small.key_type, KeyType::Ed25519);
    assert_eq!(small.key_id, 0x7b3ada3a);
    assert_eq!(autumn.key_id, 0x863571a5);
    assert_eq!(small.to_cosignature().key_id, 0x9d1ab951);
    assert_eq!(autumn.to_cosignature().key_id, 0xa996f95d);
    assert_eq!(small.to_cosignature().key_type, KeyType::Cosignature);
}

#[test]
fn pixel_production_cosignatures_verify() {
    let note = Note::parse(read("pixel-armoredwitness.checkpoint").as_bytes()).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(cp.size, 611);
    let small = vkey("armoredwitness-small-breeze.vkey");
    let autumn = vkey("armoredwitness-autumn-wood.vkey");

    let line = |name: &str| {
        note.signatures
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .clone()
    };
    let small_line = line("ArmoredWitness-small-breeze");
    let autumn_line = line("ArmoredWitness-autumn-wood");
    assert_eq!(small_line.key_id, 0x9d1ab951);
    assert_eq!(small_line.blob.len() + 4, 76);
    // Given as published (0x01), the keys verify through the 0x04 conversion.
    assert_eq!(
        verify_cosignature(&small, &small_line, &note.text),
        Ok(1738713836)
    );
    assert_eq!(
        verify_cosignature(&autumn, &autumn_line, &note.text),
        Ok(1738713829)
    );
    // A line checked against the other witness's key is a mismatch, not a pass.
    assert!(matches!(
        verify_cosignature(&small, &autumn_line, &note.text),
        Err(CosignatureError::KeyMismatch { .. })
    ));
    // Any change to the cosigned text breaks it.
    let other = note.text.replacen("611", "612", 1);
    assert_eq!(
        verify_cosignature(&small, &small_line, &other),
        Err(CosignatureError::BadSignature)
    );

    // Note::verify uses keys as given: unconverted 0x01 keys do not match 0x04 lines...
    assert_eq!(
        note.verify(&[small.clone(), autumn.clone()]),
        Err(NoteError::NoVerifiedSignatures)
    );
    // ...converted ones verify both, with their timestamps.
    let v = note
        .verify(&[small.to_cosignature(), autumn.to_cosignature()])
        .unwrap();
    let got: Vec<(&str, Option<u64>)> = v.iter().map(|s| (s.name.as_str(), s.timestamp)).collect();
    assert_eq!(
        got,
        [
            ("ArmoredWitness-small-breeze", Some(1738713836)),
            ("ArmoredWitness-autumn-wood", Some(1738713829))
        ]
    );
}

#[test]
fn pixel_log_key_is_ecdsa_and_unsupported() {
    assert_eq!(
        Vkey::parse(read("pixel_transparency_log.vkey").trim_end()),
        Err(VkeyError::UnknownType(0x02))
    );
}

/// Splits a `cosignature/v1\ntime <t>\n<checkpoint>` file into (t, checkpoint text).
fn split_message(msg: &str) -> (u64, &str) {
    let rest = msg.strip_prefix("cosignature/v1\ntime ").unwrap();
    let (t, text) = rest.split_once('\n').unwrap();
    (t.parse().unwrap(), text)
}

#[test]
fn c2sp_spec_signed_message_bytes() {
    let msg = read("c2sp-spec-signed-message.txt");
    let (t, text) = split_message(&msg);
    assert_eq!(t, 1679315147);
    let cp = Checkpoint::parse(text).unwrap();
    assert_eq!(cosignature_message(&cp.to_text(), t), msg.as_bytes());
}

#[test]
fn sigsum_cosigned_data_bytes() {
    let msg = read("sigsum-cosigned-data.txt");
    let (t, text) = split_message(&msg);
    assert_eq!(t, 72623859790382856);
    let cp = Checkpoint::parse(text).unwrap();
    assert_eq!(cp.size, 257);
    assert_eq!(cosignature_message(&cp.to_text(), t), msg.as_bytes());
}

#[test]
fn ml_dsa_44_log_signature_verifies() {
    let key = vkey("mldsa44-log.vkey");
    assert_eq!(key.key_type, KeyType::MlDsa44Cosignature);
    assert_eq!(key.public_key.len(), 1312);
    assert_eq!(key.key_id, 0xb5df45c5);
    assert_eq!(key.to_string(), read("mldsa44-log.vkey").trim_end());

    let raw = read("mldsa44-log-signed.checkpoint");
    let note = Note::parse(raw.as_bytes()).unwrap();
    assert_eq!(note.to_bytes(), raw.as_bytes());
    let cp = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(cp.size, 1);
    let line = note.signatures.iter().find(|s| s.name == key.name).unwrap();
    assert_eq!(line.blob.len() + 4, 2432);
    assert_eq!(verify_cosignature(&key, line, &note.text), Ok(0));
    let v = note.verify(std::slice::from_ref(&key)).unwrap();
    assert_eq!(v[0].timestamp, Some(0));
    assert_eq!(v[0].key_type, KeyType::MlDsa44Cosignature);

    // Flip one signature bit, or claim another size: rejected.
    let mut bad = line.clone();
    bad.blob[100] ^= 1;
    assert_eq!(
        verify_cosignature(&key, &bad, &note.text),
        Err(CosignatureError::BadSignature)
    );
    let mut other = cp.clone();
    other.size = 2;
    assert_eq!(
        verify_cosignature(&key, line, &other.to_text()),
        Err(CosignatureError::BadSignature)
    );
    // A non-zero timestamp changes the message.
    let mut stamped = line.clone();
    stamped.blob[7] = 1;
    assert_eq!(
        verify_cosignature(&key, &stamped, &note.text),
        Err(CosignatureError::BadSignature)
    );
}
