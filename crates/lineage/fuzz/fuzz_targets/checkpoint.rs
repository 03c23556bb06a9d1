//! Fuzzes `Checkpoint::parse`: never panics, and whatever parses formats back to the same
//! text (canonical decimal and canonical base64 leave one encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nucleus_lineage::checkpoint::Checkpoint;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse(text) {
            assert_eq!(cp.to_text(), text);
        }
    }
});
