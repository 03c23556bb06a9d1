//! Fuzzes `Note::parse`: never panics, and whatever parses formats back to the same bytes
//! (the grammar is strict, so a parsed note has exactly one encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nucleus_lineage::signed_note::Note;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(note.to_bytes(), data);
        // Verification with no keys must reject, never panic.
        assert!(note.verify(&[]).is_err());
    }
});
